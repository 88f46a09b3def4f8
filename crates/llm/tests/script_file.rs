//! The example script file loads and drives a conversation, so the format
//! documented there stays true; bad files are reported by name.

mod support;

use std::path::Path;

use sashiko_llm::{chat_structured, connect, ChatRequest, ProviderKind};
use sashiko_llm_fake::{FakeLlmServer, FakeScript};

fn example() -> FakeScript {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fake_script.toml");
    FakeScript::from_path(&path).expect("example script loads")
}

#[tokio::test]
async fn example_script_drives_stages() {
    let server = FakeLlmServer::start(example()).await;
    let client = connect(&support::config(&server, ProviderKind::Openai)).expect("client");
    let request = |stage: &str| {
        ChatRequest::new(stage, "sys")
            .with_user_text("q")
            .with_schema("findings", support::findings_schema())
    };
    let resource = chat_structured(client.as_ref(), &request("resource"))
        .await
        .expect("resource");
    assert_eq!(resource.value["findings"][0]["severity"], "high");
    assert_eq!(resource.response.retry_wait.as_millis(), 1200);
    let locking = chat_structured(client.as_ref(), &request("locking"))
        .await
        .expect("locking");
    assert_eq!(
        (
            locking.repairs,
            locking.value["findings"].as_array().map(Vec::len)
        ),
        (1, Some(0))
    );
    let other = chat_structured(client.as_ref(), &request("style"))
        .await
        .expect("global default");
    assert_eq!(other.value, serde_json::json!({"findings": []}));
}

#[test]
fn json_form_and_bad_files_are_reported_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let json_path = dir.path().join("script.json");
    std::fs::write(
        &json_path,
        serde_json::to_string(&example()).expect("serialise"),
    )
    .expect("write");
    assert_eq!(
        FakeScript::from_path(&json_path).expect("JSON form"),
        example()
    );
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[stages.x]\nqueue = [{ nonsense = 1 }]\n").expect("write");
    let error = FakeScript::from_path(&bad)
        .expect_err("bad script")
        .to_string();
    assert!(
        error.contains("bad.toml") && error.contains("TOML"),
        "{error}"
    );
    let missing = FakeScript::from_path(&dir.path().join("missing.toml"))
        .expect_err("missing")
        .to_string();
    assert!(
        error.len() > 10 && missing.contains("missing.toml"),
        "{missing}"
    );
}
