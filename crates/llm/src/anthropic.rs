//! The Anthropic Messages wire format.
//!
//! Content blocks, `tool_use`/`tool_result`, prompt caching with
//! `cache_control` breakpoints on the system prompt and after the shared
//! prefix of a review, and structured output through a forced tool whose
//! input schema is the response schema (its input becomes the answer text).
//! Classifies 529 `overloaded_error` as retryable and credit or billing
//! exhaustion as final. Pure translation; this module must never do IO.

use reqwest::header::HeaderMap;
use serde_json::{json, Map, Value};

use crate::config::{ProviderKind, Secret};
use crate::http::Wire;
use crate::retry::{self, FailureClass};
use crate::types::{ChatRequest, ChatResponse, ContentBlock, Role, StopReason, ToolCall, Usage};

/// The API version we speak.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Description of the forced tool that carries a structured answer.
const SCHEMA_TOOL_DESCRIPTION: &str = "Give the final answer as this tool's input.";

pub(crate) struct AnthropicWire;

fn ephemeral() -> Value {
    json!({"type": "ephemeral"})
}

fn encode_block(block: &ContentBlock) -> Option<Value> {
    match block {
        ContentBlock::Text(text) if text.is_empty() => None,
        ContentBlock::Text(text) => Some(json!({"type": "text", "text": text})),
        ContentBlock::ToolUse { id, name, input } => {
            Some(json!({"type": "tool_use", "id": id, "name": name, "input": input}))
        }
        ContentBlock::ToolResult {
            id,
            content,
            is_error,
        } => Some(
            json!({"type": "tool_result", "tool_use_id": id, "content": content, "is_error": is_error}),
        ),
        ContentBlock::Signature { .. } => None,
    }
}

/// Messages in Anthropic's alternating user/assistant form, with a cache
/// breakpoint on the last block of the shared prefix.
fn encode_messages(request: &ChatRequest) -> Vec<Value> {
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for (index, message) in request.messages.iter().enumerate() {
        let role = match message.role {
            Role::Assistant => "assistant",
            Role::User | Role::Tool => "user",
        };
        let mut blocks: Vec<Value> = message.content.iter().filter_map(encode_block).collect();
        if index + 1 == request.shared_prefix_messages {
            if let Some(Value::Object(last)) = blocks.last_mut() {
                last.insert("cache_control".into(), ephemeral());
            }
        }
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((last_role, last_blocks)) if last_role == role => last_blocks.extend(blocks),
            _ => out.push((role.to_string(), blocks)),
        }
    }
    out.into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect()
}

impl Wire for AnthropicWire {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Anthropic
    }

    fn url(&self, base_url: &str, _model: &str) -> String {
        format!("{base_url}/messages")
    }

    fn headers(&self, api_key: Option<&Secret>) -> Vec<(&'static str, String)> {
        let mut headers = vec![("anthropic-version", ANTHROPIC_VERSION.to_string())];
        if let Some(key) = api_key {
            headers.push(("x-api-key", key.expose().to_string()));
        }
        headers
    }

    fn encode(&self, request: &ChatRequest, model: &str) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(model));
        body.insert("max_tokens".into(), json!(request.max_output_tokens));
        if !request.system.is_empty() {
            body.insert(
                "system".into(),
                json!([{"type": "text", "text": request.system, "cache_control": ephemeral()}]),
            );
        }
        body.insert("messages".into(), Value::Array(encode_messages(request)));
        if let Some(temperature) = request.temperature {
            body.insert("temperature".into(), json!(temperature));
        }
        let mut tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| json!({"name": tool.name, "description": tool.description, "input_schema": tool.input_schema}))
            .collect();
        if let Some(schema) = &request.response_schema {
            tools.push(json!({
                "name": schema.name,
                "description": SCHEMA_TOOL_DESCRIPTION,
                "input_schema": schema.schema,
            }));
            let choice = if request.tools.is_empty() {
                json!({"type": "tool", "name": schema.name})
            } else {
                json!({"type": "auto"})
            };
            body.insert("tool_choice".into(), choice);
        }
        if !tools.is_empty() {
            body.insert("tools".into(), Value::Array(tools));
        }
        Value::Object(body)
    }

    fn decode(
        &self,
        body: &Value,
        request: &ChatRequest,
        model: &str,
    ) -> Result<ChatResponse, String> {
        let blocks = body
            .get("content")
            .and_then(Value::as_array)
            .ok_or_else(|| "no content array in the answer".to_string())?;
        let schema_tool = request
            .response_schema
            .as_ref()
            .map(|schema| schema.name.as_str());
        let mut texts = Vec::new();
        let mut tool_calls = Vec::new();
        let mut answered_through_schema_tool = false;
        for (index, block) in blocks.iter().enumerate() {
            match block.get("type").and_then(Value::as_str) {
                Some("text") => texts.push(
                    block
                        .get("text")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                ),
                Some("tool_use") => {
                    let name = block
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or_else(|| format!("content[{index}] tool_use has no name"))?;
                    let input = block.get("input").cloned().unwrap_or_else(|| json!({}));
                    if Some(name) == schema_tool {
                        answered_through_schema_tool = true;
                        texts.push(input.to_string());
                        continue;
                    }
                    let id = block
                        .get("id")
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| {
                            crate::openai::made_up_call_id(index, name, &input.to_string())
                        });
                    tool_calls.push(ToolCall {
                        id,
                        name: name.to_string(),
                        input,
                    });
                }
                _ => {} // thinking, redacted_thinking and future block types
            }
        }
        let stop_reason = match body.get("stop_reason").and_then(Value::as_str) {
            Some("end_turn") | Some("stop_sequence") | None => StopReason::EndTurn,
            Some("max_tokens") => StopReason::MaxTokens,
            Some("tool_use") if tool_calls.is_empty() && answered_through_schema_tool => {
                StopReason::EndTurn
            }
            Some("tool_use") => StopReason::ToolUse,
            Some("refusal") => StopReason::Refusal,
            Some(other) => StopReason::Other(other.to_string()),
        };
        let number = |name: &str| {
            body.pointer(&format!("/usage/{name}"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        };
        Ok(ChatResponse {
            text: texts.join(""),
            tool_calls,
            stop_reason,
            usage: Usage {
                requests: 1,
                input_tokens: number("input_tokens"),
                cache_read_tokens: number("cache_read_input_tokens"),
                cache_write_tokens: number("cache_creation_input_tokens"),
                output_tokens: number("output_tokens"),
                reasoning_tokens: 0,
            },
            model: body
                .get("model")
                .and_then(Value::as_str)
                .unwrap_or(model)
                .to_string(),
            retry_wait: Default::default(),
            signatures: Vec::new(),
        })
    }

    fn classify(&self, status: u16, headers: &HeaderMap, body: &str) -> FailureClass {
        let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let kind = parsed
            .pointer("/error/type")
            .and_then(Value::as_str)
            .unwrap_or("");
        let message = parsed
            .pointer("/error/message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        let exhausted = kind == "billing_error"
            || status == 402
            || message.contains("credit balance")
            || message.contains("spend limit")
            || message.contains("usage limit");
        if exhausted {
            return FailureClass::QuotaExhausted;
        }
        retry::classify_status(status, headers)
    }
}
