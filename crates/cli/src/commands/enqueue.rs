//! `sashiko enqueue INPUT...`: resolve inputs into series now, store their
//! messages, and queue one review job per series for `sashiko worker`.
//!
//! The job payload names what to review in a form any worker with the same
//! database can load: Message-IDs of stored messages for mail input, and
//! exact commit ids plus the repository for git input (so a moving
//! `HEAD~3..` is pinned at enqueue time). Queued jobs for older versions of
//! the same series are superseded. Series touching a critical subsystem or
//! path of the `[queue]` configuration get a higher priority
//! ([`priority`]); `--priority` overrides it. This module never runs a
//! review.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use sashiko_store::{Enqueued, NewJob, NewMessage};
use serde::{Deserialize, Serialize};

use crate::commands::db::{open_store, DbUrlArgs};
use crate::commands::review::OutputFormat;
use crate::inputs::{load_inputs, InputOptions, LoadedSeries};
use crate::settings::{FlagSettings, Settings};

pub mod priority;

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

/// The key the queue supersedes by: one for every version of a series.
///
/// The stored series key of mail input links versions only when they
/// arrive together (or v1 is stored), and v2 usually arrives alone, so mail
/// series are keyed like `sashiko-mail` links versions: b4's `change-id:`
/// when the series carries one, else the sender's address and the
/// normalised title. Git series keep their own key (they have no versions).
pub fn lineage_key(loaded: &LoadedSeries) -> String {
    if loaded.series_key.starts_with("git:") {
        return loaded.series_key.clone();
    }
    let series = &loaded.series;
    let texts = series.cover_letter.iter().map(String::as_str).chain(
        series
            .patches
            .iter()
            .flat_map(|patch| [patch.commit_message.as_str(), patch.diff.as_str()]),
    );
    let author = series
        .patches
        .first()
        .map(|patch| patch.author.as_str())
        .unwrap_or_default();
    mail_lineage_key(texts, author, &series.title)
}

/// The lineage key of a mail series from its texts (searched for b4's
/// `change-id:`), its sender and its title.
pub fn mail_lineage_key<'a>(
    texts: impl Iterator<Item = &'a str>,
    author: &str,
    title: &str,
) -> String {
    let change_id = texts.flat_map(str::lines).find_map(|line| {
        line.trim()
            .strip_prefix("change-id:")
            .map(str::trim)
            .filter(|id| !id.is_empty())
    });
    if let Some(change_id) = change_id {
        return format!("change-id:{change_id}");
    }
    let address = match (author.rfind('<'), author.rfind('>')) {
        (Some(open), Some(close)) if open < close => &author[open + 1..close],
        _ => author,
    };
    let title: Vec<&str> = title.split_whitespace().collect();
    format!(
        "title:{}:{}",
        address.trim().to_lowercase(),
        title.join(" ").to_lowercase().trim_end_matches('.')
    )
}

/// The review job for `payload`, deduplicated per series version and
/// superseded by later versions of the same `lineage` key.
pub fn review_job(
    payload: &ReviewJobPayload,
    lineage: String,
    priority: i32,
    max_attempts: u32,
) -> anyhow::Result<NewJob> {
    Ok(NewJob {
        kind: REVIEW_JOB.to_string(),
        payload: serde_json::to_value(payload)?,
        dedup_key: Some(review_dedup_key(&payload.series_key, payload.version)),
        series_key: Some(lineage),
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
    let rules = priority::CriticalRules::new(&settings.queue);
    let maintainers = if rules.names_subsystems() && args.priority.is_none() {
        let found = crate::review_runner::tree_maintainers(&args.repo);
        match &found {
            None => eprintln!(
                "sashiko: note: no MAINTAINERS in {}: critical_subsystems cannot be matched, only critical_paths",
                args.repo.display()
            ),
            Some(maintainers) => {
                for name in rules.unknown_subsystems(maintainers) {
                    eprintln!(
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
    crate::stored_keys::adopt_stored_series_keys(&store, &mut loaded).await?;
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
        let priority = rules.priority(&series.series, maintainers.as_deref(), args.priority);
        let job = review_job(
            &payload,
            lineage_key(series),
            priority.value,
            args.max_attempts,
        )?;
        let outcome = store.enqueue(&job).await.with_context(|| {
            format!(
                "queueing a review of {:?} ({})",
                payload.title, payload.source
            )
        })?;
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
        results.push(serde_json::json!({
            "title": payload.title,
            "source": payload.source,
            "priority": priority.value,
            "priority_reason": priority.reason,
            "result": outcome,
        }));
    }
    if args.format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(&results)?);
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::lineage_key;
    use crate::inputs::LoadedSeries;
    use sashiko_review::{ReviewPatch, ReviewSeries};

    fn loaded(key: &str, title: &str, author: &str, body: &str) -> LoadedSeries {
        LoadedSeries {
            source: "mbox:test".to_string(),
            series_key: key.to_string(),
            cover_message_id: None,
            series: ReviewSeries {
                title: title.to_string(),
                version: 1,
                cover_letter: None,
                patches: vec![ReviewPatch {
                    index: 1,
                    subject: title.to_string(),
                    author: author.to_string(),
                    message_id: None,
                    commit_id: None,
                    commit_message: body.to_string(),
                    diff: String::new(),
                }],
            },
            messages: Vec::new(),
            patch_ids: Vec::new(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn versions_of_a_mail_series_share_one_lineage_key() {
        let cases = [
            (
                loaded(
                    "v1@x",
                    "mm: fix the frobnicator",
                    "Ada <Ada@Example.org>",
                    "Fix.",
                ),
                "title:ada@example.org:mm: fix the frobnicator",
            ),
            (
                loaded(
                    "v2@x",
                    "mm:  Fix the frobnicator.",
                    "Ada Dev <ada@example.org>",
                    "Fixed.",
                ),
                "title:ada@example.org:mm: fix the frobnicator",
            ),
            (
                loaded(
                    "v3@x",
                    "mm: other title",
                    "Ada <ada@example.org>",
                    "x\n\nchange-id: 20250102-frob-1a2b\n",
                ),
                "change-id:20250102-frob-1a2b",
            ),
            (
                loaded(
                    "git:0123abcd",
                    "mm: fix the frobnicator",
                    "Ada <ada@example.org>",
                    "",
                ),
                "git:0123abcd",
            ),
        ];
        for (series, expected) in cases {
            assert_eq!(lineage_key(&series), expected, "{}", series.series_key);
        }
    }
}
