//! `sashiko bot --config FILE [--once]`: follow the configured lists,
//! review complete series through the same path as `sashiko review`, and
//! answer by mail through the outbox as the policy allows. The policy file
//! is re-read when it changes. `--once` polls once and exits; otherwise
//! the bot polls until interrupted.

use crate::term::{errln, jsonln};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use sashiko_bot::config::BotConfig;
use sashiko_bot::engine::{Bot, PollReport, ReviewDone, ReviewFuture, Reviewer, SeriesToReview};
use sashiko_pipeline::{LoadedSeries, MessageToStore, ReviewService, TreeSource};
use sashiko_review::{ReviewOptions, ReviewSettings};
use sashiko_store::Store;

use crate::review_setup::review_service;
use crate::settings::{FlagSettings, Settings};

#[derive(clap::Args, Debug)]
pub struct BotArgs {
    /// The bot configuration (sources, policy file, SMTP, patchwork).
    #[arg(long)]
    pub config: PathBuf,
    /// Poll once, send what is due, and exit.
    #[arg(long)]
    pub once: bool,
    /// Only drain the outbox (send due mail) and exit.
    #[arg(long, conflicts_with = "once")]
    pub send_only: bool,
    /// Print each poll's report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// The bot's reviews, through the application layer's review service:
/// mail applied to the configured tree, reviewed and stored as the worker
/// does.
struct BotReviewer {
    service: ReviewService,
}

impl Reviewer for BotReviewer {
    fn review<'a>(&'a self, series: &'a SeriesToReview) -> ReviewFuture<'a> {
        Box::pin(async move {
            let loaded = loaded_series(series);
            let tree = self.service.tree_context(
                &loaded,
                TreeSource::Mail {
                    base_commit: series.base_commit.as_deref(),
                },
            );
            let title = &series.series.title;
            if tree.has_tree() {
                tracing::info!(series = %series.series_key, "{title:?}: {}", tree.summary);
            } else {
                tracing::warn!(series = %series.series_key, "{title:?}: {}", tree.summary);
            }
            for note in &tree.notes {
                tracing::info!(series = %series.series_key, "note: {note}");
            }
            let quiet = |_: &str| {};
            self.service
                .review(&loaded, &tree, &quiet)
                .await
                .map(|reviewed| ReviewDone {
                    review_id: reviewed.review_id,
                    findings: reviewed.output.findings,
                })
                .map_err(|error| error.to_string())
        })
    }
}

/// The bot's series as the application layer loads series.
fn loaded_series(series: &SeriesToReview) -> LoadedSeries {
    let mut notes = Vec::new();
    if !series.missing.is_empty() {
        notes.push(format!(
            "patch(es) {:?} never arrived; reviewing the parts present",
            series.missing
        ));
    }
    LoadedSeries {
        source: format!("bot:{}", series.series_key),
        series_key: series.series_key.clone(),
        cover_message_id: series.cover_message_id.clone(),
        series: series.series.clone(),
        messages: series
            .messages
            .iter()
            .map(|m| MessageToStore {
                message_id: m.message_id.clone(),
                raw: m.raw.clone(),
                subject: m.subject.clone(),
                author: m.author.clone(),
                date: m.date.clone(),
                in_reply_to: m.in_reply_to.clone(),
            })
            .collect(),
        patch_ids: series.patch_ids.clone(),
        notes,
    }
}

fn print_report(report: &PollReport, json: bool) {
    if json {
        if let Ok(text) = serde_json::to_string(report) {
            jsonln!("{text}");
        }
    }
    errln!(
        "sashiko bot: read {} new {}; series versions {}, reviewed {} (incomplete {}), already {}, waiting {}, superseded {}, stopped {}; replies queued {} (deferred {}), already {}, dry-run {}, skipped {:?}; commands {}/{} refused; feedback {}; patchwork {}; sent {}, retried {}, dead {}; ignored own {} bots {}",
        report.messages_read,
        report.messages_new,
        report.series_versions,
        report.reviewed,
        report.reviewed_incomplete,
        report.already_reviewed,
        report.waiting_for_parts,
        report.superseded,
        report.stopped_by_command,
        report.replies_queued,
        report.replies_deferred,
        report.replies_already_queued,
        report.replies_dry_run,
        report.replies_skipped,
        report.commands_honoured,
        report.commands_refused,
        report.feedback_recorded,
        report.patchwork_checks,
        report.sent,
        report.send_retried,
        report.send_dead,
        report.ignored_own,
        report.ignored_bots,
    );
    for error in report.errors.iter().take(20) {
        errln!("sashiko bot: {error}");
    }
    if report.errors.len() > 20 {
        errln!("sashiko bot: ... and {} more", report.errors.len() - 20);
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub async fn run(args: BotArgs) -> anyhow::Result<ExitCode> {
    let config = BotConfig::load(&args.config)?;
    let settings = Settings::load(&FlagSettings {
        db: config.db.clone(),
        provider: None,
        model: None,
        base_url: None,
        prompts: None,
    })?;
    let store = Store::connect(&settings.db).await.with_context(|| {
        format!(
            "opening the database {}",
            sashiko_store::redact_url(&settings.db)
        )
    })?;
    store.migrate().await.context("migrating the database")?;
    let options = ReviewOptions {
        settings: ReviewSettings {
            max_output_tokens: settings.llm.max_output_tokens.unwrap_or(4096),
            ..ReviewSettings::default()
        },
        ..ReviewOptions::default()
    };
    let reviewer = Arc::new(BotReviewer {
        service: review_service(&settings, store.clone(), options)?,
    });
    let poll = std::time::Duration::from_secs(config.poll_seconds.max(1));
    let mut bot = Bot::new(store.clone(), config, reviewer).context("starting the bot")?;
    loop {
        let report = if args.send_only {
            let mut report = PollReport::default();
            bot.send(&mut report).await.context("sending due mail")?;
            report
        } else {
            bot.poll_once(now())
                .await
                .context("polling the followed lists")?
        };
        print_report(&report, args.json);
        if args.once || args.send_only {
            store.close().await;
            return Ok(if report.review_failures > 0 || report.send_dead > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            });
        }
        tokio::select! {
            _ = tokio::time::sleep(poll) => {}
            _ = tokio::signal::ctrl_c() => {
                store.close().await;
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}
