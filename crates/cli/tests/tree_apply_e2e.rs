//! `sashiko review series.mbox` inside a kernel tree applies the series as
//! the worker does (issue 15, item 6; issue 14, "series that do not
//! apply"): on its `base-commit:` when the tree holds it, else on HEAD or
//! `--base`, as is, 3-way or with fuzz, in a scratch repository; the
//! stages get the post-patch context; how the series was applied, or that
//! it was not, is in the text and JSON output and stored with the review.

mod common;

use std::path::Path;
use std::process::Command;

use common::{git, init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeLlmServer, FakeScript};
use sashiko_store::ReviewId;

fn stdout_of(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn probe_source() -> String {
    let body: String = (0..12).map(|n| format!("\tstep_{n}(d);\n")).collect();
    format!("int probe(struct dev *d)\n{{\n{body}\treturn 0;\n}}\n")
}

const RMAP: &str = "/*\n * Lock ordering in mm:\n *\n * inode->i_rwsem\n *   mm->mmap_lock\n *     folio_lock\n */\nint rmap_placeholder;\n";

/// A tree whose HEAD moved past the series' base: the mail names the base
/// in `base-commit:`; HEAD changed a context line of the patch.
fn moved_tree(dir: &Path) {
    init_repo(dir);
    std::fs::create_dir_all(dir.join("mm")).expect("mkdir");
    std::fs::write(dir.join("mm/rmap.c"), RMAP).expect("write");
    std::fs::write(dir.join("d.c"), probe_source()).expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    std::fs::write(
        dir.join("d.c"),
        probe_source().replace("\treturn 0;", "\tstep_new(d);\n\treturn 0;"),
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
    let mail = stdout_of(
        dir,
        &[
            "format-patch",
            "-1",
            "--stdout",
            "--base=HEAD~1",
            "--add-header=Message-ID: <step-1@example.org>",
        ],
    );
    std::fs::write(dir.join("../step.mbox"), mail + "\n").expect("write");
    git(dir, &["reset", "-q", "--hard", "HEAD~1"]);
    std::fs::write(
        dir.join("d.c"),
        probe_source().replace("\tstep_9(d);", "\tstep_9(d, 1);"),
    )
    .expect("write");
    git(dir, &["commit", "-q", "-a", "-m", "d: step 9 takes a flag"]);
}

fn review_json(env: &Env, fake: &FakeLlmServer, args: &[&str]) -> serde_json::Value {
    let output = env.review(Some(&fake.base_url()), args);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout_json(&output)
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_reviewed_in_a_tree_is_applied_on_its_base_commit_else_3_way_on_the_given_base() {
    let env = Env::new(moved_tree);
    let repo = env.repo();
    let base = stdout_of(&repo, &["rev-parse", "HEAD~1"]);
    let head = stdout_of(&repo, &["rev-parse", "HEAD"]);
    let mbox = repo.join("../step.mbox").display().to_string();
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;

    // On the base-commit the mail names: the stages see the post-patch
    // function, lock order has the tree's hierarchy.
    let document = review_json(&env, &fake, &[&mbox, "--format", "json"]);
    let tree = &document["review"]["tree"];
    assert_eq!(tree["status"], "base_commit", "{document:#}");
    assert_eq!(tree["base"], base.as_str());
    let request = fake.requests_for("resource")[0].body.to_string();
    assert!(
        request.contains("context: enclosing function probe() after the patch in d.c"),
        "{request}"
    );
    assert!(request.contains("step_new(d);"), "{request}");
    let lock_order = document["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|stage| stage["name"] == "lock-order")
        .expect("lock-order stage")
        .clone();
    let reason = lock_order["reason"].as_str().unwrap_or("");
    assert!(
        !reason.contains("no reviewed tree") && !reason.contains(" has no "),
        "the hierarchy is read from the applied tree: {lock_order:#}"
    );
    let store = env.store().await;
    let id = ReviewId(document["review"]["id"].as_i64().expect("id"));
    let stored = store.review_tree(id).await.expect("read").expect("stored");
    assert_eq!(stored.status, "base_commit");
    assert_eq!(stored.base.as_deref(), Some(base.as_str()));
    store.close().await;

    // --base overrides: HEAD changed a context line, so the patch is
    // merged 3-way (the tree has the blob the author changed), and the
    // text output says so.
    fake.set_script(otherwise_silent(FakeScript::new()));
    let output = env.review(Some(&fake.base_url()), &[&mbox, "--base", "HEAD"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = String::from_utf8_lossy(&output.stdout);
    let short = &head[..12];
    assert!(
        text.contains(&format!(
            "Tree: applied on {short} (HEAD, given with --base); patch 1 with a 3-way merge"
        )),
        "{text}"
    );
    let request = fake
        .requests_for("resource")
        .last()
        .expect("a resource request")
        .body
        .to_string();
    assert!(request.contains("step_9(d, 1);"), "HEAD's code: {request}");
    assert!(request.contains("step_new(d);"), "{request}");
    // The tree was only read.
    assert_eq!(stdout_of(&repo, &["rev-parse", "HEAD"]), head);
    assert_eq!(stdout_of(&repo, &["status", "--porcelain"]), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_series_that_does_not_apply_is_reviewed_without_tree_context_and_says_so() {
    let env = Env::new(moved_tree);
    let repo = env.repo();
    // The patch's context right next to its change is a line no version
    // of the tree has (beyond what fuzz may ignore), and the mail names a
    // base-commit the tree lacks.
    let mbox = std::fs::read_to_string(repo.join("../step.mbox"))
        .expect("mbox")
        .replace("\tstep_11(d);", "\tstep_11(e);");
    let mbox = regex_free_base_commit(&mbox);
    std::fs::write(repo.join("../broken.mbox"), mbox).expect("write");
    let broken = repo.join("../broken.mbox").display().to_string();
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;
    let document = review_json(&env, &fake, &[&broken, "--format", "json"]);
    let tree = &document["review"]["tree"];
    assert_eq!(tree["status"], "not_applied", "{tree:#}");
    let note = tree["note"].as_str().unwrap_or("");
    assert!(
        note.starts_with("reviewed without tree context: no tree context from"),
        "{note}"
    );
    assert!(note.contains("patch 1 does not apply to"), "{note}");
    assert!(note.contains("3-way: "), "{note}");
    let request = fake.requests_for("resource")[0].body.to_string();
    assert!(
        !request.contains("context: enclosing function"),
        "no tree context: {request}"
    );

    // Outside any repository: no tree, said as such.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let document = review_json(
        &env,
        &fake,
        &[
            &broken,
            "--repo",
            &elsewhere.path().display().to_string(),
            "--format",
            "json",
        ],
    );
    assert_eq!(
        document["review"]["tree"]["status"], "no_tree",
        "{document:#}"
    );
}

/// The mail with its `base-commit:` replaced by one no tree holds.
fn regex_free_base_commit(mbox: &str) -> String {
    mbox.lines()
        .map(|line| {
            if line.starts_with("base-commit: ") {
                "base-commit: 0123456789abcdef0123456789abcdef01234567".to_owned()
            } else {
                line.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// A tree whose HEAD moved on after a two-patch series was mailed with a
/// cover letter naming its base in `base-commit:`.
fn series_tree(dir: &Path) {
    init_repo(dir);
    std::fs::write(dir.join("d.c"), probe_source()).expect("write");
    std::fs::write(dir.join("e.c"), "int e;\n").expect("write");
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "base"]);
    for (step, message) in [
        ("step_new", "d: add a step"),
        ("step_newer", "d: add another step"),
    ] {
        let current = std::fs::read_to_string(dir.join("d.c")).expect("read");
        std::fs::write(
            dir.join("d.c"),
            current.replace("\treturn 0;", &format!("\t{step}(d);\n\treturn 0;")),
        )
        .expect("write");
        git(
            dir,
            &[
                "commit",
                "-q",
                "-a",
                "-m",
                &format!("{message}\n\nSigned-off-by: Ada Dev <ada@example.org>"),
            ],
        );
    }
    let mail = stdout_of(
        dir,
        &[
            "format-patch",
            "-2",
            "--stdout",
            "--cover-letter",
            "--base=HEAD~2",
            "--thread",
        ],
    );
    std::fs::write(dir.join("../series.mbox"), mail + "\n").expect("write");
    git(dir, &["reset", "-q", "--hard", "HEAD~2"]);
    std::fs::write(dir.join("e.c"), "int e = 1;\n").expect("write");
    git(dir, &["commit", "-q", "-a", "-m", "e: initialise"]);
}

/// Issue 15, case 6, for a mailed series: `sashiko review series.mbox`
/// inside the tree applies the whole series on the cover letter's
/// `base-commit:` (HEAD has moved on) in a scratch repository, so the
/// stages get the post-series code; it never asks for `--base`.
#[tokio::test(flavor = "multi_thread")]
async fn a_mailed_series_is_applied_on_the_base_commit_its_cover_letter_names() {
    let env = Env::new(series_tree);
    let repo = env.repo();
    let base = stdout_of(&repo, &["rev-parse", "HEAD~1"]);
    let head = stdout_of(&repo, &["rev-parse", "HEAD"]);
    let mbox = repo.join("../series.mbox").display().to_string();
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;
    let output = env.review(Some(&fake.base_url()), &[&mbox, "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(
        !stderr.contains("needs --base") && !stderr.contains("no repository tools"),
        "{stderr}"
    );
    let document = stdout_json(&output);
    assert_eq!(document["series"]["total"], 2, "{document:#}");
    let tree = &document["review"]["tree"];
    assert_eq!(tree["status"], "base_commit", "{document:#}");
    assert_eq!(tree["base"], base.as_str());
    let request = fake.requests_for("resource")[0].body.to_string();
    assert!(
        request.contains("step_new(d);") && request.contains("step_newer(d);"),
        "the post-series function: {request}"
    );
    assert_eq!(
        stdout_of(&repo, &["rev-parse", "HEAD"]),
        head,
        "the tree was only read"
    );
}
