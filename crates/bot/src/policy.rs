//! The operator's reply policy (TOML): which lists are opted in, how
//! replies are addressed, when and how often mail may go out, and what is
//! worth a mail. Per list, overridable per subsystem; re-read when the
//! file changes ([`PolicyFile`]).
//!
//! Defaults are the safe ones: a list not named in the file, or named
//! without `enabled = true`, never receives mail. This module only
//! resolves settings; it must never look at patch text.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sashiko_review::Severity;
use serde::Deserialize;

/// How a reply is addressed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyMode {
    /// To the author, Cc everyone the patch was sent to (minus lists that
    /// are not opted in), plus extra Cc.
    #[default]
    All,
    /// To the author, Cc the list and extra Cc only.
    Author,
    /// To the author and extra Cc only; never the list.
    Private,
}

/// Settings that can be given in `[defaults]`, per list and per
/// subsystem; unset fields inherit.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Lists only: the posting address (default: derived from the List-Id).
    pub address: Option<String>,
    /// Opt in (lists) or mute (`false` on a subsystem).
    pub enabled: Option<bool>,
    /// Reply addressing.
    pub reply: Option<ReplyMode>,
    /// Always Cc these.
    pub extra_cc: Option<Vec<String>>,
    /// Never review patches from these addresses.
    pub ignored_senders: Option<Vec<String>>,
    /// Addresses whose mail commands are honoured besides the author.
    pub maintainers: Option<Vec<String>>,
    /// Authserv-ids of list servers whose ARC verdicts authenticate the
    /// sender of a mail command (see `auth`); none: no command is honoured.
    pub command_authserv_ids: Option<Vec<String>>,
    /// Most `#sashiko rerun` reviews per series (all versions together).
    pub max_reruns_per_series: Option<u32>,
    /// Most addresses one reply goes to (To and Cc together); the rest are
    /// left off with a note in the mail and the log.
    pub max_recipients: Option<u32>,
    /// Hours after posting before a reply may go out.
    pub embargo_hours: Option<u32>,
    /// `"22-07"`: UTC hours in which nothing is sent.
    pub quiet_hours: Option<String>,
    /// Most replies per list per UTC day.
    pub daily_cap: Option<u32>,
    /// Least severity worth a reply.
    pub min_severity: Option<Severity>,
    /// Send "no problems found" replies.
    pub send_no_issues: Option<bool>,
    /// Render and log, never queue.
    pub dry_run: Option<bool>,
}

impl Settings {
    fn overlay(&mut self, other: &Settings) {
        macro_rules! take {
            ($($field:ident),*) => {$(
                if other.$field.is_some() { self.$field = other.$field.clone(); }
            )*};
        }
        take!(
            enabled,
            reply,
            extra_cc,
            ignored_senders,
            maintainers,
            command_authserv_ids,
            max_reruns_per_series,
            max_recipients,
            embargo_hours,
            quiet_hours,
            daily_cap,
            min_severity,
            send_no_issues,
            dry_run
        );
    }
}

/// Reruns per series when the policy names no limit.
pub const DEFAULT_MAX_RERUNS_PER_SERIES: u32 = 2;
/// Recipients per reply when the policy names no limit.
pub const DEFAULT_MAX_RECIPIENTS: u32 = 20;

/// One list's entry: its settings, and `address` (the posting address,
/// default derived from the List-Id).
pub type ListEntry = Settings;

/// About the bot itself.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotIdentity {
    /// `Name <address>` the replies come from.
    pub address: String,
    /// Substrings of sender addresses that are bots.
    #[serde(default = "default_known_bots")]
    pub known_bots: Vec<String>,
    /// Domains whose addresses are mailing lists (a list not opted in is
    /// dropped from every reply).
    #[serde(default = "default_list_domains")]
    pub list_domains: Vec<String>,
    /// Prefix of the web view; the review id is appended.
    #[serde(default)]
    pub web_base: Option<String>,
}

fn default_known_bots() -> Vec<String> {
    [
        "lkp@intel.com",
        "test robot",
        "-bot@",
        "-bot+",
        "patchwork-bot",
        "syzbot",
        "noreply",
        "no-reply",
        "kernelci",
        "linux-next@",
        "mailer-daemon",
    ]
    .map(String::from)
    .to_vec()
}

fn default_list_domains() -> Vec<String> {
    [
        "vger.kernel.org",
        "lists.linux.dev",
        "lists.infradead.org",
        "lists.ozlabs.org",
        "kvack.org",
        "lists.sourceforge.net",
        "lists.freedesktop.org",
        "lists.linaro.org",
        "googlegroups.com",
        "lists.xenproject.org",
    ]
    .map(String::from)
    .to_vec()
}

/// The whole policy file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub bot: BotIdentity,
    #[serde(default)]
    pub defaults: Settings,
    /// By List-Id (`io-uring.vger.kernel.org`) or posting address.
    #[serde(default)]
    pub lists: BTreeMap<String, ListEntry>,
    /// By subsystem (first path component, or a MAINTAINERS-style name).
    #[serde(default)]
    pub subsystems: BTreeMap<String, Settings>,
}

/// Settings after inheritance, for one list and the subsystems a series
/// touches.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    /// The list's key in the policy.
    pub list: String,
    /// The list's posting address.
    pub list_address: String,
    pub enabled: bool,
    pub reply: ReplyMode,
    pub extra_cc: Vec<String>,
    pub ignored_senders: Vec<String>,
    pub maintainers: Vec<String>,
    pub command_authserv_ids: Vec<String>,
    pub max_reruns_per_series: u32,
    pub max_recipients: u32,
    pub embargo_hours: u32,
    pub quiet_hours: Option<(u32, u32)>,
    pub daily_cap: u32,
    pub min_severity: Severity,
    pub send_no_issues: bool,
    pub dry_run: bool,
}

/// Errors loading a policy.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("reading policy {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("policy {path} is not valid: {detail}")]
    Parse { path: String, detail: String },
}

/// `io-uring.vger.kernel.org` -> `io-uring@vger.kernel.org`; an address
/// stays as it is.
pub fn list_address_from_id(list_id: &str) -> String {
    let id = list_id.trim().trim_start_matches('<').trim_end_matches('>');
    if id.contains('@') {
        return id.to_ascii_lowercase();
    }
    match id.split_once('.') {
        Some((local, domain)) => format!("{local}@{domain}").to_ascii_lowercase(),
        None => id.to_ascii_lowercase(),
    }
}

fn parse_quiet_hours(text: &str) -> Option<(u32, u32)> {
    let (start, end) = text.split_once('-')?;
    let start: u32 = start.trim().parse().ok()?;
    let end: u32 = end.trim().parse().ok()?;
    (start < 24 && end <= 24 && start != end).then_some((start, end))
}

impl Policy {
    /// Parses policy text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let policy: Policy = toml::from_str(text).map_err(|error| PolicyError::Parse {
            path: origin.to_owned(),
            detail: error.to_string(),
        })?;
        for (name, entry) in policy.lists.iter().chain(&policy.subsystems) {
            if let Some(hours) = &entry.quiet_hours {
                if parse_quiet_hours(hours).is_none() {
                    return Err(PolicyError::Parse {
                        path: origin.to_owned(),
                        detail: format!(
                            "{name}: quiet_hours {hours:?} is not \"START-END\" in UTC hours"
                        ),
                    });
                }
            }
        }
        Ok(policy)
    }

    /// The list entry for a List-Id or posting address.
    pub fn find_list(&self, list: &str) -> Option<(&str, &ListEntry)> {
        let wanted = list_address_from_id(list);
        self.lists.iter().find_map(|(key, entry)| {
            let address = entry
                .address
                .clone()
                .unwrap_or_else(|| list_address_from_id(key));
            (key.eq_ignore_ascii_case(list.trim()) || address.eq_ignore_ascii_case(&wanted))
                .then_some((key.as_str(), entry))
        })
    }

    /// Posting addresses of every opted-in list.
    pub fn opted_in_addresses(&self) -> Vec<String> {
        self.lists
            .iter()
            .filter(|(_, entry)| entry.enabled == Some(true))
            .map(|(key, entry)| {
                entry
                    .address
                    .clone()
                    .unwrap_or_else(|| list_address_from_id(key))
                    .to_ascii_lowercase()
            })
            .collect()
    }

    /// Settings for `list` and the `subsystems` touched; `None` when the
    /// list is unknown. Subsystem overrides apply in name order; a subsystem
    /// with `enabled = false` mutes the reply.
    pub fn resolve(&self, list: &str, subsystems: &[String]) -> Option<Resolved> {
        let (key, entry) = self.find_list(list)?;
        let mut settings = self.defaults.clone();
        // A list is opted in only by its own entry, never by defaults.
        settings.enabled = None;
        settings.overlay(entry);
        let list_enabled = entry.enabled == Some(true);
        let mut muted = false;
        let mut sorted: Vec<&String> = subsystems.iter().collect();
        sorted.sort();
        sorted.dedup();
        for name in sorted {
            if let Some(over) = self.subsystems.get(name) {
                let mut over = over.clone();
                if over.enabled == Some(false) {
                    muted = true;
                }
                over.enabled = None;
                let previous_cc = settings.extra_cc.clone().unwrap_or_default();
                let previous_min = settings.min_severity;
                settings.overlay(&over);
                // Cc lists add up; the strictest severity wins.
                let mut cc = previous_cc;
                cc.extend(over.extra_cc.unwrap_or_default());
                settings.extra_cc = Some(cc);
                settings.min_severity = previous_min.max(settings.min_severity);
            }
        }
        Some(Resolved {
            list: key.to_owned(),
            list_address: entry
                .address
                .clone()
                .unwrap_or_else(|| list_address_from_id(key))
                .to_ascii_lowercase(),
            enabled: list_enabled && !muted,
            reply: settings.reply.unwrap_or_default(),
            extra_cc: settings.extra_cc.unwrap_or_default(),
            ignored_senders: settings.ignored_senders.unwrap_or_default(),
            maintainers: settings.maintainers.unwrap_or_default(),
            command_authserv_ids: settings.command_authserv_ids.unwrap_or_default(),
            max_reruns_per_series: settings
                .max_reruns_per_series
                .unwrap_or(DEFAULT_MAX_RERUNS_PER_SERIES),
            max_recipients: settings.max_recipients.unwrap_or(DEFAULT_MAX_RECIPIENTS),
            embargo_hours: settings.embargo_hours.unwrap_or(0),
            quiet_hours: settings.quiet_hours.as_deref().and_then(parse_quiet_hours),
            daily_cap: settings.daily_cap.unwrap_or(50),
            min_severity: settings.min_severity.unwrap_or(Severity::Medium),
            send_no_issues: settings.send_no_issues.unwrap_or(false),
            dry_run: settings.dry_run.unwrap_or(false),
        })
    }
}

/// A policy file re-read whenever its modification time changes. A file
/// that stops parsing keeps the last good policy (and says so).
#[derive(Debug)]
pub struct PolicyFile {
    path: PathBuf,
    modified: Option<SystemTime>,
    policy: Policy,
}

impl PolicyFile {
    /// Loads `path`; fails when it cannot be read or parsed.
    pub fn load(path: &Path) -> Result<PolicyFile, PolicyError> {
        let (policy, modified) = read_policy(path)?;
        Ok(PolicyFile {
            path: path.to_owned(),
            modified,
            policy,
        })
    }

    /// The current policy, re-read first if the file changed. Returns the
    /// error of a failed re-read alongside the last good policy.
    pub fn current(&mut self) -> (&Policy, Option<PolicyError>) {
        let modified = std::fs::metadata(&self.path)
            .and_then(|m| m.modified())
            .ok();
        let mut problem = None;
        if modified != self.modified {
            match read_policy(&self.path) {
                Ok((policy, modified)) => {
                    if policy != self.policy {
                        tracing::info!(path = %self.path.display(), "policy changed; re-read");
                    }
                    self.policy = policy;
                    self.modified = modified;
                }
                Err(error) => {
                    self.modified = modified;
                    problem = Some(error);
                }
            }
        }
        (&self.policy, problem)
    }
}

fn read_policy(path: &Path) -> Result<(Policy, Option<SystemTime>), PolicyError> {
    let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
        path: path.display().to_string(),
        source,
    })?;
    let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    Ok((Policy::parse(&text, &path.display().to_string())?, modified))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "[bot]\naddress = \"S <s@bot.example>\"\n";

    #[test]
    fn bad_policies_are_refused_with_their_name() {
        let cases = [
            ("[lists.a]\nenabled = true\nreply = \"everyone\"\n", "reply"),
            ("[lists.a]\nquiet_hours = \"late\"\n", "quiet_hours"),
            ("[lists.a]\nenabeld = true\n", "enabeld"),
        ];
        for (text, mentions) in cases {
            let error = Policy::parse(&format!("{BASE}{text}"), "p.toml")
                .expect_err(text)
                .to_string();
            assert!(
                error.contains("p.toml") && error.contains(mentions),
                "{error}"
            );
        }
    }

    #[test]
    fn defaults_never_opt_a_list_in() {
        let policy = Policy::parse(
            &format!("{BASE}[defaults]\nenabled = true\n[lists.\"a.vger.kernel.org\"]\n"),
            "p",
        )
        .expect("parses");
        assert_eq!(
            policy.resolve("a.vger.kernel.org", &[]).map(|r| r.enabled),
            Some(false)
        );
        assert!(policy.opted_in_addresses().is_empty());
        assert_eq!(
            list_address_from_id("io-uring.vger.kernel.org"),
            "io-uring@vger.kernel.org"
        );
    }

    #[test]
    fn the_policy_file_is_reread_when_it_changes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("policy.toml");
        std::fs::write(
            &path,
            format!("{BASE}[lists.\"a.vger.kernel.org\"]\nenabled = false\n"),
        )
        .expect("write");
        let mut file = PolicyFile::load(&path).expect("loads");
        assert_eq!(
            file.current()
                .0
                .resolve("a.vger.kernel.org", &[])
                .map(|r| r.enabled),
            Some(false)
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(
            &path,
            format!("{BASE}[lists.\"a.vger.kernel.org\"]\nenabled = true\n"),
        )
        .expect("write");
        let now = SystemTime::now() + std::time::Duration::from_secs(5);
        let handle = std::fs::File::options()
            .write(true)
            .open(&path)
            .expect("open");
        handle.set_modified(now).expect("touch");
        assert_eq!(
            file.current()
                .0
                .resolve("a.vger.kernel.org", &[])
                .map(|r| r.enabled),
            Some(true)
        );
        std::fs::write(&path, "not toml [").expect("write");
        handle
            .set_modified(now + std::time::Duration::from_secs(5))
            .expect("touch");
        let (policy, problem) = file.current();
        assert_eq!(
            policy.resolve("a.vger.kernel.org", &[]).map(|r| r.enabled),
            Some(true),
            "last good policy kept"
        );
        assert!(problem.is_some());
    }
}

#[cfg(test)]
mod example_tests {
    #[test]
    fn shipped_examples_parse() {
        let policy = super::Policy::parse(
            include_str!("../policy.example.toml"),
            "policy.example.toml",
        )
        .expect("example policy parses");
        assert!(policy
            .resolve("io-uring.vger.kernel.org", &[])
            .is_some_and(|r| r.enabled));
        let config: crate::config::BotConfig =
            toml::from_str(include_str!("../bot.example.toml")).expect("example config parses");
        assert_eq!(config.sources.len(), 2);
    }
}
