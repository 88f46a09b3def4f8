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
