//! End to end, issue 15 case 4: a later patch that moves `mutex_lock()`
//! below the check fixes the missing unlock without rewriting the cited
//! lines; the finding was still reported. Fixed-later now follows the
//! series' end state: the function the finding is in, re-checked for lock
//! balance on every return. Rebuilt with a scripted locking stage that
//! raises the missing unlock on patch 1; a series whose patch 2 does not
//! fix it keeps the finding reported.

mod common;

use std::path::Path;

use common::{git, init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::json;

const HEADER: &str =
    "#include <linux/mutex.h>\n\nstruct foo {\n\tstruct mutex lock;\n\tint value;\n};\n\n";

/// Patch 1: lines 8-17 of foo.c; the check at 11-12 returns with the
/// lock held.
const LOCKED_RETURN: &str = "int foo_set(struct foo *foo, int value)\n{\n\tmutex_lock(&foo->lock);\n\tif (value < 0)\n\t\treturn -EINVAL;\n\tfoo->value = value;\n\tmutex_unlock(&foo->lock);\n\treturn 0;\n}\n";

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            &format!("{message}\n\nSigned-off-by: Ada Dev <ada@example.org>"),
        ],
    );
}

fn base(dir: &Path) {
    init_repo(dir);
    std::fs::write(dir.join("foo.c"), HEADER).expect("write");
    commit(dir, "foo: add the struct");
    std::fs::write(dir.join("foo.c"), format!("{HEADER}{LOCKED_RETURN}")).expect("write");
    commit(dir, "foo: add foo_set()");
}

/// Patch 2 moves mutex_lock() below the check.
fn lock_moved(dir: &Path) {
    base(dir);
    let moved = LOCKED_RETURN.replace(
        "\tmutex_lock(&foo->lock);\n\tif (value < 0)\n\t\treturn -EINVAL;\n",
        "\tif (value < 0)\n\t\treturn -EINVAL;\n\tmutex_lock(&foo->lock);\n",
    );
    assert_ne!(moved, LOCKED_RETURN);
    std::fs::write(dir.join("foo.c"), format!("{HEADER}{moved}")).expect("write");
    commit(dir, "foo: check the value before taking the lock");
}

/// Patch 2 touches foo_set() without fixing it.
fn lock_kept(dir: &Path) {
    base(dir);
    let touched = LOCKED_RETURN.replace(
        "\tfoo->value = value;\n",
        "\t/* store */\n\tfoo->value = value;\n",
    );
    std::fs::write(dir.join("foo.c"), format!("{HEADER}{touched}")).expect("write");
    commit(dir, "foo: comment the store");
}

const PROBLEM: &str =
    "foo->lock is not released on the -EINVAL return: the mutex_lock() above is never undone";

fn script() -> FakeScript {
    otherwise_silent(FakeScript::new().push(
        "locking",
        FakeAnswer::json(json!({"findings": [{
            "patch_index": 1, "file": "foo.c", "line_start": 11, "line_end": 12,
            "severity": "high", "problem": PROBLEM,
            "severity_explanation": "the next foo_set() deadlocks", "preexisting": false
        }]})),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_patch_moving_the_lock_fixes_the_missing_unlock() {
    let env = Env::new(lock_moved);
    let fake = FakeLlmServer::start(script()).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~2..", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "nothing reported: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = stdout_json(&output);
    assert_eq!(document["findings"], json!([]), "{document:#}");
    let fixed_later = document["fixed_later"].as_array().expect("fixed_later");
    assert_eq!(fixed_later.len(), 1, "{document:#}");
    assert_eq!(fixed_later[0]["problem"], PROBLEM);
    assert_eq!(
        fixed_later[0]["reason"],
        "fixed later in the series: patch 2 changes foo_set(), and in the series' end state it passes the re-check of lock balance on every return: foo->lock released on every return"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_later_patch_that_does_not_fix_it_leaves_it_reported() {
    let env = Env::new(lock_kept);
    let fake = FakeLlmServer::start(script()).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~2..", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the high finding is reported"
    );
    let document = stdout_json(&output);
    assert_eq!(document["fixed_later"], json!([]), "{document:#}");
    let problems: Vec<&str> = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["problem"].as_str())
        .collect();
    assert_eq!(problems, [PROBLEM]);
}
