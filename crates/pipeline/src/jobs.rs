//! Typed background jobs over the store's generic queue, in the manner of
//! crates.io's `BackgroundJob`: each job type names itself once
//! ([`BackgroundJob::JOB_NAME`]) and is its own serde payload, so no call
//! site spells a kind string or builds a `serde_json::Value` by hand.
//!
//! The review job ([`ReviewJob`]) names what to review in a form any worker
//! with the same database can load: Message-IDs of stored messages for
//! mail, and exact commit ids plus the repository for git input (so a
//! moving `HEAD~3..` is pinned when it is queued). Jobs are deduplicated per
//! series version ([`review_dedup_key`]) and superseded by later versions
//! of the same lineage ([`lineage_key`]).
//!
//! Pure: building and reading jobs; queueing is the store's.

use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use sashiko_store::{ClaimedJob, NewJob};

use crate::error::{ErrorKind, PipelineError, Result};
use crate::inputs::LoadedSeries;

/// A job type of the queue: a name stored as the job's kind and a payload
/// that is the value itself.
pub trait BackgroundJob: Serialize + DeserializeOwned {
    /// The kind the queue stores; never changes once jobs are queued.
    const JOB_NAME: &'static str;

    /// At most one queued or running job has this key.
    fn dedup_key(&self) -> Option<String> {
        None
    }

    /// The job to queue, with how it is scheduled.
    fn to_new_job(&self, schedule: &Schedule) -> Result<NewJob> {
        let payload = serde_json::to_value(self).map_err(|error| {
            PipelineError::new(
                ErrorKind::Input,
                format!("encoding a {} job: {error}", Self::JOB_NAME),
            )
        })?;
        Ok(NewJob {
            kind: Self::JOB_NAME.to_owned(),
            payload,
            dedup_key: self.dedup_key(),
            series_key: schedule.lineage.clone(),
            series_version: schedule.series_version,
            priority: schedule.priority,
            max_attempts: schedule.max_attempts,
        })
    }

    /// The payload of a claimed job of this type; `None` for a job of
    /// another type, an error for an unreadable payload.
    fn from_claimed(job: &ClaimedJob) -> Option<Result<Self>> {
        if job.kind != Self::JOB_NAME {
            return None;
        }
        Some(
            serde_json::from_value(job.payload.clone()).map_err(|error| {
                PipelineError::input(format!(
                    "job {}: unreadable {} payload: {error}",
                    job.id.0,
                    Self::JOB_NAME
                ))
            }),
        )
    }
}

/// How a job is scheduled in the queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Jobs of older versions of this lineage are superseded.
    pub lineage: Option<String>,
    pub series_version: Option<u32>,
    /// Higher runs first.
    pub priority: i32,
    /// Attempts before the job goes to the dead letters.
    pub max_attempts: u32,
}

/// Review one series version.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ReviewJob {
    /// Series title, for listings.
    pub title: String,
    /// Where it came from (`git:HEAD~3..`, `mbox:FILE`, `lore:MSGID`).
    pub source: String,
    /// Series key and version, as assembled at enqueue time.
    pub series_key: String,
    pub version: u32,
    /// Stored messages of the series.
    pub message_ids: Vec<String>,
    /// For git input: the repository and the exact commits.
    pub git: Option<GitInput>,
}

impl BackgroundJob for ReviewJob {
    const JOB_NAME: &'static str = "review";

    fn dedup_key(&self) -> Option<String> {
        Some(review_dedup_key(&self.series_key, self.version))
    }
}

impl ReviewJob {
    /// The job reviewing `loaded`; git input names `repo` (made absolute)
    /// and its commits.
    pub fn for_series(loaded: &LoadedSeries, repo: &std::path::Path) -> Result<ReviewJob> {
        let git = if loaded.source.starts_with("git:") {
            let commits: Option<Vec<String>> = loaded
                .series
                .patches
                .iter()
                .map(|patch| patch.commit_id.clone())
                .collect();
            let commits = commits.ok_or_else(|| {
                PipelineError::input(format!(
                    "{}: a git patch without a commit id",
                    loaded.source
                ))
            })?;
            let repo = repo.canonicalize().map_err(|error| {
                PipelineError::input(format!(
                    "resolving the repository path {}: {error}",
                    repo.display()
                ))
            })?;
            Some(GitInput { repo, commits })
        } else {
            None
        };
        Ok(ReviewJob {
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

    /// How this job is scheduled: superseded by later versions of
    /// `lineage`.
    pub fn schedule(&self, lineage: String, priority: i32, max_attempts: u32) -> Schedule {
        Schedule {
            lineage: Some(lineage),
            series_version: Some(self.version),
            priority,
            max_attempts,
        }
    }
}

/// The repository and commits of a git review job.
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

/// The dedup key of the review job of one series version.
pub fn review_dedup_key(series_key: &str, version: u32) -> String {
    format!("review:{series_key}:v{version}")
}

/// The key the queue supersedes by and earlier versions are found by: one
/// for every version of a series.
///
/// The stored series key of mail input links versions only when they
/// arrive together (or v1 is stored), and v2 usually arrives alone, so mail
/// series are keyed like `sashiko-mail` links versions: b4's `change-id:`
/// when the series carries one, else the sender's address and the
/// normalised title. Git series keep their own key (they have no versions).
pub fn lineage_key(loaded: &LoadedSeries) -> String {
    if loaded.is_git() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::single_patch_series;
    use sashiko_review::ReviewPatch;

    fn loaded(key: &str, title: &str, author: &str, body: &str) -> LoadedSeries {
        LoadedSeries {
            source: "mbox:test".to_string(),
            series_key: key.to_string(),
            cover_message_id: None,
            series: single_patch_series(ReviewPatch {
                index: 1,
                subject: title.to_string(),
                author: author.to_string(),
                message_id: None,
                commit_id: None,
                commit_message: body.to_string(),
                diff: String::new(),
            }),
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

    #[test]
    fn mail_lineage_keys_read_change_ids_anywhere_and_bare_addresses() {
        let cases: [(&[&str], &str, &str, &str); 4] = [
            (&["a\nchange-id:  abc \n"], "X <x@y>", "t", "change-id:abc"),
            (&["change-id:\n"], "x@y", "T.", "title:x@y:t"),
            (&["", "b\n change-id: z"], "x@y", "t", "change-id:z"),
            (&[], " Odd > Name < ", "A  B", "title:odd > name <:a b"),
        ];
        for (texts, author, title, expected) in cases {
            assert_eq!(
                mail_lineage_key(texts.iter().copied(), author, title),
                expected,
                "{texts:?} {author:?} {title:?}"
            );
        }
    }

    fn claimed(kind: &str, payload: serde_json::Value) -> ClaimedJob {
        ClaimedJob {
            id: sashiko_store::JobId(7),
            kind: kind.to_owned(),
            payload,
            attempt: 1,
            max_attempts: 5,
            worker: "w".to_owned(),
        }
    }

    #[test]
    fn a_review_job_round_trips_through_the_queue_payload() {
        let job = ReviewJob {
            title: "mm: fix".to_owned(),
            source: "git:HEAD~2..".to_owned(),
            series_key: "git:00ff".to_owned(),
            version: 2,
            message_ids: vec!["a@git.sashiko.invalid".to_owned()],
            git: Some(GitInput {
                repo: PathBuf::from("/srv/linux"),
                commits: vec!["aaa".to_owned(), "bbb".to_owned()],
            }),
        };
        let new_job = job
            .to_new_job(&job.schedule("git:00ff".to_owned(), 3, 4))
            .expect("encodes");
        assert_eq!(new_job.kind, "review");
        assert_eq!(new_job.dedup_key.as_deref(), Some("review:git:00ff:v2"));
        assert_eq!(new_job.series_key.as_deref(), Some("git:00ff"));
        assert_eq!(
            (
                new_job.series_version,
                new_job.priority,
                new_job.max_attempts
            ),
            (Some(2), 3, 4)
        );
        // The wire format stays what queued jobs of earlier releases hold.
        assert_eq!(new_job.payload["git"]["commits"][1], "bbb");
        assert_eq!(new_job.payload["series_key"], "git:00ff");
        let back = ReviewJob::from_claimed(&claimed("review", new_job.payload))
            .expect("a review job")
            .expect("readable");
        assert_eq!(back, job);
        assert_eq!(
            back.git.as_ref().and_then(GitInput::spec).as_deref(),
            Some("aaa^..bbb")
        );
    }

    #[test]
    fn other_kinds_and_bad_payloads_are_told_apart() {
        assert!(ReviewJob::from_claimed(&claimed("ingest", serde_json::json!({}))).is_none());
        let error = ReviewJob::from_claimed(&claimed("review", serde_json::json!({"title": 1})))
            .expect("a review job")
            .expect_err("unreadable");
        assert_eq!(error.kind(), ErrorKind::Input);
        assert!(
            error
                .to_string()
                .starts_with("job 7: unreadable review payload"),
            "{error}"
        );
    }

    #[test]
    fn git_specs_name_exactly_the_commits() {
        let spec = |commits: &[&str]| {
            GitInput {
                repo: PathBuf::new(),
                commits: commits.iter().map(|c| c.to_string()).collect(),
            }
            .spec()
        };
        assert_eq!(spec(&[]), None);
        assert_eq!(spec(&["a"]).as_deref(), Some("a"));
        assert_eq!(spec(&["a", "b", "c"]).as_deref(), Some("a^..c"));
    }
}
