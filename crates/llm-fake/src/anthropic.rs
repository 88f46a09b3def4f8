//! The fake's Anthropic Messages dialect: content blocks, `cache_control`
//! breakpoints (simulated cache reads and writes), `tool_use`/`tool_result`,
//! 529 overloaded and the `{"type":"error"}` body. It must never accept a
//! body the real protocol would not describe.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{FakeErrorKind, FakeProtocol, FakeUsage, Reply, RequestFacts};
use sashiko_llm_core::ProviderKind;

pub(crate) struct Anthropic;

impl FakeProtocol for Anthropic {
    const KIND: ProviderKind = ProviderKind::Anthropic;

    fn facts(body: &Value, _model_from_path: Option<&str>) -> RequestFacts {
        // Anthropic caches up to the block carrying `cache_control`, so the
        // prompt is segmented per content block.
        let system = body.get("system").cloned().unwrap_or(Value::Null);
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut segments = Vec::new();
        let mut breakpoints = Vec::new();
        let mut add_blocks = |prefix: &str, blocks: &Value| match blocks.as_array() {
            Some(blocks) => {
                for block in blocks {
                    if block.get("cache_control").is_some() {
                        breakpoints.push(segments.len());
                    }
                    segments.push(format!("{prefix}{block}"));
                }
            }
            None => segments.push(format!("{prefix}{blocks}")),
        };
        add_blocks("system:", &system);
        for message in &messages {
            let role = message.get("role").and_then(Value::as_str).unwrap_or("");
            add_blocks(
                &format!("{role}:"),
                message.get("content").unwrap_or(&Value::Null),
            );
        }
        let mut tool_results = Vec::new();
        if let Some(last) = messages
            .last()
            .and_then(|m| m.get("content"))
            .and_then(Value::as_array)
        {
            for block in last
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("tool_result"))
            {
                let id = block
                    .get("tool_use_id")
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let name = messages
                    .iter()
                    .filter_map(|m| m.get("content").and_then(Value::as_array))
                    .flatten()
                    .find(|b| {
                        b.get("type").and_then(Value::as_str) == Some("tool_use")
                            && b.get("id").and_then(Value::as_str) == Some(id)
                    })
                    .and_then(|b| b.get("name").and_then(Value::as_str));
                if let Some(name) = name {
                    tool_results.push(name.to_string());
                }
            }
        }
        RequestFacts {
            model: body
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or("fake-model")
                .to_string(),
            tool_results,
            segments,
            breakpoints: Some(breakpoints),
            forced_tool: body
                .get("tool_choice")
                .filter(|choice| choice.get("type").and_then(Value::as_str) == Some("tool"))
                .and_then(|choice| choice.get("name").and_then(Value::as_str))
                .map(str::to_string),
            problem: None,
        }
    }

    fn render(reply: &Reply, usage: FakeUsage, model: &str, id: u64) -> Value {
        let (content, stop) = match reply {
            Reply::Text { text, truncated } => (
                json!([{"type": "text", "text": text}]),
                if *truncated { "max_tokens" } else { "end_turn" },
            ),
            Reply::ToolCall { id, name, input } => (
                json!([{"type": "tool_use", "id": id, "name": name, "input": input}]),
                "tool_use",
            ),
        };
        json!({
            "id": format!("msg_fake{id}"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop,
            "stop_sequence": null,
            "usage": {
                "input_tokens": usage.input,
                "cache_creation_input_tokens": usage.cache_write,
                "cache_read_input_tokens": usage.cache_read,
                "output_tokens": usage.output,
                "service_tier": "standard",
            },
        })
    }

    fn error(
        kind: FakeErrorKind,
        retry_after: Option<Duration>,
        message: &str,
    ) -> (u16, Vec<(String, String)>, Value) {
        let (status, kind_name, text) = match kind {
            FakeErrorKind::RateLimit => (429, "rate_limit_error", "rate limit exceeded (fake)"),
            FakeErrorKind::QuotaExhausted => (
                400,
                "invalid_request_error",
                "your credit balance is too low to access the API (fake)",
            ),
            FakeErrorKind::Overloaded => (529, "overloaded_error", "overloaded (fake)"),
            FakeErrorKind::Server => (500, "api_error", "internal server error (fake)"),
            FakeErrorKind::BadRequest => (400, "invalid_request_error", message),
        };
        let mut headers = vec![("request-id".to_string(), "req_fake".to_string())];
        if let Some(wait) = retry_after {
            headers.push(("retry-after".to_string(), wait.as_secs().max(1).to_string()));
        }
        let body = json!({"type": "error", "error": {"type": kind_name, "message": text}});
        (status, headers, body)
    }
}
