//! The analyzers on a real kernel tree (../shared/kernel, skipped with a
//! message when absent) with the real tools: the tree's checkpatch.pl under
//! perl and its scripts/coccinelle under spatch.

mod support;

use std::path::PathBuf;
use std::time::Duration;

use sashiko_analyzers::{AnalyzerSettings, TreeAnalyzers, TreeInput};
use sashiko_review::analysis::{self, AnalyzerState, AnalyzerTool};
use sashiko_review::Severity;
use support::{commit, insert_after, kernel, rmap_patch, series, skip};

fn tools_installed(test: &str) -> bool {
    let found = ["perl", "spatch"]
        .iter()
        .all(|tool| sashiko_analyzers::process::find_program(std::path::Path::new(tool)).is_some());
    if !found {
        eprintln!(
            "SKIPPED {test}: perl or spatch is not installed (Debian packages perl, coccinelle)"
        );
    }
    found
}

/// Settings with a budget no loaded test machine runs out of: what these
/// tests check must not depend on how busy the machine is (the budget has
/// its own test).
fn unhurried() -> AnalyzerSettings {
    let mut settings = AnalyzerSettings::default();
    settings.coccinelle.wall_budget = Duration::from_secs(900);
    settings.coccinelle.cpu_budget = Duration::from_secs(900);
    settings.coccinelle.script_timeout = Duration::from_secs(300);
    settings
}

fn analyzers(kernel: &support::Kernel, tip: git2::Oid) -> TreeAnalyzers {
    TreeAnalyzers::new(
        unhurried(),
        Some(TreeInput::new(&kernel.path, kernel.base, Some(tip))),
    )
}

#[tokio::test]
async fn the_rmap_patch_gets_checkpatch_and_coccinelle_findings_but_not_the_old_warning() {
    let Some(kernel) = kernel() else {
        return skip("the_rmap_patch_gets_checkpatch_and_coccinelle_findings");
    };
    if !tools_installed("the_rmap_patch_gets_checkpatch_and_coccinelle_findings") {
        return;
    }
    let tip = rmap_patch(kernel);
    let series = series(kernel, kernel.base, tip);
    let reports = analyzers(kernel, tip).analyze(&series).await;
    for run in &reports.runs {
        eprintln!("{}", run.summary());
    }

    let checkpatch = reports
        .run(AnalyzerTool::Checkpatch)
        .expect("checkpatch report");
    assert_eq!(checkpatch.state, AnalyzerState::Ran, "{checkpatch:?}");
    assert!(checkpatch
        .source
        .starts_with("scripts/checkpatch.pl of the tree at"));
    let printk = checkpatch
        .messages
        .iter()
        .find(|message| message.check == "PREFER_PR_LEVEL")
        .expect("checkpatch names printk(KERN_ERR");
    assert_eq!(
        (printk.file.as_deref(), printk.line),
        (Some("mm/rmap.c"), Some(213))
    );
    assert!(printk.message.contains("printk(KERN_ERR"), "{printk:?}");

    let cocci = reports
        .run(AnalyzerTool::Coccinelle)
        .expect("coccinelle report");
    assert_eq!(cocci.state, AnalyzerState::Ran, "{cocci:?}");
    assert!(
        cocci
            .ran
            .iter()
            .any(|script| script == "locks/mini_lock.cocci"),
        "{:?}",
        cocci.ran
    );
    let got: Vec<(&str, Option<u32>, &str, bool)> = cocci
        .messages
        .iter()
        .map(|m| (m.check.as_str(), m.line, m.message.as_str(), m.preexisting))
        .collect();
    assert_eq!(
        got,
        vec![("locks/mini_lock.cocci", Some(214), "preceding lock on line 211", false)],
        "only the new missing unlock; the atomic_as_refcounter warning at line 2380 was there before"
    );
    assert_eq!(cocci.messages[0].related_lines, vec![211]);

    let (findings, notes) = analysis::findings(cocci, &series);
    assert!(notes.is_empty(), "{notes:?}");
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].problem,
        "Coccinelle (locks/mini_lock.cocci) reports: preceding lock on line 211"
    );
    assert_eq!(
        (findings[0].line_start, findings[0].severity),
        (214, Severity::Medium)
    );
    let (findings, _) = analysis::findings(checkpatch, &series);
    let printk = findings
        .iter()
        .find(|finding| finding.problem.starts_with("checkpatch (PREFER_PR_LEVEL)"))
        .expect("a checkpatch finding");
    assert_eq!((printk.line_start, printk.severity), (213, Severity::Low));
}

#[tokio::test]
async fn a_report_the_baseline_had_next_to_a_change_is_marked_preexisting() {
    let Some(kernel) = kernel() else {
        return skip("a_report_the_baseline_had_next_to_a_change_is_marked_preexisting");
    };
    if !tools_installed("a_report_the_baseline_had_next_to_a_change_is_marked_preexisting") {
        return;
    }
    let tip = commit(
        kernel,
        kernel.base,
        "mm/rmap: say why the root is freed last\n\nA comment.\n\nSigned-off-by: Ann Example <ann@example.org>\n",
        &[("mm/rmap.c", &|text: &str| {
            insert_after(
                text,
                "\tstruct anon_vma *root = anon_vma->root;\n\n\tanon_vma_free(anon_vma);\n",
                "\t/* The root goes last: its children hold a reference. */\n",
            )
        })],
    );
    let series = series(kernel, kernel.base, tip);
    let mut analyzers = analyzers(kernel, tip);
    analyzers.settings.coccinelle.scripts = vec!["api/".to_owned()];
    let reports = analyzers.analyze(&series).await;
    let cocci = reports
        .run(AnalyzerTool::Coccinelle)
        .expect("coccinelle report");
    let refcount: Vec<_> = cocci
        .messages
        .iter()
        .filter(|m| m.check == "api/atomic_as_refcounter.cocci")
        .collect();
    assert_eq!(refcount.len(), 1, "{cocci:?}");
    assert!(refcount[0].preexisting);
    assert_eq!(refcount[0].line, Some(2377));
    let (findings, _) = analysis::findings(cocci, &series);
    assert!(findings.iter().all(|finding| finding.preexisting));
}

#[tokio::test]
async fn scripts_the_series_edits_are_not_the_ones_that_run() {
    let Some(kernel) = kernel() else {
        return skip("scripts_the_series_edits_are_not_the_ones_that_run");
    };
    if !tools_installed("scripts_the_series_edits_are_not_the_ones_that_run") {
        return;
    }
    let marker = "/tmp/sashiko-analyzers-ran-patch-code";
    let _ = std::fs::remove_file(marker);
    let evil_perl = format!("system('touch {marker}'); print \"total: 0 errors\\n\";\n");
    let evil_cocci =
        format!("virtual report\n@script:python@\n@@\nimport os\nos.system('touch {marker}')\n");
    let tip = rmap_patch(kernel);
    let tip = commit(
        kernel,
        tip,
        "scripts: run something else\n\nSigned-off-by: Ann Example <ann@example.org>\n",
        &[
            ("scripts/checkpatch.pl", &|_: &str| evil_perl.clone()),
            ("scripts/coccinelle/locks/mini_lock.cocci", &|_: &str| {
                evil_cocci.clone()
            }),
        ],
    );
    let series = series(kernel, kernel.base, tip);
    let mut analyzers = analyzers(kernel, tip);
    analyzers.settings.coccinelle.scripts = vec!["locks/".to_owned()];
    let reports = analyzers.analyze(&series).await;
    assert!(
        !PathBuf::from(marker).exists(),
        "a script from the series ran"
    );
    let cocci = reports
        .run(AnalyzerTool::Coccinelle)
        .expect("coccinelle report");
    assert!(cocci
        .messages
        .iter()
        .any(|m| m.check == "locks/mini_lock.cocci" && m.line == Some(214)));
    let checkpatch = reports
        .run(AnalyzerTool::Checkpatch)
        .expect("checkpatch report");
    assert!(checkpatch
        .messages
        .iter()
        .any(|m| m.check == "PREFER_PR_LEVEL"));
}

#[tokio::test]
async fn without_the_tools_or_scripts_the_stages_are_skipped_with_the_reason() {
    let Some(kernel) = kernel() else {
        return skip("without_the_tools_or_scripts_the_stages_are_skipped_with_the_reason");
    };
    let tip = rmap_patch(kernel);
    let series = series(kernel, kernel.base, tip);
    let mut settings = AnalyzerSettings::default();
    settings.coccinelle.spatch = PathBuf::from("/nonexistent/spatch");
    settings.checkpatch.perl = PathBuf::from("/nonexistent/perl");
    let tree = TreeInput::new(&kernel.path, kernel.base, Some(tip));
    let reports = TreeAnalyzers::new(settings, Some(tree))
        .analyze(&series)
        .await;
    for (tool, reason) in [
        (
            AnalyzerTool::Checkpatch,
            "perl (/nonexistent/perl) is not installed",
        ),
        (
            AnalyzerTool::Coccinelle,
            "spatch (/nonexistent/spatch) is not installed (Debian package coccinelle)",
        ),
    ] {
        let run = reports.run(tool).expect("a report per tool");
        assert_eq!(run.state, AnalyzerState::Skipped);
        assert_eq!(run.reason.as_deref(), Some(reason));
        assert!(run.messages.is_empty());
    }

    // A tree without the scripts: the base commit minus scripts/.
    let repo = git2::Repository::open(&kernel.path).expect("repo");
    let tree = repo
        .find_commit(kernel.base)
        .expect("commit")
        .tree()
        .expect("tree");
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.remove("scripts/checkpatch.pl");
    update.remove("scripts/coccinelle");
    let without = update.create_updated(&repo, &tree).expect("tree");
    let signature = git2::Signature::now("A", "a@b").expect("signature");
    let base = repo
        .commit(
            None,
            &signature,
            &signature,
            "no scripts",
            &repo.find_tree(without).expect("tree"),
            &[],
        )
        .expect("commit");
    let reports = TreeAnalyzers::new(
        unhurried(),
        Some(TreeInput::new(&kernel.path, base, Some(tip))),
    )
    .analyze(&series)
    .await;
    let checkpatch = reports.run(AnalyzerTool::Checkpatch).expect("checkpatch");
    assert_eq!(checkpatch.state, AnalyzerState::Skipped);
    assert!(
        checkpatch
            .reason
            .as_deref()
            .is_some_and(|reason| reason.starts_with("the tree has no scripts/checkpatch.pl")),
        "{checkpatch:?}"
    );
    if tools_installed("without_the_tools_or_scripts (no scripts)") {
        let cocci = reports.run(AnalyzerTool::Coccinelle).expect("coccinelle");
        assert_eq!(cocci.state, AnalyzerState::Skipped, "{cocci:?}");
        assert!(cocci
            .reason
            .as_deref()
            .is_some_and(|reason| reason.starts_with("the tree has no semantic patches")));
    }

    // No tree at all: nothing to compare, no script to run.
    let reports = TreeAnalyzers::new(AnalyzerSettings::default(), None)
        .analyze(&series)
        .await;
    assert!(reports
        .runs
        .iter()
        .all(|run| run.state == AnalyzerState::Skipped && run.reason.is_some()));
}

#[tokio::test]
async fn scripts_the_budget_leaves_out_are_named() {
    let Some(kernel) = kernel() else {
        return skip("scripts_the_budget_leaves_out_are_named");
    };
    if !tools_installed("scripts_the_budget_leaves_out_are_named") {
        return;
    }
    let tip = rmap_patch(kernel);
    let series = series(kernel, kernel.base, tip);
    let mut settings = AnalyzerSettings::default();
    settings.coccinelle.jobs = 1;
    settings.coccinelle.wall_budget = Duration::from_millis(1);
    let tree = TreeInput::new(&kernel.path, kernel.base, Some(tip));
    let reports = TreeAnalyzers::new(settings, Some(tree))
        .analyze(&series)
        .await;
    let cocci = reports.run(AnalyzerTool::Coccinelle).expect("coccinelle");
    assert_eq!(cocci.state, AnalyzerState::Ran);
    assert!(cocci.messages.is_empty());
    assert!(
        cocci
            .skipped_for_budget
            .iter()
            .any(|script| script == "locks/mini_lock.cocci"),
        "{cocci:?}"
    );
    assert!(
        cocci.summary().contains("skipped for the time budget: "),
        "{}",
        cocci.summary()
    );
}

#[tokio::test]
async fn a_report_away_from_the_change_is_left_out() {
    let Some(kernel) = kernel() else {
        return skip("a_report_away_from_the_change_is_left_out");
    };
    if !tools_installed("a_report_away_from_the_change_is_left_out") {
        return;
    }
    // A comment in folio_lock_anon_vma_read(), which calls
    // atomic_dec_and_test(): api/atomic_as_refcounter.cocci is relevant,
    // and on the whole file it reports __put_anon_vma() far below, as it
    // did before the series.
    let tip = commit(
        kernel,
        kernel.base,
        "mm/rmap: explain the last reference\n\nA comment.\n\nSigned-off-by: Ann Example <ann@example.org>\n",
        &[("mm/rmap.c", &|text: &str| {
            insert_after(
                text,
                "\trcu_read_unlock();\n\tanon_vma_lock_read(anon_vma);\n\n",
                "\t/* We may hold the last reference now. */\n",
            )
        })],
    );
    let series = series(kernel, kernel.base, tip);
    for whole_files in [true, false] {
        let mut analyzers = analyzers(kernel, tip);
        analyzers.settings.checkpatch.enabled = false;
        analyzers.settings.coccinelle.whole_files = whole_files;
        analyzers.settings.coccinelle.scripts = vec!["api/atomic_as_refcounter.cocci".to_owned()];
        let reports = analyzers.analyze(&series).await;
        let cocci = reports
            .run(AnalyzerTool::Coccinelle)
            .expect("coccinelle report");
        assert_eq!(
            cocci.ran,
            vec!["api/atomic_as_refcounter.cocci"],
            "{cocci:?}"
        );
        assert!(cocci.messages.is_empty(), "{cocci:?}");
        let away = cocci
            .notes
            .iter()
            .any(|note| note.starts_with("1 report(s) away from the changed lines"));
        // Blanking the unchanged functions hides the far report from spatch
        // altogether.
        assert_eq!(away, whole_files, "{:?}", cocci.notes);
    }
}
