//! Text that is safe to show to a person: the one place that decides what
//! a secret in a URL or DSN looks like ([`redact_url`], [`redact_text`])
//! and how control characters reach a terminal ([`visible_controls`]).
//!
//! Every crate that prints, logs or stores a URL, a database DSN or an
//! error that may quote one calls these functions at that edge, so there is
//! one definition of "redacted" to test. This crate has no dependencies
//! and does no IO; it must never print anything itself.

mod secrets;
mod terminal;

pub use secrets::{redact_text, redact_url, REDACTED};
pub use terminal::visible_controls;
