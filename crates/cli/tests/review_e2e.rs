//! End to end: the real `sashiko` binary reviews a real git repository
//! against the fake OpenAI-compatible server (real HTTP on 127.0.0.1) and
//! stores into a real SQLite file. These are the spine issue's acceptance
//! cases.

mod common;

use std::path::Path;

use common::{git, init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_store::Table;
use serde_json::{json, Value};

/// A repository with a base commit and three commits to drivers/foo.c.
fn three_commit_repo(dir: &Path) {
    init_repo(dir);
    let mut lines: Vec<String> = (1..=30).map(|n| format!("int filler_{n};")).collect();
    let steps = [
        (
            5,
            "\tchar *buf = kmalloc(64, GFP_KERNEL);",
            "foo: allocate a buffer",
        ),
        (15, "\tspin_lock(&foo_lock);", "foo: take the lock"),
        (
            25,
            "\tif (!buf)\n\t\treturn -ENOMEM;",
            "foo: check the allocation",
        ),
    ];
    std::fs::create_dir_all(dir.join("drivers")).expect("mkdir");
    std::fs::write(dir.join("drivers/foo.c"), lines.join("\n") + "\n").expect("write");
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "foo: base\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    for (line, text, subject) in steps {
        lines.insert(line, text.to_owned());
        std::fs::write(dir.join("drivers/foo.c"), lines.join("\n") + "\n").expect("write");
        git(
            dir,
            &[
                "commit",
                "-q",
                "-a",
                "-m",
                &format!("{subject}\n\nWhy.\n\nSigned-off-by: Ada Dev <ada@example.org>"),
            ],
        );
    }
}

fn finding(patch: u32, line: u32, severity: &str, problem: &str) -> Value {
    json!({
        "patch_index": patch, "file": "drivers/foo.c", "line_start": line, "line_end": line,
        "severity": severity, "problem": problem,
        "severity_explanation": "scripted", "preexisting": false
    })
}

fn scripted_findings() -> FakeScript {
    otherwise_silent(
        FakeScript::new()
            .push(
                "resource",
                FakeAnswer::json(json!({"findings": [
                    finding(1, 6, "high", "buf is never freed on any path"),
                ]})),
            )
            .push(
                "locking",
                FakeAnswer::json(json!({"findings": [
                    finding(2, 17, "medium", "foo_lock is taken and never released"),
                    finding(2, 200, "high", "cites a line far outside the patch"),
                ]})),
            ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn review_of_three_commits_returns_exactly_the_scripted_findings_and_stores_once() {
    let env = Env::new(three_commit_repo);
    let fake = FakeLlmServer::start(scripted_findings()).await;
    let first = env.review(Some(&fake.base_url()), &["HEAD~3..", "--format", "json"]);
    assert_eq!(
        first.status.code(),
        Some(1),
        "a high finding means exit 1: {}",
        String::from_utf8_lossy(&first.stderr)
    );
    let document = stdout_json(&first);
    assert_eq!(document["patches"].as_array().map(Vec::len), Some(3));
    let problems: Vec<(&str, u64, &str)> = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["problem"].as_str().expect("problem"),
                f["patch_index"].as_u64().expect("index"),
                f["severity"].as_str().expect("severity"),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            ("buf is never freed on any path", 1, "high"),
            ("foo_lock is taken and never released", 2, "medium"),
        ]
    );
    assert_eq!(document["dropped"]["unanchored"], 1);
    // Only the kernel's own analyzers are skipped: this tree has no
    // scripts/checkpatch.pl or scripts/coccinelle.
    let skipped: Vec<&str> = document["skipped_stages"]
        .as_array()
        .expect("list")
        .iter()
        .map(|stage| stage["name"].as_str().expect("name"))
        .collect();
    assert_eq!(skipped, ["checkpatch", "coccinelle"]);
    assert!(document["usage"]["requests"].as_u64().expect("requests") >= 7);
    for key in [
        "problem",
        "severity",
        "severity_explanation",
        "preexisting",
        "locations",
    ] {
        assert!(
            document["findings"][0].get(key).is_some(),
            "b4 field {key} missing"
        );
    }
    let all_output = format!(
        "{}{}",
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        !all_output.contains("sk-test-never-printed"),
        "API key leaked"
    );
    // Every request carried the patch text only inside nonce-delimited blocks.
    let requests = fake.requests();
    assert!(requests.iter().all(|r| r
        .headers
        .get("authorization")
        .is_some_and(|v| v == "Bearer sk-test-never-printed")));

    let store = env.store().await;
    assert_eq!(store.count(Table::Findings).await.expect("count"), 2);
    let messages = store.count(Table::Messages).await.expect("count");
    let patches = store.count(Table::Patches).await.expect("count");
    assert_eq!((messages, patches), (3, 3));
    store.close().await;

    fake.set_script(scripted_findings());
    let second = env.review(Some(&fake.base_url()), &["HEAD~3..", "--format", "json"]);
    assert_eq!(second.status.code(), Some(1));
    let store = env.store().await;
    assert_eq!(
        store.count(Table::Messages).await.expect("count"),
        messages,
        "messages duplicated"
    );
    assert_eq!(
        store.count(Table::Patches).await.expect("count"),
        patches,
        "patches duplicated"
    );
    assert_eq!(store.count(Table::Reviews).await.expect("count"), 2);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_answer_then_a_valid_one_completes() {
    let env = Env::new(three_commit_repo);
    env.append_config("\n[llm.prices.\"*\"]\ninput = 2.0\ncache_read = 1.0\noutput = 10.0\n");
    let script = otherwise_silent(
        FakeScript::new()
            .push(
                "resource",
                FakeAnswer::text("Sure! Here are the findings: {not json"),
            )
            .push(
                "resource",
                FakeAnswer::json(
                    json!({"findings": [finding(3, 26, "low", "message could be clearer")]}),
                ),
            ),
    );
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~3..", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = stdout_json(&output);
    assert_eq!(document["review"]["status"], "finished");
    assert_eq!(
        document["findings"][0]["problem"],
        "message could be clearer"
    );
    let resource = document["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["name"] == "resource")
        .expect("resource stage reported");
    assert_eq!(resource["repairs"], 1);
    // Every answer is metered, the rejected one too: 7 finder stages, 1
    // repair round, 1 verification, 1 report (wording the one finding);
    // the cost follows the price table.
    assert_eq!(document["usage"]["requests"], 10);
    let input = document["usage"]["input_tokens"].as_f64().expect("input");
    let cached = document["usage"]["cached_tokens"].as_f64().expect("cached");
    let output_tokens = document["usage"]["output_tokens"].as_f64().expect("output");
    let expected_cost = (input * 2.0 + cached * 1.0 + output_tokens * 10.0) / 1_000_000.0;
    let cost = document["usage"]["cost_usd"]
        .as_f64()
        .expect("a price is configured");
    assert!(
        (cost - expected_cost).abs() < 1e-9,
        "{cost} vs {expected_cost}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_always_fails_ends_with_exit_2_naming_stage_and_endpoint() {
    let env = Env::new(three_commit_repo);
    let script = FakeScript::new().default_answer(FakeAnswer::status(
        500,
        "{\"error\":{\"message\":\"boom\"}}",
    ));
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~3.."]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("stage "), "no stage named: {stderr}");
    assert!(
        stderr.contains(&fake.base_url()),
        "no endpoint named: {stderr}"
    );
    assert!(!stderr.contains("sk-test-never-printed"));
    let store = env.store().await;
    assert_eq!(store.count(Table::Reviews).await.expect("count"), 1);
    assert_eq!(store.count(Table::Findings).await.expect("count"), 0);
    let status = store
        .review_status(sashiko_store::ReviewId(1))
        .await
        .expect("status");
    assert_eq!(status.as_deref(), Some("failed"));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_provider_model_stages_are_skipped_and_exit_is_0() {
    let env = Env::new(three_commit_repo);
    let output = env.review(None, &["HEAD~3.."]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("Skipped (no model configured, NOT checked): intent, flow, resource, locking, security, hardware, style, verify, report\n"), "{text}");
    assert!(
        text.contains("SASHIKO_LLM_PROVIDER"),
        "no configuration hint: {text}"
    );
    let json_output = env.review(None, &["HEAD~3..", "--format", "json"]);
    let document = stdout_json(&json_output);
    let skipped: Vec<&str> = document["skipped_stages"]
        .as_array()
        .expect("list")
        .iter()
        .map(|s| s["name"].as_str().expect("name"))
        .collect();
    assert!(
        skipped.contains(&"resource") && skipped.contains(&"verify") && skipped.contains(&"report"),
        "{skipped:?}"
    );
    assert!(document["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .any(|s| s["name"] == "prescan" && s["state"] == "ran"));
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_are_merged_with_a_consensus_count() {
    let env = Env::new(three_commit_repo);
    let both_runs = finding(1, 6, "high", "buf is never freed on any path");
    let first_only = finding(2, 17, "medium", "only the first run says this");
    let script = otherwise_silent(
        FakeScript::new()
            .push(
                "resource",
                FakeAnswer::json(json!({"findings": [both_runs, first_only]})),
            )
            .push(
                "resource",
                FakeAnswer::json(
                    json!({"findings": [finding(1, 7, "high", "buf leaks: never freed")]}),
                ),
            ),
    );
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(
        Some(&fake.base_url()),
        &[
            "HEAD~3..",
            "--format",
            "json",
            "--runs",
            "2",
            "--min-consensus",
            "2",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = stdout_json(&output);
    let findings = document["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["consensus"], 2);
    assert_eq!(findings[0]["problem"], "buf is never freed on any path");
    assert_eq!(
        fake.requests_for("resource").len(),
        2,
        "one request per run"
    );
}

/// A tree with a MAINTAINERS file and one networking driver commit.
fn networking_repo(dir: &Path) {
    init_repo(dir);
    std::fs::write(
        dir.join("MAINTAINERS"),
        "NETWORKING DRIVERS\nL:\tnetdev@vger.kernel.org\nF:\tdrivers/net/\n\nSCSI\nF:\tdrivers/scsi/\n",
    )
    .expect("write");
    std::fs::create_dir_all(dir.join("drivers/net")).expect("mkdir");
    std::fs::write(dir.join("drivers/net/e.c"), "int a;\n").expect("write");
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "base\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    std::fs::write(dir.join("drivers/net/e.c"), "int a;\nint b;\n").expect("write");
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "e: add b\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn maintainers_route_subsystem_guides_to_their_stages() {
    let env = Env::new(networking_repo);
    let mut preexisting = finding(1, 2, "medium", "b is never initialised before use");
    preexisting["file"] = json!("drivers/net/e.c");
    preexisting["preexisting"] = json!(true);
    let script = otherwise_silent(
        FakeScript::new().push("flow", FakeAnswer::json(json!({"findings": [preexisting]}))),
    );
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = stdout_json(&output);
    assert_eq!(
        document["review"]["subsystems"],
        json!(["NETWORKING DRIVERS"])
    );
    assert_eq!(document["review"]["guides"], json!(["networking"]));
    let style = fake.requests_for("style")[0].body.to_string();
    assert!(
        style.contains("reverse Christmas tree"),
        "style stage lacks the networking guide"
    );
    let locking = fake.requests_for("locking")[0].body.to_string();
    assert!(
        locking.contains("RTNL") && !locking.contains("reverse Christmas tree"),
        "guides are split by stage"
    );
    // The pre-existing bug goes to the bug database under its MAINTAINERS entry.
    let store = env.store().await;
    let rows = store
        .web_rows("test: bug subsystems", "SELECT subsystem FROM bugs", &[])
        .await
        .expect("bugs");
    let subsystems: Vec<&str> = rows
        .iter()
        .filter_map(|row| row["subsystem"].as_str())
        .collect();
    assert_eq!(subsystems, ["NETWORKING DRIVERS"]);
    store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn stages_see_the_enclosing_function_from_the_post_patch_tree() {
    let env = Env::new(|dir| {
        init_repo(dir);
        let body: String = (0..12).map(|n| format!("\tstep_{n}(d);\n")).collect();
        let source = format!("int probe(struct dev *d)\n{{\n{body}\treturn 0;\n}}\n");
        std::fs::write(dir.join("d.c"), &source).expect("write");
        git(dir, &["add", "."]);
        git(
            dir,
            &[
                "commit",
                "-q",
                "-m",
                "base\n\nSigned-off-by: Ada Dev <ada@example.org>",
            ],
        );
        std::fs::write(
            dir.join("d.c"),
            source.replace("\treturn 0;", "\tstep_new(d);\n\treturn 0;"),
        )
        .expect("write");
        git(
            dir,
            &[
                "commit",
                "-q",
                "-a",
                "-m",
                "d: add a step\n\nSigned-off-by: Ada Dev <ada@example.org>",
            ],
        );
    });
    let script = otherwise_silent(FakeScript::new());
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1.."]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let request = fake.requests_for("resource")[0].body.to_string();
    assert!(
        request.contains("context: enclosing function probe() after the patch in d.c"),
        "{request}"
    );
    assert!(
        request.contains("step_0(d);"),
        "the context carries lines the diff does not show"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_review_replays_with_the_fake_stopped() {
    let env = Env::new(three_commit_repo);
    let cassette = env.repo().join("../review.cassette.jsonl");
    let cassette = cassette.to_str().expect("utf-8 path");
    let fake = FakeLlmServer::start(scripted_findings()).await;
    let base_url = fake.base_url();
    let record = [
        ("SASHIKO_LLM_CASSETTE", cassette),
        ("SASHIKO_LLM_CASSETTE_MODE", "record"),
    ];
    let recorded = env.review_with_env(Some(&base_url), &["HEAD~3..", "--format", "json"], &record);
    assert_eq!(
        recorded.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&recorded.stderr)
    );
    fake.stop().await;
    let replay = [
        ("SASHIKO_LLM_CASSETTE", cassette),
        ("SASHIKO_LLM_CASSETTE_MODE", "replay-strict"),
    ];
    let replayed = env.review_with_env(Some(&base_url), &["HEAD~3..", "--format", "json"], &replay);
    assert_eq!(
        replayed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    let (first, second) = (stdout_json(&recorded), stdout_json(&replayed));
    assert_eq!(first["findings"], second["findings"]);
    for key in ["requests", "input_tokens", "output_tokens", "cached_tokens"] {
        assert_eq!(first["usage"][key], second["usage"][key], "usage {key}");
    }
}
