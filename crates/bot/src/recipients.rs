//! Whether a reply to one patch is sent, to whom, and not before when.
//!
//! Inputs are addresses and times only. Rules, in order: the list must be
//! known and opted in (and not muted by a subsystem); ignored senders and
//! bots are never answered; findings must reach the minimum severity (or
//! "no problems" replies must be wanted). Recipients then follow the
//! reply mode, never include the bot itself or a known bot, and never a
//! mailing list that is not opted in, and are capped at the policy's
//! `max_recipients` (the author, the list and extra Cc first; the rest of
//! the patch's Cc left off and named in [`Plan::dropped`], so the caller
//! notes it in the mail and the log): a patch cannot make the bot mail
//! hundreds of addresses. Embargo, quiet hours and the daily cap only
//! delay a reply, never drop it.

use sashiko_report::mailhdr::Mailbox;
use sashiko_review::Severity;

use crate::policy::{Policy, ReplyMode, Resolved};

/// What is known about the patch and its review.
#[derive(Clone, Debug)]
pub struct ReplyRequest<'a> {
    /// The list the patch came from (List-Id or address).
    pub list: Option<&'a str>,
    /// Subsystems the series touches.
    pub subsystems: &'a [String],
    /// The From of the patch mail.
    pub sender: &'a Mailbox,
    /// The real author (behind b4-relay or an in-body From:).
    pub author: &'a Mailbox,
    /// To of the patch mail.
    pub to: &'a [Mailbox],
    /// Cc of the patch mail.
    pub cc: &'a [Mailbox],
    /// Worst severity among this patch's findings that would be in the
    /// reply; `None` when there are none.
    pub worst: Option<Severity>,
    /// When the patch was posted (epoch seconds).
    pub posted_at: i64,
    /// Now (epoch seconds).
    pub now: i64,
    /// Replies to this list queued in the current UTC day.
    pub sent_today: u32,
}

/// Why no reply is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Skip {
    UnknownList,
    NotOptedIn,
    SubsystemMuted,
    IgnoredSender,
    BotSender,
    BelowSeverity,
    NoIssuesNotWanted,
    NoRecipients,
}

/// The outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    Send(Plan),
    Skip(Skip),
}

/// A reply to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// Render and log only.
    pub dry_run: bool,
    /// Queue now but do not send before this time (epoch seconds).
    pub not_before: Option<i64>,
    /// Why it is delayed.
    pub delayed_by: Vec<&'static str>,
    /// The list's posting address (for the daily cap).
    pub list_address: String,
    /// Addresses of the patch left off by the recipient cap.
    pub dropped: Vec<Mailbox>,
    /// The cap that applied (`max_recipients`).
    pub max_recipients: u32,
}

fn matches_any(address: &Mailbox, patterns: &[String]) -> bool {
    let key = address.to_string().to_lowercase();
    patterns
        .iter()
        .any(|pattern| !pattern.is_empty() && key.contains(&pattern.to_ascii_lowercase()))
}

/// Whether `address` is a mailing list by the policy's list domains.
pub fn is_list_address(policy: &Policy, address: &Mailbox) -> bool {
    let key = address.key();
    let domain = key.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    policy.bot.list_domains.iter().any(|list_domain| {
        let list_domain = list_domain.to_ascii_lowercase();
        domain == list_domain || domain.ends_with(&format!(".{list_domain}"))
    }) || policy.lists.iter().any(|(name, entry)| {
        entry
            .address
            .as_deref()
            .unwrap_or(name)
            .eq_ignore_ascii_case(&key)
    })
}

/// Decides the reply for `request` under `policy`.
pub fn decide(policy: &Policy, request: &ReplyRequest<'_>) -> Decision {
    let Some(list) = request.list else {
        return Decision::Skip(Skip::UnknownList);
    };
    let Some(resolved) = policy.resolve(list, request.subsystems) else {
        return Decision::Skip(Skip::UnknownList);
    };
    if !resolved.enabled {
        let opted_in = policy
            .find_list(list)
            .is_some_and(|(_, e)| e.enabled == Some(true));
        return Decision::Skip(if opted_in {
            Skip::SubsystemMuted
        } else {
            Skip::NotOptedIn
        });
    }
    if matches_any(request.sender, &resolved.ignored_senders)
        || matches_any(request.author, &resolved.ignored_senders)
    {
        return Decision::Skip(Skip::IgnoredSender);
    }
    if matches_any(request.author, &policy.bot.known_bots)
        || matches_any(request.sender, &policy.bot.known_bots)
    {
        return Decision::Skip(Skip::BotSender);
    }
    match request.worst {
        Some(worst) if worst < resolved.min_severity => return Decision::Skip(Skip::BelowSeverity),
        None if !resolved.send_no_issues => return Decision::Skip(Skip::NoIssuesNotWanted),
        _ => {}
    }
    let (to, cc) = addressees(policy, &resolved, request);
    if to.is_empty() && cc.is_empty() {
        return Decision::Skip(Skip::NoRecipients);
    }
    let (to, cc, dropped) = cap_recipients(&resolved, to, cc);
    let (not_before, delayed_by) = delay(&resolved, request);
    Decision::Send(Plan {
        to,
        cc,
        dry_run: resolved.dry_run,
        not_before,
        delayed_by,
        list_address: resolved.list_address.clone(),
        dropped,
        max_recipients: resolved.max_recipients,
    })
}

/// Keeps at most `max_recipients` addresses (0: no limit): every To (the
/// author), then the list and the policy's extra Cc, then the patch's
/// other addresses in the order they were written. Returns the kept To
/// and Cc (in their order) and the addresses left off.
fn cap_recipients(
    resolved: &Resolved,
    to: Vec<Mailbox>,
    cc: Vec<Mailbox>,
) -> (Vec<Mailbox>, Vec<Mailbox>, Vec<Mailbox>) {
    let max = usize::try_from(resolved.max_recipients).unwrap_or(usize::MAX);
    if max == 0 || to.len() + cc.len() <= max {
        return (to, cc, Vec::new());
    }
    let mut first: std::collections::BTreeSet<String> = resolved
        .extra_cc
        .iter()
        .filter_map(|a| Mailbox::parse(a))
        .map(|m| m.key())
        .collect();
    first.insert(resolved.list_address.clone());
    let mut room = max.saturating_sub(to.len());
    let mut kept = std::collections::BTreeSet::new();
    let preferred = cc.iter().filter(|m| first.contains(&m.key()));
    let others = cc.iter().filter(|m| !first.contains(&m.key()));
    for mailbox in preferred.chain(others) {
        if room == 0 {
            break;
        }
        kept.insert(mailbox.key());
        room -= 1;
    }
    let (cc, dropped): (Vec<Mailbox>, Vec<Mailbox>) =
        cc.into_iter().partition(|m| kept.contains(&m.key()));
    (to, cc, dropped)
}

fn addressees(
    policy: &Policy,
    resolved: &Resolved,
    request: &ReplyRequest<'_>,
) -> (Vec<Mailbox>, Vec<Mailbox>) {
    let bot = Mailbox::parse(&policy.bot.address);
    let opted_in = policy.opted_in_addresses();
    let extra: Vec<Mailbox> = resolved
        .extra_cc
        .iter()
        .filter_map(|a| Mailbox::parse(a))
        .collect();
    let list = Mailbox::new(None, &resolved.list_address);
    let mut cc: Vec<Mailbox> = match resolved.reply {
        ReplyMode::All => request
            .to
            .iter()
            .chain(request.cc)
            .cloned()
            .chain(extra)
            .collect(),
        ReplyMode::Author => std::iter::once(list.clone()).chain(extra).collect(),
        ReplyMode::Private => extra,
    };
    if resolved.reply == ReplyMode::All && !cc.iter().any(|m| m.key() == resolved.list_address) {
        cc.push(list);
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut keep = |mailbox: &Mailbox| {
        let key = mailbox.key();
        let is_bot = bot.as_ref().is_some_and(|b| b.key() == key)
            || matches_any(mailbox, &policy.bot.known_bots);
        let foreign_list = is_list_address(policy, mailbox) && !opted_in.contains(&key);
        let private_list = resolved.reply == ReplyMode::Private && is_list_address(policy, mailbox);
        !is_bot && !foreign_list && !private_list && seen.insert(key)
    };
    let to: Vec<Mailbox> = std::iter::once(request.author.clone())
        .filter(|m| keep(m))
        .collect();
    let cc: Vec<Mailbox> = cc.into_iter().filter(|m| keep(m)).collect();
    (to, cc)
}

fn delay(resolved: &Resolved, request: &ReplyRequest<'_>) -> (Option<i64>, Vec<&'static str>) {
    let mut at = request.now;
    let mut why = Vec::new();
    let embargo_end = request.posted_at + i64::from(resolved.embargo_hours) * 3600;
    if embargo_end > at {
        at = embargo_end;
        why.push("embargo");
    }
    if request.sent_today >= resolved.daily_cap {
        let next_day = (request.now.div_euclid(86_400) + 1) * 86_400;
        if next_day > at {
            at = next_day;
        }
        why.push("daily cap");
    }
    if let Some((start, end)) = resolved.quiet_hours {
        let hour = u32::try_from(at.rem_euclid(86_400) / 3600).unwrap_or(0);
        let quiet = if start < end {
            hour >= start && hour < end
        } else {
            hour >= start || hour < end
        };
        if quiet {
            let day = at.div_euclid(86_400) * 86_400;
            let mut end_at = day + i64::from(end) * 3600;
            if end_at <= at {
                end_at += 86_400;
            }
            at = end_at;
            why.push("quiet hours");
        }
    }
    ((at > request.now).then_some(at), why)
}

#[cfg(test)]
#[path = "recipients_tests.rs"]
mod tests;
