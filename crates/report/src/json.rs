//! The JSON document of `sashiko review --format json`: the series, its
//! patches, findings in b4's field names (problem, severity,
//! severity_explanation, preexisting, locations), skipped stages and usage.
//! These structs are the wire format; they convert from the core types
//! explicitly so the core can change without breaking consumers.

use serde::Serialize;

use sashiko_review::versions::Carry;
use sashiko_review::{Finding, ReviewOutput, ReviewSeries, StageState};

/// Everything about one review that is not in the series or the output.
#[derive(Clone, Debug)]
pub struct ReviewMeta<'a> {
    pub review_id: Option<i64>,
    pub status: &'a str,
    pub provider: Option<&'a str>,
    pub model: Option<&'a str>,
    pub endpoint: Option<&'a str>,
    /// Where the series came from (`git:HEAD~3..`, `mbox:path`, ...).
    pub source: &'a str,
    pub wall_ms: u64,
    /// US dollars from the configured price table; `None` when unknown.
    pub cost_usd: Option<f64>,
    /// How the series met a kernel tree, when the review knows.
    pub tree: Option<TreeView<'a>>,
    /// Times the finder stages ran (`--runs`); each finding's `consensus`
    /// counts the runs that raised it.
    pub runs: u32,
}

/// How a review's series met a kernel tree (applied on its base-commit, 3-way,
/// with fuzz, not at all): shown so a review without tree context never passes
/// for one with it.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct TreeView<'a> {
    /// `commits`, `base_commit`, `clean`, `three_way`, `fuzzy`, `not_applied`
    /// or `no_tree`.
    pub status: &'a str,
    /// The commit the series was applied on.
    pub base: Option<&'a str>,
    /// One line for people.
    pub note: &'a str,
}

#[derive(Serialize)]
pub struct ReviewDocument<'a> {
    pub review: ReviewHeader<'a>,
    pub series: SeriesView<'a>,
    pub patches: Vec<PatchView<'a>>,
    pub findings: Vec<FindingView<'a>>,
    pub skipped_stages: Vec<SkippedView<'a>>,
    /// Stages that failed after their retries, with the reason: the
    /// review is partial.
    pub failed_stages: Vec<SkippedView<'a>>,
    pub stages: &'a [sashiko_review::StageReport],
    pub dropped: DroppedView,
    pub usage: UsageView,
    /// Findings whose cited code a later patch of the series changes:
    /// kept, not reported.
    pub fixed_later: Vec<UnreportedView<'a>>,
    /// Known issues (annotated in the code naming the same problem, or
    /// marked known by a maintainer): kept, not reported, with the reason.
    pub known: Vec<UnreportedView<'a>>,
    /// On v(n+1) of a series reviewed before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub versions: Option<VersionsView<'a>>,
}

/// A finding kept but not reported, and why.
#[derive(Serialize)]
pub struct UnreportedView<'a> {
    #[serde(flatten)]
    pub finding: FindingView<'a>,
    pub reason: String,
}

/// How this review relates to the earlier version's.
#[derive(Serialize)]
pub struct VersionsView<'a> {
    pub earlier_version: u32,
    pub earlier_review_id: i64,
    pub new: usize,
    pub still_present: usize,
    /// Earlier findings a re-check of this version's end state shows fixed.
    pub fixed: Vec<UnreportedView<'a>>,
    /// Earlier findings this review did not raise again and nothing
    /// confirmed: listed with their earlier text, not reported.
    pub not_raised_again: Vec<UnreportedView<'a>>,
    /// Files the interdiff of the two end states shows.
    pub interdiff_files: &'a [String],
    pub notes: &'a [String],
}

#[derive(Serialize)]
pub struct ReviewHeader<'a> {
    pub id: Option<i64>,
    pub status: &'a str,
    pub provider: Option<&'a str>,
    pub model: Option<&'a str>,
    pub endpoint: Option<&'a str>,
    pub prompt_set_hash: &'a str,
    pub source: &'a str,
    pub compromised: bool,
    /// MAINTAINERS entries touched, most specific first.
    pub subsystems: &'a [String],
    /// Subsystem guides given to the stages.
    pub guides: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tree: Option<TreeView<'a>>,
}

#[derive(Serialize)]
pub struct SeriesView<'a> {
    pub title: &'a str,
    pub version: u32,
    pub total: usize,
}

#[derive(Serialize)]
pub struct PatchView<'a> {
    pub index: u32,
    pub subject: &'a str,
    pub author: &'a str,
    pub message_id: Option<&'a str>,
    pub commit_id: Option<&'a str>,
    pub findings: usize,
}

#[derive(Serialize)]
pub struct LocationView<'a> {
    pub file: &'a str,
    pub line_start: u32,
    pub line_end: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'a str>,
}

#[derive(Serialize)]
pub struct FindingView<'a> {
    pub patch_index: u32,
    pub stage: &'a str,
    pub file: &'a str,
    pub line_start: u32,
    pub line_end: u32,
    pub problem: &'a str,
    pub severity: &'a str,
    pub severity_explanation: &'a str,
    pub preexisting: bool,
    /// The primary location first, then the others.
    pub locations: Vec<LocationView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<&'a str>,
    pub evidence: &'a [sashiko_review::Evidence],
    pub fingerprint: String,
    /// Runs of the review that raised it (with `--runs N`).
    pub consensus: u32,
    /// On v(n+1): `new` or `still_present` (or `fixed`) against the
    /// earlier version's review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carry: Option<&'static str>,
    /// The earlier version's finding (stored row id) it continues.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub earlier_finding_id: Option<i64>,
    /// The report stage's wording of the reply comment, when it passed the
    /// checks (else the reply uses `problem`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wording: Option<&'a str>,
}

impl<'a> FindingView<'a> {
    pub fn from_finding(finding: &'a Finding) -> FindingView<'a> {
        let mut locations = vec![LocationView {
            file: &finding.file,
            line_start: finding.line_start,
            line_end: finding.line_end,
            note: None,
        }];
        locations.extend(finding.locations.iter().map(|location| LocationView {
            file: &location.file,
            line_start: location.line_start,
            line_end: location.line_end,
            note: location.note.as_deref(),
        }));
        FindingView {
            patch_index: finding.patch_index,
            stage: &finding.stage,
            file: &finding.file,
            line_start: finding.line_start,
            line_end: finding.line_end,
            problem: &finding.problem,
            severity: finding.severity.as_str(),
            severity_explanation: &finding.severity_explanation,
            preexisting: finding.preexisting,
            locations,
            suggestion: finding.suggestion.as_deref(),
            evidence: &finding.evidence,
            fingerprint: finding.fingerprint(),
            consensus: finding.consensus,
            carry: None,
            earlier_finding_id: None,
            wording: None,
        }
    }
}

#[derive(Serialize)]
pub struct SkippedView<'a> {
    pub name: &'a str,
    pub reason: &'a str,
}

#[derive(Serialize)]
pub struct DroppedView {
    /// Candidates that cited lines outside the patch.
    pub unanchored: usize,
    /// Candidates removed by deduplication, verification or consensus.
    pub verification: usize,
    /// Known issues (annotated in the code or marked known): not reported.
    pub known: usize,
    /// Fixed later in the same series: not reported.
    pub fixed_later: usize,
}

#[derive(Serialize)]
pub struct UsageView {
    pub requests: u64,
    pub input_tokens: u64,
    pub cached_tokens: u64,
    pub cache_write_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_tokens: u64,
    pub wall_ms: u64,
    pub cost_usd: Option<f64>,
}

pub fn document<'a>(
    series: &'a ReviewSeries,
    output: &'a ReviewOutput,
    meta: &ReviewMeta<'a>,
) -> ReviewDocument<'a> {
    ReviewDocument {
        review: ReviewHeader {
            id: meta.review_id,
            status: meta.status,
            provider: meta.provider,
            model: meta.model,
            endpoint: meta.endpoint,
            prompt_set_hash: &output.prompt_set_hash,
            source: meta.source,
            compromised: output.compromised,
            subsystems: &output.subsystems,
            guides: &output.guides,
            tree: meta.tree,
        },
        series: SeriesView {
            title: &series.title,
            version: series.version,
            total: series.patches.len(),
        },
        patches: series
            .patches
            .iter()
            .map(|patch| PatchView {
                index: patch.index,
                subject: &patch.subject,
                author: &patch.author,
                message_id: patch.message_id.as_deref(),
                commit_id: patch.commit_id.as_deref(),
                findings: output
                    .findings
                    .iter()
                    .filter(|f| f.patch_index == patch.index)
                    .count(),
            })
            .collect(),
        findings: output
            .findings
            .iter()
            .enumerate()
            .map(|(at, finding)| {
                let mut view = FindingView::from_finding(finding);
                view.wording = output.wordings.get(at).and_then(Option::as_deref);
                if let Some((carry, earlier)) =
                    output.versions.as_ref().and_then(|v| v.findings.get(at))
                {
                    view.carry = Some(carry.as_str());
                    view.earlier_finding_id = *earlier;
                }
                view
            })
            .collect(),
        skipped_stages: output
            .stages
            .iter()
            .filter(|stage| stage.state == StageState::Skipped)
            .map(|stage| SkippedView {
                name: &stage.name,
                reason: stage.reason.as_deref().unwrap_or(""),
            })
            .collect(),
        failed_stages: output
            .failed_stages()
            .map(|stage| SkippedView {
                name: &stage.name,
                reason: stage.reason.as_deref().unwrap_or(""),
            })
            .collect(),
        stages: &output.stages,
        dropped: DroppedView {
            unanchored: output.unanchored,
            verification: output.dropped.len().saturating_sub(output.unanchored),
            known: output.known.len(),
            fixed_later: output.fixed_later.len(),
        },
        usage: UsageView {
            requests: output.usage.requests,
            input_tokens: output.usage.input_tokens,
            cached_tokens: output.usage.cache_read_tokens,
            cache_write_tokens: output.usage.cache_write_tokens,
            output_tokens: output.usage.output_tokens,
            reasoning_tokens: output.usage.reasoning_tokens,
            wall_ms: meta.wall_ms,
            cost_usd: meta.cost_usd,
        },
        fixed_later: output
            .fixed_later
            .iter()
            .map(|dropped| UnreportedView {
                finding: FindingView::from_finding(&dropped.finding),
                reason: dropped.reason.clone(),
            })
            .collect(),
        known: output
            .known
            .iter()
            .map(|dropped| UnreportedView {
                finding: FindingView::from_finding(&dropped.finding),
                reason: dropped.reason.clone(),
            })
            .collect(),
        versions: output.versions.as_ref().map(|versions| {
            let count = |wanted: Carry| {
                versions
                    .findings
                    .iter()
                    .filter(|(carry, _)| *carry == wanted)
                    .count()
            };
            VersionsView {
                earlier_version: versions.earlier_version,
                earlier_review_id: versions.earlier_review_id,
                new: count(Carry::New),
                still_present: count(Carry::StillPresent),
                fixed: versions
                    .fixed
                    .iter()
                    .map(|fixed| {
                        let mut view = FindingView::from_finding(&fixed.finding);
                        view.carry = Some(fixed.carry.as_str());
                        view.earlier_finding_id = fixed.earlier_id;
                        UnreportedView {
                            finding: view,
                            reason: fixed.note.clone().unwrap_or_else(|| {
                                format!(
                                    "fixed since {}",
                                    fixed.earlier_location.as_deref().unwrap_or("?")
                                )
                            }),
                        }
                    })
                    .collect(),
                not_raised_again: versions
                    .not_raised_again
                    .iter()
                    .map(|earlier| {
                        let mut view = FindingView::from_finding(&earlier.finding);
                        view.carry = Some(earlier.carry.as_str());
                        view.earlier_finding_id = earlier.earlier_id;
                        UnreportedView {
                            finding: view,
                            reason: format!(
                                "raised at {}; not raised again by this review and not confirmed",
                                earlier.earlier_location.as_deref().unwrap_or("?")
                            ),
                        }
                    })
                    .collect(),
                interdiff_files: &versions.interdiff_files,
                notes: &versions.notes,
            }
        }),
    }
}
