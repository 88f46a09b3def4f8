//! The carry phase: on version n+1 of a series reviewed before, an
//! earlier finding is still present only when this review raised it again
//! (a model stage or a deterministic check) or the verify step, given the
//! interdiff and the earlier finding, confirms it; it is fixed when a
//! deterministic re-check of this version's end state shows the defect
//! gone; otherwise it is only "not raised again", listed with its earlier
//! text and never reported (see [`crate::versions`]). This review's other
//! findings are new. Then the findings are put in patch order.

use super::output::{DroppedFinding, ReviewError, ReviewOutput, VersionReport};
use super::prefix::Prefix;
use super::state::ReviewState;
use super::Progress;
use crate::finding::Finding;
use crate::known;
use crate::prompts::StageKind;
use crate::staging;
use crate::versions::{CarriedFinding, Carry};

/// Classify against the earlier version, when there is one.
pub(super) async fn run(
    state: &mut ReviewState<'_>,
    prefix: &Prefix<'_>,
    progress: Progress<'_>,
) -> Result<(), ReviewError> {
    let (Some(previous), Some(interdiff)) = (&state.inputs.previous, state.interdiff.take()) else {
        return Ok(());
    };
    let series = state.series;
    let mut plan = crate::versions::plan_carry(
        previous,
        series,
        &state.output.findings,
        &state.inputs.context,
    );
    plan.unconfirmed.sort_by_key(|carried| carried.earlier_id);
    // Only a finding whose code this version still has, where the reply
    // can quote it, can be confirmed.
    let (askable, mut not_raised): (Vec<CarriedFinding>, Vec<CarriedFinding>) = plan
        .unconfirmed
        .into_iter()
        .partition(|carried| super::aggregate::is_anchored(&carried.finding, &state.patch_lines));
    let verify_stage = state
        .prompts
        .stages
        .iter()
        .find(|s| s.kind == StageKind::Verify);
    let mut labels: Vec<(Carry, Option<i64>)> =
        vec![(Carry::New, None); state.output.findings.len()];
    for (at, id) in &plan.raised_again {
        labels[*at] = (Carry::StillPresent, Some(*id));
    }
    match (&state.client, verify_stage) {
        (Some(client), Some(stage)) if !askable.is_empty() => {
            let candidates: Vec<Finding> = askable
                .iter()
                .map(|carried| carried.finding.clone())
                .collect();
            let scope = staging::for_verify(&prefix.staged, &candidates);
            let confirmed = match crate::verify::confirm_carried(
                client.as_ref(),
                state.prompts,
                stage,
                &scope,
                &state.secrets,
                &candidates,
                previous.version,
                state.settings,
            )
            .await
            {
                Ok(confirmed) => confirmed,
                Err(error) if !error.is_bad_answer() => return Err(error),
                Err(error) => {
                    // Nothing confirmed: the earlier findings are only
                    // "not raised again", and the verify stage failed.
                    let report = super::output::failed_report(stage, &error);
                    add_verify_report(&mut state.output.stages, report);
                    crate::verify::Confirmed {
                        reasons: vec![None; candidates.len()],
                        report: super::output::stage_report(
                            stage,
                            super::output::StageState::Failed,
                            None,
                            0,
                        ),
                        leaked: false,
                    }
                }
            };
            progress(&format!(
                "stage {} done: earlier findings confirmed or not",
                stage.name
            ));
            let output = &mut state.output;
            output.compromised |= confirmed.leaked;
            output.usage += confirmed.report.usage;
            if confirmed.report.state == super::output::StageState::Ran {
                add_verify_report(&mut output.stages, confirmed.report);
            }
            for (mut carried, reason) in askable.into_iter().zip(confirmed.reasons) {
                let Some(reason) = reason else {
                    not_raised.push(carried);
                    continue;
                };
                if let Some(known) = known::known_reason(
                    &carried.finding,
                    series,
                    &state.prompts.prescan.known_markers,
                    &state.inputs.known_fingerprints,
                ) {
                    output.known.push(DroppedFinding {
                        finding: carried.finding,
                        reason: known,
                    });
                    continue;
                }
                carried.carry = Carry::StillPresent;
                carried.note = Some(format!("confirmed by the verify step: {reason}"));
                output.findings.push(carried.finding.clone());
                labels.push((Carry::StillPresent, carried.earlier_id));
            }
        }
        _ => not_raised.extend(askable),
    }
    for carried in &mut not_raised {
        carried.carry = Carry::NotRaisedAgain;
    }
    not_raised.sort_by_key(|carried| carried.earlier_id);
    state.output.versions = Some(VersionReport {
        earlier_version: previous.version,
        earlier_review_id: previous.review_id,
        findings: labels,
        fixed: plan.fixed,
        not_raised_again: not_raised,
        interdiff_files: interdiff.files.iter().map(|f| f.file.clone()).collect(),
        notes: interdiff.notes,
    });
    Ok(())
}

/// The verify stage's report of the confirmation, into the stage list:
/// it replaces a "not applicable" entry (nothing else was verified) and
/// adds to one that ran.
fn add_verify_report(
    stages: &mut Vec<super::output::StageReport>,
    report: super::output::StageReport,
) {
    match stages.iter_mut().find(|stage| stage.name == report.name) {
        Some(existing) if report.state == super::output::StageState::Failed => *existing = report,
        Some(existing) if existing.state == super::output::StageState::Ran => {
            existing.candidates += report.candidates;
            existing.attempts += report.attempts;
            existing.repairs += report.repairs;
            existing.usage += report.usage;
            existing.elapsed_ms += report.elapsed_ms;
            existing.retry_wait_ms += report.retry_wait_ms;
        }
        Some(existing) => *existing = report,
        None => stages.push(report),
    }
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
