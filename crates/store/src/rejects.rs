//! Messages the database refused, kept with the reason.
//!
//! Ingest must never stall on one message: when the database refuses a
//! message for what it contains ([`StoreError::refuses_input`]), ingest
//! records it here (where the source handed it out, the reason, the raw
//! bytes) and moves its cursor on. Recording is idempotent on (source,
//! location), so a re-run after a crash does not record it twice. This
//! module must never drop the raw bytes: they are what an operator replays.

use crate::error::QueryContext;
use crate::text::{storable_opt, storable_text};
use crate::{on_pool, Store, StoreError};

/// A refused message to record.
#[derive(Clone, Debug)]
pub struct NewReject<'a> {
    /// The source's cursor key (`mbox:/path`, `nntp://host/group`).
    pub source: &'a str,
    /// Where in the source (`byte 1234`, `article 17`).
    pub location: &'a str,
    /// Its Message-ID, when the parser found one.
    pub message_id: Option<&'a str>,
    /// Why the database refused it.
    pub reason: &'a str,
    /// The message as received.
    pub raw: &'a [u8],
}

/// A recorded refusal.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct IngestReject {
    pub id: i64,
    pub source: String,
    pub location: String,
    pub message_id: Option<String>,
    pub reason: String,
    /// Size of the raw message in bytes.
    pub size: i64,
    /// When it was recorded (epoch milliseconds).
    pub created_at: i64,
}

type RejectRow = (i64, String, String, Option<String>, String, i64, i64);

impl Store {
    /// Records a refused message; false when it was recorded before.
    pub async fn record_ingest_reject(&self, reject: &NewReject<'_>) -> Result<bool, StoreError> {
        let sql = self.sql(
            "INSERT INTO ingest_rejects (source, location, message_id, reason, raw, created_at) \
             VALUES ($1, $2, $3, $4, $5, {now}) ON CONFLICT (source, location) DO NOTHING",
        );
        let done = on_pool!(self, pool => sqlx::query(&sql)
            .bind(storable_text(reject.source).as_ref())
            .bind(storable_text(reject.location).as_ref())
            .bind(storable_opt(reject.message_id).as_deref())
            .bind(storable_text(reject.reason).as_ref())
            .bind(reject.raw)
            .execute(pool)
            .await
            .map(|result| result.rows_affected()))
        .context(|| {
            format!(
                "recording the refused message at {} {}",
                reject.source, reject.location
            )
        })?;
        Ok(done > 0)
    }

    /// Recorded refusals, newest first, at most `limit`.
    pub async fn ingest_rejects(&self, limit: i64) -> Result<Vec<IngestReject>, StoreError> {
        let sql = "SELECT id, source, location, message_id, reason, \
                   CAST(LENGTH(raw) AS BIGINT), created_at \
                   FROM ingest_rejects ORDER BY id DESC LIMIT $1";
        let rows: Vec<RejectRow> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(limit).fetch_all(pool).await)
                .context(|| "listing refused messages".to_owned())?;
        Ok(rows
            .into_iter()
            .map(
                |(id, source, location, message_id, reason, size, created_at)| IngestReject {
                    id,
                    source,
                    location,
                    message_id,
                    reason,
                    size,
                    created_at,
                },
            )
            .collect())
    }
}
