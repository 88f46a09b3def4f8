//! Series, patches, reviews and findings as the web view's pages and the
//! b4 API read them: one typed row per query, JSON columns (usage,
//! locations, evidence, skipped stages) decoded here into values, so a
//! page never reads a column by name and never shows a default for a
//! column it could not read. Read-only: this module must never write.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::usage::ReviewUsage;
use crate::web_queries::{ColumnError, SqlParam, WebRow};
use crate::{Store, StoreError};

/// One stored version of a series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SeriesVersionRow {
    pub id: i64,
    pub series_id: i64,
    pub version: i64,
    pub total: i64,
    pub title: String,
    pub author: String,
    pub cover_message_id: Option<String>,
    /// When this version was stored (ms since the epoch).
    pub created_at: i64,
}

const VERSION_COLUMNS: &str =
    "id, series_id, version, total, title, author, cover_message_id, created_at";

impl SeriesVersionRow {
    fn decode(row: &WebRow<'_>) -> Result<SeriesVersionRow, ColumnError> {
        Ok(SeriesVersionRow {
            id: row.int(0)?,
            series_id: row.int(1)?,
            version: row.int(2)?,
            total: row.int(3)?,
            title: row.text(4)?.to_string(),
            author: row.text(5)?.to_string(),
            cover_message_id: row.text_or_null(6)?.map(str::to_string),
            created_at: row.int(7)?,
        })
    }
}

/// The text of a patch: its commit message and diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatchText {
    pub commit_message: String,
    pub diff: String,
}

/// One patch of a series version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatchRow {
    pub id: i64,
    pub patch_index: i64,
    pub message_id: String,
    pub subject: String,
    pub author: String,
    /// Read only when asked for.
    pub text: Option<PatchText>,
}

impl PatchRow {
    /// The patch as the store keeps it for the review path, when its text
    /// was read.
    pub fn stored(&self) -> Option<crate::StoredPatch> {
        let text = self.text.as_ref()?;
        Some(crate::StoredPatch {
            index: u32::try_from(self.patch_index).unwrap_or(0),
            message_id: self.message_id.clone(),
            subject: self.subject.clone(),
            author: self.author.clone(),
            commit_message: text.commit_message.clone(),
            diff: text.diff.clone(),
        })
    }
}

/// One review of a series version.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReviewRow {
    pub id: i64,
    pub series_version_id: i64,
    pub status: String,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub prompt_set_hash: String,
    pub runs: i64,
    pub usage: ReviewUsage,
    pub cost_usd: Option<f64>,
    pub wall_ms: Option<i64>,
    pub error: Option<String>,
    pub skipped_stages: Vec<String>,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// The interdiff the review was given, when it reviewed a version n+1.
    pub interdiff: Option<crate::StoredInterdiff>,
}

const REVIEW_COLUMNS: &str = "r.id, r.series_version_id, r.status, r.provider, r.model, r.prompt_set_hash, \
     r.runs, r.usage, r.cost_usd, r.wall_ms, r.error, r.skipped_stages, r.started_at, r.finished_at, \
     r.interdiff";
/// Columns in [`REVIEW_COLUMNS`].
const N_REVIEW_COLUMNS: usize = 15;

impl ReviewRow {
    fn decode(row: &WebRow<'_>) -> Result<ReviewRow, ColumnError> {
        let skipped = match row.json(11)? {
            Value::Null => Vec::new(),
            value => serde_json::from_value::<Vec<String>>(value).map_err(ColumnError::decode)?,
        };
        Ok(ReviewRow {
            id: row.int(0)?,
            series_version_id: row.int(1)?,
            status: row.text(2)?.to_string(),
            provider: row.text_or_null(3)?.map(str::to_string),
            model: row.text_or_null(4)?.map(str::to_string),
            prompt_set_hash: row.text(5)?.to_string(),
            runs: row.int(6)?,
            usage: ReviewUsage::from_json(&row.json(7)?),
            cost_usd: row.float_or_null(8)?,
            wall_ms: row.int_or_null(9)?,
            error: row.text_or_null(10)?.map(str::to_string),
            skipped_stages: skipped,
            started_at: row.int(12)?,
            finished_at: row.int_or_null(13)?,
            interdiff: match row.json(14)? {
                Value::Null => None,
                value => Some(serde_json::from_value(value).map_err(ColumnError::decode)?),
            },
        })
    }

    /// Whether the review ran to the end (finished, or partial with stages
    /// skipped).
    pub fn ran_to_the_end(&self) -> bool {
        matches!(self.status.as_str(), "finished" | "partial")
    }
}

/// A review with the series version it reviewed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReviewDetail {
    pub review: ReviewRow,
    pub series_title: String,
    pub version: i64,
}

/// A further place a finding refers to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingLocation {
    pub file: String,
    pub line_start: i64,
    pub line_end: i64,
    #[serde(default)]
    pub note: Option<String>,
}

/// Supporting material stored with a finding (the review's evidence
/// kinds; an item of another shape is kept as a check with its JSON text).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FindingEvidence {
    QuotedCode { text: String },
    Litmus { test: String, verdict: String },
    Check { name: String, detail: String },
}

impl FindingEvidence {
    fn from_json(value: Value) -> Vec<FindingEvidence> {
        let item = |value: Value| {
            serde_json::from_value::<FindingEvidence>(value.clone()).unwrap_or_else(|_| {
                FindingEvidence::Check {
                    name: "evidence".to_string(),
                    detail: value.to_string(),
                }
            })
        };
        match value {
            Value::Null => Vec::new(),
            Value::Array(items) => items.into_iter().map(item).collect(),
            other => vec![FindingEvidence::Check {
                name: "evidence".to_string(),
                detail: other.to_string(),
            }],
        }
    }
}

/// A finding as the pages and the API show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebFinding {
    pub id: i64,
    pub review_id: i64,
    pub patch_index: i64,
    pub file: String,
    pub line_start: i64,
    pub line_end: i64,
    pub stage: String,
    pub severity: String,
    pub problem: String,
    pub severity_explanation: String,
    pub preexisting: bool,
    pub locations: Vec<FindingLocation>,
    pub evidence: Vec<FindingEvidence>,
    pub model: Option<String>,
    pub bug_id: Option<i64>,
    /// The report stage's checked wording of the reply comment, if any.
    pub wording: Option<String>,
    pub created_at: i64,
    /// `reported`, or why it is kept but not reported: `known`,
    /// `fixed_later`, `fixed`, `not_raised_again`.
    pub status: String,
    /// The reason stored with an unreported status.
    pub status_reason: Option<String>,
    /// How it relates to the earlier version's review (`new`,
    /// `still_present`, `fixed`, `not_raised_again`), when there was one.
    pub carry: Option<String>,
}

const FINDING_COLUMNS: &str = "f.id, f.review_id, f.patch_index, f.file, f.line_start, f.line_end, f.stage, \
     f.severity, f.problem, f.severity_explanation, f.preexisting, f.locations, f.evidence, f.model, \
     f.bug_id, f.wording, f.created_at, f.status, f.status_reason, f.carry";
/// Columns in [`FINDING_COLUMNS`].
const N_FINDING_COLUMNS: usize = 20;

impl WebFinding {
    fn decode(row: &WebRow<'_>) -> Result<WebFinding, ColumnError> {
        let locations = match row.json(11)? {
            Value::Null => Vec::new(),
            value => serde_json::from_value::<Vec<FindingLocation>>(value)
                .map_err(ColumnError::decode)?,
        };
        Ok(WebFinding {
            id: row.int(0)?,
            review_id: row.int(1)?,
            patch_index: row.int(2)?,
            file: row.text(3)?.to_string(),
            line_start: row.int(4)?,
            line_end: row.int(5)?,
            stage: row.text(6)?.to_string(),
            severity: row.text(7)?.to_string(),
            problem: row.text(8)?.to_string(),
            severity_explanation: row.text(9)?.to_string(),
            preexisting: row.flag(10)?,
            locations,
            evidence: FindingEvidence::from_json(row.json(12)?),
            model: row.text_or_null(13)?.map(str::to_string),
            bug_id: row.int_or_null(14)?,
            wording: row.text_or_null(15)?.map(str::to_string),
            created_at: row.int(16)?,
            status: row.text(17)?.to_string(),
            status_reason: row.text_or_null(18)?.map(str::to_string),
            carry: row.text_or_null(19)?.map(str::to_string),
        })
    }
}

/// A finding linked to a bug, with where it was seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BugSighting {
    pub finding: WebFinding,
    pub series_version_id: i64,
    pub series_title: String,
    pub version: i64,
    /// The patch's Message-ID and subject (none when the patch row is gone).
    pub patch_message_id: Option<String>,
    pub patch_subject: Option<String>,
}

/// One patch's subject and diff in the list of a series' versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VersionPatches {
    pub version_id: i64,
    pub version: i64,
    /// (subject, diff) per patch, in order.
    pub patches: Vec<(String, String)>,
}

/// A series version found by a search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FoundSeries {
    pub id: i64,
    pub title: String,
    pub author: String,
    pub version: i64,
    pub created_at: i64,
}

/// A bug found by a search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FoundBug {
    pub id: i64,
    pub subsystem: String,
    pub state: String,
    pub severity: String,
    pub title: String,
    pub file: String,
    pub line_start: i64,
}

impl Store {
    /// One series version.
    pub async fn series_version_row(
        &self,
        id: i64,
    ) -> Result<Option<SeriesVersionRow>, StoreError> {
        Ok(self
            .web_typed(
                "reading a series version",
                &format!("SELECT {VERSION_COLUMNS} FROM series_versions WHERE id = $1"),
                &[SqlParam::Int(id)],
                SeriesVersionRow::decode,
            )
            .await?
            .into_iter()
            .next())
    }

    /// The newest series version containing the message `message_id` (a
    /// patch or the cover letter), read in one query.
    pub async fn series_version_by_message_id(
        &self,
        message_id: &str,
    ) -> Result<Option<SeriesVersionRow>, StoreError> {
        Ok(self
            .web_typed(
                "reading the series version of a Message-ID",
                &format!(
                    "SELECT {VERSION_COLUMNS} FROM series_versions WHERE id = \
                     (SELECT series_version_id AS id FROM patches WHERE message_id = $1 \
                     UNION SELECT id FROM series_versions WHERE cover_message_id = $1 ORDER BY id DESC LIMIT 1)"
                ),
                &[SqlParam::Text(message_id.to_string())],
                SeriesVersionRow::decode,
            )
            .await?
            .into_iter()
            .next())
    }

    /// Every version of a series, oldest first, with its patch subjects and
    /// diffs: those stored under `series_id`, and those sharing the lineage
    /// key of version `version_id` (a version reviewed on its own may be
    /// stored under another series key; the reviewer finds it by lineage,
    /// and so does the page).
    pub async fn series_version_patches(
        &self,
        series_id: i64,
        version_id: i64,
    ) -> Result<Vec<VersionPatches>, StoreError> {
        let rows = self
            .web_typed(
                "reading the versions of a series",
                "SELECT sv.id, sv.version, p.subject, p.diff FROM series_versions sv \
                 LEFT JOIN patches p ON p.series_version_id = sv.id WHERE sv.series_id = $1 \
                 OR sv.lineage_key = (SELECT lineage_key FROM series_versions WHERE id = $2) \
                 ORDER BY sv.version, sv.id, p.patch_index",
                &[SqlParam::Int(series_id), SqlParam::Int(version_id)],
                |row| {
                    let patch = match row.text_or_null(2)? {
                        Some(subject) => Some((subject.to_string(), row.text(3)?.to_string())),
                        None => None,
                    };
                    Ok((row.int(0)?, row.int(1)?, patch))
                },
            )
            .await?;
        let mut versions: Vec<VersionPatches> = Vec::new();
        for (version_id, version, patch) in rows {
            if versions.last().map(|last| last.version_id) != Some(version_id) {
                versions.push(VersionPatches {
                    version_id,
                    version,
                    patches: Vec::new(),
                });
            }
            if let (Some(last), Some(patch)) = (versions.last_mut(), patch) {
                last.patches.push(patch);
            }
        }
        Ok(versions)
    }

    /// The patches of a series version in order, with their text when
    /// `with_text`.
    pub async fn version_patches(
        &self,
        version_id: i64,
        with_text: bool,
    ) -> Result<Vec<PatchRow>, StoreError> {
        let text_columns = if with_text {
            ", commit_message, diff"
        } else {
            ""
        };
        self.web_typed(
            "reading the patches of a series version",
            &format!(
                "SELECT id, patch_index, message_id, subject, author{text_columns} FROM patches \
                 WHERE series_version_id = $1 ORDER BY patch_index"
            ),
            &[SqlParam::Int(version_id)],
            |row| {
                let text = if with_text {
                    Some(PatchText {
                        commit_message: row.text(5)?.to_string(),
                        diff: row.text(6)?.to_string(),
                    })
                } else {
                    None
                };
                Ok(PatchRow {
                    id: row.int(0)?,
                    patch_index: row.int(1)?,
                    message_id: row.text(2)?.to_string(),
                    subject: row.text(3)?.to_string(),
                    author: row.text(4)?.to_string(),
                    text,
                })
            },
        )
        .await
    }

    /// The reviews of a series version, newest first.
    pub async fn version_reviews(&self, version_id: i64) -> Result<Vec<ReviewRow>, StoreError> {
        self.web_typed(
            "reading the reviews of a series version",
            &format!(
                "SELECT {REVIEW_COLUMNS} FROM reviews r WHERE r.series_version_id = $1 ORDER BY r.id DESC"
            ),
            &[SqlParam::Int(version_id)],
            ReviewRow::decode,
        )
        .await
    }

    /// One review with the series version it reviewed.
    pub async fn review_detail(&self, id: i64) -> Result<Option<ReviewDetail>, StoreError> {
        Ok(self
            .web_typed(
                "reading a review",
                &format!(
                    "SELECT {REVIEW_COLUMNS}, sv.title, sv.version FROM reviews r \
                     JOIN series_versions sv ON sv.id = r.series_version_id WHERE r.id = $1"
                ),
                &[SqlParam::Int(id)],
                |row| {
                    Ok(ReviewDetail {
                        review: ReviewRow::decode(row)?,
                        series_title: row.text(N_REVIEW_COLUMNS)?.to_string(),
                        version: row.int(N_REVIEW_COLUMNS + 1)?,
                    })
                },
            )
            .await?
            .into_iter()
            .next())
    }

    /// The reported findings of one review by patch (not those a later
    /// patch of the series fixes, which are stored and counted but never
    /// reported).
    pub async fn reported_findings(&self, review_id: i64) -> Result<Vec<WebFinding>, StoreError> {
        self.web_typed(
            "reading the findings of a review",
            &format!(
                "SELECT {FINDING_COLUMNS} FROM findings f WHERE f.review_id = $1 AND f.status = 'reported' \
                 ORDER BY f.patch_index, f.id"
            ),
            &[SqlParam::Int(review_id)],
            WebFinding::decode,
        )
        .await
    }

    /// The findings of one review that are kept but not reported (known
    /// issues, fixed later in the series, fixed or not raised again since
    /// the earlier version), by patch, each with its status and reason.
    pub async fn unreported_findings(&self, review_id: i64) -> Result<Vec<WebFinding>, StoreError> {
        self.web_typed(
            "reading the unreported findings of a review",
            &format!(
                "SELECT {FINDING_COLUMNS} FROM findings f WHERE f.review_id = $1 AND f.status <> 'reported' \
                 ORDER BY f.patch_index, f.id"
            ),
            &[SqlParam::Int(review_id)],
            WebFinding::decode,
        )
        .await
    }

    /// The findings linked to a bug, with where they were seen.
    pub async fn bug_sightings(&self, bug_id: i64) -> Result<Vec<BugSighting>, StoreError> {
        self.web_typed(
            "reading the findings of a bug",
            &format!(
                "SELECT {FINDING_COLUMNS}, r.series_version_id, sv.title, sv.version, \
                 p.message_id, p.subject \
                 FROM findings f JOIN reviews r ON r.id = f.review_id \
                 JOIN series_versions sv ON sv.id = r.series_version_id \
                 LEFT JOIN patches p ON p.series_version_id = r.series_version_id AND p.patch_index = f.patch_index \
                 WHERE f.bug_id = $1 ORDER BY f.id"
            ),
            &[SqlParam::Int(bug_id)],
            |row| {
                let at = N_FINDING_COLUMNS;
                Ok(BugSighting {
                    finding: WebFinding::decode(row)?,
                    series_version_id: row.int(at)?,
                    series_title: row.text(at + 1)?.to_string(),
                    version: row.int(at + 2)?,
                    patch_message_id: row.text_or_null(at + 3)?.map(str::to_string),
                    patch_subject: row.text_or_null(at + 4)?.map(str::to_string),
                })
            },
        )
        .await
    }

    /// Bugs (at most 100) and series versions (at most 50) matching a
    /// search text: in titles, files, authors, as a bug id or as a
    /// Message-ID, newest first.
    pub async fn search(
        &self,
        query: &str,
    ) -> Result<(Vec<FoundBug>, Vec<FoundSeries>), StoreError> {
        let pattern = SqlParam::Text(format!(
            "%{}%",
            super::bug_list::like_escaped(&query.to_lowercase())
        ));
        let id = SqlParam::Int(
            query
                .trim()
                .trim_start_matches('#')
                .parse::<i64>()
                .unwrap_or(-1),
        );
        let bugs = self
            .web_typed(
                "searching bugs",
                "SELECT id, subsystem, state, severity, title, file, line_start FROM bugs \
                 WHERE id = $2 OR LOWER(title) LIKE $1 ESCAPE '\\' OR LOWER(file) LIKE $1 ESCAPE '\\' \
                 ORDER BY id DESC LIMIT 100",
                &[pattern.clone(), id],
                |row| {
                    Ok(FoundBug {
                        id: row.int(0)?,
                        subsystem: row.text(1)?.to_string(),
                        state: row.text(2)?.to_string(),
                        severity: row.text(3)?.to_string(),
                        title: row.text(4)?.to_string(),
                        file: row.text(5)?.to_string(),
                        line_start: row.int(6)?,
                    })
                },
            )
            .await?;
        let message_id = SqlParam::Text(query.trim().trim_matches(['<', '>']).to_string());
        let series = self
            .web_typed(
                "searching series",
                "SELECT id, title, author, version, created_at FROM series_versions \
                 WHERE LOWER(title) LIKE $1 ESCAPE '\\' OR LOWER(author) LIKE $1 ESCAPE '\\' \
                 OR cover_message_id = $2 OR id IN (SELECT series_version_id FROM patches WHERE message_id = $2) \
                 ORDER BY id DESC LIMIT 50",
                &[pattern, message_id],
                |row| {
                    Ok(FoundSeries {
                        id: row.int(0)?,
                        title: row.text(1)?.to_string(),
                        author: row.text(2)?.to_string(),
                        version: row.int(3)?,
                        created_at: row.int(4)?,
                    })
                },
            )
            .await?;
        Ok((bugs, series))
    }
}
