//! The tool loop against the fake: tools run and their results go back,
//! hallucinated tool names get an error result, endless identical calls
//! are detected, and turn, token and wall-time budgets end the loop.

mod support;

use std::time::Duration;

use sashiko_llm::{
    connect, run_tool_loop, ChatRequest, ContentBlock, LoopStop, ProviderKind, Role, ToolBudget,
    ToolExecutor,
};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::{json, Value};

struct Files;

#[async_trait::async_trait]
impl ToolExecutor for Files {
    async fn call(&self, name: &str, input: &Value) -> Result<String, String> {
        match (name, input.get("path").and_then(Value::as_str)) {
            ("read_file", Some("mm/slab.c")) => Ok("void kfree(const void *p);".into()),
            ("read_file", Some(other)) => Err(format!("no such file {other}")),
            _ => Err("bad input".into()),
        }
    }
}

fn request() -> ChatRequest {
    ChatRequest::new("flow", "sys")
        .with_user_text("review")
        .with_tool(support::read_file_tool())
}

fn read(path: &str) -> FakeAnswer {
    FakeAnswer::tool_call("read_file", json!({"path": path}))
}

fn tool_results(messages: &[sashiko_llm::Message]) -> Vec<(String, bool)> {
    messages
        .iter()
        .filter(|message| message.role == Role::Tool)
        .flat_map(|message| message.content.iter())
        .filter_map(|block| match block {
            ContentBlock::ToolResult {
                content, is_error, ..
            } => Some((content.clone(), *is_error)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn tools_run_until_the_final_answer_in_every_protocol() {
    for kind in support::ALL {
        let script = FakeScript::new()
            .push("flow", read("mm/slab.c"))
            .push(
                "flow",
                FakeAnswer::tool_call("grep_tree", json!({"pattern": "kfree"})),
            )
            .push("flow", read("missing.c"))
            .push("flow", FakeAnswer::text("final answer"));
        let server = FakeLlmServer::start(script).await;
        let client = connect(&support::config(&server, kind)).expect("client");
        let outcome = run_tool_loop(client.as_ref(), &request(), &Files, &ToolBudget::default())
            .await
            .expect("loop");
        assert_eq!(outcome.stopped, None, "{kind}");
        assert_eq!(
            outcome.last.as_ref().map(|r| r.text.as_str()),
            Some("final answer")
        );
        assert_eq!(
            (
                outcome.turns,
                outcome.tool_calls,
                outcome.unknown_tool_calls
            ),
            (4, 3, 1)
        );
        assert_eq!(outcome.usage.requests, 4);
        let results = tool_results(&outcome.messages);
        assert_eq!(
            results[0],
            ("void kfree(const void *p);".to_string(), false)
        );
        assert!(
            results[1].1
                && results[1].0.contains("no tool named \"grep_tree\"")
                && results[1].0.contains("read_file")
        );
        assert_eq!(results[2], ("no such file missing.c".to_string(), true));
        let last_body = &server.requests()[3].body;
        assert!(
            last_body.to_string().contains("no such file missing.c"),
            "{kind}: results not sent back"
        );
    }
}

#[tokio::test]
async fn endless_identical_calls_are_detected() {
    let server =
        FakeLlmServer::start(FakeScript::new().stage_default("flow", read("mm/slab.c"))).await;
    let client = connect(&support::config(&server, ProviderKind::Openai)).expect("client");
    let outcome = run_tool_loop(client.as_ref(), &request(), &Files, &ToolBudget::default())
        .await
        .expect("loop");
    assert_eq!(
        outcome.stopped,
        Some(LoopStop::RepeatedCall {
            name: "read_file".into()
        })
    );
    assert_eq!(outcome.turns, 3);
    let results = tool_results(&outcome.messages);
    assert!(!results[0].1 && results[1].1 && results[2].1, "{results:?}");
}

#[tokio::test]
async fn turn_and_token_budgets_end_the_loop() {
    let mut script = FakeScript::new();
    for index in 0..20 {
        script = script.push("flow", read(&format!("file{index}.c")));
    }
    let server = FakeLlmServer::start(script.clone()).await;
    let client = connect(&support::config(&server, ProviderKind::Anthropic)).expect("client");
    let budget = ToolBudget {
        max_turns: 5,
        ..ToolBudget::default()
    };
    let outcome = run_tool_loop(client.as_ref(), &request(), &Files, &budget)
        .await
        .expect("loop");
    assert_eq!((outcome.stopped, outcome.turns), (Some(LoopStop::Turns), 5));

    server.set_script(script);
    let budget = ToolBudget {
        max_tokens: 800,
        ..ToolBudget::default()
    };
    let small = request().with_max_output_tokens(100);
    let outcome = run_tool_loop(client.as_ref(), &small, &Files, &budget)
        .await
        .expect("loop");
    assert_eq!(outcome.stopped, Some(LoopStop::Tokens));
    assert!(outcome.turns >= 1);
    assert!(outcome.usage.total_tokens() <= 800, "{:?}", outcome.usage);
}

#[tokio::test]
async fn wall_time_budget_ends_a_slow_loop() {
    let script = FakeScript::new()
        .push("flow", read("mm/slab.c"))
        .stage_default(
            "flow",
            FakeAnswer::text("late").delayed(Duration::from_secs(5)),
        );
    let server = FakeLlmServer::start(script).await;
    let client = connect(&support::config(&server, ProviderKind::Gemini)).expect("client");
    let budget = ToolBudget {
        max_wall_time: Duration::from_millis(500),
        ..ToolBudget::default()
    };
    let outcome = run_tool_loop(client.as_ref(), &request(), &Files, &budget)
        .await
        .expect("loop");
    assert_eq!(
        (outcome.stopped, outcome.turns),
        (Some(LoopStop::WallTime), 1)
    );
}
