//! The one error type of the application layer: what kind of thing failed
//! (so the worker can tell a job that can never run from one worth
//! retrying) and a message saying what was being done, with which input,
//! and every cause below it.
//!
//! The message already holds the causes, joined by `: ` as `anyhow`'s
//! alternate form prints a chain, so the error reports no `source()` and a
//! caller printing it with `{:#}` sees each cause once.

use std::fmt;

/// What kind of step failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The input cannot be read or holds nothing to review; trying again
    /// with the same input fails the same way.
    Input,
    /// The database failed.
    Store,
    /// A git repository could not be read or written.
    Git,
    /// Setting up a review failed: prompts, model connection, tools.
    Setup,
    /// The review itself failed (it is stored as failed).
    Review,
}

/// An error of the application layer.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct PipelineError {
    kind: ErrorKind,
    message: String,
}

impl PipelineError {
    /// An error of `kind` described by `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> PipelineError {
        PipelineError {
            kind,
            message: message.into(),
        }
    }

    /// Bad input, said with which input.
    pub fn input(message: impl Into<String>) -> PipelineError {
        PipelineError::new(ErrorKind::Input, message)
    }

    /// What kind of step failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The same error with what was being done in front.
    pub fn doing(self, doing: impl fmt::Display) -> PipelineError {
        PipelineError {
            kind: self.kind,
            message: format!("{doing}: {}", self.message),
        }
    }
}

/// `error` and every cause below it, joined by `: ` (each only once: a
/// cause whose text the outer message already ends with is skipped).
pub fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let inner_text = inner.to_string();
        if !text.ends_with(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        cause = inner.source();
    }
    text
}

/// Turns any error into a [`PipelineError`] of a kind, saying what was
/// being done.
pub(crate) trait Context<T> {
    fn context(self, kind: ErrorKind, doing: impl FnOnce() -> String) -> Result<T, PipelineError>;
}

impl<T, E: std::error::Error + 'static> Context<T> for Result<T, E> {
    fn context(self, kind: ErrorKind, doing: impl FnOnce() -> String) -> Result<T, PipelineError> {
        self.map_err(|error| PipelineError::new(kind, format!("{}: {}", doing(), chain(&error))))
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = PipelineError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer {0}")]
    struct Outer(&'static str, #[source] std::io::Error);

    #[test]
    fn messages_hold_every_cause_once_and_keep_their_kind() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
        let failed: std::result::Result<(), Outer> = Err(Outer("x", io));
        let error = failed
            .context(ErrorKind::Input, || "reading mbox a.mbox".to_owned())
            .expect_err("an error stays an error");
        assert_eq!(error.kind(), ErrorKind::Input);
        assert_eq!(
            error.to_string(),
            "reading mbox a.mbox: outer x: no such file"
        );
        let error = error.doing("job 7");
        assert_eq!(error.kind(), ErrorKind::Input);
        assert_eq!(
            error.to_string(),
            "job 7: reading mbox a.mbox: outer x: no such file"
        );
        // A cause the outer text already repeats is not said twice.
        let io = std::io::Error::other("refused");
        let repeated: std::result::Result<(), Outer> = Err(Outer("refused", io));
        let error = repeated
            .context(ErrorKind::Setup, || "connecting".to_owned())
            .expect_err("an error stays an error");
        assert_eq!(error.to_string(), "connecting: outer refused");
    }
}
