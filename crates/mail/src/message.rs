//! One mail turned into what review and series assembly need: ids, author,
//! date, subject tags, the commit message, the diff and the trailers.
//!
//! [`parse_message`] never fails and never panics: a mail with broken
//! headers still yields whatever could be read, plus diagnostics inside the
//! [`ParsedMessage`]. This module must never do IO.

use std::sync::OnceLock;

use mail_parser::{HeaderName, HeaderValue, MessageParser};
use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::diagnostic::{Diagnostic, DiagnosticKind};
use crate::subject::{parse_subject, SubjectTags};
use crate::trailer::{self, Trailer};

/// A sender: display name (decoded) and address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Person {
    pub name: Option<String>,
    pub email: String,
}

impl Person {
    /// `Name <email>`, or the bare address when there is no name.
    pub fn display(&self) -> String {
        match self
            .name
            .as_deref()
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            Some(name) => format!("{name} <{}>", self.email),
            None => self.email.clone(),
        }
    }
}

/// Everything this crate reads out of one mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParsedMessage {
    /// Without angle brackets.
    pub message_id: String,
    /// Decoded Subject header (empty when absent).
    pub subject: String,
    pub tags: SubjectTags,
    pub from: Option<Person>,
    /// Seconds since the Unix epoch, from the Date header.
    pub date: Option<i64>,
    /// First id of In-Reply-To, without angle brackets.
    pub in_reply_to: Option<String>,
    /// References, oldest first, without angle brackets.
    pub references: Vec<String>,
    /// The list identifier inside `<>` of List-Id.
    pub list_id: Option<String>,
    /// All inline text parts, decoded.
    pub body: String,
    /// The text before the first `---` line (or before the diff).
    pub commit_message: String,
    /// The unified diff, from the first file header to the end of the text
    /// that holds it (inline or an attached patch); empty when there is none.
    pub diff: String,
    /// Trailer lines of `commit_message`.
    pub trailers: Vec<Trailer>,
    /// Review tags in unquoted lines (meaningful for replies).
    pub review_trailers: Vec<Trailer>,
    /// `base-commit:`, `change-id:`, `prerequisite-*:` found anywhere.
    pub meta_trailers: Vec<Trailer>,
    /// `git patch-id --stable` of `diff`.
    pub patch_id: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ParsedMessage {
    pub fn has_diff(&self) -> bool {
        !self.diff.is_empty()
    }

    /// The message this one answers: In-Reply-To, else the last References entry.
    pub fn parent_id(&self) -> Option<&str> {
        self.in_reply_to
            .as_deref()
            .or_else(|| self.references.last().map(String::as_str))
    }

    /// The sender's address, lower-cased, or "" when unknown.
    pub fn author_email(&self) -> String {
        self.from
            .as_ref()
            .map(|person| person.email.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// The value of the first meta trailer named `key` (`change-id`, `base-commit`).
    pub fn meta(&self, key: &str) -> Option<&str> {
        self.meta_trailers
            .iter()
            .find(|trailer| trailer.is(key))
            .map(|trailer| trailer.value.as_str())
    }

    /// Files and hunks of `diff` (parsed on demand).
    pub fn files(&self) -> (Vec<crate::diff::FileDiff>, Vec<Diagnostic>) {
        crate::diff::parse(&self.diff)
    }
}

/// A parser that decodes only the headers this crate reads (the rest, such
/// as Received and DKIM-Signature chains, stay raw), built once.
fn parser() -> &'static MessageParser {
    static PARSER: OnceLock<MessageParser> = OnceLock::new();
    PARSER.get_or_init(|| {
        MessageParser::new()
            .with_mime_headers()
            .with_message_ids()
            .header_date(HeaderName::Date)
            .header_text(HeaderName::Subject)
            .header_address(HeaderName::From)
            .header_raw(HeaderName::ListId)
            .default_header_ignore()
    })
}

/// Parses many raw messages, in order, on up to `threads` threads (the
/// input is cut into runs of about equal bytes; each thread parses one).
/// The result is exactly `raws.iter().map(parse_message)`: parsing one
/// mail never looks at another.
pub fn parse_messages<R: AsRef<[u8]> + Sync>(raws: &[R], threads: usize) -> Vec<ParsedMessage> {
    let threads = threads.clamp(1, raws.len().max(1));
    if threads == 1 {
        return raws.iter().map(|raw| parse_message(raw.as_ref())).collect();
    }
    let total: usize = raws.iter().map(|raw| raw.as_ref().len()).sum();
    let per_thread = total.div_ceil(threads).max(1);
    let mut runs: Vec<&[R]> = Vec::with_capacity(threads);
    let (mut start, mut bytes) = (0, 0);
    for (at, raw) in raws.iter().enumerate() {
        bytes += raw.as_ref().len();
        if bytes >= per_thread && runs.len() + 1 < threads {
            runs.push(&raws[start..=at]);
            (start, bytes) = (at + 1, 0);
        }
    }
    runs.push(&raws[start..]);
    std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .into_iter()
            .map(|run| {
                scope.spawn(move || {
                    run.iter()
                        .map(|raw| parse_message(raw.as_ref()))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(parsed) => parsed,
                // parse_message does not panic; if it ever did, the panic
                // is the caller's, as in the one-thread path.
                Err(payload) => std::panic::resume_unwind(payload),
            })
            .collect()
    })
}

/// Parses one raw RFC 5322 message (bytes as stored, any line endings).
pub fn parse_message(raw: &[u8]) -> ParsedMessage {
    let mut diagnostics = Vec::new();
    let Some(message) = parser().parse(raw) else {
        let message_id = synthetic_message_id(raw);
        diagnostics.push(
            Diagnostic::warning(
                DiagnosticKind::UnparsableMessage,
                "no mail headers could be read",
            )
            .for_message(&message_id),
        );
        return empty_message(message_id, diagnostics);
    };
    let message_id = match message
        .message_id()
        .map(clean_id)
        .filter(|id| !id.is_empty())
    {
        Some(id) => id,
        None => {
            let id = synthetic_message_id(raw);
            diagnostics.push(Diagnostic::warning(
                DiagnosticKind::MissingMessageId,
                format!("no Message-ID header; using {id} derived from the content"),
            ));
            id
        }
    };
    let subject = message.subject().unwrap_or_default().to_owned();
    let tags = parse_subject(&subject);
    let from = message
        .from()
        .and_then(|address| address.first())
        .and_then(|addr| {
            let email = addr.address.as_deref()?.trim().to_owned();
            Some(Person {
                name: addr.name.as_deref().map(|name| name.trim().to_owned()),
                email,
            })
        });
    if from.is_none() {
        diagnostics.push(Diagnostic::info(
            DiagnosticKind::MissingFrom,
            "no usable From header",
        ));
    }
    let date = message
        .date()
        .filter(|date| date.year > 0 && date.month > 0)
        .map(mail_parser::DateTime::to_timestamp);
    if date.is_none() {
        diagnostics.push(Diagnostic::info(
            DiagnosticKind::MissingDate,
            "no usable Date header",
        ));
    }
    let in_reply_to = ids_of(message.in_reply_to()).into_iter().next();
    let references = ids_of(message.references());
    let list_id = message.header_raw("List-Id").and_then(list_identifier);

    let body = crate::body::extract(&message, &mut diagnostics);
    let mut parsed = empty_message(message_id, Vec::new());
    parsed.subject = subject;
    parsed.tags = tags;
    parsed.from = from;
    parsed.date = date;
    parsed.in_reply_to = in_reply_to;
    parsed.references = references;
    parsed.list_id = list_id;
    fill_body(&mut parsed, body);
    for diagnostic in &mut diagnostics {
        diagnostic.message_id = Some(parsed.message_id.clone());
    }
    parsed.diagnostics.extend(diagnostics);
    parsed
}

fn fill_body(parsed: &mut ParsedMessage, body: crate::body::BodyText) {
    let inline = body.inline;
    // A patch sent as an attachment carries its own commit message (and
    // trailers) before its diff.
    let mut attached_message = "";
    let (message_end, diff) = match crate::diff::first_diff_line(&inline) {
        Some(start) => (start, inline[start..].to_owned()),
        None => {
            let attached = &body.attached_patches;
            let diff = match crate::diff::first_diff_line(attached) {
                Some(start) => {
                    let end = separator_line(&attached[..start]).unwrap_or(start);
                    attached_message = &attached[..end];
                    attached[start..].to_owned()
                }
                None => String::new(),
            };
            (inline.len(), diff)
        }
    };
    let message_end = separator_line(&inline[..message_end]).unwrap_or(message_end);
    parsed.commit_message = inline[..message_end].trim_end().to_owned();
    parsed.trailers = trailer::commit_trailers(&parsed.commit_message);
    parsed
        .trailers
        .extend(trailer::commit_trailers(attached_message));
    // Only replies carry review tags for others; patches keep theirs in `trailers`.
    if parsed.tags.is_reply {
        parsed.review_trailers = trailer::reply_trailers(&inline);
    }
    parsed.meta_trailers = trailer::meta_trailers(&inline);
    parsed.patch_id = crate::patch_id::stable_patch_id(&diff);
    parsed.diff = diff;
    parsed.body = inline;
}

/// Byte offset of the first line that is exactly `---` (trailing blanks allowed).
fn separator_line(text: &str) -> Option<usize> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

fn empty_message(message_id: String, diagnostics: Vec<Diagnostic>) -> ParsedMessage {
    ParsedMessage {
        message_id,
        subject: String::new(),
        tags: SubjectTags::default(),
        from: None,
        date: None,
        in_reply_to: None,
        references: Vec::new(),
        list_id: None,
        body: String::new(),
        commit_message: String::new(),
        diff: String::new(),
        trailers: Vec::new(),
        review_trailers: Vec::new(),
        meta_trailers: Vec::new(),
        patch_id: None,
        diagnostics,
    }
}

fn clean_id(id: &str) -> String {
    id.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim()
        .to_owned()
}

fn ids_of(value: &HeaderValue<'_>) -> Vec<String> {
    let ids: Vec<String> = match value {
        HeaderValue::Text(id) => vec![clean_id(id)],
        HeaderValue::TextList(ids) => ids.iter().map(|id| clean_id(id)).collect(),
        _ => Vec::new(),
    };
    ids.into_iter().filter(|id| !id.is_empty()).collect()
}

fn list_identifier(raw: &str) -> Option<String> {
    let inside = match (raw.rfind('<'), raw.rfind('>')) {
        (Some(open), Some(close)) if open < close => &raw[open + 1..close],
        _ => raw,
    };
    let inside = inside.trim();
    (!inside.is_empty()).then(|| inside.to_owned())
}

/// A stable stand-in id for a mail without one: `sha1-<hex>@sashiko.invalid`.
fn synthetic_message_id(raw: &[u8]) -> String {
    let digest = Sha1::digest(raw);
    format!("sha1-{}@sashiko.invalid", hex::encode(&digest[..10]))
}

#[cfg(test)]
#[path = "message_tests.rs"]
mod tests;
