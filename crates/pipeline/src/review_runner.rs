//! The one path from a loaded series to a stored review, shared by
//! `sashiko review`, the worker and the list bot: store messages and
//! patches idempotently, find the earlier reviewed version of the series,
//! run the staged reviewer, store the outcome with its usage and cost. A
//! review that fails is stored as failed, never as finished.

use std::sync::Arc;
use std::time::Instant;

use sashiko_llm::LlmClient;
use sashiko_review::versions::PreviousVersion;
use sashiko_review::Progress;
use sashiko_review::{
    run_review, Finding, PromptSet, ReviewInputs, ReviewOptions, ReviewOutput, ReviewSeries,
    Severity,
};
use sashiko_store::{
    FindingId, FindingNotes, InterdiffFile, NewFinding, NewMessage, NewPatch, NewReview,
    NewSeriesVersion, OutcomeNotes, ReviewOutcome, ReviewStatus, ReviewTree, Store,
    StoredInterdiff,
};

use crate::error::{Context, ErrorKind, PipelineError, Result};
use crate::inputs::LoadedSeries;
use crate::model::Model;
use crate::series::{patch_from_stored, review_series};
use crate::tree::TreeApplication;

/// Usage by stage with cost, of every answer the review received.
fn usage_report(
    metered: Option<&sashiko_llm::MeteredClient>,
    price: Option<&sashiko_llm::Price>,
) -> Option<sashiko_llm::cost::UsageReport> {
    metered.map(|metered| metered.ledger().report(price))
}

/// Stores the series' messages (idempotently, by Message-ID).
pub async fn store_messages(store: &Store, loaded: &LoadedSeries) -> Result<()> {
    for message in &loaded.messages {
        store
            .upsert_message(&NewMessage {
                message_id: &message.message_id,
                raw: &message.raw,
                subject: &message.subject,
                author: &message.author,
                date: message.date.clone(),
                list: None,
                in_reply_to: message.in_reply_to.as_deref(),
            })
            .await
            .context(ErrorKind::Store, || {
                format!("storing message {}", message.message_id)
            })?;
    }
    Ok(())
}

/// A stored review.
pub struct Reviewed {
    pub review_id: i64,
    pub status: ReviewStatus,
    pub output: ReviewOutput,
    pub wall_ms: u64,
    /// From the configured price table; `None` when no price is known.
    pub cost_usd: Option<f64>,
}

/// Store the series' messages and patches (idempotently), run the review,
/// and store its outcome: finished (or compromised) with findings, or
/// failed with the error, and how the series met the tree (`tree`). The
/// shared path of `review`, `worker` and `bot`.
pub async fn review_and_store(
    store: &Store,
    prompts: &PromptSet,
    loaded: &LoadedSeries,
    model: Option<&Model>,
    options: &ReviewOptions,
    tree: &TreeApplication,
    progress: Progress<'_>,
) -> Result<Reviewed> {
    store_messages(store, loaded).await?;
    let series = &loaded.series;
    let version_id = store_series_version(store, loaded).await?;
    let previous = earlier_version(store, loaded, version_id, options).await?;
    let options = &ReviewOptions {
        inputs: ReviewInputs {
            previous,
            ..options.inputs.clone()
        },
        settings: options.settings.clone(),
    };
    let review_id = store
        .start_review(&NewReview {
            series_version: version_id,
            provider: model.map(|m| m.provider().to_owned()),
            model: model.map(|m| m.name().to_owned()),
            prompt_set_hash: prompts.hash.clone(),
            guides: sashiko_review::route_guides(
                prompts,
                series,
                options.inputs.maintainers.as_deref(),
            )
            .guides
            .iter()
            .map(|guide| guide.name.clone())
            .collect(),
            runs: 1,
        })
        .await
        .context(ErrorKind::Store, || {
            "recording the start of the review".to_owned()
        })?;
    store
        .set_review_tree(
            review_id,
            &ReviewTree {
                status: tree.status.as_str().to_owned(),
                base: tree.base.clone(),
                note: tree.note.clone(),
            },
        )
        .await
        .context(ErrorKind::Store, || {
            "recording how the series met the tree".to_owned()
        })?;
    // Renew the review's lease while it runs: if this process dies, the
    // review is marked interrupted once the lease passes.
    let _heartbeat = store.keep_review_alive(review_id);

    // Meter every answer (repair rounds and failed stages included), so
    // stored usage and cost are complete.
    let metered =
        model.map(|model| Arc::new(sashiko_llm::MeteredClient::new(model.client.clone())));
    let metered_client = metered.clone().map(|m| m as Arc<dyn LlmClient>);
    let started = Instant::now();
    let result = run_review(prompts, series, metered_client, options, progress).await;
    let report = usage_report(metered.as_deref(), model.and_then(|m| m.price.as_ref()));
    let wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let cost_usd = report.as_ref().and_then(|report| report.total_cost_usd);
    let output = match result {
        Ok(output) => output,
        Err(error) => {
            let outcome = ReviewOutcome {
                status: ReviewStatus::Failed,
                findings: Vec::new(),
                usage: report
                    .as_ref()
                    .and_then(|report| serde_json::to_value(report).ok())
                    .unwrap_or(serde_json::Value::Null),
                cost_usd,
                skipped_stages: Vec::new(),
                error: Some(error.to_string()),
                wall_ms,
            };
            if let Err(store_error) = store.finish_review(review_id, &outcome).await {
                tracing::error!(
                    "could not record the failed review {}: {store_error}",
                    review_id.0
                );
            }
            return Err(PipelineError::new(
                ErrorKind::Review,
                format!(
                    "review of {:?} ({}) failed: {}",
                    series.title,
                    loaded.source,
                    crate::error::chain(&error)
                ),
            ));
        }
    };
    let mut output = output;
    if let Some(report) = &report {
        output.usage = report.total;
    }
    // A stage that failed after its retries leaves the review partial:
    // everything else it found is stored, and the error names the stages.
    let failed: Vec<String> = output
        .failed_stages()
        .map(|stage| {
            format!(
                "stage {} failed: {}",
                stage.name,
                stage.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    let status = if output.compromised {
        ReviewStatus::Compromised
    } else if !failed.is_empty() {
        ReviewStatus::Partial
    } else {
        ReviewStatus::Finished
    };
    let model_name = model.map(|m| m.name().to_owned());
    let new_finding = |finding: &Finding| NewFinding {
        patch_index: finding.patch_index,
        file: finding.file.clone(),
        line_start: finding.line_start,
        line_end: finding.line_end,
        stage: finding.stage.clone(),
        severity: finding.severity.as_str().to_owned(),
        problem: finding.problem.clone(),
        severity_explanation: finding.severity_explanation.clone(),
        preexisting: finding.preexisting,
        locations: serde_json::to_value(&finding.locations).unwrap_or_default(),
        evidence: (!finding.evidence.is_empty())
            .then(|| serde_json::to_value(&finding.evidence).unwrap_or_default()),
        model: model_name.clone(),
        prompt_set_hash: prompts.hash.clone(),
        fingerprint: finding.fingerprint(),
        subsystem: options
            .inputs
            .maintainers
            .as_ref()
            .and_then(|maintainers| {
                maintainers
                    .route(&[finding.file.as_str()], "")
                    .into_iter()
                    .next()
            })
            .map(|entry| entry.name),
    };
    let mut notes = outcome_notes(&output, &new_finding);
    if output.versions.is_some() {
        notes.interdiff = options
            .inputs
            .previous
            .as_deref()
            .map(|previous| stored_interdiff(&previous.series, series));
    }
    let usage = match &report {
        Some(report) => serde_json::to_value(report),
        None => serde_json::to_value(output.usage),
    }
    .context(ErrorKind::Review, || {
        "recording the review's usage".to_owned()
    })?;
    let outcome = ReviewOutcome {
        status,
        findings: output.findings.iter().map(&new_finding).collect(),
        usage,
        cost_usd,
        skipped_stages: output.skipped_stages().map(|s| s.name.clone()).collect(),
        error: (!failed.is_empty()).then(|| failed.join("; ")),
        wall_ms,
    };
    store
        .finish_review_noted(review_id, &outcome, &notes)
        .await
        .context(ErrorKind::Store, || {
            "storing the review's findings".to_owned()
        })?;
    Ok(Reviewed {
        review_id: review_id.0,
        status,
        output,
        wall_ms,
        cost_usd,
    })
}

/// Stores the series version and its patches (idempotently, by series key
/// and version).
async fn store_series_version(
    store: &Store,
    loaded: &LoadedSeries,
) -> Result<sashiko_store::SeriesVersionId> {
    let series = &loaded.series;
    store
        .upsert_series_version(&NewSeriesVersion {
            series_key: loaded.series_key.clone(),
            title: series.title.clone(),
            author: series
                .patches
                .first()
                .map(|p| p.author.clone())
                .unwrap_or_default(),
            version: series.version,
            total: u32::try_from(series.patches.len()).unwrap_or(u32::MAX),
            cover_message_id: loaded.cover_message_id.clone(),
            patches: series
                .patches
                .iter()
                .zip(&loaded.patch_ids)
                .map(|(patch, patch_id)| NewPatch {
                    index: patch.index,
                    message_id: patch.message_id.clone().unwrap_or_default(),
                    subject: patch.subject.clone(),
                    author: patch.author.clone(),
                    commit_message: patch.commit_message.clone(),
                    diff: patch.diff.clone(),
                    patch_id: patch_id.clone(),
                })
                .collect(),
        })
        .await
        .context(ErrorKind::Store, || {
            format!("storing series {:?}", series.title)
        })
}

/// The earlier version of `loaded` with a finished review, found by
/// lineage key (every version of a mail series shares it, whatever series
/// key it was stored under), recording this version's lineage first. A
/// caller that already passes one in keeps it.
async fn earlier_version(
    store: &Store,
    loaded: &LoadedSeries,
    version_id: sashiko_store::SeriesVersionId,
    options: &ReviewOptions,
) -> Result<Option<Arc<PreviousVersion>>> {
    let lineage = crate::jobs::lineage_key(loaded);
    store
        .set_lineage_key(version_id, &lineage)
        .await
        .context(ErrorKind::Store, || {
            "recording the series' lineage".to_owned()
        })?;
    if options.inputs.previous.is_some() {
        return Ok(options.inputs.previous.clone());
    }
    let Some(earlier) = store
        .earlier_reviewed_version(&lineage, loaded.series.version, version_id)
        .await
        .context(ErrorKind::Store, || {
            "looking for an earlier reviewed version of the series".to_owned()
        })?
    else {
        return Ok(None);
    };
    let series = review_series(
        loaded.series.title.clone(),
        earlier.version,
        None,
        earlier.patches.into_iter().map(patch_from_stored).collect(),
    );
    let findings = earlier
        .findings
        .into_iter()
        .map(|stored| (stored.id.0, finding_from_stored(stored)))
        .collect();
    Ok(Some(Arc::new(PreviousVersion {
        version: earlier.version,
        review_id: earlier.review.0,
        series,
        findings,
    })))
}

/// A finding of an earlier review as the reviewer compares it (locations,
/// evidence and suggestion are not carried; an unknown stored severity
/// reads as medium).
fn finding_from_stored(stored: sashiko_store::StoredFinding) -> Finding {
    Finding {
        patch_index: stored.patch_index,
        file: stored.file,
        line_start: stored.line_start,
        line_end: stored.line_end,
        stage: stored.stage,
        severity: stored.severity.parse().unwrap_or(Severity::Medium),
        problem: stored.problem,
        severity_explanation: stored.severity_explanation,
        preexisting: stored.preexisting,
        locations: Vec::new(),
        evidence: Vec::new(),
        suggestion: None,
        consensus: 1,
    }
}

/// What became of each finding, for the store: carry labels of reported
/// findings, and the findings kept but not reported (fixed later in the
/// series, known issues with the annotation or mark that made them known,
/// fixed since the earlier version).
fn outcome_notes(
    output: &ReviewOutput,
    new_finding: &dyn Fn(&Finding) -> NewFinding,
) -> OutcomeNotes {
    let labels = output.versions.as_ref().map(|v| &v.findings);
    let findings = output
        .findings
        .iter()
        .enumerate()
        .map(|(at, _)| {
            let label = labels.and_then(|labels| labels.get(at));
            FindingNotes {
                carry: label.map(|(carry, _)| carry.as_str().to_owned()),
                earlier_finding: label.and_then(|(_, id)| id.map(FindingId)),
                wording: output.wordings.get(at).cloned().flatten(),
                ..FindingNotes::default()
            }
        })
        .collect();
    let mut unreported: Vec<(NewFinding, FindingNotes)> = output
        .fixed_later
        .iter()
        .map(|dropped| {
            let notes = FindingNotes {
                status: Some("fixed_later".to_owned()),
                status_reason: Some(dropped.reason.clone()),
                ..FindingNotes::default()
            };
            (new_finding(&dropped.finding), notes)
        })
        .collect();
    unreported.extend(output.known.iter().map(|dropped| {
        let notes = FindingNotes {
            status: Some("known".to_owned()),
            status_reason: Some(dropped.reason.clone()),
            ..FindingNotes::default()
        };
        (new_finding(&dropped.finding), notes)
    }));
    if let Some(versions) = &output.versions {
        unreported.extend(versions.fixed.iter().map(|fixed| {
            let notes = FindingNotes {
                status: Some("fixed".to_owned()),
                status_reason: Some(fixed.note.clone().unwrap_or_else(|| {
                    format!(
                        "fixed since {}",
                        fixed.earlier_location.as_deref().unwrap_or("?")
                    )
                })),
                carry: Some(fixed.carry.as_str().to_owned()),
                earlier_finding: fixed.earlier_id.map(FindingId),
                ..FindingNotes::default()
            };
            (new_finding(&fixed.finding), notes)
        }));
        unreported.extend(versions.not_raised_again.iter().map(|earlier| {
            let notes = FindingNotes {
                status: Some("not_raised_again".to_owned()),
                status_reason: Some(format!(
                    "raised at {}; not raised again by this review and not confirmed",
                    earlier.earlier_location.as_deref().unwrap_or("?")
                )),
                carry: Some(earlier.carry.as_str().to_owned()),
                earlier_finding: earlier.earlier_id.map(FindingId),
                ..FindingNotes::default()
            };
            (new_finding(&earlier.finding), notes)
        }));
    }
    OutcomeNotes {
        findings,
        unreported,
        earlier_review: output
            .versions
            .as_ref()
            .map(|v| sashiko_store::ReviewId(v.earlier_review_id)),
        interdiff: None,
    }
}

/// The interdiff from `earlier` to `later` as the reviewer computes it
/// and gives it to the stages of a review of `later`, in the shape it is
/// stored with that review (the web shows maintainers this text).
pub fn stored_interdiff(earlier: &ReviewSeries, later: &ReviewSeries) -> StoredInterdiff {
    let interdiff = sashiko_review::versions::interdiff(earlier, later);
    StoredInterdiff {
        earlier_version: earlier.version,
        files: interdiff
            .files
            .into_iter()
            .map(|file| InterdiffFile {
                file: file.file,
                first_line: file.first_line,
                text: file.text,
            })
            .collect(),
        notes: interdiff.notes,
    }
}

/// Fingerprints of bugs maintainers marked known: reviews keep such
/// findings out of reports (counted as known).
pub async fn known_fingerprints(store: &Store) -> Result<std::collections::BTreeSet<String>> {
    store
        .known_bug_fingerprints()
        .await
        .context(ErrorKind::Store, || {
            "reading the fingerprints of known bugs".to_owned()
        })
}
