//! Token cost of each stage's fixed request parts against its budget.
//!
//! A stage request is the system prompt, the series (with context), then
//! the stage's instructions, its answer schema (in the text and as the
//! response format), its tool descriptions and the guidance of the guides
//! that apply. Everything but the series and context is fixed per stage;
//! it is counted here the way the reviewer's staging counts it (the
//! real request, o200k_base BPE, minus the series message), so the room
//! left for a series is what a review would have.

use std::fmt::Write as _;

use sashiko_llm::tokens::TokenCounter;
use sashiko_review::guides::{self, Guide};
use sashiko_review::request::{self, RequestBase, ReviewSecrets, StageExtras};
use sashiko_review::{PromptSet, ReviewSeries, StageDef, StageKind};

/// One stage's fixed cost and budget.
#[derive(Clone, Debug)]
pub struct StageBudget {
    pub stage: String,
    /// The stage's budget for a series that is neither critical nor capped.
    pub budget: u64,
    /// Fixed tokens without any guide.
    pub without_guides: u64,
    /// The guide whose guidance for this stage costs most, and its tokens.
    pub largest_guide: Option<(String, u64)>,
    /// The costliest set of guides seen together on one real series (when
    /// combinations were given), and its tokens.
    pub largest_combination: Option<(Vec<String>, u64)>,
}

impl StageBudget {
    /// Fixed tokens with the largest single guide.
    pub fn with_largest_guide(&self) -> u64 {
        self.without_guides + self.largest_guide.as_ref().map_or(0, |(_, tokens)| *tokens)
    }

    /// Fixed tokens with the costliest real combination (or the largest
    /// guide when that costs more or no combinations were given).
    pub fn worst_fixed(&self) -> u64 {
        let combined = self
            .largest_combination
            .as_ref()
            .map_or(0, |(_, tokens)| *tokens);
        self.with_largest_guide()
            .max(self.without_guides + combined)
    }

    /// Tokens left for the series and its context in the worst case.
    pub fn room(&self) -> u64 {
        self.budget.saturating_sub(self.worst_fixed())
    }
}

fn empty_series() -> ReviewSeries {
    ReviewSeries {
        title: String::new(),
        version: 1,
        cover_letter: None,
        patches: Vec::new(),
    }
}

/// Tokens of a series as the shared series message carries it (no context).
pub fn series_tokens(series: &ReviewSeries) -> u64 {
    let secrets = ReviewSecrets::derived(series);
    TokenCounter::uncalibrated().text(&request::series_message(series, &[], &secrets))
}

/// The fixed cost of every finder and the verify stage. `combinations`
/// are guide-name lists that routed together on real series.
pub fn stage_budgets(prompts: &PromptSet, combinations: &[Vec<String>]) -> Vec<StageBudget> {
    let counter = TokenCounter::uncalibrated();
    let series = empty_series();
    let secrets = ReviewSecrets::derived(&series);
    let base = RequestBase {
        prompts,
        series: &series,
        secrets: &secrets,
        context: &[],
        max_output_tokens: 4096,
    };
    let series_cost = counter.text(&request::series_message(&series, &[], &secrets));
    let fixed = |stage: &StageDef, guidance: &str| -> u64 {
        let mut chat = match stage.kind {
            StageKind::Verify => request::verify_request(&base, stage, "[]"),
            _ => request::finder_request_with(&base, stage, guidance, &StageExtras::default()),
        };
        chat.tools = sashiko_tools::RepoTools::specs(&stage.tools);
        counter.request(&chat).saturating_sub(series_cost)
    };
    let mut rows = Vec::new();
    for stage in prompts
        .stages
        .iter()
        .filter(|stage| matches!(stage.kind, StageKind::Finder | StageKind::Verify))
    {
        let without_guides = fixed(stage, "");
        let guidance_cost = |selected: &[&Guide]| -> u64 {
            let guidance = guides::for_stage(selected, &stage.name);
            if guidance.trim().is_empty() || stage.kind == StageKind::Verify {
                return 0;
            }
            fixed(stage, &guidance).saturating_sub(without_guides)
        };
        let largest_guide = prompts
            .guides
            .iter()
            .map(|guide| (guide.name.clone(), guidance_cost(&[guide])))
            .filter(|(_, tokens)| *tokens > 0)
            .max_by_key(|(_, tokens)| *tokens);
        let largest_combination = combinations
            .iter()
            .map(|names| {
                let selected: Vec<&Guide> = names
                    .iter()
                    .filter_map(|name| prompts.guides.iter().find(|guide| &guide.name == name))
                    .collect();
                (names.clone(), guidance_cost(&selected))
            })
            .filter(|(_, tokens)| *tokens > 0)
            .max_by_key(|(_, tokens)| *tokens);
        rows.push(StageBudget {
            stage: stage.name.clone(),
            budget: prompts.budget.resolve(stage.budget_tokens, &[], &[]).tokens,
            without_guides,
            largest_guide,
            largest_combination,
        });
    }
    rows
}

/// The table of [`stage_budgets`], with the room a typical series needs.
pub fn render(rows: &[StageBudget], typical_series: u64) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "| stage | budget | fixed, no guide | largest guide (+tokens) | worst real combination (+tokens) | room left | typical series ({typical_series}) fits |"
    );
    let _ = writeln!(text, "|---|---:|---:|---|---|---:|---|");
    for row in rows {
        let guide = row
            .largest_guide
            .as_ref()
            .map_or("-".to_owned(), |(name, tokens)| {
                format!("{name} (+{tokens})")
            });
        let combination = row
            .largest_combination
            .as_ref()
            .map_or("-".to_owned(), |(names, tokens)| {
                format!("{} (+{tokens})", names.join(" + "))
            });
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.stage,
            row.budget,
            row.without_guides,
            guide,
            combination,
            row.room(),
            if row.room() >= typical_series {
                "yes"
            } else {
                "NO"
            }
        );
    }
    text
}

/// The value below which `percent` of `values` lie (nearest rank).
pub fn percentile(values: &[u64], percent: usize) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    if sorted.is_empty() {
        return 0;
    }
    let rank = (sorted.len() * percent)
        .div_ceil(100)
        .clamp(1, sorted.len());
    sorted[rank - 1]
}
