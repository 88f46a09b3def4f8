//! Running the bench: every corpus patch reviewed `runs` times through
//! [`sashiko_review::run_review`] with the client it is given, findings
//! matched to labels, outcomes kept per review. Figures are computed by
//! [`crate::report`].
//!
//! A review that fails is kept as a failed outcome with its error; the
//! rest still run. This module never decides where the client points: the
//! caller says what the source is, and the report carries it.

use std::sync::Arc;
use std::time::Instant;

use sashiko_llm::{LlmClient, Usage};
use sashiko_review::{run_review, Finding, PromptSet, ReviewOptions};
use serde::Serialize;

use crate::corpus::{Corpus, CorpusPatch};
use crate::matching::{match_findings, MatchOptions, Matched};
use crate::measure::{MeasuringClient, Observed};

/// Where the answers came from. Printed next to every figure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// The label oracle: scripted, knows the answers.
    Oracle {
        recall: String,
        false_positive_rate: String,
        seed: u64,
    },
    /// Any other scripted fake (tests): labelled `fake:<model>`.
    Fake { model: String },
    /// Answers replayed from a recording of `model`.
    Cassette { model: String, path: String },
    /// A real model, asked now.
    Live { provider: String, model: String },
}

impl Source {
    /// `fake:oracle`, `cassette:<model>` or `live:<model>`.
    pub fn label(&self) -> String {
        match self {
            Source::Oracle { .. } => "fake:oracle".to_owned(),
            Source::Fake { model } => format!("fake:{model}"),
            Source::Cassette { model, .. } => format!("cassette:{model}"),
            Source::Live { model, .. } => format!("live:{model}"),
        }
    }

    /// True when the answers were not produced by a real model now or in
    /// a recording of one.
    pub fn is_scripted(&self) -> bool {
        matches!(self, Source::Oracle { .. } | Source::Fake { .. })
    }
}

/// Knobs of one bench run.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub runs: u32,
    pub matching: MatchOptions,
    pub review: ReviewOptions,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            runs: 1,
            matching: MatchOptions::default(),
            review: ReviewOptions::default(),
        }
    }
}

/// One review of one corpus patch.
#[derive(Clone, Debug)]
pub struct ReviewOutcome {
    pub patch_id: String,
    pub run: u32,
    pub findings: Vec<Finding>,
    pub matched: Matched,
    pub compromised: bool,
    pub usage: Usage,
    pub requests: Vec<Observed>,
    pub wall_ms: u64,
    /// Set when the review failed; nothing else is meaningful then.
    pub error: Option<String>,
}

/// All reviews of a bench run, with what is needed to compute figures.
#[derive(Clone, Debug)]
pub struct BenchRun {
    pub source: Source,
    pub model: String,
    pub runs: u32,
    pub outcomes: Vec<ReviewOutcome>,
    pub wall_ms: u64,
    pub prompt_set_hash: String,
}

/// Review every patch of `corpus` `options.runs` times.
pub async fn run_bench(
    corpus: &Corpus,
    prompts: &PromptSet,
    client: Arc<dyn LlmClient>,
    source: Source,
    options: &BenchOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> BenchRun {
    run_bench_counted(
        corpus,
        prompts,
        client,
        source,
        options,
        progress,
        &|_, _| {},
    )
    .await
}

/// [`run_bench`], calling `reviewed(done, total)` after each review (for
/// a progress bar; it only shows, never decides).
pub async fn run_bench_counted(
    corpus: &Corpus,
    prompts: &PromptSet,
    client: Arc<dyn LlmClient>,
    source: Source,
    options: &BenchOptions,
    progress: &(dyn Fn(&str) + Sync),
    reviewed: &(dyn Fn(u64, u64) + Sync),
) -> BenchRun {
    let total = u64::from(options.runs.max(1)) * corpus.patches.len() as u64;
    let mut done = 0u64;
    let started = Instant::now();
    let measuring = Arc::new(MeasuringClient::new(client.clone()));
    let as_client: Arc<dyn LlmClient> = measuring.clone();
    let mut outcomes = Vec::new();
    for run in 0..options.runs.max(1) {
        for patch in &corpus.patches {
            let outcome = review_patch(patch, run, prompts, &as_client, &measuring, options).await;
            done += 1;
            reviewed(done, total);
            if let Some(error) = &outcome.error {
                progress(&format!(
                    "{} run {}: review failed: {error}",
                    patch.id,
                    run + 1
                ));
            }
            outcomes.push(outcome);
        }
        progress(&format!(
            "run {} of {} done ({} patches)",
            run + 1,
            options.runs.max(1),
            corpus.patches.len()
        ));
    }
    BenchRun {
        source,
        model: client.model().to_owned(),
        runs: options.runs.max(1),
        outcomes,
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        prompt_set_hash: prompts.hash.clone(),
    }
}

async fn review_patch(
    patch: &CorpusPatch,
    run: u32,
    prompts: &PromptSet,
    client: &Arc<dyn LlmClient>,
    measuring: &MeasuringClient,
    options: &BenchOptions,
) -> ReviewOutcome {
    let started = Instant::now();
    let quiet = |_: &str| {};
    let result = run_review(
        prompts,
        &patch.series,
        Some(client.clone()),
        &options.review,
        &quiet,
    )
    .await;
    let wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let requests = measuring.take();
    match result {
        Ok(output) => ReviewOutcome {
            patch_id: patch.id.clone(),
            run,
            matched: match_findings(&patch.labels, &output.findings, options.matching),
            findings: output.findings,
            compromised: output.compromised,
            usage: output.usage,
            requests,
            wall_ms,
            error: None,
        },
        Err(error) => ReviewOutcome {
            patch_id: patch.id.clone(),
            run,
            findings: Vec::new(),
            matched: Matched::default(),
            compromised: false,
            usage: Usage::default(),
            requests,
            wall_ms,
            error: Some(format!("{error}: {}", source_chain(&error))),
        },
    }
}

fn source_chain(error: &dyn std::error::Error) -> String {
    let mut parts = Vec::new();
    let mut next = error.source();
    while let Some(cause) = next {
        parts.push(cause.to_string());
        next = cause.source();
    }
    parts.join(": ")
}
