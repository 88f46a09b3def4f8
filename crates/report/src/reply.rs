//! The reply mail to one patch: headers that thread it under the patch,
//! and a body rendered from a tera template per mail kind (findings, no
//! problems found). Bytes out, CRLF line endings, ready for SMTP.
//!
//! Rendering is pure: who receives the mail and whether it is sent at all
//! are decided by the caller's policy, never here and never by the model.
//! Approval trailers (Reviewed-by, Acked-by, ...) are never written, and
//! pre-existing bugs never appear in a reply.

use std::sync::OnceLock;

use sashiko_review::{Finding, ReviewPatch};
use sha2::{Digest, Sha256};

use crate::inline::{render_worded_reply, Comment};
use crate::mailhdr::{mailbox_list, message_id_list, sanitize, unstructured, Mailbox};

/// Which template a reply uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    /// Inline comments on the hunks with findings.
    Findings,
    /// "No problems found".
    Clean,
}

impl MailKind {
    /// The name used in logs and headers.
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Findings => "findings",
            MailKind::Clean => "clean",
        }
    }
}

/// The patch mail being answered.
#[derive(Clone, Debug)]
pub struct PatchMail {
    /// Its Message-ID (without angle brackets).
    pub message_id: String,
    /// Its decoded Subject.
    pub subject: String,
    /// Its References, oldest first.
    pub references: Vec<String>,
    /// The author named in the attribution line.
    pub author: Mailbox,
    /// When it was posted (seconds since the epoch).
    pub date: Option<i64>,
}

/// Facts about our side of the reply.
#[derive(Clone, Debug)]
pub struct ReplyMeta {
    /// Review row id.
    pub review_id: i64,
    /// The model that reviewed.
    pub model: String,
    /// The prompt-set version (hash).
    pub prompt_set: String,
    /// Link to the web view of the review.
    pub web_url: Option<String>,
    /// The bot's own mailbox.
    pub from: Mailbox,
    /// The time the mail is written (seconds since the epoch).
    pub now: i64,
    /// Patch numbers of the series that were missing when reviewed.
    pub missing: Vec<u32>,
    /// Paragraphs the caller adds above the signature, written by code
    /// (e.g. that the recipient cap left addresses off), never by a model.
    pub notes: Vec<String>,
    /// How the series met a kernel tree, as stored with the review;
    /// `None` for a review that recorded nothing about it.
    pub tree: Option<ReplyTree>,
}

/// How the reviewed series met a kernel tree (the review's stored tree
/// status), so that a reply never passes a review without tree context
/// off as one that saw the code around the patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplyTree {
    /// `commits`, `base_commit`, `clean`, `three_way`, `fuzzy`,
    /// `not_applied` or `no_tree`.
    pub status: String,
    /// The commit the series was applied on (or last tried on).
    pub base: Option<String>,
}

impl ReplyTree {
    /// True when the review saw the series applied to a tree.
    pub fn has_tree_context(&self) -> bool {
        !matches!(self.status.as_str(), "not_applied" | "no_tree")
    }

    /// The signature line: where the series was applied, or that it was
    /// not. Fixed wordings per status: the tree's path and the apply
    /// errors stay in the stored review.
    pub fn signature_line(&self) -> String {
        let base = self
            .base
            .as_deref()
            .map(short)
            .unwrap_or_else(|| "an unknown commit".to_owned());
        match self.status.as_str() {
            "commits" => format!("Tree: the series' own commits on {base}"),
            "base_commit" => format!("Tree: applied on its base-commit {base}"),
            "clean" => format!("Tree: applied on {base}"),
            "three_way" => format!("Tree: applied on {base} with a 3-way merge"),
            "fuzzy" => format!("Tree: applied on {base} with fuzz"),
            "not_applied" => "Tree: none, the series did not apply".to_owned(),
            "no_tree" => "Tree: none, no kernel tree was configured".to_owned(),
            other => format!("Tree: {other}"),
        }
    }

    /// The paragraph above the signature when the review lacked tree
    /// context or saw the patches placed by fuzz; `None` otherwise.
    pub fn paragraph(&self) -> Option<String> {
        let text = match self.status.as_str() {
            "not_applied" => match self.base.as_deref() {
                Some(base) => format!(
                    "This series did not apply to the reviewer's tree (last tried on {}), so it was reviewed without tree context: the review saw the patches but not the code around them, their callers or the definitions they use.",
                    short(base)
                ),
                None => "This series did not apply to the reviewer's tree, so it was reviewed without tree context: the review saw the patches but not the code around them, their callers or the definitions they use.".to_owned(),
            },
            "no_tree" => "This series was reviewed without tree context (no kernel tree was configured): the review saw the patches but not the code around them, their callers or the definitions they use.".to_owned(),
            "fuzzy" => "Some patches of this series applied to the reviewer's tree only with fuzz, so the code around them may differ from what you see.".to_owned(),
            _ => return None,
        };
        Some(crate::wrap::wrap(&text, 72).trim_end().to_owned())
    }
}

/// A rendered mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderedMail {
    /// Our Message-ID (without angle brackets); stable for a given review
    /// and patch, so rendering twice gives the same mail.
    pub message_id: String,
    /// The Subject.
    pub subject: String,
    /// Which template.
    pub kind: MailKind,
    /// Every envelope recipient (To and Cc), lowercased, sorted, unique.
    pub envelope: Vec<String>,
    /// Headers and body, CRLF line endings.
    pub bytes: Vec<u8>,
}

/// Errors rendering a mail.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("rendering the {kind} reply to <{message_id}>: {detail}")]
    Template {
        kind: &'static str,
        message_id: String,
        detail: String,
    },
    #[error("the reply to <{0}> has no recipients")]
    NoRecipients(String),
}

fn templates() -> &'static Result<tera::Tera, String> {
    static TEMPLATES: OnceLock<Result<tera::Tera, String>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut tera = tera::Tera::default();
        tera.autoescape_on(vec![]);
        tera.add_raw_templates(vec![
            ("footer.txt", include_str!("../templates/footer.txt")),
            (
                "reply_findings.txt",
                include_str!("../templates/reply_findings.txt"),
            ),
            (
                "reply_clean.txt",
                include_str!("../templates/reply_clean.txt"),
            ),
        ])
        .map_err(|error| format!("{error:?}"))?;
        Ok(tera)
    })
}

/// `Re: ` prefixed once.
pub fn reply_subject(subject: &str) -> String {
    let trimmed = subject.trim();
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("re:") {
        trimmed.to_owned()
    } else {
        format!("Re: {trimmed}")
    }
}

/// Renders the reply to `patch` with `findings` (others' findings and
/// pre-existing ones are filtered out). `Clean` when none remain.
pub fn render_reply(
    patch: &ReviewPatch,
    findings: &[&Finding],
    mail: &PatchMail,
    to: &[Mailbox],
    cc: &[Mailbox],
    meta: &ReplyMeta,
) -> Result<RenderedMail, RenderError> {
    let comments: Vec<Comment<'_>> = findings
        .iter()
        .map(|finding| Comment {
            finding,
            wording: None,
        })
        .collect();
    render_worded(patch, &comments, mail, to, cc, meta)
}

/// Like [`render_reply`], with the report stage's stored wordings where
/// there are some (findings, quoting and recipients are unchanged).
pub fn render_worded(
    patch: &ReviewPatch,
    comments: &[Comment<'_>],
    mail: &PatchMail,
    to: &[Mailbox],
    cc: &[Mailbox],
    meta: &ReplyMeta,
) -> Result<RenderedMail, RenderError> {
    let quoted = render_worded_reply(patch, comments);
    let kind = if quoted.is_some() {
        MailKind::Findings
    } else {
        MailKind::Clean
    };
    let template_error = |detail: String| RenderError::Template {
        kind: kind.as_str(),
        message_id: mail.message_id.clone(),
        detail,
    };
    let tera = templates()
        .as_ref()
        .map_err(|e| template_error(e.clone()))?;
    let mut context = tera::Context::new();
    context.insert(
        "patch_date",
        &mail
            .date
            .map(rfc2822)
            .unwrap_or_else(|| "an earlier date".into()),
    );
    context.insert("author", &mail.author.to_string());
    context.insert("patch_subject", &mail.subject);
    context.insert("quoted", &quoted.unwrap_or_default());
    let missing: Vec<String> = meta.missing.iter().map(u32::to_string).collect();
    context.insert("missing", &missing.join(", "));
    context.insert("notes", &meta.notes);
    context.insert(
        "tree_paragraph",
        &meta.tree.as_ref().and_then(ReplyTree::paragraph),
    );
    context.insert(
        "tree_line",
        &meta.tree.as_ref().map(ReplyTree::signature_line),
    );
    context.insert("model", &meta.model);
    context.insert("prompt_set", &short(&meta.prompt_set));
    context.insert("web_url", &meta.web_url);
    let template = match kind {
        MailKind::Findings => "reply_findings.txt",
        MailKind::Clean => "reply_clean.txt",
    };
    let body = tera
        .render(template, &context)
        .map_err(|error| template_error(format!("{error:?}")))?;
    let body = strip_approval_trailers(&body);

    let mut envelope: Vec<String> = to.iter().chain(cc).map(Mailbox::key).collect();
    envelope.sort();
    envelope.dedup();
    if envelope.is_empty() {
        return Err(RenderError::NoRecipients(mail.message_id.clone()));
    }
    let message_id = our_message_id(meta, &mail.message_id);
    let subject = reply_subject(&mail.subject);
    let mut references: Vec<String> = mail.references.clone();
    if !references.contains(&mail.message_id) {
        references.push(mail.message_id.clone());
    }
    let mut headers = vec![("From", meta.from.header_value()), ("To", mailbox_list(to))];
    if !cc.is_empty() {
        headers.push(("Cc", mailbox_list(cc)));
    }
    headers.extend([
        ("Subject", unstructured(&subject)),
        ("Date", rfc2822(meta.now)),
        ("Message-ID", format!("<{message_id}>")),
        ("In-Reply-To", format!("<{}>", sanitize(&mail.message_id))),
        ("References", message_id_list(&references)),
        ("MIME-Version", "1.0".into()),
        ("Content-Type", "text/plain; charset=utf-8".into()),
        ("Content-Transfer-Encoding", "8bit".into()),
        ("Auto-Submitted", "auto-generated".into()),
        (
            "X-Sashiko-Review",
            format!(
                "sashiko/{}; review={}; kind={}",
                env!("CARGO_PKG_VERSION"),
                meta.review_id,
                kind.as_str()
            ),
        ),
    ]);
    if to.is_empty() {
        headers.retain(|(name, _)| *name != "To");
        headers.insert(1, ("To", "undisclosed-recipients:;".into()));
    }
    let mut text = String::new();
    for (name, value) in headers {
        text.push_str(name);
        text.push_str(": ");
        text.push_str(&value);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    for line in body.lines() {
        text.push_str(line);
        text.push_str("\r\n");
    }
    Ok(RenderedMail {
        message_id,
        subject,
        kind,
        envelope,
        bytes: text.into_bytes(),
    })
}

/// Lines that would read as an approval are dropped from whatever the
/// templates and comments produce: the bot never approves a patch.
fn strip_approval_trailers(body: &str) -> String {
    const APPROVALS: [&str; 5] = [
        "reviewed-by:",
        "acked-by:",
        "tested-by:",
        "signed-off-by:",
        "reported-by:",
    ];
    body.lines()
        .filter(|line| {
            let lower = line.trim_start().to_ascii_lowercase();
            !APPROVALS.iter().any(|trailer| lower.starts_with(trailer))
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

fn short(hash: &str) -> String {
    hash.chars().take(12).collect()
}

/// A Message-ID stable per (review, patch message): a re-render after a
/// crash yields the same id, so the list sees one mail.
fn our_message_id(meta: &ReplyMeta, patch_message_id: &str) -> String {
    let digest = Sha256::digest(patch_message_id.as_bytes());
    let domain = meta
        .from
        .email
        .rsplit_once('@')
        .map(|(_, domain)| domain.to_owned())
        .unwrap_or_else(|| "sashiko.invalid".into());
    format!(
        "sashiko-r{}-{}@{domain}",
        meta.review_id,
        &hex::encode(digest)[..16]
    )
}

/// The review id encoded in one of our Message-IDs.
pub fn review_id_from_message_id(message_id: &str) -> Option<i64> {
    let rest = message_id
        .trim_start_matches('<')
        .strip_prefix("sashiko-r")?;
    rest.split_once('-')?.0.parse().ok()
}

/// Seconds since the epoch as an RFC 2822 date in UTC (the epoch itself
/// for a time chrono cannot represent).
pub fn rfc2822(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .unwrap_or_default()
        .format("%a, %-d %b %Y %H:%M:%S +0000")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_subjects() {
        assert_eq!(rfc2822(0), "Thu, 1 Jan 1970 00:00:00 +0000");
        assert_eq!(rfc2822(1_735_812_000), "Thu, 2 Jan 2025 10:00:00 +0000");
        assert_eq!(
            reply_subject("[PATCH v2 1/3] io_uring: x"),
            "Re: [PATCH v2 1/3] io_uring: x"
        );
        assert_eq!(reply_subject("RE: [PATCH] x"), "RE: [PATCH] x");
        assert_eq!(
            review_id_from_message_id("<sashiko-r42-0123@example.org>"),
            Some(42)
        );
        assert_eq!(review_id_from_message_id("abc@example.org"), None);
    }

    #[test]
    fn approval_trailers_never_survive() {
        let body = "fine\nReviewed-by: Bot <b@x>\n  Acked-by: x\nok\n";
        assert_eq!(strip_approval_trailers(body), "fine\nok\n");
    }
}
