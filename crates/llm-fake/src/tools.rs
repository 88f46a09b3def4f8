//! Tool scripting support of the fake: whether a request offers the model
//! any tools, in each protocol's shape. A real model cannot call a tool
//! the request does not declare, so a script can say what a stage answers
//! when tools are withdrawn (`FakeScript::without_tools`), e.g. the final
//! structured answer after a tool loop was stopped by its budget.
//!
//! Only reads request bodies; it must never decide an answer by itself.

use serde_json::Value;

use sashiko_llm_core::ProviderKind;

/// Does the request declare at least one tool the model may choose to
/// call? (Anthropic's forced tool for structured output does not count.)
pub(crate) fn offers_tools(kind: ProviderKind, body: &Value) -> bool {
    let tools = body.get("tools").and_then(Value::as_array);
    match kind {
        ProviderKind::Openai => tools.is_some_and(|tools| !tools.is_empty()),
        ProviderKind::Anthropic => {
            let forced = body
                .get("tool_choice")
                .filter(|choice| choice.get("type").and_then(Value::as_str) == Some("tool"))
                .and_then(|choice| choice.get("name").and_then(Value::as_str));
            tools.is_some_and(|tools| {
                tools
                    .iter()
                    .any(|tool| tool.get("name").and_then(Value::as_str) != forced)
            })
        }
        ProviderKind::Gemini => tools.is_some_and(|tools| {
            tools.iter().any(|tool| {
                tool.get("functionDeclarations")
                    .and_then(Value::as_array)
                    .is_some_and(|declarations| !declarations.is_empty())
            })
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tools_offered_per_protocol() {
        let cases = [
            (
                ProviderKind::Openai,
                json!({"tools": [{"type": "function"}]}),
                true,
            ),
            (ProviderKind::Openai, json!({"tools": []}), false),
            (ProviderKind::Openai, json!({}), false),
            (
                ProviderKind::Anthropic,
                json!({"tools": [{"name": "answer"}], "tool_choice": {"type": "tool", "name": "answer"}}),
                false,
            ),
            (
                ProviderKind::Anthropic,
                json!({"tools": [{"name": "answer"}, {"name": "grep"}], "tool_choice": {"type": "tool", "name": "answer"}}),
                true,
            ),
            (
                ProviderKind::Gemini,
                json!({"tools": [{"functionDeclarations": [{"name": "grep"}]}]}),
                true,
            ),
            (
                ProviderKind::Gemini,
                json!({"tools": [{"functionDeclarations": []}]}),
                false,
            ),
        ];
        for (kind, body, expected) in cases {
            assert_eq!(offers_tools(kind, &body), expected, "{kind:?} {body}");
        }
    }
}
