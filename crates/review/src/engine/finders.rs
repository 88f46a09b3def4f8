//! The finders phase: every applicable finder stage asked on every chunk
//! of the plan, `runs` times, with at most `concurrency` requests in
//! flight. Candidates are kept per run for aggregation; a leaked canary
//! marks the review compromised.

use std::sync::Arc;

use futures::stream::{self, StreamExt};
use sashiko_llm_core::LlmClient;

use super::ask::ask_findings;
use super::options::{ReviewInputs, ReviewSettings};
use super::output::{ReviewError, StageReport};
use super::prefix::Prefix;
use super::state::ReviewState;
use super::Progress;
use crate::finding::Finding;
use crate::guides;
use crate::plan;
use crate::prompts::{PromptSet, StageDef};
use crate::request::{self, ReviewSecrets};
use crate::staging;
use crate::toolstage;

/// Ask the finder stages; one list of candidates per run.
pub(super) async fn run(
    state: &mut ReviewState<'_>,
    prefix: &Prefix<'_>,
    progress: Progress<'_>,
) -> Result<Vec<Vec<Finding>>, ReviewError> {
    let mut per_run = Vec::new();
    let Some(client) = state.client.clone() else {
        return Ok(per_run);
    };
    let settings = state.settings;
    for run in 0..settings.runs.max(1) {
        let mut pending = Vec::new();
        for chunk in &prefix.staged.plan.chunks {
            for stage in prefix.finders.iter().copied() {
                let guidance = guides::for_stage(&state.guides, &stage.name);
                pending.push(ask_stage(StageAsk {
                    prompts: state.prompts,
                    stage,
                    chunk,
                    staged: &prefix.staged,
                    secrets: &state.secrets,
                    client: Arc::clone(&client),
                    settings,
                    inputs: state.inputs,
                    guidance,
                    shown: &state.shown,
                }));
            }
        }
        let results: Vec<_> = stream::iter(pending)
            .buffered(settings.concurrency.max(1))
            .collect()
            .await;
        let mut candidates = Vec::new();
        for (stage, result) in results {
            let (findings, report, leaked) = match result {
                Ok(answered) => answered,
                Err(error) if !error.is_bad_answer() => return Err(error),
                Err(error) => {
                    // Failed after its retries: marked failed with the
                    // reason; the other stages and the builtins go on.
                    let report = super::output::failed_report(stage, &error);
                    progress(&format!(
                        "run {}: stage {} FAILED: {}",
                        run + 1,
                        stage.name,
                        report.reason.as_deref().unwrap_or("")
                    ));
                    merge_report(&mut state.output.stages, report);
                    continue;
                }
            };
            progress(&format!(
                "run {}: stage {} done: {} candidate(s)",
                run + 1,
                stage.name,
                findings.len()
            ));
            let output = &mut state.output;
            output.compromised |=
                leaked || findings.iter().any(|f| leaks(f, &state.secrets.canary));
            output.usage += report.usage;
            merge_report(&mut output.stages, report);
            candidates.extend(findings);
        }
        per_run.push(candidates);
    }
    Ok(per_run)
}

fn leaks(finding: &Finding, canary: &str) -> bool {
    finding.problem.contains(canary)
        || finding.severity_explanation.contains(canary)
        || finding
            .suggestion
            .as_deref()
            .is_some_and(|s| s.contains(canary))
}

/// One finder stage's request within one chunk of the plan.
struct StageAsk<'a> {
    prompts: &'a PromptSet,
    stage: &'a StageDef,
    chunk: &'a plan::Chunk,
    staged: &'a staging::Staged,
    secrets: &'a ReviewSecrets,
    client: Arc<dyn LlmClient>,
    settings: &'a ReviewSettings,
    inputs: &'a ReviewInputs,
    guidance: String,
    shown: &'a toolstage::Shown,
}

/// Build and send one finder stage's request.
async fn ask_stage(
    ask: StageAsk<'_>,
) -> (
    &StageDef,
    Result<(Vec<Finding>, StageReport, bool), ReviewError>,
) {
    let stage = ask.stage;
    let base = request::RequestBase {
        prompts: ask.prompts,
        series: &ask.chunk.series,
        secrets: ask.secrets,
        context: &ask.chunk.shared,
        max_output_tokens: ask.settings.max_output_tokens,
    };
    let own = ask
        .chunk
        .stages
        .get(&stage.name)
        .cloned()
        .unwrap_or_default();
    let mut notes = ask.chunk.shared_notes.clone();
    notes.extend(own.notes.iter().cloned());
    let extras = request::StageExtras {
        part: ask.chunk.label.as_deref(),
        context: &own.extra,
        notes: &notes,
    };
    let request = request::finder_request_with(&base, stage, &ask.guidance, &extras);
    let budget_tokens = ask
        .staged
        .budgets
        .get(&stage.name)
        .map_or(u64::MAX, |budget| budget.tokens);
    let tool_stage = ask
        .inputs
        .tools
        .as_ref()
        .filter(|_| !stage.tools.is_empty())
        .map(|tools| toolstage::ToolStage {
            tools,
            allowed: &stage.tools,
            settings: &ask.prompts.tools,
            budget_tokens,
            nonce: &ask.secrets.nonce,
            shown: ask.shown,
        });
    let mut result = ask_findings(
        ask.client.as_ref(),
        stage,
        &request,
        ask.settings,
        tool_stage.as_ref(),
    )
    .await;
    if let Ok((_, report, _)) = &mut result {
        report
            .notes
            .extend(staging::report_notes(ask.staged, ask.chunk, stage, &notes));
    }
    (stage, result)
}

/// Add a stage's report, summing with an earlier run of the same stage.
fn merge_report(stages: &mut Vec<StageReport>, report: StageReport) {
    match stages
        .iter_mut()
        .find(|existing| existing.name == report.name)
    {
        Some(existing) => {
            // One failed request (a run, a chunk) fails the stage.
            if report.state == super::output::StageState::Failed {
                existing.state = report.state;
                existing.reason = report.reason.clone();
            }
            existing.candidates += report.candidates;
            existing.attempts += report.attempts;
            existing.repairs += report.repairs;
            existing.usage += report.usage;
            existing.elapsed_ms += report.elapsed_ms;
            existing.retry_wait_ms += report.retry_wait_ms;
            for note in report.notes {
                if !existing.notes.contains(&note) {
                    existing.notes.push(note);
                }
            }
        }
        None => stages.push(report),
    }
}
