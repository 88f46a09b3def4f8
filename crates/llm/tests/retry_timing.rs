//! Retry timing against the fake with tokio's clock paused: server hints
//! are honoured exactly, our own backoff grows within its jitter bounds and
//! cap, total waiting is bounded, and a 429 on one review slows the others
//! sharing the endpoint for the hinted time only.

mod support;

use std::time::Duration;

use sashiko_llm::{connect, ChatRequest, LlmError, ProviderKind, RetryConfig};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use tokio::time::Instant;

fn request(stage: &str) -> ChatRequest {
    ChatRequest::new(stage, "sys").with_user_text("q")
}

/// A paused clock jumps ahead while the client waits for the fake's
/// answer, so HTTP timeouts must be off.
fn paused_config(server: &FakeLlmServer, kind: ProviderKind) -> sashiko_llm::ProviderConfig {
    let mut config = support::config(server, kind);
    config.timeout_secs = 0;
    config
}

fn retry(initial_ms: u64, max_ms: u64) -> RetryConfig {
    RetryConfig {
        max_retries: 5,
        initial_backoff_ms: initial_ms,
        max_backoff_ms: max_ms,
        max_server_wait_ms: 10_000,
        max_total_wait_ms: 600_000,
    }
}

#[tokio::test(start_paused = true)]
async fn retry_after_two_seconds_twice_then_success_records_four_seconds() {
    let rate_limited = || {
        FakeAnswer::status_with_header(
            429,
            "retry-after",
            "2",
            r#"{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}"#,
        )
    };
    let script = FakeScript::new()
        .push("resource", rate_limited())
        .push("resource", rate_limited())
        .push("resource", FakeAnswer::text("ok"));
    let server = FakeLlmServer::start(script).await;
    let mut config = paused_config(&server, ProviderKind::Openai);
    config.retry = retry(1000, 8000);
    let client = connect(&config).expect("client");
    let real_start = std::time::Instant::now();
    let virtual_start = Instant::now();
    let response = client
        .chat(&request("resource"))
        .await
        .expect("answer after two 429s");
    assert_eq!(response.text, "ok");
    assert_eq!(response.retry_wait, Duration::from_secs(4));
    assert!(virtual_start.elapsed() >= Duration::from_secs(4));
    assert!(
        real_start.elapsed() < Duration::from_secs(3),
        "the clock was not paused"
    );
    assert_eq!(server.requests().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn exponential_backoff_with_jitter_for_hintless_errors() {
    let script = FakeScript::new()
        .push("s", FakeAnswer::status(500, "{}"))
        .push("s", FakeAnswer::status(502, "{}"))
        .push("s", FakeAnswer::status(503, "{}"))
        .push("s", FakeAnswer::status(500, "{}"))
        .push("s", FakeAnswer::text("ok"));
    let server = FakeLlmServer::start(script).await;
    let mut config = paused_config(&server, ProviderKind::Anthropic);
    config.retry = retry(1000, 3000);
    let client = connect(&config).expect("client");
    let response = client.chat(&request("s")).await.expect("answer");
    // Steps 1s, 2s, 3s (capped), 3s; each drawn from [step/2, step].
    let (low, high) = (
        Duration::from_millis(500 + 1000 + 1500 + 1500),
        Duration::from_millis(1000 + 2000 + 3000 + 3000),
    );
    assert!(
        response.retry_wait >= low && response.retry_wait <= high,
        "{:?}",
        response.retry_wait
    );
}

#[tokio::test(start_paused = true)]
async fn server_hints_are_capped_and_total_wait_is_bounded() {
    let script = FakeScript::new()
        .push(
            "s",
            FakeAnswer::status_with_header(429, "retry-after", "3600", "{}"),
        )
        .push(
            "s",
            FakeAnswer::status_with_header(503, "retry-after-ms", "9000", "{}"),
        )
        .push("s", FakeAnswer::text("ok"));
    let server = FakeLlmServer::start(script.clone()).await;
    let mut config = paused_config(&server, ProviderKind::Openai);
    config.retry = retry(1000, 8000);
    let client = connect(&config).expect("client");
    let response = client.chat(&request("s")).await.expect("answer");
    assert_eq!(response.retry_wait, Duration::from_secs(10 + 9));

    let server = FakeLlmServer::start(script).await;
    let mut config = paused_config(&server, ProviderKind::Openai);
    config.retry = RetryConfig {
        max_total_wait_ms: 15_000,
        ..retry(1000, 8000)
    };
    let client = connect(&config).expect("client");
    let error = client
        .chat(&request("s"))
        .await
        .expect_err("over the total wait budget");
    match &error {
        LlmError::RetriesExhausted {
            attempts, waited, ..
        } => {
            assert_eq!((*attempts, *waited), (2, Duration::from_secs(10)));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(error.status(), Some(503));
}

#[tokio::test(start_paused = true)]
async fn gemini_retry_info_is_the_hint() {
    let body = r#"{"error":{"code":429,"message":"slow","status":"RESOURCE_EXHAUSTED","details":[
        {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7.5s"}]}}"#;
    let script = FakeScript::new()
        .push("s", FakeAnswer::status(429, body))
        .push("s", FakeAnswer::text("ok"));
    let server = FakeLlmServer::start(script).await;
    let mut config = paused_config(&server, ProviderKind::Gemini);
    config.retry = retry(1000, 8000);
    let client = connect(&config).expect("client");
    let response = client.chat(&request("s")).await.expect("answer");
    assert_eq!(response.retry_wait, Duration::from_millis(7500));
}

#[tokio::test(start_paused = true)]
async fn a_429_on_one_review_pauses_the_others_for_the_hint_only() {
    let script = FakeScript::new()
        .push(
            "a",
            FakeAnswer::status_with_header(429, "retry-after", "2", "{}"),
        )
        .stage_default("a", FakeAnswer::text("a done"))
        .stage_default("b", FakeAnswer::text("b done"));
    let server = FakeLlmServer::start(script).await;
    let mut config = paused_config(&server, ProviderKind::Openai);
    config.retry = retry(1000, 8000);
    // A distinct limit so this test gets its own shared limiter.
    config.rate_limit.requests_per_minute = 1000;
    let review_a = connect(&config).expect("client a");
    let review_b = connect(&config).expect("client b");
    let start = Instant::now();
    let a = tokio::spawn(async move { review_a.chat(&request("a")).await });
    while server.requests().is_empty() {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let b = review_b.chat(&request("b")).await.expect("b");
    let b_done = start.elapsed();
    let a = a.await.expect("task").expect("a");
    assert_eq!((a.text.as_str(), b.text.as_str()), ("a done", "b done"));
    assert!(
        b_done >= Duration::from_secs(2),
        "b was not slowed down: {b_done:?}"
    );
    // Loose: virtual time runs ahead while the polling above waits for
    // real IO. The exact pause length is checked in ratelimit's unit tests.
    assert!(
        b_done < Duration::from_secs(10),
        "b was stalled too long: {b_done:?}"
    );
    assert_eq!(b.retry_wait, Duration::ZERO, "b itself never failed");
}
