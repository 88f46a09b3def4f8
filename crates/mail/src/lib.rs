//! `sashiko-mail`: kernel patch mail as values.
//!
//! Parses RFC 5322 mail (with mail-parser) into [`ParsedMessage`]s: ids,
//! author, subject tags (`[PATCH v3 02/11]`, RFC, RESEND, tree tags), the
//! commit message, the unified diff, trailers and the stable patch-id. Then
//! [`assemble`] groups messages into patch series, attaches review trailers
//! from replies and links versions of a series.
//!
//! Architecture invariant: this crate is pure. It never reads files, opens
//! sockets or looks at the clock; callers hand it bytes and get values and
//! [`Diagnostic`]s back. Parsers never stop at the first problem.

pub mod diagnostic;
pub mod diff;
pub mod message;
pub mod patch_id;
pub mod series;
pub mod subject;
pub mod trailer;

mod body;

pub use diagnostic::{Diagnostic, DiagnosticKind, Severity};
pub use message::{parse_message, parse_messages, ParsedMessage, Person};
pub use series::{assemble, Assembly, ReplyTrailer, Series};
pub use subject::{parse_subject, SubjectTags};
pub use trailer::Trailer;
