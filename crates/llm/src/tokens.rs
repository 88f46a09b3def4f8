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
