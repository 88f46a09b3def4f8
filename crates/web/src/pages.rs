//! The HTML pages: subsystems, one subsystem's bugs, a bug and search
//! (series and review pages are in `series_pages`). Handlers gather rows, shape them into
//! template values (formatted times, URLs) and render; the templates
//! escape everything. Handlers must never build HTML from data by hand.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tera::Context;

use sashiko_store::web::{BugListFilter, BugSort, Cursor, NEEDS_ACTION};
use sashiko_store::BugId;

use crate::auth::CurrentUser;
use crate::format::{age, encode_component, encode_path, now_ms, timestamp, SEVERITIES};
use crate::mail_facts;
use crate::owners;
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

/// How review `review_id`'s series met a kernel tree, for the review and
/// series pages (issue 14: a review without tree context says so on every
/// surface); `None` when the review recorded nothing about it.
pub async fn review_tree(
    store: &sashiko_store::Store,
    review_id: i64,
) -> Result<Option<Value>, WebError> {
    let tree = store
        .review_tree(sashiko_store::ReviewId(review_id))
        .await?;
    Ok(tree.map(|tree| {
        json!({
            "status": tree.status, "base": tree.base, "note": tree.note,
            "has_context": tree.has_tree_context(),
        })
    }))
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
    let rows = state.inner.store.open_bug_counts().await?;
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
    let counts = store.subsystem_bug_counts(&name).await?;
    if counts.is_empty() && owners::of_subsystem(&state.inner.maintainers, &name, 1).is_empty() {
        return Err(WebError::NotFound(format!("subsystem {name:?}")));
    }
    let page = store.bug_list_page(&filter).await?;
    let total = store.bug_list_total(&counts, &filter).await?;
    let base = subsystem_url(&name);
    let first_id = page.rows.first().map(|bug| bug.id);
    let last_id = page.rows.last().map(|bug| bug.id);
    let mut context = Context::new();
    context.insert("name", &name);
    context.insert("base_url", &base);
    context.insert("feed_url", &feed_url(&name));
    context.insert(
        "maintainers",
        &owners::of_subsystem(&state.inner.maintainers, &name, 5),
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
    let sightings = store.bug_sightings(id).await?;
    let seen_in: Vec<Value> = sightings
        .iter()
        .map(|seen| {
            json!({
                "series_version_id": seen.series_version_id,
                "series_title": mail_facts::title(&seen.series_title),
                "version": seen.version, "patch_index": seen.finding.patch_index,
                "patch_subject": seen.patch_subject.as_deref().map(mail_facts::title),
                "review_id": seen.finding.review_id,
                "lore_url": seen.patch_message_id.as_deref().filter(|id| !id.is_empty()).map(|id| lore_url(&state, id)),
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
    context.insert("sightings", &seen_in);
    context.insert(
        "findings",
        &sightings
            .iter()
            .map(|seen| &seen.finding)
            .collect::<Vec<_>>(),
    );
    context.insert("history", &history);
    render(&state, "bug.html", context, user.as_ref()).map(Html)
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
        state.inner.store.search(&q).await?
    };
    let series: Vec<Value> = series
        .iter()
        .map(|found| json!({"id": found.id, "title": found.title, "author": found.author, "version": found.version, "created": timestamp(found.created_at)}))
        .collect();
    let mut context = Context::new();
    context.insert("q", &q);
    context.insert("bugs", &bugs);
    context.insert("series", &series);
    render(&state, "search.html", context, user.as_ref()).map(Html)
}
