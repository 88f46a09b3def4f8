//! Replies in the window: mail commands (`#sashiko stop|rerun|known`) from
//! the patch author or a maintainer, and feedback on our reviews,
//! classified and stored against the finding it answers.

use std::collections::{BTreeSet, HashMap};

use sashiko_report::mailhdr::Mailbox;
use sashiko_report::reply::review_id_from_message_id;
use sashiko_store::{NewFeedback, ReviewId, Verdict};

use super::window::Window;
use super::{mark, marked, Bot, BotError, PollReport};
use crate::auth::list_server_vouches;
use crate::commands::{authorised, parse_commands, Command};
use crate::feedback::{answered_finding, classify_reply, Class};
use crate::guard::Incoming;
use crate::headers::real_author;

/// What the replies asked for.
#[derive(Debug, Default)]
pub(crate) struct InboxState {
    /// Series keys whose author or maintainer said stop.
    pub stopped: BTreeSet<String>,
    /// (series key, version) -> the rerun command's Message-ID.
    pub reruns: HashMap<(String, u32), String>,
}

impl Bot {
    pub(crate) async fn handle_replies(
        &mut self,
        window: &Window,
        report: &mut PollReport,
    ) -> Result<InboxState, BotError> {
        let policy = self.policy.current().0.clone();
        // Message-ID of each patch and cover -> its version entry.
        let mut owner: HashMap<&str, usize> = HashMap::new();
        for (index, entry) in window.versions.iter().enumerate() {
            for id in entry
                .series
                .patch_message_ids
                .iter()
                .flatten()
                .chain(entry.series.cover_message_id.iter())
            {
                owner.insert(id.as_str(), index);
            }
        }
        let mut state = InboxState::default();
        for message in &window.messages {
            match &message.kind {
                Incoming::Own => {
                    report.ignored_own += 1;
                    continue;
                }
                Incoming::Bot(_) => {
                    report.ignored_bots += 1;
                    continue;
                }
                Incoming::Reply => report.replies_seen += 1,
                _ => continue,
            }
            let parsed = &message.parsed;
            let ancestors: Vec<&str> = parsed
                .references
                .iter()
                .map(String::as_str)
                .chain(parsed.in_reply_to.as_deref())
                .collect();
            let commands = parse_commands(&parsed.body);
            if let Some(&index) = ancestors.iter().rev().find_map(|id| owner.get(id)) {
                let entry = &window.versions[index];
                let Some(sender) = message.headers.from.clone() else {
                    continue;
                };
                // Every author of the series: the real author and the
                // sender of each patch mail and the cover.
                let mut authors: Vec<Mailbox> = Vec::new();
                for &i in entry
                    .series
                    .patch_indices
                    .iter()
                    .flatten()
                    .chain(entry.series.cover_index.iter())
                {
                    let patch = &window.messages[window.patch_positions[i]];
                    authors.extend(real_author(&patch.headers, &patch.parsed.body));
                    authors.extend(patch.headers.from.clone());
                }
                let resolved = policy.resolve(&entry.list, &[]);
                let maintainers = resolved
                    .as_ref()
                    .map(|resolved| resolved.maintainers.clone())
                    .unwrap_or_default();
                let trusted = resolved
                    .map(|resolved| resolved.command_authserv_ids)
                    .unwrap_or_default();
                // Who sent the command, as far as the list server vouches.
                let verdict = match list_server_vouches(&message.raw, &sender, &trusted) {
                    Err(why) => Err(format!("sender not authenticated: {why}")),
                    Ok(()) if !authorised(&sender, &authors, &maintainers) => {
                        Err("not an author of the series or a maintainer".to_owned())
                    }
                    Ok(()) => Ok(()),
                };
                for command in commands {
                    let log_key = format!("command/{}/{}", parsed.message_id, command.as_str());
                    let first_time = !marked(&self.store, &log_key).await?;
                    if let Err(why) = &verdict {
                        if first_time {
                            report.commands_refused += 1;
                            tracing::warn!(from = %sender, command = command.as_str(), message = %parsed.message_id, %why, "mail command refused");
                            mark(&self.store, &log_key).await?;
                        }
                        continue;
                    }
                    if first_time {
                        report.commands_honoured += 1;
                        tracing::info!(from = %sender, command = command.as_str(), series = %entry.series_key, message = %parsed.message_id, "mail command honoured");
                        mark(&self.store, &log_key).await?;
                    }
                    match command {
                        Command::Stop => {
                            state.stopped.insert(entry.series_key.clone());
                        }
                        Command::Rerun => {
                            state.reruns.insert(
                                (entry.series_key.clone(), entry.series.version),
                                parsed.message_id.clone(),
                            );
                        }
                        Command::Known => {
                            self.record_feedback(
                                message,
                                &ancestors,
                                Class::Agree,
                                &sender,
                                report,
                            )
                            .await?;
                        }
                    }
                }
            }
            if ancestors
                .iter()
                .any(|id| review_id_from_message_id(id).is_some())
            {
                let class = classify_reply(&parsed.body);
                if let Some(sender) = message.headers.from.clone() {
                    self.record_feedback(message, &ancestors, class, &sender, report)
                        .await?;
                }
            }
        }
        Ok(state)
    }

    async fn record_feedback(
        &mut self,
        message: &super::WindowMessage,
        ancestors: &[&str],
        class: Class,
        sender: &Mailbox,
        report: &mut PollReport,
    ) -> Result<(), BotError> {
        let verdict = match class {
            Class::Agree => Verdict::Agree,
            Class::Disagree => Verdict::Disagree,
            Class::Fixed => Verdict::Fixed,
            Class::Question | Class::Unclear => {
                tracing::info!(message = %message.parsed.message_id, class = class.as_str(), "reply to a review not counted for precision");
                return Ok(());
            }
        };
        let Some(review) = ancestors
            .iter()
            .rev()
            .find_map(|id| review_id_from_message_id(id))
        else {
            return Ok(());
        };
        let findings = self.store.review_findings(ReviewId(review)).await?;
        let problems: Vec<&str> = findings.iter().map(|f| f.problem.as_str()).collect();
        let finding = answered_finding(&message.parsed.body, &problems)
            .map(|index| findings[index].id)
            .or_else(|| {
                (findings.iter().filter(|f| !f.preexisting).count() == 1)
                    .then(|| findings.iter().find(|f| !f.preexisting).map(|f| f.id))
                    .flatten()
            });
        let body: String = crate::feedback::own_words(&message.parsed.body)
            .chars()
            .take(2000)
            .collect();
        let recorded = self
            .store
            .record_feedback(&NewFeedback {
                message_id: &message.parsed.message_id,
                review_id: Some(ReviewId(review)),
                finding_id: finding,
                bug_id: None,
                author: &sender.to_string(),
                verdict,
                body: &body,
            })
            .await?;
        if recorded {
            report.feedback_recorded += 1;
        }
        Ok(())
    }
}
