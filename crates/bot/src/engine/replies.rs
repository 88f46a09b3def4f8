//! Reviewing series versions (once each, complete or after the wait, the
//! newest version only) and queueing one reply per patch version as the
//! policy decides, plus patchwork checks.

use std::collections::HashMap;

use sashiko_ingest::series_key::resolve_series_key;
use sashiko_pipeline::series::{mail_author, patch_from_mail, review_series};
use sashiko_report::inline::Comment;
use sashiko_report::mailhdr::Mailbox;
use sashiko_report::patchwork::{Check, CheckState};
use sashiko_report::reply::{render_worded, PatchMail, ReplyMeta, ReplyTree};
use sashiko_review::{Finding, ReviewPatch, Severity};
use sashiko_store::{MailQueued, NewMail, ReviewId};
use sha2::{Digest, Sha256};

use super::inbox::InboxState;
use super::window::{VersionEntry, Window};
use super::{mark, marked, Bot, BotError, PollReport, SeriesMessage, SeriesToReview};
use crate::headers::real_author;
use crate::policy::Policy;
use crate::recipients::{decide, Decision, ReplyRequest};

impl Bot {
    pub(crate) async fn review_and_reply(
        &mut self,
        window: &Window,
        state: &InboxState,
        now: i64,
        report: &mut PollReport,
    ) -> Result<(), BotError> {
        let policy = self.policy.current().0.clone();
        let mut newest: HashMap<&str, u32> = HashMap::new();
        for entry in &window.versions {
            let slot = newest.entry(entry.series_key.as_str()).or_insert(0);
            *slot = (*slot).max(entry.series.version);
        }
        let mut order: Vec<&VersionEntry> = window.versions.iter().collect();
        order.sort_by(|a, b| {
            (a.newest_stored_ms, &a.series_key, a.series.version).cmp(&(
                b.newest_stored_ms,
                &b.series_key,
                b.series.version,
            ))
        });
        let wait_ms = i64::try_from(self.config.incomplete_wait_minutes).unwrap_or(0) * 60_000;
        let mut reviews_now = 0u32;
        for entry in order {
            report.series_versions += 1;
            let followed = policy.resolve(&entry.list, &[]).is_some_and(|r| r.enabled);
            if !followed {
                continue;
            }
            if state.stopped.contains(&entry.series_key) {
                report.stopped_by_command += 1;
                continue;
            }
            let rerun = match state
                .reruns
                .get(&(entry.series_key.clone(), entry.series.version))
            {
                Some(id) if !marked(&self.store, &format!("rerun/{id}")).await? => Some(id.clone()),
                _ => None,
            };
            // The key the version is stored under, whoever stored it first
            // (ingest, an earlier bot, `sashiko review`).
            let first_patch = entry.series.patches().next().map(|(_, id, _)| id);
            let series_key = resolve_series_key(
                &self.store,
                &entry.series_key,
                entry.series.version,
                first_patch,
            )
            .await?;
            let existing = self
                .store
                .reviewed_version(&series_key, entry.series.version)
                .await?;
            // A rerun of a reviewed version costs a review and a mail to
            // every recipient: at most `max_reruns_per_series` per series.
            let rerun = match rerun {
                Some(id) if existing.is_some() => {
                    self.within_rerun_cap(&policy, entry, &id, report).await?
                }
                other => other,
            };
            let counts_as_rerun = rerun.is_some() && existing.is_some();
            let review_id = match existing {
                Some(id) if rerun.is_none() => {
                    report.already_reviewed += 1;
                    id.0
                }
                _ => {
                    if newest
                        .get(entry.series_key.as_str())
                        .is_some_and(|&v| v > entry.series.version)
                    {
                        report.superseded += 1;
                        continue;
                    }
                    let complete = entry.series.is_complete();
                    if !complete && wait_ms > 0 && now * 1000 - entry.newest_stored_ms < wait_ms {
                        report.waiting_for_parts += 1;
                        continue;
                    }
                    if self.config.max_reviews_per_poll > 0
                        && reviews_now >= self.config.max_reviews_per_poll
                    {
                        continue;
                    }
                    reviews_now += 1;
                    let input = series_to_review(entry, window, series_key);
                    match self.reviewer.review(&input).await {
                        Ok(done) => {
                            report.reviewed += 1;
                            if !complete {
                                report.reviewed_incomplete += 1;
                            }
                            if let Some(id) = &rerun {
                                mark(&self.store, &format!("rerun/{id}")).await?;
                                if counts_as_rerun {
                                    self.count_rerun(&entry.series_key).await?;
                                }
                            }
                            done.review_id
                        }
                        Err(error) => {
                            report.review_failures += 1;
                            report.errors.push(format!(
                                "reviewing {:?} v{}: {error}",
                                entry.series.title, entry.series.version
                            ));
                            continue;
                        }
                    }
                }
            };
            let queued_before = report.replies_queued;
            self.reply_to_version(
                &policy,
                entry,
                window,
                review_id,
                rerun.as_deref(),
                now,
                report,
            )
            .await?;
            if report.replies_queued > queued_before {
                // Replies go out as their reviews finish, not at the end of
                // a long poll.
                self.send(report).await?;
            }
        }
        Ok(())
    }

    /// `Some(command)` when the series may be reviewed again; otherwise
    /// the command is marked handled, counted and logged as refused.
    async fn within_rerun_cap(
        &mut self,
        policy: &Policy,
        entry: &VersionEntry,
        command: &str,
        report: &mut PollReport,
    ) -> Result<Option<String>, BotError> {
        let cap = policy
            .resolve(&entry.list, &[])
            .map_or(crate::policy::DEFAULT_MAX_RERUNS_PER_SERIES, |r| {
                r.max_reruns_per_series
            });
        let used = self.reruns_used(&entry.series_key).await?;
        if used < cap {
            return Ok(Some(command.to_owned()));
        }
        mark(&self.store, &format!("rerun/{command}")).await?;
        report.reruns_refused += 1;
        tracing::warn!(series = %entry.series_key, message = %command, used, cap, "rerun refused: the series had its reruns (max_reruns_per_series)");
        report.errors.push(format!(
            "rerun <{command}> of {:?} refused: {used} of {cap} reruns used",
            entry.series.title
        ));
        Ok(None)
    }

    async fn reruns_used(&self, series_key: &str) -> Result<u32, BotError> {
        let stored = self
            .store
            .get_cursor(&format!("sashiko-bot/reruns/{series_key}"))
            .await?;
        Ok(stored.and_then(|n| n.parse().ok()).unwrap_or(0))
    }

    async fn count_rerun(&self, series_key: &str) -> Result<(), BotError> {
        let used = self.reruns_used(series_key).await?;
        self.store
            .set_cursor(
                &format!("sashiko-bot/reruns/{series_key}"),
                &(used + 1).to_string(),
            )
            .await?;
        Ok(())
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one call site; the values are the loop's state"
    )]
    async fn reply_to_version(
        &mut self,
        policy: &Policy,
        entry: &VersionEntry,
        window: &Window,
        review_id: i64,
        rerun: Option<&str>,
        now: i64,
        report: &mut PollReport,
    ) -> Result<(), BotError> {
        let Some(provenance) = self.store.review_provenance(ReviewId(review_id)).await? else {
            return Ok(());
        };
        if provenance.status == "compromised" {
            report.errors.push(format!(
                "review {review_id} is marked compromised; nothing is sent for it"
            ));
            return Ok(());
        }
        // How the series met the tree: the reply says when the review had
        // no tree context (issue 14, never a silent difference).
        let tree = self
            .store
            .review_tree(ReviewId(review_id))
            .await?
            .map(|tree| ReplyTree {
                status: tree.status,
                base: tree.base,
            });
        // Each finding with the report stage's checked wording, if any (the
        // model words, code decides: which findings and where is fixed).
        let findings: Vec<(Finding, Option<String>)> = self
            .store
            .review_findings(ReviewId(review_id))
            .await?
            .into_iter()
            .filter(|f| !f.preexisting)
            .map(|f| {
                (
                    Finding {
                        patch_index: f.patch_index,
                        file: f.file,
                        line_start: f.line_start,
                        line_end: f.line_end,
                        stage: f.stage,
                        severity: f.severity.parse().unwrap_or(Severity::Medium),
                        problem: f.problem,
                        severity_explanation: String::new(),
                        preexisting: false,
                        locations: Vec::new(),
                        evidence: Vec::new(),
                        suggestion: None,
                        consensus: 1,
                    },
                    f.wording,
                )
            })
            .collect();
        let mut subsystems: Vec<String> = Vec::new();
        for (_, _, index) in entry.series.patches() {
            let message = &window.messages[window.patch_positions[index]];
            for file in diff_files(&message.parsed.diff) {
                subsystems.push(sashiko_store::subsystem_from_path(&file));
            }
        }
        subsystems.sort();
        subsystems.dedup();
        let Some(bot) = Mailbox::parse(&policy.bot.address) else {
            report.errors.push(format!(
                "the bot address {:?} is not an address; nothing is sent",
                policy.bot.address
            ));
            return Ok(());
        };
        let day_start_ms = now.div_euclid(86_400) * 86_400_000;
        for (number, message_id, index) in entry.series.patches() {
            let message = &window.messages[window.patch_positions[index]];
            let patch_comments: Vec<Comment<'_>> = findings
                .iter()
                .filter(|(f, _)| f.patch_index == number)
                .map(|(finding, wording)| Comment {
                    finding,
                    wording: wording.as_deref(),
                })
                .collect();
            let worst = patch_comments.iter().map(|c| c.finding.severity).max();
            self.post_check(policy, entry, message_id, worst, review_id, report)
                .await;
            if rerun.is_none()
                && (self.store.outbox_has_reply_to(message_id).await?
                    || marked(&self.store, &format!("dry/{message_id}")).await?)
            {
                report.replies_already_queued += 1;
                continue;
            }
            let Some(sender) = message.headers.from.clone() else {
                continue;
            };
            let author = real_author(&message.headers, &message.parsed.body)
                .unwrap_or_else(|| sender.clone());
            let list_address = policy
                .resolve(&entry.list, &subsystems)
                .map(|r| r.list_address)
                .unwrap_or_default();
            let sent_today = self
                .store
                .outbox_count_to_since(&list_address, day_start_ms)
                .await?;
            let request = ReplyRequest {
                list: Some(&entry.list),
                subsystems: &subsystems,
                sender: &sender,
                author: &author,
                to: &message.headers.to,
                cc: &message.headers.cc,
                worst,
                posted_at: message.parsed.date.unwrap_or(now),
                now,
                sent_today: u32::try_from(sent_today).unwrap_or(u32::MAX),
            };
            let plan = match decide(policy, &request) {
                Decision::Skip(reason) => {
                    *report
                        .replies_skipped
                        .entry(format!("{reason:?}"))
                        .or_default() += 1;
                    continue;
                }
                Decision::Send(plan) => plan,
            };
            let mut notes = Vec::new();
            if !plan.dropped.is_empty() {
                let kept = plan.to.len() + plan.cc.len();
                let total = kept + plan.dropped.len();
                report.recipients_dropped += plan.dropped.len() as u64;
                tracing::warn!(patch = %message_id, kept, dropped = plan.dropped.len(), cap = plan.max_recipients, "reply capped: addresses of the patch left off");
                notes.push(format!(
                    "This reply went to {kept} of the {total} addresses on the patch: the\n\
                     bot writes to at most {} at once, so {} were left off.",
                    plan.max_recipients,
                    plan.dropped.len()
                ));
            }
            // The patch as reviewed, with the author the reply addresses.
            let patch = ReviewPatch {
                author: author.to_string(),
                ..patch_from_mail(number, &message.parsed)
            };
            let mail = PatchMail {
                message_id: message_id.to_owned(),
                subject: message.parsed.subject.clone(),
                references: message.parsed.references.clone(),
                author: author.clone(),
                date: message.parsed.date,
            };
            let meta = ReplyMeta {
                review_id,
                model: provenance.model.clone().unwrap_or_else(|| "none".into()),
                prompt_set: provenance.prompt_set_hash.clone(),
                web_url: policy
                    .bot
                    .web_base
                    .as_ref()
                    .map(|base| format!("{base}{review_id}")),
                from: bot.clone(),
                now,
                missing: entry.series.missing_numbers.clone(),
                notes,
                tree: tree.clone(),
            };
            let rendered =
                match render_worded(&patch, &patch_comments, &mail, &plan.to, &plan.cc, &meta) {
                    Ok(rendered) => rendered,
                    Err(error) => {
                        report.errors.push(error.to_string());
                        continue;
                    }
                };
            if plan.dry_run {
                if let Some(dir) = &self.config.dry_run_dir {
                    let path = dir.join(format!("{}.eml", rendered.message_id));
                    if let Err(error) = std::fs::create_dir_all(dir)
                        .and_then(|()| std::fs::write(&path, &rendered.bytes))
                    {
                        report
                            .errors
                            .push(format!("writing dry-run mail {}: {error}", path.display()));
                        continue;
                    }
                }
                tracing::info!(patch = %message_id, to = ?rendered.envelope, "dry run: reply rendered, not queued");
                mark(&self.store, &format!("dry/{message_id}")).await?;
                report.replies_dry_run += 1;
                continue;
            }
            let recipients_hash =
                hex::encode(&Sha256::digest(rendered.envelope.join(",").as_bytes())[..8]);
            let key = match rerun {
                Some(command) => format!(
                    "reply/{message_id}/review-{review_id}/{recipients_hash}/rerun-{command}"
                ),
                None => format!("reply/{message_id}/review-{review_id}/{recipients_hash}"),
            };
            let queued = self
                .store
                .outbox_enqueue(&NewMail {
                    idempotency_key: key.clone(),
                    review_id: Some(ReviewId(review_id)),
                    recipients: rendered.envelope.clone(),
                    subject: rendered.subject.clone(),
                    in_reply_to: Some(message_id.to_owned()),
                    body: rendered.bytes,
                    max_attempts: self.config.mail_attempts,
                })
                .await?;
            match queued {
                MailQueued::Added(_) => {
                    report.replies_queued += 1;
                    if let Some(at) = plan.not_before {
                        self.store.outbox_defer(&key, at * 1000).await?;
                        report.replies_deferred += 1;
                        tracing::info!(patch = %message_id, until = at, why = ?plan.delayed_by, "reply queued, delayed");
                    }
                }
                MailQueued::Existing(_) => report.replies_already_queued += 1,
            }
        }
        Ok(())
    }

    async fn post_check(
        &mut self,
        policy: &Policy,
        entry: &VersionEntry,
        message_id: &str,
        worst: Option<Severity>,
        review_id: i64,
        report: &mut PollReport,
    ) {
        let Some(client) = &self.patchwork else {
            return;
        };
        let key = format!("patchwork/{message_id}/review-{review_id}");
        if marked(&self.store, &key).await.unwrap_or(true) {
            return;
        }
        let state = match worst {
            None => CheckState::Success,
            Some(severity) if severity >= Severity::High => CheckState::Fail,
            Some(_) => CheckState::Warning,
        };
        let check = Check {
            state,
            target_url: policy
                .bot
                .web_base
                .as_ref()
                .map(|base| format!("{base}{review_id}")),
            description: match worst {
                None => "no problems found".into(),
                Some(severity) => format!("worst finding: {severity}"),
            },
        };
        match client.post_check(message_id, &check).await {
            Ok(_) => {
                report.patchwork_checks += 1;
                if let Err(error) = mark(&self.store, &key).await {
                    report.errors.push(error.to_string());
                }
            }
            Err(error) => report.errors.push(format!(
                "{} v{}: {error}",
                entry.series.title, entry.series.version
            )),
        }
    }
}

fn diff_files(diff: &str) -> Vec<String> {
    diff.lines()
        .filter_map(|line| line.strip_prefix("+++ "))
        .map(|path| path.strip_prefix("b/").unwrap_or(path).to_owned())
        .filter(|path| path != "/dev/null")
        .collect()
}

fn series_to_review(entry: &VersionEntry, window: &Window, series_key: String) -> SeriesToReview {
    let series = &entry.series;
    let mut messages = Vec::new();
    let mut patches = Vec::new();
    let mut patch_ids = Vec::new();
    for (number, _, index) in series.patches() {
        let message = &window.messages[window.patch_positions[index]];
        messages.push(series_message(message));
        patch_ids.push(message.parsed.patch_id.clone());
        patches.push(patch_from_mail(number, &message.parsed));
    }
    let cover = series
        .cover_index
        .map(|index| &window.messages[window.patch_positions[index]]);
    messages.extend(cover.map(series_message));
    SeriesToReview {
        series_key,
        cover_message_id: series.cover_message_id.clone(),
        base_commit: series.base_commit.clone(),
        series: review_series(
            series.title.clone(),
            series.version,
            cover.map(|m| m.parsed.body.clone()),
            patches,
        ),
        messages,
        patch_ids,
        missing: series.missing_numbers.clone(),
    }
}

fn series_message(message: &super::WindowMessage) -> SeriesMessage {
    SeriesMessage {
        message_id: message.parsed.message_id.clone(),
        raw: message.raw.clone(),
        subject: message.parsed.subject.clone(),
        author: mail_author(&message.parsed),
        date: message
            .parsed
            .date
            .map(sashiko_ingest::pipeline::rfc3339_utc),
        in_reply_to: message.parsed.in_reply_to.clone(),
    }
}
