//! Running a prompt set over a series: builtin checks, finder stages
//! (concurrently, on a shared prefix), anchoring, then verification.
//!
//! The model's answers are parsed as data into findings; nothing in an
//! answer can change which stages run, who is told, or what is stored
//! beyond the findings themselves. An answer that leaks the canary marks
//! the review compromised.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use futures::stream::{self, StreamExt};
use sashiko_llm_core::tokens::TokenCounter;
use sashiko_llm_core::{chat_structured, LlmClient, LlmError, Usage};
use serde::Serialize;

use crate::anchor::PatchLines;
use crate::finding::Finding;
use crate::grounding;
use crate::guides;
use crate::known;
use crate::maintainers::Maintainers;
use crate::ordering;
use crate::plan;
use crate::prescan;
use crate::prompts::{PromptSet, StageDef, StageKind};
use crate::request::{self, ReviewSecrets};
use crate::series::ReviewSeries;
use crate::staging;
use crate::toolstage;
use crate::verify;
use crate::wire::FindingsAnswer;

/// Knobs of one review.
#[derive(Clone, Debug)]
pub struct ReviewOptions {
    /// Attempts per stage when the answer is not valid for its schema
    /// (each attempt already includes one repair round).
    pub max_attempts: u32,
    /// Finder stages in flight at once.
    pub concurrency: usize,
    pub max_output_tokens: u32,
    /// Times the finder stages run; findings are merged by similarity with
    /// a consensus count.
    pub runs: u32,
    /// Findings raised in fewer runs than this are dropped (and counted).
    pub min_consensus: u32,
    /// Fingerprints maintainers marked known: not reported again.
    pub known_fingerprints: BTreeSet<String>,
    /// The reviewed tree's MAINTAINERS, for routing subsystem guides.
    pub maintainers: Option<Arc<Maintainers>>,
    /// Source snippets from the post-patch tree (enclosing functions,
    /// definitions, callers); the manifest's `[context]` and each stage's
    /// `context` list choose which a request gets, within its budget.
    pub context: Vec<crate::context::ContextSnippet>,
    /// Repository tools, offered to stages whose manifest entry lists them.
    pub tools: Option<crate::toolstage::ReviewTools>,
    /// Derive the nonce and canary from the series instead of at random,
    /// so recorded transcripts replay exactly (cassette mode only).
    pub deterministic_secrets: bool,
    /// The reviewed tree's mm lock-order comments, for the lock-order stage.
    pub lock_hierarchy: Option<Arc<crate::lockorder::LockHierarchySources>>,
    /// The earlier version of this series and its finished review, when
    /// there is one: the stages get the interdiff as focus, and its
    /// findings are carried forward.
    pub previous: Option<Arc<crate::versions::PreviousVersion>>,
    /// The reviewed tree's analyzers (checkpatch.pl, Coccinelle), for the
    /// `checkpatch` and `coccinelle` builtin stages.
    pub analyzers: Option<crate::analysis::ReviewAnalyzers>,
}

impl Default for ReviewOptions {
    fn default() -> Self {
        ReviewOptions {
            max_attempts: 2,
            concurrency: 4,
            max_output_tokens: 4096,
            runs: 1,
            min_consensus: 1,
            known_fingerprints: BTreeSet::new(),
            maintainers: None,
            context: Vec::new(),
            tools: None,
            deterministic_secrets: false,
            lock_hierarchy: None,
            previous: None,
            analyzers: None,
        }
    }
}

/// What happened to a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StageState {
    /// It ran and its answer was used.
    Ran,
    /// It should have run but could not (no model configured). Never
    /// counts as passed.
    Skipped,
    /// Its condition does not hold for this series (e.g. no barriers).
    NotApplicable,
}

#[derive(Clone, Debug, Serialize)]
pub struct StageReport {
    pub name: String,
    pub state: StageState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub candidates: usize,
    pub attempts: u32,
    pub repairs: u32,
    pub usage: Usage,
    pub elapsed_ms: u64,
    pub retry_wait_ms: u64,
    /// What deterministic checkers concluded (e.g. litmus claims that hold).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A candidate finding that did not make it into the result, and why.
#[derive(Clone, Debug, Serialize)]
pub struct DroppedFinding {
    pub finding: Finding,
    pub reason: String,
}

/// The result of a review.
#[derive(Clone, Debug, Serialize)]
pub struct ReviewOutput {
    pub findings: Vec<Finding>,
    pub dropped: Vec<DroppedFinding>,
    /// Findings that are known issues (annotated in the code or marked
    /// known): kept and counted, not reported.
    pub known: Vec<DroppedFinding>,
    /// Candidates citing lines outside the patch (dropped, counted), and
    /// pre-existing ones citing lines no tool or context showed.
    pub unanchored: usize,
    /// Pre-existing findings kept because they cite lines a tool returned
    /// or the context showed (outside the diff).
    pub grounded_outside_diff: usize,
    /// What the token budget left out or split, for the report.
    pub context_notes: Vec<String>,
    pub stages: Vec<StageReport>,
    pub usage: Usage,
    /// True when a model answer contained the canary: the review must not
    /// be reported.
    pub compromised: bool,
    pub prompt_set_hash: String,
    /// MAINTAINERS entries the series touches, most specific first.
    pub subsystems: Vec<String>,
    /// Names of the subsystem guides given to the stages.
    pub guides: Vec<String>,
    /// Findings whose cited code a later patch of the series changes or
    /// removes (the deterministic end-state check): kept and counted, not
    /// reported.
    pub fixed_later: Vec<DroppedFinding>,
    /// On version n+1 of a series reviewed before: how the findings relate
    /// to the earlier review.
    pub versions: Option<VersionReport>,
    /// One entry per finding of [`ReviewOutput::findings`], same order: the
    /// report stage's wording of its comment when one passed the checks;
    /// `None` means the finder's own text.
    pub wordings: Vec<Option<String>>,
}

/// How a review of version n+1 relates to the earlier version's review.
#[derive(Clone, Debug, Serialize)]
pub struct VersionReport {
    pub earlier_version: u32,
    pub earlier_review_id: i64,
    /// One entry per finding of [`ReviewOutput::findings`], same order:
    /// `new` or `still_present`, with the earlier finding's row id.
    pub findings: Vec<(crate::versions::Carry, Option<i64>)>,
    /// Earlier findings whose cited code is gone in this version.
    pub fixed: Vec<crate::versions::CarriedFinding>,
    /// Files the interdiff shows (what changed since the earlier version).
    pub interdiff_files: Vec<String>,
    pub notes: Vec<String>,
}

impl ReviewOutput {
    pub fn skipped_stages(&self) -> impl Iterator<Item = &StageReport> {
        self.stages
            .iter()
            .filter(|stage| stage.state == StageState::Skipped)
    }
}

/// Why a review could not finish.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("stage {stage} failed against {endpoint}")]
    Stage {
        stage: String,
        endpoint: String,
        #[source]
        source: LlmError,
    },
}

/// Progress callback: a short human-readable line per event.
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// Run every stage of `prompts` over `series`.
pub async fn run_review(
    prompts: &PromptSet,
    series: &ReviewSeries,
    client: Option<Arc<dyn LlmClient>>,
    options: &ReviewOptions,
    progress: Progress<'_>,
) -> Result<ReviewOutput, ReviewError> {
    let secrets = if options.deterministic_secrets {
        ReviewSecrets::derived(series)
    } else {
        ReviewSecrets::random()
    };
    let mut output = ReviewOutput {
        findings: Vec::new(),
        dropped: Vec::new(),
        known: Vec::new(),
        unanchored: 0,
        grounded_outside_diff: 0,
        context_notes: Vec::new(),
        stages: Vec::new(),
        usage: Usage::default(),
        compromised: false,
        prompt_set_hash: prompts.hash.clone(),
        subsystems: Vec::new(),
        guides: Vec::new(),
        fixed_later: Vec::new(),
        versions: None,
        wordings: Vec::new(),
    };
    let interdiff = options
        .previous
        .as_ref()
        .map(|previous| crate::versions::interdiff(&previous.series, series));
    let mut snippets = options.context.clone();
    if let (Some(previous), Some(interdiff)) = (&options.previous, &interdiff) {
        snippets.extend(
            interdiff
                .files
                .iter()
                .map(|file| crate::context::ContextSnippet {
                    file: file.file.clone(),
                    first_line: file.first_line,
                    label: format!("changes since v{}", previous.version),
                    text: file.text.clone(),
                    kind: crate::context::ContextKind::Interdiff,
                    priority: crate::context::priority::INTERDIFF,
                }),
        );
    }
    let patch_lines: Vec<(u32, PatchLines)> = series
        .patches
        .iter()
        .map(|patch| (patch.index, PatchLines::from_diff(&patch.diff)))
        .collect();

    let routing = route_guides(prompts, series, options.maintainers.as_deref());
    output.subsystems = routing.subsystems.clone();
    output.guides = routing
        .guides
        .iter()
        .map(|guide| guide.name.clone())
        .collect();
    let selected_guides = routing.guides;

    // The tree's analyzers: their findings are verified like the model's,
    // and their output is in the shared prefix.
    let analyzer_reports = match &options.analyzers {
        Some(analyzers) => Some(analyzers.run_all(series).await),
        None => None,
    };
    let mut analyzer_candidates = Vec::new();
    if let Some(reports) = &analyzer_reports {
        let runs: Vec<&crate::analysis::AnalyzerRun> = reports.runs.iter().collect();
        snippets.extend(crate::analysis::evidence_snippets(&runs));
    }
    for stage in prompts
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Builtin)
    {
        let mut report = stage_report(stage, StageState::Ran, None, 0);
        let tool = match stage.builtin.as_deref() {
            Some("checkpatch") => Some(crate::analysis::AnalyzerTool::Checkpatch),
            Some("coccinelle") => Some(crate::analysis::AnalyzerTool::Coccinelle),
            _ => None,
        };
        let findings = match tool {
            Some(tool) => {
                let run = analyzer_reports
                    .as_ref()
                    .and_then(|reports| reports.run(tool));
                let outcome = crate::analysis::builtin_stage(tool, run, series);
                report.state = outcome.state;
                report.reason = outcome.reason;
                report.notes = outcome.notes;
                report.elapsed_ms = outcome.elapsed_ms;
                report.candidates = outcome.candidates.len() + outcome.fallback.len();
                for mut finding in outcome.candidates {
                    finding.stage = stage.name.clone();
                    cap_severity(stage, &mut finding);
                    analyzer_candidates.push(finding);
                }
                let mut fallback = outcome.fallback;
                for finding in &mut fallback {
                    finding.stage = stage.name.clone();
                    cap_severity(stage, finding);
                }
                fallback
            }
            None => {
                let findings = run_builtin(prompts, stage, series, options, &mut report);
                report.candidates = findings.len();
                findings
            }
        };
        output.stages.push(report);
        output.findings.extend(findings);
    }

    let mut finder_stages = Vec::new();
    for stage in prompts
        .stages
        .iter()
        .filter(|s| s.kind == StageKind::Finder)
    {
        if let Some(reason) = not_applicable_reason(stage, series) {
            output.stages.push(stage_report(
                stage,
                StageState::NotApplicable,
                Some(reason),
                0,
            ));
        } else if client.is_none() {
            output.stages.push(stage_report(
                stage,
                StageState::Skipped,
                Some(no_model()),
                0,
            ));
        } else {
            finder_stages.push(stage);
        }
    }

    let counter = match &client {
        Some(client) => TokenCounter::for_model(client.provider(), client.model()),
        None => TokenCounter::uncalibrated(),
    };
    let verify_stage = prompts.stages.iter().find(|s| s.kind == StageKind::Verify);
    let staged = staging::prepare(&staging::StagingInput {
        prompts,
        series,
        secrets: &secrets,
        snippets: &snippets,
        finders: &finder_stages,
        verify: verify_stage,
        guides: &selected_guides,
        subsystems: &output.subsystems,
        tools: options.tools.as_ref(),
        max_output_tokens: options.max_output_tokens,
        counter: &counter,
    });
    output.context_notes = staged.plan.notes.clone();
    if let Some(first) = staged.plan.chunks.first() {
        output
            .context_notes
            .extend(first.shared_notes.iter().cloned());
    }
    let shown = toolstage::Shown::default();
    let mut per_run = Vec::new();
    if let Some(client) = &client {
        for run in 0..options.runs.max(1) {
            let mut pending = Vec::new();
            for chunk in &staged.plan.chunks {
                for stage in finder_stages.iter().copied() {
                    let guidance = guides::for_stage(&selected_guides, &stage.name);
                    pending.push(ask_stage(StageAsk {
                        prompts,
                        stage,
                        chunk,
                        staged: &staged,
                        secrets: &secrets,
                        client: Arc::clone(client),
                        options,
                        guidance,
                        shown: &shown,
                    }));
                }
            }
            let results: Vec<_> = stream::iter(pending)
                .buffered(options.concurrency.max(1))
                .collect()
                .await;
            let mut candidates = Vec::new();
            for (stage, result) in results {
                let (findings, report, leaked) = result?;
                progress(&format!(
                    "run {}: stage {} done: {} candidate(s)",
                    run + 1,
                    stage.name,
                    findings.len()
                ));
                output.compromised |= leaked || findings.iter().any(|f| leaks(f, &secrets.canary));
                output.usage += report.usage;
                merge_report(&mut output.stages, report);
                candidates.extend(findings);
            }
            per_run.push(candidates);
        }
    }
    let (mut candidates, below_consensus) = verify::aggregate_runs(per_run, options.min_consensus);
    output.dropped.extend(below_consensus);
    candidates.extend(analyzer_candidates);

    let sent_source: Vec<crate::context::ContextSnippet> = staged
        .plan
        .sent_snippets()
        .into_iter()
        .filter(|snippet| {
            !matches!(
                snippet.kind,
                crate::context::ContextKind::Interdiff | crate::context::ContextKind::Analyzers
            )
        })
        .collect();
    let shown_lines = grounding::ShownLines::new(
        &shown.all(),
        &sent_source,
        &crate::context::series_files(series),
    );
    let (anchored, unanchored): (Vec<Finding>, Vec<Finding>) =
        candidates.into_iter().partition(|finding| {
            is_anchored(finding, &patch_lines)
                || (finding.preexisting && shown_lines.covers(finding))
        });
    output.grounded_outside_diff = anchored
        .iter()
        .filter(|finding| !is_anchored(finding, &patch_lines))
        .count();
    output.unanchored = unanchored.len();
    for finding in unanchored {
        let reason = if finding.preexisting {
            "cites lines neither in the patch nor in anything a tool or the context showed"
        } else {
            "cites lines outside the patch"
        };
        output.dropped.push(DroppedFinding {
            finding,
            reason: reason.to_owned(),
        });
    }
    let (mut kept, merged) = verify::merge_identical(anchored);
    output.dropped.extend(merged);

    if let Some(stage) = prompts.stages.iter().find(|s| s.kind == StageKind::Verify) {
        match &client {
            None => output.stages.push(stage_report(
                stage,
                StageState::Skipped,
                Some(no_model()),
                0,
            )),
            Some(_) if kept.is_empty() => output.stages.push(stage_report(
                stage,
                StageState::NotApplicable,
                Some("no candidate findings to verify".to_owned()),
                0,
            )),
            Some(client) => {
                let (verify_series, verify_options) = staging::for_verify(&staged, &kept, options);
                let verified = verify::run(
                    client.as_ref(),
                    prompts,
                    stage,
                    &verify_series,
                    &secrets,
                    kept,
                    &verify_options,
                )
                .await?;
                progress(&format!("stage {} done", stage.name));
                output.compromised |= verified.leaked;
                output.usage += verified.report.usage;
                output.stages.push(verified.report);
                output.dropped.extend(verified.dropped);
                kept = verified.kept;
            }
        }
    }
    let states = crate::endstate::SeriesStates::build(series);
    for finding in kept {
        if let Some(reason) = known::known_reason(
            &finding,
            series,
            &prompts.prescan.known_markers,
            &options.known_fingerprints,
        ) {
            output.known.push(DroppedFinding { finding, reason });
        } else if let Some(reason) = crate::endstate::fixed_later_reason(&states, series, &finding)
        {
            output.fixed_later.push(DroppedFinding { finding, reason });
        } else {
            output.findings.push(finding);
        }
    }
    if let (Some(previous), Some(interdiff)) = (&options.previous, interdiff) {
        carry_forward(&mut output, prompts, series, options, previous, interdiff);
    }
    sort_findings(&mut output);
    output.wordings = vec![None; output.findings.len()];
    if let Some(stage) = prompts.stages.iter().find(|s| s.kind == StageKind::Report) {
        // Analyzer findings keep their own words, which name the tool.
        let to_word: Vec<usize> = (0..output.findings.len())
            .filter(|at| {
                let finding = &output.findings[*at];
                !finding.preexisting && !crate::analysis::is_analyzer_stage(&finding.stage)
            })
            .collect();
        let not_run = match &client {
            None => Some((StageState::Skipped, no_model())),
            Some(_) if to_word.is_empty() => Some((
                StageState::NotApplicable,
                "no findings to report".to_owned(),
            )),
            Some(_) if output.compromised => Some((
                StageState::NotApplicable,
                "the review is compromised and not reported".to_owned(),
            )),
            Some(_) => None,
        };
        match (not_run, &client) {
            (Some((state, reason)), _) => {
                output
                    .stages
                    .push(stage_report(stage, state, Some(reason), 0));
            }
            (None, Some(client)) => {
                let findings: Vec<&Finding> =
                    to_word.iter().map(|at| &output.findings[*at]).collect();
                let (report_series, report_options) =
                    staging::for_verify(&staged, &output.findings, options);
                let worded = crate::wording::run(
                    client.as_ref(),
                    &crate::wording::WordingRequest {
                        prompts,
                        stage,
                        series: &report_series,
                        context: &report_options.context,
                        secrets: &secrets,
                        max_output_tokens: options.max_output_tokens,
                    },
                    &findings,
                )
                .await;
                progress(&format!("stage {} done", stage.name));
                output.compromised |= worded.leaked;
                output.usage += worded.report.usage;
                output.stages.push(worded.report);
                for (at, wording) in to_word.into_iter().zip(worded.wordings) {
                    output.wordings[at] = wording;
                }
            }
            (None, None) => {}
        }
    }
    Ok(output)
}

fn sort_findings(output: &mut ReviewOutput) {
    let key = |f: &Finding| (f.patch_index, f.file.clone(), f.line_start);
    match &mut output.versions {
        Some(versions) => {
            let mut paired: Vec<(Finding, (crate::versions::Carry, Option<i64>))> =
                std::mem::take(&mut output.findings)
                    .into_iter()
                    .zip(std::mem::take(&mut versions.findings))
                    .collect();
            paired.sort_by_key(|(finding, _)| key(finding));
            (output.findings, versions.findings) = paired.into_iter().unzip();
        }
        None => output.findings.sort_by_key(key),
    }
}

/// Classify findings against the earlier version's review: earlier
/// findings whose code survives are still present (added, re-anchored,
/// when this review did not raise them again, unless they are known
/// issues); the others are fixed, unless this review raised the same
/// problem again; this review's other findings are new.
fn carry_forward(
    output: &mut ReviewOutput,
    prompts: &PromptSet,
    series: &ReviewSeries,
    options: &ReviewOptions,
    previous: &crate::versions::PreviousVersion,
    interdiff: crate::versions::Interdiff,
) {
    use crate::versions::{same_problem, Carry};
    let carried = crate::versions::carry_forward(previous, series);
    let mut still_present = carried.still_present;
    let mut fixed = Vec::new();
    for mut earlier in carried.fixed {
        let raised_again = output
            .findings
            .iter()
            .find(|f| f.fingerprint() == earlier.finding.fingerprint());
        match raised_again {
            Some(again) => {
                earlier.finding = again.clone();
                earlier.carry = Carry::StillPresent;
                still_present.push(earlier);
            }
            None => fixed.push(earlier),
        }
    }
    for earlier in &still_present {
        if output
            .findings
            .iter()
            .any(|f| same_problem(&earlier.finding, f))
        {
            continue;
        }
        match known::known_reason(
            &earlier.finding,
            series,
            &prompts.prescan.known_markers,
            &options.known_fingerprints,
        ) {
            Some(reason) => output.known.push(DroppedFinding {
                finding: earlier.finding.clone(),
                reason,
            }),
            None => output.findings.push(earlier.finding.clone()),
        }
    }
    let labels = output
        .findings
        .iter()
        .map(|finding| {
            still_present
                .iter()
                .find(|earlier| same_problem(&earlier.finding, finding))
                .map_or((Carry::New, None), |earlier| {
                    (Carry::StillPresent, earlier.earlier_id)
                })
        })
        .collect();
    output.versions = Some(VersionReport {
        earlier_version: previous.version,
        earlier_review_id: previous.review_id,
        findings: labels,
        fixed,
        interdiff_files: interdiff.files.iter().map(|f| f.file.clone()).collect(),
        notes: interdiff.notes,
    });
}

fn no_model() -> String {
    "no model configured".to_owned()
}

fn leaks(finding: &Finding, canary: &str) -> bool {
    finding.problem.contains(canary)
        || finding.severity_explanation.contains(canary)
        || finding
            .suggestion
            .as_deref()
            .is_some_and(|s| s.contains(canary))
}

fn is_anchored(finding: &Finding, patch_lines: &[(u32, PatchLines)]) -> bool {
    patch_lines
        .iter()
        .find(|(index, _)| *index == finding.patch_index)
        .is_some_and(|(_, lines)| lines.covers(&finding.file, finding.line_start, finding.line_end))
}

pub(crate) fn stage_report(
    stage: &StageDef,
    state: StageState,
    reason: Option<String>,
    candidates: usize,
) -> StageReport {
    StageReport {
        name: stage.name.clone(),
        state,
        reason,
        candidates,
        attempts: 0,
        repairs: 0,
        usage: Usage::default(),
        elapsed_ms: 0,
        retry_wait_ms: 0,
        notes: Vec::new(),
    }
}

fn run_builtin(
    prompts: &PromptSet,
    stage: &StageDef,
    series: &ReviewSeries,
    options: &ReviewOptions,
    report: &mut StageReport,
) -> Vec<Finding> {
    let mut findings = match stage.builtin.as_deref() {
        Some("prescan") => prescan::prescan(series, &prompts.prescan),
        Some("checkpatch") => prescan::checkpatch(series),
        Some("lock-order") => crate::lockorder::check(stage, series, options, report),
        other => {
            tracing::warn!(stage = %stage.name, builtin = ?other, "unknown builtin check, skipped");
            Vec::new()
        }
    };
    for finding in &mut findings {
        finding.stage = stage.name.clone();
        cap_severity(stage, finding);
    }
    findings
}

fn cap_severity(stage: &StageDef, finding: &mut Finding) {
    if let Some(cap) = stage.max_severity {
        finding.severity = finding.severity.min(cap);
    }
}

/// Why `stage` does not apply to `series`, if it does not.
pub fn not_applicable_reason(stage: &StageDef, series: &ReviewSeries) -> Option<String> {
    let when = &stage.when;
    if !when.paths_any.is_empty() {
        let touched = series.patches.iter().any(|patch| {
            PatchLines::from_diff(&patch.diff).files().any(|file| {
                when.paths_any
                    .iter()
                    .any(|prefix| file.starts_with(prefix.as_str()))
            })
        });
        if !touched {
            return Some(format!(
                "no changed file under {}",
                when.paths_any.join(", ")
            ));
        }
    }
    if !when.touches_any.is_empty() {
        let touched = series.patches.iter().any(|patch| {
            patch
                .diff
                .lines()
                .filter(|line| {
                    (line.starts_with('+') && !line.starts_with("+++"))
                        || (line.starts_with('-') && !line.starts_with("---"))
                })
                .any(|line| {
                    when.touches_any
                        .iter()
                        .any(|word| line.contains(word.as_str()))
                })
        });
        if !touched {
            return Some("no changed line uses the patterns this stage reviews".to_owned());
        }
    }
    None
}

/// One finder stage's request within one chunk of the plan.
struct StageAsk<'a> {
    prompts: &'a PromptSet,
    stage: &'a StageDef,
    chunk: &'a plan::Chunk,
    staged: &'a staging::Staged,
    secrets: &'a ReviewSecrets,
    client: Arc<dyn LlmClient>,
    options: &'a ReviewOptions,
    guidance: String,
    shown: &'a toolstage::Shown,
}

/// Build and send one finder stage's request.
async fn ask_stage(
    ask: StageAsk<'_>,
) -> (
    &StageDef,
    Result<(Vec<Finding>, StageReport, bool), ReviewError>,
) {
    let stage = ask.stage;
    let base = request::RequestBase {
        prompts: ask.prompts,
        series: &ask.chunk.series,
        secrets: ask.secrets,
        context: &ask.chunk.shared,
        max_output_tokens: ask.options.max_output_tokens,
    };
    let own = ask
        .chunk
        .stages
        .get(&stage.name)
        .cloned()
        .unwrap_or_default();
    let mut notes = ask.chunk.shared_notes.clone();
    notes.extend(own.notes.iter().cloned());
    let extras = request::StageExtras {
        part: ask.chunk.label.as_deref(),
        context: &own.extra,
        notes: &notes,
    };
    let request = request::finder_request_with(&base, stage, &ask.guidance, &extras);
    let budget_tokens = ask
        .staged
        .budgets
        .get(&stage.name)
        .map_or(u64::MAX, |budget| budget.tokens);
    let tool_stage = ask
        .options
        .tools
        .as_ref()
        .filter(|_| !stage.tools.is_empty())
        .map(|tools| toolstage::ToolStage {
            tools,
            allowed: &stage.tools,
            settings: &ask.prompts.tools,
            budget_tokens,
            nonce: &ask.secrets.nonce,
            shown: ask.shown,
        });
    let mut result = ask_findings(
        ask.client.as_ref(),
        stage,
        &request,
        ask.options,
        tool_stage.as_ref(),
    )
    .await;
    if let Ok((_, report, _)) = &mut result {
        report
            .notes
            .extend(staging::report_notes(ask.staged, ask.chunk, stage, &notes));
    }
    (stage, result)
}

/// Ask one finder stage, retrying invalid answers up to the bound.
async fn ask_findings(
    client: &dyn LlmClient,
    stage: &StageDef,
    request: &sashiko_llm_core::ChatRequest,
    options: &ReviewOptions,
    tools: Option<&toolstage::ToolStage<'_>>,
) -> Result<(Vec<Finding>, StageReport, bool), ReviewError> {
    let started = Instant::now();
    let mut report = stage_report(stage, StageState::Ran, None, 0);
    let mut last_error = None;
    for _ in 0..options.max_attempts.max(1) {
        report.attempts += 1;
        let answered =
            match tools {
                Some(tools) => toolstage::ask_with_tools(client, request, tools).await.map(
                    |(answer, tool_use)| {
                        report.notes.push(tool_use.note());
                        answer
                    },
                ),
                None => chat_structured(client, request).await,
            };
        match answered {
            Ok(answer) => {
                report.usage += answer.response.usage;
                report.repairs += answer.repairs;
                report.retry_wait_ms += millis(answer.response.retry_wait);
                let leaked = answer.response.text.contains(&canary_of(request));
                match serde_json::from_value::<FindingsAnswer>(answer.value) {
                    Ok(parsed) => {
                        let claims = parsed.litmus_claims;
                        let mut findings: Vec<Finding> = parsed
                            .findings
                            .into_iter()
                            .map(|wire| {
                                let mut finding = wire.into_finding(&stage.name);
                                cap_severity(stage, &mut finding);
                                finding
                            })
                            .collect();
                        if stage.checker.as_deref() == Some("litmus") && !claims.is_empty() {
                            let decided = decide_with_one_repair(
                                client,
                                stage,
                                request,
                                &answer.response.text,
                                claims,
                                &mut report,
                            )
                            .await?;
                            findings.extend(decided);
                        }
                        report.candidates = findings.len();
                        report.elapsed_ms = millis(started.elapsed());
                        return Ok((findings, report, leaked));
                    }
                    Err(error) => {
                        last_error = Some(LlmError::InvalidStructuredOutput {
                            stage: stage.name.clone(),
                            provider: client.provider().to_owned(),
                            model: client.model().to_owned(),
                            detail: format!("answer does not fit the findings shape: {error}"),
                        });
                    }
                }
            }
            Err(error @ LlmError::InvalidStructuredOutput { .. }) => last_error = Some(error),
            Err(error) => return Err(stage_error(client, stage, error)),
        }
    }
    let error = last_error.unwrap_or_else(|| LlmError::InvalidStructuredOutput {
        stage: stage.name.clone(),
        provider: client.provider().to_owned(),
        model: client.model().to_owned(),
        detail: "no attempt was made".to_owned(),
    });
    Err(stage_error(client, stage, error))
}

/// The canary is the only `SASHIKO-CANARY-` token in the system prompt.
pub(crate) fn canary_of(request: &sashiko_llm_core::ChatRequest) -> String {
    request
        .system
        .split_whitespace()
        .find(|word| word.starts_with("SASHIKO-CANARY-"))
        .map(|word| {
            word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_owned()
        })
        .unwrap_or_else(|| "SASHIKO-CANARY-".to_owned())
}

pub(crate) fn stage_error(
    client: &dyn LlmClient,
    stage: &StageDef,
    source: LlmError,
) -> ReviewError {
    ReviewError::Stage {
        stage: stage.name.clone(),
        endpoint: client.endpoint(),
        source,
    }
}

pub(crate) fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Decide litmus claims; tests that do not parse go back to the model once
/// with the parser's errors.
async fn decide_with_one_repair(
    client: &dyn LlmClient,
    stage: &StageDef,
    request: &sashiko_llm_core::ChatRequest,
    answer_text: &str,
    claims: Vec<crate::wire::WireLitmusClaim>,
    report: &mut StageReport,
) -> Result<Vec<Finding>, ReviewError> {
    let mut results = ordering::decide_claims(&stage.name, claims);
    let mut findings = std::mem::take(&mut results.refuted);
    if !results.unparsable.is_empty() {
        let mut follow_up = request.clone();
        follow_up
            .messages
            .push(sashiko_llm_core::Message::assistant_text(
                answer_text.to_owned(),
            ));
        follow_up
            .messages
            .push(sashiko_llm_core::Message::user_text(
                ordering::repair_message(&results.unparsable),
            ));
        let answer = chat_structured(client, &follow_up)
            .await
            .map_err(|error| stage_error(client, stage, error))?;
        report.usage += answer.response.usage;
        report.repairs += 1 + answer.repairs;
        let retried: Vec<_> = serde_json::from_value::<FindingsAnswer>(answer.value)
            .map(|parsed| parsed.litmus_claims)
            .unwrap_or_default();
        let mut second = ordering::decide_claims(&stage.name, retried);
        findings.append(&mut second.refuted);
        results.held.append(&mut second.held);
        results.undecided.append(&mut second.undecided);
        for (claim, error) in second.unparsable {
            results.undecided.push(format!(
                "{}: litmus test still does not parse: {error}",
                claim.claim
            ));
        }
    }
    report.notes.extend(
        results
            .held
            .into_iter()
            .map(|held| format!("litmus claim holds: {held}")),
    );
    report.notes.extend(
        results
            .undecided
            .into_iter()
            .map(|undecided| format!("litmus claim undecided: {undecided}")),
    );
    Ok(findings)
}

/// Add a stage's report, summing with an earlier run of the same stage.
fn merge_report(stages: &mut Vec<StageReport>, report: StageReport) {
    match stages
        .iter_mut()
        .find(|existing| existing.name == report.name)
    {
        Some(existing) => {
            existing.candidates += report.candidates;
            existing.attempts += report.attempts;
            existing.repairs += report.repairs;
            existing.usage += report.usage;
            existing.elapsed_ms += report.elapsed_ms;
            existing.retry_wait_ms += report.retry_wait_ms;
            for note in report.notes {
                if !existing.notes.contains(&note) {
                    existing.notes.push(note);
                }
            }
        }
        None => stages.push(report),
    }
}

/// Subsystems a series touches and the guides that apply to it.
pub struct GuideRouting<'a> {
    pub subsystems: Vec<String>,
    pub guides: Vec<&'a guides::Guide>,
}

/// Route a series through MAINTAINERS (when known) to its guides.
pub fn route_guides<'a>(
    prompts: &'a PromptSet,
    series: &ReviewSeries,
    maintainers: Option<&Maintainers>,
) -> GuideRouting<'a> {
    let patch_lines: Vec<PatchLines> = series
        .patches
        .iter()
        .map(|patch| PatchLines::from_diff(&patch.diff))
        .collect();
    let changed_files: Vec<&str> = patch_lines.iter().flat_map(PatchLines::files).collect();
    let matches = match maintainers {
        Some(maintainers) => {
            let text: String = series
                .patches
                .iter()
                .map(|patch| patch.diff.as_str())
                .collect();
            maintainers.route(&changed_files, &text)
        }
        None => Vec::new(),
    };
    GuideRouting {
        subsystems: matches.iter().map(|m| m.name.clone()).collect(),
        guides: guides::select(&prompts.guides, &matches, &changed_files),
    }
}
