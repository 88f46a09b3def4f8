//! Queueing reviews: store a loaded series' messages, then queue one
//! [`ReviewJob`] for it with its priority, deduplicated per version and
//! superseding queued jobs of older versions of the same lineage.
//!
//! Never runs a review.

use std::path::Path;

use sashiko_store::{Enqueued, Store};

use crate::error::{Context, ErrorKind, Result};
use crate::inputs::LoadedSeries;
use crate::jobs::{lineage_key, BackgroundJob, ReviewJob};
use crate::review_runner::store_messages;

/// How queued reviews are scheduled.
#[derive(Clone, Copy, Debug)]
pub struct EnqueueOptions {
    pub priority: i32,
    /// Attempts before a job goes to the dead letters.
    pub max_attempts: u32,
}

/// The queued job and what the queue made of it.
pub struct QueuedReview {
    pub job: ReviewJob,
    pub outcome: Enqueued,
}

/// Stores the messages of `loaded` and queues its review. Git input names
/// `repo` in the job.
pub async fn enqueue_review(
    store: &Store,
    loaded: &LoadedSeries,
    repo: &Path,
    options: EnqueueOptions,
) -> Result<QueuedReview> {
    store_messages(store, loaded).await?;
    let job = ReviewJob::for_series(loaded, repo)?;
    let new_job =
        job.to_new_job(&job.schedule(lineage_key(loaded), options.priority, options.max_attempts))?;
    let outcome = store
        .enqueue(&new_job)
        .await
        .context(ErrorKind::Store, || {
            format!("queueing a review of {:?} ({})", job.title, job.source)
        })?;
    Ok(QueuedReview { job, outcome })
}
