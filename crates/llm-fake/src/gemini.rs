//! The fake's Gemini generateContent dialect: `contents`/`parts`,
//! `functionCall` with a `thoughtSignature` that must come back (a model turn
//! with a function call but no signature is refused with 400, as the real
//! service does for thinking models), `usageMetadata`, and
//! `google.rpc.Status` errors with `RetryInfo` and `QuotaFailure`.

use std::time::Duration;

use serde_json::{json, Value};

use crate::{FakeErrorKind, FakeProtocol, FakeUsage, Reply, RequestFacts};
use sashiko_llm_core::ProviderKind;

pub(crate) struct Gemini;

/// The signature the fake attaches to a function call of response `id`.
pub(crate) fn signature_for(id: u64) -> String {
    format!("ZmFrZS1zaWduYXR1cmUt{id:04}")
}

/// A problem with the request that the real service would refuse.
pub(crate) fn request_problem(body: &Value) -> Option<String> {
    let contents = body.get("contents").and_then(Value::as_array)?;
    for (index, content) in contents.iter().enumerate() {
        if content.get("role").and_then(Value::as_str) != Some("model") {
            continue;
        }
        let parts = content.get("parts").and_then(Value::as_array)?;
        let first_call = parts.iter().find(|part| part.get("functionCall").is_some());
        if let Some(part) = first_call {
            if part
                .get("thoughtSignature")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                return Some(format!(
                    "function call in contents[{index}] is missing a thought_signature"
                ));
            }
        }
    }
    None
}

impl FakeProtocol for Gemini {
    const KIND: ProviderKind = ProviderKind::Gemini;

    fn facts(body: &Value, model_from_path: Option<&str>) -> RequestFacts {
        let mut segments = vec![body
            .get("systemInstruction")
            .cloned()
            .unwrap_or(Value::Null)
            .to_string()];
        let contents = body
            .get("contents")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        // Implicit caching works on the token prefix; per-part segments
        // approximate that even when turns are merged.
        for content in &contents {
            let role = content.get("role").and_then(Value::as_str).unwrap_or("");
            let parts = content
                .get("parts")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            segments.extend(parts.iter().map(|part| format!("{role}:{part}")));
        }
        let tool_results = contents
            .last()
            .and_then(|content| content.get("parts"))
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|part| {
                        part.pointer("/functionResponse/name")
                            .and_then(Value::as_str)
                    })
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        RequestFacts {
            model: model_from_path.unwrap_or("fake-model").to_string(),
            tool_results,
            segments,
            breakpoints: None,
            forced_tool: None,
            problem: request_problem(body),
        }
    }

    fn render(reply: &Reply, usage: FakeUsage, model: &str, id: u64) -> Value {
        let (parts, finish) = match reply {
            Reply::Text { text, truncated } => (
                json!([{"text": text}]),
                if *truncated { "MAX_TOKENS" } else { "STOP" },
            ),
            Reply::ToolCall { name, input, .. } => (
                json!([{"functionCall": {"name": name, "args": input}, "thoughtSignature": signature_for(id)}]),
                "STOP",
            ),
        };
        let prompt = usage.input + usage.cache_read;
        let mut metadata = json!({
            "promptTokenCount": prompt,
            "candidatesTokenCount": usage.output,
            "totalTokenCount": prompt + usage.output,
            "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt}],
        });
        if usage.cache_read > 0 {
            metadata["cachedContentTokenCount"] = json!(usage.cache_read);
        }
        json!({
            "candidates": [{
                "content": {"role": "model", "parts": parts},
                "finishReason": finish,
                "index": 0,
            }],
            "usageMetadata": metadata,
            "modelVersion": model,
            "responseId": format!("fake-response-{id}"),
        })
    }

    fn error(
        kind: FakeErrorKind,
        retry_after: Option<Duration>,
        message: &str,
    ) -> (u16, Vec<(String, String)>, Value) {
        let (status, status_name, text) = match kind {
            FakeErrorKind::RateLimit => (
                429,
                "RESOURCE_EXHAUSTED",
                "resource exhausted, retry later (fake)",
            ),
            FakeErrorKind::QuotaExhausted => {
                (429, "RESOURCE_EXHAUSTED", "daily quota exceeded (fake)")
            }
            FakeErrorKind::Overloaded => (503, "UNAVAILABLE", "the model is overloaded (fake)"),
            FakeErrorKind::Server => (500, "INTERNAL", "internal error (fake)"),
            FakeErrorKind::BadRequest => (400, "INVALID_ARGUMENT", message),
        };
        let mut details = Vec::new();
        match kind {
            FakeErrorKind::QuotaExhausted => details.push(json!({
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                }],
            })),
            FakeErrorKind::RateLimit => details.push(json!({
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [{
                    "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                    "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                }],
            })),
            _ => {}
        }
        if let Some(wait) = retry_after {
            details.push(json!({
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": format!("{}s", wait.as_secs_f64()),
            }));
        }
        let body = json!({"error": {"code": status, "message": text, "status": status_name, "details": details}});
        (status, Vec::new(), body)
    }
}
