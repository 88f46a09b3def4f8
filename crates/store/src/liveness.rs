//! Liveness of running reviews: review leases, heartbeats, and marking
//! reviews whose process is gone as `interrupted`.
//!
//! A review starts `running` with a lease (`reviews.lease_until`, the
//! database's clock) that the process running it renews while it runs
//! ([`Store::keep_review_alive`]). Two rules turn a `running` review whose
//! runner is gone into `interrupted`, with the reason in `error`:
//!
//! - **job attempts:** a review started inside [`run_as_job_attempt`]
//!   records the job and attempt; once that attempt no longer holds the job
//!   (its lease expired and the job was handed back or went dead, or the
//!   attempt failed), the review is interrupted. This runs in the same
//!   transaction that hands the job back, so the retry starts a new review
//!   while the old one is already marked.
//! - **stale leases:** any review whose lease has passed (no heartbeat: its
//!   process was killed, or stopped without finishing it) is interrupted.
//!
//! Both are decided by the database's clock and rows, never by process ids,
//! so they hold with many workers on many machines. Sweeps run on every
//! lease recovery of the queue (each worker's claims, `serve`), at every
//! review start and from `sashiko db status`. This module must never touch
//! a review that is not `running`.

use std::future::Future;
use std::time::Duration;

use serde::Serialize;

use crate::error::QueryContext;
use crate::queue::ClaimedJob;
use crate::{on_pool, ReviewId, Store, StoreError};

tokio::task_local! {
    /// (job id, attempt) of the job attempt the current task runs.
    static JOB_ATTEMPT: (i64, i64);
}

/// Runs `work` as attempt `job.attempt` of `job`: reviews it starts with
/// [`Store::start_review`] record that attempt, and are interrupted when
/// the attempt loses the job. The worker loop wraps every handler in this;
/// a handler that moves its work to another thread wraps it again there.
pub async fn run_as_job_attempt<F: Future>(job: &ClaimedJob, work: F) -> F::Output {
    JOB_ATTEMPT.scope((job.id.0, job.attempt), work).await
}

/// The job attempt the current task runs, if any.
pub(crate) fn current_job_attempt() -> Option<(i64, i64)> {
    JOB_ATTEMPT.try_with(|attempt| *attempt).ok()
}

/// Default lease of a running review.
pub const DEFAULT_REVIEW_LEASE: Duration = Duration::from_secs(60);

/// Renews a review's lease until dropped (or until the review is no longer
/// running). Keep it alive for as long as the review runs.
#[derive(Debug)]
#[must_use = "the heartbeat stops when this value is dropped"]
pub struct ReviewHeartbeat {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for ReviewHeartbeat {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Reviews by status, for `sashiko db status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReviewCounts {
    /// (status, count), by status name.
    pub by_status: Vec<(String, i64)>,
    /// Running reviews whose lease has passed (about to be interrupted).
    pub stale: i64,
}

/// A review run by a job attempt, as listed by `sashiko jobs`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobReview {
    /// The job.
    pub job_id: i64,
    /// The attempt that started the review.
    pub attempt: i64,
    /// The review.
    pub review_id: i64,
    /// Its status: running, finished, partial, failed, compromised, interrupted.
    pub status: String,
    /// Why it failed or was interrupted.
    pub error: Option<String>,
}

const JOB_SWEEP: &str =
    "UPDATE reviews SET status = 'interrupted', finished_at = {now}, lease_until = NULL, \
       error = 'interrupted: job ' || CAST(job_id AS TEXT) || ' attempt ' || CAST(job_attempt AS TEXT) \
               || ' ended before the review finished (' \
               || COALESCE((SELECT COALESCE(j.last_error, 'the job is ' || j.status) FROM jobs j \
                            WHERE j.id = reviews.job_id), 'the job is gone') || ')' \
     WHERE status = 'running' AND job_id IS NOT NULL {only_job} \
       AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = reviews.job_id AND j.status = 'running' \
                       AND j.attempts = reviews.job_attempt)";

const STALE_SWEEP: &str =
    "UPDATE reviews SET status = 'interrupted', finished_at = {now}, lease_until = NULL, \
       error = 'interrupted: the process running it stopped renewing it (no heartbeat for ' \
               || CAST(({now} - COALESCE(heartbeat_at, started_at)) / 1000 AS TEXT) || ' s)' \
     WHERE status = 'running' AND lease_until < {now}";

impl Store {
    /// The SQL that interrupts running reviews of job attempts that no
    /// longer hold their job; with `only_job`, of that job (`$1`) only.
    pub(crate) fn job_sweep_sql(&self, only_job: bool) -> String {
        let filter = if only_job { "AND job_id = $1" } else { "" };
        self.sql(&JOB_SWEEP.replace("{only_job}", filter))
    }

    /// Marks running reviews whose lease has passed as interrupted, and
    /// those of job attempts that lost their job. Returns how many.
    pub async fn interrupt_stale_reviews(&self) -> Result<u64, StoreError> {
        let stale = self.sql(STALE_SWEEP);
        let orphaned = self.job_sweep_sql(false);
        let what = || "marking running reviews without a live runner as interrupted".to_string();
        let mut interrupted = 0;
        for sql in [&stale, &orphaned] {
            interrupted += on_pool!(self, pool => sqlx::query(sql).execute(pool).await.map(|done| done.rows_affected()))
                .context(what)?;
        }
        if interrupted > 0 {
            tracing::info!(
                interrupted,
                "marked running reviews without a live runner as interrupted"
            );
        }
        Ok(interrupted)
    }

    /// Marks running reviews of `job` whose attempt no longer holds it as
    /// interrupted (after the attempt failed). Returns how many.
    pub(crate) async fn interrupt_reviews_of_job(&self, job: i64) -> Result<u64, StoreError> {
        let sql = self.job_sweep_sql(true);
        on_pool!(self, pool => sqlx::query(&sql).bind(job).execute(pool).await.map(|done| done.rows_affected()))
            .context(|| format!("marking the unfinished reviews of job {job} as interrupted"))
    }

    /// Extends the lease of a running review; false when it is no longer
    /// running (finished, or interrupted because its lease had passed).
    pub async fn renew_review_lease(&self, id: ReviewId) -> Result<bool, StoreError> {
        let sql = self.sql(
            "UPDATE reviews SET lease_until = {now} + $2, heartbeat_at = {now} \
             WHERE id = $1 AND status = 'running'",
        );
        let lease = i64::try_from(self.review_lease.as_millis()).unwrap_or(i64::MAX);
        on_pool!(self, pool => sqlx::query(&sql).bind(id.0).bind(lease).execute(pool).await.map(|done| done.rows_affected() > 0))
            .context(|| format!("renewing the lease of review {}", id.0))
    }

    /// Renews review `id`'s lease every quarter lease in the background
    /// until the returned value is dropped or the review stops running.
    /// Needs a Tokio runtime; without one, nothing renews the lease (and
    /// the review is interrupted once it passes).
    pub fn keep_review_alive(&self, id: ReviewId) -> ReviewHeartbeat {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(
                review = id.0,
                "no async runtime: the review's lease is not renewed"
            );
            return ReviewHeartbeat { task: None };
        };
        let store = self.clone();
        let interval = (self.review_lease / 4).max(Duration::from_millis(50));
        let task = runtime.spawn(async move {
            loop {
                tokio::time::sleep(interval).await;
                match store.renew_review_lease(id).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(error) => tracing::warn!(review = id.0, %error, "review heartbeat failed"),
                }
            }
        });
        ReviewHeartbeat { task: Some(task) }
    }

    /// How long a running review stays alive without a heartbeat.
    pub fn review_lease(&self) -> Duration {
        self.review_lease
    }

    /// Reviews by status, and how many running ones have a passed lease.
    pub async fn review_counts(&self) -> Result<ReviewCounts, StoreError> {
        let by_status = "SELECT status, COUNT(*) FROM reviews GROUP BY status ORDER BY status";
        let stale = self
            .sql("SELECT COUNT(*) FROM reviews WHERE status = 'running' AND lease_until < {now}");
        let what = || "counting reviews by status".to_string();
        let by_status: Vec<(String, i64)> =
            on_pool!(self, pool => sqlx::query_as(by_status).fetch_all(pool).await)
                .context(what)?;
        let stale: i64 = on_pool!(self, pool => sqlx::query_scalar(&stale).fetch_one(pool).await)
            .context(what)?;
        Ok(ReviewCounts { by_status, stale })
    }

    /// Reviews started by the jobs `job_ids`, by job and attempt.
    pub async fn job_reviews(&self, job_ids: &[i64]) -> Result<Vec<JobReview>, StoreError> {
        type Row = (i64, i64, i64, String, Option<String>);
        let mut reviews = Vec::new();
        // Bound parameters per query stay well under both drivers' limits.
        for chunk in job_ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|n| format!("${n}")).collect();
            let sql = format!(
                "SELECT job_id, job_attempt, id, status, error FROM reviews \
                 WHERE job_id IN ({}) ORDER BY job_id, job_attempt, id",
                placeholders.join(", ")
            );
            let rows: Vec<Row> = on_pool!(self, pool => {
                let mut query = sqlx::query_as(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.fetch_all(pool).await
            })
            .context(|| format!("listing the reviews of {} jobs", chunk.len()))?;
            reviews.extend(
                rows.into_iter()
                    .map(|(job_id, attempt, review_id, status, error)| JobReview {
                        job_id,
                        attempt,
                        review_id,
                        status,
                        error,
                    }),
            );
        }
        Ok(reviews)
    }
}
