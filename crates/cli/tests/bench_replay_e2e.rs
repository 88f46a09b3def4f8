//! Issue 14's replay benchmark, CI-sized: the real binary runs
//! `sashiko bench --replay SLICE --tree TREE --limit N` on the first
//! complete series of the ext4 and kbuild list slices (../shared/corpus)
//! against the real Linux 6.1.20 subset (../shared/kernel, unpacked into a
//! temporary git repository once), with the scripted fake model.
//!
//! It checks behaviour, not speed: no panic, every series either applied
//! (and then given tree context) or reviewed without tree context with the
//! reason, the figures add up, and the tree is only read. Skips with a
//! message when ../shared is absent.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{git, init_repo};
use serde_json::Value;

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn unpack_kernel(repo: &Path) {
    let status = Command::new("tar")
        .args(["--strip-components=1", "-xJf"])
        .arg(shared().join("kernel/linux-6.1.20-core.tar.xz"))
        .arg("-C")
        .arg(repo)
        .status()
        .expect("tar runs");
    assert!(status.success(), "unpacking the kernel subset");
    init_repo(repo);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "Linux 6.1.20 (subset)"]);
}

fn head(repo: &Path) -> String {
    let output = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(repo)
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn replay(home: &Path, slice: &str, tree: &Path, limit: usize) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_sashiko"))
        .args(["bench", "--replay"])
        .arg(shared().join("corpus/lists").join(slice))
        .arg("--tree")
        .arg(tree)
        .args(["--limit", &limit.to_string(), "--format", "json"])
        .current_dir(home)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .env("SASHIKO_CONFIG", home.join("config.toml"))
        .output()
        .expect("sashiko runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{slice}: stderr: {stderr}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("{slice}: JSON ({error}); stderr: {stderr}"))
}

const WITH_TREE: [&str; 5] = ["base_commit", "clean", "three_way", "fuzzy", "commits"];

/// The report's figures agree with its per-series outcomes, and every
/// outcome tells the truth about the tree.
fn check(slice: &str, report: &Value, limit: usize) {
    let outcomes = report["outcomes"].as_array().expect("outcomes");
    let count = |key: &str| report[key].as_u64().unwrap_or(u64::MAX) as usize;
    assert_eq!(count("panics"), 0, "{slice}: {report:#}");
    assert_eq!(count("failed"), 0, "{slice}: {report:#}");
    assert_eq!(count("replayed"), limit.min(count("complete")), "{slice}");
    assert_eq!(outcomes.len(), count("replayed"), "{slice}");
    assert!(
        count("complete") <= count("series_in_slice"),
        "{slice}: {report:#}"
    );
    assert_eq!(
        count("applied_total") + count("without_tree"),
        outcomes.len(),
        "{slice}: every series applied or reviewed without tree: {report:#}"
    );
    let by_status: usize = report["applied"]
        .as_object()
        .expect("applied")
        .values()
        .map(|n| n.as_u64().unwrap_or(0) as usize)
        .sum();
    assert_eq!(by_status, outcomes.len(), "{slice}");
    let patches: u64 = outcomes
        .iter()
        .map(|o| o["patches"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(patches, report["patches"].as_u64().unwrap_or(0), "{slice}");
    for outcome in outcomes {
        let status = outcome["tree_status"].as_str().unwrap_or("");
        let note = outcome["tree_note"].as_str().unwrap_or("");
        let title = outcome["title"].as_str().unwrap_or("");
        assert!(
            outcome["prompt_tokens"].as_u64().unwrap_or(0) > 0
                && outcome["requests"].as_u64().unwrap_or(0) > 0,
            "{slice}: {title} was reviewed: {outcome:#}"
        );
        if WITH_TREE.contains(&status) {
            assert!(note.starts_with("applied on"), "{slice}: {title}: {note}");
            // The context search ran on the post-patch tree (a patch that
            // only drops an #include has no enclosing function to show).
            assert!(
                outcome["tree_notes"].to_string().contains("context: "),
                "{slice}: {title} applied but no context search: {outcome:#}"
            );
        } else {
            assert_eq!(status, "not_applied", "{slice}: {title}: {outcome:#}");
            assert!(
                note.starts_with("reviewed without tree context: ")
                    && note.contains("does not apply"),
                "{slice}: {title}: {note}"
            );
            assert_eq!(
                outcome["context_snippets"].as_u64(),
                Some(0),
                "{slice}: {title}"
            );
        }
    }
    let p50 = report["wall_ms_p50"].as_u64().unwrap_or(0);
    let p95 = report["wall_ms_p95"].as_u64().unwrap_or(0);
    assert!(p50 > 0 && p50 <= p95, "{slice}: p50 {p50}, p95 {p95}");
}

#[test]
fn ext4_and_kbuild_series_replay_on_the_real_kernel_without_a_panic() {
    let tarball = shared().join("kernel/linux-6.1.20-core.tar.xz");
    let lists = shared().join("corpus/lists");
    if !tarball.exists() || !lists.exists() {
        eprintln!("skipped: ../shared/kernel or ../shared/corpus/lists is absent");
        return;
    }
    let home = tempfile::tempdir().expect("temp dir");
    let tree = home.path().join("linux");
    std::fs::create_dir_all(&tree).expect("mkdir");
    unpack_kernel(&tree);
    let before = head(&tree);

    // The first nine complete ext4 series: seven for e2fsprogs and fstests
    // (their files are not in a kernel tree), one kernel series whose
    // context moved, one that applies with fuzz.
    let ext4 = replay(home.path(), "linux-ext4-19250-21749.mbox", &tree, 9);
    check("ext4", &ext4, 9);
    assert!(
        ext4["applied_total"].as_u64().unwrap_or(0) >= 1
            && ext4["not_applied"]["file_missing"].as_u64().unwrap_or(0) >= 1,
        "{ext4:#}"
    );
    // The applied series' lookups overlaid the base tree's index, built
    // once in the tree, instead of building one per scratch repository.
    let applied: Vec<&Value> = ext4["outcomes"]
        .as_array()
        .expect("outcomes")
        .iter()
        .filter(|o| o["not_applied"].is_null())
        .collect();
    assert!(!applied.is_empty());
    assert!(
        applied
            .iter()
            .any(|o| o["context_snippets"].as_u64().unwrap_or(0) > 0),
        "{ext4:#}"
    );
    for outcome in &applied {
        let notes: Vec<&str> = outcome["tree_notes"]
            .as_array()
            .expect("tree notes")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            !notes.iter().any(
                |note| note.starts_with("identifier index of tree") && note.contains(" built ")
            ),
            "an index was built for a scratch tree: {notes:?}"
        );
        assert!(
            notes
                .iter()
                .any(|note| note.starts_with("identifier index of tree")
                    && note.contains("C files that differ")),
            "{notes:?}"
        );
    }
    let kbuild = replay(home.path(), "linux-kbuild-14500-16999.mbox", &tree, 4);
    check("kbuild", &kbuild, 4);

    // The tree was only read.
    assert_eq!(head(&tree), before);
    let status = Command::new("git")
        .args(["status", "--porcelain"])
        .current_dir(&tree)
        .output()
        .expect("git runs");
    assert!(status.stdout.is_empty(), "{status:?}");
}
