//! Asking a model stage for structured findings: bounded retries of
//! answers that do not fit the schema, the litmus checker's one repair
//! round, and the helpers every model stage shares (canary, errors,
//! timings).
//!
//! The answer is data: it is parsed into findings and nothing in it
//! chooses what runs next.

use std::time::Instant;

use sashiko_llm_core::{chat_structured, ChatRequest, LlmClient, LlmError, Message};

use super::builtins::cap_severity;
use super::options::ReviewSettings;
use super::output::{stage_report, ReviewError, StageReport, StageState};
use crate::finding::Finding;
use crate::ordering;
use crate::prompts::StageDef;
use crate::toolstage;
use crate::wire::{FindingsAnswer, WireLitmusClaim};

/// Ask one finder stage, retrying invalid answers up to the bound.
pub(super) async fn ask_findings(
    client: &dyn LlmClient,
    stage: &StageDef,
    request: &ChatRequest,
    settings: &ReviewSettings,
    tools: Option<&toolstage::ToolStage<'_>>,
) -> Result<(Vec<Finding>, StageReport, bool), ReviewError> {
    let started = Instant::now();
    let mut report = stage_report(stage, StageState::Ran, None, 0);
    let mut last_error = None;
    for _ in 0..settings.max_attempts.max(1) {
        report.attempts += 1;
        let answered =
            match tools {
                Some(tools) => toolstage::ask_with_tools(client, request, tools).await.map(
                    |(answer, tool_use)| {
                        report.notes.push(tool_use.note());
                        answer
                    },
                ),
                None => chat_structured(client, request).await,
            };
        match answered {
            Ok(answer) => {
                report.usage += answer.response.usage;
                report.repairs += answer.repairs;
                report.retry_wait_ms += millis(answer.response.retry_wait);
                let leaked = answer.response.text.contains(&canary_of(request));
                match serde_json::from_value::<FindingsAnswer>(answer.value) {
                    Ok(parsed) => {
                        let claims = parsed.litmus_claims;
                        let mut findings: Vec<Finding> = parsed
                            .findings
                            .into_iter()
                            .map(|wire| {
                                let mut finding = wire.into_finding(&stage.name);
                                cap_severity(stage, &mut finding);
                                finding
                            })
                            .collect();
                        if stage.checker.as_deref() == Some("litmus") && !claims.is_empty() {
                            let decided = decide_with_one_repair(
                                client,
                                stage,
                                request,
                                &answer.response.text,
                                claims,
                                &mut report,
                            )
                            .await?;
                            findings.extend(decided);
                        }
                        report.candidates = findings.len();
                        report.elapsed_ms = millis(started.elapsed());
                        return Ok((findings, report, leaked));
                    }
                    Err(error) => {
                        last_error = Some(LlmError::InvalidStructuredOutput {
                            stage: stage.name.clone(),
                            provider: client.provider().to_owned(),
                            model: client.model().to_owned(),
                            detail: format!("answer does not fit the findings shape: {error}"),
                        });
                    }
                }
            }
            Err(error @ LlmError::InvalidStructuredOutput { .. }) => last_error = Some(error),
            Err(error) => return Err(stage_error(client, stage, error)),
        }
    }
    let error = last_error.unwrap_or_else(|| LlmError::InvalidStructuredOutput {
        stage: stage.name.clone(),
        provider: client.provider().to_owned(),
        model: client.model().to_owned(),
        detail: "no attempt was made".to_owned(),
    });
    Err(stage_error(client, stage, error))
}

/// The canary is the only `SASHIKO-CANARY-` token in the system prompt.
pub(crate) fn canary_of(request: &ChatRequest) -> String {
    request
        .system
        .split_whitespace()
        .find(|word| word.starts_with("SASHIKO-CANARY-"))
        .map(|word| {
            word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_owned()
        })
        .unwrap_or_else(|| "SASHIKO-CANARY-".to_owned())
}

pub(crate) fn stage_error(
    client: &dyn LlmClient,
    stage: &StageDef,
    source: LlmError,
) -> ReviewError {
    ReviewError::Stage {
        stage: stage.name.clone(),
        endpoint: client.endpoint(),
        source,
    }
}

pub(crate) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Decide litmus claims; tests that do not parse go back to the model once
/// with the parser's errors.
async fn decide_with_one_repair(
    client: &dyn LlmClient,
    stage: &StageDef,
    request: &ChatRequest,
    answer_text: &str,
    claims: Vec<WireLitmusClaim>,
    report: &mut StageReport,
) -> Result<Vec<Finding>, ReviewError> {
    let mut results = ordering::decide_claims(&stage.name, claims);
    let mut findings = std::mem::take(&mut results.refuted);
    if !results.unparsable.is_empty() {
        let mut follow_up = request.clone();
        follow_up
            .messages
            .push(Message::assistant_text(answer_text.to_owned()));
        follow_up
            .messages
            .push(Message::user_text(ordering::repair_message(
                &results.unparsable,
            )));
        let answer = chat_structured(client, &follow_up)
            .await
            .map_err(|error| stage_error(client, stage, error))?;
        report.usage += answer.response.usage;
        report.repairs += 1 + answer.repairs;
        let retried: Vec<_> = serde_json::from_value::<FindingsAnswer>(answer.value)
            .map(|parsed| parsed.litmus_claims)
            .unwrap_or_default();
        let mut second = ordering::decide_claims(&stage.name, retried);
        findings.append(&mut second.refuted);
        results.held.append(&mut second.held);
        results.undecided.append(&mut second.undecided);
        for (claim, error) in second.unparsable {
            results.undecided.push(format!(
                "{}: litmus test still does not parse: {error}",
                claim.claim
            ));
        }
    }
    report.notes.extend(
        results
            .held
            .into_iter()
            .map(|held| format!("litmus claim holds: {held}")),
    );
    report.notes.extend(
        results
            .undecided
            .into_iter()
            .map(|undecided| format!("litmus claim undecided: {undecided}")),
    );
    Ok(findings)
}
