//! The JSON API. `GET /api/patchset?id=<msgid>` answers in the shape b4's
//! review checks read: the series' status, its patches (id, message_id,
//! part_index) and one review entry per patch whose `output` is a JSON
//! *string* holding `{"findings": [...]}` (b4 decodes it with json.loads)
//! and whose `inline_review` is reply-style text. The other endpoints list
//! subsystems and bugs with keyset pagination. These structs are the wire
//! format; they must never be the store's types serialised directly.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::Json;
use sashiko_pipeline::series::patch_from_stored;
use sashiko_report::inline::{render_styled_reply, Comment, ReplyStyle};
use sashiko_review::{Finding, Severity};
use sashiko_store::web::{PatchRow, ReviewRow, WebFinding};
use sashiko_store::{BugFilter, BugId, BugState};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::format::{encode_component, rfc3339};
use crate::{AppState, WebError};

#[derive(Deserialize)]
pub struct PatchsetQuery {
    #[serde(default)]
    id: String,
}

/// `GET /api/patchset` answer.
#[derive(Serialize)]
pub struct Patchset {
    pub id: i64,
    pub message_id: String,
    pub subject: String,
    pub author: String,
    pub version: i64,
    pub total: i64,
    /// `Pending`, `In Review`, `Reviewed`, `Failed` or `Incomplete`.
    pub status: String,
    pub url: String,
    pub patches: Vec<PatchsetPatch>,
    pub reviews: Vec<PatchReview>,
}

#[derive(Serialize)]
pub struct PatchsetPatch {
    pub id: i64,
    pub message_id: String,
    pub part_index: i64,
    pub subject: String,
    pub author: String,
}

#[derive(Serialize)]
pub struct PatchReview {
    pub id: String,
    pub review_id: i64,
    pub patch_id: i64,
    /// `Reviewed`, `In Review` or `Failed`.
    pub status: String,
    pub result: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub created_at: String,
    /// JSON text of `{"findings": [ApiFinding...]}`.
    pub output: String,
    pub inline_review: String,
}

/// One finding in b4's field names.
#[derive(Serialize, Clone)]
pub struct ApiFinding {
    pub problem: String,
    pub severity: String,
    pub severity_explanation: String,
    pub preexisting: bool,
    pub locations: Vec<ApiLocation>,
    pub file: String,
    pub line_start: i64,
    pub line_end: i64,
    pub stage: String,
    pub bug_id: Option<i64>,
}

#[derive(Serialize, Clone)]
pub struct ApiLocation {
    pub file: String,
    pub line_start: i64,
    pub line_end: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn api_finding(finding: &WebFinding) -> ApiFinding {
    let mut locations = vec![ApiLocation {
        file: finding.file.clone(),
        line_start: finding.line_start,
        line_end: finding.line_end,
        note: None,
    }];
    locations.extend(finding.locations.iter().map(|location| ApiLocation {
        file: location.file.clone(),
        line_start: location.line_start,
        line_end: location.line_end,
        note: location.note.clone(),
    }));
    ApiFinding {
        problem: finding.problem.clone(),
        severity: finding.severity.clone(),
        severity_explanation: finding.severity_explanation.clone(),
        preexisting: finding.preexisting,
        locations,
        file: finding.file.clone(),
        line_start: finding.line_start,
        line_end: finding.line_end,
        stage: finding.stage.clone(),
        bug_id: finding.bug_id,
    }
}

fn series_status(latest: Option<&ReviewRow>, n_patches: i64, total: i64) -> &'static str {
    match latest.map(|review| review.status.as_str()) {
        None if n_patches < total => "Incomplete",
        None => "Pending",
        Some("running") => "In Review",
        Some("finished" | "partial") => "Reviewed",
        Some(_) => "Failed",
    }
}

fn counts_summary(findings: &[ApiFinding]) -> String {
    let mut counts: BTreeMap<usize, (String, usize)> = BTreeMap::new();
    for finding in findings {
        let rank = crate::format::SEVERITIES
            .iter()
            .position(|s| *s == finding.severity)
            .unwrap_or(4);
        counts
            .entry(rank)
            .or_insert_with(|| (finding.severity.clone(), 0))
            .1 += 1;
    }
    if counts.is_empty() {
        return "No findings".to_string();
    }
    counts
        .values()
        .map(|(severity, n)| format!("{n} {severity}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The reviewer's view of a stored finding, for quoting.
fn review_finding(finding: &WebFinding) -> Result<Finding, WebError> {
    let number = |value: i64| u32::try_from(value).unwrap_or(0);
    Ok(Finding {
        patch_index: number(finding.patch_index),
        file: finding.file.clone(),
        line_start: number(finding.line_start),
        line_end: number(finding.line_end),
        stage: finding.stage.clone(),
        severity: finding
            .severity
            .parse::<Severity>()
            .map_err(|error| WebError::Unreadable(format!("finding {}: {error}", finding.id)))?,
        problem: finding.problem.clone(),
        severity_explanation: finding.severity_explanation.clone(),
        preexisting: finding.preexisting,
        locations: Vec::new(),
        evidence: Vec::new(),
        suggestion: None,
        consensus: 1,
    })
}

/// The `inline_review` of one patch: the kernel-style reply the list bot
/// sends (`sashiko_report::inline`, with the report stage's wordings),
/// each comment tagged with its severity and pre-existing bugs included;
/// empty when the patch has no findings.
fn inline_review(patch: &PatchRow, findings: &[&WebFinding]) -> Result<String, WebError> {
    let Some(review_patch) = patch.stored().map(patch_from_stored) else {
        return Ok(String::new());
    };
    let reviewed = findings
        .iter()
        .map(|finding| review_finding(finding))
        .collect::<Result<Vec<Finding>, WebError>>()?;
    let comments: Vec<Comment<'_>> = reviewed
        .iter()
        .zip(findings)
        .map(|(finding, stored)| Comment {
            finding,
            wording: stored.wording.as_deref(),
        })
        .collect();
    let style = ReplyStyle {
        severity_tags: true,
        preexisting: true,
    };
    Ok(render_styled_reply(&review_patch, &comments, style).unwrap_or_default())
}

/// Builds the b4 answer for the series version containing `message_id`.
pub async fn build_patchset(
    state: &AppState,
    message_id: &str,
) -> Result<Option<Patchset>, WebError> {
    let store = &state.inner.store;
    let Some(version) = store.series_version_by_message_id(message_id).await? else {
        return Ok(None);
    };
    let version_id = version.id;
    let reviews = store.version_reviews(version_id).await?;
    let latest = reviews.first();
    // The diffs are only needed for the inline review text.
    let patches = store.version_patches(version_id, latest.is_some()).await?;
    let total = version.total;
    let status = series_status(latest, i64::try_from(patches.len()).unwrap_or(0), total);
    let findings = match latest {
        Some(review) => store.reported_findings(review.id).await?,
        None => Vec::new(),
    };
    let mut patch_reviews = Vec::new();
    if let Some(review) = latest {
        let review_id = review.id;
        let review_status = match review.status.as_str() {
            "running" => "In Review",
            "finished" | "partial" => "Reviewed",
            _ => "Failed",
        };
        for patch in &patches {
            let index = patch.patch_index;
            let rows: Vec<&WebFinding> = findings
                .iter()
                .filter(|finding| finding.patch_index == index)
                .collect();
            let mine: Vec<ApiFinding> = rows.iter().map(|finding| api_finding(finding)).collect();
            let result = match review_status {
                "Failed" => format!(
                    "Review {}: {}",
                    review.status,
                    review.error.as_deref().unwrap_or_default()
                ),
                _ => counts_summary(&mine),
            };
            let output = serde_json::to_string(&serde_json::json!({ "findings": mine })).map_err(
                |error| {
                    WebError::BadRequest(format!(
                        "encoding findings of review {review_id}: {error}"
                    ))
                },
            )?;
            patch_reviews.push(PatchReview {
                id: format!("{review_id}-{index}"),
                review_id,
                patch_id: patch.id,
                status: review_status.to_string(),
                result,
                provider: review.provider.clone(),
                model: review.model.clone(),
                created_at: rfc3339(review.started_at),
                output,
                inline_review: inline_review(patch, &rows)?,
            });
        }
    }
    let series_message_id = match version.cover_message_id.as_deref() {
        Some(cover) if !cover.is_empty() => cover.to_string(),
        _ => patches
            .first()
            .map(|patch| patch.message_id.clone())
            .unwrap_or_default(),
    };
    Ok(Some(Patchset {
        id: version_id,
        message_id: series_message_id,
        subject: version.title,
        author: version.author,
        version: version.version,
        total,
        status: status.to_string(),
        url: format!("/series/{version_id}"),
        patches: patches
            .iter()
            .map(|patch| PatchsetPatch {
                id: patch.id,
                message_id: patch.message_id.clone(),
                part_index: patch.patch_index,
                subject: patch.subject.clone(),
                author: patch.author.clone(),
            })
            .collect(),
        reviews: patch_reviews,
    }))
}

pub async fn patchset(
    State(state): State<AppState>,
    Query(query): Query<PatchsetQuery>,
) -> Result<Json<Patchset>, ApiError> {
    let message_id = query
        .id
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>');
    if message_id.is_empty() {
        return Err(WebError::BadRequest("give the Message-ID as ?id=".into()).into());
    }
    match build_patchset(&state, message_id).await? {
        Some(patchset) => Ok(Json(patchset)),
        None => Err(WebError::NotFound(format!("a series containing {message_id:?}")).into()),
    }
}

#[derive(Serialize)]
pub struct SubsystemCounts {
    pub name: String,
    pub open: BTreeMap<String, i64>,
    pub total: i64,
    pub url: String,
}

pub async fn subsystems(
    State(state): State<AppState>,
) -> Result<Json<Vec<SubsystemCounts>>, ApiError> {
    let rows = state.inner.store.open_bug_counts().await?;
    let mut by_name: BTreeMap<String, SubsystemCounts> = BTreeMap::new();
    for row in rows {
        let entry = by_name
            .entry(row.subsystem.clone())
            .or_insert_with(|| SubsystemCounts {
                url: format!("/api/bugs?subsystem={}", encode_component(&row.subsystem)),
                name: row.subsystem,
                open: BTreeMap::new(),
                total: 0,
            });
        *entry.open.entry(row.severity).or_insert(0) += row.n;
        entry.total += row.n;
    }
    Ok(Json(by_name.into_values().collect()))
}

#[derive(Deserialize)]
pub struct BugsQuery {
    subsystem: Option<String>,
    state: Option<String>,
    before: Option<i64>,
    limit: Option<u32>,
}

#[derive(Serialize)]
pub struct ApiBug {
    pub id: i64,
    pub subsystem: String,
    pub state: String,
    pub severity: String,
    pub title: String,
    pub file: String,
    pub line_start: i64,
    pub line_end: i64,
    pub preexisting: bool,
    pub duplicate_of: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub url: String,
}

impl From<&sashiko_store::Bug> for ApiBug {
    fn from(bug: &sashiko_store::Bug) -> Self {
        ApiBug {
            id: bug.id,
            subsystem: bug.subsystem.clone(),
            state: bug.state.as_str().to_string(),
            severity: bug.severity.clone(),
            title: bug.title.clone(),
            file: bug.file.clone(),
            line_start: bug.line_start,
            line_end: bug.line_end,
            preexisting: bug.preexisting,
            duplicate_of: bug.duplicate_of,
            created_at: rfc3339(bug.created_at),
            updated_at: rfc3339(bug.updated_at),
            url: format!("/bug/{}", bug.id),
        }
    }
}

#[derive(Serialize)]
pub struct BugList {
    pub bugs: Vec<ApiBug>,
    /// Pass as `before` for the next page; null on the last page.
    pub next_before: Option<i64>,
    pub next: Option<String>,
}

pub async fn bugs(
    State(state): State<AppState>,
    Query(query): Query<BugsQuery>,
) -> Result<Json<BugList>, ApiError> {
    let bug_state = match query.state.as_deref().filter(|text| !text.is_empty()) {
        Some(text) => Some(
            text.parse::<BugState>()
                .map_err(|error| WebError::BadRequest(error.to_string()))?,
        ),
        None => None,
    };
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let page = state
        .inner
        .store
        .list_bugs(&BugFilter {
            subsystem: query.subsystem.clone(),
            state: bug_state,
            before_id: query.before,
            limit,
        })
        .await?;
    let next = page.next_before.map(|before| {
        let mut url = format!("/api/bugs?limit={limit}&before={before}");
        if let Some(subsystem) = &query.subsystem {
            url.push_str(&format!("&subsystem={}", encode_component(subsystem)));
        }
        if let Some(bug_state) = bug_state {
            url.push_str(&format!("&state={bug_state}"));
        }
        url
    });
    Ok(Json(BugList {
        bugs: page.bugs.iter().map(ApiBug::from).collect(),
        next_before: page.next_before,
        next,
    }))
}

#[derive(Serialize)]
pub struct BugDetail {
    pub bug: ApiBug,
    pub history: Vec<sashiko_store::BugHistoryEntry>,
    pub findings: Vec<ApiFinding>,
}

pub async fn bug(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Json<BugDetail>, ApiError> {
    let store = &state.inner.store;
    let bug = store
        .bug(BugId(id))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("bug {id}")))?;
    let history = store.bug_history(BugId(id)).await?;
    let sightings = store.bug_sightings(id).await?;
    Ok(Json(BugDetail {
        bug: ApiBug::from(&bug),
        history,
        findings: sightings
            .iter()
            .map(|seen| api_finding(&seen.finding))
            .collect(),
    }))
}
