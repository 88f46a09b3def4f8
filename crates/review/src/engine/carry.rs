//! The carry phase: on version n+1 of a series reviewed before, this
//! review's findings are labelled new or still present against the
//! earlier review, earlier findings whose code survives are carried
//! forward, and those whose code is gone are reported fixed (see
//! [`crate::versions`]). Then the findings are put in patch order.

use super::options::ReviewInputs;
use super::output::{DroppedFinding, ReviewOutput, VersionReport};
use super::state::ReviewState;
use crate::finding::Finding;
use crate::known;
use crate::prompts::PromptSet;
use crate::series::ReviewSeries;

/// Classify against the earlier version, when there is one.
pub(super) fn run(state: &mut ReviewState<'_>) {
    if let (Some(previous), Some(interdiff)) = (&state.inputs.previous, state.interdiff.take()) {
        carry_forward(
            &mut state.output,
            state.prompts,
            state.series,
            state.inputs,
            previous,
            interdiff,
        );
    }
}

/// Classify findings against the earlier version's review: earlier
/// findings whose code survives are still present (added, re-anchored,
/// when this review did not raise them again, unless they are known
/// issues); the others are fixed, unless this review raised the same
/// problem again; this review's other findings are new.
fn carry_forward(
    output: &mut ReviewOutput,
    prompts: &PromptSet,
    series: &ReviewSeries,
    inputs: &ReviewInputs,
    previous: &crate::versions::PreviousVersion,
    interdiff: crate::versions::Interdiff,
) {
    use crate::versions::{same_problem, Carry};
    let carried = crate::versions::carry_forward(previous, series);
    let mut still_present = carried.still_present;
    let mut fixed = Vec::new();
    for mut earlier in carried.fixed {
        let raised_again = output
            .findings
            .iter()
            .find(|f| f.fingerprint() == earlier.finding.fingerprint());
        match raised_again {
            Some(again) => {
                earlier.finding = again.clone();
                earlier.carry = Carry::StillPresent;
                still_present.push(earlier);
            }
            None => fixed.push(earlier),
        }
    }
    for earlier in &still_present {
        if output
            .findings
            .iter()
            .any(|f| same_problem(&earlier.finding, f))
        {
            continue;
        }
        match known::known_reason(
            &earlier.finding,
            series,
            &prompts.prescan.known_markers,
            &inputs.known_fingerprints,
        ) {
            Some(reason) => output.known.push(DroppedFinding {
                finding: earlier.finding.clone(),
                reason,
            }),
            None => output.findings.push(earlier.finding.clone()),
        }
    }
    let labels = output
        .findings
        .iter()
        .map(|finding| {
            still_present
                .iter()
                .find(|earlier| same_problem(&earlier.finding, finding))
                .map_or((Carry::New, None), |earlier| {
                    (Carry::StillPresent, earlier.earlier_id)
                })
        })
        .collect();
    output.versions = Some(VersionReport {
        earlier_version: previous.version,
        earlier_review_id: previous.review_id,
        findings: labels,
        fixed,
        interdiff_files: interdiff.files.iter().map(|f| f.file.clone()).collect(),
        notes: interdiff.notes,
    });
}

/// Findings in patch, file and line order; version labels follow them.
pub(super) fn sort_findings(output: &mut ReviewOutput) {
    let key = |f: &Finding| (f.patch_index, f.file.clone(), f.line_start);
    match &mut output.versions {
        Some(versions) => {
            let mut paired: Vec<(Finding, (crate::versions::Carry, Option<i64>))> =
                std::mem::take(&mut output.findings)
                    .into_iter()
                    .zip(std::mem::take(&mut versions.findings))
                    .collect();
            paired.sort_by_key(|(finding, _)| key(finding));
            (output.findings, versions.findings) = paired.into_iter().unzip();
        }
        None => output.findings.sort_by_key(key),
    }
}
