//! Issue 14's acceptance on the real Linux 6.1.20 subset in
//! ../shared/kernel: the real binary reviews a two-patch series with
//! `sashiko review HEAD~2..` inside the unpacked tree, against the fake
//! model, and the requests the model received are checked.
//!
//! - patch 1 returns `-EINVAL` with `mm->page_table_lock` held in
//!   `__anon_vma_prepare()` (mm/rmap.c);
//! - patch 2 drops the `kfree(sbi)` of `ext4_alloc_sbi()`'s error path
//!   (fs/ext4/super.c).
//!
//! Both enclosing functions must be in the shared prefix of every finder
//! request, and callers of `__anon_vma_prepare()` outside mm/ (the
//! `anon_vma_prepare()` wrapper in include/linux/rmap.h) must be found by
//! the whole-tree lookup. Skips with a message when ../shared is absent.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{git, init_repo, otherwise_silent, Env};
use sashiko_llm_fake::{FakeLlmServer, FakeScript};
use serde_json::Value;

fn tarball() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/kernel/linux-6.1.20-core.tar.xz")
}

/// Replace `old` (which must occur once) by `new` in `path` of `repo`.
fn edit(repo: &Path, path: &str, old: &str, new: &str) {
    let file = repo.join(path);
    let text = std::fs::read_to_string(&file).expect("a file of the tree");
    assert_eq!(text.matches(old).count(), 1, "{old:?} in {path}");
    std::fs::write(&file, text.replacen(old, new, 1)).expect("write");
}

/// The 6.1.20 subset as one commit, then the two patches.
fn kernel_series(repo: &Path) {
    let status = Command::new("tar")
        .args(["--strip-components=1", "-xJf"])
        .arg(tarball())
        .arg("-C")
        .arg(repo)
        .status()
        .expect("tar runs");
    assert!(status.success(), "unpacking the kernel subset");
    init_repo(repo);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "Linux 6.1.20 (subset)"]);
    edit(
        repo,
        "mm/rmap.c",
        "\tspin_lock(&mm->page_table_lock);\n\tif (likely(!vma->anon_vma)) {\n",
        "\tspin_lock(&mm->page_table_lock);\n\tif (vma->vm_flags & VM_SHARED)\n\t\treturn -EINVAL;\n\tif (likely(!vma->anon_vma)) {\n",
    );
    git(
        repo,
        &[
            "commit",
            "-q",
            "-am",
            "mm/rmap: refuse shared mappings early",
        ],
    );
    edit(
        repo,
        "fs/ext4/super.c",
        "\tfs_put_dax(sbi->s_daxdev, NULL);\n\tkfree(sbi);\n\treturn NULL;\n",
        "\tfs_put_dax(sbi->s_daxdev, NULL);\n\treturn NULL;\n",
    );
    git(
        repo,
        &[
            "commit",
            "-q",
            "-am",
            "ext4: simplify ext4_alloc_sbi() error path",
        ],
    );
}

/// The text of the shared prefix of a chat request: the system prompt and
/// the first user message (the series and the shared context).
fn shared_prefix(body: &Value) -> String {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    let mut text = String::new();
    for message in messages.iter().take(2) {
        match &message["content"] {
            Value::String(content) => text.push_str(content),
            other => text.push_str(&other.to_string()),
        }
        text.push('\n');
    }
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn both_enclosing_functions_are_shared_and_callers_outside_mm_are_found() {
    if !tarball().exists() {
        eprintln!("skipped: ../shared/kernel/linux-6.1.20-core.tar.xz is absent");
        return;
    }
    let env = Env::new(kernel_series);
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~2..", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    let requests = fake.requests();
    let finders: Vec<_> = requests
        .iter()
        .filter(|request| !matches!(request.stage.as_str(), "verify" | "report" | ""))
        .collect();
    assert!(finders.len() >= 5, "{} finder requests", finders.len());
    for request in &finders {
        let prefix = shared_prefix(&request.body);
        for wanted in [
            "enclosing function __anon_vma_prepare() after the patch",
            "enclosing function ext4_alloc_sbi() after the patch",
            "return -EINVAL;",
        ] {
            assert!(
                prefix.contains(wanted),
                "{wanted:?} is not in the shared prefix of stage {}",
                request.stage
            );
        }
    }
    // The whole-tree lookup found the caller in include/linux/rmap.h.
    let bodies: Vec<String> = requests.iter().map(|r| r.body.to_string()).collect();
    assert!(
        bodies.iter().any(|body| body
            .contains("anon_vma_prepare() calls __anon_vma_prepare()")
            && body.contains("include/linux/rmap.h")),
        "no request shows the caller of __anon_vma_prepare() in include/linux/rmap.h; stderr: {stderr}"
    );
    // The notes say how definitions and callers were looked up.
    assert!(
        stderr.contains("note: identifier index of tree") && stderr.contains("built"),
        "stderr: {stderr}"
    );
    assert!(!stderr.contains("tree scan stopped"), "stderr: {stderr}");
    eprintln!("{stderr}");
    fake.stop().await;
}
