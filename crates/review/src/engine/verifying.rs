//! The verify phase: the manifest's verify stage judges the anchored
//! candidates (see [`crate::verify`] for the rules its decisions follow).
//! Without a model, or with nothing to verify, the stage is reported as
//! skipped or not applicable and the candidates are kept as they are.

use super::output::{no_model, stage_report, ReviewError, StageState};
use super::prefix::Prefix;
use super::state::ReviewState;
use super::Progress;
use crate::finding::Finding;
use crate::prompts::StageKind;
use crate::staging;
use crate::verify;

/// The candidates the verify stage keeps.
pub(super) async fn run(
    state: &mut ReviewState<'_>,
    prefix: &Prefix<'_>,
    candidates: Vec<Finding>,
    progress: Progress<'_>,
) -> Result<Vec<Finding>, ReviewError> {
    let prompts = state.prompts;
    let Some(stage) = prompts.stages.iter().find(|s| s.kind == StageKind::Verify) else {
        return Ok(candidates);
    };
    let output = &mut state.output;
    match &state.client {
        None => {
            output.stages.push(stage_report(
                stage,
                StageState::Skipped,
                Some(no_model()),
                0,
            ));
            Ok(candidates)
        }
        Some(_) if candidates.is_empty() => {
            output.stages.push(stage_report(
                stage,
                StageState::NotApplicable,
                Some("no candidate findings to verify".to_owned()),
                0,
            ));
            Ok(candidates)
        }
        Some(client) => {
            let scope = staging::for_verify(&prefix.staged, &candidates);
            let unverified = candidates.clone();
            let verified = match verify::run(
                client.as_ref(),
                prompts,
                stage,
                &scope,
                &state.secrets,
                candidates,
                state.settings,
            )
            .await
            {
                Ok(verified) => verified,
                Err(error) if !error.is_bad_answer() => return Err(error),
                Err(error) => {
                    // Failed after its retries: the candidates stay as
                    // they are, unverified, and the stage says so.
                    let report = super::output::failed_report(stage, &error);
                    progress(&format!(
                        "stage {} FAILED: {}",
                        stage.name,
                        report.reason.as_deref().unwrap_or("")
                    ));
                    output.stages.push(report);
                    return Ok(unverified);
                }
            };
            progress(&format!("stage {} done", stage.name));
            output.compromised |= verified.leaked;
            output.usage += verified.report.usage;
            output.stages.push(verified.report);
            output.dropped.extend(verified.dropped);
            Ok(verified.kept)
        }
    }
}
