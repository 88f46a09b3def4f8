//! Conformance of each adapter against the fake speaking the real wire
//! protocols: request JSON matches golden files, tool calls and usage
//! decode, and every error shape is classified as the provider means it.

mod support;

use std::time::Duration;

use sashiko_llm::{
    chat_structured, connect, ChatRequest, ContentBlock, LlmError, Message, ProviderKind, Role,
    StopReason,
};
use sashiko_llm_fake::{FakeAnswer, FakeErrorKind, FakeLlmServer, FakeScript};
use serde_json::json;
use support::{check_golden, config, findings_schema, representative_request, ALL};

fn answer() -> serde_json::Value {
    json!({"findings": [{"severity": "high", "problem": "double free of p"}]})
}

#[tokio::test]
async fn request_json_matches_golden_files() {
    for kind in ALL {
        let server =
            FakeLlmServer::start(FakeScript::new().default_answer(FakeAnswer::json(answer())))
                .await;
        let client = connect(&config(&server, kind)).expect("client");
        let response = client
            .chat(&representative_request())
            .await
            .expect("answer");
        assert_eq!(response.usage.requests, 1);
        let recorded = server.requests();
        assert_eq!(recorded.len(), 1);
        check_golden(&format!("{kind}_request.json"), &recorded[0].body);
        let expected_path = match kind {
            ProviderKind::Openai => "/v1/chat/completions".to_string(),
            ProviderKind::Anthropic => "/v1/messages".to_string(),
            ProviderKind::Gemini => "/v1beta/models/fake-gemini:generateContent".to_string(),
        };
        assert_eq!(recorded[0].path, expected_path);
        let auth = match kind {
            ProviderKind::Openai => ("authorization", "Bearer secret-key-123"),
            ProviderKind::Anthropic => ("x-api-key", "secret-key-123"),
            ProviderKind::Gemini => ("x-goog-api-key", "secret-key-123"),
        };
        assert_eq!(
            recorded[0].headers.get(auth.0).map(String::as_str),
            Some(auth.1),
            "{kind}"
        );
        assert_eq!(
            recorded[0]
                .headers
                .get("x-sashiko-stage")
                .map(String::as_str),
            Some("flow")
        );
        let structured = ChatRequest::new("verify", "Verify the findings.")
            .with_user_text("findings so far")
            .with_schema("findings", findings_schema())
            .with_max_output_tokens(500);
        client.chat(&structured).await.expect("structured answer");
        check_golden(
            &format!("{kind}_structured_request.json"),
            &server.requests()[1].body,
        );
        if kind == ProviderKind::Anthropic {
            assert_eq!(
                recorded[0]
                    .headers
                    .get("anthropic-version")
                    .map(String::as_str),
                Some("2023-06-01")
            );
        }
    }
}

#[tokio::test]
async fn structured_answers_decode_in_every_protocol() {
    for kind in ALL {
        let server =
            FakeLlmServer::start(FakeScript::new().push("verify", FakeAnswer::json(answer())))
                .await;
        let client = connect(&config(&server, kind)).expect("client");
        let request = ChatRequest::new("verify", "sys")
            .with_user_text("q")
            .with_schema("findings", findings_schema());
        let got = chat_structured(client.as_ref(), &request)
            .await
            .expect("answer");
        assert_eq!(got.value, answer(), "{kind}");
        assert_eq!(got.response.stop_reason, StopReason::EndTurn, "{kind}");
        assert!(
            got.response.tool_calls.is_empty(),
            "{kind}: schema tool leaked as a tool call"
        );
        assert_eq!(got.response.model, format!("fake-{kind}"));
    }
}

#[tokio::test]
async fn tool_calls_decode_and_continue_the_conversation() {
    for kind in ALL {
        let script = FakeScript::new()
            .push(
                "flow",
                FakeAnswer::tool_call("read_file", json!({"path": "mm/slab.c"})),
            )
            .push_after_tool("read_file", FakeAnswer::text("done"));
        let server = FakeLlmServer::start(script).await;
        let client = connect(&config(&server, kind)).expect("client");
        let mut request = ChatRequest::new("flow", "sys")
            .with_user_text("look at this")
            .with_tool(support::read_file_tool());
        let first = client.chat(&request).await.expect("tool call");
        assert_eq!(first.stop_reason, StopReason::ToolUse, "{kind}");
        assert_eq!(first.tool_calls.len(), 1);
        let call = &first.tool_calls[0];
        assert_eq!(
            (call.name.as_str(), &call.input),
            ("read_file", &json!({"path": "mm/slab.c"}))
        );
        if kind == ProviderKind::Gemini {
            assert!(
                matches!(&first.signatures[..], [ContentBlock::Signature { for_tool: Some(id), .. }] if id == &call.id)
            );
        }
        request.messages.push(first.assistant_message());
        request.messages.push(Message {
            role: Role::Tool,
            content: vec![ContentBlock::ToolResult {
                id: call.id.clone(),
                content: "void kfree(const void *);".into(),
                is_error: false,
            }],
        });
        let second = client.chat(&request).await.expect("answer after tool");
        assert_eq!(second.text, "done", "{kind}");
        assert_eq!(second.stop_reason, StopReason::EndTurn);
    }
}

#[tokio::test]
async fn gemini_refuses_a_function_call_turn_without_its_signature() {
    let server =
        FakeLlmServer::start(FakeScript::new().default_answer(FakeAnswer::text("x"))).await;
    let client = connect(&config(&server, ProviderKind::Gemini)).expect("client");
    let request = ChatRequest::new("flow", "sys")
        .with_user_text("q")
        .with_message(Message {
            role: Role::Assistant,
            content: vec![ContentBlock::ToolUse {
                id: "c".into(),
                name: "read_file".into(),
                input: json!({}),
            }],
        });
    let error = client.chat(&request).await.expect_err("must be refused");
    assert_eq!(error.status(), Some(400));
    assert!(error.to_string().contains("thought_signature"), "{error}");
}

#[tokio::test]
async fn usage_reports_cache_reads_and_writes_for_the_shared_prefix() {
    for kind in ALL {
        let server =
            FakeLlmServer::start(FakeScript::new().default_answer(FakeAnswer::json(answer())))
                .await;
        let client = connect(&config(&server, kind)).expect("client");
        let stage = |name: &str, question: &str| {
            ChatRequest::new(name, "You review patches.")
                .with_user_text("a long shared patch ".repeat(50))
                .mark_shared_prefix()
                .with_user_text(question)
        };
        let first = client
            .chat(&stage("resource", "leaks?"))
            .await
            .expect("first");
        let second = client
            .chat(&stage("locking", "deadlocks?"))
            .await
            .expect("second");
        assert!(
            first.usage.input_tokens > 0 && first.usage.output_tokens > 0,
            "{kind}: {:?}",
            first.usage
        );
        assert_eq!(first.usage.cache_read_tokens, 0, "{kind}");
        assert!(
            second.usage.cache_read_tokens > 200,
            "{kind}: {:?}",
            second.usage
        );
        if kind == ProviderKind::Anthropic {
            assert!(first.usage.cache_write_tokens > 200, "{:?}", first.usage);
            assert_eq!(second.usage.cache_write_tokens, 0, "{:?}", second.usage);
        }
        assert!(
            second.usage.input_tokens > 0,
            "{kind}: the new question is never cached"
        );
    }
}

/// How one scripted error must come out of the client.
struct ErrorCase {
    kind: FakeErrorKind,
    retry_after: Option<Duration>,
    /// Succeeds after one such error (retryable) or fails at once.
    retried: bool,
    status: u16,
}

#[tokio::test]
async fn every_error_shape_is_classified() {
    let cases = [
        ErrorCase {
            kind: FakeErrorKind::RateLimit,
            retry_after: Some(Duration::from_millis(100)),
            retried: true,
            status: 429,
        },
        ErrorCase {
            kind: FakeErrorKind::RateLimit,
            retry_after: None,
            retried: true,
            status: 429,
        },
        ErrorCase {
            kind: FakeErrorKind::Overloaded,
            retry_after: None,
            retried: true,
            status: 0,
        },
        ErrorCase {
            kind: FakeErrorKind::Server,
            retry_after: None,
            retried: true,
            status: 500,
        },
        ErrorCase {
            kind: FakeErrorKind::QuotaExhausted,
            retry_after: None,
            retried: false,
            status: 0,
        },
        ErrorCase {
            kind: FakeErrorKind::BadRequest,
            retry_after: None,
            retried: false,
            status: 400,
        },
    ];
    for kind in ALL {
        for case in &cases {
            let error = FakeAnswer::Error {
                kind: case.kind,
                retry_after: case.retry_after,
            };
            let script = FakeScript::new()
                .push("s", error)
                .push("s", FakeAnswer::text("ok"));
            let server = FakeLlmServer::start(script).await;
            let client = connect(&config(&server, kind)).expect("client");
            let label = format!("{kind} {:?} {:?}", case.kind, case.retry_after);
            let result = client
                .chat(&ChatRequest::new("s", "sys").with_user_text("q"))
                .await;
            if case.retried {
                let response = result.unwrap_or_else(|error| panic!("{label}: {error}"));
                assert_eq!(response.text, "ok", "{label}");
                let expected_wait = match (kind, case.retry_after) {
                    // Anthropic's retry-after header has whole seconds only.
                    (ProviderKind::Anthropic, Some(_)) => Some(Duration::from_secs(1)),
                    (_, hint) => hint,
                };
                match expected_wait {
                    Some(wait) => assert_eq!(response.retry_wait, wait, "{label}"),
                    None => assert!(
                        (5..=10).contains(&response.retry_wait.as_millis()),
                        "{label}: backoff {:?}",
                        response.retry_wait
                    ),
                }
                assert_eq!(server.requests().len(), 2, "{label}");
            } else {
                let error = result.expect_err(&label);
                if case.kind == FakeErrorKind::QuotaExhausted {
                    assert!(
                        matches!(error, LlmError::QuotaExhausted { .. }),
                        "{label}: {error:?}"
                    );
                } else {
                    assert_eq!(error.status(), Some(case.status), "{label}");
                }
                let message = error.to_string();
                assert!(
                    message.contains(&format!("fake-{kind}")),
                    "{label}: {message}"
                );
                assert!(
                    message.contains(&server.base_url_for(kind)),
                    "{label}: {message}"
                );
                assert!(!message.contains("secret-key-123"), "{label}: {message}");
                assert_eq!(server.requests().len(), 1, "{label}");
            }
        }
    }
}

#[tokio::test]
async fn anthropic_overload_is_529() {
    let script = FakeScript::new().default_answer(FakeAnswer::error(FakeErrorKind::Overloaded));
    let server = FakeLlmServer::start(script).await;
    let client = connect(&config(&server, ProviderKind::Anthropic)).expect("client");
    let error = client
        .chat(&ChatRequest::new("s", "sys").with_user_text("q"))
        .await
        .expect_err("overloaded");
    assert!(
        matches!(error, LlmError::RetriesExhausted { attempts: 4, .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(529));
    assert!(error.to_string().contains("overloaded_error"), "{error}");
}

#[tokio::test]
async fn unknown_response_fields_are_ignored() {
    let bodies = [
        (
            ProviderKind::Openai,
            json!({"id": "x", "new_field": {"a": 1}, "model": "m", "choices": [{"index": 0,
            "message": {"role": "assistant", "content": "hi", "annotations": [], "audio": null},
            "finish_reason": "stop", "extra": true}], "usage": {"prompt_tokens": 5, "completion_tokens": 1}}),
        ),
        (
            ProviderKind::Anthropic,
            json!({"id": "x", "type": "message", "role": "assistant", "model": "m",
            "content": [{"type": "thinking", "thinking": "hmm", "signature": "s"}, {"type": "text", "text": "hi", "citations": null}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 5, "output_tokens": 1, "server_tool_use": {}}, "container": null}),
        ),
        (
            ProviderKind::Gemini,
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "thinking...", "thought": true}, {"text": "hi"}]},
            "finishReason": "STOP", "safetyRatings": [], "avgLogprobs": -0.1}],
            "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 1, "thoughtsTokenCount": 3}, "modelVersion": "m", "createTime": "now"}),
        ),
    ];
    for (kind, body) in bodies {
        let script = FakeScript::new().default_answer(FakeAnswer::status(200, body.to_string()));
        let server = FakeLlmServer::start(script).await;
        let client = connect(&config(&server, kind)).expect("client");
        let response = client
            .chat(&ChatRequest::new("s", "sys").with_user_text("q"))
            .await
            .expect("decodes");
        assert_eq!(response.text, "hi", "{kind}");
        assert_eq!(response.model, "m");
        assert_eq!(response.usage.input_tokens, 5, "{kind}");
        if kind == ProviderKind::Gemini {
            assert_eq!(
                (
                    response.usage.output_tokens,
                    response.usage.reasoning_tokens
                ),
                (4, 3)
            );
        }
    }
}
