//! `sashiko worker [--concurrency N] [--exit-when-idle]`: run queued review
//! jobs from the store, as many workers on as many machines as wanted.
//!
//! Argument parsing and printing only: the loop, the job handler and the
//! review are `sashiko_pipeline::worker`'s.

use crate::term::errln;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sashiko_pipeline::worker::ReviewJobHandler;
use sashiko_review::{ReviewOptions, ReviewSettings};
use sashiko_store::{
    default_worker_id, run_worker, ClaimedJob, JobFailure, JobHandler, WorkerConfig,
};

use crate::commands::db::{open_store, DbUrlArgs};
use crate::review_setup::{cassette_mode, review_service};
use crate::settings::{FlagSettings, Settings};

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
    #[command(flatten)]
    pub model: crate::args::ModelArgs,
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

pub async fn run(args: WorkerArgs) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(&FlagSettings {
        db: args.db.db.clone(),
        provider: args.model.provider.clone(),
        model: args.model.model.clone(),
        base_url: args.model.base_url.clone(),
        prompts: args.prompts.clone(),
    })?;
    if let Some(tree) = &args.tree {
        settings.review.tree = Some(tree.clone());
    }
    if let Some(base) = &args.base {
        settings.review.base = Some(base.clone());
    }
    let store = open_store(&DbUrlArgs {
        db: Some(settings.db.clone()),
    })
    .await?;
    let options = ReviewOptions {
        settings: ReviewSettings {
            max_attempts: args.max_attempts.max(1),
            max_output_tokens: settings.llm.max_output_tokens.unwrap_or(4096),
            deterministic_secrets: cassette_mode(),
            ..ReviewSettings::default()
        },
        ..ReviewOptions::default()
    };
    let service = review_service(&settings, store.clone(), options)?;
    match &service.tree {
        Some(tree) => errln!(
            "sashiko: mail is reviewed against the tree {} (its base-commit, else {})",
            tree.tree.display(),
            tree.base
        ),
        None => errln!(
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
    errln!(
        "sashiko: worker {} on {} ({} at a time, lease {} s)",
        config.worker_id,
        sashiko_store::redact_url(&settings.db),
        config.concurrency,
        args.lease_secs
    );
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
        errln!("sashiko: stopping after the jobs in hand");
    };
    let store_for_worker = service.store.clone();
    let handler = Arc::new(JobLines {
        inner: ReviewJobHandler::new(Arc::new(service)),
    });
    let report = run_worker(store_for_worker, config, handler, shutdown)
        .await
        .context("running the review worker")?;
    errln!(
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

/// The review handler, plus one progress line per job on a terminal: what
/// it reviewed, how it ended, how long it took.
struct JobLines {
    inner: ReviewJobHandler,
}

impl JobHandler for JobLines {
    async fn run(&self, job: ClaimedJob) -> Result<serde_json::Value, JobFailure> {
        let started = std::time::Instant::now();
        let head = format!(
            "job {} ({}, attempt {}/{})",
            job.id.0,
            job.payload
                .get("source")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(job.kind.as_str()),
            job.attempt,
            job.max_attempts
        );
        let last_attempt = job.attempt >= job.max_attempts;
        crate::progress::line(&format!("{head}: started"));
        let outcome = self.inner.run(job).await;
        let elapsed = crate::progress::seconds(started.elapsed());
        match &outcome {
            Ok(result) => crate::progress::line(&format!(
                "{head}: review {} {}, {} finding(s), {elapsed}",
                result["review_id"],
                result["status"].as_str().unwrap_or("done"),
                result["findings"]
            )),
            Err(failure) => crate::progress::line(&format!(
                "{head}: {} after {elapsed}: {}",
                if failure.permanent || last_attempt {
                    "failed for good"
                } else {
                    "failed, to be retried"
                },
                failure.message
            )),
        }
        outcome
    }
}
