//! The lock-order stage through `run_review` (no model): each case is a
//! function as the patch leaves it, marked line by line (`+` added, `-`
//! removed, ` ` unchanged), and the findings or the stage state expected.

use std::path::Path;
use std::sync::Arc;

use super::LockHierarchySources;
use crate::context::ContextSnippet;
use crate::engine::{run_review, ReviewInputs, ReviewOptions, StageState};
use crate::prompts::PromptSet;
use crate::series::{ReviewPatch, ReviewSeries};
use crate::Evidence;

/// Our own comment in the kernel's format: a general chain and a hugetlb
/// section that reverses folio_lock and i_mmap_rwsem.
const RMAP: &str = "/*\n * Lock ordering in mm:\n *\n * mm->mmap_lock\n *   folio_lock\n *     mapping->i_mmap_rwsem (in the fixture)\n *       mm->page_table_lock or pte_lock\n *\n * hugetlbfs pages take locks in this order:\n *   mapping->i_mmap_rwsem\n *     folio_lock\n */\n";

/// A patch of `mm/foo.c` from marked lines starting at line 1.
fn series(marked: &str) -> ReviewSeries {
    let old = marked.lines().filter(|l| !l.starts_with('+')).count();
    let new = marked.lines().filter(|l| !l.starts_with('-')).count();
    let diff = format!("--- a/mm/foo.c\n+++ b/mm/foo.c\n@@ -1,{old} +1,{new} @@\n{marked}");
    ReviewSeries {
        title: "mm: foo".into(),
        version: 1,
        cover_letter: None,
        patches: vec![ReviewPatch {
            index: 1,
            subject: "mm: foo".into(),
            author: "Ada <ada@example.org>".into(),
            message_id: None,
            commit_id: None,
            commit_message: "Signed-off-by: Ada <ada@example.org>\n".into(),
            diff,
        }],
    }
}

/// The post-patch function as the context would carry it.
fn snippet(marked: &str) -> ContextSnippet {
    let text: Vec<&str> = marked
        .lines()
        .filter(|l| !l.starts_with('-'))
        .map(|l| l.get(1..).unwrap_or(""))
        .collect();
    ContextSnippet {
        file: "mm/foo.c".into(),
        first_line: 1,
        label: "enclosing function f() after the patch".into(),
        text: text.join("\n"),
        kind: crate::context::ContextKind::Enclosing,
        priority: crate::context::priority::ENCLOSING,
    }
}

fn hierarchy(files: &[(&str, &str)]) -> Option<Arc<LockHierarchySources>> {
    Some(Arc::new(LockHierarchySources {
        tree: "commit 0123abcd".into(),
        files: files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect(),
    }))
}

/// Run the review; return the stage's state and reason and the findings as
/// `line:severity[:preexisting]`.
fn run(
    marked: &str,
    with_snippet: bool,
    sources: Option<Arc<LockHierarchySources>>,
) -> (StageState, Option<String>, Vec<String>, Vec<crate::Finding>) {
    let prompts = PromptSet::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../prompts"))
        .expect("shipped prompts load");
    let options = ReviewOptions {
        inputs: ReviewInputs {
            context: if with_snippet {
                vec![snippet(marked)]
            } else {
                Vec::new()
            },
            lock_hierarchy: sources,
            ..ReviewInputs::default()
        },
        ..ReviewOptions::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let output = runtime
        .block_on(run_review(
            &prompts,
            &series(marked),
            None,
            &options,
            &|_| {},
        ))
        .expect("a review without a model finishes");
    let stage = output
        .stages
        .iter()
        .find(|s| s.name == "lock-order")
        .expect("the lock-order stage reports");
    let findings: Vec<crate::Finding> = output
        .findings
        .iter()
        .filter(|f| f.stage == "lock-order")
        .cloned()
        .collect();
    let summary = findings
        .iter()
        .map(|f| {
            let pre = if f.preexisting { ":preexisting" } else { "" };
            format!("{}:{}{pre}", f.line_start, f.severity)
        })
        .collect();
    (stage.state, stage.reason.clone(), summary, findings)
}

fn check(marked: &str, with_snippet: bool, expected: &[&str]) {
    let (state, reason, got, _) = run(marked, with_snippet, hierarchy(&[("mm/rmap.c", RMAP)]));
    assert_eq!(state, StageState::Ran, "{reason:?}\n{marked}");
    assert_eq!(got, expected, "\n{marked}");
}

#[test]
fn inversions_are_anchored_to_the_line_the_patch_changes() {
    // Added acquisition under a held lock; the hugetlb section documents
    // the reverse, so medium.
    check(
        " void f(void)\n {\n \ti_mmap_lock_write(mapping);\n+\tfolio_lock(folio);\n+\tfolio_unlock(folio);\n \ti_mmap_unlock_write(mapping);\n }\n",
        true,
        &["4:medium"],
    );
    // No exception and held on every path: high.
    check(
        " void f(void)\n {\n \tfolio_lock(folio);\n+\tmmap_read_lock(mm);\n }\n",
        true,
        &["4:high"],
    );
    // The patch adds the lock that is held: the finding sits there.
    check(
        " void f(void)\n {\n+\tspin_lock(ptl);\n \tfolio_lock(folio);\n }\n",
        true,
        &["3:high"],
    );
    // The patch removes the release between the two.
    check(
        " void f(void)\n {\n \tfolio_lock(folio);\n-\tfolio_unlock(folio);\n \tmmap_read_lock(mm);\n }\n",
        true,
        &["4:high"],
    );
    // Taken under a condition only: low.
    check(
        " void f(void)\n {\n \tif (x)\n \t\tfolio_lock(folio);\n+\tmmap_read_lock(mm);\n }\n",
        true,
        &["5:low"],
    );
    // Without a snippet the hunk's own lines are walked.
    check(
        " void f(void)\n {\n \tfolio_lock(folio);\n+\tmmap_read_lock(mm);\n }\n",
        false,
        &["4:high"],
    );
}

#[test]
fn right_order_and_preexisting_inversions() {
    check(
        " void f(void)\n {\n \tmmap_read_lock(mm);\n+\tfolio_lock(folio);\n+\ti_mmap_lock_read(mapping);\n }\n",
        true,
        &[],
    );
    // In unchanged code of the function shown: pre-existing, at most medium.
    check(
        " void f(void)\n {\n \tfolio_lock(folio);\n \tmmap_read_lock(mm);\n+\tcount++;\n }\n",
        true,
        &["4:medium:preexisting"],
    );
    // Not reported from a bare hunk (the enclosing function is not shown).
    check(
        " void f(void)\n {\n \tfolio_lock(folio);\n \tmmap_read_lock(mm);\n+\tcount++;\n }\n",
        false,
        &[],
    );
}

#[test]
fn findings_carry_the_documented_path() {
    let (_, _, _, findings) = run(
        " void f(void)\n {\n \ti_mmap_lock_write(mapping);\n+\tfolio_lock(folio);\n }\n",
        true,
        hierarchy(&[("mm/rmap.c", RMAP)]),
    );
    let finding = &findings[0];
    assert!(
        finding.problem.contains(
            "orders folio_lock outside mapping->i_mmap_rwsem: folio_lock -> mapping->i_mmap_rwsem"
        ),
        "{}",
        finding.problem
    );
    assert!(
        finding.problem.ends_with(
            "(the reverse order is documented only for \"hugetlbfs pages take locks in this order\", mm/rmap.c:11)"
        ),
        "{}",
        finding.problem
    );
    assert_eq!(finding.locations[0].line_start, 3);
    let Evidence::Check { name, detail } = &finding.evidence[0] else {
        panic!("check evidence expected: {:?}", finding.evidence);
    };
    assert_eq!(name, "lock-order");
    assert!(
        detail.contains("folio_lock -> mapping->i_mmap_rwsem (in the fixture)  mm/rmap.c:6"),
        "{detail}"
    );
    assert!(detail.contains("documented exception"), "{detail}");
    assert!(detail.contains("mm/rmap.c:11"), "{detail}");
}

#[test]
fn not_applicable_with_a_reason() {
    let two_locks = " void f(void)\n {\n \tfolio_lock(folio);\n+\tmmap_read_lock(mm);\n }\n";
    let cases: &[(&str, Option<Arc<LockHierarchySources>>, &str)] = &[
        (two_locks, None, "no reviewed tree"),
        (
            two_locks,
            hierarchy(&[]),
            "has no mm/rmap.c or mm/filemap.c",
        ),
        (
            two_locks,
            hierarchy(&[("mm/rmap.c", "int x;\n")]),
            "no lock-ordering comment could be read in mm/rmap.c",
        ),
        (
            " void f(void)\n {\n+\tfolio_lock(folio);\n }\n",
            hierarchy(&[("mm/rmap.c", RMAP)]),
            "no changed function takes two locks",
        ),
    ];
    for (marked, sources, reason) in cases {
        let (state, got, findings, _) = run(marked, true, sources.clone());
        assert_eq!(state, StageState::NotApplicable, "{reason}: {got:?}");
        let got = got.unwrap_or_default();
        assert!(got.contains(reason), "{got}");
        assert!(findings.is_empty());
    }
}
