//! A small JSON-schema validator for the subset our response schemas use:
//! `type` (one or a list), `properties`, `required`, `items`, `enum`,
//! `const`, `additionalProperties` (bool or schema), `minimum`/`maximum`,
//! `minItems`/`maxItems`, `minLength`/`maxLength` and `anyOf`.
//!
//! Errors name the JSON path of each problem so the repair round can tell
//! the model exactly what to fix. Unknown keywords are ignored, never
//! guessed at; this module must never modify the value it checks.

use serde_json::Value;

/// Most problems reported for one value.
const MAX_ERRORS: usize = 8;

/// Checks `value` against `schema`; the error lists the problems found,
/// one per line, each starting with its JSON path.
pub fn validate(value: &Value, schema: &Value) -> Result<(), String> {
    let mut errors = Vec::new();
    check(value, schema, "$", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        errors.truncate(MAX_ERRORS);
        Err(errors.join("\n"))
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(value: &Value, expected: &str) -> bool {
    let actual = type_name(value);
    actual == expected
        || (expected == "number" && actual == "integer")
        || (expected == "integer" && value.as_f64().is_some_and(|number| number.fract() == 0.0))
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.len() <= 60 {
        return text;
    }
    let mut end = 57;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

fn check(value: &Value, schema: &Value, path: &str, errors: &mut Vec<String>) {
    if errors.len() >= MAX_ERRORS {
        return;
    }
    let Some(schema) = schema.as_object() else {
        return; // `true` or `{}`-like: anything goes.
    };
    if let Some(expected) = schema.get("type") {
        let names: Vec<&str> = match expected {
            Value::String(name) => vec![name.as_str()],
            Value::Array(names) => names.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !names.is_empty() && !names.iter().any(|name| type_matches(value, name)) {
            errors.push(format!(
                "{path}: expected {}, found {} {}",
                names.join(" or "),
                type_name(value),
                short(value)
            ));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            let list: Vec<String> = allowed.iter().map(short).collect();
            errors.push(format!(
                "{path}: {} is not one of [{}]",
                short(value),
                list.join(", ")
            ));
        }
    }
    if let Some(constant) = schema.get("const") {
        if constant != value {
            errors.push(format!("{path}: must be {}", short(constant)));
        }
    }
    if let Some(options) = schema.get("anyOf").and_then(Value::as_array) {
        let fits = options.iter().any(|option| {
            let mut scratch = Vec::new();
            check(value, option, path, &mut scratch);
            scratch.is_empty()
        });
        if !fits {
            errors.push(format!("{path}: matches none of the anyOf alternatives"));
        }
    }
    match value {
        Value::Object(object) => check_object(object, schema, path, errors),
        Value::Array(items) => check_array(items, schema, path, errors),
        Value::String(text) => {
            let chars = text.chars().count() as u64;
            if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
                if chars < min {
                    errors.push(format!("{path}: shorter than {min} characters"));
                }
            }
            if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
                if chars > max {
                    errors.push(format!("{path}: longer than {max} characters"));
                }
            }
        }
        Value::Number(number) => {
            let number = number.as_f64().unwrap_or(f64::NAN);
            if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
                if number < min {
                    errors.push(format!("{path}: {number} is below the minimum {min}"));
                }
            }
            if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
                if number > max {
                    errors.push(format!("{path}: {number} is above the maximum {max}"));
                }
            }
        }
        _ => {}
    }
}

fn check_object(
    object: &serde_json::Map<String, Value>,
    schema: &serde_json::Map<String, Value>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    if let Some(required) = schema.get("required").and_then(Value::as_array) {
        for name in required.iter().filter_map(Value::as_str) {
            if !object.contains_key(name) {
                errors.push(format!("{path}: missing required property {name:?}"));
            }
        }
    }
    for (name, member) in object {
        let member_path = format!("{path}.{name}");
        match properties.and_then(|properties| properties.get(name)) {
            Some(member_schema) => check(member, member_schema, &member_path, errors),
            None => match schema.get("additionalProperties") {
                Some(Value::Bool(false)) => {
                    errors.push(format!("{path}: unexpected property {name:?}"));
                }
                Some(extra @ Value::Object(_)) => check(member, extra, &member_path, errors),
                _ => {}
            },
        }
    }
}

fn check_array(
    items: &[Value],
    schema: &serde_json::Map<String, Value>,
    path: &str,
    errors: &mut Vec<String>,
) {
    let count = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
        if count < min {
            errors.push(format!("{path}: fewer than {min} items"));
        }
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
        if count > max {
            errors.push(format!("{path}: more than {max} items"));
        }
    }
    if let Some(item_schema) = schema.get("items") {
        for (index, item) in items.iter().enumerate() {
            check(item, item_schema, &format!("{path}[{index}]"), errors);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn findings_schema() -> Value {
        json!({
            "type": "object",
            "required": ["findings"],
            "additionalProperties": false,
            "properties": {
                "findings": {"type": "array", "maxItems": 3, "items": {
                    "type": "object",
                    "required": ["severity", "line"],
                    "properties": {
                        "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
                        "line": {"type": "integer", "minimum": 1},
                        "note": {"type": ["string", "null"], "maxLength": 5},
                        "kind": {"anyOf": [{"const": "bug"}, {"const": "style"}]}
                    }
                }}
            }
        })
    }

    fn check_case(value: Value, expected: Result<(), &str>) {
        let got = validate(&value, &findings_schema());
        match expected {
            Ok(()) => assert_eq!(got, Ok(()), "{value}"),
            Err(needle) => {
                let message = got.expect_err(&format!("{value} should fail"));
                assert!(
                    message.contains(needle),
                    "{value}: {message:?} lacks {needle:?}"
                );
            }
        }
    }

    #[test]
    fn subset_cases() {
        check_case(json!({"findings": []}), Ok(()));
        check_case(
            json!({"findings": [{"severity": "low", "line": 3, "note": null, "kind": "bug"}]}),
            Ok(()),
        );
        check_case(
            json!({"findings": [{"severity": "high", "line": 3.0}]}),
            Ok(()),
        );
        check_case(json!({}), Err("$: missing required property \"findings\""));
        check_case(
            json!({"findings": [], "extra": 1}),
            Err("$: unexpected property \"extra\""),
        );
        check_case(
            json!({"findings": "none"}),
            Err("$.findings: expected array, found string"),
        );
        check_case(
            json!({"findings": [{"severity": "urgent", "line": 1}]}),
            Err("$.findings[0].severity: \"urgent\" is not one of"),
        );
        check_case(
            json!({"findings": [{"severity": "low", "line": 0}]}),
            Err("$.findings[0].line: 0 is below the minimum 1"),
        );
        check_case(
            json!({"findings": [{"severity": "low", "line": 1.5}]}),
            Err("expected integer, found number"),
        );
        check_case(
            json!({"findings": [{"severity": "low", "line": 1, "note": "too long"}]}),
            Err("longer than 5"),
        );
        check_case(
            json!({"findings": [{"severity": "low", "line": 1, "kind": "nit"}]}),
            Err("none of the anyOf"),
        );
        check_case(
            json!({"findings": [{}, {}, {}, {}]}),
            Err("more than 3 items"),
        );
        check_case(json!([1]), Err("$: expected object, found array"));
    }
}
