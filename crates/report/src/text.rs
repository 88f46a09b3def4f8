//! The terse text report of `sashiko review`: findings per patch, what was
//! skipped and why, usage, then the inline reply the bot would send.

use std::fmt::Write as _;

use sashiko_review::versions::Carry;
use sashiko_review::{Finding, ReviewOutput, ReviewSeries, StageState};

use crate::inline::{render_worded_reply, Comment};
use crate::json::ReviewMeta;

pub fn render(series: &ReviewSeries, output: &ReviewOutput, meta: &ReviewMeta<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Series: {} ({} patch{})  [{}]",
        series.title,
        series.patches.len(),
        if series.patches.len() == 1 { "" } else { "es" },
        meta.source
    );
    if let Some(tree) = &meta.tree {
        let _ = writeln!(out, "Tree: {}", tree.note);
    }
    if output.compromised {
        out.push_str("!! The model's answer leaked the review canary: this review is marked compromised and must not be reported.\n");
    }
    for patch in &series.patches {
        let findings: Vec<(usize, &Finding)> = output
            .findings
            .iter()
            .enumerate()
            .filter(|(_, f)| f.patch_index == patch.index)
            .collect();
        let _ = writeln!(
            out,
            "\n[{}/{}] {}",
            patch.index,
            series.patches.len(),
            patch.subject
        );
        if findings.is_empty() {
            out.push_str("  no findings\n");
        }
        for (at, finding) in findings {
            let first_line = finding.problem.lines().next().unwrap_or("");
            let _ = writeln!(
                out,
                "  {:<8} {}  {}{}{}{}: {}",
                finding.severity.as_str(),
                location(finding),
                finding.stage,
                if finding.preexisting {
                    " (pre-existing)"
                } else {
                    ""
                },
                consensus_tag(finding, meta.runs),
                carry_tag(output, at),
                first_line
            );
            litmus_under(&mut out, output, finding);
        }
    }
    versions_section(&mut out, series, output);
    for stage in output.stages.iter().filter(|stage| {
        stage.state == StageState::Ran && sashiko_review::analysis::is_analyzer_stage(&stage.name)
    }) {
        if let Some(summary) = stage.notes.first() {
            let _ = writeln!(out, "\n{}: {summary}", stage.name);
        }
    }
    // Stages that failed after their retries: never passed, named first.
    for stage in output.failed_stages() {
        let _ = writeln!(
            out,
            "\nFAILED, NOT checked: {} ({})",
            stage.name,
            stage.reason.as_deref().unwrap_or("no reason given")
        );
    }
    // Stages skipped for want of a model, and those skipped for another
    // reason (a missing analyzer), each with its own true reason.
    let no_model = "no model configured";
    let skipped: Vec<&str> = output
        .stages
        .iter()
        .filter(|stage| stage.state == StageState::Skipped)
        .filter(|stage| stage.reason.as_deref() == Some(no_model))
        .map(|stage| stage.name.as_str())
        .collect();
    for stage in output.stages.iter().filter(|stage| {
        stage.state == StageState::Skipped && stage.reason.as_deref() != Some(no_model)
    }) {
        let _ = writeln!(
            out,
            "\nSkipped, NOT checked: {} ({})",
            stage.name,
            stage.reason.as_deref().unwrap_or("no reason given")
        );
    }
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "\nSkipped (no model configured, NOT checked): {}\n  To run them, point sashiko at a model, e.g. a local Ollama:\n    SASHIKO_LLM_PROVIDER=openai SASHIKO_LLM_BASE_URL=http://127.0.0.1:11434/v1 SASHIKO_LLM_MODEL=qwen2.5-coder\n  or a hosted one with SASHIKO_LLM_API_KEY set; see `sashiko config` and the README.",
            skipped.join(", ")
        );
    }
    let not_applicable: Vec<String> = output
        .stages
        .iter()
        .filter(|stage| stage.state == StageState::NotApplicable)
        .map(|stage| stage.name.clone())
        .collect();
    if !not_applicable.is_empty() {
        let _ = writeln!(
            out,
            "Not applicable to this series: {}",
            not_applicable.join(", ")
        );
    }
    if !output.known.is_empty() {
        let _ = writeln!(
            out,
            "Known issues not reported again: {}",
            output.known.len()
        );
        for dropped in &output.known {
            let finding = &dropped.finding;
            let _ = writeln!(
                out,
                "  [{}] {:<8} {}:{}-{}  {}: {}\n      why: {}",
                finding.patch_index,
                finding.severity.as_str(),
                finding.file,
                finding.line_start,
                finding.line_end,
                finding.stage,
                finding.problem.lines().next().unwrap_or(""),
                dropped.reason
            );
        }
    }
    if !output.fixed_later.is_empty() {
        let _ = writeln!(
            out,
            "Fixed later in the series, not reported: {}",
            output.fixed_later.len()
        );
        for dropped in &output.fixed_later {
            let finding = &dropped.finding;
            let _ = writeln!(
                out,
                "  [{}] {}  {}: {}",
                finding.patch_index,
                location(finding),
                finding.stage,
                dropped.reason
            );
        }
    }
    if output.unanchored > 0 {
        let _ = writeln!(
            out,
            "Dropped {} candidate(s) citing lines outside the patch.",
            output.unanchored
        );
    }
    let usage = &output.usage;
    let _ = writeln!(
        out,
        "Usage: {} request(s), {} input tokens ({} cached), {} output tokens, {:.1} s",
        usage.requests,
        usage.input_tokens + usage.cache_read_tokens,
        usage.cache_read_tokens,
        usage.output_tokens,
        meta.wall_ms as f64 / 1000.0
    );
    if !output.compromised {
        let all: Vec<Comment<'_>> = output
            .findings
            .iter()
            .enumerate()
            .map(|(at, finding)| Comment {
                finding,
                wording: output.wordings.get(at).and_then(Option::as_deref),
            })
            .collect();
        for patch in &series.patches {
            if let Some(reply) = render_worded_reply(patch, &all) {
                let _ = writeln!(
                    out,
                    "\n---- inline reply to [{}/{}] {} ----\n",
                    patch.index,
                    series.patches.len(),
                    patch.subject
                );
                out.push_str(&reply);
            }
        }
    }
    out
}

/// The checker's verdict under a finding with a litmus test. The test
/// itself is shown where the finding is read in full: in its inline reply
/// comment below, or here when no reply carries it (a pre-existing bug, a
/// compromised review).
fn litmus_under(out: &mut String, output: &ReviewOutput, finding: &Finding) {
    let Some(block) = crate::litmus::evidence_block(finding) else {
        return;
    };
    if finding.preexisting || output.compromised {
        for line in block.lines() {
            let _ = writeln!(out, "           {line}");
        }
        return;
    }
    let verdict: Vec<&str> = block
        .lines()
        .filter(|line| !line.starts_with(' ') && !line.is_empty())
        .collect();
    let _ = writeln!(
        out,
        "           {} (test in the inline reply below)",
        verdict.join(" ")
    );
}

/// `file:23` for one line, `file:23-25` for a range.
fn location(finding: &Finding) -> String {
    file_lines(&finding.file, finding.line_start, finding.line_end)
}

/// `file:23` when a span is one line (never `file:23-23`), else
/// `file:23-25`.
pub fn file_lines<N: PartialOrd + std::fmt::Display>(file: &str, start: N, end: N) -> String {
    if end <= start {
        format!("{file}:{start}")
    } else {
        format!("{file}:{start}-{end}")
    }
}

/// " (2/3 runs)" when the review ran more than once.
fn consensus_tag(finding: &Finding, runs: u32) -> String {
    if runs > 1 {
        format!(" ({}/{runs} runs)", finding.consensus)
    } else {
        String::new()
    }
}

/// " [new in v2]" or " [still present from v1]" on v(n+1) reviews.
fn carry_tag(output: &ReviewOutput, at: usize) -> String {
    let Some(versions) = &output.versions else {
        return String::new();
    };
    match versions.findings.get(at) {
        Some((Carry::StillPresent, _)) => {
            format!(" [still present from v{}]", versions.earlier_version)
        }
        Some((Carry::New, _)) => format!(" [new since v{}]", versions.earlier_version),
        Some((Carry::Fixed | Carry::NotRaisedAgain, _)) | None => String::new(),
    }
}

/// What changed since the earlier reviewed version: counts, the files the
/// interdiff shows, and the earlier findings now fixed.
fn versions_section(out: &mut String, series: &ReviewSeries, output: &ReviewOutput) {
    let Some(versions) = &output.versions else {
        return;
    };
    let count = |wanted: Carry| {
        versions
            .findings
            .iter()
            .filter(|(carry, _)| *carry == wanted)
            .count()
    };
    let _ = writeln!(
        out,
        "\nSince v{} (review {}): {} new, {} still present, {} fixed, {} not raised again; changed files: {}",
        versions.earlier_version,
        versions.earlier_review_id,
        count(Carry::New),
        count(Carry::StillPresent),
        versions.fixed.len(),
        versions.not_raised_again.len(),
        if versions.interdiff_files.is_empty() {
            "none".to_owned()
        } else {
            versions.interdiff_files.join(", ")
        }
    );
    for fixed in &versions.fixed {
        let finding = &fixed.finding;
        let _ = writeln!(
            out,
            "  fixed in v{}: {}  {}: {}",
            series.version,
            fixed.earlier_location.as_deref().unwrap_or(""),
            finding.stage,
            finding.problem.lines().next().unwrap_or("")
        );
        if let Some(note) = &fixed.note {
            let _ = writeln!(out, "      re-checked: {note}");
        }
    }
    for earlier in &versions.not_raised_again {
        let finding = &earlier.finding;
        let _ = writeln!(
            out,
            "  not raised again in v{}, not reported: {}  {}: {}",
            series.version,
            earlier.earlier_location.as_deref().unwrap_or(""),
            finding.stage,
            finding.problem.lines().next().unwrap_or("")
        );
    }
    for note in &versions.notes {
        let _ = writeln!(out, "  note: {note}");
    }
}
