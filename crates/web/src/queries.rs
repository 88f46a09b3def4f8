//! The SQL of the web view, run through the store's generic web helpers
//! (`Store::web_rows`). Every query is parameterised: text from a request
//! is only ever bound, never spliced into SQL; the only spliced parts are
//! fixed fragments chosen from closed sets (sort orders, state lists).
//! This module must never write to `bugs` or `bug_history`.

use serde_json::{Map, Value};

use sashiko_store::web_queries::SqlParam;
use sashiko_store::Store;

use crate::WebError;

pub type Row = Map<String, Value>;

/// Reads an integer column.
pub fn int(row: &Row, column: &str) -> i64 {
    row.get(column).and_then(Value::as_i64).unwrap_or(0)
}

/// Reads a text column.
pub fn text<'a>(row: &'a Row, column: &str) -> &'a str {
    row.get(column).and_then(Value::as_str).unwrap_or("")
}

/// Reads a boolean column (SQLite returns 0/1).
pub fn flag(row: &Row, column: &str) -> bool {
    match row.get(column) {
        Some(Value::Bool(value)) => *value,
        Some(Value::Number(number)) => number.as_i64().unwrap_or(0) != 0,
        _ => false,
    }
}

/// Reads a JSON column (PostgreSQL returns documents, SQLite text).
pub fn json(row: &Row, column: &str) -> Value {
    match row.get(column) {
        Some(Value::String(text)) => {
            serde_json::from_str(text).unwrap_or(Value::String(text.clone()))
        }
        Some(other) => other.clone(),
        None => Value::Null,
    }
}

/// The newest bugs of a subsystem by creation time (for feeds).
pub async fn newest_bugs(store: &Store, subsystem: &str, limit: i64) -> Result<Vec<Row>, WebError> {
    Ok(store
        .web_rows(
            "listing the newest bugs of a subsystem",
            "SELECT id, state, severity, title, file, line_start, preexisting, created_at, updated_at \
             FROM bugs WHERE subsystem = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            &[SqlParam::Text(subsystem.to_string()), SqlParam::Int(limit)],
        )
        .await?)
}

const FINDING_COLUMNS: &str = "f.id, f.review_id, f.patch_index, f.file, f.line_start, f.line_end, f.stage, f.severity, \
     f.problem, f.severity_explanation, f.preexisting, f.locations, f.evidence, f.model, f.bug_id, f.created_at";

/// Findings linked to a bug, with where they were seen.
pub async fn bug_findings(store: &Store, bug_id: i64) -> Result<Vec<Row>, WebError> {
    let sql = format!(
        "SELECT {FINDING_COLUMNS}, r.series_version_id, sv.title AS series_title, sv.version, \
         p.message_id AS patch_message_id, p.subject AS patch_subject \
         FROM findings f JOIN reviews r ON r.id = f.review_id JOIN series_versions sv ON sv.id = r.series_version_id \
         LEFT JOIN patches p ON p.series_version_id = r.series_version_id AND p.patch_index = f.patch_index \
         WHERE f.bug_id = $1 ORDER BY f.id"
    );
    Ok(store
        .web_rows(
            "reading the findings of a bug",
            &sql,
            &[SqlParam::Int(bug_id)],
        )
        .await?)
}

/// The reported findings of one review (not those a later patch of the
/// series fixes, which are stored and counted but never reported).
pub async fn review_findings(store: &Store, review_id: i64) -> Result<Vec<Row>, WebError> {
    let sql = format!(
        "SELECT {FINDING_COLUMNS} FROM findings f WHERE f.review_id = $1 AND f.status = 'reported' \
         ORDER BY f.patch_index, f.id"
    );
    Ok(store
        .web_rows(
            "reading the findings of a review",
            &sql,
            &[SqlParam::Int(review_id)],
        )
        .await?)
}

/// One series version with its series.
pub async fn series_version(store: &Store, id: i64) -> Result<Option<Row>, WebError> {
    Ok(store
        .web_rows(
            "reading a series version",
            "SELECT id, series_id, version, total, title, author, cover_message_id, created_at \
             FROM series_versions WHERE id = $1",
            &[SqlParam::Int(id)],
        )
        .await?
        .into_iter()
        .next())
}

/// Every version of a series, oldest first, with its patch subjects and
/// diffs.
pub async fn series_versions(store: &Store, series_id: i64) -> Result<Vec<Row>, WebError> {
    Ok(store
        .web_rows(
            "reading the versions of a series",
            "SELECT sv.id, sv.version, p.patch_index, p.subject, p.diff FROM series_versions sv \
             LEFT JOIN patches p ON p.series_version_id = sv.id WHERE sv.series_id = $1 \
             ORDER BY sv.version, sv.id, p.patch_index",
            &[SqlParam::Int(series_id)],
        )
        .await?)
}

/// Patches of a series version.
pub async fn patches(
    store: &Store,
    version_id: i64,
    with_text: bool,
) -> Result<Vec<Row>, WebError> {
    let text_columns = if with_text {
        ", commit_message, diff"
    } else {
        ""
    };
    let sql = format!(
        "SELECT id, patch_index, message_id, subject, author{text_columns} FROM patches \
         WHERE series_version_id = $1 ORDER BY patch_index"
    );
    Ok(store
        .web_rows(
            "reading the patches of a series version",
            &sql,
            &[SqlParam::Int(version_id)],
        )
        .await?)
}

/// Reviews of a series version, newest first.
pub async fn reviews(store: &Store, version_id: i64) -> Result<Vec<Row>, WebError> {
    Ok(store
        .web_rows(
            "reading the reviews of a series version",
            "SELECT id, status, provider, model, prompt_set_hash, runs, usage, cost_usd, wall_ms, error, \
             skipped_stages, started_at, finished_at FROM reviews WHERE series_version_id = $1 ORDER BY id DESC",
            &[SqlParam::Int(version_id)],
        )
        .await?)
}

/// One review with the series version it reviewed.
pub async fn review(store: &Store, id: i64) -> Result<Option<Row>, WebError> {
    Ok(store
        .web_rows(
            "reading a review",
            "SELECT r.id, r.series_version_id, r.status, r.provider, r.model, r.prompt_set_hash, r.guides, r.runs, \
             r.usage, r.cost_usd, r.skipped_stages, r.error, r.wall_ms, r.started_at, r.finished_at, \
             sv.title AS series_title, sv.version FROM reviews r JOIN series_versions sv ON sv.id = r.series_version_id \
             WHERE r.id = $1",
            &[SqlParam::Int(id)],
        )
        .await?
        .into_iter()
        .next())
}

/// The newest series version containing the message `message_id` (a
/// patch or the cover letter), read in one query.
pub async fn series_version_by_message_id(
    store: &Store,
    message_id: &str,
) -> Result<Option<Row>, WebError> {
    Ok(store
        .web_rows(
            "reading the series version of a Message-ID",
            "SELECT id, series_id, version, total, title, author, cover_message_id, created_at \
             FROM series_versions WHERE id = (SELECT series_version_id AS id FROM patches WHERE message_id = $1 \
             UNION SELECT id FROM series_versions WHERE cover_message_id = $1 ORDER BY id DESC LIMIT 1)",
            &[SqlParam::Text(message_id.to_string())],
        )
        .await?
        .into_iter()
        .next())
}

/// Bugs and series matching a search text.
pub async fn search(store: &Store, query: &str) -> Result<(Vec<Row>, Vec<Row>), WebError> {
    let escaped = query
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = SqlParam::Text(format!("%{escaped}%"));
    let id = SqlParam::Int(
        query
            .trim()
            .trim_start_matches('#')
            .parse::<i64>()
            .unwrap_or(-1),
    );
    let bugs = store
        .web_rows(
            "searching bugs",
            "SELECT id, subsystem, state, severity, title, file, line_start FROM bugs \
             WHERE id = $2 OR LOWER(title) LIKE $1 ESCAPE '\\' OR LOWER(file) LIKE $1 ESCAPE '\\' \
             ORDER BY id DESC LIMIT 100",
            &[pattern.clone(), id],
        )
        .await?;
    let series = store
        .web_rows(
            "searching series",
            "SELECT id, title, author, version, created_at FROM series_versions \
             WHERE LOWER(title) LIKE $1 ESCAPE '\\' OR LOWER(author) LIKE $1 ESCAPE '\\' \
             OR cover_message_id = $2 OR id IN (SELECT series_version_id FROM patches WHERE message_id = $2) \
             ORDER BY id DESC LIMIT 50",
            &[pattern, SqlParam::Text(query.trim().trim_matches(['<', '>']).to_string())],
        )
        .await?;
    Ok((bugs, series))
}
