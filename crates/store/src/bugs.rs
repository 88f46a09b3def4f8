//! The per-subsystem bug database.
//!
//! A finding becomes a bug when it was reported as pre-existing or when a
//! person confirms it. Bugs are deduplicated by the finding's fingerprint
//! (unique in `bugs`), so the same problem seen in another series or a later
//! version links to the existing bug instead of opening a new one. Every
//! state change writes a history row (who, when, from, to, why). This module
//! must never delete a bug or rewrite its history.

use serde::Serialize;

use crate::{Store, StoreError};

/// Lifecycle of a bug.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BugState {
    /// Reported, not triaged.
    Open,
    /// A person agreed it is a bug.
    Confirmed,
    /// Not a bug.
    Invalid,
    /// Fixed upstream.
    Fixed,
    /// Known and tracked elsewhere (todo).
    Known,
    /// Same as another bug (see `duplicate_of`).
    Duplicate,
}

impl BugState {
    /// Every state, in lifecycle order.
    pub const ALL: [BugState; 6] = [
        BugState::Open,
        BugState::Confirmed,
        BugState::Invalid,
        BugState::Fixed,
        BugState::Known,
        BugState::Duplicate,
    ];

    /// The value stored in `bugs.state`.
    pub fn as_str(self) -> &'static str {
        match self {
            BugState::Open => "open",
            BugState::Confirmed => "confirmed",
            BugState::Invalid => "invalid",
            BugState::Fixed => "fixed",
            BugState::Known => "known",
            BugState::Duplicate => "duplicate",
        }
    }
}

impl std::fmt::Display for BugState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl std::str::FromStr for BugState {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        BugState::ALL
            .into_iter()
            .find(|state| state.as_str().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| {
                StoreError::Invalid(format!(
                    "unknown bug state {text:?}: expected one of open, confirmed, invalid, fixed, known, duplicate"
                ))
            })
    }
}

/// A bug as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bug {
    /// Row id.
    pub id: i64,
    /// Fingerprint shared by every finding of this bug.
    pub fingerprint: String,
    /// Subsystem the bug belongs to.
    pub subsystem: String,
    /// Current state.
    pub state: BugState,
    /// Severity of the finding that opened it.
    pub severity: String,
    /// The problem, from the finding that opened it.
    pub title: String,
    /// File.
    pub file: String,
    /// First line.
    pub line_start: i64,
    /// Last line.
    pub line_end: i64,
    /// Whether it predates the patch that revealed it.
    pub preexisting: bool,
    /// The bug this one duplicates, when its state is duplicate.
    pub duplicate_of: Option<i64>,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// One state change of a bug.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BugHistoryEntry {
    /// Who made the change.
    pub actor: String,
    /// When, ms since the epoch.
    pub changed_at: i64,
    /// The previous state (none when the bug was created).
    pub from_state: Option<String>,
    /// The new state.
    pub to_state: String,
    /// Why.
    pub reason: String,
}

/// Which bugs to list.
#[derive(Clone, Debug, Default)]
pub struct BugFilter {
    /// Only this subsystem.
    pub subsystem: Option<String>,
    /// Only this state.
    pub state: Option<BugState>,
    /// Only bugs with a smaller id (keyset pagination: pass the previous
    /// page's `next_before`).
    pub before_id: Option<i64>,
    /// Page size; 0 means 50.
    pub limit: u32,
}

/// One page of bugs, newest first.
#[derive(Clone, Debug, Serialize)]
pub struct BugPage {
    /// The bugs.
    pub bugs: Vec<Bug>,
    /// Pass as `before_id` to get the next page; none on the last page.
    pub next_before: Option<i64>,
}

/// How a finding becomes a bug through [`Store::promote_finding`].
#[derive(Clone, Debug)]
pub struct Promotion {
    /// Subsystem (from MAINTAINERS); when none, derived from the file path.
    pub subsystem: Option<String>,
    /// Who promotes it.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// A subsystem name derived from a file path when MAINTAINERS was not
/// consulted: the top directory, or the top two for the large trees
/// (`drivers/net`, `arch/x86`, `fs/ext4`).
pub fn subsystem_from_path(file: &str) -> String {
    let mut directories: Vec<&str> = file.trim_start_matches("./").split('/').collect();
    directories.pop(); // the file name
    match directories.as_slice() {
        [] => "(top level)".to_string(),
        [top, second, ..]
            if ["drivers", "arch", "fs", "net", "sound", "include", "tools"].contains(top) =>
        {
            format!("{top}/{second}")
        }
        [top, ..] => (*top).to_string(),
    }
}

/// SQL text of the statements that link a finding to its bug, built once
/// per call with the backend's clock.
pub(crate) struct BugSql {
    pub find: String,
    pub create: String,
    pub history: String,
    pub link: String,
}

impl Store {
    pub(crate) fn bug_sql(&self) -> BugSql {
        BugSql {
            find: "SELECT id FROM bugs WHERE fingerprint = $1".to_string(),
            create: self.sql(
                "INSERT INTO bugs (fingerprint, subsystem, state, severity, title, file, line_start, line_end, \
                 preexisting, first_series_version_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, {now}, {now}) \
                 ON CONFLICT (fingerprint) DO NOTHING RETURNING id",
            ),
            history: self.sql(
                "INSERT INTO bug_history (bug_id, actor, changed_at, from_state, to_state, reason) \
                 VALUES ($1, $2, {now}, $3, $4, $5)",
            ),
            link: "UPDATE findings SET bug_id = $1 WHERE id = $2".to_string(),
        }
    }
}

/// What [`link_finding!`] needs to know about one finding.
pub(crate) struct LinkRequest<'a> {
    pub finding_id: i64,
    pub fingerprint: &'a str,
    pub subsystem: String,
    pub severity: &'a str,
    pub title: &'a str,
    pub file: &'a str,
    pub line_start: i64,
    pub line_end: i64,
    pub preexisting: bool,
    pub series_version_id: Option<i64>,
    /// State of a new bug; none means "link to an existing bug only".
    pub create_state: Option<BugState>,
    pub actor: &'a str,
    pub reason: String,
}

/// Links a finding to the bug with its fingerprint, creating the bug (and
/// its first history row) when `create_state` allows. Expands inside an
/// `on_pool!` body with `$tx` an open transaction; evaluates to
/// `Result<Option<(i64 /* bug */, bool /* created */)>, StoreError>`.
macro_rules! link_finding {
    ($sql:expr, $tx:ident, $request:expr) => {{
        let sql: &$crate::bugs::BugSql = $sql;
        let request: &$crate::bugs::LinkRequest<'_> = $request;
        let what = || {
            format!(
                "linking finding {} (fingerprint {}) to a bug",
                request.finding_id, request.fingerprint
            )
        };
        async {
            let existing: Option<i64> = sqlx::query_scalar(&sql.find)
                .bind(request.fingerprint)
                .fetch_optional(&mut *$tx)
                .await
                .context(what)?;
            let linked = match (existing, request.create_state) {
                (Some(bug), _) => Some((bug, false)),
                (None, None) => None,
                (None, Some(state)) => {
                    let created: Option<i64> = sqlx::query_scalar(&sql.create)
                        .bind(request.fingerprint)
                        .bind(&request.subsystem)
                        .bind(state.as_str())
                        .bind(request.severity)
                        .bind(request.title)
                        .bind(request.file)
                        .bind(request.line_start)
                        .bind(request.line_end)
                        .bind(request.preexisting)
                        .bind(request.series_version_id)
                        .fetch_optional(&mut *$tx)
                        .await
                        .context(what)?;
                    match created {
                        Some(bug) => {
                            sqlx::query(&sql.history)
                                .bind(bug)
                                .bind(request.actor)
                                .bind(None::<String>)
                                .bind(state.as_str())
                                .bind(&request.reason)
                                .execute(&mut *$tx)
                                .await
                                .context(what)?;
                            Some((bug, true))
                        }
                        // Another writer created it between our lookup and insert.
                        None => {
                            let bug: i64 = sqlx::query_scalar(&sql.find)
                                .bind(request.fingerprint)
                                .fetch_one(&mut *$tx)
                                .await
                                .context(what)?;
                            Some((bug, false))
                        }
                    }
                }
            };
            if let Some((bug, _)) = linked {
                sqlx::query(&sql.link)
                    .bind(bug)
                    .bind(request.finding_id)
                    .execute(&mut *$tx)
                    .await
                    .context(what)?;
            }
            Ok::<_, StoreError>(linked)
        }
        .await
    }};
}
pub(crate) use link_finding;

mod api;
pub use api::StateChange;
