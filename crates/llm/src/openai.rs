//! The OpenAI chat-completions wire format, also spoken by Ollama,
//! llama.cpp's server and vLLM.
//!
//! Pure translation between [`ChatRequest`]/[`ChatResponse`] and the JSON on
//! the wire, plus classification of OpenAI error bodies. Tool-call arguments
//! arrive as a JSON string (some servers send an object; both are accepted).
//! Unknown response fields are ignored. This module must never do IO.

use reqwest::header::HeaderMap;
use serde_json::{json, Map, Value};

use crate::config::{JsonMode, MaxTokensField, ProviderConfig, ProviderKind, Secret};
use crate::http::Wire;
use crate::retry::{self, FailureClass};
use crate::types::{ChatRequest, ChatResponse, ContentBlock, Role, StopReason, ToolCall, Usage};

pub(crate) struct OpenAiWire {
    pub json_mode: JsonMode,
    pub max_tokens_field: &'static str,
}

impl OpenAiWire {
    pub(crate) fn new(config: &ProviderConfig) -> Self {
        let max_tokens_field = match config.max_tokens_field {
            MaxTokensField::MaxTokens => "max_tokens",
            MaxTokensField::MaxCompletionTokens => "max_completion_tokens",
            MaxTokensField::Auto if config.base_url.is_none() => "max_completion_tokens",
            MaxTokensField::Auto => "max_tokens",
        };
        OpenAiWire {
            json_mode: config.json_mode,
            max_tokens_field,
        }
    }
}

/// A made-up tool-call id for servers that send none; stable for the same
/// call so recordings replay.
pub(crate) fn made_up_call_id(index: usize, name: &str, arguments: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{name}\0{arguments}").as_bytes());
    format!("call_{index}_{}", &hex::encode(digest)[..8])
}

fn encode_messages(request: &ChatRequest) -> Vec<Value> {
    let mut out = Vec::new();
    if !request.system.is_empty() {
        out.push(json!({"role": "system", "content": request.system}));
    }
    for message in &request.messages {
        let mut texts = Vec::new();
        let mut calls = Vec::new();
        let mut results = Vec::new();
        for block in &message.content {
            match block {
                ContentBlock::Text(text) => texts.push(text.as_str()),
                ContentBlock::ToolUse { id, name, input } => calls.push(json!({
                    "id": id,
                    "type": "function",
                    "function": {"name": name, "arguments": input.to_string()},
                })),
                ContentBlock::ToolResult {
                    id,
                    content,
                    is_error,
                } => {
                    let content = if *is_error {
                        format!("error: {content}")
                    } else {
                        content.clone()
                    };
                    results.push(json!({"role": "tool", "tool_call_id": id, "content": content}));
                }
                ContentBlock::Signature { .. } => {}
            }
        }
        out.extend(results);
        let text = texts.join("\n");
        match message.role {
            Role::Assistant => {
                let mut turn = Map::new();
                turn.insert("role".into(), json!("assistant"));
                turn.insert(
                    "content".into(),
                    if text.is_empty() {
                        Value::Null
                    } else {
                        json!(text)
                    },
                );
                if !calls.is_empty() {
                    turn.insert("tool_calls".into(), Value::Array(calls));
                }
                out.push(Value::Object(turn));
            }
            Role::User | Role::Tool => {
                if !text.is_empty() {
                    out.push(json!({"role": "user", "content": text}));
                }
            }
        }
    }
    out
}

impl Wire for OpenAiWire {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Openai
    }

    fn url(&self, base_url: &str, _model: &str) -> String {
        format!("{base_url}/chat/completions")
    }

    fn headers(&self, api_key: Option<&Secret>) -> Vec<(&'static str, String)> {
        api_key
            .map(|key| vec![("authorization", format!("Bearer {}", key.expose()))])
            .unwrap_or_default()
    }

    fn encode(&self, request: &ChatRequest, model: &str) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), json!(model));
        body.insert("messages".into(), Value::Array(encode_messages(request)));
        body.insert(
            self.max_tokens_field.into(),
            json!(request.max_output_tokens),
        );
        if let Some(temperature) = request.temperature {
            body.insert("temperature".into(), json!(temperature));
        }
        if let Some(schema) = &request.response_schema {
            let format = match self.json_mode {
                JsonMode::JsonSchema => Some(json!({
                    "type": "json_schema",
                    "json_schema": {"name": schema.name, "schema": schema.schema, "strict": false},
                })),
                JsonMode::JsonObjectWithSchema => {
                    Some(json!({"type": "json_object", "schema": schema.schema}))
                }
                JsonMode::JsonObject => Some(json!({"type": "json_object"})),
                JsonMode::None => None,
            };
            if let Some(format) = format {
                body.insert("response_format".into(), format);
            }
        }
        if !request.tools.is_empty() {
            let tools: Vec<Value> = request
                .tools
                .iter()
                .map(|tool| {
                    json!({"type": "function", "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.input_schema,
                    }})
                })
                .collect();
            body.insert("tools".into(), Value::Array(tools));
        }
        Value::Object(body)
    }

    fn decode(
        &self,
        body: &Value,
        _request: &ChatRequest,
        model: &str,
    ) -> Result<ChatResponse, String> {
        let choice = body
            .pointer("/choices/0")
            .ok_or_else(|| "no choices[0] in the answer".to_string())?;
        let message = choice
            .get("message")
            .ok_or_else(|| "no choices[0].message in the answer".to_string())?;
        let text = match message.get("content") {
            Some(Value::String(text)) => text.clone(),
            Some(Value::Array(parts)) => parts
                .iter()
                .filter_map(|part| part.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join(""),
            _ => String::new(),
        };
        let mut tool_calls = Vec::new();
        if let Some(calls) = message.get("tool_calls").and_then(Value::as_array) {
            for (index, call) in calls.iter().enumerate() {
                let function = call.get("function").unwrap_or(&Value::Null);
                let name = function
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("tool_calls[{index}] has no function.name"))?;
                let (input, raw) = match function.get("arguments") {
                    Some(Value::String(raw)) if raw.trim().is_empty() => (json!({}), String::new()),
                    Some(Value::String(raw)) => (
                        serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.clone())),
                        raw.clone(),
                    ),
                    Some(value) => (value.clone(), value.to_string()),
                    None => (json!({}), String::new()),
                };
                let id = call
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty())
                    .map(str::to_string)
                    .unwrap_or_else(|| made_up_call_id(index, name, &raw));
                tool_calls.push(ToolCall {
                    id,
                    name: name.to_string(),
                    input,
                });
            }
        }
        let refusal = message
            .get("refusal")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty());
        let stop_reason = match choice.get("finish_reason").and_then(Value::as_str) {
            _ if refusal.is_some() => StopReason::Refusal,
            _ if !tool_calls.is_empty() => StopReason::ToolUse,
            Some("stop") | None => StopReason::EndTurn,
            Some("length") => StopReason::MaxTokens,
            Some("tool_calls") | Some("function_call") => StopReason::ToolUse,
            Some("content_filter") => StopReason::Refusal,
            Some(other) => StopReason::Other(other.to_string()),
        };
        let text = match (text.is_empty(), refusal) {
            (true, Some(refusal)) => refusal.to_string(),
            _ => text,
        };
        Ok(ChatResponse {
            text,
            tool_calls,
            stop_reason,
            usage: decode_usage(body.get("usage")),
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
        let error = parsed.get("error").unwrap_or(&Value::Null);
        let code = error.get("code").and_then(Value::as_str).unwrap_or("");
        let kind = error.get("type").and_then(Value::as_str).unwrap_or("");
        let quota_words = [
            "insufficient_quota",
            "billing_hard_limit_reached",
            "billing_not_active",
        ];
        if quota_words.contains(&code) || quota_words.contains(&kind) {
            return FailureClass::QuotaExhausted;
        }
        // llama-cpp-python answers 500 for request validation errors (for
        // example `json_schema` where it wants `json_object`); resending the
        // same body cannot help.
        let message = error.get("message").and_then(Value::as_str).unwrap_or("");
        if message.contains("validation error") && message.contains("'loc': ('body'") {
            return FailureClass::Fatal;
        }
        retry::classify_status(status, headers)
    }
}

fn decode_usage(usage: Option<&Value>) -> Usage {
    let number = |pointer: &str| {
        usage
            .and_then(|usage| usage.pointer(pointer))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let prompt = number("/prompt_tokens");
    let cached = number("/prompt_tokens_details/cached_tokens").min(prompt);
    Usage {
        requests: 1,
        input_tokens: prompt - cached,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        output_tokens: number("/completion_tokens"),
        reasoning_tokens: number("/completion_tokens_details/reasoning_tokens"),
    }
}
