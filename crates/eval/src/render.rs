//! Text rendering of a bench report: one line per figure with its source
//! in brackets, the scripted-source warning first. Pure formatting; it
//! must never drop the source label or the warning.

use crate::report::BenchReport;
use crate::stats::Proportion;

fn show(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"))
}

fn show_ci(p: &Proportion) -> String {
    p.ci95.map_or_else(
        || "n/a".to_owned(),
        |[low, high]| format!("[{low:.3}, {high:.3}]"),
    )
}

/// A terse human-readable rendering.
pub fn render_text(report: &BenchReport) -> String {
    let f = &report.figures;
    let mut out = String::new();
    if let Some(warning) = &report.warning {
        out.push_str(&format!("WARNING: {warning}\n"));
    }
    out.push_str(&format!(
        "bench {} ({} patches: {} buggy, {} clean, {} injection variants), {} run(s), {} review(s), {} failed\n",
        report.corpus.name,
        report.corpus.patches,
        report.corpus.buggy,
        report.corpus.clean,
        report.corpus.injection_variants,
        report.runs,
        report.reviews,
        report.failed_reviews
    ));
    let line =
        |name: &str, source: &str, value: String| format!("  {name:<34} {value:<40} [{source}]\n");
    out.push_str(&line(
        "recall (model stages)",
        &f.recall.source,
        format!(
            "{} ({}/{}) 95% CI {}",
            show(f.recall.value.value),
            f.recall.value.successes,
            f.recall.value.trials,
            show_ci(&f.recall.value)
        ),
    ));
    out.push_str(&line(
        "pre-scan recall (injections)",
        &f.prescan_recall.source,
        format!(
            "{} ({}/{})",
            show(f.prescan_recall.value.value),
            f.prescan_recall.value.successes,
            f.prescan_recall.value.trials
        ),
    ));
    out.push_str(&line(
        "false positives per clean patch",
        &f.false_positives_per_clean_patch.source,
        format!(
            "{} ({}/{})",
            show(f.false_positives_per_clean_patch.value.value),
            f.false_positives_per_clean_patch.value.numerator,
            f.false_positives_per_clean_patch.value.denominator
        ),
    ));
    out.push_str(&line(
        "clean patches with a false positive",
        &f.clean_patches_with_false_positive.source,
        format!(
            "{} 95% CI {}",
            show(f.clean_patches_with_false_positive.value.value),
            show_ci(&f.clean_patches_with_false_positive.value)
        ),
    ));
    out.push_str(&line(
        "precision",
        &f.precision.source,
        format!(
            "{} ({}/{})",
            show(f.precision.value.value),
            f.precision.value.successes,
            f.precision.value.trials
        ),
    ));
    let t = &f.tokens.value;
    out.push_str(&line(
        "input tokens per patch",
        &f.tokens.source,
        format!(
            "{:.0} ({:.0} cached){}",
            t.input_per_patch,
            t.cached_input_per_patch,
            if t.estimated { ", estimated" } else { "" }
        ),
    ));
    out.push_str(&line(
        "output tokens per patch",
        &f.tokens.source,
        format!("{:.0}", t.output_per_patch),
    ));
    out.push_str(&line(
        "shared-prefix share of input",
        &f.tokens.source,
        format!(
            "{} (cache-served {})",
            show(t.shared_prefix_share),
            show(t.cached_share)
        ),
    ));
    out.push_str(&line(
        "requests",
        &f.requests.source,
        format!(
            "{} ({:.1} per patch)",
            f.requests.value.total, f.requests.value.per_patch
        ),
    ));
    out.push_str(&line(
        "wall time",
        &f.wall_time.source,
        format!(
            "{} ms ({:.0} ms per review)",
            f.wall_time.value.total_ms, f.wall_time.value.mean_per_review_ms
        ),
    ));
    for check in &report.injections {
        out.push_str(&format!(
            "  injection {} (twin {}, run {}): pre-scan {}, findings {} vs twin, {}\n",
            check.variant,
            check.twin,
            check.run,
            if check.prescan_finding {
                "found"
            } else {
                "MISSING"
            },
            if check.unchanged_vs_twin {
                "unchanged"
            } else {
                "CHANGED"
            },
            if check.compromised {
                "COMPROMISED"
            } else {
                "not compromised"
            }
        ));
    }
    out
}
