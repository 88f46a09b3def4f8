//! Running a prompt set over a series, as named phases over one
//! [`state::ReviewState`]: inputs (secrets, interdiff, guide routing),
//! builtins (deterministic checks and the tree's analyzers), prefix (the
//! finder stages that apply and their shared, budgeted prefix), finders
//! (concurrently, `runs` times), aggregate, anchor and ground, verify,
//! known and end state, carry (against an earlier version) and wording.
//!
//! The model's answers are parsed as data into findings; nothing in an
//! answer can change which phases or stages run, who is told, or what is
//! stored beyond the findings themselves. An answer that leaks the canary
//! marks the review compromised.

mod aggregate;
mod ask;
mod builtins;
mod carry;
mod finders;
mod options;
mod output;
mod prefix;
mod settle;
mod state;
mod verifying;
mod wording;

use std::sync::Arc;

use sashiko_llm_core::LlmClient;

use crate::prompts::PromptSet;
use crate::series::ReviewSeries;

pub(crate) use ask::{canary_of, millis, stage_error};
pub use options::{ReviewInputs, ReviewOptions, ReviewSettings};
pub(crate) use output::stage_report;
pub use output::{
    DroppedFinding, ReviewError, ReviewOutput, StageReport, StageState, VersionReport,
};
pub use prefix::{not_applicable_reason, route_guides, GuideRouting};

/// Progress callback: a short human-readable line per event.
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// Run every stage of `prompts` over `series`.
pub async fn run_review(
    prompts: &PromptSet,
    series: &ReviewSeries,
    client: Option<Arc<dyn LlmClient>>,
    options: &ReviewOptions,
    progress: Progress<'_>,
) -> Result<ReviewOutput, ReviewError> {
    let mut state = state::ReviewState::new(prompts, series, client, options);
    builtins::run(&mut state).await;
    let prefix = prefix::prepare(&mut state);
    let per_run = finders::run(&mut state, &prefix, progress).await?;
    let candidates = aggregate::across_runs(&mut state, per_run);
    let anchored = aggregate::anchor_and_ground(&mut state, &prefix, candidates);
    let verified = verifying::run(&mut state, &prefix, anchored, progress).await?;
    settle::known_and_end_state(&mut state, verified);
    carry::run(&mut state, &prefix, progress).await?;
    carry::sort_findings(&mut state.output);
    wording::run(&mut state, &prefix, progress).await;
    Ok(state.output)
}
