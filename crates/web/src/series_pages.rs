//! The series version page (its versions, patches, reviews and the
//! findings of the newest review that ran to the end) and the review page.
//! Handlers read typed rows from the store, shape them into template
//! values and render; the templates escape everything. A number the store
//! could not read is shown as unknown, never as zero.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::response::Html;
use serde::Serialize;
use serde_json::{json, Value};
use tera::Context;

use sashiko_store::web::{
    PatchRow, ReviewRow, ReviewUsage, SeriesVersionRow, TokenUsage, WebFinding,
};
use sashiko_store::StoredInterdiff;

use crate::auth::CurrentUser;
use crate::format::{encode_component, timestamp};
use crate::mail_facts;
use crate::pages::lore_url;
use crate::templates::render;
use crate::versions;
use crate::{AppState, WebError};

/// One row of a reviews table.
#[derive(Serialize)]
struct ReviewSummary {
    id: i64,
    status: String,
    provider: String,
    model: String,
    /// Numbers as text: "—" when the review recorded no usage, "?" when
    /// its usage could not be read.
    requests: String,
    input_tokens: String,
    output_tokens: String,
    cost: String,
    wall: String,
    started: String,
}

fn usage_figure(
    usage: &ReviewUsage,
    figure: impl Fn(&sashiko_store::web::TokenUsage) -> u64,
) -> String {
    match usage {
        ReviewUsage::Recorded { total, .. } => figure(total).to_string(),
        ReviewUsage::None => "—".to_string(),
        ReviewUsage::Unreadable(_) => "?".to_string(),
    }
}

fn review_summary(review: &ReviewRow) -> ReviewSummary {
    ReviewSummary {
        id: review.id,
        status: review.status.clone(),
        provider: review.provider.clone().unwrap_or_default(),
        model: review.model.clone().unwrap_or_default(),
        requests: usage_figure(&review.usage, |usage| usage.requests),
        input_tokens: usage_figure(&review.usage, |usage| usage.total_input_tokens()),
        output_tokens: usage_figure(&review.usage, |usage| usage.output_tokens),
        cost: review
            .cost_usd
            .map_or_else(|| "—".to_string(), |cost| format!("${cost:.4}")),
        wall: review.wall_ms.map_or_else(
            || "—".to_string(),
            |ms| format!("{:.1} s", ms as f64 / 1000.0),
        ),
        started: timestamp(review.started_at),
    }
}

/// One row of a review page's usage table.
#[derive(Serialize)]
struct UsageRow {
    stage: String,
    total: bool,
    requests: u64,
    input_tokens: u64,
    cache_read_tokens: u64,
    cache_write_tokens: u64,
    output_tokens: u64,
    reasoning_tokens: u64,
    cost: String,
}

impl UsageRow {
    fn new(stage: &str, total: bool, usage: &TokenUsage, cost_usd: Option<f64>) -> UsageRow {
        UsageRow {
            stage: stage.to_string(),
            total,
            requests: usage.requests,
            input_tokens: usage.input_tokens,
            cache_read_tokens: usage.cache_read_tokens,
            cache_write_tokens: usage.cache_write_tokens,
            output_tokens: usage.output_tokens,
            reasoning_tokens: usage.reasoning_tokens,
            cost: cost_usd.map_or_else(|| "—".to_string(), |cost| format!("${cost:.4}")),
        }
    }
}

/// The usage table of a review page: one row per stage and the total, or
/// why there is none.
fn usage_table(usage: &ReviewUsage, cost_usd: Option<f64>) -> Value {
    match usage {
        ReviewUsage::Recorded { total, by_stage } => {
            let mut rows: Vec<UsageRow> = by_stage
                .iter()
                .map(|stage| UsageRow::new(&stage.stage, false, &stage.usage, stage.cost_usd))
                .collect();
            rows.push(UsageRow::new("total", true, total, cost_usd));
            json!({"kind": "recorded", "rows": rows})
        }
        ReviewUsage::None => json!({"kind": "none"}),
        ReviewUsage::Unreadable(text) => json!({"kind": "unreadable", "text": text}),
    }
}

/// The review whose findings a series page shows: the newest one that ran
/// to the end (finished, or partial with stages skipped), so that a later
/// attempt that failed or was interrupted does not hide its findings;
/// failing that the newest one no longer running. `reviews` are newest
/// first.
fn shown_review(reviews: &[ReviewRow]) -> Option<&ReviewRow> {
    reviews
        .iter()
        .find(|review| review.ran_to_the_end())
        .or_else(|| reviews.iter().find(|review| review.status != "running"))
}

/// The findings of `patch_index`, in order.
fn findings_of(findings: &[WebFinding], patch_index: i64) -> Vec<&WebFinding> {
    findings
        .iter()
        .filter(|finding| finding.patch_index == patch_index)
        .collect()
}

pub async fn series(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let store = &state.inner.store;
    let version = store
        .series_version_row(id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("series version {id}")))?;
    let patches = store.version_patches(id, true).await?;
    let reviews = store.version_reviews(id).await?;
    let latest = shown_review(&reviews);
    let (findings, unreported) = match latest {
        Some(review) => (
            store.reported_findings(review.id).await?,
            store.unreported_findings(review.id).await?,
        ),
        None => (Vec::new(), Vec::new()),
    };
    let earlier_version = match latest {
        Some(review) => earlier_version_of(store, review.id).await?,
        None => None,
    };
    let versions = store.series_version_patches(version.series_id, id).await?;
    let position = versions.iter().position(|listed| listed.version_id == id);
    let interdiff = match position.and_then(|at| at.checked_sub(1)) {
        Some(previous) => {
            shown_interdiff(
                store,
                &version,
                &patches,
                &reviews,
                versions[previous].version_id,
            )
            .await?
        }
        None => None,
    };
    let versions: Vec<Value> = versions
        .iter()
        .enumerate()
        .map(|(index, this)| {
            let previous = index.checked_sub(1).map(|previous| &versions[previous]);
            let changes = match previous {
                Some(previous) => versions::compare(&previous.patches, &this.patches),
                None => Vec::new(),
            };
            let changed = changes
                .iter()
                .filter(|change| change.kind != "same")
                .count();
            json!({"id": this.version_id, "version": this.version, "n_patches": this.patches.len(),
                   "changes": changes, "n_changed": changed,
                   "previous": previous.map(|previous| previous.version)})
        })
        .collect();
    let cover = version.cover_message_id.as_deref().unwrap_or_default();
    let mut thread: Vec<String> = patches
        .iter()
        .map(|patch| patch.message_id.clone())
        .collect();
    if !cover.is_empty() {
        thread.insert(0, cover.to_string());
    }
    let mails = store.thread_mails(&thread, 3).await?;
    let facts = mail_facts::read(&patches, (!cover.is_empty()).then_some(cover), &mails);
    let api_id = if cover.is_empty() {
        patches
            .first()
            .map(|patch| patch.message_id.clone())
            .unwrap_or_default()
    } else {
        cover.to_string()
    };
    let patches: Vec<Value> = patches
        .iter()
        .map(|patch| {
            let mine = findings_of(&findings, patch.patch_index);
            let kept = findings_of(&unreported, patch.patch_index);
            let (commit_message, diff) = patch
                .text
                .as_ref()
                .map_or(("", ""), |text| (text.commit_message.as_str(), text.diff.as_str()));
            json!({
                "patch_index": patch.patch_index, "subject": patch.subject, "author": patch.author,
                "title": mail_facts::title(&patch.subject),
                "trailers": facts.trailers.get(&patch.message_id).cloned().unwrap_or_default(),
                "lore_url": lore_url(&state, &patch.message_id), "n_findings": mine.len(), "findings": mine, "unreported": kept,
                "commit_message": commit_message, "diff": diff,
            })
        })
        .collect();
    let mut context = Context::new();
    context.insert(
        "series",
        &json!({
            "id": id, "title": mail_facts::title(&version.title), "version": version.version,
            "total": version.total, "author": version.author, "created": timestamp(version.created_at),
            "sent": facts.sent.map(|seconds| timestamp(seconds.saturating_mul(1000))),
            "cover_message_id": (!cover.is_empty()).then_some(cover), "lore_url": lore_url(&state, cover),
        }),
    );
    context.insert(
        "api_url",
        &format!("/api/patchset?id={}", encode_component(&api_id)),
    );
    context.insert("versions", &versions);
    context.insert("interdiff", &interdiff);
    context.insert("earlier_version", &earlier_version);
    context.insert("patches", &patches);
    context.insert("shown_review", &latest.map(review_summary));
    let shown_tree = match latest {
        Some(review) => crate::pages::review_tree(store, review.id).await?,
        None => None,
    };
    context.insert("shown_tree", &shown_tree);
    context.insert(
        "reviews",
        &reviews.iter().map(review_summary).collect::<Vec<_>>(),
    );
    render(&state, "series.html", context, user.as_ref()).map(Html)
}

/// The version number of the earlier review a review carried findings
/// forward from, when it did.
async fn earlier_version_of(
    store: &sashiko_store::Store,
    review_id: i64,
) -> Result<Option<i64>, WebError> {
    let Some(earlier) = store
        .earlier_review_of(sashiko_store::ReviewId(review_id))
        .await?
    else {
        return Ok(None);
    };
    Ok(store
        .review_detail(earlier.0)
        .await?
        .map(|detail| detail.version))
}

/// What the page says changed since the previous version.
#[derive(Serialize)]
struct ShownInterdiff {
    #[serde(flatten)]
    interdiff: StoredInterdiff,
    /// The review that was given it, or none when it is computed here.
    review_id: Option<i64>,
}

/// The interdiff of this version's page: the one the newest review given
/// one was shown (against the earlier version it was compared with), else
/// the reviewer's interdiff from the previous stored version
/// (`previous_id`) computed now.
async fn shown_interdiff(
    store: &sashiko_store::Store,
    version: &SeriesVersionRow,
    patches: &[PatchRow],
    reviews: &[ReviewRow],
    previous_id: i64,
) -> Result<Option<ShownInterdiff>, WebError> {
    if let Some((review_id, stored)) = reviews
        .iter()
        .find_map(|review| Some((review.id, review.interdiff.clone()?)))
    {
        return Ok(Some(ShownInterdiff {
            interdiff: stored,
            review_id: Some(review_id),
        }));
    }
    let Some(previous) = store.series_version_row(previous_id).await? else {
        return Ok(None);
    };
    let previous_patches = store.version_patches(previous_id, true).await?;
    let earlier = versions::review_series(&previous, &previous_patches);
    let later = versions::review_series(version, patches);
    Ok(Some(ShownInterdiff {
        interdiff: versions::interdiff(&earlier, &later),
        review_id: None,
    }))
}

pub async fn review(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, WebError> {
    let store = &state.inner.store;
    let detail = store
        .review_detail(id)
        .await?
        .ok_or_else(|| WebError::NotFound(format!("review {id}")))?;
    let review = &detail.review;
    let subjects: BTreeMap<i64, String> = store
        .version_patches(review.series_version_id, false)
        .await?
        .into_iter()
        .map(|patch| (patch.patch_index, mail_facts::title(&patch.subject)))
        .collect();
    let findings = store.reported_findings(id).await?;
    let unreported = store.unreported_findings(id).await?;
    let mut groups: Vec<(i64, Vec<&WebFinding>)> = Vec::new();
    for finding in &findings {
        if groups.last().map(|(last, _)| *last) != Some(finding.patch_index) {
            groups.push((finding.patch_index, Vec::new()));
        }
        if let Some(group) = groups.last_mut() {
            group.1.push(finding);
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(index, findings)| json!({"patch_index": index, "subject": subjects.get(&index).cloned().unwrap_or_default(), "findings": findings}))
        .collect();
    let summary = review_summary(review);
    let mut context = Context::new();
    context.insert(
        "review",
        &json!({
            "id": id, "series_version_id": review.series_version_id,
            "series_title": mail_facts::title(&detail.series_title),
            "version": detail.version, "status": review.status, "provider": summary.provider,
            "model": summary.model, "prompt_set_hash": review.prompt_set_hash, "runs": review.runs,
            "started": summary.started, "wall": summary.wall, "cost": summary.cost,
            "skipped": review.skipped_stages.join(", "), "error": review.error.clone().unwrap_or_default(),
        }),
    );
    context.insert("usage", &usage_table(&review.usage, review.cost_usd));
    context.insert("tree", &crate::pages::review_tree(store, id).await?);
    context.insert("groups", &groups);
    context.insert("unreported", &unreported);
    context.insert("earlier_version", &earlier_version_of(store, id).await?);
    render(&state, "review.html", context, user.as_ref()).map(Html)
}
