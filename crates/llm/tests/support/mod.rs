//! Helpers shared by the integration tests: clients pointed at a fake,
//! a representative request, and golden-file comparison.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::PathBuf;

use sashiko_llm::{
    ChatRequest, ContentBlock, Message, ProviderConfig, ProviderKind, RetryConfig, Role, ToolSpec,
};
use sashiko_llm_fake::FakeLlmServer;
use serde_json::{json, Value};

pub const ALL: [ProviderKind; 3] = [
    ProviderKind::Openai,
    ProviderKind::Anthropic,
    ProviderKind::Gemini,
];

pub fn config(server: &FakeLlmServer, kind: ProviderKind) -> ProviderConfig {
    let mut config = ProviderConfig::new(kind)
        .with_base_url(server.base_url_for(kind))
        .with_model(format!("fake-{kind}"))
        .with_api_key("secret-key-123");
    config.retry = RetryConfig {
        max_retries: 3,
        initial_backoff_ms: 10,
        max_backoff_ms: 40,
        ..RetryConfig::default()
    };
    config
}

pub fn findings_schema() -> Value {
    json!({
        "type": "object",
        "required": ["findings"],
        "additionalProperties": false,
        "properties": {"findings": {"type": "array", "items": {
            "type": "object",
            "required": ["severity", "problem"],
            "properties": {
                "severity": {"type": "string", "enum": ["low", "medium", "high", "critical"]},
                "problem": {"type": "string"},
                "preexisting": {"type": ["boolean", "null"]},
                "kind": {"const": "bug"}
            }
        }}}
    })
}

pub fn read_file_tool() -> ToolSpec {
    ToolSpec {
        name: "read_file".into(),
        description: "Read a file of the tree under review.".into(),
        input_schema: json!({"type": "object", "required": ["path"], "additionalProperties": false,
            "properties": {"path": {"type": "string"}}}),
    }
}

/// A request exercising every block kind: shared prefix, an earlier tool
/// round (with a Gemini signature), tools, schema and sampling settings.
pub fn representative_request() -> ChatRequest {
    ChatRequest::new("flow", "You review Linux kernel patches.")
        .with_user_text("<patch index=\"1\">\n+\tkfree(p);\n</patch>")
        .mark_shared_prefix()
        .with_user_text("Check the execution flow.")
        .with_message(Message {
            role: Role::Assistant,
            content: vec![
                ContentBlock::Signature {
                    for_tool: Some("call_1".into()),
                    signature: "c2lnLTE=".into(),
                },
                ContentBlock::Text("Let me read the file.".into()),
                ContentBlock::ToolUse {
                    id: "call_1".into(),
                    name: "read_file".into(),
                    input: json!({"path": "mm/slab.c"}),
                },
            ],
        })
        .with_message(Message {
            role: Role::Tool,
            content: vec![ContentBlock::ToolResult {
                id: "call_1".into(),
                content: "void kfree(const void *p);".into(),
                is_error: false,
            }],
        })
        .with_tool(read_file_tool())
        .with_schema("findings", findings_schema())
        .with_max_output_tokens(1000)
        .with_temperature(0.25)
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with the golden file; `SASHIKO_UPDATE_GOLDEN=1`
/// rewrites it instead.
pub fn check_golden(name: &str, actual: &Value) {
    let path = golden_path(name);
    let pretty = serde_json::to_string_pretty(actual).expect("serialise JSON") + "\n";
    if std::env::var_os("SASHIKO_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &pretty).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "golden file {} missing ({error}); run with SASHIKO_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    let expected: Value = serde_json::from_str(&expected).expect("golden file is JSON");
    assert_eq!(
        &expected,
        actual,
        "request JSON differs from {}",
        path.display()
    );
}
