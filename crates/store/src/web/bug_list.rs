//! The filtered, sorted bug list of one subsystem for the web view, read a
//! page at a time with keyset pagination: a page starts after (or ends
//! before) one bug, named by its id, whose sort key is looked up and
//! compared as a row value, so every page costs one index range read
//! whatever its depth (no OFFSET). Each sort order has an index in the
//! migrations (`bugs_subsystem_*`, and `bugs_needs_action_*` for the
//! default view).
//!
//! Request text is only ever bound; states, severities and the pre-existing
//! flag come from closed sets and are written into the SQL as literals so
//! PostgreSQL can prove the partial indexes apply. This module must never
//! write.

use serde::Serialize;

use crate::web_queries::{ColumnError, SqlParam, WebRow};
use crate::{BackendKind, Store, StoreError};

/// States a maintainer still has to act on (the partial indexes name the
/// same list).
pub const NEEDS_ACTION: [&str; 2] = ["open", "confirmed"];

/// Severities from most to least severe (the four of the review schema).
pub const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// Columns shown in the list, in the order [`ListedBug::decode`] reads them.
const LIST_COLUMNS: &str =
    "id, state, severity, title, file, line_start, preexisting, created_at, updated_at";

/// One bug of a list, with the columns a table or feed shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ListedBug {
    pub id: i64,
    pub state: String,
    pub severity: String,
    pub title: String,
    pub file: String,
    pub line_start: i64,
    pub preexisting: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ListedBug {
    fn decode(row: &WebRow<'_>) -> Result<ListedBug, ColumnError> {
        Ok(ListedBug {
            id: row.int(0)?,
            state: row.text(1)?.to_string(),
            severity: row.text(2)?.to_string(),
            title: row.text(3)?.to_string(),
            file: row.text(4)?.to_string(),
            line_start: row.int(5)?,
            preexisting: row.flag(6)?,
            created_at: row.int(7)?,
            updated_at: row.int(8)?,
        })
    }
}

/// The sort key columns of the bug a page starts at.
#[derive(Clone, Debug)]
struct CursorKey {
    id: i64,
    severity: String,
    file: String,
    line_start: i64,
    updated_at: i64,
}

/// Filters of the subsystem bug list.
#[derive(Clone, Debug, Default)]
pub struct BugListFilter {
    pub subsystem: String,
    /// States to show (from a closed set); empty means all.
    pub states: Vec<&'static str>,
    /// One of [`SEVERITIES`].
    pub severity: Option<&'static str>,
    pub preexisting: Option<bool>,
    /// Only bugs created within this many days.
    pub max_age_days: Option<i64>,
    /// Only files starting with this prefix.
    pub file_prefix: Option<String>,
    pub sort: BugSort,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

impl BugListFilter {
    /// Whether the number of matching bugs can be read from `bug_counts`
    /// (the filters are all columns of its key).
    pub fn counted_by_key(&self) -> bool {
        self.max_age_days.is_none() && self.file_prefix.is_none()
    }

    /// Whether a `bug_counts` key matches these filters.
    pub fn key_matches(&self, state: &str, severity: &str, preexisting: bool) -> bool {
        (self.states.is_empty() || self.states.contains(&state))
            && self.severity.is_none_or(|wanted| wanted == severity)
            && self.preexisting.is_none_or(|wanted| wanted == preexisting)
    }
}

/// Where a page starts: just after, or just before, the bug `id` in the
/// list's order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub id: i64,
    pub before: bool,
}

/// Orders of the subsystem bug list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BugSort {
    #[default]
    Newest,
    Oldest,
    Severity,
    File,
    Updated,
}

impl BugSort {
    /// Every order with its URL name and its label.
    pub const ALL: [(BugSort, &'static str, &'static str); 5] = [
        (BugSort::Newest, "newest", "newest first"),
        (BugSort::Oldest, "oldest", "oldest first"),
        (BugSort::Severity, "severity", "most severe first"),
        (BugSort::File, "file", "by file"),
        (BugSort::Updated, "updated", "recently changed"),
    ];

    /// The order named `text`; newest first for anything else.
    pub fn parse(text: &str) -> BugSort {
        BugSort::ALL
            .iter()
            .find(|(_, name, _)| *name == text)
            .map_or(BugSort::Newest, |(sort, _, _)| *sort)
    }

    /// The URL name.
    pub fn name(self) -> &'static str {
        BugSort::ALL
            .iter()
            .find(|(sort, _, _)| *sort == self)
            .map_or("newest", |(_, name, _)| name)
    }

    /// The key columns in order and whether the list runs descending. The
    /// severity sort is read per severity (most severe first), each by id.
    fn key(self) -> (&'static [&'static str], bool) {
        match self {
            BugSort::Newest | BugSort::Severity => (&["id"], true),
            BugSort::Oldest => (&["id"], false),
            BugSort::File => (&["file", "line_start", "id"], false),
            BugSort::Updated => (&["updated_at", "id"], true),
        }
    }
}

fn sql_bool(value: bool) -> &'static str {
    if value {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// `text` with the LIKE wildcards and the escape character escaped.
pub(crate) fn like_escaped(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The first text after every text starting with `prefix` in code point
/// (byte) order: `prefix` with its last character moved one up (dropping
/// trailing characters that cannot move); none when nothing is after.
fn next_prefix(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// The WHERE conditions of `filter` except the cursor, with the subsystem
/// as `$1` and further parameters pushed onto `params`. A file prefix is
/// the byte-order range [prefix, next prefix), which the `bugs_file_prefix`
/// index answers (on PostgreSQL compared `COLLATE "C"` like that index,
/// whatever the database's collation).
fn conditions(
    filter: &BugListFilter,
    backend: BackendKind,
    params: &mut Vec<SqlParam>,
) -> Vec<String> {
    params.push(SqlParam::Text(filter.subsystem.clone()));
    let mut conditions = vec!["subsystem = $1".to_string()];
    if !filter.states.is_empty() {
        let states: Vec<String> = filter.states.iter().map(|s| format!("'{s}'")).collect();
        conditions.push(format!("state IN ({})", states.join(", ")));
    }
    if let Some(severity) = filter.severity {
        conditions.push(format!("severity = '{severity}'"));
    }
    if let Some(preexisting) = filter.preexisting {
        conditions.push(format!("preexisting = {}", sql_bool(preexisting)));
    }
    if let Some(days) = filter.max_age_days {
        // The window is a literal and the clock the statement's start
        // (`now()`, stable), not `{now}` (`clock_timestamp()`, volatile):
        // only then can PostgreSQL read the range from `bugs_age_filter`
        // and estimate how many rows it holds, in a cached plan too.
        let now = match backend {
            BackendKind::Postgres => "CAST(EXTRACT(EPOCH FROM now()) * 1000 AS BIGINT)",
            BackendKind::Sqlite => "{now}",
        };
        let window_ms = days.clamp(0, 1_000_000).saturating_mul(86_400_000);
        conditions.push(format!("created_at >= {now} - {window_ms}"));
    }
    if let Some(prefix) = filter
        .file_prefix
        .as_deref()
        .filter(|prefix| !prefix.is_empty())
    {
        let file = match backend {
            BackendKind::Postgres => "file COLLATE \"C\"",
            BackendKind::Sqlite => "file",
        };
        params.push(SqlParam::Text(prefix.to_string()));
        conditions.push(format!("{file} >= ${}", params.len()));
        if let Some(next) = next_prefix(prefix) {
            params.push(SqlParam::Text(next));
            conditions.push(format!("{file} < ${}", params.len()));
        }
    }
    conditions
}

/// One page read: the list columns of the bugs matching `conditions` in
/// `order`, at most `limit`. With `ids_first` the ids of the page are read
/// first (from a covering index alone, see `bugs_age_filter` and
/// `bugs_file_prefix`) and only those rows from the table, instead of
/// every matching row being read to be sorted.
fn select_sql(conditions: &[String], order: &str, limit: i64, ids_first: bool) -> String {
    let conditions = conditions.join(" AND ");
    if ids_first {
        format!(
            "SELECT {LIST_COLUMNS} FROM bugs WHERE id IN \
             (SELECT id FROM bugs WHERE {conditions} ORDER BY {order} LIMIT {limit}) ORDER BY {order}"
        )
    } else {
        format!("SELECT {LIST_COLUMNS} FROM bugs WHERE {conditions} ORDER BY {order} LIMIT {limit}")
    }
}

fn key_param(key: &CursorKey, column: &str) -> SqlParam {
    match column {
        "file" => SqlParam::Text(key.file.clone()),
        "line_start" => SqlParam::Int(key.line_start),
        "updated_at" => SqlParam::Int(key.updated_at),
        _ => SqlParam::Int(key.id),
    }
}

/// One index range read with its own parameters: `base` conditions (whose
/// parameters are `base_params`), then past the cursor key (if any), in the
/// sort's order (reversed when reading backwards).
fn range_select(
    base: &[String],
    base_params: &[SqlParam],
    columns: &[&str],
    descending: bool,
    cursor: Option<(&CursorKey, bool)>,
    limit: i64,
    ids_first: bool,
) -> (String, Vec<SqlParam>) {
    let mut conditions = base.to_vec();
    let mut params = base_params.to_vec();
    let backwards = cursor.is_some_and(|(_, before)| before);
    let descending = descending != backwards;
    if let Some((row, _)) = cursor {
        let placeholders: Vec<String> = columns
            .iter()
            .map(|column| {
                params.push(key_param(row, column));
                format!("${}", params.len())
            })
            .collect();
        conditions.push(format!(
            "({}) {} ({})",
            columns.join(", "),
            if descending { "<" } else { ">" },
            placeholders.join(", ")
        ));
    }
    let direction = if descending { "DESC" } else { "ASC" };
    let order: Vec<String> = columns.iter().map(|c| format!("{c} {direction}")).collect();
    (
        select_sql(&conditions, &order.join(", "), limit, ids_first),
        params,
    )
}

fn severity_rank(severity: &str) -> usize {
    SEVERITIES
        .iter()
        .position(|known| *known == severity)
        .map_or(0, |position| SEVERITIES.len() - position)
}

/// The severity sort: one range read per severity (critical first), each
/// newest first, in the order they are shown. A cursor skips the
/// severities already shown and starts inside its own.
fn severity_selects(
    filter: &BugListFilter,
    base: &[String],
    base_params: &[SqlParam],
    cursor: Option<(&CursorKey, bool)>,
    limit: i64,
) -> Vec<(String, Vec<SqlParam>)> {
    let ids_first = !filter.counted_by_key();
    let cursor_rank = cursor.map(|(key, _)| severity_rank(&key.severity));
    let backwards = cursor.is_some_and(|(_, before)| before);
    let mut selects = Vec::new();
    for severity in SEVERITIES {
        if filter.severity.is_some_and(|wanted| wanted != severity) {
            continue;
        }
        let rank = severity_rank(severity);
        let inner_cursor = match cursor_rank {
            Some(cursor_rank) if cursor_rank == rank => cursor,
            // Forward: the more severe ones were shown; backward: the less
            // severe ones come later.
            Some(cursor_rank) if (rank > cursor_rank) != backwards => continue,
            // Backward past the whole range: read it from its end.
            Some(_) if backwards => {
                let mut conditions = base.to_vec();
                conditions.push(format!("severity = '{severity}'"));
                selects.push((
                    select_sql(&conditions, "id ASC", limit, ids_first),
                    base_params.to_vec(),
                ));
                continue;
            }
            _ => None,
        };
        let mut conditions = base.to_vec();
        conditions.push(format!("severity = '{severity}'"));
        selects.push(range_select(
            &conditions,
            base_params,
            &["id"],
            true,
            inner_cursor,
            limit,
            ids_first,
        ));
    }
    if backwards {
        // Read nearest the cursor first.
        selects.reverse();
    }
    selects
}

/// A page of a subsystem's bugs in the filter's order, plus whether there
/// are more before and after it.
#[derive(Clone, Debug)]
pub struct ListedBugPage {
    pub rows: Vec<ListedBug>,
    pub more_before: bool,
    pub more_after: bool,
}

impl Store {
    /// The sort key values of the cursor bug, or None when it is gone.
    async fn cursor_key(&self, id: i64) -> Result<Option<CursorKey>, StoreError> {
        Ok(self
            .web_typed(
                "reading the bug a page starts at",
                "SELECT id, severity, file, line_start, updated_at FROM bugs WHERE id = $1",
                &[SqlParam::Int(id)],
                |row| {
                    Ok(CursorKey {
                        id: row.int(0)?,
                        severity: row.text(1)?.to_string(),
                        file: row.text(2)?.to_string(),
                        line_start: row.int(3)?,
                        updated_at: row.int(4)?,
                    })
                },
            )
            .await?
            .into_iter()
            .next())
    }

    /// One page of a subsystem's bug list.
    pub async fn bug_list_page(&self, filter: &BugListFilter) -> Result<ListedBugPage, StoreError> {
        let cursor_row = match filter.cursor {
            Some(cursor) => self.cursor_key(cursor.id).await?,
            None => None,
        };
        let cursor = filter
            .cursor
            .zip(cursor_row.as_ref())
            .map(|(cursor, row)| (row, cursor.before));
        let backwards = cursor.is_some_and(|(_, before)| before);
        let mut base_params = Vec::new();
        let base = conditions(filter, self.backend(), &mut base_params);
        let limit = filter.limit + 1;
        let selects = match filter.sort {
            BugSort::Severity => severity_selects(filter, &base, &base_params, cursor, limit),
            sort => {
                let (columns, descending) = sort.key();
                vec![range_select(
                    &base,
                    &base_params,
                    columns,
                    descending,
                    cursor,
                    limit,
                    !filter.counted_by_key(),
                )]
            }
        };
        // Each select reads at most `limit` rows from its own index range;
        // the severity ranges are read one after another until the page is
        // full.
        let mut rows = Vec::new();
        for (select, params) in selects {
            if rows.len() as i64 >= limit {
                break;
            }
            let mut part = self
                .web_typed(
                    "listing the bugs of a subsystem",
                    &select,
                    &params,
                    ListedBug::decode,
                )
                .await?;
            rows.append(&mut part);
        }
        let more = rows.len() as i64 > filter.limit;
        rows.truncate(usize::try_from(filter.limit).unwrap_or(0));
        if backwards {
            rows.reverse();
        }
        Ok(ListedBugPage {
            rows,
            more_before: if backwards { more } else { cursor.is_some() },
            more_after: if backwards { true } else { more },
        })
    }

    /// The number of bugs matching `filter` (read from `counts` when
    /// `bug_counts` can answer, else counted on `bugs`).
    pub async fn bug_list_total(
        &self,
        counts: &super::SubsystemCounts,
        filter: &BugListFilter,
    ) -> Result<i64, StoreError> {
        if filter.counted_by_key() {
            return Ok(counts.matching(filter));
        }
        let mut params = Vec::new();
        let conditions = conditions(filter, self.backend(), &mut params);
        let sql = format!(
            "SELECT COUNT(*) AS n FROM bugs WHERE {}",
            conditions.join(" AND ")
        );
        Ok(self
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

    /// The newest bugs of a subsystem (any state) by creation time, for
    /// feeds.
    pub async fn newest_bugs(
        &self,
        subsystem: &str,
        limit: i64,
    ) -> Result<Vec<ListedBug>, StoreError> {
        self.web_typed(
            "listing the newest bugs of a subsystem",
            &format!(
                "SELECT {LIST_COLUMNS} FROM bugs WHERE subsystem = $1 \
                 ORDER BY created_at DESC, id DESC LIMIT $2"
            ),
            &[SqlParam::Text(subsystem.to_string()), SqlParam::Int(limit)],
            ListedBug::decode,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::next_prefix;

    #[test]
    fn the_next_prefix_bounds_exactly_the_texts_starting_with_the_prefix() {
        for (prefix, next) in [
            ("mm/", Some("mm0")),
            ("drivers/net", Some("drivers/neu")),
            ("a\u{d7ff}", Some("a\u{e000}")),
            ("a\u{10ffff}", Some("b")),
            ("\u{10ffff}", None),
        ] {
            assert_eq!(next_prefix(prefix).as_deref(), next, "{prefix:?}");
        }
        let next = next_prefix("mm/sl").expect("a next prefix");
        for (file, inside) in [
            ("mm/slab.c", true),
            ("mm/sl", true),
            ("mm/sm.c", false),
            ("mm/s", false),
            ("mm/slé.c", true),
        ] {
            assert_eq!(
                file >= "mm/sl" && file < next.as_str(),
                inside,
                "{file:?} in [mm/sl, {next:?})"
            );
        }
    }
}
