//! The addressing and bot-marker headers of a raw mail, which the patch
//! parser (sashiko-mail) does not keep: To, Cc, Reply-To, Auto-Submitted,
//! Precedence, List-Id, our own X-Sashiko-Review, and an in-body `From:`.
//!
//! Read-only and forgiving: a header that does not parse is absent.

use mail_parser::{Address, HeaderValue, MessageParser};
use sashiko_report::mailhdr::Mailbox;

/// What the bot needs from a mail's header.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MailHeaders {
    pub from: Option<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub auto_submitted: Option<String>,
    pub precedence: Option<String>,
    pub list_id: Option<String>,
    /// Our own marker header.
    pub sashiko_review: Option<String>,
    /// `X-Patchwork-Bot`, `X-Mailer` naming a bot, and similar.
    pub bot_marker: Option<String>,
}

fn mailboxes(address: Option<&Address<'_>>) -> Vec<Mailbox> {
    address
        .map(|address| {
            address
                .iter()
                .filter_map(|addr| {
                    let email = addr.address()?;
                    email
                        .contains('@')
                        .then(|| Mailbox::new(addr.name(), email))
                })
                .collect()
        })
        .unwrap_or_default()
}

fn text(value: Option<&HeaderValue<'_>>) -> Option<String> {
    match value? {
        HeaderValue::Text(text) => Some(text.trim().to_owned()),
        HeaderValue::TextList(list) => list.first().map(|t| t.trim().to_owned()),
        _ => None,
    }
}

/// Reads the headers of `raw`.
pub fn read_headers(raw: &[u8]) -> MailHeaders {
    let Some(message) = MessageParser::default().parse_headers(raw) else {
        return MailHeaders::default();
    };
    let raw_header = |name: &str| {
        message
            .header_raw(name)
            .map(|value| value.trim().to_owned())
    };
    let list_id = raw_header("List-Id").map(|value| match (value.rfind('<'), value.rfind('>')) {
        (Some(open), Some(close)) if open < close => value[open + 1..close].to_owned(),
        _ => value,
    });
    let bot_marker = ["X-Patchwork-Bot", "X-Mailer-Bot", "X-Bot"]
        .iter()
        .find_map(|name| raw_header(name).map(|value| format!("{name}: {value}")));
    MailHeaders {
        from: mailboxes(message.from()).into_iter().next(),
        to: mailboxes(message.to()),
        cc: mailboxes(message.cc()),
        reply_to: mailboxes(message.reply_to()),
        auto_submitted: raw_header("Auto-Submitted")
            .or_else(|| text(message.header("Auto-Submitted"))),
        precedence: raw_header("Precedence"),
        list_id,
        sashiko_review: raw_header("X-Sashiko-Review"),
        bot_marker,
    }
}

/// The patch's real author: an in-body `From:` line at the top of the
/// body (git send-email for someone else, b4-relay), else `Reply-To` when
/// the sender is a relay (`via B4 Relay`, `devnull+...`), else `From`.
pub fn real_author(headers: &MailHeaders, body: &str) -> Option<Mailbox> {
    let first = body
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    if let Some(rest) = first.strip_prefix("From:") {
        if let Some(mailbox) = Mailbox::parse(rest) {
            return Some(mailbox);
        }
    }
    let from = headers.from.clone()?;
    let relayed = from.email.to_ascii_lowercase().starts_with("devnull+")
        || from
            .name
            .as_deref()
            .is_some_and(|name| name.contains("via B4 Relay"));
    if relayed {
        if let Some(reply_to) = headers.reply_to.first() {
            return Some(reply_to.clone());
        }
        if let Some(name) = &from.name {
            // devnull+local.domain@kernel.org encodes the address.
            let encoded = from
                .email
                .split_once('+')
                .and_then(|(_, rest)| rest.split_once('@'))
                .map(|(local, _)| local);
            if let Some((local, domain)) = encoded.and_then(|e| e.split_once('.')) {
                let name = name.replace(" via B4 Relay", "");
                return Some(Mailbox::new(Some(&name), &format!("{local}@{domain}")));
            }
        }
    }
    Some(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_and_real_authors() {
        let raw = b"From: Ada Dev via B4 Relay <devnull+ada.example.org@kernel.org>\r\n\
To: io-uring@vger.kernel.org\r\nCc: Jens Axboe <axboe@kernel.dk>, x@y.org\r\n\
Reply-To: ada@example.org\r\nList-Id: <io-uring.vger.kernel.org>\r\n\
Auto-Submitted: no\r\nSubject: [PATCH] x\r\n\r\nbody\r\n";
        let headers = read_headers(raw);
        assert_eq!(headers.to.len(), 1);
        assert_eq!(
            headers.cc.iter().map(|m| m.key()).collect::<Vec<_>>(),
            ["axboe@kernel.dk", "x@y.org"]
        );
        assert_eq!(headers.list_id.as_deref(), Some("io-uring.vger.kernel.org"));
        assert_eq!(headers.auto_submitted.as_deref(), Some("no"));
        let cases = [
            ("body", "ada@example.org"),
            (
                "From: Real Person <real@example.org>\n\nbody",
                "real@example.org",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(
                real_author(&headers, body).map(|m| m.key()).as_deref(),
                Some(expected),
                "{body:?}"
            );
        }
        let no_reply_to = MailHeaders {
            reply_to: vec![],
            ..headers.clone()
        };
        assert_eq!(
            real_author(&no_reply_to, "body")
                .map(|m| m.key())
                .as_deref(),
            Some("ada@example.org")
        );
    }
}
