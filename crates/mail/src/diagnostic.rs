//! Diagnostics: what a parser noticed while still producing a value.
//!
//! Parsers in this crate never give up on the first problem; they return the
//! value they could build plus a list of [`Diagnostic`]s. A diagnostic names
//! the message it is about (when known) so a caller can report it against the
//! input. This module must never decide policy (drop or keep a message): it
//! only describes.

use serde::Serialize;

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing, nothing was lost (for example a duplicate delivery).
    Info,
    /// Something was repaired or guessed (for example undecodable bytes
    /// replaced by U+FFFD); the value may differ from what the sender meant.
    Warning,
}

/// What kind of problem a diagnostic reports, so callers can count and filter
/// without matching on message text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosticKind {
    /// The raw bytes could not be parsed as a mail at all.
    UnparsableMessage,
    /// No Message-ID header; a synthetic id was derived from the content.
    MissingMessageId,
    /// No usable From header.
    MissingFrom,
    /// No or unparsable Date header.
    MissingDate,
    /// A text part names a charset this parser does not know.
    UnknownCharset,
    /// Bytes that do not decode in the declared charset were replaced.
    UndecodableBytes,
    /// A transfer encoding (base64, quoted-printable) was damaged.
    BrokenTransferEncoding,
    /// A diff that does not follow the unified format was partly skipped.
    MalformedDiff,
    /// The subject says it is a patch but the mail holds no diff.
    PatchWithoutDiff,
    /// The same Message-ID was delivered more than once.
    DuplicateMessageId,
    /// A series lacks some of its numbered parts.
    MissingPatches,
    /// A series holds two different mails for the same number.
    DuplicatePatchNumber,
}

/// One problem found in the input, with where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub kind: DiagnosticKind,
    /// The Message-ID of the mail concerned, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Human-readable description: what was found and what was done about it.
    pub message: String,
}

impl Diagnostic {
    pub fn warning(kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            kind,
            message_id: None,
            message: message.into(),
        }
    }

    pub fn info(kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Info,
            kind,
            message_id: None,
            message: message.into(),
        }
    }

    /// The same diagnostic attached to the mail `message_id`.
    pub fn for_message(mut self, message_id: &str) -> Self {
        self.message_id = Some(message_id.to_owned());
        self
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Severity::Info => "note",
            Severity::Warning => "warning",
        })
    }
}

impl std::fmt::Display for Diagnostic {
    /// `warning: <message>`; the Message-ID is printed by callers that know
    /// their context.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.severity, self.message)
    }
}
