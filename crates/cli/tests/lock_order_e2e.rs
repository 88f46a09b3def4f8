//! End to end: the real binary reviews a real git repository whose
//! mm/rmap.c documents a lock hierarchy (a comment written for this test,
//! in the kernel's format). A patch that takes folio_lock while holding
//! mapping->i_mmap_rwsem gets a lock-order finding at the added line with
//! the documented path; the right order gets none; a tree without
//! mm/rmap.c gets the stage reported not applicable with the reason.

mod common;

use std::path::Path;

use common::{git, init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeLlmServer, FakeScript};
use serde_json::Value;

const RMAP: &str = "// SPDX-License-Identifier: GPL-2.0-only\n/*\n * Lock ordering in mm:\n *\n * inode->i_rwsem\t(writers only)\n *   mm->mmap_lock\n *     mapping->invalidate_lock (in the fault path)\n *       folio_lock\n *         vma_start_write\n *           mapping->i_mmap_rwsem\n *             mm->page_table_lock or pte_lock\n */\n\nint rmap_placeholder;\n";

const BEFORE: &str = "// SPDX-License-Identifier: GPL-2.0-only\n#include <linux/mm.h>\n\nstatic int foo_unmap(struct address_space *mapping, struct folio *folio)\n{\n\tint ret = 0;\n\n\ti_mmap_lock_write(mapping);\n\tret = foo_walk(mapping);\n\ti_mmap_unlock_write(mapping);\n\treturn ret;\n}\n";

/// Inside the i_mmap_rwsem section: the inversion (line 9 after the patch).
const INVERTED: &str = "\ti_mmap_lock_write(mapping);\n\tfolio_lock(folio);\n\tret = foo_walk(mapping);\n\tfolio_unlock(folio);\n\ti_mmap_unlock_write(mapping);\n";

/// folio_lock first, as documented.
const IN_ORDER: &str = "\tfolio_lock(folio);\n\ti_mmap_lock_write(mapping);\n\tret = foo_walk(mapping);\n\ti_mmap_unlock_write(mapping);\n\tfolio_unlock(folio);\n";

const SECTION: &str =
    "\ti_mmap_lock_write(mapping);\n\tret = foo_walk(mapping);\n\ti_mmap_unlock_write(mapping);\n";

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "."]);
    let message = format!("{message}\n\nSigned-off-by: Ada Dev <ada@example.org>");
    git(dir, &["commit", "-q", "-m", &message]);
}

/// A tree with (or without) mm/rmap.c and a patch to mm/foo.c.
fn make_repo(dir: &Path, with_rmap: bool, section: &str) {
    init_repo(dir);
    std::fs::create_dir_all(dir.join("mm")).expect("mkdir");
    if with_rmap {
        std::fs::write(dir.join("mm/rmap.c"), RMAP).expect("write");
    }
    std::fs::write(dir.join("mm/foo.c"), BEFORE).expect("write");
    commit(dir, "mm: add foo");
    std::fs::write(dir.join("mm/foo.c"), BEFORE.replace(SECTION, section)).expect("write");
    commit(dir, "mm/foo: hold the folio lock across the walk");
}

fn inverted_repo(dir: &Path) {
    make_repo(dir, true, INVERTED);
}

fn in_order_repo(dir: &Path) {
    make_repo(dir, true, IN_ORDER);
}

fn repo_without_rmap(dir: &Path) {
    make_repo(dir, false, INVERTED);
}

fn lock_order_stage(document: &Value) -> Value {
    document["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|stage| stage["name"] == "lock-order")
        .cloned()
        .unwrap_or_else(|| panic!("no lock-order stage: {document:#}"))
}

fn lock_order_findings(document: &Value) -> Vec<Value> {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|finding| finding["stage"] == "lock-order")
        .cloned()
        .collect()
}

#[test]
fn an_inversion_is_reported_at_the_added_line_with_the_hierarchy_path() {
    let env = Env::new(inverted_repo);
    let output = env.review(None, &["HEAD~1..", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A high finding fails the review at the default --fail-on high.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let document = stdout_json(&output);
    assert_eq!(lock_order_stage(&document)["state"], "ran", "{document:#}");
    let findings = lock_order_findings(&document);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding["file"], "mm/foo.c");
    assert_eq!(finding["line_start"], 9, "{finding:#}");
    assert_eq!(finding["severity"], "high");
    assert_eq!(finding["preexisting"], false);
    let problem = finding["problem"].as_str().expect("problem");
    assert!(
        problem.contains("folio_lock -> vma_start_write -> mapping->i_mmap_rwsem"),
        "{problem}"
    );
    // The held lock's acquisition is the second location.
    assert_eq!(finding["locations"][1]["line_start"], 8, "{finding:#}");
    let evidence = &finding["evidence"][0];
    assert_eq!(evidence["kind"], "check");
    let detail = evidence["detail"].as_str().expect("detail");
    for expected in [
        "folio_lock -> vma_start_write  mm/rmap.c:9",
        "vma_start_write -> mapping->i_mmap_rwsem  mm/rmap.c:10",
        "held: mapping->i_mmap_rwsem since mm/foo.c:8 i_mmap_lock_write(mapping)",
        "acquired: folio_lock at mm/foo.c:9 folio_lock(folio)",
    ] {
        assert!(detail.contains(expected), "{expected:?} not in\n{detail}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_documented_order_is_not_reported() {
    let env = Env::new(in_order_repo);
    // A model that answers nothing: only the deterministic check speaks.
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let document = stdout_json(&output);
    let stage = lock_order_stage(&document);
    assert_eq!(stage["state"], "ran", "{stage:#}");
    let notes = stage["notes"].to_string();
    assert!(notes.contains("checked 1 changed function(s)"), "{notes}");
    assert!(lock_order_findings(&document).is_empty(), "{document:#}");
}

#[test]
fn a_tree_without_the_hierarchy_makes_the_stage_not_applicable() {
    let env = Env::new(repo_without_rmap);
    let output = env.review(None, &["HEAD~1..", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let document = stdout_json(&output);
    let stage = lock_order_stage(&document);
    assert_eq!(stage["state"], "not_applicable", "{stage:#}");
    let reason = stage["reason"].as_str().expect("reason");
    assert!(
        reason.contains("has no mm/rmap.c or mm/filemap.c"),
        "{reason}"
    );
    assert!(lock_order_findings(&document).is_empty());
}

/// Issue 15, case 5: one stage's answer stays malformed, another's carries
/// keys the schema does not allow. Each is marked failed with the reason;
/// the review goes on, prints the lock-order finding and everything else,
/// is stored as partial, and exits 2 only after printing.
#[tokio::test(flavor = "multi_thread")]
async fn a_stage_that_stays_malformed_fails_alone_and_the_review_is_partial() {
    use sashiko_llm_fake::FakeAnswer;
    let env = Env::new(inverted_repo);
    let script = || {
        otherwise_silent(
            FakeScript::new()
                .stage_default("resource", FakeAnswer::text("this is not JSON at all"))
                .stage_default(
                    "flow",
                    FakeAnswer::json(serde_json::json!({"findings": [], "verdict": "looks fine"})),
                ),
        )
    };
    let fake = FakeLlmServer::start(script()).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the review is partial"), "{stderr}");
    let document = stdout_json(&output);
    assert_eq!(document["review"]["status"], "partial", "{document:#}");
    assert_eq!(lock_order_findings(&document).len(), 1, "{document:#}");
    let failed: Vec<(String, String)> = document["failed_stages"]
        .as_array()
        .expect("failed_stages")
        .iter()
        .map(|stage| {
            (
                stage["name"].as_str().unwrap_or("").to_owned(),
                stage["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let names: Vec<&str> = failed.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["flow", "resource"], "{failed:?}");
    for (name, reason) in &failed {
        assert!(
            reason.starts_with(&format!("stage {name} failed against")),
            "{name}: {reason}"
        );
    }
    assert!(
        failed[0].1.contains("verdict"),
        "the extra key is named: {}",
        failed[0].1
    );
    let states: Vec<(&str, &str)> = document["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .map(|stage| {
            (
                stage["name"].as_str().unwrap_or(""),
                stage["state"].as_str().unwrap_or(""),
            )
        })
        .filter(|(name, _)| ["resource", "flow", "locking", "lock-order"].contains(name))
        .collect();
    assert!(states.contains(&("resource", "failed")), "{states:?}");
    assert!(states.contains(&("flow", "failed")), "{states:?}");
    assert!(
        states.contains(&("locking", "ran")),
        "the others ran: {states:?}"
    );
    assert!(states.contains(&("lock-order", "ran")), "{states:?}");

    let store = env.store().await;
    let id = document["review"]["id"].as_i64().expect("id");
    let stored = store
        .review_detail(id)
        .await
        .expect("read")
        .expect("the review")
        .review;
    assert_eq!(stored.status, "partial");
    let error = stored.error.unwrap_or_default();
    assert!(
        error.contains("stage flow failed") && error.contains("stage resource failed"),
        "{error}"
    );
    assert_eq!(
        store
            .review_findings(sashiko_store::ReviewId(id))
            .await
            .expect("findings")
            .len(),
        1,
        "the lock-order finding is stored"
    );
    store.close().await;

    // The text output prints the finding and the failed stages, then exits 2.
    fake.set_script(script());
    let output = env.review(Some(&fake.base_url()), &["HEAD~1.."]);
    assert_eq!(output.status.code(), Some(2));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("lock-order: "), "{text}");
    assert!(
        text.contains("FAILED, NOT checked: resource (stage resource failed against"),
        "{text}"
    );
    assert!(text.contains("FAILED, NOT checked: flow ("), "{text}");
}
