//! The HTML pages: subsystems, one subsystem's bugs, a bug, a series
//! version, a review and search. Handlers gather rows, shape them into
//! template values (formatted times, URLs) and render; the templates
//! escape everything. Handlers must never build HTML from data by hand.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tera::Context;

use sashiko_store::BugId;

use crate::auth::CurrentUser;
use crate::bug_list::{self, BugListFilter, BugSort, Cursor, NEEDS_ACTION};
use crate::counts::{self, SubsystemCounts};
use crate::format::{age, encode_component, encode_path, now_ms, timestamp, SEVERITIES};
use crate::interdiff;
use crate::queries::{self, flag, int, json, text, Row};
use crate::templates::render;
use crate::{AppState, WebError};

/// Bugs per page of a subsystem list (rendering is most of a page's cost).
const PAGE_SIZE: i64 = 50;

pub fn subsystem_url(name: &str) -> String {
    format!("/subsystem/{}", encode_path(name))
}

pub fn feed_url(name: &str) -> String {
    format!("/feeds/{}.atom", encode_path(name))
}

pub fn lore_url(state: &AppState, message_id: &str) -> String {
    format!(
        "{}{}",
        state.inner.config.lore_base,
        encode_component(message_id.trim_matches(['<', '>']))
    )
}

#[derive(Serialize, Default)]
struct SubsystemSummary {
    name: String,
    url: String,
    feed_url: String,
    critical: i64,
    high: i64,
    medium: i64,
    low: i64,
    total: i64,
}

pub async fn index(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
) -> Result<Html<String>, WebError> {
    let rows = counts::subsystem_counts(&state.inner.store).await?;
    let mut by_name: BTreeMap<String, SubsystemSummary> = BTreeMap::new();
    for row in rows {
        let count = row.n;
        let summary = match by_name.entry(row.subsystem) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => {
                let name = entry.key().clone();
                entry.insert(SubsystemSummary {
                    url: subsystem_url(&name),
                    feed_url: feed_url(&name),
                    name,
                    ..SubsystemSummary::default()
                })
            }
        };
        match row.severity.as_str() {
            "critical" => summary.critical += count,
            "high" => summary.high += count,
            "medium" => summary.medium += count,
            _ => summary.low += count,
        }
        summary.total += count;
    }
    let mut subsystems: Vec<SubsystemSummary> = by_name.into_values().collect();
    subsystems.sort_by(|a, b| {
        (b.critical, b.high, b.medium, b.total)
            .cmp(&(a.critical, a.high, a.medium, a.total))
            .then(a.name.cmp(&b.name))
    });
    let mut context = Context::new();
    context.insert(
        "total_open",
        &subsystems.iter().map(|s| s.total).sum::<i64>(),
    );
    context.insert("subsystems", &subsystems);
    render(&state, "index.html", context, user.as_ref()).map(Html)
}

#[derive(Deserialize, Default, Serialize, Clone)]
pub struct SubsystemQuery {
    #[serde(default)]
    view: String,
    #[serde(default)]
    severity: String,
    #[serde(default)]
    preexisting: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    file: String,
    #[serde(default)]
    sort: String,
    /// Keyset cursors: the page starts after / ends before this bug id.
    #[serde(default)]
    after: Option<i64>,
    #[serde(default)]
    before: Option<i64>,
}

const VIEWS: [(&str, &str); 8] = [
    ("needs-action", "needs action (open, confirmed)"),
    ("all", "all states"),
    ("open", "open"),
    ("confirmed", "confirmed"),
    ("invalid", "invalid"),
    ("fixed", "fixed"),
    ("known", "known / todo"),
    ("duplicate", "duplicate"),
];

fn states_of_view(view: &str) -> Vec<&'static str> {
    match view {
        "all" => Vec::new(),
        "open" => vec!["open"],
        "confirmed" => vec!["confirmed"],
        "invalid" => vec!["invalid"],
        "fixed" => vec!["fixed"],
        "known" => vec!["known"],
        "duplicate" => vec!["duplicate"],
        _ => NEEDS_ACTION.to_vec(),
    }
}

impl SubsystemQuery {
    fn normalised(mut self) -> SubsystemQuery {
        if !VIEWS.iter().any(|(name, _)| *name == self.view) {
            self.view = "needs-action".to_string();
        }
        if !SEVERITIES.contains(&self.severity.as_str()) {
            self.severity.clear();
        }
        if !matches!(self.preexisting.as_str(), "yes" | "no") {
            self.preexisting.clear();
        }
        if !self.age.trim().parse::<i64>().is_ok_and(|days| days > 0) {
            self.age.clear();
        }
        self.file = self.file.trim().to_string();
        self.sort = BugSort::parse(&self.sort).name().to_string();
        self
    }

    fn url(&self, base: &str, sort: Option<&str>, cursor: Option<Cursor>) -> String {
        let mut parts = vec![format!("view={}", encode_component(&self.view))];
        for (key, value) in [
            ("severity", &self.severity),
            ("preexisting", &self.preexisting),
            ("age", &self.age),
            ("file", &self.file),
        ] {
            if !value.is_empty() {
                parts.push(format!("{key}={}", encode_component(value)));
            }
        }
        parts.push(format!("sort={}", sort.unwrap_or(&self.sort)));
        match cursor {
            Some(Cursor { id, before: false }) => parts.push(format!("after={id}")),
            Some(Cursor { id, before: true }) => parts.push(format!("before={id}")),
            None => {}
        }
        format!("{base}?{}", parts.join("&"))
    }
}

pub async fn subsystem(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(name): Path<String>,
    Query(query): Query<SubsystemQuery>,
) -> Result<Html<String>, WebError> {
    let query = query.normalised();
    let cursor = match (query.after, query.before) {
        (Some(id), _) => Some(Cursor { id, before: false }),
        (None, Some(id)) => Some(Cursor { id, before: true }),
        (None, None) => None,
    };
    let filter = BugListFilter {
        subsystem: name.clone(),
        states: states_of_view(&query.view),
        severity: SEVERITIES
            .iter()
            .copied()
            .find(|severity| *severity == query.severity),
        preexisting: match query.preexisting.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        max_age_days: query.age.parse().ok(),
        file_prefix: (!query.file.is_empty()).then(|| query.file.clone()),
        sort: BugSort::parse(&query.sort),
        limit: PAGE_SIZE,
        cursor,
    };
    let store = &state.inner.store;
    let counts = SubsystemCounts::read(store, &name).await?;
    if counts.is_empty() && state.inner.maintainers.for_subsystem(&name, 1).is_empty() {
        return Err(WebError::NotFound(format!("subsystem {name:?}")));
    }
    let page = bug_list::subsystem_bugs(store, &filter).await?;
    let total = counts::matching(store, &counts, &filter).await?;
    let base = subsystem_url(&name);
    let first_id = page.rows.first().map(|bug| bug.id);
    let last_id = page.rows.last().map(|bug| bug.id);
    let mut context = Context::new();
    context.insert("name", &name);
    context.insert("base_url", &base);
    context.insert("feed_url", &feed_url(&name));
    context.insert(
        "maintainers",
        &state.inner.maintainers.for_subsystem(&name, 5),
    );
    context.insert(
        "state_counts",
        &counts
            .by_state()
            .iter()
            .map(|(state, n)| json!({"state": state, "n": n}))
            .collect::<Vec<_>>(),
    );
    context.insert("filters", &query);
    context.insert("view_options", &VIEWS);
    context.insert("severities", &SEVERITIES);
    context.insert(
        "sort_options",
        &BugSort::ALL
            .iter()
            .map(|(_, name, label)| (*name, *label))
            .collect::<Vec<_>>(),
    );
    let sort_urls: BTreeMap<&str, String> = BugSort::ALL
        .iter()
        .map(|(_, sort, _)| (*sort, query.url(&base, Some(sort), None)))
        .collect();
    context.insert("sort_urls", &sort_urls);
    context.insert("bug_rows", &crate::bug_table::rows(&page.rows, now_ms()));
    context.insert("total", &total);
    context.insert("shown", &page.rows.len());
    context.insert(
        "first_url",
        &page.more_before.then(|| query.url(&base, None, None)),
    );
    context.insert(
        "prev_url",
        &first_id
            .filter(|_| page.more_before)
            .map(|id| query.url(&base, None, Some(Cursor { id, before: true }))),
    );
    context.insert(
        "next_url",
        &last_id
            .filter(|_| page.more_after)
            .map(|id| query.url(&base, None, Some(Cursor { id, before: false }))),
    );
    render(&state, "subsystem.html", context, user.as_ref()).map(Html)
}

/// Shapes a finding row for `findings.html`.
pub fn finding_value(row: &Row) -> Value {
    let evidence = match json(row, "evidence") {
        Value::Array(items) => items,
        Value::Null => Vec::new(),
        other => vec![json!({"kind": "check", "name": "evidence", "detail": other.to_string()})],
    };
    let locations = match json(row, "locations") {
        Value::Array(items) => items,
        _ => Vec::new(),
    };
    json!({
        "id": int(row, "id"), "review_id": int(row, "review_id"), "patch_index": int(row, "patch_index"),
        "file": text(row, "file"), "line_start": int(row, "line_start"), "line_end": int(row, "line_end"),
        "stage": text(row, "stage"), "severity": text(row, "severity"), "problem": text(row, "problem"),
        "severity_explanation": text(row, "severity_explanation"), "preexisting": flag(row, "preexisting"),
        "locations": locations, "evidence": evidence,
        "bug_id": row.get("bug_id").cloned().unwrap_or(Value::Null),
    })
}

pub async fn bug(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let store = &state.inner.store;
    let bug = store
        .bug(BugId(id))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("bug {id}")))?;
    let history = store.bug_history(BugId(id)).await?;
    let findings = queries::bug_findings(store, id).await?;
    let sightings: Vec<Value> = findings
        .iter()
        .map(|row| {
            let message_id = text(row, "patch_message_id");
            json!({
                "series_version_id": int(row, "series_version_id"), "series_title": text(row, "series_title"),
                "version": int(row, "version"), "patch_index": int(row, "patch_index"),
                "patch_subject": text(row, "patch_subject"), "review_id": int(row, "review_id"),
                "lore_url": (!message_id.is_empty()).then(|| lore_url(&state, message_id)),
            })
        })
        .collect();
    let history: Vec<Value> = history
        .iter()
        .map(|entry| json!({"when": timestamp(entry.changed_at), "actor": entry.actor, "from_state": entry.from_state, "to_state": entry.to_state, "reason": entry.reason}))
        .collect();
    let mut context = Context::new();
    context.insert("subsystem_url", &subsystem_url(&bug.subsystem));
    context.insert("created", &timestamp(bug.created_at));
    context.insert("age", &age(bug.created_at, now_ms()));
    context.insert(
        "may_triage",
        &user
            .as_ref()
            .is_some_and(|user| user.may_triage(&bug.subsystem)),
    );
    context.insert("bug", &bug);
    context.insert("sightings", &sightings);
    context.insert(
        "findings",
        &findings.iter().map(finding_value).collect::<Vec<_>>(),
    );
    context.insert("history", &history);
    render(&state, "bug.html", context, user.as_ref()).map(Html)
}

fn usage_number(usage: &Value, key: &str) -> i64 {
    usage.get(key).and_then(Value::as_i64).unwrap_or(0)
}

pub fn review_summary(row: &Row) -> Value {
    let usage = json(row, "usage");
    json!({
        "id": int(row, "id"), "status": text(row, "status"), "provider": text(row, "provider"), "model": text(row, "model"),
        "requests": usage_number(&usage, "requests"), "input_tokens": usage_number(&usage, "input_tokens"),
        "output_tokens": usage_number(&usage, "output_tokens"),
        "cost": row.get("cost_usd").and_then(Value::as_f64).map_or_else(|| "—".to_string(), |cost| format!("${cost:.4}")),
        "wall": row.get("wall_ms").and_then(Value::as_i64).map_or_else(|| "—".to_string(), |ms| format!("{:.1} s", ms as f64 / 1000.0)),
        "started": timestamp(int(row, "started_at")),
    })
}

/// The review whose findings a series page shows: the newest one that ran
/// to the end (finished, or partial with stages skipped), so that a later
/// attempt that failed or was interrupted does not hide its findings;
/// failing that the newest one no longer running. `reviews` are newest
/// first.
fn shown_review(reviews: &[Row]) -> Option<&Row> {
    reviews
        .iter()
        .find(|row| matches!(text(row, "status"), "finished" | "partial"))
        .or_else(|| reviews.iter().find(|row| text(row, "status") != "running"))
}

pub async fn series(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let store = &state.inner.store;
    let version = queries::series_version(store, id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("series version {id}")))?;
    let patches = queries::patches(store, id, true).await?;
    let reviews = queries::reviews(store, id).await?;
    let latest = shown_review(&reviews);
    let findings = match latest {
        Some(review) => queries::review_findings(store, int(review, "id")).await?,
        None => Vec::new(),
    };
    // (version id, version number, (subject, diff) per patch)
    let mut versions: Vec<(i64, i64, Vec<interdiff::SubjectAndDiff>)> = Vec::new();
    for row in queries::series_versions(store, int(&version, "series_id")).await? {
        let version_id = int(&row, "id");
        if versions.last().map(|(last, _, _)| *last) != Some(version_id) {
            versions.push((version_id, int(&row, "version"), Vec::new()));
        }
        if let (Some(last), Some(Value::String(subject))) =
            (versions.last_mut(), row.get("subject"))
        {
            last.2
                .push((subject.clone(), text(&row, "diff").to_string()));
        }
    }
    let versions: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(index, (version_id, number, patches))| {
            let changes = match index.checked_sub(1) {
                Some(previous) => interdiff::compare(&versions[previous].2, patches),
                None => Vec::new(),
            };
            let changed = changes
                .iter()
                .filter(|change| change.kind != "same")
                .count();
            json!({"id": version_id, "version": number, "n_patches": patches.len(),
                   "changes": changes, "n_changed": changed,
                   "previous": index.checked_sub(1).map(|previous| versions[previous].1)})
        })
        .collect();
    let cover = text(&version, "cover_message_id");
    let api_id = if cover.is_empty() {
        patches
            .first()
            .map(|row| text(row, "message_id").to_string())
            .unwrap_or_default()
    } else {
        cover.to_string()
    };
    let patches: Vec<Value> = patches
        .iter()
        .map(|row| {
            let index = int(row, "patch_index");
            let mine: Vec<Value> = findings.iter().filter(|f| int(f, "patch_index") == index).map(finding_value).collect();
            json!({
                "patch_index": index, "subject": text(row, "subject"), "author": text(row, "author"),
                "lore_url": lore_url(&state, text(row, "message_id")), "n_findings": mine.len(), "findings": mine,
                "commit_message": text(row, "commit_message"), "diff": text(row, "diff"),
            })
        })
        .collect();
    let mut context = Context::new();
    context.insert(
        "series",
        &json!({
            "id": id, "title": text(&version, "title"), "version": int(&version, "version"), "total": int(&version, "total"),
            "author": text(&version, "author"), "created": timestamp(int(&version, "created_at")),
            "cover_message_id": (!cover.is_empty()).then_some(cover), "lore_url": lore_url(&state, cover),
        }),
    );
    context.insert(
        "api_url",
        &format!("/api/patchset?id={}", encode_component(&api_id)),
    );
    context.insert("versions", &versions);
    context.insert("patches", &patches);
    context.insert("shown_review", &latest.map(review_summary));
    context.insert(
        "reviews",
        &reviews.iter().map(review_summary).collect::<Vec<_>>(),
    );
    render(&state, "series.html", context, user.as_ref()).map(Html)
}

pub async fn review(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let store = &state.inner.store;
    let row = queries::review(store, id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("review {id}")))?;
    let version_id = int(&row, "series_version_id");
    let subjects: BTreeMap<i64, String> = queries::patches(store, version_id, false)
        .await?
        .iter()
        .map(|patch| {
            (
                int(patch, "patch_index"),
                text(patch, "subject").to_string(),
            )
        })
        .collect();
    let findings = queries::review_findings(store, id).await?;
    let mut groups: Vec<(i64, Vec<Value>)> = Vec::new();
    for finding in &findings {
        let index = int(finding, "patch_index");
        if groups.last().map(|(last, _)| *last) != Some(index) {
            groups.push((index, Vec::new()));
        }
        if let Some(group) = groups.last_mut() {
            group.1.push(finding_value(finding));
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(index, findings)| json!({"patch_index": index, "subject": subjects.get(&index).cloned().unwrap_or_default(), "findings": findings}))
        .collect();
    let summary = review_summary(&row);
    let skipped = match json(&row, "skipped_stages") {
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(", "),
        _ => String::new(),
    };
    let mut context = Context::new();
    context.insert(
        "review",
        &json!({
            "id": id, "series_version_id": version_id, "series_title": text(&row, "series_title"), "version": int(&row, "version"),
            "status": text(&row, "status"), "provider": text(&row, "provider"), "model": text(&row, "model"),
            "prompt_set_hash": text(&row, "prompt_set_hash"), "runs": int(&row, "runs"), "started": summary["started"],
            "wall": summary["wall"], "cost": summary["cost"], "skipped": skipped, "error": text(&row, "error"),
            "usage": serde_json::to_string_pretty(&json(&row, "usage")).unwrap_or_default(),
        }),
    );
    context.insert("groups", &groups);
    render(&state, "review.html", context, user.as_ref()).map(Html)
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
}

pub async fn search(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<SearchQuery>,
) -> Result<Html<String>, WebError> {
    let q = query.q.trim().chars().take(200).collect::<String>();
    let (bugs, series) = if q.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        queries::search(&state.inner.store, &q).await?
    };
    let series: Vec<Value> = series
        .iter()
        .map(|row| json!({"id": int(row, "id"), "title": text(row, "title"), "author": text(row, "author"), "version": int(row, "version"), "created": timestamp(int(row, "created_at"))}))
        .collect();
    let mut context = Context::new();
    context.insert("q", &q);
    context.insert("bugs", &bugs);
    context.insert("series", &series);
    render(&state, "search.html", context, user.as_ref()).map(Html)
}
