//! Sashiko's benchmark format against a tiny synthetic git repository: the
//! entry's commit is formatted from the tree with git2 and reviewed by a
//! scripted fake model over real HTTP; the fix's pre-image hunks locate
//! the bug. A bad entry is reported and the others still run.

use std::path::Path;
use std::process::Command;

use sashiko_eval::bench::Source;
use sashiko_eval::kernel_bench::{load, run_kernel_bench};
use sashiko_llm::{ProviderConfig, ProviderKind};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_review::{PromptSet, ReviewOptions};
use serde_json::json;

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2025-01-02T10:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2025-01-02T10:00:00+00:00")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// Base, a commit that frees twice (lines 11-12 of mm/a.c), its fix.
fn repo_with_bug_and_fix(dir: &Path) -> (String, String) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Ada Dev"]);
    git(dir, &["config", "user.email", "ada@example.org"]);
    let mut lines: Vec<String> = (1..=30).map(|n| format!("int filler_{n};")).collect();
    std::fs::create_dir_all(dir.join("mm")).expect("mkdir");
    std::fs::write(dir.join("mm/a.c"), lines.join("\n") + "\n").expect("write");
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "a: base\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    lines.insert(10, "\tkfree(p);".to_owned());
    lines.insert(11, "\tkfree(p);".to_owned());
    std::fs::write(dir.join("mm/a.c"), lines.join("\n") + "\n").expect("write");
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "a: release p\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    let buggy = git(dir, &["rev-parse", "HEAD"]);
    lines.remove(11);
    std::fs::write(dir.join("mm/a.c"), lines.join("\n") + "\n").expect("write");
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "a: do not free p twice\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    let fix = git(dir, &["rev-parse", "HEAD"]);
    (buggy, fix)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_are_formatted_from_the_tree_reviewed_and_located() {
    let dir = tempfile::tempdir().expect("tempdir");
    let repo = dir.path().join("linux");
    std::fs::create_dir_all(&repo).expect("mkdir");
    let (buggy, fix) = repo_with_bug_and_fix(&repo);
    let bench_file = dir.path().join("benchmark.json");
    std::fs::write(
        &bench_file,
        json!([
            {"Commit": buggy, "Fixed-by": fix, "subsystem": "mm",
             "problem_description": "Double free of p in the release path."},
            {"Commit": "0000000000000000000000000000000000000bad", "Fixed-by": fix,
             "subsystem": "mm", "problem_description": "A commit the tree does not have."}
        ])
        .to_string(),
    )
    .expect("write bench file");
    let finding = json!({"findings": [{
        "patch_index": 1, "file": "mm/a.c", "line_start": 12, "line_end": 12,
        "severity": "critical", "problem": "p is freed twice", "severity_explanation": "memory corruption",
        "preexisting": false}]});
    let fake = FakeLlmServer::start(
        FakeScript::new()
            .stage_default("verify", FakeAnswer::json(json!({"decisions": []})))
            .default_answer(FakeAnswer::json(finding)),
    )
    .await;
    let config = ProviderConfig::new(ProviderKind::Openai)
        .with_base_url(fake.base_url())
        .with_model("fake-model")
        .with_api_key("sk-test");
    let client = sashiko_llm::connect(&config).expect("client");
    let prompts = PromptSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts"))
        .expect("prompts load");
    let file = load(&bench_file).expect("benchmark file loads");
    assert_eq!(file.entries.len(), 2);
    let report = run_kernel_bench(
        file,
        &repo,
        &prompts,
        client,
        Source::Fake {
            model: "fake-model".to_owned(),
        },
        &ReviewOptions::default(),
        &|_| {},
    )
    .await;
    assert_eq!(report.source, "fake:fake-model");
    assert!(report.scripted);
    assert_eq!(report.entries, 2);
    assert_eq!(report.failed, 1, "{:?}", report.problems);
    assert!(report
        .problems
        .iter()
        .any(|p| p.contains("0000000000000000000000000000000000000bad")));
    assert_eq!((report.located.successes, report.located.trials), (1, 1));
    let reviewed = &report.outcomes[0];
    assert!(reviewed.located && reviewed.error.is_none());
    assert!(reviewed.requests > 0 && reviewed.input_tokens > 0);
    // The reviewed diff is the buggy commit as git formats it.
    let sent = fake.requests();
    assert!(sent
        .iter()
        .any(|r| r.body.to_string().contains("a: release p")));
}
