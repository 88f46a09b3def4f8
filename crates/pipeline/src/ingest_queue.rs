//! Ingest to queue, the loop `sashiko serve --ingest` runs: every interval,
//! read the configured sources (the same `SOURCE` forms and the same
//! pipeline as `sashiko ingest`, cursors in the database), then queue one
//! [`ReviewJob`] (the same job as `sashiko enqueue`) for each series
//! version that became complete.
//!
//! Which versions to look at: those that gained a patch row since the
//! last pass, found through a watermark on `patches.id` kept in
//! `ingest_cursors` under [`WATERMARK`]. The first pass of a database sets
//! the watermark to the newest patch, so what was ingested before serve
//! ran is not reviewed unless asked (`--review-existing`). A version is
//! queued once: a job with its dedup key in any status (queued, done,
//! dead, superseded) means it was queued before, so a restart, or a crash
//! between queueing and saving the watermark, queues nothing twice.
//!
//! A pass is one batch: a stop request is honoured between passes (and
//! serve aborts a pass that outlives its grace period, which the ingest
//! cursors make as safe as a crash). This module must never review
//! anything itself, nor queue an incomplete series.

use std::time::Duration;

use sashiko_ingest::{ingest, IngestOptions, SourceSpec, StoreCursorStore};
use sashiko_store::{Enqueued, SeriesVersionId, Store, VersionToQueue};
use tokio::sync::watch;

use crate::error::{Context, ErrorKind, Result};
use crate::jobs::{mail_lineage_key, review_dedup_key, BackgroundJob, ReviewJob};

/// The `ingest_cursors` entry holding the newest `patches.id` looked at.
pub const WATERMARK: &str = "serve:review-watermark";

/// How the ingest loops run.
#[derive(Clone, Debug)]
pub struct IngestLoopConfig {
    /// Sources as `sashiko ingest` takes them.
    pub sources: Vec<String>,
    /// Time between the end of one pass and the start of the next.
    pub interval: Duration,
    /// List name stored with every message (default: its List-Id).
    pub list: Option<String>,
    /// On a database serve never ran on, queue what is already stored too.
    pub review_existing: bool,
    /// Priority of the queued jobs.
    pub priority: i32,
    /// Attempts before a job goes to the dead letters.
    pub max_attempts: u32,
}

/// What one pass did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PassReport {
    pub messages_new: u64,
    pub queued: u64,
    pub incomplete: u64,
    pub already_queued: u64,
}

/// Parses the sources; a bad one is reported by name and left out.
pub fn parse_sources(sources: &[String]) -> (Vec<SourceSpec>, Vec<String>) {
    let mut specs = Vec::new();
    let mut errors = Vec::new();
    for text in sources {
        match text.parse::<SourceSpec>() {
            Ok(spec) => specs.push(spec),
            Err(error) => errors.push(format!("ingest source {text:?}: {error}")),
        }
    }
    (specs, errors)
}

/// Runs passes until `stop` turns true.
pub async fn run(store: Store, config: IngestLoopConfig, mut stop: watch::Receiver<bool>) {
    let (specs, errors) = parse_sources(&config.sources);
    for error in &errors {
        tracing::error!("{error}; the other sources are still read");
    }
    if specs.is_empty() {
        return;
    }
    if let Err(error) = init_watermark(&store, config.review_existing).await {
        tracing::error!("the ingest loop cannot start: {error}");
        return;
    }
    while !*stop.borrow() {
        match pass(&store, &specs, &config).await {
            Ok(report) if report == PassReport::default() => {}
            Ok(report) => tracing::info!(
                "ingest pass: {} new messages; queued {} reviews ({} incomplete series waiting, {} queued before)",
                report.messages_new,
                report.queued,
                report.incomplete,
                report.already_queued
            ),
            Err(error) => tracing::warn!("ingest pass: {error}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(config.interval) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Sets the watermark on a database serve never ran on.
async fn init_watermark(store: &Store, review_existing: bool) -> Result<()> {
    let doing = || "setting the review watermark".to_owned();
    if store
        .get_cursor(WATERMARK)
        .await
        .context(ErrorKind::Store, doing)?
        .is_some()
    {
        return Ok(());
    }
    let start = if review_existing {
        0
    } else {
        newest_patch(store).await?
    };
    store
        .set_cursor(WATERMARK, &start.to_string())
        .await
        .context(ErrorKind::Store, doing)?;
    Ok(())
}

async fn newest_patch(store: &Store) -> Result<i64> {
    store
        .newest_patch_row()
        .await
        .context(ErrorKind::Store, || "finding the newest patch".to_owned())
}

/// One pass: ingest, then queue the versions completed since the watermark.
pub async fn pass(
    store: &Store,
    specs: &[SourceSpec],
    config: &IngestLoopConfig,
) -> Result<PassReport> {
    let cursors = StoreCursorStore::new(store.clone());
    let options = IngestOptions {
        list: config.list.clone(),
        ..IngestOptions::default()
    };
    let ingested = ingest(specs, store, &cursors, &options)
        .await
        .context(ErrorKind::Input, || {
            "ingesting the configured sources".to_owned()
        })?;
    for (source, error) in &ingested.failed_sources {
        tracing::warn!("cannot ingest {source}: {error}");
    }
    let mut report = PassReport {
        messages_new: ingested.counts.messages_new,
        ..PassReport::default()
    };
    let watermark: i64 = store
        .get_cursor(WATERMARK)
        .await
        .context(ErrorKind::Store, || {
            "reading the review watermark".to_owned()
        })?
        .and_then(|value| value.parse().ok())
        .unwrap_or(0);
    let touched = store
        .versions_with_patches_after(watermark)
        .await
        .context(ErrorKind::Store, || {
            "finding series versions with new patches".to_owned()
        })?;
    let Some(newest) = touched.iter().map(|row| row.newest_patch).max() else {
        return Ok(report);
    };
    for row in &touched {
        match queue_version(store, row.series_version, config).await? {
            Queued::Added => report.queued += 1,
            Queued::Incomplete => report.incomplete += 1,
            Queued::Before => report.already_queued += 1,
        }
    }
    store
        .set_cursor(WATERMARK, &newest.to_string())
        .await
        .context(ErrorKind::Store, || {
            "saving the review watermark".to_owned()
        })?;
    Ok(report)
}

enum Queued {
    Added,
    Incomplete,
    Before,
}

/// The review job of a stored series version and its lineage key, or
/// `None` while patches are missing (every number from 1 to its total must
/// be stored). The worker rebuilds the series from the job's messages and
/// stores its review under the stored series key, so the review lands on
/// the version ingest stored.
pub fn review_job_of(version: &VersionToQueue) -> Option<(ReviewJob, String)> {
    let indexes: Vec<u32> = version.patches.iter().map(|patch| patch.index).collect();
    if indexes != (1..=version.total.max(1)).collect::<Vec<_>>() {
        return None;
    }
    let message_ids = version
        .cover_message_id
        .iter()
        .cloned()
        .chain(version.patches.iter().map(|patch| patch.message_id.clone()))
        .collect();
    let job = ReviewJob {
        title: version.title.clone(),
        source: format!("serve-ingest:{}", version.series_version.0),
        series_key: version.series_key.clone(),
        version: version.version.max(1),
        message_ids,
        git: None,
    };
    // Later versions supersede queued earlier ones, keyed as `sashiko
    // enqueue` keys mail series.
    let lineage = mail_lineage_key(
        version
            .patches
            .iter()
            .map(|patch| patch.commit_message.as_str()),
        &version.author,
        &version.title,
    );
    Some((job, lineage))
}

/// Queues the review of one stored series version if it is complete and
/// was never queued.
async fn queue_version(
    store: &Store,
    version_id: SeriesVersionId,
    config: &IngestLoopConfig,
) -> Result<Queued> {
    let version = store
        .version_to_queue(version_id)
        .await
        .context(ErrorKind::Store, || {
            format!("reading series version {} to queue", version_id.0)
        })?;
    let Some((payload, lineage)) = version.as_ref().and_then(review_job_of) else {
        return Ok(Queued::Incomplete);
    };
    let dedup_key = review_dedup_key(&payload.series_key, payload.version);
    let queued_before = store
        .job_was_queued(&dedup_key)
        .await
        .context(ErrorKind::Store, || {
            "looking for an earlier review job".to_owned()
        })?;
    if queued_before {
        return Ok(Queued::Before);
    }
    let job =
        payload.to_new_job(&payload.schedule(lineage, config.priority, config.max_attempts))?;
    match store.enqueue(&job).await.context(ErrorKind::Store, || {
        format!("queueing a review of {:?}", payload.title)
    })? {
        Enqueued::Added { id, .. } => {
            tracing::info!(
                job = id.0,
                "queued a review of {:?} v{}",
                payload.title,
                payload.version
            );
            Ok(Queued::Added)
        }
        Enqueued::Existing { .. } | Enqueued::Obsolete { .. } => Ok(Queued::Before),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sashiko_store::PatchToQueue;

    fn version(total: u32, indexes: &[u32], cover: Option<&str>) -> VersionToQueue {
        VersionToQueue {
            series_version: SeriesVersionId(42),
            series_key: "c@x".to_owned(),
            version: 2,
            total,
            title: "mm: fix".to_owned(),
            author: "Ada <ada@example.org>".to_owned(),
            cover_message_id: cover.map(str::to_owned),
            patches: indexes
                .iter()
                .map(|&index| PatchToQueue {
                    index,
                    message_id: format!("p{index}@x"),
                    commit_message: if index == 2 {
                        "b\n\nchange-id: 20250101-frob\n".to_owned()
                    } else {
                        "a".to_owned()
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn only_complete_versions_become_jobs_with_the_cover_first() {
        assert_eq!(review_job_of(&version(3, &[1, 2], Some("c@x"))), None);
        assert_eq!(review_job_of(&version(2, &[1, 3], None)), None);
        assert_eq!(review_job_of(&version(0, &[], None)), None);
        let (job, lineage) = review_job_of(&version(2, &[1, 2], Some("c@x"))).expect("complete");
        assert_eq!(job.message_ids, ["c@x", "p1@x", "p2@x"]);
        assert_eq!(
            (job.series_key.as_str(), job.version, job.source.as_str()),
            ("c@x", 2, "serve-ingest:42")
        );
        assert_eq!(job.git, None);
        assert_eq!(lineage, "change-id:20250101-frob");
        // A single patch without a total counts as one of one.
        let (job, lineage) = review_job_of(&version(0, &[1], None)).expect("complete");
        assert_eq!(job.message_ids, ["p1@x"]);
        assert_eq!(lineage, "title:ada@example.org:mm: fix");
    }
}
