//! Verification of candidate findings: a deterministic merge of identical
//! candidates, then the verify stage, whose decisions are applied only as
//! far as the rules allow (a drop needs a reason; unknown ids are ignored;
//! candidates the model does not mention are kept).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use sashiko_llm_core::{chat_structured, LlmClient, LlmError};
use serde::Serialize;

use crate::engine::{
    canary_of, millis, stage_error, stage_report, DroppedFinding, ReviewError, ReviewSettings,
    StageReport, StageState,
};
use crate::finding::Finding;
use crate::prompts::{PromptSet, StageDef};
use crate::request::{self, ReviewSecrets};
use crate::staging::Scope;
use crate::wire::{Action, VerifyAnswer};

/// Merge candidates with the same fingerprint on the same patch and
/// overlapping lines, keeping the higher severity.
pub fn merge_identical(candidates: Vec<Finding>) -> (Vec<Finding>, Vec<DroppedFinding>) {
    let mut kept: Vec<Finding> = Vec::new();
    let mut dropped = Vec::new();
    for candidate in candidates {
        let twin = kept.iter_mut().find(|existing| {
            existing.patch_index == candidate.patch_index
                && existing.fingerprint() == candidate.fingerprint()
                && existing.line_start <= candidate.line_end
                && candidate.line_start <= existing.line_end
        });
        match twin {
            Some(existing) => {
                existing.severity = existing.severity.max(candidate.severity);
                dropped.push(DroppedFinding {
                    finding: candidate,
                    reason: "identical to another candidate".to_owned(),
                });
            }
            None => kept.push(candidate),
        }
    }
    (kept, dropped)
}

/// Merge the candidates of several runs: findings on the same patch and
/// file, with lines within a few of each other and either the same stage or
/// mostly the same words, are one finding whose `consensus` counts the runs
/// that raised it. Those below `min_consensus` are dropped with a reason.
pub fn aggregate_runs(
    runs: Vec<Vec<Finding>>,
    min_consensus: u32,
) -> (Vec<Finding>, Vec<DroppedFinding>) {
    let total_runs = runs.len();
    let mut merged: Vec<(Finding, BTreeSet<usize>)> = Vec::new();
    for (run, candidates) in runs.into_iter().enumerate() {
        for candidate in candidates {
            match merged
                .iter_mut()
                .find(|(existing, _)| similar(existing, &candidate))
            {
                Some((existing, seen_in)) => {
                    seen_in.insert(run);
                    existing.severity = existing.severity.max(candidate.severity);
                }
                None => merged.push((candidate, BTreeSet::from([run]))),
            }
        }
    }
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (mut finding, seen_in) in merged {
        finding.consensus = u32::try_from(seen_in.len()).unwrap_or(u32::MAX);
        if finding.consensus >= min_consensus {
            kept.push(finding);
        } else {
            let reason = format!(
                "raised in {} of {total_runs} runs, below the consensus threshold",
                finding.consensus
            );
            dropped.push(DroppedFinding { finding, reason });
        }
    }
    (kept, dropped)
}

fn similar(a: &Finding, b: &Finding) -> bool {
    const SLACK: u32 = 3;
    let near = a.line_start <= b.line_end.saturating_add(SLACK)
        && b.line_start <= a.line_end.saturating_add(SLACK);
    a.patch_index == b.patch_index
        && a.file == b.file
        && near
        && (a.stage == b.stage || word_overlap(&a.problem, &b.problem) >= 0.5)
}

pub(crate) fn word_overlap(a: &str, b: &str) -> f64 {
    let (a, b) = (
        crate::words::content_words(a, &[]),
        crate::words::content_words(b, &[]),
    );
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

/// A candidate as the verify stage sees it.
#[derive(Serialize)]
struct CandidateView<'a> {
    id: String,
    stage: &'a str,
    patch_index: u32,
    file: &'a str,
    line_start: u32,
    line_end: u32,
    severity: &'a str,
    problem: &'a str,
    preexisting: bool,
}

pub(crate) struct Verified {
    pub kept: Vec<Finding>,
    pub dropped: Vec<DroppedFinding>,
    pub report: StageReport,
    pub leaked: bool,
}

pub(crate) async fn run(
    client: &dyn LlmClient,
    prompts: &PromptSet,
    stage: &StageDef,
    scope: &Scope,
    secrets: &ReviewSecrets,
    candidates: Vec<Finding>,
    settings: &ReviewSettings,
) -> Result<Verified, ReviewError> {
    let started = Instant::now();
    let asked = ask(
        client,
        &Ask {
            prompts,
            stage,
            scope,
            secrets,
            settings,
            note: None,
        },
        &candidates,
    )
    .await?;
    let (kept, dropped) = apply(candidates, asked.answer);
    let mut report = asked.report;
    report.elapsed_ms = millis(started.elapsed());
    Ok(Verified {
        kept,
        dropped,
        report,
        leaked: asked.leaked,
    })
}

/// What the verify step said about findings of the earlier version's
/// review that this version's stages did not raise again.
pub(crate) struct Confirmed {
    /// One per carried finding, same order: the stated reason of an
    /// explicit `keep` (the finding is still in this version's code);
    /// `None` for anything else (no decision, drop, fixed later).
    pub reasons: Vec<Option<String>>,
    pub report: StageReport,
    pub leaked: bool,
}

/// Ask the verify stage, given this version (with the interdiff in its
/// context) and the earlier version's findings this review did not raise
/// again, which of them this version still has. Only an explicit `keep`
/// with a reason confirms one.
#[allow(
    clippy::too_many_arguments,
    reason = "the verify stage's inputs, as verify::run takes them, plus the earlier version"
)]
pub(crate) async fn confirm_carried(
    client: &dyn LlmClient,
    prompts: &PromptSet,
    stage: &StageDef,
    scope: &Scope,
    secrets: &ReviewSecrets,
    carried: &[Finding],
    earlier_version: u32,
    settings: &ReviewSettings,
) -> Result<Confirmed, ReviewError> {
    let started = Instant::now();
    let note = format!(
        "These candidates are findings of the review of v{earlier_version} of this series that \
         this version's stages did not raise again; the changes since v{earlier_version} are in \
         the context. Answer keep, with the reason, only for a finding this version's code still \
         has; answer drop, with the reason, for one it no longer has."
    );
    let asked = ask(
        client,
        &Ask {
            prompts,
            stage,
            scope,
            secrets,
            settings,
            note: Some(&note),
        },
        carried,
    )
    .await?;
    let reasons = (1..=carried.len())
        .map(|number| {
            let id = format!("F{number}");
            asked
                .answer
                .decisions
                .iter()
                .find(|decision| decision.id.trim() == id && decision.action == Action::Keep)
                .map(|decision| decision.reason.trim().to_owned())
                .filter(|reason| !reason.is_empty())
        })
        .collect();
    let mut report = asked.report;
    report.elapsed_ms = millis(started.elapsed());
    Ok(Confirmed {
        reasons,
        report,
        leaked: asked.leaked,
    })
}

/// One verify request's inputs.
struct Ask<'a> {
    prompts: &'a PromptSet,
    stage: &'a StageDef,
    scope: &'a Scope,
    secrets: &'a ReviewSecrets,
    settings: &'a ReviewSettings,
    /// Written by code, put before the candidates.
    note: Option<&'a str>,
}

/// A parsed verify answer with the stage's report.
struct Asked {
    answer: VerifyAnswer,
    report: StageReport,
    leaked: bool,
}

/// Send the candidates `F1..Fn` to the verify stage, retrying answers that
/// do not fit the decisions shape up to the bound.
async fn ask(
    client: &dyn LlmClient,
    ask: &Ask<'_>,
    candidates: &[Finding],
) -> Result<Asked, ReviewError> {
    let stage = ask.stage;
    let views: Vec<CandidateView<'_>> = candidates
        .iter()
        .enumerate()
        .map(|(number, finding)| CandidateView {
            id: format!("F{}", number + 1),
            stage: &finding.stage,
            patch_index: finding.patch_index,
            file: &finding.file,
            line_start: finding.line_start,
            line_end: finding.line_end,
            severity: finding.severity.as_str(),
            problem: &finding.problem,
            preexisting: finding.preexisting,
        })
        .collect();
    let candidates_json = serde_json::to_string_pretty(&views).unwrap_or_default();
    let base = request::RequestBase {
        prompts: ask.prompts,
        series: &ask.scope.series,
        secrets: ask.secrets,
        context: &ask.scope.context,
        max_output_tokens: ask.settings.max_output_tokens,
    };
    let request = request::verify_request_noted(&base, stage, ask.note, &candidates_json);
    let mut report = stage_report(stage, StageState::Ran, None, candidates.len());
    let mut last_error = None;
    for _ in 0..ask.settings.max_attempts.max(1) {
        report.attempts += 1;
        match chat_structured(client, &request).await {
            Ok(answer) => {
                report.usage += answer.response.usage;
                report.repairs += answer.repairs;
                report.retry_wait_ms += millis(answer.response.retry_wait);
                let leaked = answer.response.text.contains(&canary_of(&request));
                match serde_json::from_value::<VerifyAnswer>(answer.value) {
                    Ok(parsed) => {
                        return Ok(Asked {
                            answer: parsed,
                            report,
                            leaked,
                        });
                    }
                    Err(error) => {
                        last_error = Some(LlmError::InvalidStructuredOutput {
                            stage: stage.name.clone(),
                            provider: client.provider().to_owned(),
                            model: client.model().to_owned(),
                            detail: format!("answer does not fit the decisions shape: {error}"),
                        })
                    }
                }
            }
            Err(error @ LlmError::InvalidStructuredOutput { .. }) => last_error = Some(error),
            Err(error) => return Err(stage_error(client, stage, error)),
        }
    }
    Err(stage_error(
        client,
        stage,
        last_error.unwrap_or_else(|| LlmError::InvalidStructuredOutput {
            stage: stage.name.clone(),
            provider: client.provider().to_owned(),
            model: client.model().to_owned(),
            detail: "no attempt was made".to_owned(),
        }),
    ))
}

/// Apply decisions to candidates `F1..Fn`.
fn apply(candidates: Vec<Finding>, answer: VerifyAnswer) -> (Vec<Finding>, Vec<DroppedFinding>) {
    let mut decisions = BTreeMap::new();
    for decision in answer.decisions {
        decisions.insert(decision.id.trim().to_owned(), decision);
    }
    let known_ids: Vec<String> = (1..=candidates.len()).map(|n| format!("F{n}")).collect();
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (id, mut finding) in known_ids.iter().zip(candidates) {
        let Some(decision) = decisions.get(id) else {
            kept.push(finding);
            continue;
        };
        let reason = decision.reason.trim();
        let drop_reason = match decision.action {
            Action::Keep => None,
            Action::Drop if !reason.is_empty() => Some(format!("disproved: {reason}")),
            Action::FixedLater if !reason.is_empty() => {
                Some(format!("fixed later in the series: {reason}"))
            }
            Action::Duplicate => decision
                .duplicate_of
                .as_deref()
                .map(str::trim)
                .filter(|other| *other != id && known_ids.iter().any(|known| known == other))
                .map(|other| format!("duplicate of {other}")),
            // A drop without a stated reason is not proof: keep it.
            Action::Drop | Action::FixedLater => None,
        };
        match drop_reason {
            Some(reason) => dropped.push(DroppedFinding { finding, reason }),
            None => {
                if let Some(severity) = decision.severity {
                    finding.severity = severity;
                    if let Some(explanation) = &decision.severity_explanation {
                        finding.severity_explanation = explanation.trim().to_owned();
                    }
                }
                if let Some(preexisting) = decision.preexisting {
                    finding.preexisting = preexisting;
                }
                kept.push(finding);
            }
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::wire::Decision;

    fn candidate(problem: &str, line: u32) -> Finding {
        Finding {
            patch_index: 1,
            file: "a.c".into(),
            line_start: line,
            line_end: line,
            stage: "resource".into(),
            severity: Severity::Medium,
            problem: problem.into(),
            severity_explanation: String::new(),
            preexisting: false,
            locations: vec![],
            evidence: vec![],
            suggestion: None,
            consensus: 1,
        }
    }

    fn decision(id: &str, action: Action, reason: &str, duplicate_of: Option<&str>) -> Decision {
        Decision {
            id: id.into(),
            action,
            duplicate_of: duplicate_of.map(str::to_owned),
            severity: None,
            severity_explanation: None,
            preexisting: None,
            reason: reason.into(),
        }
    }

    #[test]
    fn decisions_apply_only_with_proof() {
        let cases: Vec<(Decision, bool)> = vec![
            (decision("F1", Action::Keep, "", None), true),
            (decision("F1", Action::Drop, "line 3 frees it", None), false),
            (decision("F1", Action::Drop, "  ", None), true),
            (
                decision("F1", Action::FixedLater, "patch 2 adds the free", None),
                false,
            ),
            (decision("F1", Action::Duplicate, "same", Some("F2")), false),
            (decision("F1", Action::Duplicate, "same", Some("F1")), true),
            (decision("F1", Action::Duplicate, "same", Some("F9")), true),
            (decision("F7", Action::Drop, "unknown id", None), true),
        ];
        for (decision, first_kept) in cases {
            let description = format!("{decision:?}");
            let (kept, _) = apply(
                vec![candidate("leak of a", 1), candidate("leak of b", 2)],
                VerifyAnswer {
                    decisions: vec![decision],
                },
            );
            assert_eq!(
                kept.iter().any(|f| f.problem == "leak of a"),
                first_kept,
                "{description}"
            );
            assert!(
                kept.iter().any(|f| f.problem == "leak of b"),
                "{description}"
            );
        }
    }

    #[test]
    fn runs_merge_by_similarity_with_a_consensus_count() {
        let mut other_stage = candidate("Leak of buf when probe fails", 6);
        other_stage.stage = "flow".into();
        let runs = vec![
            vec![
                candidate("leak of buf on the error path", 5),
                candidate("unrelated", 40),
            ],
            vec![candidate("buf leaks", 7)],
            vec![other_stage],
        ];
        let (kept, dropped) = aggregate_runs(runs.clone(), 2);
        assert_eq!(kept.len(), 1);
        assert_eq!(
            kept[0].consensus, 2,
            "same stage, near lines: merged; other stage, few shared words: not"
        );
        assert_eq!(dropped.len(), 2);
        let (all, none) = aggregate_runs(runs, 1);
        assert_eq!((all.len(), none.len()), (3, 0));
    }

    #[test]
    fn identical_candidates_merge_keeping_higher_severity() {
        let mut high = candidate("Leak of buf on error", 5);
        high.severity = Severity::High;
        let (kept, dropped) = merge_identical(vec![
            candidate("leak of buf on error", 5),
            high,
            candidate("other", 5),
        ]);
        assert_eq!(kept.len(), 2);
        assert_eq!(dropped.len(), 1);
        assert_eq!(kept[0].severity, Severity::High);
    }
}
