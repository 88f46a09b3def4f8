//! Bug counts for the web view, read from `bug_counts` (kept by triggers on
//! `bugs`, see the migration `web_bug_counts_and_list_indexes`): per key
//! (subsystem, state, severity, preexisting) the sum of its rows' `n`. On
//! PostgreSQL the triggers append +1/-1 rows and [`compact`] folds them
//! into one row per key in a single statement; on SQLite there is always
//! one row per key. Counts of filters outside that key (age, file prefix)
//! are counted on `bugs`. This module must never write anything but the
//! compaction of `bug_counts`, and never change a sum.

use sashiko_store::web_queries::SqlParam;
use sashiko_store::{BackendKind, Store};

use crate::bug_list::{BugListFilter, NEEDS_ACTION};
use crate::WebError;

/// The open bugs of one subsystem and severity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenCount {
    pub subsystem: String,
    pub severity: String,
    pub n: i64,
}

/// Open-bug counts per subsystem and severity ("open" meaning the states
/// that need action), subsystems with none left out, in subsystem order.
pub async fn subsystem_counts(store: &Store) -> Result<Vec<OpenCount>, WebError> {
    let states: Vec<String> = NEEDS_ACTION.iter().map(|s| format!("'{s}'")).collect();
    let sql = format!(
        "SELECT subsystem, severity, CAST(SUM(n) AS BIGINT) AS n FROM bug_counts \
         WHERE state IN ({}) GROUP BY subsystem, severity HAVING SUM(n) > 0 ORDER BY subsystem",
        states.join(", ")
    );
    Ok(store
        .web_typed(
            "counting open bugs per subsystem and severity",
            &sql,
            &[],
            |row| {
                Ok(OpenCount {
                    subsystem: row.text(0)?.to_string(),
                    severity: row.text(1)?.to_string(),
                    n: row.int(2)?,
                })
            },
        )
        .await?)
}

/// The counts of one subsystem per (state, severity, preexisting).
#[derive(Debug, Default)]
pub struct SubsystemCounts {
    keys: Vec<(String, String, bool, i64)>,
}

impl SubsystemCounts {
    /// Reads them.
    pub async fn read(store: &Store, subsystem: &str) -> Result<SubsystemCounts, WebError> {
        let keys = store
            .web_typed(
                "counting the bugs of a subsystem",
                "SELECT state, severity, preexisting, CAST(SUM(n) AS BIGINT) AS n FROM bug_counts \
                 WHERE subsystem = $1 GROUP BY state, severity, preexisting HAVING SUM(n) > 0",
                &[SqlParam::Text(subsystem.to_string())],
                |row| {
                    Ok((
                        row.text(0)?.to_string(),
                        row.text(1)?.to_string(),
                        row.flag(2)?,
                        row.int(3)?,
                    ))
                },
            )
            .await?;
        Ok(SubsystemCounts { keys })
    }

    /// Whether the subsystem has no bugs at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Bugs per state, states in name order.
    pub fn by_state(&self) -> Vec<(String, i64)> {
        let mut states: std::collections::BTreeMap<&str, i64> = Default::default();
        for (state, _, _, n) in &self.keys {
            *states.entry(state).or_insert(0) += n;
        }
        states
            .into_iter()
            .map(|(state, n)| (state.to_string(), n))
            .collect()
    }

    /// Bugs matching `filter`'s state, severity and pre-existing filters.
    pub fn matching(&self, filter: &BugListFilter) -> i64 {
        self.keys
            .iter()
            .filter(|(state, severity, preexisting, _)| {
                filter.key_matches(state, severity, *preexisting)
            })
            .map(|(_, _, _, n)| n)
            .sum()
    }
}

/// The number of bugs matching `filter` (counts them on `bugs` unless
/// `bug_counts` can answer).
pub async fn matching(
    store: &Store,
    counts: &SubsystemCounts,
    filter: &BugListFilter,
) -> Result<i64, WebError> {
    if filter.counted_by_key() {
        return Ok(counts.matching(filter));
    }
    let (conditions, params) = crate::bug_list::where_clause(filter);
    let sql = format!("SELECT COUNT(*) AS n FROM bugs WHERE {conditions}");
    Ok(store
        .web_typed(
            "counting the matching bugs of a subsystem",
            &sql,
            &params,
            |row| row.int(0),
        )
        .await?
        .first()
        .copied()
        .unwrap_or(0))
}

/// Folds the appended rows of `bug_counts` into one row per key (keys
/// whose sum is zero go away). One statement, so readers see the sums
/// before or after, never between; two compactions at once are safe (the
/// second skips the rows the first deleted). A no-op on SQLite.
pub async fn compact(store: &Store) -> Result<u64, WebError> {
    if store.backend() != BackendKind::Postgres {
        return Ok(0);
    }
    Ok(store
        .web_execute(
            "compacting bug_counts",
            "WITH keys AS (SELECT subsystem, state, severity, preexisting FROM bug_counts \
                           GROUP BY subsystem, state, severity, preexisting \
                           HAVING COUNT(*) > 1 OR SUM(n) = 0), \
                  gone AS (DELETE FROM bug_counts c USING keys k \
                           WHERE c.subsystem = k.subsystem AND c.state = k.state \
                             AND c.severity = k.severity AND c.preexisting = k.preexisting \
                           RETURNING c.subsystem, c.state, c.severity, c.preexisting, c.n) \
             INSERT INTO bug_counts (subsystem, state, severity, preexisting, n) \
             SELECT subsystem, state, severity, preexisting, SUM(n) FROM gone \
             GROUP BY subsystem, state, severity, preexisting HAVING SUM(n) <> 0 \
             ORDER BY subsystem, state, severity, preexisting",
            &[],
        )
        .await?)
}
