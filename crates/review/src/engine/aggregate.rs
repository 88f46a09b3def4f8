//! The aggregate and anchor-and-ground phases: candidates of all runs
//! merged by similarity with a consensus count, the analyzers' candidates
//! added, then every candidate must cite lines the model was shown (the
//! diff, or for a pre-existing bug what a tool or the context showed).
//! What fails is dropped with its reason and counted, never lost.

use super::output::DroppedFinding;
use super::prefix::Prefix;
use super::state::ReviewState;
use crate::anchor::PatchLines;
use crate::context::{self, ContextKind, ContextSnippet};
use crate::finding::Finding;
use crate::grounding::ShownLines;
use crate::verify;

/// Merge the runs; findings below the consensus are dropped.
pub(super) fn across_runs(state: &mut ReviewState<'_>, per_run: Vec<Vec<Finding>>) -> Vec<Finding> {
    let (mut candidates, below_consensus) =
        verify::aggregate_runs(per_run, state.settings.min_consensus);
    state.output.dropped.extend(below_consensus);
    candidates.append(&mut state.analyzer_candidates);
    candidates
}

/// Keep the candidates that cite shown lines, merging identical ones.
pub(super) fn anchor_and_ground(
    state: &mut ReviewState<'_>,
    prefix: &Prefix<'_>,
    candidates: Vec<Finding>,
) -> Vec<Finding> {
    let sent_source: Vec<ContextSnippet> = prefix
        .staged
        .plan
        .sent_snippets()
        .into_iter()
        .filter(|snippet| {
            !matches!(
                snippet.kind,
                ContextKind::Interdiff | ContextKind::Analyzers
            )
        })
        .collect();
    let shown_lines = ShownLines::new(
        &state.shown.all(),
        &sent_source,
        &context::series_files(state.series),
    );
    let patch_lines = &state.patch_lines;
    let (anchored, unanchored): (Vec<Finding>, Vec<Finding>) =
        candidates.into_iter().partition(|finding| {
            is_anchored(finding, patch_lines)
                || (finding.preexisting && shown_lines.covers(finding))
        });
    let output = &mut state.output;
    output.grounded_outside_diff = anchored
        .iter()
        .filter(|finding| !is_anchored(finding, patch_lines))
        .count();
    output.unanchored = unanchored.len();
    for finding in unanchored {
        let reason = if finding.preexisting {
            "cites lines neither in the patch nor in anything a tool or the context showed"
        } else {
            "cites lines outside the patch"
        };
        output.dropped.push(DroppedFinding {
            finding,
            reason: reason.to_owned(),
        });
    }
    let (kept, merged) = verify::merge_identical(anchored);
    output.dropped.extend(merged);
    kept
}

pub(super) fn is_anchored(finding: &Finding, patch_lines: &[(u32, PatchLines)]) -> bool {
    patch_lines
        .iter()
        .find(|(index, _)| *index == finding.patch_index)
        .is_some_and(|(_, lines)| lines.covers(&finding.file, finding.line_start, finding.line_end))
}
