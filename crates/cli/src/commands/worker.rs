//! `sashiko worker [--concurrency N] [--exit-when-idle]`: run queued review
//! jobs from the store, as many workers on as many machines as wanted.
//!
//! The claim / heartbeat / complete / retry loop is the store's
//! ([`sashiko_store::run_worker`]); this module supplies the handler that
//! turns a job payload (see [`super::enqueue`]) back into a series and
//! reviews it through the same path as `sashiko review`. A job whose input
//! cannot be loaded fails permanently (dead letter, with the reason); a
//! review that fails (model down, bad answers) is retried with backoff.
//! This module must never review anything that was not queued.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sashiko_llm::LlmClient;
use sashiko_review::{PromptSet, ReviewOptions};
use sashiko_store::{
    default_worker_id, run_worker, ClaimedJob, JobFailure, JobHandler, Store, WorkerConfig,
};

use crate::commands::db::{open_store, DbUrlArgs};
use crate::commands::enqueue::{ReviewJobPayload, REVIEW_JOB};
use crate::inputs::{load_inputs, series_from_mbox, InputOptions, LoadedSeries};
use crate::review_runner::{connect_model, known_fingerprints, review_and_store};
use crate::settings::{FlagSettings, Settings};
use crate::tree_review::{self, TreeSettings};

#[derive(clap::Args, Debug)]
pub struct WorkerArgs {
    /// Jobs run at once by this process.
    #[arg(long, default_value_t = 1)]
    pub concurrency: usize,
    /// Exit once no job is queued or running anywhere.
    #[arg(long)]
    pub exit_when_idle: bool,
    /// Seconds a claimed job stays leased without a heartbeat; a worker that
    /// dies loses its jobs to others after this long.
    #[arg(long, default_value_t = 120)]
    pub lease_secs: u64,
    /// Milliseconds between polls of an empty queue.
    #[arg(long, default_value_t = 1000)]
    pub poll_ms: u64,
    /// Seconds before the first retry of a failed job (doubled each time).
    #[arg(long, default_value_t = 30)]
    pub retry_secs: u64,
    /// Identity recorded on claimed jobs (default: host:pid:random).
    #[arg(long)]
    pub worker_id: Option<String>,
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    #[arg(long)]
    pub base_url: Option<String>,
    /// Prompt set directory (default: the shipped prompts/).
    #[arg(long)]
    pub prompts: Option<std::path::PathBuf>,
    /// Times a stage is asked again when its answer does not fit the schema.
    #[arg(long, default_value_t = 2)]
    pub max_attempts: u32,
    /// Kernel tree mailed series are applied to for context and tools
    /// (overrides `[review] tree`).
    #[arg(long)]
    pub tree: Option<std::path::PathBuf>,
    /// Revision of the tree used when a series names no base-commit it
    /// holds (overrides `[review] base`; default HEAD).
    #[arg(long)]
    pub base: Option<String>,
    #[command(flatten)]
    pub db: DbUrlArgs,
}

/// The prompt set with the configured budget and the tree's own guides
/// (`.sashiko/guides` of its working tree), as `sashiko review` loads it.
pub fn review_prompts(
    settings: &Settings,
    tree: Option<&TreeSettings>,
) -> anyhow::Result<PromptSet> {
    let mut prompts = PromptSet::load(&settings.prompts)
        .with_context(|| format!("loading the prompt set from {}", settings.prompts.display()))?;
    if let Some(tree) = tree {
        super::review::add_guides(&mut prompts, &tree.tree.join(".sashiko/guides"))?;
    }
    prompts.budget.apply(&settings.review.budget);
    Ok(prompts)
}

/// Runs `review` jobs through the shared review path.
struct ReviewJobHandler {
    inner: Arc<ReviewContext>,
}

struct ReviewContext {
    store: Store,
    prompts: PromptSet,
    client: Option<Arc<dyn LlmClient>>,
    options: ReviewOptions,
    /// The `[review] tree` mail is applied to, if configured.
    tree: Option<TreeSettings>,
}

impl JobHandler for ReviewJobHandler {
    async fn run(&self, job: ClaimedJob) -> Result<serde_json::Value, JobFailure> {
        // The review engine's future is not `Send` (the compiler cannot
        // prove it for its stage closures), so each job runs on a blocking
        // thread of its own, driven by this runtime (and tied to this job
        // attempt there too). If the lease is lost, the worker stops
        // waiting; the review goes on in the background, but the store has
        // marked it interrupted and refuses its outcome.
        let context = self.inner.clone();
        let runtime = tokio::runtime::Handle::current();
        let job_id = job.id.0;
        tokio::task::spawn_blocking(move || {
            let attempt = job.clone();
            runtime.block_on(sashiko_store::run_as_job_attempt(
                &attempt,
                context.review(job),
            ))
        })
        .await
        .map_err(|error| {
            JobFailure::transient(format!("job {job_id}: the review thread failed: {error}"))
        })?
    }
}

impl ReviewContext {
    async fn review(&self, job: ClaimedJob) -> Result<serde_json::Value, JobFailure> {
        if job.kind != REVIEW_JOB {
            return Err(JobFailure::permanent(format!(
                "job {}: unknown kind {:?}",
                job.id.0, job.kind
            )));
        }
        let payload: ReviewJobPayload =
            serde_json::from_value(job.payload.clone()).map_err(|error| {
                JobFailure::permanent(format!("job {}: unreadable payload: {error}", job.id.0))
            })?;
        let loaded = load_job_series(&self.store, &payload)
            .await
            .map_err(|error| JobFailure::permanent(format!("job {}: {error:#}", job.id.0)))?;
        let progress = |line: &str| tracing::info!(job = job.id.0, "{line}");
        let tree = match &payload.git {
            Some(git) => tree_review::for_git(&self.prompts, &git.repo, &loaded),
            None => {
                let base_commit = tree_review::base_commit_of(
                    loaded.messages.iter().map(|message| message.raw.as_slice()),
                );
                tree_review::for_mail(
                    &self.prompts,
                    self.tree.as_ref(),
                    &loaded,
                    base_commit.as_deref(),
                )
            }
        };
        if tree.has_tree() {
            tracing::info!(job = job.id.0, "{}", tree.summary);
        } else {
            tracing::warn!(job = job.id.0, "{}", tree.summary);
        }
        for note in &tree.notes {
            tracing::info!(job = job.id.0, "note: {note}");
        }
        let mut options = tree.review_options(&self.options);
        options.known_fingerprints = known_fingerprints(&self.store)
            .await
            .map_err(|error| JobFailure::transient(format!("job {}: {error:#}", job.id.0)))?;
        let reviewed = review_and_store(
            &self.store,
            &self.prompts,
            &loaded,
            self.client.clone(),
            &options,
            &progress,
        )
        .await
        .map_err(|error| {
            JobFailure::transient(format!("job {} ({}): {error:#}", job.id.0, payload.source))
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
                "notes": tree.notes,
            },
        }))
    }
}

/// Rebuilds the series a job names: the pinned commits for git input, the
/// stored raw messages (as an mboxrd) for mail input.
async fn load_job_series(
    store: &Store,
    payload: &ReviewJobPayload,
) -> anyhow::Result<LoadedSeries> {
    let candidates = match &payload.git {
        Some(git) => {
            let spec = git
                .spec()
                .with_context(|| format!("{}: no commits in the job", payload.source))?;
            let options = InputOptions {
                repo: &git.repo,
                lore_base: None,
            };
            load_inputs(&[spec], &options).await?
        }
        None => {
            let mut mbox = Vec::new();
            for message_id in &payload.message_ids {
                let raw = store.message_raw(message_id).await?.with_context(|| {
                    format!(
                        "message <{message_id}> of {} is not in the store",
                        payload.source
                    )
                })?;
                append_mboxrd(&mut mbox, &raw);
            }
            series_from_mbox(&mbox, &payload.source)?
        }
    };
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
        _ => anyhow::bail!(
            "{}: series {} v{} not found among the {count} series rebuilt from the job",
            payload.source,
            payload.series_key,
            payload.version
        ),
    }
}

/// Appends one message to an mboxrd: a `From ` separator, the message with
/// `From ` lines (however many `>` precede them) escaped by one more `>`,
/// and a blank line.
fn append_mboxrd(mbox: &mut Vec<u8>, raw: &[u8]) {
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

pub async fn run(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(&FlagSettings {
        db: args.db.db.clone(),
        provider: args.provider.clone(),
        model: args.model.clone(),
        base_url: args.base_url.clone(),
        prompts: args.prompts.clone(),
    })?;
    if let Some(tree) = &args.tree {
        settings.review.tree = Some(tree.clone());
    }
    if let Some(base) = &args.base {
        settings.review.base = Some(base.clone());
    }
    let tree = TreeSettings::from_settings(&settings.review);
    let prompts = review_prompts(&settings, tree.as_ref())?;
    let client = connect_model(&settings)?;
    let store = open_store(&DbUrlArgs {
        db: Some(settings.db.clone()),
    })
    .await?;
    let options = ReviewOptions {
        max_attempts: args.max_attempts.max(1),
        max_output_tokens: settings.llm.max_output_tokens.unwrap_or(4096),
        deterministic_secrets: std::env::var_os("SASHIKO_LLM_CASSETTE")
            .is_some_and(|v| !v.is_empty()),
        ..ReviewOptions::default()
    };
    match &tree {
        Some(tree) => eprintln!(
            "sashiko: mail is reviewed against the tree {} (its base-commit, else {})",
            tree.tree.display(),
            tree.base
        ),
        None => eprintln!(
            "sashiko: note: no [review] tree configured: mail is reviewed without tree context"
        ),
    }
    let mut config = WorkerConfig::new(args.worker_id.clone().unwrap_or_else(default_worker_id));
    config.concurrency = args.concurrency.max(1);
    config.exit_when_idle = args.exit_when_idle;
    config.poll_interval = Duration::from_millis(args.poll_ms.max(10));
    config.queue.lease = Duration::from_secs(args.lease_secs.max(1));
    config.heartbeat_interval = config.queue.lease / 4;
    config.queue.retry_base = Duration::from_secs(args.retry_secs);
    eprintln!(
        "sashiko: worker {} on {} ({} at a time, lease {} s)",
        config.worker_id,
        sashiko_store::redact_url(&settings.db),
        config.concurrency,
        args.lease_secs
    );
    let handler = Arc::new(ReviewJobHandler {
        inner: Arc::new(ReviewContext {
            store: store.clone(),
            prompts,
            client,
            options,
            tree,
        }),
    });
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        eprintln!("sashiko: stopping after the jobs in hand");
    };
    let report = run_worker(store.clone(), config, handler, shutdown).await?;
    eprintln!(
        "sashiko: worker done: {} completed, {} failed attempts, {} dead, {} abandoned (lease lost)",
        report.completed, report.failed, report.dead, report.lost
    );
    store.close().await;
    Ok(if report.dead > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::append_mboxrd;

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
}
