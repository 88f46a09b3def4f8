//! The shipped prompt set checked against real data: guide sections name
//! finder stages, guides name real MAINTAINERS entries and are routed by
//! them, each stage's fixed request cost leaves room for the series, and
//! the list slices' series get a guide (the figures in prompts/README.md).
//!
//! Tests that need ../shared (the list slices and the kernel tarball) skip
//! with a message when it is absent. Run with `-- --nocapture` to see the
//! tables.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use sashiko_promptcheck::shared::{SharedData, SLICES};
use sashiko_promptcheck::{budgets, coverage};
use sashiko_review::guides::{self, Guide};
use sashiko_review::maintainers::Maintainers;
use sashiko_review::{PromptSet, ReviewPatch, ReviewSeries, StageKind};

/// Entries of MAINTAINERS files newer than the 6.1 tree in ../shared,
/// kept as those trees spell them (6.1 had one "MEMORY MANAGEMENT" entry
/// where later trees split it).
const NEWER_ENTRIES: &[&str] = &[
    "MEMORY MANAGEMENT - CORE",
    "MEMORY MANAGEMENT - RMAP (REVERSE MAPPING)",
];

/// Guides for the user-space projects the kernel lists carry; MAINTAINERS
/// has no entry for them, so they are routed by their paths only.
const USER_SPACE_GUIDES: &[&str] = &["liburing", "e2fsprogs", "test-suites", "man-pages"];

/// Percent of complete series that must get a guide on the patch lists.
const COVERAGE_TARGET: f64 = 90.0;

/// Series tokens the room left in every stage must hold when ../shared is
/// absent: the 90th percentile of the complete series of the four patch
/// slices (measured by `stage_budgets_leave_room_for_the_series`, which
/// uses the live figure when the corpus is present).
const P90_SERIES_TOKENS: u64 = 12_004;

fn shipped() -> PromptSet {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../prompts");
    PromptSet::load(&dir).expect("the shipped prompt set loads")
}

fn shared_or_skip(test: &str) -> Option<SharedData> {
    let shared = SharedData::beside_repository();
    if shared.is_none() {
        eprintln!(
            "SKIPPED {test}: ../shared (corpus/lists and the kernel tarball) not found next to the repository"
        );
    }
    shared
}

/// What the corpus tests share, computed once per test binary: every
/// slice routed as a review routes it, and the token count of each series
/// of the patch slices.
struct Corpus {
    coverages: Vec<coverage::SliceCoverage>,
    series_tokens: Vec<u64>,
}

fn corpus(shared: &SharedData) -> &'static Corpus {
    static CORPUS: OnceLock<Corpus> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let prompts = shipped();
        let maintainers =
            Maintainers::parse(&shared.kernel_file("MAINTAINERS").expect("MAINTAINERS"));
        let mut coverages = Vec::new();
        let mut series_tokens = Vec::new();
        for slice in SLICES {
            let series = shared.slice_series(&slice).expect("slice");
            if slice.target {
                series_tokens.extend(series.series.iter().map(budgets::series_tokens));
            }
            coverages.push(coverage::route_slice(
                &prompts,
                &maintainers,
                slice,
                &series,
            ));
        }
        Corpus {
            coverages,
            series_tokens,
        }
    })
}

fn kernel_files(shared: &SharedData) -> Vec<String> {
    let output = Command::new("tar")
        .arg("-tJf")
        .arg(shared.kernel_tarball())
        .output()
        .expect("tar runs");
    assert!(output.status.success(), "tar lists the kernel tarball");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| !line.ends_with('/'))
        .filter_map(|line| line.split_once('/').map(|(_, path)| path.to_owned()))
        .collect()
}

#[test]
fn guide_sections_name_finder_stages() {
    let prompts = shipped();
    let finders: BTreeSet<&str> = prompts
        .stages
        .iter()
        .filter(|stage| stage.kind == StageKind::Finder)
        .map(|stage| stage.name.as_str())
        .collect();
    assert!(
        prompts.guides.len() >= 19,
        "{} guides",
        prompts.guides.len()
    );
    for guide in &prompts.guides {
        assert!(
            !guide.sections.is_empty(),
            "guide {} has no section",
            guide.name
        );
        for section in guide.sections.keys() {
            assert!(
                section == "all" || finders.contains(section.as_str()),
                "guide {}: section `## {section}` names no finder stage (finders: {finders:?})",
                guide.name
            );
        }
        assert!(
            !guide.paths.is_empty(),
            "guide {} has no paths for trees without MAINTAINERS",
            guide.name
        );
    }
}

/// The guides the issue asks for, by name.
#[test]
fn the_required_guides_exist() {
    let prompts = shipped();
    let names: BTreeSet<&str> = prompts.guides.iter().map(|g| g.name.as_str()).collect();
    for required in [
        "io_uring",
        "block",
        "ext4",
        "jbd2",
        "vfs",
        "iomap",
        "kbuild",
        "memory-management",
        "rcu",
        "locking",
        "scheduler",
        "networking",
        "bpf",
        "driver-core",
        "x86-mm",
    ] {
        assert!(names.contains(required), "missing guide {required}");
    }
}

#[test]
fn guides_name_real_maintainers_entries_and_are_routed_by_them() {
    let Some(shared) =
        shared_or_skip("guides_name_real_maintainers_entries_and_are_routed_by_them")
    else {
        return;
    };
    let prompts = shipped();
    let maintainers = Maintainers::parse(&shared.kernel_file("MAINTAINERS").expect("MAINTAINERS"));
    let entries: BTreeSet<&str> = maintainers
        .entries
        .iter()
        .map(|entry| entry.name.as_str())
        .collect();
    let files = kernel_files(&shared);
    let top_level: Vec<&str> = files
        .iter()
        .map(String::as_str)
        .filter(|file| !file.contains('/'))
        .collect();
    for guide in &prompts.guides {
        let matching: Vec<&str> = files
            .iter()
            .map(String::as_str)
            .filter(|file| !guides::select(std::slice::from_ref(guide), &[], &[file]).is_empty())
            .collect();
        if USER_SPACE_GUIDES.contains(&guide.name.as_str()) {
            assert!(
                guide.subsystems.is_empty(),
                "user-space guide {} names MAINTAINERS entries",
                guide.name
            );
            assert!(
                matching.is_empty(),
                "user-space guide {}'s paths take kernel files: {:?}",
                guide.name,
                &matching[..matching.len().min(5)]
            );
            continue;
        }
        for name in &guide.subsystems {
            assert!(
                entries.contains(name.as_str()) || NEWER_ENTRIES.contains(&name.as_str()),
                "guide {}: no MAINTAINERS entry spelled {name:?}",
                guide.name
            );
        }
        // A real file of the tree that MAINTAINERS routes to one of the
        // guide's entries (files under its paths, and the top-level files).
        let routed = matching
            .iter()
            .chain(&top_level)
            .find(|file| {
                maintainers
                    .route(&[file], "")
                    .iter()
                    .any(|m| guide.subsystems.contains(&m.name))
            })
            .copied();
        println!("{:<18} routed by MAINTAINERS for {routed:?}", guide.name);
        assert!(
            routed.is_some(),
            "guide {}: no file of the tree is routed to its entries {:?}",
            guide.name,
            guide.subsystems
        );
    }
}

#[test]
fn stage_budgets_leave_room_for_the_series() {
    let prompts = shipped();
    let (typical, combinations) = match SharedData::beside_repository() {
        Some(shared) => {
            let corpus = corpus(&shared);
            let tokens = &corpus.series_tokens;
            let p90 = budgets::percentile(tokens, 90);
            println!(
                "series tokens over {} series: median {}, p90 {p90}",
                tokens.len(),
                budgets::percentile(tokens, 50)
            );
            let combinations: Vec<Vec<String>> = corpus
                .coverages
                .iter()
                .flat_map(|coverage| coverage.series.iter().map(|s| s.guides.clone()))
                .collect();
            (p90, combinations)
        }
        None => {
            eprintln!("../shared absent: using the recorded p90 of {P90_SERIES_TOKENS} tokens");
            (P90_SERIES_TOKENS, Vec::new())
        }
    };
    let rows = budgets::stage_budgets(&prompts, &combinations);
    println!("{}", budgets::render(&rows, typical));
    for row in &rows {
        assert!(
            row.room() >= typical,
            "stage {}: {} fixed tokens leave {} of {} for a series of {typical}",
            row.stage,
            row.worst_fixed(),
            row.room(),
            row.budget
        );
        assert!(
            row.worst_fixed() * 4 <= row.budget,
            "stage {}: fixed parts ({}) take more than a quarter of the budget ({})",
            row.stage,
            row.worst_fixed(),
            row.budget
        );
    }
}

#[test]
fn list_slices_get_subsystem_guides() {
    let Some(shared) = shared_or_skip("list_slices_get_subsystem_guides") else {
        return;
    };
    let coverages = &corpus(&shared).coverages;
    let table = coverage::render(coverages);
    println!("{table}");
    let readme = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../prompts/README.md"),
    )
    .expect("prompts/README.md");
    for coverage in coverages {
        assert!(
            coverage.series.len() > 5,
            "slice {}: only {} complete series assembled",
            coverage.slice.name,
            coverage.series.len()
        );
        if coverage.slice.target {
            assert!(
                coverage.percent() >= COVERAGE_TARGET,
                "slice {}: {:.1}% of series get a guide, target {COVERAGE_TARGET}%",
                coverage.slice.name,
                coverage.percent()
            );
        }
        let row = table
            .lines()
            .find(|line| line.starts_with(&format!("| {} |", coverage.slice.name)))
            .expect("table row");
        assert!(
            readme.contains(row),
            "prompts/README.md does not state the current figure: {row}"
        );
    }
}

/// The reviewer's routing of typical changes on the real MAINTAINERS:
/// guides named by entries first, then guides routed by path.
#[test]
fn routing_of_typical_changes_on_the_real_maintainers() {
    let Some(shared) = shared_or_skip("routing_of_typical_changes_on_the_real_maintainers") else {
        return;
    };
    let prompts = shipped();
    let maintainers = Maintainers::parse(&shared.kernel_file("MAINTAINERS").expect("MAINTAINERS"));
    let series = |files: &[&str]| {
        ReviewSeries {
        title: "t".into(),
        version: 1,
        cover_letter: None,
        patches: files
            .iter()
            .enumerate()
            .map(|(index, file)| ReviewPatch {
                index: index as u32 + 1,
                subject: "s".into(),
                author: "a".into(),
                message_id: None,
                commit_id: None,
                commit_message: String::new(),
                diff: format!(
                    "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n@@ -1,1 +1,2 @@\n a\n+b\n"
                ),
            })
            .collect(),
    }
    };
    let names = |files: &[&str]| -> Vec<String> {
        coverage::route_series(&prompts, &maintainers, &series(files)).guides
    };
    let cases: &[(&[&str], &[&str])] = &[
        (&["fs/ext4/inode.c"], &["ext4", "vfs"]),
        (
            &["fs/jbd2/commit.c", "fs/ext4/super.c"],
            &["ext4", "jbd2", "vfs"],
        ),
        (&["io_uring/rw.c"], &["io_uring"]),
        (&["test/read-write.c", "src/queue.c"], &["liburing"]),
        (&["e2fsck/pass1.c"], &["e2fsprogs"]),
        (&["scripts/kallsyms.c"], &["kbuild"]),
        (&["arch/x86/mm/fault.c"], &["x86-mm"]),
        (&["mm/filemap.c"], &["memory-management"]),
    ];
    for (files, expected) in cases {
        let got = names(files);
        let got_sorted: BTreeSet<&str> = got.iter().map(String::as_str).collect();
        let expected: BTreeSet<&str> = expected.iter().copied().collect();
        assert_eq!(got_sorted, expected, "{files:?} routed to {got:?}");
    }
    assert_eq!(
        names(&["fs/ext4/inode.c"]),
        ["ext4", "vfs"],
        "the entry's guide comes before the path-routed one"
    );
    let selected: Vec<&Guide> = prompts
        .guides
        .iter()
        .filter(|g| g.name == "ext4" || g.name == "vfs")
        .collect();
    assert!(guides::for_stage(&selected, "locking").contains("From the ext4 guide:"));
}
