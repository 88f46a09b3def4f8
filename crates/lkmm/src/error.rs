//! Error types of the checker.
//!
//! A parse error names the line and column; an unsupported feature names the
//! feature. Nothing here may guess a verdict.

use thiserror::Error;

/// A syntax error at a position of the litmus source.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl ParseError {
    /// Build an error for byte `offset` of `src` (1-based line and column).
    pub fn at(src: &str, offset: usize, message: &str) -> ParseError {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        ParseError {
            line,
            column,
            message: message.to_string(),
        }
    }
}

/// Why a litmus test could not be decided.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LitmusError {
    #[error("cannot parse litmus test: {0}")]
    Parse(#[from] ParseError),
    #[error("unsupported litmus feature: {feature}")]
    Unsupported { feature: String },
    #[error("invalid litmus test: {0}")]
    Invalid(String),
    #[error("litmus test not decided within the limit: {0}")]
    Timeout(String),
}

impl LitmusError {
    pub(crate) fn unsupported(feature: impl Into<String>) -> LitmusError {
        LitmusError::Unsupported {
            feature: feature.into(),
        }
    }
}
