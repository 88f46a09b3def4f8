//! Feedback: replies to our reviews, classified as agree, disagree or
//! fixed, so precision can be measured per stage.
//!
//! Idempotent on the reply's Message-ID. This module records verdicts; it
//! must never classify a reply itself (that is the mail parser's job) nor
//! change a bug's state on its own.

use serde::Serialize;

use crate::error::QueryContext;
use crate::{on_pool, BugId, FindingId, ReviewId, Store, StoreError};

/// What a reply said about our finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// The author agrees it is a problem.
    Agree,
    /// The author says it is not.
    Disagree,
    /// The author fixed it.
    Fixed,
}

impl Verdict {
    /// The stored value.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Agree => "agree",
            Verdict::Disagree => "disagree",
            Verdict::Fixed => "fixed",
        }
    }
}

/// A reply to record.
#[derive(Clone, Debug)]
pub struct NewFeedback<'a> {
    /// The reply's Message-ID.
    pub message_id: &'a str,
    /// The review replied to.
    pub review_id: Option<ReviewId>,
    /// The finding the reply is about, when known.
    pub finding_id: Option<FindingId>,
    /// The bug, when known.
    pub bug_id: Option<BugId>,
    /// Who replied.
    pub author: &'a str,
    /// What they said.
    pub verdict: Verdict,
    /// The relevant text of the reply.
    pub body: &'a str,
}

/// Verdicts on one stage's findings.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StageFeedback {
    /// The stage.
    pub stage: String,
    /// Replies agreeing.
    pub agree: i64,
    /// Replies disagreeing.
    pub disagree: i64,
    /// Replies saying it was fixed.
    pub fixed: i64,
}

impl Store {
    /// Records a reply's verdict; returns false when that reply was already
    /// recorded.
    pub async fn record_feedback(&self, feedback: &NewFeedback<'_>) -> Result<bool, StoreError> {
        let sql = self.sql(
            "INSERT INTO feedback (message_id, review_id, finding_id, bug_id, author, verdict, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, {now}) ON CONFLICT (message_id) DO NOTHING",
        );
        let inserted = on_pool!(self, pool => sqlx::query(&sql)
            .bind(crate::storable_text(feedback.message_id).as_ref())
            .bind(feedback.review_id.map(|id| id.0))
            .bind(feedback.finding_id.map(|id| id.0))
            .bind(feedback.bug_id.map(|id| id.0))
            .bind(crate::storable_text(feedback.author).as_ref())
            .bind(feedback.verdict.as_str())
            .bind(crate::storable_text(feedback.body).as_ref())
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .context(|| format!("recording feedback <{}>", feedback.message_id))?;
        Ok(inserted > 0)
    }

    /// Verdict counts per stage, over replies tied to a finding.
    pub async fn feedback_by_stage(&self) -> Result<Vec<StageFeedback>, StoreError> {
        let sql = "SELECT f.stage, \
                   SUM(CASE WHEN b.verdict = 'agree' THEN 1 ELSE 0 END), \
                   SUM(CASE WHEN b.verdict = 'disagree' THEN 1 ELSE 0 END), \
                   SUM(CASE WHEN b.verdict = 'fixed' THEN 1 ELSE 0 END) \
                   FROM feedback b JOIN findings f ON f.id = b.finding_id GROUP BY f.stage ORDER BY f.stage";
        let rows: Vec<(String, i64, i64, i64)> =
            on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)
                .context(|| "summarising feedback by stage".to_string())?;
        Ok(rows
            .into_iter()
            .map(|(stage, agree, disagree, fixed)| StageFeedback {
                stage,
                agree,
                disagree,
                fixed,
            })
            .collect())
    }
}
