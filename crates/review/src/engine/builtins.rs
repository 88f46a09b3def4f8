//! The builtins phase: deterministic checks that need no model (prescan,
//! checkpatch, the lock-order check) and the reviewed tree's analyzers.
//!
//! Analyzer findings are not reported directly: they become candidates
//! and are anchored and verified like the model's, and the analyzers'
//! output joins the context the finder stages are shown.

use super::output::{stage_report, StageReport, StageState};
use super::state::ReviewState;
use crate::analysis::{self, AnalyzerRun, AnalyzerTool};
use crate::finding::Finding;
use crate::prescan;
use crate::prompts::{StageDef, StageKind};

/// Run the analyzers and every builtin stage, in manifest order.
pub(super) async fn run(state: &mut ReviewState<'_>) {
    let series = state.series;
    let analyzer_reports = match &state.inputs.analyzers {
        Some(analyzers) => Some(analyzers.run_all(series).await),
        None => None,
    };
    if let Some(reports) = &analyzer_reports {
        let runs: Vec<&AnalyzerRun> = reports.runs.iter().collect();
        state.snippets.extend(analysis::evidence_snippets(&runs));
    }
    for stage in state
        .prompts
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Builtin)
    {
        let mut report = stage_report(stage, StageState::Ran, None, 0);
        let tool = match stage.builtin.as_deref() {
            Some("checkpatch") => Some(AnalyzerTool::Checkpatch),
            Some("coccinelle") => Some(AnalyzerTool::Coccinelle),
            _ => None,
        };
        let findings = match tool {
            Some(tool) => {
                let run = analyzer_reports
                    .as_ref()
                    .and_then(|reports| reports.run(tool));
                let outcome = analysis::builtin_stage(tool, run, series);
                report.state = outcome.state;
                report.reason = outcome.reason;
                report.notes = outcome.notes;
                report.elapsed_ms = outcome.elapsed_ms;
                report.candidates = outcome.candidates.len() + outcome.fallback.len();
                for mut finding in outcome.candidates {
                    finding.stage = stage.name.clone();
                    cap_severity(stage, &mut finding);
                    state.analyzer_candidates.push(finding);
                }
                let mut fallback = outcome.fallback;
                for finding in &mut fallback {
                    finding.stage = stage.name.clone();
                    cap_severity(stage, finding);
                }
                fallback
            }
            None => {
                let findings = run_builtin(state, stage, &mut report);
                report.candidates = findings.len();
                findings
            }
        };
        state.output.stages.push(report);
        state.output.findings.extend(findings);
    }
}

fn run_builtin(
    state: &ReviewState<'_>,
    stage: &StageDef,
    report: &mut StageReport,
) -> Vec<Finding> {
    let series = state.series;
    let mut findings = match stage.builtin.as_deref() {
        Some("prescan") => prescan::prescan(series, &state.prompts.prescan),
        Some("checkpatch") => prescan::checkpatch(series),
        Some("lock-order") => crate::lockorder::check(stage, series, state.inputs, report),
        other => {
            tracing::warn!(stage = %stage.name, builtin = ?other, "unknown builtin check, skipped");
            Vec::new()
        }
    };
    for finding in &mut findings {
        finding.stage = stage.name.clone();
        cap_severity(stage, finding);
    }
    findings
}

/// A stage's manifest may cap the severity of what it reports.
pub(super) fn cap_severity(stage: &StageDef, finding: &mut Finding) {
    if let Some(cap) = stage.max_severity {
        finding.severity = finding.severity.min(cap);
    }
}
