//! The replay benchmark (issue 14): every complete series of a real list
//! slice is applied to a kernel tree the way the worker applies mail
//! (`sashiko_pipeline::tree::for_mail`: its `base-commit:`, the configured
//! base as is, 3-way, fuzz), reviewed with the tree context it got, and
//! measured: how it was applied (or why not), wall time, prompt tokens,
//! context snippets and what the token budget left out.
//!
//! Each series runs in a task of its own, so a panic while applying,
//! gathering context or reviewing is caught, counted and named (the
//! figure must be 0) and the next series still runs. Nothing here
//! compares with expected values: the figures are this run's measurements.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use sashiko_llm::{LlmClient, MeteredClient};
use sashiko_pipeline::inputs::series_from_mbox;
use sashiko_pipeline::tree::{for_mail, TreeContext, TreeSettings};
use sashiko_pipeline::{AnalyzerSettings, LoadedSeries};
use sashiko_review::{run_review, PromptSet, ReviewOptions};
use serde::Serialize;

/// What to replay and how.
#[derive(Clone, Debug)]
pub struct ReplayOptions {
    /// The kernel tree mail is applied to (read only).
    pub tree: PathBuf,
    /// The revision used when a series names no base the tree holds
    /// (default `HEAD`), as `[review] base`.
    pub base: Option<String>,
    /// Replay only the first this many complete series.
    pub limit: Option<usize>,
    /// Settings of every review (attempts, output tokens, ...).
    pub review: ReviewOptions,
    /// Run the tree's checkpatch.pl and Coccinelle too, as the worker does.
    pub analyzers: Option<AnalyzerSettings>,
}

/// Errors that stop a replay before any series runs.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("reading the list slice {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the list slice {path} holds no patch series: {detail}")]
    NoSeries { path: PathBuf, detail: String },
}

/// Context notes of the budget, by what they left out or cut.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// Enclosing functions left out whole.
    pub enclosing: usize,
    /// Definitions of what the changed lines use.
    pub definitions: usize,
    /// Callers of the changed functions.
    pub callers: usize,
    /// Functions larger than their patch's share, shown as a window.
    pub windowed: usize,
    /// Series too large for a stage, reviewed in parts by file.
    pub split: usize,
    /// Commit messages and cover letters cut to their share.
    pub messages: usize,
    /// Notes of no kind above.
    pub other: usize,
}

impl LeftOut {
    /// Counts `notes` (the review's context notes) by kind.
    pub fn classify<'a>(notes: impl IntoIterator<Item = &'a String>) -> LeftOut {
        let mut counts = LeftOut::default();
        for note in notes {
            let counter = if note.contains("is larger than its patch's share") {
                &mut counts.windowed
            } else if note.starts_with("the series (") && note.contains("reviewed in") {
                &mut counts.split
            } else if let Some(what) = note.strip_prefix("left out ") {
                if what.starts_with("enclosing function") {
                    &mut counts.enclosing
                } else if what.starts_with("definition") {
                    &mut counts.definitions
                } else if what.contains(" calls ") {
                    &mut counts.callers
                } else {
                    &mut counts.other
                }
            } else if note.contains(" shortened to its first ") {
                &mut counts.messages
            } else {
                &mut counts.other
            };
            *counter += 1;
        }
        counts
    }

    fn add(&mut self, other: &LeftOut) {
        self.enclosing += other.enclosing;
        self.definitions += other.definitions;
        self.callers += other.callers;
        self.windowed += other.windowed;
        self.split += other.split;
        self.messages += other.messages;
        self.other += other.other;
    }
}

/// One series replayed.
#[derive(Clone, Debug, Serialize)]
pub struct SeriesOutcome {
    pub title: String,
    pub version: u32,
    pub series_key: String,
    pub patches: usize,
    /// The `base-commit:` the series names, if any.
    pub base_commit: Option<String>,
    /// How the series met the tree (`base_commit`, `clean`, `three_way`,
    /// `fuzzy`, `not_applied`, `no_tree`), or `panic`.
    pub tree_status: String,
    /// The stored one-line note: where it was applied, or why not.
    pub tree_note: String,
    /// Why it did not apply, by [`not_applied_reason`]; `None` when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_applied: Option<String>,
    /// Applying and gathering context.
    pub tree_ms: u64,
    /// Tree, context and review together.
    pub wall_ms: u64,
    /// Input tokens of every request of the review (cached or not).
    pub prompt_tokens: u64,
    pub requests: u64,
    /// Snippets gathered from the tree before the budget.
    pub context_snippets: usize,
    pub left_out: LeftOut,
    /// What the budget left out or cut, as the review noted it.
    pub budget_notes: Vec<String>,
    /// How the tree context was found (bases tried, lookups).
    pub tree_notes: Vec<String>,
    pub findings: usize,
    /// The panic's message when one happened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panic: Option<String>,
    /// The review's error when it failed without panicking.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl SeriesOutcome {
    /// True when the series was applied and reviewed with tree context.
    pub fn had_tree_context(&self) -> bool {
        !matches!(
            self.tree_status.as_str(),
            "not_applied" | "no_tree" | "panic"
        )
    }

    /// True when the series was reviewed without tree context (it did
    /// not apply, or there was no tree); a panic before the tree was
    /// known is neither.
    pub fn reviewed_without_tree(&self) -> bool {
        matches!(self.tree_status.as_str(), "not_applied" | "no_tree")
    }
}

/// The figures of one replay.
#[derive(Clone, Debug, Serialize)]
pub struct ReplayReport {
    pub list: String,
    pub tree: String,
    /// Series the slice holds, complete or not.
    pub series_in_slice: usize,
    /// Complete series (every patch present).
    pub complete: usize,
    /// Series replayed (complete, within `--limit`).
    pub replayed: usize,
    pub patches: usize,
    /// Series per tree status (how they were applied, or not).
    pub applied: BTreeMap<String, usize>,
    /// Series applied to the tree (sum of `applied` over the statuses
    /// with tree context).
    pub applied_total: usize,
    /// Series reviewed without tree context.
    pub without_tree: usize,
    /// Series that did not apply, by reason (see [`not_applied_reason`]).
    pub not_applied: BTreeMap<String, usize>,
    pub panics: usize,
    /// Reviews that failed without a panic.
    pub failed: usize,
    pub wall_ms_p50: u64,
    pub wall_ms_p95: u64,
    pub tree_ms_p50: u64,
    pub tree_ms_p95: u64,
    pub total_ms: u64,
    pub prompt_tokens_per_patch: f64,
    pub context_snippets_per_patch: f64,
    /// Budget notes over every series, by kind.
    pub left_out: LeftOut,
    /// `model:` and whether its answers are scripted.
    pub model: String,
    pub analyzers: bool,
    pub outcomes: Vec<SeriesOutcome>,
}

/// Why a series did not apply, from the last method tried (fuzz) in the
/// stored note: `file_missing` (a file it changes is not in the tree:
/// usually a series for another project posted to the list, such as
/// e2fsprogs or fstests), `context_differs` (a hunk matched nowhere), or
/// `other`.
pub fn not_applied_reason(note: &str) -> &'static str {
    let Some((_, fuzz)) = note.rsplit_once("with fuzz: ") else {
        return "other";
    };
    let reason = fuzz.split(';').next().unwrap_or("").trim_end_matches(')');
    if reason.ends_with("does not exist") {
        "file_missing"
    } else if reason.contains("does not match") {
        "context_differs"
    } else {
        "other"
    }
}

/// The value at quantile `q` (0..=1) of `values`, nearest rank; 0 for none.
pub fn quantile(values: &[u64], q: f64) -> u64 {
    if values.is_empty() {
        return 0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The complete series of `mbox` (every patch present), oldest first as
/// assembled, with the notes of reading the slice.
pub fn complete_series(
    mbox: &[u8],
    source: &str,
) -> Result<(usize, Vec<LoadedSeries>), sashiko_pipeline::PipelineError> {
    let loaded = series_from_mbox(mbox, source)?;
    // Completeness is the assembly's: a series missing a number is left
    // out whatever its present parts are.
    let split = sashiko_ingest::mbox::split(mbox, sashiko_ingest::mbox::detect_format(mbox));
    let parsed: Vec<_> = split
        .messages
        .iter()
        .map(|message| sashiko_mail::parse_message(&message.bytes))
        .collect();
    let assembly = sashiko_mail::assemble(&parsed);
    let keys = sashiko_ingest::series_key::series_keys(&assembly.series);
    let complete: BTreeSet<(String, u32)> = assembly
        .series
        .iter()
        .zip(keys)
        .filter(|(series, _)| series.is_complete())
        .map(|(series, key)| (key, series.version))
        .collect();
    let in_slice = loaded.len();
    let complete = loaded
        .into_iter()
        .filter(|one| complete.contains(&(one.series_key.clone(), one.series.version)))
        .collect();
    Ok((in_slice, complete))
}

/// Replays every complete series of the mbox at `list` against
/// `options.tree`, reviewing with `client`; `progress` gets one line per
/// series.
pub async fn run_replay(
    list: &std::path::Path,
    prompts: &PromptSet,
    client: Arc<dyn LlmClient>,
    options: &ReplayOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<ReplayReport, ReplayError> {
    let started = Instant::now();
    let bytes = std::fs::read(list).map_err(|source| ReplayError::Read {
        path: list.to_path_buf(),
        source,
    })?;
    let source = format!("mbox:{}", list.display());
    let (in_slice, complete) =
        complete_series(&bytes, &source).map_err(|error| ReplayError::NoSeries {
            path: list.to_path_buf(),
            detail: error.to_string(),
        })?;
    let n_complete = complete.len();
    let chosen: Vec<LoadedSeries> = complete
        .into_iter()
        .take(options.limit.unwrap_or(usize::MAX))
        .collect();
    let settings = TreeSettings::new(options.tree.clone(), options.base.clone());
    let mut outcomes = Vec::new();
    for (number, loaded) in chosen.into_iter().enumerate() {
        let outcome = replay_one(loaded, prompts, &client, &settings, options).await;
        progress(&format!(
            "[{}/{}] {} ({}): {} in {} ms{}",
            number + 1,
            n_complete.min(options.limit.unwrap_or(usize::MAX)),
            outcome.title,
            outcome.patches,
            outcome.tree_status,
            outcome.wall_ms,
            outcome
                .panic
                .as_deref()
                .or(outcome.error.as_deref())
                .map(|why| format!(": {why}"))
                .unwrap_or_default()
        ));
        outcomes.push(outcome);
    }
    Ok(summarize(
        list,
        options,
        in_slice,
        n_complete,
        client.model(),
        started,
        outcomes,
    ))
}

fn summarize(
    list: &std::path::Path,
    options: &ReplayOptions,
    in_slice: usize,
    complete: usize,
    model: &str,
    started: Instant,
    outcomes: Vec<SeriesOutcome>,
) -> ReplayReport {
    let mut applied: BTreeMap<String, usize> = BTreeMap::new();
    let mut left_out = LeftOut::default();
    let mut not_applied: BTreeMap<String, usize> = BTreeMap::new();
    for outcome in &outcomes {
        *applied.entry(outcome.tree_status.clone()).or_default() += 1;
        if let Some(reason) = &outcome.not_applied {
            *not_applied.entry(reason.clone()).or_default() += 1;
        }
        left_out.add(&outcome.left_out);
    }
    let patches: usize = outcomes.iter().map(|o| o.patches).sum();
    let per_patch = |total: f64| {
        if patches == 0 {
            0.0
        } else {
            total / patches as f64
        }
    };
    let walls: Vec<u64> = outcomes.iter().map(|o| o.wall_ms).collect();
    let trees: Vec<u64> = outcomes.iter().map(|o| o.tree_ms).collect();
    ReplayReport {
        list: list.display().to_string(),
        tree: options.tree.display().to_string(),
        series_in_slice: in_slice,
        complete,
        replayed: outcomes.len(),
        patches,
        applied_total: outcomes.iter().filter(|o| o.had_tree_context()).count(),
        without_tree: outcomes
            .iter()
            .filter(|o| o.reviewed_without_tree())
            .count(),
        not_applied,
        panics: outcomes.iter().filter(|o| o.panic.is_some()).count(),
        failed: outcomes.iter().filter(|o| o.error.is_some()).count(),
        applied,
        wall_ms_p50: quantile(&walls, 0.5),
        wall_ms_p95: quantile(&walls, 0.95),
        tree_ms_p50: quantile(&trees, 0.5),
        tree_ms_p95: quantile(&trees, 0.95),
        total_ms: elapsed_ms(started),
        prompt_tokens_per_patch: per_patch(outcomes.iter().map(|o| o.prompt_tokens as f64).sum()),
        context_snippets_per_patch: per_patch(
            outcomes.iter().map(|o| o.context_snippets as f64).sum(),
        ),
        left_out,
        model: model.to_owned(),
        analyzers: options.analyzers.is_some(),
        outcomes,
    }
}

fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The text of a panic payload.
fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// Applies, gathers context and reviews one series, each step in a task
/// of its own so that a panic becomes this series' outcome.
async fn replay_one(
    loaded: LoadedSeries,
    prompts: &PromptSet,
    client: &Arc<dyn LlmClient>,
    settings: &TreeSettings,
    options: &ReplayOptions,
) -> SeriesOutcome {
    let started = Instant::now();
    let mut outcome = SeriesOutcome {
        title: loaded.series.title.clone(),
        version: loaded.series.version,
        series_key: loaded.series_key.clone(),
        patches: loaded.series.patches.len(),
        base_commit: loaded.base_commit(),
        tree_status: "panic".to_owned(),
        tree_note: String::new(),
        not_applied: None,
        tree_ms: 0,
        wall_ms: 0,
        prompt_tokens: 0,
        requests: 0,
        context_snippets: 0,
        left_out: LeftOut::default(),
        budget_notes: Vec::new(),
        tree_notes: Vec::new(),
        findings: 0,
        panic: None,
        error: None,
    };
    let tree_task = {
        let (prompts, settings, loaded) = (prompts.clone(), settings.clone(), loaded.clone());
        let base_commit = outcome.base_commit.clone();
        tokio::task::spawn_blocking(move || {
            for_mail(&prompts, Some(&settings), &loaded, base_commit.as_deref())
        })
    };
    let mut tree: TreeContext = match tree_task.await {
        Ok(tree) => tree,
        Err(error) => {
            outcome.panic = Some(format!(
                "applying or gathering context: {}",
                join_error_text(error)
            ));
            outcome.wall_ms = elapsed_ms(started);
            return outcome;
        }
    };
    outcome.tree_ms = elapsed_ms(started);
    outcome.tree_status = tree.application.status.as_str().to_owned();
    outcome.tree_note = tree.application.note.clone();
    if outcome.tree_status == "not_applied" {
        outcome.not_applied = Some(not_applied_reason(&outcome.tree_note).to_owned());
    }
    outcome.tree_notes = tree.notes.clone();
    outcome.context_snippets = tree.context.len();
    if let Some(analyzers) = &options.analyzers {
        tree.analyzers = Some(sashiko_pipeline::analyzers::start(
            analyzers,
            tree.analysis_tree.clone(),
            &loaded.series,
        ));
    }
    let review_options = tree.review_options(&options.review);
    let metered = Arc::new(MeteredClient::new(client.clone()));
    let review_task = {
        let prompts = prompts.clone();
        let series = loaded.series.clone();
        let client: Arc<dyn LlmClient> = metered.clone();
        tokio::spawn(async move {
            let quiet = |_: &str| {};
            run_review(&prompts, &series, Some(client), &review_options, &quiet).await
        })
    };
    let reviewed = review_task.await;
    // The scratch repository lives until the review is done.
    drop(tree);
    let usage = metered.ledger().report(None).total;
    outcome.prompt_tokens = usage.total_input_tokens();
    outcome.requests = usage.requests;
    match reviewed {
        Ok(Ok(output)) => {
            outcome.left_out = LeftOut::classify(&output.context_notes);
            outcome.budget_notes = output.context_notes;
            outcome.findings = output.findings.len();
        }
        Ok(Err(error)) => outcome.error = Some(error.to_string()),
        Err(error) => outcome.panic = Some(format!("reviewing: {}", join_error_text(error))),
    }
    outcome.wall_ms = elapsed_ms(started);
    outcome
}

fn join_error_text(error: tokio::task::JoinError) -> String {
    if error.is_panic() {
        format!("panicked: {}", panic_message(error.into_panic()))
    } else {
        format!("cancelled: {error}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_by_nearest_rank() {
        let cases: [(&[u64], f64, u64); 5] = [
            (&[], 0.5, 0),
            (&[7], 0.95, 7),
            (&[3, 1, 2], 0.5, 2),
            (&[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.95, 100),
            (&[10, 20, 30, 40, 50, 60, 70, 80, 90, 100], 0.5, 50),
        ];
        for (values, q, expected) in cases {
            assert_eq!(quantile(values, q), expected, "{values:?} at {q}");
        }
    }

    #[test]
    fn reasons_a_series_did_not_apply() {
        let cases = [
            ("reviewed without tree context: no tree context from /t: the series does not apply (patch 1 does not apply to 4d96f51006e2 (head of HEAD; the series names no base-commit): as is: the path 'common' does not exist in the given tree; 3-way: the original c30eec6d of common/config is not in the tree; with fuzz: common/config does not exist)", "file_missing"),
            ("... (patch 2 does not apply to 4d96f51006e2 (head of HEAD): as is: patch does not apply; 3-way: conflict in fs/ext4/super.c; with fuzz: hunk 3 (@@ -10,7 +10,8 @@) does not match)", "context_differs"),
            ("reviewed without tree context: no tree context from /t: opening the tree /t: not a repository", "other"),
        ];
        for (note, expected) in cases {
            assert_eq!(not_applied_reason(note), expected, "{note}");
        }
    }

    #[test]
    fn budget_notes_are_counted_by_kind() {
        let notes: Vec<String> = [
            "left out enclosing function ext4_fill_super() after the patch in fs/ext4/super.c (9000 tokens): patch 2's share of the shared context (3000 tokens) is used up",
            "left out definition of struct ext4_sb_info in fs/ext4/ext4.h (1200 tokens) to fit the budget",
            "left out anon_vma_prepare() calls __anon_vma_prepare() (line 12) in include/linux/rmap.h (40 tokens)",
            "enclosing function f() after the patch in a.c (900 lines) is larger than its patch's share of the shared context (2000 tokens left): shown lines 10-90 around the changed lines, lines 1-9 cut",
            "the series (90000 tokens) does not fit the smallest stage budget (60000 tokens for the patches): reviewed in 2 parts by file",
            "patch 3's commit message (9000 bytes, 200 lines) shortened to its first 4000 bytes (90 lines, 1000 tokens) to fit its share of the budget (1000 of 4000 tokens for messages); the rest was not shown to the model",
            "something else",
        ]
        .iter()
        .map(|note| (*note).to_owned())
        .collect();
        assert_eq!(
            LeftOut::classify(&notes),
            LeftOut {
                enclosing: 1,
                definitions: 1,
                callers: 1,
                windowed: 1,
                split: 1,
                messages: 1,
                other: 1,
            }
        );
    }
}
