//! The OpenAI adapter against the fake server speaking the real
//! chat-completions protocol: structured answers, repairs, tool calls,
//! usage, retries and fast failure on exhausted quota.

use std::time::Duration;

use sashiko_llm::{
    chat_structured, connect, ChatRequest, LlmError, ProviderConfig, ProviderKind, RetryConfig,
    StopReason,
};
use sashiko_llm_fake::{FakeAnswer, FakeErrorKind, FakeLlmServer, FakeScript};
use serde_json::{json, Value};

fn schema() -> Value {
    json!({"type": "object", "required": ["findings"], "properties": {
        "findings": {"type": "array", "items": {"type": "object", "required": ["severity"],
            "properties": {"severity": {"enum": ["low", "high"]}}}}}})
}

fn config(server: &FakeLlmServer) -> ProviderConfig {
    let mut config = ProviderConfig::new(ProviderKind::Openai)
        .with_base_url(server.base_url())
        .with_model("fake-gpt")
        .with_api_key("sk-test-secret");
    config.retry = RetryConfig {
        max_retries: 3,
        initial_backoff_ms: 10,
        max_backoff_ms: 50,
        ..RetryConfig::default()
    };
    config
}

fn request(stage: &str) -> ChatRequest {
    ChatRequest::new(stage, "You review patches.")
        .with_user_text("patch text")
        .mark_shared_prefix()
        .with_user_text("stage question")
        .with_schema("findings", schema())
}

#[tokio::test]
async fn structured_answer_round_trip() {
    let answer = json!({"findings": [{"severity": "high"}]});
    let server =
        FakeLlmServer::start(FakeScript::new().push("resource", FakeAnswer::json(answer.clone())))
            .await;
    let client = connect(&config(&server)).expect("client");
    let got = chat_structured(client.as_ref(), &request("resource"))
        .await
        .expect("answer");
    assert_eq!(got.value, answer);
    assert_eq!(got.repairs, 0);
    assert_eq!(got.response.stop_reason, StopReason::EndTurn);
    assert_eq!(got.response.model, "fake-gpt");
    assert_eq!(got.response.usage.requests, 1);
    assert!(got.response.usage.input_tokens > 0);
    assert!(got.response.usage.output_tokens > 0);

    let recorded = server.requests();
    assert_eq!(recorded.len(), 1);
    let sent = &recorded[0];
    assert_eq!(sent.stage, "resource");
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(
        sent.headers.get("authorization").map(String::as_str),
        Some("Bearer sk-test-secret")
    );
    assert_eq!(sent.body["model"], "fake-gpt");
    assert_eq!(
        sent.body["messages"][0],
        json!({"role": "system", "content": "You review patches."})
    );
    assert_eq!(sent.body["response_format"]["type"], "json_schema");
    assert_eq!(
        sent.body["response_format"]["json_schema"]["schema"],
        schema()
    );
    assert!(
        !sent.body.to_string().contains("resource"),
        "stage label leaked into the body"
    );
}

#[tokio::test]
async fn second_request_with_same_prefix_reports_cached_tokens() {
    let script = FakeScript::new().default_answer(FakeAnswer::json(json!({"findings": []})));
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server)).expect("client");
    let first = client.chat(&request("resource")).await.expect("first");
    let second = client
        .chat(
            &ChatRequest::new("locking", "You review patches.")
                .with_user_text("patch text")
                .with_user_text("other"),
        )
        .await
        .expect("second");
    assert_eq!(first.usage.cache_read_tokens, 0);
    assert!(second.usage.cache_read_tokens > 0, "{:?}", second.usage);
}

#[tokio::test]
async fn invalid_then_valid_answer_is_repaired_with_the_validator_error() {
    let script = FakeScript::new()
        .push(
            "style",
            FakeAnswer::json(json!({"findings": [{"severity": "urgent"}]})),
        )
        .push(
            "style",
            FakeAnswer::text("```json\n{\"findings\": []}\n```"),
        );
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server)).expect("client");
    let got = chat_structured(client.as_ref(), &request("style"))
        .await
        .expect("repaired");
    assert_eq!(got.value, json!({"findings": []}));
    assert_eq!(got.repairs, 1);
    assert_eq!(got.response.usage.requests, 2);
    let second = &server.requests()[1].body;
    let last = second["messages"]
        .as_array()
        .and_then(|m| m.last())
        .expect("repair message");
    assert!(
        last["content"]
            .as_str()
            .unwrap_or("")
            .contains("\"urgent\" is not one of"),
        "{last}"
    );
}

#[tokio::test]
async fn truncated_twice_fails_with_typed_error_naming_stage_provider_model() {
    let script =
        FakeScript::new().stage_default("verify", FakeAnswer::Truncated("{\"findings\": [".into()));
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server)).expect("client");
    let error = chat_structured(client.as_ref(), &request("verify"))
        .await
        .expect_err("must fail");
    assert!(
        matches!(error, LlmError::InvalidStructuredOutput { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    for needle in ["verify", "openai", "fake-gpt", "cut off"] {
        assert!(message.contains(needle), "{message:?} lacks {needle}");
    }
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn tool_call_arguments_are_decoded_from_the_json_string() {
    let script = FakeScript::new().push(
        "flow",
        FakeAnswer::tool_call("read_file", json!({"path": "mm/slab.c"})),
    );
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server)).expect("client");
    let response = client.chat(&request("flow")).await.expect("answer");
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(response.tool_calls.len(), 1);
    assert_eq!(response.tool_calls[0].name, "read_file");
    assert_eq!(response.tool_calls[0].input, json!({"path": "mm/slab.c"}));
    assert!(!response.tool_calls[0].id.is_empty());
}

#[tokio::test]
async fn rate_limited_twice_then_success_records_the_wait() {
    let script = FakeScript::new()
        .push(
            "resource",
            FakeAnswer::status_with_header(429, "retry-after-ms", "150", "{}"),
        )
        .push(
            "resource",
            FakeAnswer::rate_limited(Duration::from_millis(100)),
        )
        .push("resource", FakeAnswer::json(json!({"findings": []})));
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server)).expect("client");
    let response = client.chat(&request("resource")).await.expect("answer");
    assert_eq!(response.retry_wait, Duration::from_millis(250));
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test]
async fn quota_exhausted_fails_fast_with_clear_message() {
    let script = FakeScript::new()
        .stage_default("resource", FakeAnswer::error(FakeErrorKind::QuotaExhausted));
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server)).expect("client");
    let error = client
        .chat(&request("resource"))
        .await
        .expect_err("must fail");
    assert!(
        matches!(error, LlmError::QuotaExhausted { status: 429, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("quota"), "{message}");
    assert!(message.contains(&server.base_url()), "{message}");
    assert!(!message.contains("sk-test-secret"));
    assert_eq!(
        server.requests().len(),
        1,
        "quota exhaustion must not be retried"
    );
}

#[tokio::test]
async fn server_errors_give_up_after_max_retries() {
    let script = FakeScript::new().default_answer(FakeAnswer::error(FakeErrorKind::Server));
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server)).expect("client");
    let error = client
        .chat(&request("resource"))
        .await
        .expect_err("must fail");
    assert!(
        matches!(error, LlmError::RetriesExhausted { attempts: 4, .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(500));
    assert_eq!(server.requests().len(), 4);
}

#[tokio::test]
async fn unscripted_stage_is_a_clear_non_retried_error() {
    let server = FakeLlmServer::start(FakeScript::new()).await;
    let client = connect(&config(&server)).expect("client");
    let error = client
        .chat(&request("intent"))
        .await
        .expect_err("must fail");
    assert!(
        error
            .to_string()
            .contains("no answer scripted for stage \\\"intent\\\""),
        "{error}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn key_never_appears_in_debug_or_serialised_config() {
    let config = ProviderConfig::new(ProviderKind::Openai).with_api_key("sk-very-secret");
    assert!(!format!("{config:?}").contains("sk-very-secret"));
    assert!(!serde_json::to_string(&config)
        .expect("json")
        .contains("sk-very-secret"));
    assert!(!toml::to_string(&config)
        .expect("toml")
        .contains("sk-very-secret"));
}

#[tokio::test]
async fn llama_cpp_request_validation_500_is_not_retried() {
    let body = json!({"error": {"message": "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), 'msg': \"Input should be 'text' or 'json_object'\"}", "type": "internal_server_error", "param": null, "code": null}});
    let script = FakeScript::new().default_answer(FakeAnswer::status(500, body.to_string()));
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server)).expect("client");
    let error = client
        .chat(&request("intent"))
        .await
        .expect_err("must fail");
    assert_eq!(error.status(), Some(500));
    assert!(error.to_string().contains("json_object"), "{error}");
    assert_eq!(
        server.requests().len(),
        1,
        "a validation error must not be retried"
    );
}

#[tokio::test]
async fn metered_client_counts_rejected_rounds_by_stage() {
    let script = FakeScript::new()
        .stage_default("verify", FakeAnswer::text("not json"))
        .stage_default("style", FakeAnswer::json(json!({"findings": []})));
    let server = FakeLlmServer::start(script).await;
    let metered = sashiko_llm::MeteredClient::new(connect(&config(&server)).expect("client"));
    let error = chat_structured(&metered, &request("verify"))
        .await
        .expect_err("never valid");
    assert!(matches!(error, LlmError::InvalidStructuredOutput { .. }));
    let ok = chat_structured(&metered, &request("style"))
        .await
        .expect("valid");
    let ledger = metered.ledger();
    assert_eq!(
        ledger.by_stage["verify"].requests, 2,
        "both rejected rounds are counted"
    );
    assert!(ledger.by_stage["verify"].input_tokens > 0);
    assert_eq!(ledger.by_stage["style"], ok.response.usage);
    assert_eq!(ledger.total().requests, 3);
}
