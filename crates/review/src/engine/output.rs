//! What a review returns: findings, what was dropped and why, one report
//! per stage, and how the review relates to an earlier version's.
//!
//! Plain data; the phases in the sibling modules fill it in. Nothing here
//! talks to a model.

use sashiko_llm_core::{LlmError, Usage};
use serde::Serialize;

use crate::finding::Finding;
use crate::prompts::StageDef;

/// What happened to a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    /// It ran and its answer was used.
    Ran,
    /// It should have run but could not (no model configured). Never
    /// counts as passed.
    Skipped,
    /// Its condition does not hold for this series (e.g. no barriers).
    NotApplicable,
    /// It was asked and failed after its retries (an answer that stayed
    /// malformed, a model that stayed unreachable): the reason says why.
    /// NOT checked; the review goes on and is `partial`.
    Failed,
}

#[derive(Clone, Debug, Serialize)]
pub struct StageReport {
    pub name: String,
    pub state: StageState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub candidates: usize,
    pub attempts: u32,
    pub repairs: u32,
    pub usage: Usage,
    pub elapsed_ms: u64,
    pub retry_wait_ms: u64,
    /// What deterministic checkers concluded (e.g. litmus claims that hold).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A candidate finding that did not make it into the result, and why.
#[derive(Clone, Debug, Serialize)]
pub struct DroppedFinding {
    pub finding: Finding,
    pub reason: String,
}

/// The result of a review.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewOutput {
    pub findings: Vec<Finding>,
    pub dropped: Vec<DroppedFinding>,
    /// Findings that are known issues (annotated in the code or marked
    /// known): kept and counted, not reported.
    pub known: Vec<DroppedFinding>,
    /// Candidates citing lines outside the patch (dropped, counted), and
    /// pre-existing ones citing lines no tool or context showed.
    pub unanchored: usize,
    /// Pre-existing findings kept because they cite lines a tool returned
    /// or the context showed (outside the diff).
    pub grounded_outside_diff: usize,
    /// What the token budget left out or split, for the report.
    pub context_notes: Vec<String>,
    pub stages: Vec<StageReport>,
    pub usage: Usage,
    /// True when a model answer contained the canary: the review must not
    /// be reported.
    pub compromised: bool,
    pub prompt_set_hash: String,
    /// MAINTAINERS entries the series touches, most specific first.
    pub subsystems: Vec<String>,
    /// Names of the subsystem guides given to the stages.
    pub guides: Vec<String>,
    /// Findings whose cited code a later patch of the series changes or
    /// removes (the deterministic end-state check): kept and counted, not
    /// reported.
    pub fixed_later: Vec<DroppedFinding>,
    /// On version n+1 of a series reviewed before: how the findings relate
    /// to the earlier review.
    pub versions: Option<VersionReport>,
    /// One entry per finding of [`ReviewOutput::findings`], same order: the
    /// report stage's wording of its comment when one passed the checks;
    /// `None` means the finder's own text.
    pub wordings: Vec<Option<String>>,
}

/// How a review of version n+1 relates to the earlier version's review.
#[derive(Clone, Debug, Serialize)]
pub struct VersionReport {
    pub earlier_version: u32,
    pub earlier_review_id: i64,
    /// One entry per finding of [`ReviewOutput::findings`], same order:
    /// `new` or `still_present`, with the earlier finding's row id.
    pub findings: Vec<(crate::versions::Carry, Option<i64>)>,
    /// Earlier findings a deterministic re-check of this version's end
    /// state shows fixed (`note` says how).
    pub fixed: Vec<crate::versions::CarriedFinding>,
    /// Earlier findings this review did not raise again and the verify
    /// step did not confirm: listed with their earlier text, never
    /// reported.
    pub not_raised_again: Vec<crate::versions::CarriedFinding>,
    /// Files the interdiff shows (what changed since the earlier version).
    pub interdiff_files: Vec<String>,
    pub notes: Vec<String>,
}

impl ReviewOutput {
    pub fn skipped_stages(&self) -> impl Iterator<Item = &StageReport> {
        self.stages
            .iter()
            .filter(|stage| stage.state == StageState::Skipped)
    }

    /// Stages that failed after their retries: the review is partial.
    pub fn failed_stages(&self) -> impl Iterator<Item = &StageReport> {
        self.stages
            .iter()
            .filter(|stage| stage.state == StageState::Failed)
    }
}

impl ReviewError {
    /// The stage's answers stayed unusable after its retries (malformed,
    /// not fitting the schema): that stage fails, the review goes on. A
    /// model that cannot be reached fails the whole review instead.
    pub fn is_bad_answer(&self) -> bool {
        match self {
            ReviewError::Stage { source, .. } => {
                matches!(source, LlmError::InvalidStructuredOutput { .. })
            }
        }
    }
}

/// A stage's failure as its report says it: the error and its causes.
pub(crate) fn failure_reason(error: &ReviewError) -> String {
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

/// The report of a stage that failed after its retries.
pub(crate) fn failed_report(stage: &StageDef, error: &ReviewError) -> StageReport {
    stage_report(stage, StageState::Failed, Some(failure_reason(error)), 0)
}

/// Why a review could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("stage {stage} failed against {endpoint}")]
    Stage {
        stage: String,
        endpoint: String,
        #[source]
        source: LlmError,
    },
}

pub(crate) fn stage_report(
    stage: &StageDef,
    state: StageState,
    reason: Option<String>,
    candidates: usize,
) -> StageReport {
    StageReport {
        name: stage.name.clone(),
        state,
        reason,
        candidates,
        attempts: 0,
        repairs: 0,
        usage: Usage::default(),
        elapsed_ms: 0,
        retry_wait_ms: 0,
        notes: Vec::new(),
    }
}

/// The reason given for a model stage that could not run.
pub(super) fn no_model() -> String {
    "no model configured".to_owned()
}
