//! End to end: the real binary reviews a real git repository against the
//! fake model, which calls the repository tools. Context without tool
//! turns (definitions, callers, one shared prefix), findings grounded in
//! what the tools returned, refusals of escapes, options and revisions
//! past the baseline, and an endless tool loop stopped by its budget.

mod common;

use std::path::Path;

use common::{git, init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::{json, Value};

const HEADER: &str = "#define WIDGET_MAX 8\n\nstruct widget {\n\tint items[WIDGET_MAX];\n};\n\nint widget_count(struct widget *w);\n";
const HELPER: &str = "#include <linux/widget.h>\n\nint widget_count(struct widget *w)\n{\n\treturn w->items[0];\n}\n\nvoid widget_reset(struct widget *w)\n{\n\tw->items[WIDGET_MAX] = 0;\n}\n";
const DRIVER_BEFORE: &str = "#include <linux/widget.h>\n\nstatic int widget_probe(struct widget *w)\n{\n\treturn 0;\n}\n\nint widget_init(struct widget *w)\n{\n\treturn widget_probe(w);\n}\n";
const DRIVER_AFTER: &str = "#include <linux/widget.h>\n\nstatic int widget_probe(struct widget *w)\n{\n\tint n = widget_count(w);\n\n\treturn n > WIDGET_MAX ? -EINVAL : 0;\n}\n\nint widget_init(struct widget *w)\n{\n\treturn widget_probe(w);\n}\n";

fn widget_repo(dir: &Path) {
    init_repo(dir);
    for (path, text) in [
        ("include/linux/widget.h", HEADER),
        ("lib/helper.c", HELPER),
        ("drivers/widget.c", DRIVER_BEFORE),
    ] {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "widget: base\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    std::fs::write(dir.join("drivers/widget.c"), DRIVER_AFTER).expect("write");
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "widget: count items in probe\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
}

fn preexisting(file: &str, line: u32, problem: &str) -> Value {
    json!({
        "patch_index": 1, "file": file, "line_start": line, "line_end": line,
        "severity": "high", "problem": problem,
        "severity_explanation": "scripted", "preexisting": true
    })
}

fn head_id(env: &Env) -> String {
    let output = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env.repo())
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The report of stage `name` in a JSON document.
fn stage<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("stage {name} not reported"))
}

fn assert_exit(output: &std::process::Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The text of every tool result the fake received for `stage`.
fn tool_results(fake: &FakeLlmServer, stage: &str) -> Vec<String> {
    let mut results: Vec<String> = Vec::new();
    for request in fake.requests_for(stage) {
        for message in request.body["messages"].as_array().into_iter().flatten() {
            if message["role"] == "tool" {
                let content = message["content"].as_str().unwrap_or("").to_owned();
                if !results.contains(&content) {
                    results.push(content);
                }
            }
        }
    }
    results
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_reads_before_reporting_is_kept_and_one_citing_unread_lines_is_dropped() {
    let env = Env::new(widget_repo);
    let series_commit = head_id(&env);
    let script = otherwise_silent(
        FakeScript::new()
            .push("locking", FakeAnswer::tool_call("grep", json!({"pattern": "WIDGET_MAX\\]", "path": "lib"})))
            .push("locking", FakeAnswer::tool_call("read_file", json!({"path": "lib/helper.c"})))
            .push("locking", FakeAnswer::tool_call("read_file", json!({"path": "../../etc/passwd"})))
            .push("locking", FakeAnswer::tool_call("read_file", json!({"path": "--output=/tmp/pwned"})))
            .push("locking", FakeAnswer::tool_call("git_show", json!({"rev": series_commit})))
            .push(
                "locking",
                FakeAnswer::json(json!({"findings": [
                    preexisting("lib/helper.c", 10, "widget_reset writes one past the end of items"),
                    preexisting("lib/never_read.c", 3, "a bug in a file no tool returned"),
                ]})),
            ),
    );
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "a high finding: {stderr}");
    let document = stdout_json(&output);
    let problems: Vec<&str> = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["problem"].as_str().expect("problem"))
        .collect();
    assert_eq!(
        problems,
        vec!["widget_reset writes one past the end of items"]
    );
    assert_eq!(document["findings"][0]["preexisting"], true);
    assert_eq!(document["dropped"]["unanchored"], 1);

    let results = tool_results(&fake, "locking");
    assert_eq!(results.len(), 5, "{results:#?}");
    assert!(
        results[0].contains("<<<UNTRUSTED ") && results[0].contains("lib/helper.c:10:"),
        "{}",
        results[0]
    );
    assert!(
        results[1].contains("   10 \tw->items[WIDGET_MAX] = 0;"),
        "{}",
        results[1]
    );
    assert!(
        results[2].contains("uses `..`") && !results[2].contains("root:"),
        "{}",
        results[2]
    );
    assert!(results[3].contains("command-line option"), "{}", results[3]);
    assert!(
        results[4].contains("not the review's baseline or one of its ancestors"),
        "{}",
        results[4]
    );
    assert!(!Path::new("/tmp/pwned").exists());
    let locking = stage(&document, "locking");
    let notes = locking["notes"].to_string();
    assert!(notes.contains("tools: 5 call(s) in 6 turn(s)"), "{notes}");
    assert!(
        notes.contains("budget: 32000 input tokens (default budget)"),
        "{notes}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn context_carries_definitions_and_callers_and_the_prefix_is_one_for_every_stage() {
    let env = Env::new(widget_repo);
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;
    let output = env.review(
        Some(&fake.base_url()),
        &["HEAD~1..", "--format", "json", "--no-tools"],
    );
    assert_exit(&output, 0);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no definition found within the search bound for: EINVAL"),
        "{stderr}"
    );
    let requests = fake.requests();
    let prefix = |request: &sashiko_llm_fake::RecordedRequest| {
        request.body["messages"][1]["content"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    let first = prefix(&requests[0]);
    for needle in [
        "context: enclosing function widget_probe() after the patch in drivers/widget.c",
        "context: definition of macro WIDGET_MAX in include/linux/widget.h",
        "context: definition of widget_count() in lib/helper.c",
    ] {
        assert!(first.contains(needle), "{needle} missing from\n{first}");
    }
    assert!(
        !first.contains("calls widget_probe()"),
        "callers are not shared context"
    );
    assert!(
        requests.iter().all(|r| prefix(r) == first),
        "one shared prefix for every stage"
    );
    let flow = &fake.requests_for("flow")[0];
    let flow_own = flow.body["messages"][2]["content"].as_str().unwrap_or("");
    assert!(
        flow_own
            .contains("context: widget_init() calls widget_probe() (line 12) in drivers/widget.c"),
        "{flow_own}"
    );
    let style = &fake.requests_for("style")[0];
    assert!(!style.body["messages"][2]["content"]
        .as_str()
        .unwrap_or("")
        .contains("calls widget_probe()"));
    assert!(flow.body.get("tools").is_none(), "--no-tools offers none");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_tool_loop_is_stopped_by_its_budget_and_the_review_finishes() {
    let env = Env::new(widget_repo);
    let script = otherwise_silent(
        FakeScript::new()
            .stage_default(
                "locking",
                FakeAnswer::tool_call("grep", json!({"pattern": "widget"})),
            )
            .without_tools_default("locking", FakeAnswer::json(json!({"findings": []}))),
    );
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    assert_exit(&output, 0);
    let document = stdout_json(&output);
    assert_eq!(document["review"]["status"], "finished");
    let locking = stage(&document, "locking");
    assert!(
        locking["notes"]
            .to_string()
            .contains("stopped: the same grep call was repeated"),
        "{}",
        locking["notes"]
    );
    // Three looping turns, then one final request without tools.
    let requests = fake.requests_for("locking");
    assert_eq!(requests.len(), 4);
    assert!(requests[3].body.get("tools").is_none());
}

/// A series touching three files of generated code.
fn wide_repo(dir: &Path) {
    init_repo(dir);
    std::fs::create_dir_all(dir.join("drivers")).expect("mkdir");
    for name in ["a", "b", "c"] {
        std::fs::write(dir.join(format!("drivers/{name}.c")), "int placeholder;\n").expect("write");
    }
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "wide: base\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    for name in ["a", "b", "c"] {
        let body: String = (0..150)
            .map(|n| format!("int {name}_value_{n} = compute_{name}({n}, {n} * 2);\n"))
            .collect();
        std::fs::write(dir.join(format!("drivers/{name}.c")), body).expect("write");
    }
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "wide: fill\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_series_over_the_configured_budget_is_reviewed_in_parts_with_a_note() {
    let env = Env::new(wide_repo);
    env.append_config("\n[review.budget]\ndefault_tokens = 5000\n");
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("does not fit the smallest stage budget"),
        "{stderr}"
    );
    let document = stdout_json(&output);
    let style = stage(&document, "style");
    let notes: Vec<&str> = style["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let parts = notes
        .iter()
        .filter(|n| n.starts_with("reviewed part "))
        .count();
    assert!(parts >= 2, "{notes:#?}");
    assert!(
        notes.contains(&"budget: 5000 input tokens (default budget)"),
        "{notes:#?}"
    );
    let requests = fake.requests_for("style");
    assert_eq!(requests.len(), parts, "one request per part");
    let mut files_seen = std::collections::BTreeSet::new();
    for request in &requests {
        let series = request.body["messages"][1]["content"]
            .as_str()
            .unwrap_or("");
        for name in ["a", "b", "c"] {
            if series.contains(&format!("+++ b/drivers/{name}.c")) {
                files_seen.insert(name);
            }
        }
        let own = request.body["messages"][2]["content"]
            .as_str()
            .unwrap_or("");
        assert!(own.contains("This request shows only part "), "{own}");
    }
    assert_eq!(files_seen.len(), 3, "every file reviewed in some part");
}
