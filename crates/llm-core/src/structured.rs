//! Structured (JSON) answers: ask, extract the JSON, validate it against
//! the request's schema, and give the model one repair round that carries
//! the validator's error before failing with a typed error.
//!
//! The only prompt text here is the fallback repair instruction, used when
//! the caller (the review engine, which reads its wording from prompts/)
//! supplies none. This module must never retry more than once.

use serde_json::Value;

use crate::error::LlmError;
use crate::schema;
use crate::types::{ChatRequest, ChatResponse, Message, StopReason};
use crate::LlmClient;

/// Used when `ChatRequest::repair_instruction` is `None`; `{error}` is
/// replaced by what was wrong.
pub const DEFAULT_REPAIR_INSTRUCTION: &str = "Your previous answer could not be used: {error}\n\
Answer again with only a JSON value that matches the requested schema, nothing else.";

/// A validated JSON answer.
#[derive(Clone, Debug, PartialEq)]
pub struct StructuredAnswer {
    pub value: Value,
    /// The last response, with usage and retry wait summed over all rounds.
    pub response: ChatResponse,
    /// Repair rounds used (0 or 1).
    pub repairs: u32,
}

/// Finds the JSON value in an answer: the whole text, else inside a
/// Markdown code fence, else from the first `{`/`[` to the last `}`/`]`.
pub fn extract_json(text: &str) -> Result<Value, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("the answer is empty".into());
    }
    let first_error = match serde_json::from_str(trimmed) {
        Ok(value) => return Ok(value),
        Err(error) => error,
    };
    if let Some(start) = trimmed.find("```") {
        let after = &trimmed[start + 3..];
        let body_start = after.find('\n').map_or(0, |newline| newline + 1);
        if let Some(end) = after[body_start..].find("```") {
            if let Ok(value) = serde_json::from_str(after[body_start..body_start + end].trim()) {
                return Ok(value);
            }
        }
    }
    let open = trimmed.find(['{', '[']);
    let close = trimmed.rfind(['}', ']']);
    if let (Some(open), Some(close)) = (open, close) {
        if open < close {
            if let Ok(value) = serde_json::from_str(&trimmed[open..=close]) {
                return Ok(value);
            }
        }
    }
    Err(format!("the answer is not valid JSON ({first_error})"))
}

/// Why a response cannot be used, or its JSON value.
fn judge(response: &ChatResponse, request: &ChatRequest) -> Result<Value, String> {
    match response.stop_reason {
        StopReason::MaxTokens => {
            return Err(format!(
                "the answer was cut off at the output limit of {} tokens; answer more briefly",
                request.max_output_tokens
            ))
        }
        StopReason::Refusal => return Err("the model refused to answer".into()),
        _ => {}
    }
    if response.text.trim().is_empty() && !response.tool_calls.is_empty() {
        let names: Vec<&str> = response
            .tool_calls
            .iter()
            .map(|call| call.name.as_str())
            .collect();
        return Err(format!(
            "expected a JSON answer but got tool calls ({})",
            names.join(", ")
        ));
    }
    let value = extract_json(&response.text)?;
    if let Some(schema) = &request.response_schema {
        schema::validate(&value, &schema.schema)?;
    }
    Ok(value)
}

/// Asks for a JSON answer valid against `request.response_schema`, with
/// one repair round.
pub async fn chat_structured(
    client: &dyn LlmClient,
    request: &ChatRequest,
) -> Result<StructuredAnswer, LlmError> {
    let first = client.chat(request).await?;
    let first_problem = match judge(&first, request) {
        Ok(value) => {
            return Ok(StructuredAnswer {
                value,
                response: first,
                repairs: 0,
            })
        }
        Err(problem) => problem,
    };
    tracing::info!(stage = %request.stage, "structured answer rejected, asking for a repair: {first_problem}");
    let instruction = request
        .repair_instruction
        .as_deref()
        .unwrap_or(DEFAULT_REPAIR_INSTRUCTION)
        .replace("{error}", &first_problem);
    let mut repair = request.clone();
    if !first.text.is_empty() {
        repair
            .messages
            .push(Message::assistant_text(first.text.clone()));
    }
    repair.messages.push(Message::user_text(instruction));
    let mut second = client.chat(&repair).await?;
    second.usage += first.usage;
    second.retry_wait += first.retry_wait;
    match judge(&second, request) {
        Ok(value) => Ok(StructuredAnswer {
            value,
            response: second,
            repairs: 1,
        }),
        Err(problem) => Err(LlmError::InvalidStructuredOutput {
            stage: request.stage.clone(),
            provider: client.provider().to_string(),
            model: client.model().to_string(),
            detail: format!("after one repair round: {problem} (first answer: {first_problem})"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extraction_cases() {
        let cases: &[(&str, Option<Value>)] = &[
            ("{\"a\": 1}", Some(json!({"a": 1}))),
            ("  [1, 2]\n", Some(json!([1, 2]))),
            ("```json\n{\"a\": 2}\n```", Some(json!({"a": 2}))),
            (
                "Here you go:\n```\n{\"a\": 3}\n```\nBye",
                Some(json!({"a": 3})),
            ),
            ("Sure! {\"a\": 4} hope this helps", Some(json!({"a": 4}))),
            ("{\"a\": ", None),
            ("", None),
            ("no json here", None),
        ];
        for (text, expected) in cases {
            assert_eq!(extract_json(text).ok(), *expected, "{text:?}");
        }
    }
}
