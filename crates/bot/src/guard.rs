//! Loop prevention: which incoming mail the bot may review, which it may
//! read as a reply to its reviews, and which it must ignore entirely.
//!
//! The bot never reviews or answers its own mail (our marker header, our
//! address, our Message-ID shape), other bots' mail (`Auto-Submitted`
//! other than `no`, `Precedence: junk/auto_reply`, bot marker
//! headers, known bot senders), or replies (a `Re:` subject or no diff).
//! Decisions use headers and addresses only.

use sashiko_mail::ParsedMessage;
use sashiko_report::mailhdr::Mailbox;

use crate::headers::MailHeaders;
use crate::policy::Policy;

/// What an incoming mail is to the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Incoming {
    /// Ours: ignored.
    Own,
    /// From a bot: ignored.
    Bot(String),
    /// A reply (may carry feedback or a mail command; never reviewed).
    Reply,
    /// A patch or cover letter that may be reviewed.
    Patch,
    /// Anything else (no diff, not a reply): ignored.
    Other,
}

/// Classifies one incoming mail.
pub fn classify(policy: &Policy, headers: &MailHeaders, parsed: &ParsedMessage) -> Incoming {
    let bot = Mailbox::parse(&policy.bot.address);
    let from_key = headers.from.as_ref().map(Mailbox::key).unwrap_or_default();
    if headers.sashiko_review.is_some()
        || parsed.message_id.starts_with("sashiko-r")
        || bot.as_ref().is_some_and(|bot| bot.key() == from_key)
    {
        return Incoming::Own;
    }
    if let Some(value) = &headers.auto_submitted {
        if !value.trim().eq_ignore_ascii_case("no") {
            return Incoming::Bot(format!("Auto-Submitted: {value}"));
        }
    }
    if let Some(value) = &headers.precedence {
        let value = value.trim().to_ascii_lowercase();
        // Not "bulk": mailing lists (vger among them) stamp every post with
        // it, patches included.
        if ["junk", "auto_reply"].contains(&value.as_str()) {
            return Incoming::Bot(format!("Precedence: {value}"));
        }
    }
    if let Some(marker) = &headers.bot_marker {
        return Incoming::Bot(marker.clone());
    }
    let from_display = headers
        .from
        .as_ref()
        .map(|m| m.to_string().to_lowercase())
        .unwrap_or_default();
    if !from_key.is_empty()
        && policy.bot.known_bots.iter().any(|pattern| {
            !pattern.is_empty() && from_display.contains(&pattern.to_ascii_lowercase())
        })
    {
        return Incoming::Bot(format!("known bot sender {from_key}"));
    }
    if parsed.tags.is_reply {
        return Incoming::Reply;
    }
    let cover_letter = parsed.tags.has_patch_keyword && parsed.tags.index == Some(0);
    if parsed.has_diff() || cover_letter {
        return Incoming::Patch;
    }
    if parsed.in_reply_to.is_some() {
        return Incoming::Reply;
    }
    Incoming::Other
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::headers::read_headers;
    use sashiko_mail::parse_message;

    const POLICY: &str = "[bot]\naddress = \"Sashiko <sashiko@bot.example>\"\n";
    const DIFF: &str =
        "---\n a.c | 1 +\n\ndiff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1 +1,2 @@\n x\n+y\n";

    fn mail(headers: &str, subject: &str, body: &str) -> Vec<u8> {
        format!("From: Ada <ada@example.org>\nMessage-ID: <m1@example.org>\n{headers}Subject: {subject}\n\n{body}").into_bytes()
    }

    #[test]
    fn classifies_by_headers() {
        let policy = Policy::parse(POLICY, "test").expect("policy");
        let cases: Vec<(&str, Vec<u8>, Incoming)> = vec![
            (
                "patch",
                mail("", "[PATCH] a: b", &format!("Why.\n{DIFF}")),
                Incoming::Patch,
            ),
            (
                "cover letter",
                mail("", "[PATCH 0/2] a: b", "Cover."),
                Incoming::Patch,
            ),
            (
                "reply quoting a patch",
                mail(
                    "In-Reply-To: <p@x>\n",
                    "Re: [PATCH] a: b",
                    &format!("> x\n{DIFF}"),
                ),
                Incoming::Reply,
            ),
            (
                "reply without Re:",
                mail("In-Reply-To: <p@x>\n", "[PATCH] a: b", "Looks good."),
                Incoming::Reply,
            ),
            (
                "our own mail",
                mail(
                    "X-Sashiko-Review: sashiko/0.1; review=1\n",
                    "Re: [PATCH] a",
                    "x",
                ),
                Incoming::Own,
            ),
            (
                "auto-submitted",
                mail("Auto-Submitted: auto-replied\n", "[PATCH] a: b", DIFF),
                Incoming::Bot("Auto-Submitted: auto-replied".into()),
            ),
            (
                "auto-submitted no",
                mail("Auto-Submitted: no\n", "[PATCH] a: b", DIFF),
                Incoming::Patch,
            ),
            (
                "list traffic is bulk",
                mail("Precedence: bulk\n", "[PATCH] a: b", DIFF),
                Incoming::Patch,
            ),
            (
                "precedence junk",
                mail("Precedence: junk\n", "[PATCH] a: b", DIFF),
                Incoming::Bot("Precedence: junk".into()),
            ),
            (
                "patchwork bot",
                mail("X-Patchwork-Bot: notify\n", "Re: [PATCH] a", "applied"),
                Incoming::Bot("X-Patchwork-Bot: notify".into()),
            ),
            ("plain mail", mail("", "question", "hello"), Incoming::Other),
        ];
        for (name, raw, expected) in cases {
            let parsed = parse_message(&raw);
            assert_eq!(
                classify(&policy, &read_headers(&raw), &parsed),
                expected,
                "{name}"
            );
        }
        let robot = b"From: kernel test robot <lkp@intel.com>\nMessage-ID: <r@x>\nSubject: [PATCH] fix\n\n---\ndiff --git a/a b/a\n--- a/a\n+++ b/a\n@@ -1 +1 @@\n-x\n+y\n".to_vec();
        assert!(matches!(
            classify(&policy, &read_headers(&robot), &parse_message(&robot)),
            Incoming::Bot(_)
        ));
        let ours =
            b"From: Sashiko <SASHIKO@bot.example>\nMessage-ID: <q@x>\nSubject: hi\n\nx".to_vec();
        assert_eq!(
            classify(&policy, &read_headers(&ours), &parse_message(&ours)),
            Incoming::Own
        );
    }
}
