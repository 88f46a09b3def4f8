//! What a review looks at: a series of patches, each with its commit
//! message and unified diff. Built by the caller from a git range or from
//! assembled mail; the reviewer does not care which.

use serde::Serialize;

/// One patch of a series under review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewPatch {
    /// 1-based position in the series.
    pub index: u32,
    pub subject: String,
    pub author: String,
    /// Message-ID (no angle brackets) when the patch came from mail.
    pub message_id: Option<String>,
    /// Commit id when the patch came from a git repository.
    pub commit_id: Option<String>,
    /// The commit message body (after the subject line), trailers included.
    pub commit_message: String,
    /// The unified diff.
    pub diff: String,
}

/// A patch series as the reviewer sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewSeries {
    pub title: String,
    pub version: u32,
    pub cover_letter: Option<String>,
    pub patches: Vec<ReviewPatch>,
}

impl ReviewSeries {
    pub fn patch(&self, index: u32) -> Option<&ReviewPatch> {
        self.patches.iter().find(|patch| patch.index == index)
    }
}
