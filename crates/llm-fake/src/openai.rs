//! The fake's OpenAI chat-completions dialect: reads requests the way the
//! real service does and answers with its response, usage and error shapes.
//! It must never accept a body the real protocol would not describe.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{FakeErrorKind, FakeProtocol, FakeUsage, Reply, RequestFacts};
use sashiko_llm_core::ProviderKind;

pub(crate) struct OpenAi;

impl FakeProtocol for OpenAi {
    const KIND: ProviderKind = ProviderKind::Openai;

    fn facts(body: &Value, _model_from_path: Option<&str>) -> RequestFacts {
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut tool_results = Vec::new();
        for message in messages.iter().rev() {
            if message.get("role").and_then(Value::as_str) != Some("tool") {
                break;
            }
            let id = message
                .get("tool_call_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            let name = messages
                .iter()
                .filter_map(|m| m.get("tool_calls").and_then(Value::as_array))
                .flatten()
                .find(|call| call.get("id").and_then(Value::as_str) == Some(id))
                .and_then(|call| call.pointer("/function/name").and_then(Value::as_str));
            if let Some(name) = name {
                tool_results.push(name.to_string());
            }
        }
        RequestFacts {
            model: body
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or("fake-model")
                .to_string(),
            tool_results,
            segments: messages.iter().map(Value::to_string).collect(),
            breakpoints: None,
            forced_tool: None,
            problem: None,
        }
    }

    fn render(reply: &Reply, usage: FakeUsage, model: &str, id: u64) -> Value {
        let (message, finish) = match reply {
            Reply::Text { text, truncated } => (
                json!({"role": "assistant", "content": text, "refusal": null}),
                if *truncated { "length" } else { "stop" },
            ),
            Reply::ToolCall { id, name, input } => (
                json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [{
                    "id": id, "type": "function",
                    "function": {"name": name, "arguments": input.to_string()},
                }]}),
                "tool_calls",
            ),
        };
        let prompt = usage.input + usage.cache_read + usage.cache_write;
        json!({
            "id": format!("chatcmpl-fake{id}"),
            "object": "chat.completion",
            "created": 1_763_000_000 + id,
            "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": usage.output,
                "total_tokens": prompt + usage.output,
                "prompt_tokens_details": {"cached_tokens": usage.cache_read, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                    "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
            },
        })
    }

    fn error(
        kind: FakeErrorKind,
        retry_after: Option<Duration>,
        message: &str,
    ) -> (u16, Vec<(String, String)>, Value) {
        let (status, kind_name, code, text) = match kind {
            FakeErrorKind::RateLimit => (
                429,
                "requests",
                "rate_limit_exceeded",
                "rate limit reached (fake)",
            ),
            FakeErrorKind::QuotaExhausted => (
                429,
                "insufficient_quota",
                "insufficient_quota",
                "quota exceeded, check plan and billing (fake)",
            ),
            FakeErrorKind::Overloaded => (
                503,
                "server_error",
                "overloaded",
                "the service is overloaded (fake)",
            ),
            FakeErrorKind::Server => (
                500,
                "server_error",
                "server_error",
                "internal server error (fake)",
            ),
            FakeErrorKind::BadRequest => (400, "invalid_request_error", "invalid_request", message),
        };
        let mut headers = Vec::new();
        if let Some(wait) = retry_after {
            headers.push(("retry-after".to_string(), wait.as_secs().max(1).to_string()));
            headers.push(("retry-after-ms".to_string(), wait.as_millis().to_string()));
        }
        let body =
            json!({"error": {"message": text, "type": kind_name, "param": null, "code": code}});
        (status, headers, body)
    }
}
