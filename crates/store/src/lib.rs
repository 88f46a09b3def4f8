//! Storage for sashiko on SQLite (embedded default) or PostgreSQL (scale).
//!
//! One [`Store`] type serves both backends with one logical schema
//! (migrations in `migrations/sqlite` and `migrations/postgres`, kept in
//! step). Queries are plain runtime SQL with `$N` parameters, which both
//! drivers accept; the few places where the dialects differ (the clock, row
//! locking) are spelled out per backend next to each other.
//!
//! The store keeps what it is given: raw message bytes, review usage, bug
//! history. It must never decide review policy (what is a finding, what to
//! send), never talk to the network other than the database, and never
//! lose a row silently: every write either happens or returns an error.

mod admin;
mod bugs;
mod error;
mod feedback;
mod liveness;
mod messages;
mod migrations;
mod outbox;
mod outbox_bot;
mod queue;
mod queue_candidates;
mod redact_stored;
mod rejects;
mod review_tree;
mod reviews;
#[cfg(feature = "synthetic")]
mod synthetic;
mod text;
mod types;
mod versions;
pub mod web;
pub mod web_queries;

pub use admin::{create_postgres_database, drop_postgres_database};
pub use bugs::{
    subsystem_from_path, Bug, BugFilter, BugHistoryEntry, BugPage, BugState, Promotion, StateChange,
};
pub use error::{redact_url, StoreError};
pub use feedback::{NewFeedback, StageFeedback, Verdict};
pub use liveness::{
    run_as_job_attempt, JobReview, ReviewCounts, ReviewHeartbeat, DEFAULT_REVIEW_LEASE,
};
pub use migrations::{embedded_files, MigrationState, MigrationStatus};
pub use outbox::{MailId, MailQueued, NewMail, OutgoingMail};
pub use outbox_bot::{ReviewProvenance, StagePromptFeedback, StoredFinding};
pub use queue::worker::{
    default_worker_id, run_worker, JobFailure, JobHandler, WorkerConfig, WorkerReport,
};
pub use queue::{ClaimedJob, Enqueued, Job, JobId, JobStatus, NewJob, QueueConfig, Recovered};
pub use queue_candidates::{PatchToQueue, TouchedVersion, VersionToQueue};
pub use rejects::{IngestReject, NewReject};
pub use review_tree::ReviewTree;
pub use reviews::FinishedReview;
#[cfg(feature = "synthetic")]
pub use synthetic::SyntheticLoad;
pub use text::storable_text;
pub use types::*;
pub use versions::{
    EarlierReview, FindingNotes, InterdiffFile, NotedFinding, OutcomeNotes, StoredInterdiff,
    StoredPatch,
};

use std::str::FromStr;
use std::time::Duration;

use error::QueryContext;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

/// A connection pool to one sashiko database, SQLite or PostgreSQL.
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// When this pool last returned expired leases to the queue.
    last_recovery: std::sync::Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// How long a review started here stays running without a heartbeat.
    review_lease: Duration,
}

#[derive(Clone, Debug)]
enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// An SQLite file (or memory).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl BackendKind {
    /// `sqlite` or `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Sqlite => "sqlite",
            BackendKind::Postgres => "postgres",
        }
    }
}

/// Runs `$body` with `$pool` bound to the backend's pool. The body is
/// compiled once per backend, so it may use driver-specific types freely as
/// long as the text is valid for both.
macro_rules! on_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::Backend::Sqlite($pool) => $body,
            $crate::Backend::Postgres($pool) => $body,
        }
    };
}
pub(crate) use on_pool;

/// The current time in milliseconds since the Unix epoch, as an SQL
/// expression evaluated by the database, so that leases compare against one
/// clock however many machines the workers run on.
const SQLITE_NOW: &str = "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
const POSTGRES_NOW: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)";

/// Tables whose rows [`Store::count`] can count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Mailing lists.
    Lists,
    /// Raw messages.
    Messages,
    /// Series (all versions of one patch set).
    Series,
    /// One version of a series.
    SeriesVersions,
    /// Patches of series versions.
    Patches,
    /// Review runs.
    Reviews,
    /// Findings of reviews.
    Findings,
    /// Bugs.
    Bugs,
    /// Bug state changes.
    BugHistory,
    /// Replies to our reviews.
    Feedback,
    /// Outgoing mail.
    Outbox,
    /// Queued work.
    Jobs,
    /// Resume points of ingest sources.
    IngestCursors,
    /// Messages the database refused, with the reason.
    IngestRejects,
}

impl Table {
    /// The SQL table name.
    pub fn name(self) -> &'static str {
        match self {
            Table::Lists => "lists",
            Table::Messages => "messages",
            Table::Series => "series",
            Table::SeriesVersions => "series_versions",
            Table::Patches => "patches",
            Table::Reviews => "reviews",
            Table::Findings => "findings",
            Table::Bugs => "bugs",
            Table::BugHistory => "bug_history",
            Table::Feedback => "feedback",
            Table::Outbox => "outbox",
            Table::Jobs => "jobs",
            Table::IngestCursors => "ingest_cursors",
            Table::IngestRejects => "ingest_rejects",
        }
    }
}

impl Store {
    /// Connects to `url`: `sqlite:PATH` (the file and its parent directories
    /// are created; WAL journal, busy timeout, foreign keys on),
    /// `sqlite::memory:`, or `postgres://...` / `postgresql://...`.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Self::connect_with(url, &ConnectOptions::default()).await
    }

    /// Like [`Store::connect`] with explicit pool settings.
    pub async fn connect_with(url: &str, options: &ConnectOptions) -> Result<Store, StoreError> {
        let redacted = redact_url(url);
        let connect_error = |source| StoreError::Connect {
            url: redacted.clone(),
            source,
        };
        if url.starts_with("sqlite:") {
            let sqlite_options = SqliteConnectOptions::from_str(url)
                .map_err(connect_error)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(options.busy_timeout)
                .foreign_keys(true);
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory {
                if let Some(parent) = sqlite_options.get_filename().parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent).map_err(|source| {
                            StoreError::CreateDir {
                                path: parent.display().to_string(),
                                source,
                            }
                        })?;
                    }
                }
            }
            // An in-memory database exists once per connection: keep exactly one.
            let max = if in_memory {
                1
            } else {
                options.max_connections
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(max)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(sqlite_options)
                .await
                .map_err(connect_error)?;
            Ok(Store::new(Backend::Sqlite(pool), options))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect(url)
                .await
                .map_err(connect_error)?;
            Ok(Store::new(Backend::Postgres(pool), options))
        } else {
            Err(StoreError::UnsupportedUrl { url: redacted })
        }
    }

    fn new(backend: Backend, options: &ConnectOptions) -> Store {
        Store {
            backend,
            last_recovery: std::sync::Arc::new(std::sync::Mutex::new(None)),
            review_lease: options.review_lease.max(Duration::from_millis(200)),
        }
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> BackendKind {
        match self.backend {
            Backend::Sqlite(_) => BackendKind::Sqlite,
            Backend::Postgres(_) => BackendKind::Postgres,
        }
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        on_pool!(self, pool => pool.close().await)
    }

    /// Replaces `{now}` in `template` with this backend's clock expression.
    pub(crate) fn sql(&self, template: &str) -> String {
        let now = match self.backend {
            Backend::Sqlite(_) => SQLITE_NOW,
            Backend::Postgres(_) => POSTGRES_NOW,
        };
        template.replace("{now}", now)
    }

    /// Number of rows in `table`.
    pub async fn count(&self, table: Table) -> Result<i64, StoreError> {
        let sql = format!("SELECT COUNT(*) FROM {}", table.name());
        on_pool!(self, pool => sqlx::query_scalar::<_, i64>(&sql).fetch_one(pool).await)
            .context(|| format!("counting rows of {}", table.name()))
    }

    /// The resume point stored for ingest source `source`, if any.
    pub async fn get_cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT value FROM ingest_cursors WHERE source = $1";
        on_pool!(self, pool => sqlx::query_scalar::<_, String>(sql).bind(source).fetch_optional(pool).await)
            .context(|| format!("reading the ingest cursor of {source:?}"))
    }

    /// Stores `value` as the resume point of ingest source `source`.
    pub async fn set_cursor(&self, source: &str, value: &str) -> Result<(), StoreError> {
        let sql = self.sql(
            "INSERT INTO ingest_cursors (source, value, updated_at) VALUES ($1, $2, {now}) \
             ON CONFLICT (source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        );
        on_pool!(self, pool => sqlx::query(&sql).bind(source).bind(value).execute(pool).await.map(|_| ()))
            .context(|| format!("storing the ingest cursor of {source:?}"))
    }
}

/// Pool settings for [`Store::connect_with`].
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long to wait for a free connection.
    pub acquire_timeout: Duration,
    /// How long SQLite waits on a locked database before failing.
    pub busy_timeout: Duration,
    /// How long a review started through this pool stays `running` without
    /// a heartbeat before it counts as interrupted (heartbeats come every
    /// quarter of it).
    pub review_lease: Duration,
}

/// Environment variable that sets [`ConnectOptions::review_lease`] in
/// seconds for every sashiko process (tests use a short one).
pub const REVIEW_LEASE_ENV: &str = "SASHIKO_REVIEW_LEASE_SECS";

impl Default for ConnectOptions {
    /// 8 connections, 30 s timeouts, and the review lease from
    /// `SASHIKO_REVIEW_LEASE_SECS` or [`DEFAULT_REVIEW_LEASE`].
    fn default() -> Self {
        let review_lease = match std::env::var(REVIEW_LEASE_ENV) {
            Ok(text) => match text.trim().parse::<f64>() {
                Ok(secs) if secs.is_finite() && secs > 0.0 => Duration::from_secs_f64(secs),
                _ => {
                    tracing::warn!(
                        "{REVIEW_LEASE_ENV}={text:?} is not a positive number of seconds; using {} s",
                        DEFAULT_REVIEW_LEASE.as_secs()
                    );
                    DEFAULT_REVIEW_LEASE
                }
            },
            Err(_) => DEFAULT_REVIEW_LEASE,
        };
        ConnectOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
            busy_timeout: Duration::from_secs(30),
            review_lease,
        }
    }
}
