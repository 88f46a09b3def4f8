//! The review worker: run queued [`ReviewJob`]s from the store, as many
//! workers on as many machines as wanted.
//!
//! The claim / heartbeat / complete / retry loop is the store's
//! ([`sashiko_store::run_worker`]); this module supplies the handler that
//! turns a job back into a series and reviews it through
//! [`ReviewService`]. A job whose input cannot be loaded fails permanently
//! (dead letter, with the reason); a review that fails (model down, bad
//! answers) is retried with backoff. This module must never review
//! anything that was not queued.

use std::future::Future;
use std::sync::Arc;

use sashiko_store::{
    run_worker, ClaimedJob, JobFailure, JobHandler, Store, WorkerConfig, WorkerReport,
};

use crate::error::{Context, ErrorKind, PipelineError, Result};
use crate::inputs::{load_inputs, series_from_mbox, InputOptions, LoadedSeries};
use crate::jobs::{BackgroundJob, ReviewJob};
use crate::service::{ReviewService, TreeSource};

/// Runs review jobs until `shutdown` resolves (then finishes the jobs in
/// hand) or, with `config.exit_when_idle`, until nothing is pending.
pub async fn run_review_worker(
    service: Arc<ReviewService>,
    config: WorkerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<WorkerReport> {
    let store = service.store.clone();
    let handler = Arc::new(ReviewJobHandler { service });
    run_worker(store, config, handler, shutdown)
        .await
        .context(ErrorKind::Store, || "running the review worker".to_owned())
}

/// Runs review jobs through the shared review path.
pub struct ReviewJobHandler {
    service: Arc<ReviewService>,
}

impl ReviewJobHandler {
    pub fn new(service: Arc<ReviewService>) -> ReviewJobHandler {
        ReviewJobHandler { service }
    }
}

impl JobHandler for ReviewJobHandler {
    async fn run(&self, job: ClaimedJob) -> std::result::Result<serde_json::Value, JobFailure> {
        // The review engine's future is not `Send` (the compiler cannot
        // prove it for its stage closures), so each job runs on a blocking
        // thread of its own, driven by this runtime (and tied to this job
        // attempt there too). If the lease is lost, the worker stops
        // waiting; the review goes on in the background, but the store has
        // marked it interrupted and refuses its outcome.
        let service = self.service.clone();
        let runtime = tokio::runtime::Handle::current();
        let job_id = job.id.0;
        tokio::task::spawn_blocking(move || {
            let attempt = job.clone();
            runtime.block_on(sashiko_store::run_as_job_attempt(
                &attempt,
                review_job(&service, job),
            ))
        })
        .await
        .map_err(|error| {
            JobFailure::transient(format!("job {job_id}: the review thread failed: {error}"))
        })?
    }
}

/// A failure of `job`: permanent for bad input, else worth retrying.
fn job_failure(job: &ClaimedJob, error: PipelineError) -> JobFailure {
    let message = format!("job {}: {error}", job.id.0);
    match error.kind() {
        ErrorKind::Input => JobFailure::permanent(message),
        _ => JobFailure::transient(message),
    }
}

async fn review_job(
    service: &ReviewService,
    job: ClaimedJob,
) -> std::result::Result<serde_json::Value, JobFailure> {
    let payload = match ReviewJob::from_claimed(&job) {
        Some(Ok(payload)) => payload,
        Some(Err(error)) => return Err(JobFailure::permanent(error.to_string())),
        None => {
            return Err(JobFailure::permanent(format!(
                "job {}: unknown kind {:?}",
                job.id.0, job.kind
            )))
        }
    };
    let loaded = load_job_series(&service.store, &payload)
        .await
        .map_err(|error| JobFailure::permanent(format!("job {}: {error}", job.id.0)))?;
    let progress = |line: &str| tracing::info!(job = job.id.0, "{line}");
    let base_commit = loaded.base_commit();
    let source = match &payload.git {
        Some(git) => TreeSource::Commits { repo: &git.repo },
        None => TreeSource::Mail {
            base_commit: base_commit.as_deref(),
        },
    };
    let tree = service.tree_context(&loaded, source);
    if tree.has_tree() {
        tracing::info!(job = job.id.0, "{}", tree.summary);
    } else {
        tracing::warn!(job = job.id.0, "{}", tree.summary);
    }
    for note in &tree.notes {
        tracing::info!(job = job.id.0, "note: {note}");
    }
    let reviewed = service
        .review(&loaded, &tree, &progress)
        .await
        .map_err(|error| match error.kind() {
            ErrorKind::Review => {
                JobFailure::transient(format!("job {} ({}): {error}", job.id.0, payload.source))
            }
            _ => job_failure(&job, error),
        })?;
    Ok(serde_json::json!({
        "review_id": reviewed.review_id,
        "status": reviewed.status.as_str(),
        "findings": reviewed.output.findings.len(),
        "wall_ms": reviewed.wall_ms,
        "tree": {
            "context": tree.has_tree(),
            "summary": tree.summary,
            "baseline": tree.baseline,
            "snippets": tree.context.len(),
            "tools": tree.tools.is_some(),
            "lock_hierarchy": tree.lock_hierarchy.is_some(),
            "applied": tree.application,
            "notes": tree.notes,
        },
    }))
}

/// Rebuilds the series a job names: the pinned commits for git input, the
/// stored raw messages (as an mboxrd) for mail input.
pub async fn load_job_series(store: &Store, payload: &ReviewJob) -> Result<LoadedSeries> {
    let candidates = match &payload.git {
        Some(git) => {
            let spec = git.spec().ok_or_else(|| {
                PipelineError::input(format!("{}: no commits in the job", payload.source))
            })?;
            let options = InputOptions {
                repo: &git.repo,
                lore_base: None,
            };
            load_inputs(&[spec], &options).await?
        }
        None => {
            let mut mbox = Vec::new();
            for message_id in &payload.message_ids {
                let raw = store
                    .message_raw(message_id)
                    .await
                    .context(ErrorKind::Store, || {
                        format!("reading message <{message_id}> of {}", payload.source)
                    })?
                    .ok_or_else(|| {
                        PipelineError::input(format!(
                            "message <{message_id}> of {} is not in the store",
                            payload.source
                        ))
                    })?;
                append_mboxrd(&mut mbox, &raw);
            }
            series_from_mbox(&mbox, &payload.source)?
        }
    };
    pick_job_series(payload, candidates)
}

/// The series of `candidates` the job names.
fn pick_job_series(payload: &ReviewJob, candidates: Vec<LoadedSeries>) -> Result<LoadedSeries> {
    let count = candidates.len();
    let mut git_fallback = None;
    for mut candidate in candidates {
        if candidate.series.version != payload.version {
            git_fallback.get_or_insert(candidate);
            continue;
        }
        if candidate.series_key == payload.series_key {
            return Ok(candidate);
        }
        // Mail: the job's messages rebuilt alone may not link to an older
        // version, so the series is found by its messages and keeps the key
        // the job names (the stored series row the review belongs to).
        let same_messages = payload.git.is_none()
            && !candidate.messages.is_empty()
            && candidate
                .messages
                .iter()
                .all(|message| payload.message_ids.contains(&message.message_id));
        if same_messages {
            candidate.series_key = payload.series_key.clone();
            return Ok(candidate);
        }
        git_fallback.get_or_insert(candidate);
    }
    // Git series keys come from the commit ids, which are pinned.
    match (payload.git.is_some(), git_fallback) {
        (true, Some(only)) if count == 1 => Ok(only),
        _ => Err(PipelineError::input(format!(
            "{}: series {} v{} not found among the {count} series rebuilt from the job",
            payload.source, payload.series_key, payload.version
        ))),
    }
}

/// Appends one message to an mboxrd: a `From ` separator, the message with
/// `From ` lines (however many `>` precede them) escaped by one more `>`,
/// and a blank line.
pub fn append_mboxrd(mbox: &mut Vec<u8>, raw: &[u8]) {
    mbox.extend_from_slice(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n");
    // A stored message may still carry its own separator line.
    let body = match raw.strip_prefix(b"From ") {
        Some(rest) => rest
            .iter()
            .position(|&byte| byte == b'\n')
            .map_or(&raw[raw.len()..], |end| &rest[end + 1..]),
        None => raw,
    };
    for line in body.split_inclusive(|&byte| byte == b'\n') {
        let quotes = line.iter().take_while(|&&byte| byte == b'>').count();
        if line[quotes..].starts_with(b"From ") {
            mbox.push(b'>');
        }
        mbox.extend_from_slice(line);
    }
    if !body.ends_with(b"\n") {
        mbox.push(b'\n');
    }
    mbox.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::GitInput;
    use crate::series::single_patch_series;
    use sashiko_review::ReviewPatch;

    #[test]
    fn mboxrd_escapes_from_lines_and_drops_an_existing_separator() {
        let cases: [(&[u8], &[u8]); 3] = [
            (b"Subject: a\n\nbody\n", b"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: a\n\nbody\n\n"),
            (
                b"Subject: b\n\nFrom here\n>From there\nno newline",
                b"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: b\n\n>From here\n>>From there\nno newline\n\n",
            ),
            (
                b"From 1234abcd Mon Sep 17 00:00:00 2001\nSubject: c\n\nx\n",
                b"From mboxrd@z Thu Jan  1 00:00:00 1970\nSubject: c\n\nx\n\n",
            ),
        ];
        for (raw, expected) in cases {
            let mut mbox = Vec::new();
            append_mboxrd(&mut mbox, raw);
            assert_eq!(
                String::from_utf8_lossy(&mbox),
                String::from_utf8_lossy(expected)
            );
        }
    }

    fn candidate(key: &str, version: u32, message_ids: &[&str]) -> LoadedSeries {
        let mut series = single_patch_series(ReviewPatch {
            index: 1,
            subject: "s".to_owned(),
            author: "a".to_owned(),
            message_id: None,
            commit_id: None,
            commit_message: String::new(),
            diff: String::new(),
        });
        series.version = version;
        LoadedSeries {
            source: "test".to_owned(),
            series_key: key.to_owned(),
            cover_message_id: None,
            series,
            messages: message_ids
                .iter()
                .map(|id| crate::inputs::MessageToStore {
                    message_id: (*id).to_owned(),
                    raw: Vec::new(),
                    subject: String::new(),
                    author: String::new(),
                    date: None,
                    in_reply_to: None,
                })
                .collect(),
            patch_ids: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn job(key: &str, version: u32, message_ids: &[&str], git: bool) -> ReviewJob {
        ReviewJob {
            title: "t".to_owned(),
            source: "src".to_owned(),
            series_key: key.to_owned(),
            version,
            message_ids: message_ids.iter().map(|id| (*id).to_owned()).collect(),
            git: git.then(|| GitInput {
                repo: ".".into(),
                commits: vec!["a".to_owned()],
            }),
        }
    }

    #[test]
    fn a_job_finds_its_series_by_key_then_by_messages_then_the_only_git_series() {
        // By key and version.
        let picked = pick_job_series(
            &job("k2", 2, &["m"], false),
            vec![candidate("k1", 1, &["x"]), candidate("k2", 2, &["m"])],
        )
        .expect("found");
        assert_eq!(picked.series_key, "k2");
        // Mail rebuilt alone: found by its messages, keeps the job's key.
        let picked = pick_job_series(
            &job("stored", 2, &["m1", "m2"], false),
            vec![candidate("m1", 2, &["m1", "m2"])],
        )
        .expect("found");
        assert_eq!(picked.series_key, "stored");
        // Git: the one series rebuilt from pinned commits.
        let picked = pick_job_series(
            &job("git:a", 1, &[], true),
            vec![candidate("git:b", 1, &[])],
        )
        .expect("found");
        assert_eq!(picked.series_key, "git:b");
        // Nothing matching is a permanent input error naming the job.
        let error = pick_job_series(&job("k", 3, &["m"], false), vec![candidate("k", 2, &["m"])])
            .expect_err("no v3");
        assert_eq!(error.kind(), ErrorKind::Input);
        assert!(
            error
                .to_string()
                .contains("series k v3 not found among the 1"),
            "{error}"
        );
    }
}
