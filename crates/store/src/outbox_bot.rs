//! Queries the list bot needs beyond the outbox and feedback basics:
//! deferring a queued mail (embargo, quiet hours, daily cap), counting
//! mail to a list, "was this patch answered already", "was this series
//! version reviewed already", reading a review's findings back, and
//! feedback per stage and prompt set for `sashiko stats`.
//!
//! Owned by the bot (crates/bot); read-only except [`Store::outbox_defer`],
//! which only moves the due time of a still-queued mail. It must never
//! send, delete or re-address mail.

use serde::Serialize;

use crate::error::QueryContext;
use crate::{on_pool, FindingId, ReviewId, Store, StoreError};

/// A finding as stored, for replies and feedback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StoredFinding {
    /// Row id.
    pub id: FindingId,
    /// 1-based patch position.
    pub patch_index: u32,
    /// The file.
    pub file: String,
    /// First line.
    pub line_start: u32,
    /// Last line.
    pub line_end: u32,
    /// The stage that found it.
    pub stage: String,
    /// Severity name.
    pub severity: String,
    /// The problem text.
    pub problem: String,
    /// Why that severity.
    pub severity_explanation: String,
    /// Not introduced by the patch.
    pub preexisting: bool,
    /// The report stage's checked wording of the reply comment, if any.
    pub wording: Option<String>,
}

/// Model and prompt set of a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewProvenance {
    /// The model, if one ran.
    pub model: Option<String>,
    /// The prompt-set hash.
    pub prompt_set_hash: String,
    /// The review's status.
    pub status: String,
}

/// Verdict counts of one stage under one prompt set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StagePromptFeedback {
    /// The stage.
    pub stage: String,
    /// The prompt-set hash of the findings' review.
    pub prompt_set_hash: String,
    /// Replies agreeing.
    pub agree: i64,
    /// Replies disagreeing.
    pub disagree: i64,
    /// Replies saying it was fixed.
    pub fixed: i64,
}

type FindingRow = (
    i64,
    i64,
    String,
    i64,
    i64,
    String,
    String,
    String,
    String,
    bool,
    Option<String>,
);

impl Store {
    /// Moves the due time of a queued mail to `until_ms` (epoch
    /// milliseconds); a mail no longer queued is left alone. Returns
    /// whether it moved.
    pub async fn outbox_defer(
        &self,
        idempotency_key: &str,
        until_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE outbox SET next_attempt_at = $2 WHERE idempotency_key = $1 AND state = 'queued'";
        let changed = on_pool!(self, pool => sqlx::query(sql).bind(idempotency_key).bind(until_ms).execute(pool).await.map(|done| done.rows_affected()))
            .context(|| format!("deferring mail {idempotency_key:?}"))?;
        Ok(changed > 0)
    }

    /// Mails (any state) queued since `since_ms` whose recipients include
    /// `address` (compared case-insensitively).
    pub async fn outbox_count_to_since(
        &self,
        address: &str,
        since_ms: i64,
    ) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM outbox WHERE created_at >= $1 AND LOWER(CAST(recipients AS TEXT)) LIKE $2";
        let pattern = format!("%\"{}\"%", address.to_lowercase().replace(['%', '_'], ""));
        on_pool!(self, pool => sqlx::query_scalar::<_, i64>(sql).bind(since_ms).bind(&pattern).fetch_one(pool).await)
            .context(|| format!("counting mail to {address}"))
    }

    /// Whether any mail (in any state, dead included) answers `message_id`.
    pub async fn outbox_has_reply_to(&self, message_id: &str) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM outbox WHERE in_reply_to = $1";
        let count: i64 =
            on_pool!(self, pool => sqlx::query_scalar(sql).bind(crate::storable_text(message_id).as_ref()).fetch_one(pool).await)
                .context(|| format!("looking for replies to <{message_id}>"))?;
        Ok(count > 0)
    }

    /// Mails per state.
    pub async fn outbox_states(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = "SELECT state, COUNT(*) FROM outbox GROUP BY state ORDER BY state";
        on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)
            .context(|| "counting outbox states".to_string())
    }

    /// The newest finished (or compromised) review of version `version` of
    /// the series `series_key`.
    pub async fn reviewed_version(
        &self,
        series_key: &str,
        version: u32,
    ) -> Result<Option<ReviewId>, StoreError> {
        let sql = "SELECT r.id FROM reviews r JOIN series_versions v ON v.id = r.series_version_id \
                   JOIN series s ON s.id = v.series_id \
                   WHERE s.series_key = $1 AND v.version = $2 AND r.status IN ('finished', 'compromised', 'partial') \
                   ORDER BY r.id DESC LIMIT 1";
        let id: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(sql).bind(crate::storable_text(series_key).as_ref()).bind(i64::from(version)).fetch_optional(pool).await)
            .context(|| format!("looking for a review of {series_key:?} v{version}"))?;
        Ok(id.map(ReviewId))
    }

    /// The reported findings of a review, in row order (findings kept but
    /// not reported, such as those fixed later in the series, are left out).
    pub async fn review_findings(
        &self,
        review: ReviewId,
    ) -> Result<Vec<StoredFinding>, StoreError> {
        let sql = "SELECT id, patch_index, file, line_start, line_end, stage, severity, problem, severity_explanation, preexisting, wording \
                   FROM findings WHERE review_id = $1 AND status = 'reported' ORDER BY id";
        let rows: Vec<FindingRow> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(review.0).fetch_all(pool).await)
                .context(|| format!("reading the findings of review {}", review.0))?;
        let number = |value: i64| u32::try_from(value).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(
                |(
                    id,
                    patch_index,
                    file,
                    start,
                    end,
                    stage,
                    severity,
                    problem,
                    severity_explanation,
                    preexisting,
                    wording,
                )| {
                    StoredFinding {
                        id: FindingId(id),
                        patch_index: number(patch_index),
                        file,
                        line_start: number(start),
                        line_end: number(end),
                        stage,
                        severity,
                        problem,
                        severity_explanation,
                        preexisting,
                        wording,
                    }
                },
            )
            .collect())
    }

    /// Model, prompt set and status of a review.
    pub async fn review_provenance(
        &self,
        review: ReviewId,
    ) -> Result<Option<ReviewProvenance>, StoreError> {
        let sql = "SELECT model, prompt_set_hash, status FROM reviews WHERE id = $1";
        let row: Option<(Option<String>, String, String)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(review.0).fetch_optional(pool).await)
                .context(|| format!("reading review {}", review.0))?;
        Ok(
            row.map(|(model, prompt_set_hash, status)| ReviewProvenance {
                model,
                prompt_set_hash,
                status,
            }),
        )
    }

    /// Raw messages stored for list `list` since `since_ms` (epoch
    /// milliseconds of storing), oldest first, with when each was stored.
    pub async fn list_messages_since(
        &self,
        list: &str,
        since_ms: i64,
    ) -> Result<Vec<(Vec<u8>, i64)>, StoreError> {
        let sql = "SELECT m.raw, m.created_at FROM messages m JOIN lists l ON l.id = m.list_id \
                   WHERE l.name = $1 AND m.created_at >= $2 ORDER BY m.id";
        on_pool!(self, pool => sqlx::query_as(sql).bind(crate::storable_text(list).as_ref()).bind(since_ms).fetch_all(pool).await)
            .context(|| format!("reading the messages of list {list}"))
    }

    /// Verdict counts per stage and prompt set, over replies tied to a
    /// finding.
    pub async fn feedback_by_stage_and_prompt_set(
        &self,
    ) -> Result<Vec<StagePromptFeedback>, StoreError> {
        let sql = "SELECT f.stage, f.prompt_set_hash, \
                   SUM(CASE WHEN b.verdict = 'agree' THEN 1 ELSE 0 END), \
                   SUM(CASE WHEN b.verdict = 'disagree' THEN 1 ELSE 0 END), \
                   SUM(CASE WHEN b.verdict = 'fixed' THEN 1 ELSE 0 END) \
                   FROM feedback b JOIN findings f ON f.id = b.finding_id \
                   GROUP BY f.stage, f.prompt_set_hash ORDER BY f.stage, f.prompt_set_hash";
        let rows: Vec<(String, String, i64, i64, i64)> =
            on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)
                .context(|| "summarising feedback by stage and prompt set".to_string())?;
        Ok(rows
            .into_iter()
            .map(
                |(stage, prompt_set_hash, agree, disagree, fixed)| StagePromptFeedback {
                    stage,
                    prompt_set_hash,
                    agree,
                    disagree,
                    fixed,
                },
            )
            .collect())
    }
}
