//! The worker loop: claim a job, keep its lease alive while a handler runs
//! it, then complete or fail it.
//!
//! The handler is pluggable ([`JobHandler`]), so the same loop runs review
//! jobs in `sashiko worker` and trivial jobs in tests. Each handler runs
//! inside [`crate::run_as_job_attempt`], so the reviews it starts are tied
//! to its attempt and interrupted when the attempt loses the job. The loop must never
//! complete a job whose lease it lost: when a heartbeat finds the lease
//! gone, the handler's future is dropped and the job is left to its new
//! owner.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::{ClaimedJob, QueueConfig};
use crate::{Store, StoreError};

/// Why a job failed.
#[derive(Clone, Debug)]
pub struct JobFailure {
    /// What went wrong, with the input it went wrong on.
    pub message: String,
    /// Retrying cannot help (bad input): the job goes to the dead letters.
    pub permanent: bool,
}

impl JobFailure {
    /// A failure worth retrying.
    pub fn transient(message: impl Into<String>) -> JobFailure {
        JobFailure {
            message: message.into(),
            permanent: false,
        }
    }

    /// A failure no retry will fix.
    pub fn permanent(message: impl Into<String>) -> JobFailure {
        JobFailure {
            message: message.into(),
            permanent: true,
        }
    }
}

/// Runs one claimed job and returns its result document.
pub trait JobHandler: Send + Sync + 'static {
    /// Runs `job`.
    fn run(
        &self,
        job: ClaimedJob,
    ) -> impl Future<Output = Result<serde_json::Value, JobFailure>> + Send;
}

/// How a worker process behaves.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Identity recorded on claimed jobs; each slot appends `/N`.
    pub worker_id: String,
    /// Jobs run at once.
    pub concurrency: usize,
    /// Stop once no job is queued or running anywhere.
    pub exit_when_idle: bool,
    /// Pause between claims when nothing is eligible.
    pub poll_interval: Duration,
    /// Interval between lease renewals; well under the lease.
    pub heartbeat_interval: Duration,
    /// Lease and retry policy.
    pub queue: QueueConfig,
}

impl WorkerConfig {
    /// Defaults for `worker_id`: one job at a time, 1 s polls, heartbeats at
    /// a third of the lease.
    pub fn new(worker_id: impl Into<String>) -> WorkerConfig {
        let queue = QueueConfig::default();
        WorkerConfig {
            worker_id: worker_id.into(),
            concurrency: 1,
            exit_when_idle: false,
            poll_interval: Duration::from_secs(1),
            heartbeat_interval: queue.lease / 3,
            queue,
        }
    }
}

/// A worker identity unique to this process: host, pid and a random part.
pub fn default_worker_id() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_string())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0);
    format!("{host}:{}:{nanos:08x}", std::process::id())
}

/// What a worker did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WorkerReport {
    /// Jobs completed.
    pub completed: u64,
    /// Attempts that failed (retried or dead).
    pub failed: u64,
    /// Jobs abandoned because their lease was lost.
    pub lost: u64,
    /// Jobs this worker moved to the dead letters.
    pub dead: u64,
}

/// Runs `concurrency` claim loops until `shutdown` resolves (then finishes
/// the jobs in hand) or, with `exit_when_idle`, until nothing is pending.
pub async fn run_worker<H: JobHandler>(
    store: Store,
    config: WorkerConfig,
    handler: Arc<H>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<WorkerReport, StoreError> {
    let (stop_sender, stop) = tokio::sync::watch::channel(false);
    let shutdown_task = tokio::spawn(async move {
        shutdown.await;
        let _ = stop_sender.send(true);
    });
    let mut slots = tokio::task::JoinSet::new();
    for slot in 0..config.concurrency.max(1) {
        let store = store.clone();
        let config = config.clone();
        let handler = handler.clone();
        let stop = stop.clone();
        slots.spawn(async move { run_slot(store, config, slot, handler, stop).await });
    }
    let mut report = WorkerReport::default();
    let mut first_error = None;
    while let Some(joined) = slots.join_next().await {
        match joined {
            Ok(Ok(slot_report)) => {
                report.completed += slot_report.completed;
                report.failed += slot_report.failed;
                report.lost += slot_report.lost;
                report.dead += slot_report.dead;
            }
            Ok(Err(error)) => {
                first_error.get_or_insert(error);
            }
            Err(join_error) => {
                first_error.get_or_insert(StoreError::Invalid(format!(
                    "a worker slot panicked: {join_error}"
                )));
            }
        }
    }
    shutdown_task.abort();
    match first_error {
        Some(error) => Err(error),
        None => Ok(report),
    }
}

async fn run_slot<H: JobHandler>(
    store: Store,
    config: WorkerConfig,
    slot: usize,
    handler: Arc<H>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Result<WorkerReport, StoreError> {
    let worker = format!("{}/{slot}", config.worker_id);
    let mut report = WorkerReport::default();
    let mut consecutive_errors = 0u32;
    loop {
        if *stop.borrow() {
            return Ok(report);
        }
        match step(&store, &config, &worker, handler.as_ref(), &mut report).await {
            Ok(Step::Worked) => consecutive_errors = 0,
            Ok(Step::Idle) => {
                consecutive_errors = 0;
                if config.exit_when_idle && store.pending_jobs().await? == 0 {
                    return Ok(report);
                }
                tokio::select! {
                    _ = tokio::time::sleep(config.poll_interval) => {}
                    _ = stop.changed() => {}
                }
            }
            // A database hiccup: the job in hand (if any) is recovered when
            // its lease expires; try again a few times before giving up.
            Err(error) if consecutive_errors < MAX_CONSECUTIVE_ERRORS => {
                consecutive_errors += 1;
                tracing::warn!(worker = %worker, %error, consecutive_errors, "queue error, retrying");
                tokio::time::sleep(config.poll_interval).await;
            }
            Err(error) => return Err(error),
        }
    }
}

/// Errors in a row after which a worker slot stops.
const MAX_CONSECUTIVE_ERRORS: u32 = 10;

enum Step {
    Worked,
    Idle,
}

async fn step<H: JobHandler>(
    store: &Store,
    config: &WorkerConfig,
    worker: &str,
    handler: &H,
    report: &mut WorkerReport,
) -> Result<Step, StoreError> {
    let Some(job) = store.claim(worker, config.queue.lease).await? else {
        return Ok(Step::Idle);
    };
    tracing::info!(job = job.id.0, attempt = job.attempt, worker = %worker, kind = %job.kind, "running job");
    match run_one(store, config, handler, job).await? {
        Ran::Completed => report.completed += 1,
        Ran::Failed { dead } => {
            report.failed += 1;
            report.dead += u64::from(dead);
        }
        Ran::Lost => report.lost += 1,
    }
    Ok(Step::Worked)
}

enum Ran {
    Completed,
    Failed { dead: bool },
    Lost,
}

async fn run_one<H: JobHandler>(
    store: &Store,
    config: &WorkerConfig,
    handler: &H,
    job: ClaimedJob,
) -> Result<Ran, StoreError> {
    let work = crate::run_as_job_attempt(&job, handler.run(job.clone()));
    tokio::pin!(work);
    let mut beat = tokio::time::interval(config.heartbeat_interval);
    beat.tick().await; // the first tick is immediate; the claim just set the lease
    let outcome = loop {
        tokio::select! {
            outcome = &mut work => break outcome,
            _ = beat.tick() => {
                if let Err(error) = store.heartbeat(&job, config.queue.lease).await {
                    tracing::warn!(job = job.id.0, %error, "abandoning job");
                    return Ok(Ran::Lost);
                }
            }
        }
    };
    let finished = match outcome {
        Ok(result) => store
            .complete_job(&job, &result)
            .await
            .map(|()| Ran::Completed),
        Err(failure) => {
            tracing::warn!(job = job.id.0, attempt = job.attempt, error = %failure.message, "job failed");
            store
                .fail_job(&job, &failure.message, failure.permanent, &config.queue)
                .await
                .map(|status| Ran::Failed {
                    dead: status == super::JobStatus::Dead,
                })
        }
    };
    match finished {
        Ok(ran) => Ok(ran),
        // The lease expired while the handler ran (no heartbeat got through):
        // the job belongs to someone else now; that is not a worker error.
        Err(StoreError::Invalid(message)) => {
            tracing::warn!(job = job.id.0, %message, "result discarded");
            Ok(Ran::Lost)
        }
        Err(error) => Err(error),
    }
}
