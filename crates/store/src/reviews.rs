//! Review runs and their findings.
//!
//! A review starts as `running` (with a lease, see [`crate::liveness`]) and
//! is finished exactly once, in one transaction with all of its findings,
//! so a half-finished review is never stored as finished. A review run by a
//! job attempt can only be finished while that attempt holds the job, like
//! the job itself. Finishing also links findings to bugs: a finding whose
//! fingerprint matches a bug links to it, and a pre-existing finding of a
//! trustworthy review (finished or partial) opens a bug. This module must
//! never change a finished or interrupted review.

use sqlx::types::Json;

use crate::bugs::{link_finding, subsystem_from_path, BugState, LinkRequest};
use crate::error::QueryContext;
use crate::types::to_i64;
use crate::versions::{FindingNotes, OutcomeNotes};
use crate::{
    on_pool, FindingId, NewFinding, NewReview, ReviewId, ReviewOutcome, ReviewStatus, Store,
    StoreError,
};

/// What [`Store::finish_review_with_ids`] stored.
#[derive(Clone, Debug, Default)]
pub struct FinishedReview {
    /// Row ids of the findings, in the order given.
    pub findings: Vec<FindingId>,
    /// How many bugs the review opened.
    pub bugs_opened: u32,
    /// How many findings were linked to a bug that already existed.
    pub bugs_linked: u32,
}

impl Store {
    /// Records the start of a review; its status is `running`, with a
    /// lease of [`Store::review_lease`] (renew it with
    /// [`Store::keep_review_alive`]). Inside [`crate::run_as_job_attempt`]
    /// the review records that job attempt. Reviews whose runner is gone
    /// are marked interrupted first.
    pub async fn start_review(&self, review: &NewReview) -> Result<ReviewId, StoreError> {
        self.interrupt_stale_reviews().await?;
        let sql = self.sql(
            "INSERT INTO reviews (series_version_id, status, provider, model, prompt_set_hash, guides, runs, started_at, \
             job_id, job_attempt, lease_until, heartbeat_at) \
             VALUES ($1, 'running', $2, $3, $4, $5, $6, {now}, $7, $8, {now} + $9, {now}) RETURNING id",
        );
        let job = crate::liveness::current_job_attempt();
        let lease = i64::try_from(self.review_lease().as_millis()).unwrap_or(i64::MAX);
        let id: i64 = on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(review.series_version.0)
            .bind(review.provider.as_deref())
            .bind(review.model.as_deref())
            .bind(&review.prompt_set_hash)
            .bind(Json(&review.guides))
            .bind(to_i64(review.runs))
            .bind(job.map(|(job_id, _)| job_id))
            .bind(job.map(|(_, attempt)| attempt))
            .bind(lease)
            .fetch_one(pool)
            .await)
        .context(|| {
            format!(
                "starting a review of series version {}",
                review.series_version.0
            )
        })?;
        Ok(ReviewId(id))
    }

    /// Stores how a running review ended, with its findings, in one
    /// transaction.
    pub async fn finish_review(
        &self,
        id: ReviewId,
        outcome: &ReviewOutcome,
    ) -> Result<(), StoreError> {
        self.finish_review_with_ids(id, outcome).await.map(|_| ())
    }

    /// Like [`Store::finish_review`], returning the finding ids and what
    /// happened to bugs.
    pub async fn finish_review_with_ids(
        &self,
        id: ReviewId,
        outcome: &ReviewOutcome,
    ) -> Result<FinishedReview, StoreError> {
        self.finish_review_noted(id, outcome, &OutcomeNotes::default())
            .await
    }

    /// Like [`Store::finish_review_with_ids`], storing with the findings
    /// what became of each ([`OutcomeNotes`]): unreported findings are
    /// kept (after the reported ones, in `FinishedReview::findings` too)
    /// but never open or link a bug.
    pub async fn finish_review_noted(
        &self,
        id: ReviewId,
        outcome: &ReviewOutcome,
        notes: &OutcomeNotes,
    ) -> Result<FinishedReview, StoreError> {
        let update = self.sql(
            "UPDATE reviews SET status = $1, usage = $2, cost_usd = $3, skipped_stages = $4, error = $5, \
             wall_ms = $6, finished_at = {now}, lease_until = NULL WHERE id = $7 AND status = 'running'",
        );
        let job_sql = "SELECT job_id FROM reviews WHERE id = $1";
        let job_sweep = self.job_sweep_sql(true);
        let state_sql = "SELECT status, error FROM reviews WHERE id = $1";
        let insert = self.sql(
            "INSERT INTO findings (review_id, patch_index, file, line_start, line_end, stage, severity, problem, \
             severity_explanation, preexisting, locations, evidence, model, prompt_set_hash, fingerprint, \
             status, status_reason, carry, earlier_finding_id, wording, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, {now}) \
             RETURNING id",
        );
        let earlier_sql = "UPDATE reviews SET earlier_review_id = $1 WHERE id = $2";
        let interdiff_sql = "UPDATE reviews SET interdiff = $1 WHERE id = $2";
        let default_notes = FindingNotes::default();
        let all: Vec<(&NewFinding, &FindingNotes)> = outcome
            .findings
            .iter()
            .enumerate()
            .map(|(at, finding)| (finding, notes.findings.get(at).unwrap_or(&default_notes)))
            .chain(
                notes
                    .unreported
                    .iter()
                    .map(|(finding, notes)| (finding, notes)),
            )
            .collect();
        let series_version_sql = "SELECT series_version_id FROM reviews WHERE id = $1";
        let bug_sql = self.bug_sql();
        let begin = self.begin_statement();
        let trusted = matches!(
            outcome.status,
            ReviewStatus::Finished | ReviewStatus::Partial
        );
        let what = || format!("finishing review {} as {}", id.0, outcome.status.as_str());
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.context(what)?;
            // A review of a job attempt that lost its job is interrupted, not finished.
            let job: Option<Option<i64>> = sqlx::query_scalar(job_sql)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await
                .context(what)?;
            if let Some(Some(job)) = job {
                sqlx::query(&job_sweep).bind(job).execute(&mut *tx).await.context(what)?;
            }
            let changed = sqlx::query(&update)
                .bind(outcome.status.as_str())
                .bind(Json(&outcome.usage))
                .bind(outcome.cost_usd)
                .bind(Json(&outcome.skipped_stages))
                .bind(outcome.error.as_deref().map(crate::text::stored_error))
                .bind(to_i64(outcome.wall_ms))
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .context(what)?
                .rows_affected();
            if changed == 0 {
                let state: Option<(String, Option<String>)> = sqlx::query_as(state_sql)
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .context(what)?;
                // Keep what the sweep marked, then refuse.
                tx.commit().await.context(what)?;
                return Err(StoreError::Invalid(match state {
                    None => format!("finishing review {}: no review with that id", id.0),
                    Some((status, error)) => format!(
                        "finishing review {}: it is {status}, not running{}; its outcome is not stored",
                        id.0,
                        error.map(|error| format!(" ({error})")).unwrap_or_default()
                    ),
                }));
            }
            let series_version_id: i64 = sqlx::query_scalar(series_version_sql)
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await
                .context(what)?;
            if let Some(earlier) = notes.earlier_review {
                sqlx::query(earlier_sql).bind(earlier.0).bind(id.0).execute(&mut *tx).await.context(what)?;
            }
            if let Some(interdiff) = &notes.interdiff {
                sqlx::query(interdiff_sql).bind(Json(interdiff)).bind(id.0).execute(&mut *tx).await.context(what)?;
            }
            let mut finished = FinishedReview::default();
            for (finding, finding_notes) in all.iter().copied() {
                let finding_id: i64 = sqlx::query_scalar(&insert)
                    .bind(id.0)
                    .bind(to_i64(finding.patch_index))
                    .bind(&finding.file)
                    .bind(to_i64(finding.line_start))
                    .bind(to_i64(finding.line_end))
                    .bind(&finding.stage)
                    .bind(&finding.severity)
                    .bind(&finding.problem)
                    .bind(&finding.severity_explanation)
                    .bind(finding.preexisting)
                    .bind(Json(&finding.locations))
                    .bind(finding.evidence.as_ref().map(Json))
                    .bind(finding.model.as_deref())
                    .bind(&finding.prompt_set_hash)
                    .bind(&finding.fingerprint)
                    .bind(finding_notes.status())
                    .bind(finding_notes.status_reason.as_deref())
                    .bind(finding_notes.carry.as_deref())
                    .bind(finding_notes.earlier_finding.map(|f| f.0))
                    .bind(finding_notes.wording.as_deref())
                    .fetch_one(&mut *tx)
                    .await
                    .context(|| format!("storing finding at {}:{} of review {}", finding.file, finding.line_start, id.0))?;
                finished.findings.push(FindingId(finding_id));
                if finding_notes.status() != "reported" {
                    continue;
                }
                let request = LinkRequest {
                    finding_id,
                    fingerprint: &finding.fingerprint,
                    subsystem: finding
                        .subsystem
                        .clone()
                        .unwrap_or_else(|| subsystem_from_path(&finding.file)),
                    severity: &finding.severity,
                    title: &finding.problem,
                    file: &finding.file,
                    line_start: to_i64(finding.line_start),
                    line_end: to_i64(finding.line_end),
                    preexisting: finding.preexisting,
                    series_version_id: Some(series_version_id),
                    create_state: (trusted && finding.preexisting).then_some(BugState::Open),
                    actor: "sashiko",
                    reason: format!("reported as pre-existing by review {}", id.0),
                };
                match link_finding!(&bug_sql, tx, &request)? {
                    Some((_, true)) => finished.bugs_opened += 1,
                    Some((_, false)) => finished.bugs_linked += 1,
                    None => {}
                }
            }
            tx.commit().await.context(what)?;
            Ok(finished)
        })
    }

    /// The status of a review (`running`, `finished`, `failed`, `partial`,
    /// `compromised`, `interrupted`).
    pub async fn review_status(&self, id: ReviewId) -> Result<Option<String>, StoreError> {
        let sql = "SELECT status FROM reviews WHERE id = $1";
        on_pool!(self, pool => sqlx::query_scalar(sql).bind(id.0).fetch_optional(pool).await)
            .context(|| format!("reading the status of review {}", id.0))
    }
}
