//! Bug counts for the web view, read from `bug_counts` (kept by triggers on
//! `bugs`, see the migration `web_bug_counts_and_list_indexes`) and
//! `bug_totals` (migration `web_bug_filters_and_totals`): per key
//! (subsystem, state, severity, preexisting) the sum of its rows' `n` in
//! both. On PostgreSQL the triggers append +1/-1 rows to `bug_counts` and
//! [`Store::compact_bug_counts`] moves them into `bug_totals`, one row per
//! key, in a single statement, so `bug_counts` only holds the changes
//! since; on SQLite the triggers keep one row per key in `bug_counts` and
//! `bug_totals` stays empty. This module must never write anything but
//! that compaction, and never change a sum.

use serde::Serialize;

use super::bug_list::{BugListFilter, NEEDS_ACTION};
use crate::web_queries::SqlParam;
use crate::{BackendKind, Store, StoreError};

/// The open bugs of one subsystem and severity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenCount {
    pub subsystem: String,
    pub severity: String,
    pub n: i64,
}

/// The bugs of one subsystem with one (state, severity, preexisting).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyCount {
    pub state: String,
    pub severity: String,
    pub preexisting: bool,
    pub n: i64,
}

/// The counts of one subsystem per (state, severity, preexisting).
#[derive(Clone, Debug, Default)]
pub struct SubsystemCounts {
    pub keys: Vec<KeyCount>,
}

impl SubsystemCounts {
    /// Whether the subsystem has no bugs at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Bugs per state, states in name order.
    pub fn by_state(&self) -> Vec<(String, i64)> {
        let mut states: std::collections::BTreeMap<&str, i64> = Default::default();
        for key in &self.keys {
            *states.entry(&key.state).or_insert(0) += key.n;
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
            .filter(|key| filter.key_matches(&key.state, &key.severity, key.preexisting))
            .map(|key| key.n)
            .sum()
    }
}

impl Store {
    /// Open-bug counts per subsystem and severity ("open" meaning the
    /// states that need action), subsystems with none left out, in
    /// subsystem order.
    pub async fn open_bug_counts(&self) -> Result<Vec<OpenCount>, StoreError> {
        let states: Vec<String> = NEEDS_ACTION.iter().map(|s| format!("'{s}'")).collect();
        let states = states.join(", ");
        let sql = format!(
            "SELECT subsystem, severity, CAST(SUM(n) AS BIGINT) AS n FROM \
             (SELECT subsystem, severity, n FROM bug_totals WHERE state IN ({states}) \
              UNION ALL SELECT subsystem, severity, n FROM bug_counts WHERE state IN ({states})) c \
             GROUP BY subsystem, severity HAVING SUM(n) > 0 ORDER BY subsystem"
        );
        self.web_typed(
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
        .await
    }

    /// The bug counts of one subsystem per (state, severity, preexisting).
    pub async fn subsystem_bug_counts(
        &self,
        subsystem: &str,
    ) -> Result<SubsystemCounts, StoreError> {
        let keys = self
            .web_typed(
                "counting the bugs of a subsystem",
                "SELECT state, severity, preexisting, CAST(SUM(n) AS BIGINT) AS n FROM \
                 (SELECT state, severity, preexisting, n FROM bug_totals WHERE subsystem = $1 \
                  UNION ALL SELECT state, severity, preexisting, n FROM bug_counts WHERE subsystem = $1) c \
                 GROUP BY state, severity, preexisting HAVING SUM(n) > 0",
                &[SqlParam::Text(subsystem.to_string())],
                |row| {
                    Ok(KeyCount {
                        state: row.text(0)?.to_string(),
                        severity: row.text(1)?.to_string(),
                        preexisting: row.flag(2)?,
                        n: row.int(3)?,
                    })
                },
            )
            .await?;
        Ok(SubsystemCounts { keys })
    }

    /// Bugs per state (states with none left out), counted on `bugs`.
    pub async fn bug_counts_by_state(&self) -> Result<Vec<(String, i64)>, StoreError> {
        self.web_typed(
            "counting bugs by state",
            "SELECT state, COUNT(*) AS n FROM bugs GROUP BY state",
            &[],
            |row| Ok((row.text(0)?.to_string(), row.int(1)?)),
        )
        .await
    }

    /// Moves the appended rows of `bug_counts` into `bug_totals` (one row
    /// per key) and returns the keys written. One statement, so readers
    /// see each change in one table or the other, never both or neither;
    /// two compactions at once are safe (the second skips the rows the
    /// first deleted). A no-op on SQLite.
    pub async fn compact_bug_counts(&self) -> Result<u64, StoreError> {
        if self.backend() != BackendKind::Postgres {
            return Ok(0);
        }
        self.web_execute(
            "compacting bug_counts into bug_totals",
            "WITH gone AS (DELETE FROM bug_counts \
                           RETURNING subsystem, state, severity, preexisting, n) \
             INSERT INTO bug_totals AS t (subsystem, state, severity, preexisting, n) \
             SELECT subsystem, state, severity, preexisting, SUM(n) FROM gone \
             GROUP BY subsystem, state, severity, preexisting \
             ORDER BY subsystem, state, severity, preexisting \
             ON CONFLICT (subsystem, state, severity, preexisting) DO UPDATE SET n = t.n + excluded.n",
            &[],
        )
        .await
    }
}
