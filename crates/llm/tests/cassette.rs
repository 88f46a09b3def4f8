//! Record a conversation against the fake, stop the fake, replay it:
//! identical answers and usage; replay-strict fails on prompt drift;
//! replay falls back to the model and records what it had not seen.

mod support;

use std::path::Path;
use std::sync::Arc;

use sashiko_llm::{
    chat_structured, connect, CassetteClient, CassetteMode, ChatRequest, LlmClient, LlmError,
    ProviderKind,
};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::json;

fn stage_request(stage: &str, question: &str) -> ChatRequest {
    ChatRequest::new(stage, "You review patches.")
        .with_user_text("the patch")
        .mark_shared_prefix()
        .with_user_text(question)
        .with_schema("findings", support::findings_schema())
}

fn wrap(client: Arc<dyn LlmClient>, path: &Path, mode: CassetteMode) -> Arc<dyn LlmClient> {
    Arc::new(CassetteClient::new(client, path, mode).expect("cassette"))
}

#[tokio::test]
async fn record_stop_replay_gives_identical_answers_and_usage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("review.jsonl");
    for kind in support::ALL {
        let _ = std::fs::remove_file(&path);
        let script = FakeScript::new()
            .push(
                "resource",
                FakeAnswer::json(json!({"findings": [{"severity": "high", "problem": "leak"}]})),
            )
            .push("locking", FakeAnswer::text("not json"))
            .push("locking", FakeAnswer::json(json!({"findings": []})));
        let server = FakeLlmServer::start(script).await;
        let mut config = support::config(&server, kind);
        config.api_key = Some(sashiko_llm::Secret::new("sk-live-key-0123456789abcdef"));
        let live = connect(&config).expect("client");
        let recorder = wrap(live, &path, CassetteMode::Record);
        let mut recorded = Vec::new();
        for (stage, question) in [("resource", "leaks?"), ("locking", "locks?")] {
            recorded.push(
                chat_structured(recorder.as_ref(), &stage_request(stage, question))
                    .await
                    .expect("live"),
            );
        }
        assert_eq!(recorded[1].repairs, 1);
        server.stop().await;

        let text = std::fs::read_to_string(&path).expect("cassette written");
        assert_eq!(text.lines().count(), 3, "{kind}: one line per exchange");
        assert!(
            !text.contains("sk-live-key"),
            "{kind}: key leaked into the cassette"
        );

        let dead = connect(&config).expect("client for the stopped fake");
        let player = wrap(dead, &path, CassetteMode::ReplayStrict);
        for (index, (stage, question)) in [("resource", "leaks?"), ("locking", "locks?")]
            .into_iter()
            .enumerate()
        {
            let replayed = chat_structured(player.as_ref(), &stage_request(stage, question))
                .await
                .expect("replayed");
            assert_eq!(replayed, recorded[index], "{kind} {stage}");
        }

        let drifted = stage_request("resource", "leaks? (reworded)");
        let error = player
            .chat(&drifted)
            .await
            .expect_err("strict replay must fail on drift");
        assert!(matches!(error, LlmError::Cassette { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("no recording") && message.contains("stage resource"),
            "{message}"
        );
        assert!(
            message.contains(path.to_str().expect("utf-8 path")),
            "{message}"
        );
    }
}

#[tokio::test]
async fn replay_mode_asks_the_model_only_for_new_requests_and_records_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("c.jsonl");
    std::fs::write(&path, "this line is broken\n").expect("seed");
    let server =
        FakeLlmServer::start(FakeScript::new().default_answer(FakeAnswer::text("live"))).await;
    let config = support::config(&server, ProviderKind::Openai);
    let client = wrap(
        connect(&config).expect("client"),
        &path,
        CassetteMode::Replay,
    );
    let request = ChatRequest::new("s", "sys").with_user_text("q");
    assert_eq!(client.chat(&request).await.expect("live").text, "live");
    assert_eq!(server.requests().len(), 1);
    let again = wrap(
        connect(&config).expect("client"),
        &path,
        CassetteMode::Replay,
    );
    assert_eq!(again.chat(&request).await.expect("replayed").text, "live");
    assert_eq!(
        server.requests().len(),
        1,
        "the second run must come from the cassette"
    );
}

#[tokio::test]
async fn replay_only_answers_as_the_recorded_model_with_no_model_behind_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bench.jsonl");
    let missing = CassetteClient::replay_only(&path)
        .err()
        .expect("a missing recording is an error");
    assert!(
        missing.to_string().contains("bench.jsonl") && missing.to_string().contains("cannot read"),
        "{missing}"
    );
    std::fs::write(&path, "\n").expect("empty recording");
    let empty = CassetteClient::replay_only(&path)
        .err()
        .expect("an empty recording is an error");
    assert!(empty.to_string().contains("records no exchange"), "{empty}");

    let server = FakeLlmServer::start(
        FakeScript::new()
            .push("s", FakeAnswer::text("first"))
            .push("s", FakeAnswer::text("second")),
    )
    .await;
    let config = support::config(&server, ProviderKind::Openai);
    let recorder = wrap(
        connect(&config).expect("client"),
        &path,
        CassetteMode::Record,
    );
    let request = ChatRequest::new("s", "sys").with_user_text("q");
    let recorded = [
        recorder.chat(&request).await.expect("live 1"),
        recorder.chat(&request).await.expect("live 2"),
    ];
    server.stop().await;

    let player = CassetteClient::replay_only(&path).expect("recording loads");
    assert_eq!(player.provider(), recorder.provider());
    assert_eq!(player.model(), recorder.model());
    for (occurrence, expected) in recorded.iter().enumerate() {
        let replayed = player.chat(&request).await.expect("replayed");
        assert_eq!(&replayed, expected, "occurrence {occurrence}");
    }
    let unseen = ChatRequest::new("s", "sys").with_user_text("another question");
    let error = player.chat(&unseen).await.expect_err("no recording");
    assert!(error.to_string().contains("no recording"), "{error}");
}
