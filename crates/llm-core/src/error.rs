//! Errors of the LLM layer.
//!
//! Every message names the provider, endpoint (base URL) and model, and
//! what failed (HTTP status and a short body where there was one). An error
//! must never contain an API key, a password or token in a URL (endpoints
//! and transport details go through `sashiko-safetext`), or a full prompt.

use std::fmt;
use std::time::Duration;

/// Where a request went: printed at the start of every error (boxed in
/// [`LlmError`] so the error stays small enough to return by value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub provider: String,
    pub endpoint: String,
    pub model: String,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} model {} at {}",
            self.provider,
            self.model,
            sashiko_safetext::redact_url(&self.endpoint)
        )
    }
}

/// Longest response body quoted in an error.
pub const MAX_BODY_IN_ERROR: usize = 300;

/// Shortens a response body for an error message, on a char boundary.
pub fn short_body(body: &str) -> String {
    let body = sashiko_safetext::redact_text(body.trim());
    let body = body.as_str();
    if body.len() <= MAX_BODY_IN_ERROR {
        return body.to_string();
    }
    let mut end = MAX_BODY_IN_ERROR;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &body[..end])
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("LLM configuration for {provider}: {detail}")]
    Config { provider: String, detail: String },

    #[error("{origin}: request failed: {detail}")]
    Transport { origin: Box<Origin>, detail: String },

    #[error("{origin}: HTTP {status}: {body}")]
    Http {
        origin: Box<Origin>,
        status: u16,
        body: String,
        /// Wait the server asked for, if any.
        retry_after: Option<Duration>,
    },

    #[error("{origin}: quota or spending limit exhausted (HTTP {status}), not retrying: {body}")]
    QuotaExhausted {
        origin: Box<Origin>,
        status: u16,
        body: String,
    },

    #[error("{origin}: gave up after {attempts} attempts and {waited:?} of waiting: {last}")]
    RetriesExhausted {
        origin: Box<Origin>,
        attempts: u32,
        waited: Duration,
        last: Box<LlmError>,
    },

    #[error("{origin}: cannot decode the response: {detail}")]
    Decode { origin: Box<Origin>, detail: String },

    #[error("stage {stage}: {provider} model {model} gave no valid structured answer: {detail}")]
    InvalidStructuredOutput {
        stage: String,
        provider: String,
        model: String,
        detail: String,
    },

    #[error("stage {stage}: {origin}: budget exhausted: {detail}")]
    BudgetExhausted {
        stage: String,
        origin: Box<Origin>,
        detail: String,
    },

    /// `detail` names the stage.
    #[error("cassette {path}: {detail} ({origin})")]
    Cassette {
        path: String,
        origin: Box<Origin>,
        detail: String,
    },
}

impl LlmError {
    /// The HTTP status of the failure, looking through retry wrappers.
    pub fn status(&self) -> Option<u16> {
        match self {
            LlmError::Http { status, .. } | LlmError::QuotaExhausted { status, .. } => {
                Some(*status)
            }
            LlmError::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }
}
