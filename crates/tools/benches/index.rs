//! Whole-tree lookups, measured: the identifier index built cold for a
//! tree, loaded warm, and the context of a five-patch series gathered
//! with a warm index (the series' changed files overlaid).
//!
//!   SASHIKO_BENCH_TREE=/path/to/linux cargo bench -p sashiko-tools --bench index
//!
//! The tree is any git repository (its HEAD is the base; it is never
//! written: the bench works in a `git clone --shared --no-checkout` of it
//! in a temporary directory and makes the five commits there with git2).
//! Without SASHIKO_BENCH_TREE the Linux 6.1.20 subset of
//! ../shared/kernel is unpacked and committed first. Prints wall times,
//! the process's peak RSS (VmHWM) after the cold build, and the load
//! average, which these figures depend on.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use git2::{build::TreeUpdateBuilder, FileMode, Oid, Repository, Signature};
use sashiko_review::{ReviewPatch, ReviewSeries};
use sashiko_tools::gather::{gather, GatherLimits};
use sashiko_tools::index::cache::IndexCache;

/// Five files of a kernel tree and the line each patch adds after the
/// first body opening of a function in it.
const EDITS: [(&str, &str); 5] = [
    ("mm/rmap.c", "\tmight_sleep();"),
    ("fs/ext4/super.c", "\tcond_resched();"),
    ("kernel/fork.c", "\tlockdep_assert_irqs_enabled();"),
    ("block/blk-core.c", "\tmight_sleep();"),
    ("lib/string.c", "\tBUILD_BUG_ON(sizeof(long) < 4);"),
];

fn run(dir: &Path, program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|error| panic!("{program} {args:?}: {error}"));
    assert!(status.success(), "{program} {args:?}");
}

fn source_tree(scratch: &Path) -> Option<PathBuf> {
    if let Some(tree) = std::env::var_os("SASHIKO_BENCH_TREE") {
        return Some(PathBuf::from(tree));
    }
    let tarball = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/kernel/linux-6.1.20-core.tar.xz");
    if !tarball.exists() {
        return None;
    }
    let tree = scratch.join("subset");
    std::fs::create_dir_all(&tree).expect("mkdir");
    let tarball = tarball.to_string_lossy().into_owned();
    run(&tree, "tar", &["--strip-components=1", "-xJf", &tarball]);
    run(&tree, "git", &["init", "-q"]);
    run(&tree, "git", &["add", "-A"]);
    run(
        &tree,
        "git",
        &[
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@b",
            "commit",
            "-q",
            "-m",
            "base",
        ],
    );
    Some(tree)
}

/// Commit one edit on `parent` with git2 (no work tree); the new commit
/// and the patch as a unified diff.
fn commit_edit(repo: &Repository, parent: Oid, (path, line): (&str, &str)) -> (Oid, String) {
    let parent = repo.find_commit(parent).expect("parent commit");
    let tree = parent.tree().expect("tree");
    let entry = tree
        .get_path(Path::new(path))
        .expect("the file is in the tree");
    let blob = repo.find_blob(entry.id()).expect("blob");
    let text = String::from_utf8_lossy(blob.content()).into_owned();
    let at = text.find("\n{\n").expect("a function body") + 3;
    let edited = format!("{}{line}\n{}", &text[..at], &text[at..]);
    let new_blob = repo.blob(edited.as_bytes()).expect("write blob");
    let mut update = TreeUpdateBuilder::new();
    update.upsert(path, new_blob, FileMode::Blob);
    let new_tree = repo
        .find_tree(update.create_updated(repo, &tree).expect("tree"))
        .expect("tree");
    let signature = Signature::now("bench", "bench@example.org").expect("signature");
    let id = repo
        .commit(None, &signature, &signature, path, &new_tree, &[&parent])
        .expect("commit");
    let diff = repo
        .diff_tree_to_tree(Some(&tree), Some(&new_tree), None)
        .expect("diff");
    let mut patch = String::new();
    diff.print(git2::DiffFormat::Patch, |_, _, diff_line| {
        if matches!(diff_line.origin(), '+' | '-' | ' ') {
            patch.push(diff_line.origin());
        }
        patch.push_str(&String::from_utf8_lossy(diff_line.content()));
        true
    })
    .expect("patch text");
    (id, patch)
}

fn peak_rss_mb() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .map(|line| line.trim_start_matches("VmHWM:").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn main() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let Some(source) = source_tree(scratch.path()) else {
        println!("SKIP: set SASHIKO_BENCH_TREE or provide ../shared/kernel");
        return;
    };
    let clone = scratch.path().join("clone");
    let source_text = source.to_string_lossy().into_owned();
    let clone_text = clone.to_string_lossy().into_owned();
    run(
        scratch.path(),
        "git",
        &[
            "clone",
            "-q",
            "--shared",
            "--no-checkout",
            &source_text,
            &clone_text,
        ],
    );
    let repo = Repository::open(&clone).expect("the clone opens");
    let base = repo
        .head()
        .and_then(|head| head.peel_to_commit())
        .expect("HEAD commit");
    let base_tree = base.tree().expect("tree").id();
    let mut series = ReviewSeries {
        title: "bench".to_owned(),
        version: 1,
        cover_letter: None,
        patches: Vec::new(),
    };
    let mut tip = base.id();
    for (number, edit) in EDITS.iter().enumerate() {
        let (id, diff) = commit_edit(&repo, tip, *edit);
        tip = id;
        series.patches.push(ReviewPatch {
            index: number as u32 + 1,
            subject: format!("bench patch {}", number + 1),
            author: "bench".to_owned(),
            message_id: None,
            commit_id: Some(id.to_string()),
            commit_message: String::new(),
            diff,
        });
    }
    let tip_tree = repo
        .find_commit(tip)
        .expect("tip")
        .tree()
        .expect("tree")
        .id();
    let cache_dir = scratch.path().join("cache");
    let mut cache = IndexCache::new(cache_dir.clone());
    if let Some(threads) = std::env::var("SASHIKO_BENCH_THREADS")
        .ok()
        .and_then(|value| value.parse().ok())
    {
        cache.threads = threads;
    }
    println!("tree: {source_text} (load before: {})", load());

    let started = Instant::now();
    let cold = cache.lookup(&repo, base_tree).expect("cold index");
    let cold_seconds = started.elapsed().as_secs_f64();
    println!(
        "cold index: {cold_seconds:.1} s, {} files, {} postings, {} threads, peak RSS {} ({})",
        cold.index.file_count(),
        cold.index.posting_count(),
        cache.threads,
        peak_rss_mb(),
        cold.how
    );
    drop(cold);
    let bytes = std::fs::metadata(cache_dir.join(format!("{base_tree}.idx")))
        .map(|m| m.len())
        .unwrap_or(0);
    println!("index file: {:.1} MB", bytes as f64 / 1e6);

    let started = Instant::now();
    let warm = cache.lookup(&repo, base_tree).expect("warm index");
    println!(
        "warm load: {:.3} s ({})",
        started.elapsed().as_secs_f64(),
        warm.how
    );
    drop(warm);

    let limits = GatherLimits {
        index_dir: Some(cache_dir),
        ..GatherLimits::default()
    };
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..5 {
        let started = Instant::now();
        let gathered = gather(&repo, tip_tree, &series, &limits);
        times.push(started.elapsed().as_secs_f64());
        last = Some(gathered);
    }
    times.sort_by(f64::total_cmp);
    let gathered = last.expect("five runs");
    println!(
        "warm context, 5-patch series: median {:.3} s, max {:.3} s over 5 runs; {} snippets, {} files read",
        times[2],
        times[4],
        gathered.snippets.len(),
        gathered.files_read
    );
    for note in &gathered.notes {
        println!("  note: {note}");
    }
    println!("load after: {}", load());
}
