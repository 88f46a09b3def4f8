//! `sashiko enqueue INPUT...`: resolve inputs into series now, store their
//! messages, and queue one review job per series for `sashiko worker`.
//!
//! Argument parsing and printing only: the job (`sashiko_pipeline::jobs`),
//! its priority (`sashiko_pipeline::priority`, from the `[queue]`
//! configuration; `--priority` overrides it) and queueing
//! (`sashiko_pipeline::enqueue`) are the application layer's. This module
//! never runs a review.

use crate::term::{errln, jsonln, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use sashiko_pipeline::enqueue::{enqueue_review, EnqueueOptions};
use sashiko_pipeline::priority::CriticalRules;
use sashiko_pipeline::stored_keys::adopt_stored_series_keys;
use sashiko_pipeline::tree::tree_maintainers;
use sashiko_pipeline::{load_inputs, InputOptions};
use sashiko_store::Enqueued;

use crate::commands::db::{open_store, DbUrlArgs};
use crate::commands::review::OutputFormat;
use crate::settings::{FlagSettings, Settings};

#[derive(clap::Args, Debug)]
pub struct EnqueueArgs {
    /// Git revision or range, an mbox file, `-` for an mbox on stdin, or a
    /// Message-ID (as for `sashiko review`).
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Repository for git inputs.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Higher runs first (default: the `[queue]` configuration's
    /// critical_priority for series touching its critical_subsystems or
    /// critical_paths, else 0).
    #[arg(long, allow_negative_numbers = true)]
    pub priority: Option<i32>,
    /// Attempts before a job goes to the dead letters.
    #[arg(long, default_value_t = 5)]
    pub max_attempts: u32,
    /// Base URL of a public-inbox server for Message-ID inputs.
    #[arg(long, env = "SASHIKO_LORE_BASE")]
    pub lore_base: Option<String>,
    #[command(flatten)]
    pub db: DbUrlArgs,
    /// Output: text for people, or json (one document on standard output).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub async fn run(args: EnqueueArgs) -> anyhow::Result<ExitCode> {
    let mut loaded = load_inputs(
        &args.inputs,
        &InputOptions {
            repo: &args.repo,
            lore_base: args.lore_base.as_deref(),
        },
    )
    .await?;
    let settings = Settings::load(&FlagSettings {
        db: args.db.db.clone(),
        ..FlagSettings::default()
    })?;
    let rules = CriticalRules::new(&settings.queue);
    let maintainers = if rules.names_subsystems() && args.priority.is_none() {
        let found = tree_maintainers(&args.repo);
        match &found {
            None => errln!(
                "sashiko: note: no MAINTAINERS in {}: critical_subsystems cannot be matched, only critical_paths",
                args.repo.display()
            ),
            Some(maintainers) => {
                for diagnostic in &maintainers.diagnostics {
                    errln!("sashiko: note: {diagnostic}");
                }
                for name in rules.unknown_subsystems(maintainers) {
                    errln!(
                        "sashiko: note: critical subsystem {name:?} is no entry of the MAINTAINERS in {}",
                        args.repo.display()
                    );
                }
            }
        }
        found
    } else {
        None
    };
    let store = open_store(&args.db).await?;
    // Mail the store holds already is queued under its stored key, so the
    // job (and its dedup key) matches what ingest and serve queue.
    adopt_stored_series_keys(&store, &mut loaded).await?;
    let mut results = Vec::new();
    for series in &loaded {
        for note in &series.notes {
            errln!("sashiko: note: {note}");
        }
        let priority = rules.priority(&series.series, maintainers.as_deref(), args.priority);
        let queued = enqueue_review(
            &store,
            series,
            &args.repo,
            EnqueueOptions {
                priority: priority.value,
                max_attempts: args.max_attempts,
            },
        )
        .await?;
        let (payload, outcome) = (queued.job, queued.outcome);
        if args.format == OutputFormat::Text {
            match outcome {
                Enqueued::Added { id, superseded } => {
                    let mut notes = Vec::new();
                    if let Some(reason) = &priority.reason {
                        notes.push(format!("priority {}: {reason}", priority.value));
                    }
                    if superseded > 0 {
                        notes.push(format!("superseded {superseded} older"));
                    }
                    let note = if notes.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", notes.join("; "))
                    };
                    outln!(
                        "queued job {} for {:?} v{}{note}",
                        id.0,
                        payload.title,
                        payload.version
                    );
                }
                Enqueued::Existing { id } => {
                    outln!("already queued as job {} for {:?}", id.0, payload.title)
                }
                Enqueued::Obsolete { newer } => {
                    outln!(
                        "skipped {:?} v{}: job {} reviews a newer version",
                        payload.title,
                        payload.version,
                        newer.0
                    )
                }
            }
        }
        results.push(serde_json::json!({
            "title": payload.title,
            "source": payload.source,
            "priority": priority.value,
            "priority_reason": priority.reason,
            "result": outcome,
        }));
    }
    if args.format == OutputFormat::Json {
        jsonln!("{}", serde_json::to_string_pretty(&results)?);
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
