//! The known-and-end-state phase: a verified finding is reported unless
//! it is a known issue (annotated in the code or marked known by a
//! maintainer, see [`crate::known`]) or a later patch of the series
//! fixes it: the series' end state of its function passes the
//! deterministic re-check of its defect (see [`crate::endstate`], with the
//! tree's enclosing functions when there is a tree). Those are kept and
//! counted, not reported.

use super::output::DroppedFinding;
use super::state::ReviewState;
use crate::endstate::{self, SeriesStates};
use crate::finding::Finding;
use crate::known;

/// Sort the verified findings into reported, known and fixed later.
pub(super) fn known_and_end_state(state: &mut ReviewState<'_>, verified: Vec<Finding>) {
    let series = state.series;
    let states = SeriesStates::build(series);
    let output = &mut state.output;
    for finding in verified {
        if let Some(reason) = known::known_reason(
            &finding,
            series,
            &state.prompts.prescan.known_markers,
            &state.inputs.known_fingerprints,
        ) {
            output.known.push(DroppedFinding { finding, reason });
        } else if let Some(reason) =
            endstate::fixed_later_in(&states, series, &finding, &state.inputs.context)
        {
            output.fixed_later.push(DroppedFinding { finding, reason });
        } else {
            output.findings.push(finding);
        }
    }
}
