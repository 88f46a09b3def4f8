//! Ingest proper: read sources, store every message once, assemble series
//! and store them, advancing each source's cursor as messages are stored.
//!
//! Two phases per run. The *message phase* reads each source from its saved
//! cursor, stores each message (idempotent on Message-ID, raw bytes kept)
//! and saves the cursor every [`IngestOptions::cursor_every`] messages and
//! at the end, always after the messages it covers are stored. The *series
//! phase* assembles series (with `sashiko-mail`) over every message the
//! sources hold, not just the new ones, so a run that resumes after a crash
//! stores exactly the series one clean run would; series writes are
//! idempotent too. Local sources are read again from their start for this;
//! for NNTP the group's Message-IDs come from `OVER` and the bytes from the
//! store. When no source hands out a message and the previous series phase
//! of every source finished, the series phase is skipped, so polling an
//! idle list is cheap.
//!
//! A message or series the database refuses for what it contains is not a
//! reason to stop: the message is recorded as rejected with the reason
//! ([`crate::intake`]) and the cursor moves on; a refused series is left
//! out with a diagnostic. Only an unusable database stops a run.
//!
//! This module must never write a message or series other than through
//! `sashiko-store`, and never save a cursor ahead of what is stored or
//! recorded as rejected.

use std::collections::HashSet;

use sashiko_mail::{assemble, parse_message, ParsedMessage, Series};
use sashiko_store::{NewPatch, NewSeriesVersion, Store, StoreError};
use serde::Serialize;

use crate::cursor::CursorStore;
use crate::error::SourceError;
use crate::intake::{store_incoming, Origin, Stored};
use crate::source::{self, MessageSource, SourceSpec};

/// How an ingest run behaves.
#[derive(Clone, Debug)]
pub struct IngestOptions {
    /// The list name stored with each message; `None` uses the message's
    /// List-Id.
    pub list: Option<String>,
    /// Save the cursor after this many stored messages (and at the end).
    pub cursor_every: u64,
    /// Assemble and store series after the messages.
    pub assemble_series: bool,
    /// Stop abruptly after storing this many messages in total, without
    /// saving the cursor since its last save and without the series phase,
    /// exactly as a crash at that point would. For tests and drills.
    pub interrupt_after: Option<u64>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        Self {
            list: None,
            cursor_every: 100,
            assemble_series: true,
            interrupt_after: None,
        }
    }
}

/// What a run did; printed by `sashiko ingest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IngestCounts {
    /// Messages handed out by the sources in the message phase.
    pub messages_read: u64,
    /// Of those, stored now.
    pub messages_new: u64,
    /// Of those, already stored (by an earlier run or earlier in this one).
    pub messages_duplicate: u64,
    /// Of those, refused by the database and recorded in `ingest_rejects`.
    pub messages_rejected: u64,
    /// Series versions assembled and stored in the series phase.
    pub series: u64,
    /// Series versions the database refused (left out, with a diagnostic).
    pub series_rejected: u64,
    /// Pull requests seen in the series phase (not stored as series).
    pub pull_requests: u64,
    /// Source and parser diagnostics.
    pub diagnostics: u64,
}

/// The outcome of a run: counts, what was odd, which sources failed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IngestReport {
    pub counts: IngestCounts,
    pub diagnostics: Vec<String>,
    /// `(source key, error)` for sources that could not be read; the other
    /// sources were still ingested.
    pub failed_sources: Vec<(String, String)>,
    /// True when [`IngestOptions::interrupt_after`] stopped the run.
    pub interrupted: bool,
    /// True when the series phase was skipped because no source had a new
    /// message and the series of every source were stored before.
    pub series_unchanged: bool,
}

/// A failure that stops the whole run (the database is unusable).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("storing input from {source_key} failed")]
    Store {
        source_key: String,
        #[source]
        source: StoreError,
    },
    #[error("saving the cursor of {source_key} failed")]
    Cursor {
        source_key: String,
        #[source]
        source: crate::cursor::CursorStoreError,
    },
}

/// How far an ingest run is, for a progress display; shows only, never
/// decides anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IngestStep<'a> {
    /// Reading `source` (its key) began.
    Source { source: &'a str },
    /// `read` messages of the current source are read and stored.
    Messages { read: u64 },
    /// Every source is read; series are being assembled.
    Series,
}

/// Ingests `specs` into `store`, cursors in `cursors`.
pub async fn ingest(
    specs: &[SourceSpec],
    store: &Store,
    cursors: &dyn CursorStore,
    options: &IngestOptions,
) -> Result<IngestReport, IngestError> {
    ingest_with_progress(specs, store, cursors, options, &|_| {}).await
}

/// [`ingest`], telling `progress` each step.
pub async fn ingest_with_progress(
    specs: &[SourceSpec],
    store: &Store,
    cursors: &dyn CursorStore,
    options: &IngestOptions,
    progress: &(dyn Fn(IngestStep<'_>) + Sync),
) -> Result<IngestReport, IngestError> {
    let mut report = IngestReport::default();
    for spec in specs {
        let key = spec.key();
        progress(IngestStep::Source { source: &key });
        match ingest_messages(spec, store, cursors, options, &mut report, progress).await {
            Ok(()) => {}
            Err(RunError::Fatal(error)) => return Err(error),
            Err(RunError::Source(error)) => {
                report.failed_sources.push((key, error_chain(&error)));
            }
        }
        if report.interrupted {
            return Ok(report);
        }
    }
    if options.assemble_series {
        if series_up_to_date(specs, cursors, &report).await? {
            report.series_unchanged = true;
        } else {
            progress(IngestStep::Series);
            let messages = window(specs, store, &mut report).await?;
            store_series(&messages, store, &mut report).await?;
            for spec in specs {
                let key = spec.key();
                if !report
                    .failed_sources
                    .iter()
                    .any(|(failed, _)| *failed == key)
                {
                    set_cursor(cursors, &series_state_key(&key), SERIES_DONE).await?;
                }
            }
        }
    }
    report.counts.diagnostics = report.diagnostics.len() as u64;
    Ok(report)
}

/// Series state of a source, kept beside its cursor under
/// [`series_state_key`]: `pending` from the first message a run reads until
/// its series phase has finished, then `done`.
const SERIES_PENDING: &str = "pending";
const SERIES_DONE: &str = "done";

fn series_state_key(source_key: &str) -> String {
    format!("{source_key}#series")
}

/// True when the series phase can be skipped: no source handed out a
/// message and every source's series were stored completely before (a run
/// that crashed in its series phase left `pending`).
async fn series_up_to_date(
    specs: &[SourceSpec],
    cursors: &dyn CursorStore,
    report: &IngestReport,
) -> Result<bool, IngestError> {
    if report.counts.messages_read > 0 || !report.failed_sources.is_empty() {
        return Ok(false);
    }
    for spec in specs {
        let key = series_state_key(&spec.key());
        let state = cursors
            .get(&key)
            .await
            .map_err(|source| IngestError::Cursor {
                source_key: key.clone(),
                source,
            })?;
        if state.as_deref() != Some(SERIES_DONE) {
            return Ok(false);
        }
    }
    Ok(true)
}

async fn set_cursor(cursors: &dyn CursorStore, key: &str, value: &str) -> Result<(), IngestError> {
    cursors
        .set(key, value)
        .await
        .map_err(|source| IngestError::Cursor {
            source_key: key.to_owned(),
            source,
        })
}

enum RunError {
    Fatal(IngestError),
    Source(SourceError),
}

async fn ingest_messages(
    spec: &SourceSpec,
    store: &Store,
    cursors: &dyn CursorStore,
    options: &IngestOptions,
    report: &mut IngestReport,
    progress: &(dyn Fn(IngestStep<'_>) + Sync),
) -> Result<(), RunError> {
    let key = spec.key();
    let cursor_error = |source| {
        RunError::Fatal(IngestError::Cursor {
            source_key: key.clone(),
            source,
        })
    };
    let saved = cursors.get(&key).await.map_err(cursor_error)?;
    let mut source = source::open(spec, saved.as_deref())
        .await
        .map_err(RunError::Source)?;
    let mut since_save = 0u64;
    let mut read_here = 0u64;
    let mut marked_pending = false;
    let result = loop {
        let message = match source.next_message().await {
            Ok(Some(message)) => message,
            Ok(None) => break Ok(()),
            Err(error) => break Err(RunError::Source(error)),
        };
        if !marked_pending {
            set_cursor(cursors, &series_state_key(&key), SERIES_PENDING)
                .await
                .map_err(RunError::Fatal)?;
            marked_pending = true;
        }
        report.counts.messages_read += 1;
        read_here += 1;
        progress(IngestStep::Messages { read: read_here });
        let origin = Origin {
            source_key: &key,
            list: options.list.as_deref(),
        };
        let (parsed, stored) = store_incoming(store, origin, &message)
            .await
            .map_err(|source| {
                RunError::Fatal(IngestError::Store {
                    source_key: format!("{key} {}", message.location),
                    source,
                })
            })?;
        match stored {
            Stored::New => report.counts.messages_new += 1,
            Stored::Duplicate => report.counts.messages_duplicate += 1,
            Stored::Rejected { reason } => {
                report.counts.messages_rejected += 1;
                report.diagnostics.push(format!(
                    "{key} {}: <{}> refused by the database, recorded as rejected: {reason}",
                    message.location, parsed.message_id
                ));
            }
        }
        if options
            .interrupt_after
            .is_some_and(|limit| report.counts.messages_read >= limit)
        {
            report.interrupted = true;
            return Ok(());
        }
        since_save += 1;
        if since_save >= options.cursor_every {
            cursors
                .set(&key, &source.cursor())
                .await
                .map_err(cursor_error)?;
            since_save = 0;
        }
    };
    collect_diagnostics(source.as_mut(), report);
    // Whatever was stored before a read error is covered by the cursor.
    if since_save > 0 {
        cursors
            .set(&key, &source.cursor())
            .await
            .map_err(cursor_error)?;
    }
    result
}

fn collect_diagnostics(source: &mut dyn MessageSource, report: &mut IngestReport) {
    report
        .diagnostics
        .extend(source.take_diagnostics().iter().map(ToString::to_string));
}

/// Every message the sources hold, parsed, in source order (duplicates
/// kept: assembly reports and skips them).
async fn window(
    specs: &[SourceSpec],
    store: &Store,
    report: &mut IngestReport,
) -> Result<Vec<ParsedMessage>, IngestError> {
    let failed: HashSet<String> = report
        .failed_sources
        .iter()
        .map(|(key, _)| key.clone())
        .collect();
    let mut messages = Vec::new();
    for spec in specs {
        let key = spec.key();
        if failed.contains(&key) {
            continue;
        }
        let result = match spec {
            SourceSpec::Nntp { host, port, group } => {
                nntp_window(host, *port, group, store, &key, &mut messages, report).await
            }
            _ => reread_window(spec, &mut messages).await,
        };
        if let Err(error) = result {
            report.failed_sources.push((
                key,
                format!(
                    "reading it again for series assembly: {}",
                    error_chain(&error)
                ),
            ));
        }
    }
    Ok(messages)
}

async fn reread_window(
    spec: &SourceSpec,
    messages: &mut Vec<ParsedMessage>,
) -> Result<(), SourceError> {
    let mut source = source::open(spec, None).await?;
    while let Some(message) = source.next_message().await? {
        messages.push(parse_message(&message.bytes));
    }
    Ok(())
}

/// The group's messages: ids from `OVER`, bytes from the store (all stored
/// by the message phase), `ARTICLE` only for what the store lacks.
async fn nntp_window(
    host: &str,
    port: u16,
    group: &str,
    store: &Store,
    key: &str,
    messages: &mut Vec<ParsedMessage>,
    report: &mut IngestReport,
) -> Result<(), SourceError> {
    let mut client = crate::nntp::NntpClient::connect(host, port).await?;
    let info = client.group(group).await?;
    let mut low = info.low;
    while low <= info.high {
        let high = info.high.min(low + 999);
        for entry in client.over(low, high).await? {
            let message_id = entry
                .message_id
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>');
            let stored = store.message_raw(message_id).await.ok().flatten();
            let raw = match stored {
                Some(raw) => raw,
                None => match client.article(entry.number).await? {
                    Some(raw) => raw,
                    None => {
                        report.diagnostics.push(format!(
                            "{key} article {}: gone before series assembly; left out",
                            entry.number
                        ));
                        continue;
                    }
                },
            };
            messages.push(parse_message(&raw));
        }
        low = high + 1;
    }
    client.quit().await;
    Ok(())
}

async fn store_series(
    messages: &[ParsedMessage],
    store: &Store,
    report: &mut IngestReport,
) -> Result<(), IngestError> {
    let assembly = assemble(messages);
    report.counts.pull_requests = assembly.pull_requests.len() as u64;
    report.diagnostics.extend(
        messages
            .iter()
            .flat_map(|message| &message.diagnostics)
            .chain(&assembly.diagnostics)
            .map(|diagnostic| match &diagnostic.message_id {
                Some(message_id) => format!("<{message_id}>: {}", diagnostic.message),
                None => diagnostic.message.clone(),
            }),
    );
    let keys = crate::series_key::series_keys(&assembly.series);
    for (series, series_key) in assembly.series.iter().zip(keys) {
        let new = new_series_version(series, series_key, messages);
        match store.upsert_series_version(&new).await {
            Ok(_) => report.counts.series += 1,
            Err(error) if error.refuses_input() => {
                report.counts.series_rejected += 1;
                report.diagnostics.push(format!(
                    "series {:?} v{} refused by the database, left out: {error}",
                    new.series_key, new.version
                ));
            }
            Err(source) => {
                return Err(IngestError::Store {
                    source_key: format!("series {:?}", new.series_key),
                    source,
                })
            }
        }
    }
    Ok(())
}

fn new_series_version(
    series: &Series,
    series_key: String,
    messages: &[ParsedMessage],
) -> NewSeriesVersion {
    let author = series
        .author
        .as_ref()
        .map(|person| person.display())
        .unwrap_or_default();
    let patches = series
        .patches()
        .map(|(number, message_id, position)| {
            let message = &messages[position];
            NewPatch {
                index: number,
                message_id: message_id.to_owned(),
                subject: message.subject.clone(),
                author: message
                    .from
                    .as_ref()
                    .map(|person| person.display())
                    .unwrap_or_default(),
                commit_message: message.commit_message.clone(),
                diff: message.diff.clone(),
                patch_id: message.patch_id.clone(),
            }
        })
        .collect();
    NewSeriesVersion {
        series_key,
        title: series.title.clone(),
        author,
        version: series.version,
        total: series.total,
        cover_message_id: series.cover_message_id.clone(),
        patches,
    }
}

/// `error` and its sources joined by `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Seconds since the epoch as RFC 3339 UTC (`2025-02-19T04:23:46Z`); a
/// time chrono cannot represent is written `@SECONDS`, never a wrong date.
pub fn rfc3339_utc(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || format!("@{seconds}"),
        |time| time.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (1_739_939_026, "2025-02-19T04:23:46Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (-1, "1969-12-31T23:59:59Z"),
            (i64::MAX, "@9223372036854775807"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(rfc3339_utc(seconds), expected, "{seconds}");
        }
    }
}
