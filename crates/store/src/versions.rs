//! Versions of one series across series keys, and what became of each
//! finding.
//!
//! Every version of a series shares a lineage key (b4's change-id, else the
//! sender and normalised title, computed by the caller). The series key a
//! version is stored under may change between versions or sashiko
//! releases, so an earlier version is looked up by lineage only. A finding
//! is stored with its status (reported, fixed later in the series, fixed in
//! this version), how it relates to the earlier version's review, and the
//! report stage's wording. This module decides none of that; it keeps what
//! it is given and reads it back.

use serde::Serialize;

use crate::error::QueryContext;
use crate::types::to_i64;
use crate::{on_pool, FindingId, ReviewId, SeriesVersionId, Store, StoreError};

/// A patch of a stored series version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredPatch {
    /// 1-based position.
    pub index: u32,
    /// Message-ID of the patch mail.
    pub message_id: String,
    /// Subject line.
    pub subject: String,
    /// Author.
    pub author: String,
    /// The commit message.
    pub commit_message: String,
    /// The diff.
    pub diff: String,
}

/// The newest earlier version of a series with a finished review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EarlierReview {
    /// The earlier version's row.
    pub series_version: SeriesVersionId,
    /// Its version number.
    pub version: u32,
    /// The review whose findings are carried forward.
    pub review: ReviewId,
    /// Its patches, in order.
    pub patches: Vec<StoredPatch>,
    /// The findings that review reported.
    pub findings: Vec<crate::StoredFinding>,
}

/// What became of a finding, stored next to it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FindingNotes {
    /// `reported` (the default), `fixed_later`, `known` or `fixed`.
    pub status: Option<String>,
    /// Why it is not reported, when it is not.
    pub status_reason: Option<String>,
    /// `new`, `still_present` or `fixed` against the earlier version's
    /// review; `None` when there was none.
    pub carry: Option<String>,
    /// The earlier version's finding this one continues.
    pub earlier_finding: Option<FindingId>,
    /// The report stage's wording of the comment.
    pub wording: Option<String>,
}

impl FindingNotes {
    /// The stored status.
    pub fn status(&self) -> &str {
        self.status.as_deref().unwrap_or("reported")
    }
}

/// What a review's outcome says beyond its reported findings, stored in
/// the same transaction by [`Store::finish_review_noted`].
#[derive(Clone, Debug, Default)]
pub struct OutcomeNotes {
    /// Notes of `outcome.findings`, same order (missing ones: reported,
    /// nothing more).
    pub findings: Vec<FindingNotes>,
    /// Findings kept but not reported (fixed later in the series, fixed in
    /// this version), with their notes.
    pub unreported: Vec<(crate::NewFinding, FindingNotes)>,
    /// The earlier version's review the findings were carried from.
    pub earlier_review: Option<ReviewId>,
    /// The interdiff the review was given against that earlier version.
    pub interdiff: Option<StoredInterdiff>,
}

/// The interdiff between an earlier reviewed version's end state and the
/// reviewed one's, as the reviewer computed it and showed it to the stages
/// (`reviews.interdiff`; the web renders this text).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoredInterdiff {
    /// The earlier version's number.
    pub earlier_version: u32,
    /// Per file, unified-diff hunks from the earlier end state to this one.
    pub files: Vec<InterdiffFile>,
    /// What the reviewer noted (e.g. the versions seem to apply to
    /// different bases).
    pub notes: Vec<String>,
}

/// One file of a [`StoredInterdiff`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct InterdiffFile {
    /// The path.
    pub file: String,
    /// First line of the first hunk in the later end state.
    pub first_line: u32,
    /// The hunks.
    pub text: String,
}

/// A stored finding with its notes, as [`Store::review_finding_notes`]
/// reads them back.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotedFinding {
    /// Row id.
    pub id: FindingId,
    /// 1-based patch position.
    pub patch_index: u32,
    /// The file.
    pub file: String,
    /// First line.
    pub line_start: u32,
    /// The problem.
    pub problem: String,
    /// What became of it.
    pub notes: FindingNotes,
}

type NotedRow = (
    i64,
    i64,
    String,
    i64,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn number(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

impl Store {
    /// Records the lineage key of a stored series version.
    pub async fn set_lineage_key(
        &self,
        version: SeriesVersionId,
        lineage_key: &str,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE series_versions SET lineage_key = $1 WHERE id = $2";
        on_pool!(self, pool => sqlx::query(sql).bind(lineage_key).bind(version.0).execute(pool).await.map(|_| ()))
            .context(|| format!("recording lineage {lineage_key:?} of series version {}", version.0))
    }

    /// The newest version of lineage `lineage_key` numbered below `version`
    /// (and not `this` row) that has a finished or partial review, with
    /// that review's reported findings and the version's patches.
    pub async fn earlier_reviewed_version(
        &self,
        lineage_key: &str,
        version: u32,
        this: SeriesVersionId,
    ) -> Result<Option<EarlierReview>, StoreError> {
        let what = || {
            format!("looking for an earlier reviewed version of {lineage_key:?} before v{version}")
        };
        let find = "SELECT v.id, v.version, r.id FROM series_versions v \
                    JOIN reviews r ON r.series_version_id = v.id \
                    WHERE v.lineage_key = $1 AND v.version < $2 AND v.id <> $3 \
                    AND r.status IN ('finished', 'partial') \
                    ORDER BY v.version DESC, r.id DESC LIMIT 1";
        let found: Option<(i64, i64, i64)> = on_pool!(self, pool => sqlx::query_as(find)
            .bind(lineage_key)
            .bind(to_i64(version))
            .bind(this.0)
            .fetch_optional(pool)
            .await)
        .context(what)?;
        let Some((version_id, earlier_version, review_id)) = found else {
            return Ok(None);
        };
        let patches_sql = "SELECT patch_index, message_id, subject, author, commit_message, diff \
                           FROM patches WHERE series_version_id = $1 ORDER BY patch_index";
        let patches: Vec<(i64, String, String, String, String, String)> =
            on_pool!(self, pool => sqlx::query_as(patches_sql).bind(version_id).fetch_all(pool).await)
                .context(what)?;
        let findings = self.review_findings(ReviewId(review_id)).await?;
        Ok(Some(EarlierReview {
            series_version: SeriesVersionId(version_id),
            version: number(earlier_version),
            review: ReviewId(review_id),
            patches: patches
                .into_iter()
                .map(
                    |(index, message_id, subject, author, commit_message, diff)| StoredPatch {
                        index: number(index),
                        message_id,
                        subject,
                        author,
                        commit_message,
                        diff,
                    },
                )
                .collect(),
            findings,
        }))
    }

    /// Every finding of a review with what became of it, in row order.
    pub async fn review_finding_notes(
        &self,
        review: ReviewId,
    ) -> Result<Vec<NotedFinding>, StoreError> {
        let sql =
            "SELECT id, patch_index, file, line_start, problem, status, status_reason, carry, \
                   earlier_finding_id, wording FROM findings WHERE review_id = $1 ORDER BY id";
        let rows: Vec<NotedRow> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(review.0).fetch_all(pool).await)
                .context(|| {
                    format!("reading what became of the findings of review {}", review.0)
                })?;
        Ok(rows
            .into_iter()
            .map(
                |(id, patch, file, start, problem, status, reason, carry, earlier, wording)| {
                    NotedFinding {
                        id: FindingId(id),
                        patch_index: number(patch),
                        file,
                        line_start: number(start),
                        problem,
                        notes: FindingNotes {
                            status: Some(status),
                            status_reason: reason,
                            carry,
                            earlier_finding: earlier.map(FindingId),
                            wording,
                        },
                    }
                },
            )
            .collect())
    }

    /// The earlier review a review carried findings forward from.
    pub async fn earlier_review_of(
        &self,
        review: ReviewId,
    ) -> Result<Option<ReviewId>, StoreError> {
        let sql = "SELECT earlier_review_id FROM reviews WHERE id = $1";
        let id: Option<Option<i64>> =
            on_pool!(self, pool => sqlx::query_scalar(sql).bind(review.0).fetch_optional(pool).await)
                .context(|| format!("reading the earlier review of review {}", review.0))?;
        Ok(id.flatten().map(ReviewId))
    }
}
