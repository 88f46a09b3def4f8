//! How a review's series met a kernel tree (applied on its base-commit, on
//! the configured base as is, 3-way or with fuzz, not at all, or no tree),
//! stored next to the review so every view of it can say whether the
//! review saw the series in a tree. The application layer decides the
//! values; this module keeps and reads them.

use serde::Serialize;

use crate::error::QueryContext;
use crate::{on_pool, ReviewId, Store, StoreError};

/// The stored tree application of one review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReviewTree {
    /// `commits`, `base_commit`, `clean`, `three_way`, `fuzzy`,
    /// `not_applied` or `no_tree`.
    pub status: String,
    /// The commit the series was applied on, when there is one.
    pub base: Option<String>,
    /// One line for people.
    pub note: String,
}

impl ReviewTree {
    /// True when the review saw the series applied to a tree.
    pub fn has_tree_context(&self) -> bool {
        !matches!(self.status.as_str(), "not_applied" | "no_tree")
    }
}

impl Store {
    /// Records how review `review`'s series met a tree.
    pub async fn set_review_tree(
        &self,
        review: ReviewId,
        tree: &ReviewTree,
    ) -> Result<(), StoreError> {
        let sql =
            "UPDATE reviews SET tree_status = $1, tree_base = $2, tree_note = $3 WHERE id = $4";
        let updated = on_pool!(self, pool => sqlx::query(sql)
            .bind(&tree.status)
            .bind(&tree.base)
            .bind(&tree.note)
            .bind(review.0)
            .execute(pool)
            .await
            .map(|done| done.rows_affected()))
        .context(|| format!("recording how review {}'s series met the tree", review.0))?;
        if updated == 0 {
            return Err(StoreError::NotFound {
                what: format!("review {}", review.0),
            });
        }
        Ok(())
    }

    /// How review `review`'s series met a tree; `None` when not recorded
    /// (or no such review).
    pub async fn review_tree(&self, review: ReviewId) -> Result<Option<ReviewTree>, StoreError> {
        let sql = "SELECT tree_status, tree_base, tree_note FROM reviews WHERE id = $1";
        type Row = (Option<String>, Option<String>, Option<String>);
        let row: Option<Row> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(review.0).fetch_optional(pool).await)
                .context(|| format!("reading how review {}'s series met the tree", review.0))?;
        Ok(row.and_then(|(status, base, note)| {
            Some(ReviewTree {
                status: status?,
                base,
                note: note.unwrap_or_default(),
            })
        }))
    }
}
