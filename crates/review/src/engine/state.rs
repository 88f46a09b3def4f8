//! The value the phases of a review pass along: what the review was given,
//! what the earlier phases worked out (secrets, interdiff, context, guides,
//! candidates) and the output so far.
//!
//! Building it is the first phase: it draws the nonce and canary, computes
//! the interdiff against an earlier version and routes the series to its
//! subsystem guides. It never talks to a model.

use std::sync::Arc;

use sashiko_llm_core::{LlmClient, Usage};

use super::options::{ReviewInputs, ReviewOptions, ReviewSettings};
use super::output::ReviewOutput;
use super::prefix::route_guides;
use crate::anchor::PatchLines;
use crate::context::{self, ContextKind, ContextSnippet};
use crate::finding::Finding;
use crate::guides::Guide;
use crate::prompts::PromptSet;
use crate::request::ReviewSecrets;
use crate::series::ReviewSeries;
use crate::toolstage::Shown;
use crate::versions::{self, Interdiff};

/// One review in progress.
pub(super) struct ReviewState<'a> {
    pub prompts: &'a PromptSet,
    pub series: &'a ReviewSeries,
    pub client: Option<Arc<dyn LlmClient>>,
    pub settings: &'a ReviewSettings,
    pub inputs: &'a ReviewInputs,
    pub secrets: ReviewSecrets,
    /// What changed since the earlier version, when there is one.
    pub interdiff: Option<Interdiff>,
    /// Context the stages may be shown: the caller's, the interdiff's and
    /// the analyzers' evidence.
    pub snippets: Vec<ContextSnippet>,
    /// Each patch's diff lines, by patch index, for anchoring.
    pub patch_lines: Vec<(u32, PatchLines)>,
    /// The subsystem guides that apply to the series.
    pub guides: Vec<&'a Guide>,
    /// Findings of the tree's analyzers, verified with the model's.
    pub analyzer_candidates: Vec<Finding>,
    /// File lines tools showed the model, for grounding.
    pub shown: Shown,
    pub output: ReviewOutput,
}

impl<'a> ReviewState<'a> {
    /// The inputs phase: secrets, interdiff, context and guide routing.
    pub fn new(
        prompts: &'a PromptSet,
        series: &'a ReviewSeries,
        client: Option<Arc<dyn LlmClient>>,
        options: &'a ReviewOptions,
    ) -> ReviewState<'a> {
        let (settings, inputs) = (&options.settings, &options.inputs);
        let secrets = if settings.deterministic_secrets {
            ReviewSecrets::derived(series)
        } else {
            ReviewSecrets::random()
        };
        let interdiff = inputs
            .previous
            .as_ref()
            .map(|previous| versions::interdiff(&previous.series, series));
        let mut snippets = inputs.context.clone();
        if let (Some(previous), Some(interdiff)) = (&inputs.previous, &interdiff) {
            snippets.extend(interdiff.files.iter().map(|file| ContextSnippet {
                file: file.file.clone(),
                first_line: file.first_line,
                label: format!("changes since v{}", previous.version),
                text: file.text.clone(),
                kind: ContextKind::Interdiff,
                priority: context::priority::INTERDIFF,
            }));
        }
        let patch_lines = series
            .patches
            .iter()
            .map(|patch| (patch.index, PatchLines::from_diff(&patch.diff)))
            .collect();
        let routing = route_guides(prompts, series, inputs.maintainers.as_deref());
        let output = ReviewOutput {
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
            subsystems: routing.subsystems,
            guides: routing
                .guides
                .iter()
                .map(|guide| guide.name.clone())
                .collect(),
            fixed_later: Vec::new(),
            versions: None,
            wordings: Vec::new(),
        };
        ReviewState {
            prompts,
            series,
            client,
            settings,
            inputs,
            secrets,
            interdiff,
            snippets,
            patch_lines,
            guides: routing.guides,
            analyzer_candidates: Vec::new(),
            shown: Shown::default(),
            output,
        }
    }
}
