//! The prefix phase: which finder stages apply, and the shared prefix they
//! are asked on (each stage's token budget, the context plan, the series
//! as the model is shown it). Also guide routing, which the inputs phase
//! and other crates use.
//!
//! Pure: counts tokens with the client's counter, sends nothing.

use sashiko_llm_core::tokens::TokenCounter;

use super::output::{no_model, stage_report, StageState};
use super::state::ReviewState;
use crate::anchor::PatchLines;
use crate::guides::{self, Guide};
use crate::maintainers::Maintainers;
use crate::prompts::{PromptSet, StageDef, StageKind};
use crate::series::ReviewSeries;
use crate::staging::{self, Staged, StagingInput};

/// The finder stages to ask and the requests' shared preparation.
pub(super) struct Prefix<'a> {
    pub finders: Vec<&'a StageDef>,
    pub staged: Staged,
}

/// Select the finder stages (reporting those that do not apply or cannot
/// run) and prepare their shared prefix.
pub(super) fn prepare<'a>(state: &mut ReviewState<'a>) -> Prefix<'a> {
    let prompts = state.prompts;
    let mut finders = Vec::new();
    for stage in prompts
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Finder)
    {
        if let Some(reason) = not_applicable_reason(stage, state.series) {
            state.output.stages.push(stage_report(
                stage,
                StageState::NotApplicable,
                Some(reason),
                0,
            ));
        } else if state.client.is_none() {
            state.output.stages.push(stage_report(
                stage,
                StageState::Skipped,
                Some(no_model()),
                0,
            ));
        } else {
            finders.push(stage);
        }
    }
    let counter = match &state.client {
        Some(client) => TokenCounter::for_model(client.provider(), client.model()),
        None => TokenCounter::uncalibrated(),
    };
    let verify_stage = prompts.stages.iter().find(|s| s.kind == StageKind::Verify);
    let staged = staging::prepare(&StagingInput {
        prompts,
        series: state.series,
        secrets: &state.secrets,
        snippets: &state.snippets,
        finders: &finders,
        verify: verify_stage,
        guides: &state.guides,
        subsystems: &state.output.subsystems,
        tools: state.inputs.tools.as_ref(),
        max_output_tokens: state.settings.max_output_tokens,
        counter: &counter,
    });
    state.output.context_notes = staged.plan.notes.clone();
    if let Some(first) = staged.plan.chunks.first() {
        state
            .output
            .context_notes
            .extend(first.shared_notes.iter().cloned());
    }
    Prefix { finders, staged }
}

/// Why `stage` does not apply to `series`, if it does not.
pub fn not_applicable_reason(stage: &StageDef, series: &ReviewSeries) -> Option<String> {
    let when = &stage.when;
    if !when.paths_any.is_empty() {
        let touched = series.patches.iter().any(|patch| {
            PatchLines::from_diff(&patch.diff).files().any(|file| {
                when.paths_any
                    .iter()
                    .any(|prefix| file.starts_with(prefix.as_str()))
            })
        });
        if !touched {
            return Some(format!(
                "no changed file under {}",
                when.paths_any.join(", ")
            ));
        }
    }
    if !when.touches_any.is_empty() {
        let touched = series.patches.iter().any(|patch| {
            patch
                .diff
                .lines()
                .filter(|line| {
                    (line.starts_with('+') && !line.starts_with("+++"))
                        || (line.starts_with('-') && !line.starts_with("---"))
                })
                .any(|line| {
                    when.touches_any
                        .iter()
                        .any(|word| line.contains(word.as_str()))
                })
        });
        if !touched {
            return Some("no changed line uses the patterns this stage reviews".to_owned());
        }
    }
    None
}

/// Subsystems a series touches and the guides that apply to it.
pub struct GuideRouting<'a> {
    pub subsystems: Vec<String>,
    pub guides: Vec<&'a Guide>,
}

/// Route a series through MAINTAINERS (when known) to its guides.
pub fn route_guides<'a>(
    prompts: &'a PromptSet,
    series: &ReviewSeries,
    maintainers: Option<&Maintainers>,
) -> GuideRouting<'a> {
    let patch_lines: Vec<PatchLines> = series
        .patches
        .iter()
        .map(|patch| PatchLines::from_diff(&patch.diff))
        .collect();
    let changed_files: Vec<&str> = patch_lines.iter().flat_map(PatchLines::files).collect();
    let matches = match maintainers {
        Some(maintainers) => {
            let text: String = series
                .patches
                .iter()
                .map(|patch| patch.diff.as_str())
                .collect();
            maintainers.route(&changed_files, &text)
        }
        None => Vec::new(),
    };
    GuideRouting {
        subsystems: matches.iter().map(|m| m.name.clone()).collect(),
        guides: guides::select(&prompts.guides, &matches, &changed_files),
    }
}
