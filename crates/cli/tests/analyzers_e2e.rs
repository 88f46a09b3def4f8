//! End to end, issue 16's acceptance: the real binary reviews, with no
//! model, the patch that returns -EINVAL from `__anon_vma_prepare()` with
//! `mm->page_table_lock` held and logs with `printk(KERN_ERR ...)`, on the
//! ../shared kernel tree (skipped with a message when absent). The tree's
//! Coccinelle reports the missing unlock at mm/rmap.c:214 and its
//! checkpatch.pl the printk at 213; the warning the tree already had
//! (atomic_as_refcounter at line 2380) is not blamed on the patch. Without
//! spatch on PATH the coccinelle stage is skipped with the reason.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{git, init_repo, stdout_json, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::{json, Value};

fn tarball() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/kernel/linux-6.1.20-core.tar.xz");
    path.is_file().then_some(path)
}

/// Where `program` is on PATH.
fn which(program: &str) -> Option<PathBuf> {
    let output = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .ok()?;
    let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
}

/// The kernel subset as one commit, then the acceptance patch on top.
fn kernel_with_rmap_patch(repo: &Path) {
    let Some(tarball) = tarball() else {
        return;
    };
    let status = Command::new("tar")
        .args(["xJf"])
        .arg(&tarball)
        .args(["--strip-components=1", "-C"])
        .arg(repo)
        .status()
        .expect("tar runs");
    assert!(status.success());
    init_repo(repo);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "Linux 6.1.20 (subset)"]);
    let path = repo.join("mm/rmap.c");
    let text = std::fs::read_to_string(&path).expect("mm/rmap.c");
    let lock = "\tspin_lock(&mm->page_table_lock);\n";
    assert_eq!(text.matches(lock).count(), 1);
    let patched = text.replacen(
        lock,
        &format!("{lock}\tif (vma->anon_vma && vma->anon_vma != anon_vma) {{\n\t\tprintk(KERN_ERR \"anon_vma mismatch\\n\");\n\t\treturn -EINVAL;\n\t}}\n"),
        1,
    );
    std::fs::write(&path, patched).expect("write");
    git(
        repo,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "mm/rmap: reject a mismatched anon_vma\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
}

fn findings(document: &Value) -> Vec<(String, u64, String)> {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|finding| {
            (
                finding["stage"].as_str().expect("stage").to_owned(),
                finding["line_start"].as_u64().expect("line"),
                finding["problem"].as_str().expect("problem").to_owned(),
            )
        })
        .collect()
}

fn stage<'a>(document: &'a Value, name: &str) -> &'a Value {
    document["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|stage| stage["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name}"))
}

#[test]
fn the_rmap_patch_gets_the_trees_own_analyzer_findings_without_a_model() {
    if tarball().is_none() {
        eprintln!("SKIPPED the_rmap_patch_gets_the_trees_own_analyzer_findings: ../shared/kernel/linux-6.1.20-core.tar.xz not found");
        return;
    }
    let (Some(perl), Some(_)) = (which("perl"), which("spatch")) else {
        eprintln!("SKIPPED the_rmap_patch_gets_the_trees_own_analyzer_findings: spatch or perl is not installed (Debian packages coccinelle, perl)");
        return;
    };
    let env = Env::new(kernel_with_rmap_patch);
    // A budget no busy test machine runs out of: what is checked here must
    // not depend on the load (the budget has its own tests).
    env.append_config(
        "[review.analyzers]\nwall_secs = 900\ncpu_secs = 900\nscript_timeout_secs = 300\n",
    );
    let output = env.review(None, &["HEAD~1..", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = stdout_json(&output);
    let found = findings(&document);
    let cocci: Vec<&(String, u64, String)> = found.iter().filter(|f| f.0 == "coccinelle").collect();
    assert_eq!(
        cocci,
        vec![&(
            "coccinelle".to_owned(),
            214,
            "Coccinelle (locks/mini_lock.cocci) reports: preceding lock on line 211".to_owned()
        )],
        "only the new missing unlock, not the warning the tree already had: {found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(stage, line, problem)| stage == "checkpatch"
                && *line == 213
                && problem.starts_with("checkpatch (PREFER_PR_LEVEL) reports: Prefer")),
        "{found:?}"
    );
    assert!(found.iter().all(|(_, line, _)| *line < 2000), "{found:?}");
    let cocci_stage = stage(&document, "coccinelle");
    assert_eq!(cocci_stage["state"], "ran");
    let summary = cocci_stage["notes"][0].as_str().expect("a summary note");
    assert!(
        summary.starts_with("spatch 1.")
            && summary.contains("locks/mini_lock.cocci")
            && summary.contains("s wall"),
        "{summary}"
    );
    assert!(stage(&document, "checkpatch")["notes"][0]
        .as_str()
        .is_some_and(|note| note.starts_with("scripts/checkpatch.pl of the tree at")));

    // The text report names the tools and says what ran; the inline reply
    // names the tool.
    let text_output = env.review(None, &["HEAD~1.."]);
    let text = String::from_utf8_lossy(&text_output.stdout);
    assert!(text.contains("\ncoccinelle: spatch 1."), "{text}");
    assert!(
        text.contains("\nCoccinelle (locks/mini_lock.cocci) reports: preceding lock on line 211\n"),
        "{text}"
    );

    // Without spatch on PATH: the coccinelle stage is skipped, with the
    // reason, and says so in the text; checkpatch still runs.
    let perl_only = tempfile::tempdir().expect("tempdir");
    std::os::unix::fs::symlink(&perl, perl_only.path().join("perl")).expect("symlink");
    let path = perl_only.path().display().to_string();
    let skipped = env.review_with_env(None, &["HEAD~1..", "--format", "json"], &[("PATH", &path)]);
    let document = stdout_json(&skipped);
    let cocci_stage = stage(&document, "coccinelle");
    assert_eq!(cocci_stage["state"], "skipped");
    assert_eq!(
        cocci_stage["reason"],
        "spatch (spatch) is not installed (Debian package coccinelle)"
    );
    assert!(findings(&document).iter().all(|f| f.0 != "coccinelle"));
    assert!(findings(&document)
        .iter()
        .any(|f| f.0 == "checkpatch" && f.1 == 213));
    let skipped_text = env.review_with_env(None, &["HEAD~1.."], &[("PATH", &path)]);
    assert!(String::from_utf8_lossy(&skipped_text.stdout).contains(
        "Skipped, NOT checked: coccinelle (spatch (spatch) is not installed (Debian package coccinelle))"
    ));
}

/// The verify stage's decisions: every candidate id dropped, with `reason`.
fn drop_all(reason: &str) -> FakeAnswer {
    let decisions: Vec<Value> = (1..=6)
        .map(|id| json!({"id": format!("F{id}"), "action": "drop", "reason": reason}))
        .collect();
    FakeAnswer::json(json!({ "decisions": decisions }))
}

#[tokio::test]
async fn with_a_model_the_stages_see_the_analyzers_and_verify_drops_only_with_a_reason() {
    if tarball().is_none() {
        eprintln!("SKIPPED with_a_model_the_stages_see_the_analyzers: ../shared/kernel/linux-6.1.20-core.tar.xz not found");
        return;
    }
    if which("perl").is_none() || which("spatch").is_none() {
        eprintln!(
            "SKIPPED with_a_model_the_stages_see_the_analyzers: spatch or perl is not installed"
        );
        return;
    }
    let env = Env::new(kernel_with_rmap_patch);
    env.append_config("[review.analyzers]\nwall_secs = 900\ncpu_secs = 900\nscript_timeout_secs = 300\nscripts = [\"locks/\"]\n");
    for (reason, analyzer_findings) in [("", 3), ("the caller unlocks on this path", 0)] {
        // A model that finds nothing itself and drops every candidate.
        let server = FakeLlmServer::start(
            FakeScript::new()
                .stage_default("verify", drop_all(reason))
                .stage_default("report", FakeAnswer::json(json!({"comments": []})))
                .default_answer(FakeAnswer::json(json!({"findings": []}))),
        )
        .await;
        let output = env.review(Some(&server.base_url()), &["HEAD~1..", "--format", "json"]);
        let document = stdout_json(&output);
        let kept = findings(&document)
            .into_iter()
            .filter(|(stage, _, _)| stage == "checkpatch" || stage == "coccinelle")
            .count();
        assert_eq!(
            kept, analyzer_findings,
            "verify reason {reason:?}: {document}"
        );
        // Every finder stage saw the tools' output in its shared prefix,
        // inside an untrusted block.
        let locking = server.requests_for("locking");
        let body =
            serde_json::to_string(&locking.first().expect("a locking request").body).expect("json");
        let begin = body
            .find("BEGIN Coccinelle output>>>")
            .expect("the Coccinelle block");
        assert!(body[begin.saturating_sub(40)..begin].contains("<<<UNTRUSTED "));
        assert!(
            body[begin..].contains("preceding lock on line 211"),
            "{body}"
        );
        assert!(body.contains("BEGIN checkpatch output>>>"));
        server.stop().await;
    }
}
