//! What the application layer reads to decide what to queue and how to key
//! it: the newest patch row (the ingest loop's watermark), the series
//! versions that gained patches since a watermark, one stored version with
//! its patches as the review job needs it, whether a job with a dedup key
//! was ever queued, the stored key of a series version that arrives
//! alone, and the fingerprints of bugs maintainers marked known.
//!
//! Only reads, in typed rows; deciding what is complete or what to queue
//! is the caller's.

use std::collections::BTreeSet;

use crate::error::QueryContext;
use crate::types::to_i64;
use crate::{on_pool, SeriesVersionId, Store, StoreError};

/// A series version that gained patch rows after a watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TouchedVersion {
    pub series_version: SeriesVersionId,
    /// The newest of its patch rows (the next watermark candidate).
    pub newest_patch: i64,
}

/// A stored series version with what a review job of it needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionToQueue {
    pub series_version: SeriesVersionId,
    pub series_key: String,
    pub version: u32,
    /// Patches the series announces (`[PATCH n/total]`).
    pub total: u32,
    pub title: String,
    pub author: String,
    pub cover_message_id: Option<String>,
    /// Its stored patches, by index.
    pub patches: Vec<PatchToQueue>,
}

/// One stored patch of a [`VersionToQueue`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PatchToQueue {
    pub index: u32,
    pub message_id: String,
    pub commit_message: String,
}

fn number(value: i64) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

impl Store {
    /// The id of the newest patch row, 0 when there is none.
    pub async fn newest_patch_row(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COALESCE(MAX(id), 0) FROM patches";
        on_pool!(self, pool => sqlx::query_scalar::<_, i64>(sql).fetch_one(pool).await)
            .context(|| "finding the newest patch".to_owned())
    }

    /// Series versions with patch rows newer than `watermark`, by id.
    pub async fn versions_with_patches_after(
        &self,
        watermark: i64,
    ) -> Result<Vec<TouchedVersion>, StoreError> {
        let sql = "SELECT series_version_id, MAX(id) FROM patches WHERE id > $1 \
                   GROUP BY series_version_id ORDER BY series_version_id";
        let rows: Vec<(i64, i64)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(watermark).fetch_all(pool).await)
                .context(|| {
                    format!("finding series versions with patches after row {watermark}")
                })?;
        Ok(rows
            .into_iter()
            .map(|(id, newest)| TouchedVersion {
                series_version: SeriesVersionId(id),
                newest_patch: newest,
            })
            .collect())
    }

    /// One stored series version with its series key and patches.
    pub async fn version_to_queue(
        &self,
        id: SeriesVersionId,
    ) -> Result<Option<VersionToQueue>, StoreError> {
        let what = || format!("reading series version {} to queue", id.0);
        let version_sql = "SELECT s.series_key, v.version, v.total, v.title, v.author, \
                           v.cover_message_id FROM series_versions v \
                           JOIN series s ON s.id = v.series_id WHERE v.id = $1";
        type VersionRow = (String, i64, i64, String, String, Option<String>);
        let version: Option<VersionRow> =
            on_pool!(self, pool => sqlx::query_as(version_sql).bind(id.0).fetch_optional(pool).await)
                .context(what)?;
        let Some((series_key, version, total, title, author, cover_message_id)) = version else {
            return Ok(None);
        };
        let patches_sql = "SELECT patch_index, message_id, commit_message FROM patches \
                           WHERE series_version_id = $1 ORDER BY patch_index";
        let patches: Vec<(i64, String, String)> =
            on_pool!(self, pool => sqlx::query_as(patches_sql).bind(id.0).fetch_all(pool).await)
                .context(what)?;
        Ok(Some(VersionToQueue {
            series_version: id,
            series_key,
            version: number(version),
            total: number(total),
            title,
            author,
            cover_message_id: cover_message_id.filter(|id| !id.is_empty()),
            patches: patches
                .into_iter()
                .map(|(index, message_id, commit_message)| PatchToQueue {
                    index: number(index),
                    message_id,
                    commit_message,
                })
                .collect(),
        }))
    }

    /// True when a job with `dedup_key` was ever queued (in any status).
    pub async fn job_was_queued(&self, dedup_key: &str) -> Result<bool, StoreError> {
        let sql = "SELECT id FROM jobs WHERE dedup_key = $1 LIMIT 1";
        let found: Option<i64> = on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(dedup_key)
            .fetch_optional(pool)
            .await)
        .context(|| format!("looking for a job keyed {dedup_key:?}"))?;
        Ok(found.is_some())
    }

    /// The key of the stored series holding version `version` with the
    /// patch mail `first_patch_message_id`, if one is stored (the oldest
    /// such series when a database holds duplicates).
    pub async fn stored_series_key(
        &self,
        version: u32,
        first_patch_message_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let sql = "SELECT s.series_key FROM patches p \
                   JOIN series_versions v ON v.id = p.series_version_id \
                   JOIN series s ON s.id = v.series_id \
                   WHERE p.message_id = $1 AND v.version = $2 ORDER BY s.id LIMIT 1";
        on_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(first_patch_message_id)
            .bind(to_i64(version))
            .fetch_optional(pool)
            .await)
        .context(|| {
            format!("looking up the stored series of patch <{first_patch_message_id}> v{version}")
        })
    }

    /// Fingerprints of bugs maintainers marked known.
    pub async fn known_bug_fingerprints(&self) -> Result<BTreeSet<String>, StoreError> {
        let sql = "SELECT fingerprint FROM bugs WHERE state = 'known'";
        let rows: Vec<String> =
            on_pool!(self, pool => sqlx::query_scalar(sql).fetch_all(pool).await)
                .context(|| "reading the fingerprints of known bugs".to_owned())?;
        Ok(rows.into_iter().collect())
    }
}
