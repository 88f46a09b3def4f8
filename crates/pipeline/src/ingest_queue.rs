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
use sashiko_store::web_queries::SqlParam;
use sashiko_store::{Enqueued, Store};
use serde_json::Value;
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
    let rows = store
        .web_rows(
            "finding the newest patch",
            "SELECT COALESCE(MAX(id), 0) AS id FROM patches",
            &[],
        )
        .await
        .context(ErrorKind::Store, || "finding the newest patch".to_owned())?;
    Ok(rows.first().map_or(0, |row| number(row, "id")))
}

fn number(row: &serde_json::Map<String, Value>, column: &str) -> i64 {
    row.get(column).and_then(Value::as_i64).unwrap_or(0)
}

fn text<'a>(row: &'a serde_json::Map<String, Value>, column: &str) -> &'a str {
    row.get(column).and_then(Value::as_str).unwrap_or("")
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
        .web_rows(
            "finding series versions with new patches",
            "SELECT series_version_id AS id, MAX(id) AS newest FROM patches WHERE id > $1 \
             GROUP BY series_version_id ORDER BY series_version_id",
            &[SqlParam::Int(watermark)],
        )
        .await
        .context(ErrorKind::Store, || {
            "finding series versions with new patches".to_owned()
        })?;
    let Some(newest) = touched.iter().map(|row| number(row, "newest")).max() else {
        return Ok(report);
    };
    for row in &touched {
        match queue_version(store, number(row, "id"), config).await? {
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

/// Queues the review of one stored series version if it is complete and
/// was never queued.
async fn queue_version(
    store: &Store,
    version_id: i64,
    config: &IngestLoopConfig,
) -> Result<Queued> {
    let id = [SqlParam::Int(version_id)];
    let Some(version) = store
        .web_rows(
            "reading a series version to queue",
            "SELECT v.version, v.total, v.title, v.author, v.cover_message_id, s.series_key \
             FROM series_versions v JOIN series s ON s.id = v.series_id WHERE v.id = $1",
            &id,
        )
        .await
        .context(ErrorKind::Store, || {
            "reading a series version to queue".to_owned()
        })?
        .into_iter()
        .next()
    else {
        return Ok(Queued::Incomplete);
    };
    let patches = store
        .web_rows(
            "reading the patches of a series version to queue",
            "SELECT patch_index, message_id, commit_message FROM patches WHERE series_version_id = $1 ORDER BY patch_index",
            &id,
        )
        .await
        .context(ErrorKind::Store, || "reading the patches of a series version to queue".to_owned())?;
    let indexes: Vec<i64> = patches
        .iter()
        .map(|row| number(row, "patch_index"))
        .collect();
    let total = number(&version, "total").max(1);
    if indexes != (1..=total).collect::<Vec<_>>() {
        return Ok(Queued::Incomplete);
    }
    let cover = text(&version, "cover_message_id");
    let mut message_ids: Vec<String> = Vec::new();
    if !cover.is_empty() {
        message_ids.push(cover.to_string());
    }
    message_ids.extend(
        patches
            .iter()
            .map(|row| text(row, "message_id").to_string()),
    );
    let version_number = u32::try_from(number(&version, "version")).unwrap_or(1);
    // The worker rebuilds the series from these messages and stores its
    // review under this key: the stored series row, so the review lands on
    // the version ingest stored.
    let payload = ReviewJob {
        title: text(&version, "title").to_string(),
        source: format!("serve-ingest:{version_id}"),
        series_key: text(&version, "series_key").to_string(),
        version: version_number,
        message_ids,
        git: None,
    };
    let queued_before = store
        .web_rows(
            "looking for an earlier review job",
            "SELECT id FROM jobs WHERE dedup_key = $1 LIMIT 1",
            &[SqlParam::Text(review_dedup_key(
                &payload.series_key,
                payload.version,
            ))],
        )
        .await
        .context(ErrorKind::Store, || {
            "looking for an earlier review job".to_owned()
        })?;
    if !queued_before.is_empty() {
        return Ok(Queued::Before);
    }
    // Later versions supersede queued earlier ones, keyed as `sashiko
    // enqueue` keys mail series.
    let lineage = mail_lineage_key(
        patches.iter().map(|row| text(row, "commit_message")),
        text(&version, "author"),
        text(&version, "title"),
    );
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
