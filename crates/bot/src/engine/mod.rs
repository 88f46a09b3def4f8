//! The poll loop: read new mail from the followed sources (cursors in the
//! store), assemble series from the stored window, act on replies (mail
//! commands, feedback), review each series version once when it is
//! complete or has waited long enough, queue one reply per patch version
//! as the policy says, post patchwork checks, and drain the outbox.
//!
//! Every step is idempotent against the store (a review per series
//! version, an outbox row per reply, marks for handled commands), so a
//! restart at any point repeats nothing that was done. Reviews go through
//! the caller's [`Reviewer`], the same path as `sashiko review`.

mod inbox;
mod replies;
mod window;

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use sashiko_report::patchwork::PatchworkClient;
use sashiko_report::smtp::{drain_outbox, DrainOptions, SmtpSender};
use sashiko_review::{Finding, ReviewSeries};
use sashiko_store::{QueueConfig, Store};
use serde::Serialize;

use crate::config::BotConfig;
use crate::policy::PolicyFile;

pub use window::WindowMessage;

/// A message of a series, as the store keeps it.
#[derive(Clone, Debug)]
pub struct SeriesMessage {
    pub message_id: String,
    pub raw: Vec<u8>,
    pub subject: String,
    pub author: String,
    pub date: Option<String>,
    pub in_reply_to: Option<String>,
}

/// One series version to review.
#[derive(Clone, Debug)]
pub struct SeriesToReview {
    /// Shared by all versions of the series.
    pub series_key: String,
    pub cover_message_id: Option<String>,
    /// The `base-commit:` the series names, if any.
    pub base_commit: Option<String>,
    pub series: ReviewSeries,
    pub messages: Vec<SeriesMessage>,
    /// Stable patch-ids by patch position.
    pub patch_ids: Vec<Option<String>>,
    /// Patch numbers that never arrived.
    pub missing: Vec<u32>,
}

/// A finished review.
#[derive(Clone, Debug)]
pub struct ReviewDone {
    pub review_id: i64,
    pub findings: Vec<Finding>,
}

/// The future of one review.
pub type ReviewFuture<'a> = Pin<Box<dyn Future<Output = Result<ReviewDone, String>> + 'a>>;

/// Runs and stores a review; the CLI implements it over the shared review
/// path of `sashiko review`.
pub trait Reviewer {
    fn review<'a>(&'a self, series: &'a SeriesToReview) -> ReviewFuture<'a>;
}

/// What one poll did.
#[derive(Clone, Debug, Default, Serialize)]
pub struct PollReport {
    pub messages_read: u64,
    pub messages_new: u64,
    /// Refused by the database for what they contain; recorded as rejected.
    pub messages_rejected: u64,
    pub ignored_own: u64,
    pub ignored_bots: u64,
    pub replies_seen: u64,
    pub series_versions: u64,
    pub reviewed: u64,
    pub already_reviewed: u64,
    pub waiting_for_parts: u64,
    pub reviewed_incomplete: u64,
    pub superseded: u64,
    pub stopped_by_command: u64,
    pub review_failures: u64,
    pub replies_queued: u64,
    pub replies_already_queued: u64,
    pub replies_dry_run: u64,
    pub replies_deferred: u64,
    pub replies_skipped: BTreeMap<String, u64>,
    /// Commands seen for the first time (each is logged once).
    pub commands_honoured: u64,
    pub commands_refused: u64,
    /// Reruns refused because the series had used its reruns.
    pub reruns_refused: u64,
    /// Addresses left off replies by the recipient cap.
    pub recipients_dropped: u64,
    pub feedback_recorded: u64,
    pub patchwork_checks: u64,
    pub sent: u64,
    pub send_retried: u64,
    pub send_dead: u64,
    pub errors: Vec<String>,
}

/// The bot.
pub struct Bot {
    pub(crate) store: Store,
    pub(crate) config: BotConfig,
    pub(crate) policy: PolicyFile,
    pub(crate) reviewer: Arc<dyn Reviewer>,
    pub(crate) sender: Option<SmtpSender>,
    pub(crate) patchwork: Option<PatchworkClient>,
}

/// Errors that stop a poll (the database is unusable).
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    #[error(transparent)]
    Store(#[from] sashiko_store::StoreError),
    #[error(transparent)]
    Send(#[from] sashiko_report::smtp::SendError),
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    #[error(transparent)]
    Patchwork(#[from] sashiko_report::patchwork::PatchworkError),
}

impl Bot {
    /// A bot over `store` with `config` (policy loaded now).
    pub fn new(
        store: Store,
        config: BotConfig,
        reviewer: Arc<dyn Reviewer>,
    ) -> Result<Bot, BotError> {
        let policy = PolicyFile::load(&config.policy)?;
        let sender = config.smtp.as_ref().map(SmtpSender::new).transpose()?;
        let patchwork = config
            .patchwork
            .clone()
            .map(PatchworkClient::new)
            .transpose()?;
        Ok(Bot {
            store,
            config,
            policy,
            reviewer,
            sender,
            patchwork,
        })
    }

    /// One poll at time `now` (epoch seconds).
    pub async fn poll_once(&mut self, now: i64) -> Result<PollReport, BotError> {
        let mut report = PollReport::default();
        if let (_, Some(problem)) = self.policy.current() {
            report
                .errors
                .push(format!("{problem}; keeping the last good policy"));
        }
        self.read_sources(&mut report).await?;
        let window = self.load_window(now).await?;
        let state = self.handle_replies(&window, &mut report).await?;
        self.review_and_reply(&window, &state, now, &mut report)
            .await?;
        self.send(&mut report).await?;
        Ok(report)
    }

    /// Recovers mail left `sending` by a stopped run, then sends what is due.
    pub async fn send(&mut self, report: &mut PollReport) -> Result<(), BotError> {
        let Some(sender) = &self.sender else {
            return Ok(());
        };
        let stale = std::time::Duration::from_secs(self.config.stale_sending_minutes * 60);
        let recovered = self.store.outbox_recover_stale(stale).await?;
        if recovered > 0 {
            report.errors.push(format!(
                "{recovered} mail(s) left sending by a stopped run were queued again"
            ));
        }
        let options = DrainOptions {
            retry: QueueConfig {
                retry_base: std::time::Duration::from_secs(self.config.mail_retry_seconds),
                ..DrainOptions::default().retry
            },
            ..DrainOptions::default()
        };
        let drained = drain_outbox(&self.store, sender, &options).await?;
        report.sent += drained.sent;
        report.send_retried += drained.retried;
        report.send_dead += drained.dead;
        report.errors.extend(drained.errors);
        Ok(())
    }

    /// The store this bot writes to.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// Marks kept in the store's key-value cursor table, so handled commands
/// and dry runs are not repeated after a restart.
pub(crate) async fn marked(store: &Store, key: &str) -> Result<bool, BotError> {
    Ok(store
        .get_cursor(&format!("sashiko-bot/{key}"))
        .await?
        .is_some())
}

pub(crate) async fn mark(store: &Store, key: &str) -> Result<(), BotError> {
    Ok(store
        .set_cursor(&format!("sashiko-bot/{key}"), "done")
        .await?)
}
