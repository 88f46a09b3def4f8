//! Values passed into and out of the store: ids and the "new row" structs.
//!
//! These are the store's own types, converted from the review pipeline's
//! model by the caller. They must never carry database handles or do IO.

use serde::Serialize;

/// A stored message: its row id and whether this call inserted it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MessageKey {
    /// Row id in `messages`.
    pub id: i64,
    /// True when the message was new; false when it was already stored.
    pub inserted: bool,
}

/// Row id of one version of a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct SeriesVersionId(pub i64);

/// Row id of a review run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct ReviewId(pub i64);

/// Row id of a finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct FindingId(pub i64);

/// Row id of a bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct BugId(pub i64);

/// A message to store, kept byte for byte.
#[derive(Clone, Debug)]
pub struct NewMessage<'a> {
    /// The Message-ID, without angle brackets.
    pub message_id: &'a str,
    /// The raw message as received.
    pub raw: &'a [u8],
    /// The decoded Subject.
    pub subject: &'a str,
    /// The decoded From.
    pub author: &'a str,
    /// The Date header as written (RFC 2822) or RFC 3339 text.
    pub date: Option<String>,
    /// The list it came from, by name (e.g. `linux-mm@kvack.org`).
    pub list: Option<&'a str>,
    /// The In-Reply-To Message-ID.
    pub in_reply_to: Option<&'a str>,
}

/// One version of a series and its patches.
#[derive(Clone, Debug)]
pub struct NewSeriesVersion {
    /// Stable key of the series across versions (e.g. derived from the
    /// normalized title and author).
    pub series_key: String,
    /// Title of this version.
    pub title: String,
    /// Author of this version.
    pub author: String,
    /// Version number, 1 for an unversioned series.
    pub version: u32,
    /// Number of patches the series says it has.
    pub total: u32,
    /// Message-ID of the cover letter, if any.
    pub cover_message_id: Option<String>,
    /// The patches.
    pub patches: Vec<NewPatch>,
}

/// One patch of a series version.
#[derive(Clone, Debug)]
pub struct NewPatch {
    /// 1-based position in the series.
    pub index: u32,
    /// Message-ID of the patch mail (or a synthetic id for git input).
    pub message_id: String,
    /// Subject line.
    pub subject: String,
    /// Author.
    pub author: String,
    /// The commit message.
    pub commit_message: String,
    /// The diff.
    pub diff: String,
    /// `git patch-id` of the diff, if computed.
    pub patch_id: Option<String>,
}

/// A review run about to start.
#[derive(Clone, Debug)]
pub struct NewReview {
    /// What is reviewed.
    pub series_version: SeriesVersionId,
    /// LLM provider, when one is configured.
    pub provider: Option<String>,
    /// Model id, when one is configured.
    pub model: Option<String>,
    /// Hash of the prompt set that produced the review.
    pub prompt_set_hash: String,
    /// Subsystem guides used.
    pub guides: Vec<String>,
    /// How many runs are aggregated.
    pub runs: u32,
}

/// How a review ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ReviewStatus {
    /// Every stage ran.
    Finished,
    /// The review failed; its findings are not to be trusted.
    Failed,
    /// Some stages were skipped.
    Partial,
    /// The review was manipulated (e.g. prompt injection detected).
    Compromised,
}

impl ReviewStatus {
    /// The value stored in `reviews.status`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Finished => "finished",
            ReviewStatus::Failed => "failed",
            ReviewStatus::Partial => "partial",
            ReviewStatus::Compromised => "compromised",
        }
    }
}

/// The result of a review, stored in one transaction.
#[derive(Clone, Debug)]
pub struct ReviewOutcome {
    /// How it ended.
    pub status: ReviewStatus,
    /// The findings.
    pub findings: Vec<NewFinding>,
    /// Token and request usage as reported by the pipeline.
    pub usage: serde_json::Value,
    /// Cost in US dollars, when known.
    pub cost_usd: Option<f64>,
    /// Stages that did not run.
    pub skipped_stages: Vec<String>,
    /// Why the review failed, if it did.
    pub error: Option<String>,
    /// Wall time in milliseconds.
    pub wall_ms: u64,
}

/// One finding of a review.
#[derive(Clone, Debug)]
pub struct NewFinding {
    /// 1-based patch index.
    pub patch_index: u32,
    /// File path.
    pub file: String,
    /// First line.
    pub line_start: u32,
    /// Last line.
    pub line_end: u32,
    /// The stage that found it.
    pub stage: String,
    /// low, medium, high or critical.
    pub severity: String,
    /// The problem.
    pub problem: String,
    /// Why that severity.
    pub severity_explanation: String,
    /// The bug was there before the patch.
    pub preexisting: bool,
    /// Cited locations.
    pub locations: serde_json::Value,
    /// Supporting evidence, if any.
    pub evidence: Option<serde_json::Value>,
    /// Model that produced it.
    pub model: Option<String>,
    /// Prompt set that produced it.
    pub prompt_set_hash: String,
    /// Stable fingerprint for dedup across series and versions.
    pub fingerprint: String,
    /// The MAINTAINERS entry owning `file`, when the caller knows it;
    /// otherwise the bug's subsystem is derived from the path.
    pub subsystem: Option<String>,
}

/// Converts a caller's unsigned number to the stored signed integer.
pub(crate) fn to_i64(value: impl Into<u64>) -> i64 {
    i64::try_from(value.into()).unwrap_or(i64::MAX)
}
