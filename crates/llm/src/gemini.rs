//! The Gemini generateContent wire format.
//!
//! `contents` with `user`/`model` roles and `parts`, function calling with
//! `thoughtSignature`s carried back on the model turn they came with,
//! `responseSchema` (our JSON schema converted to Gemini's OpenAPI subset;
//! left out while tools are offered),
//! `usageMetadata`, and `google.rpc` error details: `RetryInfo.retryDelay`
//! as the wait hint, a per-day `QuotaFailure` as final. Pure translation;
//! this module must never do IO.

use std::collections::HashMap;

use reqwest::header::HeaderMap;
use serde_json::{json, Map, Value};

use crate::config::{ProviderKind, Secret};
use crate::http::Wire;
use crate::retry::{self, FailureClass};
use crate::types::{ChatRequest, ChatResponse, ContentBlock, Role, StopReason, ToolCall, Usage};

pub(crate) struct GeminiWire;

/// Converts a JSON schema to the OpenAPI subset `responseSchema` accepts:
/// type lists become `nullable`, `const` becomes a one-value `enum`, and
/// keywords Gemini rejects (`additionalProperties`, `$schema`) are dropped.
pub fn to_gemini_schema(schema: &Value) -> Value {
    let Some(object) = schema.as_object() else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in object {
        match key.as_str() {
            "additionalProperties" | "$schema" | "$id" => {}
            "type" => match value {
                Value::Array(types) => {
                    let named: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                    if let Some(first) = named.iter().find(|name| **name != "null") {
                        out.insert("type".into(), json!(first));
                    }
                    if named.contains(&"null") {
                        out.insert("nullable".into(), json!(true));
                    }
                }
                other => {
                    out.insert("type".into(), other.clone());
                }
            },
            "const" => {
                out.insert("enum".into(), json!([value]));
            }
            "properties" => {
                let converted: Map<String, Value> = value
                    .as_object()
                    .map(|properties| {
                        properties
                            .iter()
                            .map(|(name, member)| (name.clone(), to_gemini_schema(member)))
                            .collect()
                    })
                    .unwrap_or_default();
                out.insert("properties".into(), Value::Object(converted));
            }
            "items" => {
                out.insert("items".into(), to_gemini_schema(value));
            }
            "anyOf" => {
                let options = value
                    .as_array()
                    .map(|options| options.iter().map(to_gemini_schema).collect());
                out.insert("anyOf".into(), Value::Array(options.unwrap_or_default()));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if !out.contains_key("type") {
        let all_strings = out
            .get("enum")
            .and_then(Value::as_array)
            .is_some_and(|values| values.iter().all(Value::is_string));
        if all_strings {
            out.insert("type".into(), json!("string"));
        }
    }
    Value::Object(out)
}

fn encode_contents(request: &ChatRequest) -> Vec<Value> {
    let mut names_by_id: HashMap<&str, &str> = HashMap::new();
    let mut contents: Vec<Value> = Vec::new();
    for message in &request.messages {
        let role = match message.role {
            Role::Assistant => "model",
            Role::User | Role::Tool => "user",
        };
        let mut parts: Vec<Value> = Vec::new();
        let mut loose_signature: Option<&str> = None;
        let tool_signature = |id: &str| {
            message.content.iter().find_map(|block| match block {
                ContentBlock::Signature {
                    for_tool: Some(for_tool),
                    signature,
                } if for_tool == id => Some(signature.as_str()),
                _ => None,
            })
        };
        for block in &message.content {
            match block {
                ContentBlock::Text(text) if text.is_empty() => {}
                ContentBlock::Text(text) => parts.push(json!({"text": text})),
                ContentBlock::ToolUse { id, name, input } => {
                    names_by_id.insert(id, name);
                    let mut part = json!({"functionCall": {"name": name, "args": input}});
                    if let Some(signature) = tool_signature(id) {
                        part["thoughtSignature"] = json!(signature);
                    }
                    parts.push(part);
                }
                ContentBlock::ToolResult {
                    id,
                    content,
                    is_error,
                } => {
                    let name = names_by_id.get(id.as_str()).copied().unwrap_or(id.as_str());
                    let key = if *is_error { "error" } else { "result" };
                    parts.push(
                        json!({"functionResponse": {"name": name, "response": {key: content}}}),
                    );
                }
                ContentBlock::Signature {
                    for_tool: None,
                    signature,
                } => loose_signature = Some(signature),
                ContentBlock::Signature { .. } => {}
            }
        }
        if let (Some(signature), Some(Value::Object(first))) = (loose_signature, parts.first_mut())
        {
            first.entry("thoughtSignature").or_insert(json!(signature));
        }
        if parts.is_empty() {
            continue;
        }
        match contents.last_mut() {
            Some(last) if last["role"] == role => {
                if let Some(existing) = last["parts"].as_array_mut() {
                    existing.extend(parts);
                }
            }
            _ => contents.push(json!({"role": role, "parts": parts})),
        }
    }
    contents
}

fn decode_usage(metadata: Option<&Value>) -> Usage {
    let number = |name: &str| {
        metadata
            .and_then(|metadata| metadata.get(name))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    let prompt = number("promptTokenCount") + number("toolUsePromptTokenCount");
    let cached = number("cachedContentTokenCount").min(prompt);
    let thoughts = number("thoughtsTokenCount");
    Usage {
        requests: 1,
        input_tokens: prompt - cached,
        cache_read_tokens: cached,
        cache_write_tokens: 0,
        output_tokens: number("candidatesTokenCount") + thoughts,
        reasoning_tokens: thoughts,
    }
}

impl Wire for GeminiWire {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Gemini
    }

    fn url(&self, base_url: &str, model: &str) -> String {
        format!("{base_url}/models/{model}:generateContent")
    }

    fn headers(&self, api_key: Option<&Secret>) -> Vec<(&'static str, String)> {
        api_key
            .map(|key| vec![("x-goog-api-key", key.expose().to_string())])
            .unwrap_or_default()
    }

    fn encode(&self, request: &ChatRequest, _model: &str) -> Value {
        let mut body = Map::new();
        if !request.system.is_empty() {
            body.insert(
                "systemInstruction".into(),
                json!({"parts": [{"text": request.system}]}),
            );
        }
        body.insert("contents".into(), Value::Array(encode_contents(request)));
        if !request.tools.is_empty() {
            let declarations: Vec<Value> = request
                .tools
                .iter()
                .map(|tool| {
                    json!({"name": tool.name, "description": tool.description,
                           "parameters": to_gemini_schema(&tool.input_schema)})
                })
                .collect();
            body.insert(
                "tools".into(),
                json!([{"functionDeclarations": declarations}]),
            );
        }
        let mut generation = Map::new();
        generation.insert("maxOutputTokens".into(), json!(request.max_output_tokens));
        if let Some(temperature) = request.temperature {
            generation.insert("temperature".into(), json!(temperature));
        }
        // Older Gemini models refuse a response schema together with
        // function declarations; while tools are offered the schema is left
        // to validation and the repair round.
        if let (Some(schema), true) = (&request.response_schema, request.tools.is_empty()) {
            generation.insert("responseMimeType".into(), json!("application/json"));
            generation.insert("responseSchema".into(), to_gemini_schema(&schema.schema));
        }
        body.insert("generationConfig".into(), Value::Object(generation));
        Value::Object(body)
    }

    fn decode(
        &self,
        body: &Value,
        _request: &ChatRequest,
        model: &str,
    ) -> Result<ChatResponse, String> {
        let usage = decode_usage(body.get("usageMetadata"));
        let model = body
            .get("modelVersion")
            .and_then(Value::as_str)
            .unwrap_or(model)
            .to_string();
        let Some(candidate) = body.pointer("/candidates/0") else {
            let blocked = body
                .pointer("/promptFeedback/blockReason")
                .and_then(Value::as_str);
            return match blocked {
                Some(reason) => Ok(ChatResponse {
                    text: String::new(),
                    tool_calls: Vec::new(),
                    stop_reason: StopReason::Refusal,
                    usage,
                    model,
                    retry_wait: Default::default(),
                    signatures: vec![],
                })
                .inspect(|_| tracing::info!("Gemini blocked the prompt: {reason}")),
                None => Err("no candidates and no promptFeedback in the answer".into()),
            };
        };
        let parts = candidate
            .pointer("/content/parts")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut text = String::new();
        let mut tool_calls = Vec::new();
        let mut signatures = Vec::new();
        for (index, part) in parts.iter().enumerate() {
            let signature = part.get("thoughtSignature").and_then(Value::as_str);
            if let Some(call) = part.get("functionCall") {
                let name = call
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("parts[{index}].functionCall has no name"))?;
                let input = call.get("args").cloned().unwrap_or_else(|| json!({}));
                let id = call
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| {
                        crate::openai::made_up_call_id(index, name, &input.to_string())
                    });
                if let Some(signature) = signature {
                    signatures.push(ContentBlock::Signature {
                        for_tool: Some(id.clone()),
                        signature: signature.to_string(),
                    });
                }
                tool_calls.push(ToolCall {
                    id,
                    name: name.to_string(),
                    input,
                });
                continue;
            }
            if let Some(signature) = signature {
                signatures.push(ContentBlock::Signature {
                    for_tool: None,
                    signature: signature.to_string(),
                });
            }
            let is_thought = part
                .get("thought")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if let (Some(part_text), false) = (part.get("text").and_then(Value::as_str), is_thought)
            {
                text.push_str(part_text);
            }
        }
        let stop_reason = match candidate.get("finishReason").and_then(Value::as_str) {
            _ if !tool_calls.is_empty() => StopReason::ToolUse,
            Some("STOP") | None => StopReason::EndTurn,
            Some("MAX_TOKENS") => StopReason::MaxTokens,
            Some("SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII") => {
                StopReason::Refusal
            }
            Some(other) => StopReason::Other(other.to_string()),
        };
        Ok(ChatResponse {
            text,
            tool_calls,
            stop_reason,
            usage,
            model,
            retry_wait: Default::default(),
            signatures,
        })
    }

    fn classify(&self, status: u16, headers: &HeaderMap, body: &str) -> FailureClass {
        let parsed: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let details = parsed
            .pointer("/error/details")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut retry_delay = None;
        let mut daily_quota = false;
        for detail in &details {
            match detail.get("@type").and_then(Value::as_str) {
                Some(kind) if kind.ends_with("google.rpc.RetryInfo") => {
                    retry_delay = detail
                        .get("retryDelay")
                        .and_then(Value::as_str)
                        .and_then(retry::parse_proto_duration);
                }
                Some(kind) if kind.ends_with("google.rpc.QuotaFailure") => {
                    let violations = detail.get("violations").and_then(Value::as_array);
                    daily_quota |= violations.is_some_and(|violations| {
                        violations.iter().any(|violation| {
                            violation
                                .get("quotaId")
                                .and_then(Value::as_str)
                                .is_some_and(|id| id.contains("PerDay"))
                        })
                    });
                }
                _ => {}
            }
        }
        if daily_quota {
            return FailureClass::QuotaExhausted;
        }
        match retry::classify_status(status, headers) {
            FailureClass::Retry { server_hint } => FailureClass::Retry {
                server_hint: retry_delay.or(server_hint),
            },
            other => other,
        }
    }
}
