//! Offline token estimates for budgets and rate limiting.
//!
//! A documented approximation (about four bytes of English or code per
//! token) used before a request is sent; reported usage corrects it
//! afterwards. This module must never call a network service.

use crate::types::{ChatRequest, ContentBlock};

/// Bytes per token assumed by the estimate.
pub const BYTES_PER_TOKEN: usize = 4;

/// Estimated tokens of a piece of text.
pub fn estimate_text(text: &str) -> u64 {
    text.len().div_ceil(BYTES_PER_TOKEN) as u64
}

/// Estimated input tokens of a whole request (system, messages, tools and
/// schema), plus a small per-message overhead.
pub fn estimate_request(request: &ChatRequest) -> u64 {
    let mut total = estimate_text(&request.system) + 3;
    for message in &request.messages {
        total += 4;
        for block in &message.content {
            total += match block {
                ContentBlock::Text(text) => estimate_text(text),
                ContentBlock::ToolUse { name, input, .. } => {
                    estimate_text(name) + estimate_text(&input.to_string())
                }
                ContentBlock::ToolResult { content, .. } => estimate_text(content) + 2,
                ContentBlock::Signature { .. } => 0,
            };
        }
    }
    for tool in &request.tools {
        total += estimate_text(&tool.name)
            + estimate_text(&tool.description)
            + estimate_text(&tool.input_schema.to_string());
    }
    if let Some(schema) = &request.response_schema {
        total += estimate_text(&schema.schema.to_string());
    }
    total
}

/// Per-model correction of the estimate from reported usage: an
/// exponential moving average of reported / estimated input tokens,
/// clamped to [0.25, 4].
#[derive(Debug)]
pub struct Calibration {
    factor: std::sync::Mutex<Option<f64>>,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            factor: std::sync::Mutex::new(None),
        }
    }
}

impl Calibration {
    /// The calibration shared by every client of `provider` and `model`.
    pub fn shared(provider: &str, model: &str) -> std::sync::Arc<Calibration> {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex, OnceLock};
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<Calibration>>>> = OnceLock::new();
        let registry = REGISTRY.get_or_init(Default::default);
        let mut map = registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(format!("{provider}|{model}"))
            .or_default()
            .clone()
    }

    /// Learns from one request: `estimated` by [`estimate_request`],
    /// `reported` all input tokens the provider counted.
    pub fn observe(&self, estimated: u64, reported: u64) {
        if estimated == 0 || reported == 0 {
            return;
        }
        let ratio = (reported as f64 / estimated as f64).clamp(0.25, 4.0);
        let mut factor = self
            .factor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *factor = Some(match *factor {
            Some(old) => old * 0.7 + ratio * 0.3,
            None => ratio,
        });
    }

    /// The current factor (1.0 before any observation).
    pub fn factor(&self) -> f64 {
        self.factor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .unwrap_or(1.0)
    }

    /// `estimate` corrected by what this model reported so far.
    pub fn correct(&self, estimate: u64) -> u64 {
        (estimate as f64 * self.factor()).ceil() as u64
    }
}

/// The estimate of `request`'s input tokens, corrected for `provider`'s
/// `model` by the usage it reported in this process.
pub fn calibrated_estimate(provider: &str, model: &str, request: &ChatRequest) -> u64 {
    Calibration::shared(provider, model).correct(estimate_request(request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_and_calibration() {
        assert_eq!(estimate_text(""), 0);
        assert_eq!(estimate_text("abcd"), 1);
        assert_eq!(estimate_text("abcde"), 2);
        let request = ChatRequest::new("s", "x".repeat(400)).with_user_text("y".repeat(40));
        assert_eq!(estimate_request(&request), 100 + 3 + 4 + 10);
        let calibration = Calibration::default();
        assert_eq!(calibration.correct(100), 100);
        calibration.observe(100, 200);
        assert_eq!(calibration.correct(100), 200);
        calibration.observe(100, 100);
        assert_eq!(calibration.correct(100), 170);
        calibration.observe(1, 1_000_000);
        assert!(calibration.factor() <= 4.0);
    }
}
