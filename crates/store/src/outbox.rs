//! The mail outbox: replies are written here in the same run that
//! produced them and sent later by whoever holds SMTP credentials.
//!
//! Each mail has an idempotency key (e.g. review id + patch), so producing
//! the same reply twice queues it once. States: `queued` (due at
//! `next_attempt_at`), `sending` (claimed by a sender), `sent`, `dead`
//! (out of attempts). A sender that stops while `sending` cannot tell
//! whether the server accepted the mail: such a mail is only requeued by
//! [`Store::outbox_recover_stale`] after a timeout the operator chooses,
//! and its last error says it may be a duplicate. This module never sends
//! mail itself and never deletes it.

use std::time::Duration;

use serde::Serialize;
use sqlx::types::Json;

use crate::error::QueryContext;
use crate::queue::QueueConfig;
use crate::{on_pool, BackendKind, ReviewId, Store, StoreError};

/// Row id of a mail in the outbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct MailId(pub i64);

/// A mail to queue.
#[derive(Clone, Debug)]
pub struct NewMail {
    /// Same key, same mail: queued once.
    pub idempotency_key: String,
    /// The review it replies with, if any.
    pub review_id: Option<ReviewId>,
    /// To and Cc addresses.
    pub recipients: Vec<String>,
    /// Subject.
    pub subject: String,
    /// Message-ID it replies to.
    pub in_reply_to: Option<String>,
    /// The whole message, headers and body, as it will be sent.
    pub body: Vec<u8>,
    /// Attempts before the mail is dead.
    pub max_attempts: u32,
}

/// A mail claimed for sending.
#[derive(Clone, Debug, Serialize)]
pub struct OutgoingMail {
    /// Row id.
    pub id: MailId,
    /// Idempotency key.
    pub idempotency_key: String,
    /// Recipients.
    pub recipients: Vec<String>,
    /// Subject.
    pub subject: String,
    /// In-Reply-To.
    pub in_reply_to: Option<String>,
    /// The message.
    pub body: Vec<u8>,
    /// This attempt's number; fences the result.
    pub attempt: i64,
}

/// What [`Store::outbox_enqueue`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum MailQueued {
    /// Queued now.
    Added(MailId),
    /// A mail with this idempotency key was already in the outbox.
    Existing(MailId),
}

type MailRow = (
    i64,
    String,
    Json<Vec<String>>,
    String,
    Option<String>,
    Vec<u8>,
    i64,
);

fn mail_from_row(
    (id, idempotency_key, recipients, subject, in_reply_to, body, attempt): MailRow,
) -> OutgoingMail {
    OutgoingMail {
        id: MailId(id),
        idempotency_key,
        recipients: recipients.0,
        subject,
        in_reply_to,
        body,
        attempt,
    }
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Store {
    /// Queues a mail unless one with its idempotency key exists.
    pub async fn outbox_enqueue(&self, mail: &NewMail) -> Result<MailQueued, StoreError> {
        let insert = self.sql(
            "INSERT INTO outbox (idempotency_key, review_id, recipients, subject, in_reply_to, body, state, attempts, \
             max_attempts, next_attempt_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, $7, {now}, {now}, {now}) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        );
        let select = "SELECT id FROM outbox WHERE idempotency_key = $1";
        let what = || format!("queueing mail {:?}", mail.idempotency_key);
        on_pool!(self, pool => {
            let inserted: Option<i64> = sqlx::query_scalar(&insert)
                .bind(&mail.idempotency_key)
                .bind(mail.review_id.map(|review| review.0))
                .bind(Json(&mail.recipients))
                .bind(crate::storable_text(&mail.subject).as_ref())
                .bind(mail.in_reply_to.as_deref().map(crate::storable_text).as_deref())
                .bind(&mail.body)
                .bind(i64::from(mail.max_attempts.max(1)))
                .fetch_optional(pool)
                .await
                .context(what)?;
            match inserted {
                Some(id) => Ok(MailQueued::Added(MailId(id))),
                None => {
                    let id: i64 = sqlx::query_scalar(select).bind(&mail.idempotency_key).fetch_one(pool).await.context(what)?;
                    Ok(MailQueued::Existing(MailId(id)))
                }
            }
        })
    }

    /// Claims up to `limit` due mails for sending.
    pub async fn outbox_claim_due(&self, limit: u32) -> Result<Vec<OutgoingMail>, StoreError> {
        let lock = match self.backend() {
            BackendKind::Postgres => "FOR UPDATE SKIP LOCKED",
            BackendKind::Sqlite => "",
        };
        let sql = self.sql(&format!(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = {{now}} \
             WHERE id IN (SELECT id FROM outbox WHERE state = 'queued' AND next_attempt_at <= {{now}} \
                          ORDER BY next_attempt_at, id LIMIT $1 {lock}) \
             RETURNING id, idempotency_key, recipients, subject, in_reply_to, body, attempts"
        ));
        let begin = self.begin_statement();
        let what = || "claiming due mail from the outbox".to_string();
        let rows: Vec<MailRow> = on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.context(what)?;
            let rows = sqlx::query_as(&sql).bind(i64::from(limit)).fetch_all(&mut *tx).await.context(what)?;
            tx.commit().await.context(what)?;
            rows
        });
        let mut mails: Vec<OutgoingMail> = rows.into_iter().map(mail_from_row).collect();
        mails.sort_by_key(|mail| mail.id.0);
        Ok(mails)
    }

    /// Records that a claimed mail was accepted by the server.
    pub async fn outbox_mark_sent(&self, mail: &OutgoingMail) -> Result<(), StoreError> {
        let sql = self.sql(
            "UPDATE outbox SET state = 'sent', sent_at = {now}, updated_at = {now}, last_error = NULL \
             WHERE id = $1 AND state = 'sending' AND attempts = $2",
        );
        let changed = on_pool!(self, pool => sqlx::query(&sql).bind(mail.id.0).bind(mail.attempt).execute(pool).await.map(|done| done.rows_affected()))
            .context(|| format!("marking mail {} sent", mail.id.0))?;
        if changed == 0 {
            return Err(StoreError::Invalid(format!(
                "marking mail {} sent: attempt {} no longer holds it",
                mail.id.0, mail.attempt
            )));
        }
        Ok(())
    }

    /// Records a failed send: queued again after the retry delay, or dead
    /// when out of attempts or `permanent`. Returns the new state.
    pub async fn outbox_mark_failed(
        &self,
        mail: &OutgoingMail,
        error: &str,
        permanent: bool,
        retry: &QueueConfig,
    ) -> Result<String, StoreError> {
        let sql = self.sql(
            "UPDATE outbox SET state = CASE WHEN $3 OR attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
             next_attempt_at = {now} + $4, last_error = $5, updated_at = {now} \
             WHERE id = $1 AND state = 'sending' AND attempts = $2 RETURNING state",
        );
        let state: Option<String> = on_pool!(self, pool => sqlx::query_scalar(&sql)
            .bind(mail.id.0)
            .bind(mail.attempt)
            .bind(permanent)
            .bind(millis(retry.retry_delay(mail.attempt)))
            .bind(crate::text::stored_error(error))
            .fetch_optional(pool)
            .await)
        .context(|| format!("recording the failure to send mail {}", mail.id.0))?;
        state.ok_or_else(|| {
            StoreError::Invalid(format!(
                "failing mail {}: attempt {} no longer holds it",
                mail.id.0, mail.attempt
            ))
        })
    }

    /// Requeues mails left `sending` for longer than `timeout` (their sender
    /// stopped); they may already have been delivered. Returns how many.
    pub async fn outbox_recover_stale(&self, timeout: Duration) -> Result<u64, StoreError> {
        let sql = self.sql(
            "UPDATE outbox SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, \
             last_error = 'the sender stopped while sending; the server may have accepted it already', \
             updated_at = {now} WHERE state = 'sending' AND updated_at < {now} - $1",
        );
        on_pool!(self, pool => sqlx::query(&sql).bind(millis(timeout)).execute(pool).await.map(|done| done.rows_affected()))
            .context(|| "recovering stale outbox mail".to_string())
    }

    /// The state and attempts of a mail.
    pub async fn outbox_state(
        &self,
        id: MailId,
    ) -> Result<Option<(String, i64, Option<String>)>, StoreError> {
        let sql = "SELECT state, attempts, last_error FROM outbox WHERE id = $1";
        on_pool!(self, pool => sqlx::query_as(sql).bind(id.0).fetch_optional(pool).await)
            .context(|| format!("reading the state of mail {}", id.0))
    }
}
