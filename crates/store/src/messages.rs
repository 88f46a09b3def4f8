//! Messages, lists, series, series versions and patches.
//!
//! Every write here is idempotent: a message on its Message-ID, a series on
//! its key, a version on (series, version), a patch on (version, index), so
//! ingesting or reviewing the same input twice stores nothing twice. This
//! module must never rewrite a stored message's raw bytes.
//!
//! Text derived from mail (ids, subjects, authors, commit messages, diffs)
//! is untrusted and goes through [`storable_text`] on the way in and in
//! lookups, so a NUL in it neither fails an insert on PostgreSQL nor makes
//! a lookup miss what was stored.

use crate::error::QueryContext;
use crate::text::{storable_opt, storable_text};
use crate::types::to_i64;
use crate::{
    on_pool, MessageKey, NewMessage, NewSeriesVersion, SeriesVersionId, Store, StoreError,
};

impl Store {
    /// The statement that opens a write transaction: `BEGIN IMMEDIATE` on
    /// SQLite takes the write lock up front, so a transaction never fails
    /// half-way on a lock upgrade; PostgreSQL locks rows as it goes.
    pub(crate) fn begin_statement(&self) -> &'static str {
        match self.backend() {
            crate::BackendKind::Sqlite => "BEGIN IMMEDIATE",
            crate::BackendKind::Postgres => "BEGIN",
        }
    }

    /// Stores a message unless one with its Message-ID exists; returns its
    /// row id and whether it was inserted now.
    pub async fn upsert_message(&self, message: &NewMessage<'_>) -> Result<MessageKey, StoreError> {
        let list_id = match message.list {
            Some(list) => Some(self.upsert_list(list).await?),
            None => None,
        };
        let insert = self.sql(
            "INSERT INTO messages (message_id, list_id, subject, author, date, in_reply_to, raw, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, {now}) \
             ON CONFLICT (message_id) DO NOTHING RETURNING id",
        );
        let message_id = storable_text(message.message_id);
        let inserted: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(&insert)
            .bind(message_id.as_ref())
            .bind(list_id)
            .bind(storable_text(message.subject).as_ref())
            .bind(storable_text(message.author).as_ref())
            .bind(storable_opt(message.date.as_deref()).as_deref())
            .bind(storable_opt(message.in_reply_to).as_deref())
            .bind(message.raw)
            .fetch_optional(pool)
            .await)
        .context(|| format!("storing message <{}>", message.message_id))?;
        if let Some(id) = inserted {
            return Ok(MessageKey { id, inserted: true });
        }
        let select = "SELECT id FROM messages WHERE message_id = $1";
        let id: i64 = on_pool!(self, pool => sqlx::query_scalar(select)
            .bind(message_id.as_ref())
            .fetch_one(pool)
            .await)
        .context(|| format!("looking up stored message <{}>", message.message_id))?;
        Ok(MessageKey {
            id,
            inserted: false,
        })
    }

    /// The raw bytes of a stored message.
    pub async fn message_raw(&self, message_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = "SELECT raw FROM messages WHERE message_id = $1";
        let key = storable_text(message_id);
        on_pool!(self, pool => sqlx::query_scalar(sql).bind(key.as_ref()).fetch_optional(pool).await)
            .context(|| format!("reading message <{message_id}>"))
    }

    /// Row id of the list named `name`, created if new.
    pub async fn upsert_list(&self, name: &str) -> Result<i64, StoreError> {
        let insert = self.sql(
            "INSERT INTO lists (name, created_at) VALUES ($1, {now}) ON CONFLICT (name) DO NOTHING",
        );
        let select = "SELECT id FROM lists WHERE name = $1";
        let name_text = storable_text(name);
        let name = name_text.as_ref();
        on_pool!(self, pool => {
            match sqlx::query(&insert).bind(name).execute(pool).await {
                Ok(_) => sqlx::query_scalar(select).bind(name).fetch_one(pool).await,
                Err(error) => Err(error),
            }
        })
        .context(|| format!("storing list {name:?}"))
    }

    /// Stores a series version and its patches unless already stored;
    /// returns the version's row id either way.
    pub async fn upsert_series_version(
        &self,
        series: &NewSeriesVersion,
    ) -> Result<SeriesVersionId, StoreError> {
        let series_sql = self.sql(
            "INSERT INTO series (series_key, title, author, created_at, updated_at) \
             VALUES ($1, $2, $3, {now}, {now}) \
             ON CONFLICT (series_key) DO UPDATE SET updated_at = excluded.updated_at RETURNING id",
        );
        let version_sql = self.sql(
            "INSERT INTO series_versions (series_id, version, total, title, author, cover_message_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, {now}) \
             ON CONFLICT (series_id, version) DO UPDATE SET \
             cover_message_id = COALESCE(series_versions.cover_message_id, excluded.cover_message_id) \
             RETURNING id",
        );
        let patch_sql = self.sql(
            "INSERT INTO patches (series_version_id, patch_index, message_id, subject, author, \
             commit_message, diff, patch_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {now}) \
             ON CONFLICT (series_version_id, patch_index) DO NOTHING",
        );
        let begin = self.begin_statement();
        let what = || {
            format!(
                "storing version {} of series {:?}",
                series.version, series.series_key
            )
        };
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.context(what)?;
            let series_id: i64 = sqlx::query_scalar(&series_sql)
                .bind(storable_text(&series.series_key).as_ref())
                .bind(storable_text(&series.title).as_ref())
                .bind(storable_text(&series.author).as_ref())
                .fetch_one(&mut *tx)
                .await
                .context(what)?;
            let version_id: i64 = sqlx::query_scalar(&version_sql)
                .bind(series_id)
                .bind(to_i64(series.version))
                .bind(to_i64(series.total))
                .bind(storable_text(&series.title).as_ref())
                .bind(storable_text(&series.author).as_ref())
                .bind(storable_opt(series.cover_message_id.as_deref()).as_deref())
                .fetch_one(&mut *tx)
                .await
                .context(what)?;
            for patch in &series.patches {
                sqlx::query(&patch_sql)
                    .bind(version_id)
                    .bind(to_i64(patch.index))
                    .bind(storable_text(&patch.message_id).as_ref())
                    .bind(storable_text(&patch.subject).as_ref())
                    .bind(storable_text(&patch.author).as_ref())
                    .bind(storable_text(&patch.commit_message).as_ref())
                    .bind(storable_text(&patch.diff).as_ref())
                    .bind(storable_opt(patch.patch_id.as_deref()).as_deref())
                    .execute(&mut *tx)
                    .await
                    .context(|| format!("storing patch {} <{}> of series {:?}", patch.index, patch.message_id, series.series_key))?;
            }
            tx.commit().await.context(what)?;
            Ok(SeriesVersionId(version_id))
        })
    }
}
