//! Public bug operations: promote, triage, list, history.
//!
//! Each write runs in one transaction with its history row, so a state is
//! never changed without a record of who changed it and why.

use sqlx::Row;

use super::{
    subsystem_from_path, Bug, BugFilter, BugHistoryEntry, BugPage, BugState, LinkRequest, Promotion,
};
use crate::error::QueryContext;
use crate::{on_pool, BugId, FindingId, Store, StoreError};

/// A triage decision for [`Store::set_bug_state`].
#[derive(Clone, Debug)]
pub struct StateChange {
    /// The new state.
    pub to: BugState,
    /// Who decides.
    pub actor: String,
    /// Why.
    pub reason: String,
    /// For [`BugState::Duplicate`]: the bug this one duplicates.
    pub duplicate_of: Option<BugId>,
}

const BUG_COLUMNS: &str =
    "id, fingerprint, subsystem, state, severity, title, file, line_start, line_end, \
                           preexisting, duplicate_of, created_at, updated_at";

fn bug_from_row<R>(row: &R) -> Result<Bug, sqlx::Error>
where
    R: Row,
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let state: String = row.try_get("state")?;
    let state = state
        .parse::<BugState>()
        .map_err(|error| sqlx::Error::ColumnDecode {
            index: "state".to_string(),
            source: Box::new(error),
        })?;
    Ok(Bug {
        id: row.try_get("id")?,
        fingerprint: row.try_get("fingerprint")?,
        subsystem: row.try_get("subsystem")?,
        state,
        severity: row.try_get("severity")?,
        title: row.try_get("title")?,
        file: row.try_get("file")?,
        line_start: row.try_get("line_start")?,
        line_end: row.try_get("line_end")?,
        preexisting: row.try_get("preexisting")?,
        duplicate_of: row.try_get("duplicate_of")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

impl Store {
    /// Makes a finding a bug: a pre-existing finding opens one in state
    /// open, any other finding is a confirmation and opens it confirmed.
    /// When a bug with the finding's fingerprint exists, the finding is
    /// linked to it instead (and an open bug becomes confirmed when the
    /// finding was not pre-existing).
    pub async fn promote_finding(
        &self,
        finding: FindingId,
        promotion: &Promotion,
    ) -> Result<BugId, StoreError> {
        let select = "SELECT f.fingerprint, f.severity, f.problem, f.file, f.line_start, f.line_end, f.preexisting, \
                      r.series_version_id FROM findings f JOIN reviews r ON r.id = f.review_id WHERE f.id = $1";
        let bug_sql = self.bug_sql();
        let begin = self.begin_statement();
        let what = || format!("promoting finding {} to a bug", finding.0);
        let set_state_sql =
            self.sql("UPDATE bugs SET state = $1, updated_at = {now} WHERE id = $2 AND state = $3");
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.context(what)?;
            let row = sqlx::query(select).bind(finding.0).fetch_optional(&mut *tx).await.context(what)?;
            let Some(row) = row else {
                return Err(StoreError::NotFound { what: format!("finding {}", finding.0) });
            };
            let fingerprint: String = row.try_get(0).context(what)?;
            let severity: String = row.try_get(1).context(what)?;
            let title: String = row.try_get(2).context(what)?;
            let file: String = row.try_get(3).context(what)?;
            let preexisting: bool = row.try_get(6).context(what)?;
            let state = if preexisting { BugState::Open } else { BugState::Confirmed };
            let request = LinkRequest {
                finding_id: finding.0,
                fingerprint: &fingerprint,
                subsystem: promotion.subsystem.clone().unwrap_or_else(|| subsystem_from_path(&file)),
                severity: &severity,
                title: &title,
                file: &file,
                line_start: row.try_get(4).context(what)?,
                line_end: row.try_get(5).context(what)?,
                preexisting,
                series_version_id: row.try_get(7).context(what)?,
                create_state: Some(state),
                actor: &promotion.actor,
                reason: promotion.reason.clone(),
            };
            let linked = link_finding!(&bug_sql, tx, &request)?;
            let Some((bug, created)) = linked else {
                return Err(StoreError::Invalid(format!("finding {} could not be linked to a bug", finding.0)));
            };
            if !created && state == BugState::Confirmed {
                let changed = sqlx::query(&set_state_sql)
                    .bind(BugState::Confirmed.as_str())
                    .bind(bug)
                    .bind(BugState::Open.as_str())
                    .execute(&mut *tx)
                    .await
                    .context(what)?
                    .rows_affected();
                if changed > 0 {
                    sqlx::query(&bug_sql.history)
                        .bind(bug)
                        .bind(&promotion.actor)
                        .bind(Some(BugState::Open.as_str()))
                        .bind(BugState::Confirmed.as_str())
                        .bind(&promotion.reason)
                        .execute(&mut *tx)
                        .await
                        .context(what)?;
                }
            }
            tx.commit().await.context(what)?;
            Ok(BugId(bug))
        })
    }

    /// Changes a bug's state and records who, when, from, to and why.
    /// Setting the state it already has records nothing and succeeds.
    pub async fn set_bug_state(&self, bug: BugId, change: &StateChange) -> Result<(), StoreError> {
        if change.reason.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "changing bug {} to {}: a reason is required",
                bug.0, change.to
            )));
        }
        if (change.to == BugState::Duplicate) != change.duplicate_of.is_some() {
            return Err(StoreError::Invalid(format!(
                "changing bug {} to {}: duplicate_of is given exactly when the state is duplicate",
                bug.0, change.to
            )));
        }
        if change.duplicate_of == Some(bug) {
            return Err(StoreError::Invalid(format!(
                "bug {} cannot duplicate itself",
                bug.0
            )));
        }
        let history_sql = self.bug_sql().history;
        let update_sql = self
            .sql("UPDATE bugs SET state = $1, duplicate_of = $2, updated_at = {now} WHERE id = $3");
        let select = "SELECT state FROM bugs WHERE id = $1";
        let begin = self.begin_statement();
        let what = || format!("changing bug {} to {}", bug.0, change.to);
        on_pool!(self, pool => {
            let mut tx = pool.begin_with(begin).await.context(what)?;
            let from: Option<String> = sqlx::query_scalar(select).bind(bug.0).fetch_optional(&mut *tx).await.context(what)?;
            let Some(from) = from else {
                return Err(StoreError::NotFound { what: format!("bug {}", bug.0) });
            };
            if from == change.to.as_str() {
                return Ok(());
            }
            sqlx::query(&update_sql)
                .bind(change.to.as_str())
                .bind(change.duplicate_of.map(|other| other.0))
                .bind(bug.0)
                .execute(&mut *tx)
                .await
                .context(what)?;
            sqlx::query(&history_sql)
                .bind(bug.0)
                .bind(&change.actor)
                .bind(Some(from))
                .bind(change.to.as_str())
                .bind(&change.reason)
                .execute(&mut *tx)
                .await
                .context(what)?;
            tx.commit().await.context(what)?;
            Ok(())
        })
    }

    /// Sets a bug's subsystem (e.g. once MAINTAINERS has been consulted).
    pub async fn set_bug_subsystem(&self, bug: BugId, subsystem: &str) -> Result<(), StoreError> {
        let sql = self.sql("UPDATE bugs SET subsystem = $1, updated_at = {now} WHERE id = $2");
        let changed = on_pool!(self, pool => sqlx::query(&sql).bind(subsystem).bind(bug.0).execute(pool).await.map(|done| done.rows_affected()))
            .context(|| format!("setting the subsystem of bug {} to {subsystem:?}", bug.0))?;
        if changed == 0 {
            return Err(StoreError::NotFound {
                what: format!("bug {}", bug.0),
            });
        }
        Ok(())
    }

    /// One bug by id.
    pub async fn bug(&self, bug: BugId) -> Result<Option<Bug>, StoreError> {
        let sql = format!("SELECT {BUG_COLUMNS} FROM bugs WHERE id = $1");
        let what = || format!("reading bug {}", bug.0);
        on_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(bug.0).fetch_optional(pool).await.context(what)?;
            row.map(|row| bug_from_row(&row)).transpose().context(what)
        })
    }

    /// The bug a finding is linked to, if any.
    pub async fn finding_bug(&self, finding: FindingId) -> Result<Option<BugId>, StoreError> {
        let sql = "SELECT bug_id FROM findings WHERE id = $1";
        let linked: Option<Option<i64>> = on_pool!(self, pool => sqlx::query_scalar(sql).bind(finding.0).fetch_optional(pool).await)
            .context(|| format!("reading the bug of finding {}", finding.0))?;
        match linked {
            None => Err(StoreError::NotFound {
                what: format!("finding {}", finding.0),
            }),
            Some(bug) => Ok(bug.map(BugId)),
        }
    }

    /// Bugs matching `filter`, newest first, one page at a time.
    pub async fn list_bugs(&self, filter: &BugFilter) -> Result<BugPage, StoreError> {
        let (sql, limit) = list_bugs_sql(filter);
        let what = || format!("listing bugs ({filter:?})");
        let mut bugs: Vec<Bug> = on_pool!(self, pool => {
            let mut query = sqlx::query(&sql);
            if let Some(subsystem) = &filter.subsystem {
                query = query.bind(subsystem);
            }
            if let Some(state) = filter.state {
                query = query.bind(state.as_str());
            }
            if let Some(before) = filter.before_id {
                query = query.bind(before);
            }
            let rows = query.bind(i64::from(limit) + 1).fetch_all(pool).await.context(what)?;
            rows.iter().map(bug_from_row).collect::<Result<Vec<_>, _>>().context(what)?
        });
        let more = bugs.len() > limit as usize;
        bugs.truncate(limit as usize);
        let next_before = if more {
            bugs.last().map(|bug| bug.id)
        } else {
            None
        };
        Ok(BugPage { bugs, next_before })
    }

    /// The database's query plan for [`Store::list_bugs`] with `filter`, one
    /// line per plan node (to check which index serves it).
    pub async fn explain_list_bugs(&self, filter: &BugFilter) -> Result<String, StoreError> {
        let (sql, limit) = list_bugs_sql(filter);
        let what = || format!("explaining the bug listing ({filter:?})");
        let lines: Vec<String> = match &self.backend {
            crate::Backend::Sqlite(pool) => {
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let mut query = sqlx::query(&explain);
                if let Some(subsystem) = &filter.subsystem {
                    query = query.bind(subsystem);
                }
                if let Some(state) = filter.state {
                    query = query.bind(state.as_str());
                }
                if let Some(before) = filter.before_id {
                    query = query.bind(before);
                }
                let rows = query
                    .bind(i64::from(limit) + 1)
                    .fetch_all(pool)
                    .await
                    .context(what)?;
                rows.iter()
                    .map(|row| row.try_get::<String, _>("detail"))
                    .collect::<Result<_, _>>()
                    .context(what)?
            }
            crate::Backend::Postgres(pool) => {
                let explain = format!("EXPLAIN {sql}");
                let mut query = sqlx::query(&explain);
                if let Some(subsystem) = &filter.subsystem {
                    query = query.bind(subsystem);
                }
                if let Some(state) = filter.state {
                    query = query.bind(state.as_str());
                }
                if let Some(before) = filter.before_id {
                    query = query.bind(before);
                }
                let rows = query
                    .bind(i64::from(limit) + 1)
                    .fetch_all(pool)
                    .await
                    .context(what)?;
                rows.iter()
                    .map(|row| row.try_get::<String, _>(0))
                    .collect::<Result<_, _>>()
                    .context(what)?
            }
        };
        Ok(lines.join("\n"))
    }

    /// The state changes of a bug, oldest first.
    pub async fn bug_history(&self, bug: BugId) -> Result<Vec<BugHistoryEntry>, StoreError> {
        let sql = "SELECT actor, changed_at, from_state, to_state, reason FROM bug_history WHERE bug_id = $1 ORDER BY id";
        let rows: Vec<(String, i64, Option<String>, String, String)> =
            on_pool!(self, pool => sqlx::query_as(sql).bind(bug.0).fetch_all(pool).await)
                .context(|| format!("reading the history of bug {}", bug.0))?;
        Ok(rows
            .into_iter()
            .map(
                |(actor, changed_at, from_state, to_state, reason)| BugHistoryEntry {
                    actor,
                    changed_at,
                    from_state,
                    to_state,
                    reason,
                },
            )
            .collect())
    }
}

/// The listing query for `filter` and its page size. Parameters, in order:
/// subsystem, state, before_id (each only when set), then the limit.
fn list_bugs_sql(filter: &BugFilter) -> (String, u32) {
    let limit = if filter.limit == 0 {
        50
    } else {
        filter.limit.min(10_000)
    };
    let mut conditions = Vec::new();
    if filter.subsystem.is_some() {
        conditions.push(format!("subsystem = ${}", conditions.len() + 1));
    }
    if filter.state.is_some() {
        conditions.push(format!("state = ${}", conditions.len() + 1));
    }
    if filter.before_id.is_some() {
        conditions.push(format!("id < ${}", conditions.len() + 1));
    }
    let where_clause = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let sql = format!(
        "SELECT {BUG_COLUMNS} FROM bugs {where_clause} ORDER BY id DESC LIMIT ${}",
        conditions.len() + 1
    );
    (sql, limit)
}
