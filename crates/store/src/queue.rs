//! The job queue: review jobs with priorities, dedup keys, leases,
//! heartbeats, retries with backoff and a dead-letter state.
//!
//! A job is `queued`, `running` (leased by one worker until `lease_until`),
//! `done`, `dead` (out of attempts, or failed permanently) or `superseded`
//! (a newer version of its series was queued). Claims take the most urgent
//! eligible job: PostgreSQL with `FOR UPDATE SKIP LOCKED`, so many workers
//! on many machines never wait on each other; SQLite inside `BEGIN
//! IMMEDIATE`, which serialises claimers of one database file. Every write
//! after a claim is fenced by (job, worker, attempt), so a worker whose
//! lease expired can never complete or fail a job another worker now owns.
//! Expired leases are returned to the queue (or the dead letters) by every
//! claim; a review job whose dead worker had already stored its review is
//! completed from it instead of run twice. Time is the database's clock,
//! in milliseconds.
//!
//! This module must never run a job itself (see [`worker`]) and never drop a
//! job: every job ends done, dead or superseded, with its last error kept.

pub mod worker;

use std::time::Duration;

use serde::Serialize;
use sqlx::types::Json;

use crate::error::QueryContext;
use crate::{on_pool, BackendKind, Store, StoreError};

/// Row id of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct JobId(pub i64);

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobStatus {
    /// Waiting to be claimed (possibly not before `run_at`).
    Queued,
    /// Leased by a worker.
    Running,
    /// Completed.
    Done,
    /// Out of attempts or failed permanently.
    Dead,
    /// Replaced by a job for a newer version of the same series.
    Superseded,
}

impl JobStatus {
    /// Every status.
    pub const ALL: [JobStatus; 5] = [
        JobStatus::Queued,
        JobStatus::Running,
        JobStatus::Done,
        JobStatus::Dead,
        JobStatus::Superseded,
    ];

    /// The value stored in `jobs.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Done => "done",
            JobStatus::Dead => "dead",
            JobStatus::Superseded => "superseded",
        }
    }
}

impl std::str::FromStr for JobStatus {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        JobStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text.trim())
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                "unknown job status {text:?}: expected queued, running, done, dead or superseded"
            ))
            })
    }
}

/// Queue timing and retry policy.
#[derive(Clone, Debug)]
pub struct QueueConfig {
    /// How long a claim lasts without a heartbeat.
    pub lease: Duration,
    /// Delay before the first retry; doubled for each further attempt.
    pub retry_base: Duration,
    /// Longest delay between retries.
    pub retry_max: Duration,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            lease: Duration::from_secs(60),
            retry_base: Duration::from_secs(10),
            retry_max: Duration::from_secs(30 * 60),
        }
    }
}

impl QueueConfig {
    /// Delay before retrying a job that failed its `attempt`-th attempt.
    pub fn retry_delay(&self, attempt: i64) -> Duration {
        let exponent = u32::try_from(attempt.saturating_sub(1).clamp(0, 30)).unwrap_or(30);
        self.retry_base
            .saturating_mul(2u32.saturating_pow(exponent))
            .min(self.retry_max)
    }
}

/// A job to enqueue.
#[derive(Clone, Debug)]
pub struct NewJob {
    /// What to do, e.g. `review`.
    pub kind: String,
    /// Input of the job.
    pub payload: serde_json::Value,
    /// At most one queued or running job has this key.
    pub dedup_key: Option<String>,
    /// The series the job is about, to supersede older versions.
    pub series_key: Option<String>,
    /// The version of that series.
    pub series_version: Option<u32>,
    /// Higher runs first (critical subsystems first).
    pub priority: i32,
    /// Attempts before the job is dead.
    pub max_attempts: u32,
}

impl NewJob {
    /// A job of `kind` with `payload`, priority 0, five attempts.
    pub fn new(kind: impl Into<String>, payload: serde_json::Value) -> NewJob {
        NewJob {
            kind: kind.into(),
            payload,
            dedup_key: None,
            series_key: None,
            series_version: None,
            priority: 0,
            max_attempts: 5,
        }
    }
}

/// What [`Store::enqueue`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum Enqueued {
    /// A new job, after superseding this many queued older versions.
    Added {
        /// The new job.
        id: JobId,
        /// Queued jobs of older versions of the series now superseded.
        superseded: u64,
    },
    /// A queued or running job with the same dedup key exists.
    Existing {
        /// That job.
        id: JobId,
    },
    /// A queued or running job for a newer version of the series exists.
    Obsolete {
        /// That job.
        newer: JobId,
    },
}

/// What one recovery pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Recovered {
    /// Jobs with expired leases handed back to the queue (or the dead letters).
    pub jobs: u64,
    /// Jobs with expired leases completed from the review their attempt
    /// had stored before its worker stopped.
    pub completed: u64,
    /// Running reviews marked interrupted (their job attempt or their own
    /// lease ended).
    pub reviews: u64,
}

/// A job leased to a worker.
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    /// The job.
    pub id: JobId,
    /// Its kind.
    pub kind: String,
    /// Its input.
    pub payload: serde_json::Value,
    /// This attempt's number (1 for the first); fences later writes.
    pub attempt: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// The worker holding the lease.
    pub worker: String,
}

/// A job as listed by `sashiko jobs`.
#[derive(Clone, Debug, Serialize)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// Kind.
    pub kind: String,
    /// Status.
    pub status: JobStatus,
    /// Priority.
    pub priority: i64,
    /// Attempts made.
    pub attempts: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// The worker holding or last holding it.
    pub worker: Option<String>,
    /// Dedup key.
    pub dedup_key: Option<String>,
    /// Series key.
    pub series_key: Option<String>,
    /// Series version.
    pub series_version: Option<i64>,
    /// Last error.
    pub last_error: Option<String>,
    /// Input.
    pub payload: serde_json::Value,
    /// Result, once done.
    pub result: Option<serde_json::Value>,
    /// Not claimable before this time (ms).
    pub run_at: i64,
    /// Lease end (ms), while running.
    pub lease_until: Option<i64>,
    /// Enqueue time (ms).
    pub created_at: i64,
    /// Last claim time (ms).
    pub started_at: Option<i64>,
    /// End time (ms).
    pub finished_at: Option<i64>,
}

/// Why a fenced write did not apply.
fn lease_lost(job: &ClaimedJob, doing: &str) -> StoreError {
    StoreError::Invalid(format!(
        "{doing} job {} attempt {}: worker {} no longer holds its lease (it expired and the job was recovered)",
        job.id.0, job.attempt, job.worker
    ))
}

mod ops;
