use super::*;
use crate::context::priority;

fn secrets() -> ReviewSecrets {
    ReviewSecrets {
        nonce: "0123456789abcdef".into(),
        canary: "SASHIKO-CANARY-x".into(),
    }
}

fn section(file: &str, lines: usize) -> String {
    let mut text = format!(
        "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n@@ -1,{lines} +1,{lines} @@\n"
    );
    for n in 0..lines {
        text.push_str(&format!(
            "+\tvalue_{n} = compute_something(value_{n}, {n});\n"
        ));
    }
    text
}

fn series(diff: String) -> ReviewSeries {
    crate::context::one_patch_series(&diff, "why\n")
}

fn snippet(file: &str, kind: ContextKind, priority: u32, lines: usize) -> ContextSnippet {
    ContextSnippet {
        file: file.into(),
        first_line: 1,
        label: format!("{kind:?} of {file}"),
        text: "\tint x = y + z;\n".repeat(lines),
        kind,
        priority,
    }
}

fn cost(name: &str, budget: u64, context: &[&str]) -> StageCost {
    StageCost {
        name: name.into(),
        budget,
        fixed: 500,
        context: context.iter().map(|c| c.to_string()).collect(),
    }
}

fn run(series: &ReviewSeries, snippets: &[ContextSnippet], stages: &[StageCost]) -> Plan {
    let settings = ContextSettings::default();
    let secrets = secrets();
    let counter = TokenCounter::uncalibrated();
    plan(&PlanInput {
        series,
        snippets,
        settings: &settings,
        stages,
        secrets: &secrets,
        counter: &counter,
    })
}

#[test]
fn shared_context_is_one_and_stage_kinds_come_after_it() {
    let series = series(section("drivers/a.c", 5));
    let snippets = vec![
        snippet(
            "drivers/a.c",
            ContextKind::Enclosing,
            priority::ENCLOSING,
            5,
        ),
        snippet(
            "include/a.h",
            ContextKind::Definition,
            priority::DEFINITION_IN_INCLUDED_HEADER,
            5,
        ),
        snippet(
            "drivers/b.c",
            ContextKind::Caller,
            priority::CALLER_ELSEWHERE,
            5,
        ),
        // Enclosing function of a file the series does not show: never sent.
        snippet(
            "drivers/z.c",
            ContextKind::Enclosing,
            priority::ENCLOSING,
            5,
        ),
    ];
    let stages = [
        cost("flow", 20_000, &["series", "callers"]),
        cost("style", 20_000, &["series"]),
    ];
    let plan = run(&series, &snippets, &stages);
    assert!(!plan.is_split());
    let chunk = &plan.chunks[0];
    let shared: Vec<&str> = chunk.shared.iter().map(|s| s.file.as_str()).collect();
    assert_eq!(shared, vec!["drivers/a.c", "include/a.h"]);
    let flow: Vec<&str> = chunk.stages["flow"]
        .extra
        .iter()
        .map(|s| s.file.as_str())
        .collect();
    assert_eq!(flow, vec!["drivers/b.c"]);
    assert!(chunk.stages["style"].extra.is_empty());
    assert!(chunk.shared_notes.is_empty() && plan.notes.is_empty());
}

#[test]
fn a_tight_budget_leaves_out_the_lowest_priority_with_a_note() {
    let series = series(section("drivers/a.c", 5));
    let snippets = vec![
        snippet(
            "drivers/a.c",
            ContextKind::Enclosing,
            priority::ENCLOSING,
            40,
        ),
        snippet(
            "include/a.h",
            ContextKind::Definition,
            priority::DEFINITION_ELSEWHERE,
            40,
        ),
    ];
    let counter = TokenCounter::uncalibrated();
    let secrets = secrets();
    let series_tokens = counter.text(&request::series_message(&series, &[], &secrets));
    let one = counter.text(&request::snippet_block(&snippets[0], &secrets.nonce));
    let stages = [cost("flow", 500 + series_tokens + one + 10, &["series"])];
    let plan = run(&series, &snippets, &stages);
    let chunk = &plan.chunks[0];
    assert_eq!(chunk.shared.len(), 1);
    assert_eq!(chunk.shared[0].kind, ContextKind::Enclosing);
    assert_eq!(chunk.shared_notes.len(), 1);
    assert!(
        chunk.shared_notes[0].starts_with("left out Definition of include/a.h in include/a.h"),
        "{:?}",
        chunk.shared_notes
    );
}

#[test]
fn a_series_over_budget_is_split_by_file_and_an_oversized_file_is_shortened_with_a_note() {
    let diff =
        section("drivers/a.c", 30) + &section("drivers/b.c", 30) + &section("drivers/c.c", 400);
    let series = series(diff);
    let stages = [cost("flow", 2_600, &["series"])];
    let plan = run(&series, &[], &stages);
    assert!(plan.is_split());
    assert!(plan.notes[0].contains("reviewed in"), "{:?}", plan.notes);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.starts_with("patch 1 drivers/c.c shortened: its last")),
        "{:?}",
        plan.notes
    );
    let labels: Vec<&str> = plan
        .chunks
        .iter()
        .filter_map(|c| c.label.as_deref())
        .collect();
    assert!(labels[0].contains("patch 1: drivers/a.c"), "{labels:?}");
    assert!(
        labels.last().is_some_and(|l| l.contains("drivers/c.c")),
        "{labels:?}"
    );
    // Every chunk fits, and together they show every file.
    let counter = TokenCounter::uncalibrated();
    let mut files = BTreeSet::new();
    for chunk in &plan.chunks {
        let tokens = counter.text(&request::series_message(&chunk.series, &[], &secrets()));
        assert!(tokens + 500 <= 2_600, "{tokens}");
        for (file, _) in file_sections(&chunk.series.patches[0].diff) {
            files.insert(file);
        }
    }
    assert_eq!(files.len(), 3);
}

#[test]
fn file_sections_and_series_for_files() {
    let diff = section("a.c", 1) + &section("b.c", 1);
    let sections: Vec<String> = file_sections(&diff).into_iter().map(|(f, _)| f).collect();
    assert_eq!(sections, vec!["a.c", "b.c"]);
    let limited = series_for_files(&series(diff), &BTreeSet::from(["b.c".to_owned()]));
    assert!(limited.patches[0].diff.starts_with("diff --git a/b.c"));
    assert!(!limited.patches[0].diff.contains("a/a.c"));
}

#[test]
fn unknown_context_kinds_are_refused() {
    assert!(validate_kinds(&["series".into(), "callers".into()]).is_ok());
    assert!(validate_kinds(&["calers".into()]).is_err_and(|e| e.contains("calers")));
}

/// Issue 14 item 2: a 900-line `ext4_fill_super()` changed by one patch
/// filled the shared context and pushed out `anon_vma_prepare()`, the
/// function with the bug in the other patch.
#[test]
fn each_patch_keeps_its_enclosing_function_and_a_huge_one_is_windowed() {
    let hunk = |file: &str, line: u32| {
        format!(
            "diff --git a/{file} b/{file}\n--- a/{file}\n+++ b/{file}\n@@ -{line},1 +{line},2 @@\n \tx = 1;\n+\treturn -EINVAL;\n"
        )
    };
    let mut series = series(hunk("mm/rmap.c", 200));
    let mut second = series.patches[0].clone();
    second.index = 2;
    second.diff = hunk("fs/ext4/super.c", 2_400);
    series.patches.push(second);
    let small = ContextSnippet {
        first_line: 180,
        label: "enclosing function __anon_vma_prepare() after the patch".into(),
        ..snippet("mm/rmap.c", ContextKind::Enclosing, priority::ENCLOSING, 50)
    };
    let huge = ContextSnippet {
        first_line: 1_000,
        label: "enclosing function ext4_fill_super() after the patch".into(),
        ..snippet(
            "fs/ext4/super.c",
            ContextKind::Enclosing,
            priority::ENCLOSING,
            3_000,
        )
    };
    let definition = snippet(
        "include/linux/rmap.h",
        ContextKind::Definition,
        priority::DEFINITION_IN_INCLUDED_HEADER,
        5,
    );
    let stages = [cost("flow", 60_000, &["series"])];
    // The huge function comes first, as the gatherer may order them.
    let plan = run(&series, &[huge, small, definition], &stages);
    let chunk = &plan.chunks[0];
    let shared: Vec<(&str, u32, u32)> = chunk
        .shared
        .iter()
        .map(|s| (s.file.as_str(), s.first_line, s.last_line()))
        .collect();
    assert_eq!(shared[0], ("mm/rmap.c", 180, 229), "{shared:?}");
    let (file, first, last) = shared[1];
    assert_eq!(file, "fs/ext4/super.c");
    assert!(
        first > 1_000 && first <= 2_401 && (2_401..3_999).contains(&last),
        "{shared:?}"
    );
    let total: u64 = chunk
        .shared
        .iter()
        .map(|s| TokenCounter::uncalibrated().text(&request::snippet_block(s, "0123456789abcdef")))
        .sum();
    assert!(
        total <= ContextSettings::default().shared_max_tokens,
        "{total}"
    );
    assert!(
        chunk
            .shared_notes
            .iter()
            .any(|note| note.contains("ext4_fill_super")
                && note.contains("around the changed lines")
                && note.contains("cut")),
        "{:?}",
        chunk.shared_notes
    );
    assert!(
        chunk.shared[1].label.contains("(around the change)"),
        "{}",
        chunk.shared[1].label
    );
}

/// Issue 21 item 3: a 50 MB commit message escaped the budget. Messages
/// are budgeted in staging; the plan of the budgeted series fits.
#[test]
fn a_huge_commit_message_is_budgeted_before_planning() {
    let counter = TokenCounter::uncalibrated();
    let mut series = series(section("drivers/a.c", 5));
    series.patches[0].commit_message = "x".repeat(2_000_000) + "\n" + &"line\n".repeat(100_000);
    let budgeted = budget_messages(&series, 20_000, &counter);
    let plan = run(&budgeted.series, &[], &[cost("flow", 20_000, &["series"])]);
    assert!(!plan.is_split());
    let tokens = counter.text(&request::series_message(
        &plan.chunks[0].series,
        &[],
        &secrets(),
    ));
    assert!(tokens <= 20_000 / 4 + 500, "{tokens}");
    assert!(
        budgeted.notes[0].starts_with("patch 1's commit message (2500001 bytes"),
        "{:?}",
        budgeted.notes
    );
}
