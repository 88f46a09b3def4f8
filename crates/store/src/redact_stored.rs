//! Failure reasons stored before redaction existed, redacted once.
//!
//! `reviews.error`, `jobs.last_error` and `outbox.last_error` are written
//! through `text::stored_error` now; rows written by older versions may
//! still quote an LLM base URL with `user:pass` or a DSN with its password,
//! and the web shows `reviews.error` publicly. [`Store::migrate`] calls
//! [`Store::redact_stored_errors`] after the schema migrations. It reads
//! only rows whose text looks like it quotes a URL with userinfo or a
//! secret-named parameter, and rewrites only those whose redaction differs,
//! so running it at every start costs one filtered scan and no writes.

use crate::error::QueryContext;
use crate::text::stored_error;
use crate::{on_pool, Store, StoreError};

/// Table and column of every stored failure reason.
const COLUMNS: [(&str, &str); 3] = [
    ("reviews", "error"),
    ("jobs", "last_error"),
    ("outbox", "last_error"),
];

impl Store {
    /// Redacts secrets in failure reasons stored by older versions;
    /// returns how many rows changed.
    pub async fn redact_stored_errors(&self) -> Result<u64, StoreError> {
        let mut changed = 0;
        for (table, column) in COLUMNS {
            let select = format!(
                "SELECT id, {column} FROM {table} WHERE {column} LIKE '%://%@%' \
                 OR LOWER({column}) LIKE '%password=%' OR LOWER({column}) LIKE '%token=%' \
                 OR LOWER({column}) LIKE '%key=%' OR LOWER({column}) LIKE '%secret=%'"
            );
            let rows: Vec<(i64, String)> =
                on_pool!(self, pool => sqlx::query_as(&select).fetch_all(pool).await)
                    .context(|| format!("reading {table}.{column} to redact it"))?;
            let update = format!("UPDATE {table} SET {column} = $1 WHERE id = $2");
            for (id, text) in rows {
                let redacted = stored_error(&text);
                if redacted == text {
                    continue;
                }
                on_pool!(self, pool => sqlx::query(&update).bind(&redacted).bind(id).execute(pool).await.map(|_| ()))
                    .context(|| format!("redacting {table}.{column} of row {id}"))?;
                changed += 1;
            }
        }
        Ok(changed)
    }
}
