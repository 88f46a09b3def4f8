//! `sashiko enqueue INPUT...`: resolve inputs into series now, store their
//! messages, and queue one review job per series for `sashiko worker`.
//!
//! The job payload names what to review in a form any worker with the same
//! database can load: Message-IDs of stored messages for mail input, and
//! exact commit ids plus the repository for git input (so a moving
//! `HEAD~3..` is pinned at enqueue time). Queued jobs for older versions of
//! the same series are superseded. This module never runs a review.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sashiko_store::{Enqueued, NewJob, NewMessage};
use serde::{Deserialize, Serialize};

use crate::commands::db::{open_store, DbUrlArgs};
use crate::commands::review::OutputFormat;
use crate::inputs::{load_inputs, InputOptions, LoadedSeries};

/// The job kind `sashiko worker` runs as a review.
pub const REVIEW_JOB: &str = "review";

#[derive(clap::Args, Debug)]
pub struct EnqueueArgs {
    /// Git revision or range, an mbox file, `-` for an mbox on stdin, or a
    /// Message-ID (as for `sashiko review`).
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Repository for git inputs.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Higher runs first.
    #[arg(long, default_value_t = 0)]
    pub priority: i32,
    /// Attempts before a job goes to the dead letters.
    #[arg(long, default_value_t = 5)]
    pub max_attempts: u32,
    /// Base URL of a public-inbox server for Message-ID inputs.
    #[arg(long, env = "SASHIKO_LORE_BASE")]
    pub lore_base: Option<String>,
    #[command(flatten)]
    pub db: DbUrlArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// What a review job reviews.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReviewJobPayload {
    /// Series title, for listings.
    pub title: String,
    /// Where it came from (`git:HEAD~3..`, `mbox:FILE`, `lore:MSGID`).
    pub source: String,
    /// Series key and version, as assembled at enqueue time.
    pub series_key: String,
    pub version: u32,
    /// Stored messages of the series (cover letter first, then patches).
    pub message_ids: Vec<String>,
    /// For git input: the repository and the exact commits.
    pub git: Option<GitInput>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct GitInput {
    pub repo: PathBuf,
    /// Oldest first.
    pub commits: Vec<String>,
}

impl GitInput {
    /// A revision spec naming exactly these commits.
    pub fn spec(&self) -> Option<String> {
        match self.commits.as_slice() {
            [] => None,
            [only] => Some(only.clone()),
            [first, .., last] => Some(format!("{first}^..{last}")),
        }
    }
}

/// The review job for `payload`, deduplicated per series version.
pub fn review_job(
    payload: &ReviewJobPayload,
    priority: i32,
    max_attempts: u32,
) -> anyhow::Result<NewJob> {
    Ok(NewJob {
        kind: REVIEW_JOB.to_string(),
        payload: serde_json::to_value(payload)?,
        dedup_key: Some(review_dedup_key(&payload.series_key, payload.version)),
        series_key: Some(payload.series_key.clone()),
        series_version: Some(payload.version),
        priority,
        max_attempts,
    })
}

/// The dedup key of the review job of one series version.
pub fn review_dedup_key(series_key: &str, version: u32) -> String {
    format!("review:{series_key}:v{version}")
}

fn payload_for(loaded: &LoadedSeries, repo: &Path) -> anyhow::Result<ReviewJobPayload> {
    let git = if loaded.source.starts_with("git:") {
        let commits: Option<Vec<String>> = loaded
            .series
            .patches
            .iter()
            .map(|patch| patch.commit_id.clone())
            .collect();
        let commits = commits
            .with_context(|| format!("{}: a git patch without a commit id", loaded.source))?;
        let repo = repo
            .canonicalize()
            .with_context(|| format!("resolving the repository path {}", repo.display()))?;
        Some(GitInput { repo, commits })
    } else {
        None
    };
    Ok(ReviewJobPayload {
        title: loaded.series.title.clone(),
        source: loaded.source.clone(),
        series_key: loaded.series_key.clone(),
        version: loaded.series.version,
        message_ids: loaded
            .messages
            .iter()
            .map(|message| message.message_id.clone())
            .collect(),
        git,
    })
}

pub async fn run(args: EnqueueArgs) -> anyhow::Result<ExitCode> {
    let loaded = load_inputs(
        &args.inputs,
        &InputOptions {
            repo: &args.repo,
            lore_base: args.lore_base.as_deref(),
        },
    )
    .await?;
    let store = open_store(&args.db).await?;
    let mut results = Vec::new();
    for series in &loaded {
        for note in &series.notes {
            eprintln!("sashiko: note: {note}");
        }
        for message in &series.messages {
            store
                .upsert_message(&NewMessage {
                    message_id: &message.message_id,
                    raw: &message.raw,
                    subject: &message.subject,
                    author: &message.author,
                    date: message.date.clone(),
                    list: None,
                    in_reply_to: message.in_reply_to.as_deref(),
                })
                .await
                .with_context(|| format!("storing message {}", message.message_id))?;
        }
        let payload = payload_for(series, &args.repo)?;
        let job = review_job(&payload, args.priority, args.max_attempts)?;
        let outcome = store.enqueue(&job).await.with_context(|| {
            format!(
                "queueing a review of {:?} ({})",
                payload.title, payload.source
            )
        })?;
        if args.format == OutputFormat::Text {
            match outcome {
                Enqueued::Added { id, superseded } => {
                    let note = if superseded > 0 {
                        format!(" (superseded {superseded} older)")
                    } else {
                        String::new()
                    };
                    println!(
                        "queued job {} for {:?} v{}{note}",
                        id.0, payload.title, payload.version
                    );
                }
                Enqueued::Existing { id } => {
                    println!("already queued as job {} for {:?}", id.0, payload.title)
                }
                Enqueued::Obsolete { newer } => {
                    println!(
                        "skipped {:?} v{}: job {} reviews a newer version",
                        payload.title, payload.version, newer.0
                    )
                }
            }
        }
        results.push(serde_json::json!({ "title": payload.title, "source": payload.source, "result": outcome }));
    }
    if args.format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
