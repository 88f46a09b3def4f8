//! Error types of the checker.
//!
//! A parse error names the line and column; an unsupported feature names the
//! feature. Nothing here may guess a verdict.

use thiserror::Error;

/// One syntax problem at a position of the litmus source (1-based line and
/// column).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("line {line}, column {column}: {message}")]
pub struct Diagnostic {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic for byte `offset` of `src`.
    pub fn at(src: &str, offset: usize, message: &str) -> Diagnostic {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() + 1;
        let column = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
        Diagnostic {
            line,
            column,
            message: message.to_string(),
        }
    }
}

/// Why a litmus source does not parse: the first problem (`line`, `column`,
/// `message`) and every later one the parser found after recovering
/// (`further`, in source order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub further: Vec<Diagnostic>,
}

impl ParseError {
    /// Build an error for byte `offset` of `src` (1-based line and column).
    pub fn at(src: &str, offset: usize, message: &str) -> ParseError {
        ParseError::from(Diagnostic::at(src, offset, message))
    }

    /// All diagnostics sorted by position; `None` when there are none.
    pub fn from_diagnostics(mut all: Vec<Diagnostic>) -> Option<ParseError> {
        all.sort_by_key(|d| (d.line, d.column));
        all.dedup();
        let mut all = all.into_iter();
        let first = all.next()?;
        Some(ParseError {
            line: first.line,
            column: first.column,
            message: first.message,
            further: all.collect(),
        })
    }

    /// Every diagnostic, the first one included, in source order.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out = vec![Diagnostic {
            line: self.line,
            column: self.column,
            message: self.message.clone(),
        }];
        out.extend(self.further.iter().cloned());
        out
    }
}

impl From<Diagnostic> for ParseError {
    fn from(d: Diagnostic) -> ParseError {
        ParseError {
            line: d.line,
            column: d.column,
            message: d.message,
            further: Vec::new(),
        }
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )?;
        for d in &self.further {
            write!(f, "; {d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

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
