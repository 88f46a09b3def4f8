//! The wording phase: the report stage words each new finding's comment
//! to the author (see [`crate::wording`] for the checks a wording must
//! pass). Analyzer findings keep their own words, which name the tool;
//! pre-existing findings are not worded; a compromised review is not
//! worded at all.

use super::output::{no_model, stage_report, StageState};
use super::prefix::Prefix;
use super::state::ReviewState;
use super::Progress;
use crate::analysis;
use crate::finding::Finding;
use crate::prompts::{StageDef, StageKind};
use crate::staging;
use crate::wording::{self, WordingRequest};

/// Fill in [`super::ReviewOutput::wordings`], one entry per finding.
pub(super) async fn run(state: &mut ReviewState<'_>, prefix: &Prefix<'_>, progress: Progress<'_>) {
    state.output.wordings = vec![None; state.output.findings.len()];
    let Some(stage) = state
        .prompts
        .stages
        .iter()
        .find(|s| s.kind == StageKind::Report)
    else {
        return;
    };
    let to_word = findings_to_word(&state.output.findings);
    let client = match (&state.client, not_run_reason(state, &to_word)) {
        (_, Some((stage_state, reason))) => {
            state
                .output
                .stages
                .push(stage_report(stage, stage_state, Some(reason), 0));
            return;
        }
        (Some(client), None) => client.clone(),
        (None, None) => return,
    };
    ask(state, prefix, stage, client.as_ref(), to_word, progress).await;
}

/// Indices of the findings the report stage words.
fn findings_to_word(findings: &[Finding]) -> Vec<usize> {
    (0..findings.len())
        .filter(|at| {
            let finding = &findings[*at];
            !finding.preexisting && !analysis::is_analyzer_stage(&finding.stage)
        })
        .collect()
}

/// Why the report stage does not run, if it does not.
fn not_run_reason(state: &ReviewState<'_>, to_word: &[usize]) -> Option<(StageState, String)> {
    match &state.client {
        None => Some((StageState::Skipped, no_model())),
        Some(_) if to_word.is_empty() => Some((
            StageState::NotApplicable,
            "no findings to report".to_owned(),
        )),
        Some(_) if state.output.compromised => Some((
            StageState::NotApplicable,
            "the review is compromised and not reported".to_owned(),
        )),
        Some(_) => None,
    }
}

async fn ask(
    state: &mut ReviewState<'_>,
    prefix: &Prefix<'_>,
    stage: &StageDef,
    client: &dyn sashiko_llm_core::LlmClient,
    to_word: Vec<usize>,
    progress: Progress<'_>,
) {
    let output = &mut state.output;
    let findings: Vec<&Finding> = to_word.iter().map(|at| &output.findings[*at]).collect();
    let scope = staging::for_verify(&prefix.staged, &output.findings);
    let worded = wording::run(
        client,
        &WordingRequest {
            prompts: state.prompts,
            stage,
            series: &scope.series,
            context: &scope.context,
            secrets: &state.secrets,
            max_output_tokens: state.settings.max_output_tokens,
        },
        &findings,
    )
    .await;
    progress(&format!("stage {} done", stage.name));
    output.compromised |= worded.leaked;
    output.usage += worded.report.usage;
    output.stages.push(worded.report);
    for (at, wording) in to_word.into_iter().zip(worded.wordings) {
        output.wordings[at] = wording;
    }
}
