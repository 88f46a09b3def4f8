//! Preparing the stage requests of one review: each stage's token budget
//! from the budget policy, the cost of its fixed parts (system,
//! instructions, guidance, schema, tools), and from those the context plan
//! ([`crate::plan`]). Pure: counts with the counter it is given.

use std::collections::BTreeMap;

use sashiko_llm_core::tokens::TokenCounter;

use crate::budget_policy::ResolvedBudget;
use crate::context::ContextSnippet;
use crate::guides::Guide;
use crate::plan::{self, Plan, StageCost};
use crate::prompts::{PromptSet, StageDef};
use crate::request::{self, RequestBase, ReviewSecrets, StageExtras};
use crate::series::ReviewSeries;
use crate::toolstage::ReviewTools;

/// What goes into preparing a review's requests.
pub struct StagingInput<'a> {
    pub prompts: &'a PromptSet,
    pub series: &'a ReviewSeries,
    pub secrets: &'a ReviewSecrets,
    pub snippets: &'a [ContextSnippet],
    pub finders: &'a [&'a StageDef],
    pub verify: Option<&'a StageDef>,
    pub guides: &'a [&'a Guide],
    pub subsystems: &'a [String],
    pub tools: Option<&'a ReviewTools>,
    pub max_output_tokens: u32,
    pub counter: &'a TokenCounter,
}

/// The prepared review: budgets per stage, the context plan, and the
/// series as the model is shown it (messages within their budget).
pub struct Staged {
    pub budgets: BTreeMap<String, ResolvedBudget>,
    pub plan: Plan,
    pub series: ReviewSeries,
}

pub fn prepare(input: &StagingInput<'_>) -> Staged {
    let files: Vec<String> = crate::context::series_files(input.series)
        .into_iter()
        .collect();
    let files: Vec<&str> = files.iter().map(String::as_str).collect();
    let stages: Vec<&StageDef> = input.finders.iter().copied().chain(input.verify).collect();
    let budgets: BTreeMap<String, ResolvedBudget> = stages
        .iter()
        .map(|stage| {
            let budget =
                input
                    .prompts
                    .budget
                    .resolve(stage.budget_tokens, &files, input.subsystems);
            (stage.name.clone(), budget)
        })
        .collect();
    let smallest = budgets.values().map(|b| b.tokens).min().unwrap_or(u64::MAX);
    let budgeted = plan::budget_messages(input.series, smallest, input.counter);
    let series = &budgeted.series;
    let base = RequestBase {
        prompts: input.prompts,
        series,
        secrets: input.secrets,
        context: &[],
        max_output_tokens: input.max_output_tokens,
    };
    let series_tokens = input
        .counter
        .text(&request::series_message(series, &[], input.secrets));
    let mut costs = Vec::new();
    for stage in stages {
        let Some(budget) = budgets.get(&stage.name) else {
            continue;
        };
        let request = if Some(stage.name.as_str()) == input.verify.map(|v| v.name.as_str()) {
            request::verify_request(&base, stage, "[]")
        } else {
            let guidance = crate::guides::for_stage(input.guides, &stage.name);
            let mut request =
                request::finder_request_with(&base, stage, &guidance, &StageExtras::default());
            if let Some(tools) = input.tools.filter(|_| !stage.tools.is_empty()) {
                request.tools = tools
                    .specs
                    .iter()
                    .filter(|spec| stage.tools.contains(&spec.name))
                    .cloned()
                    .collect();
            }
            request
        };
        let fixed = input
            .counter
            .request(&request)
            .saturating_sub(series_tokens);
        costs.push(StageCost {
            name: stage.name.clone(),
            budget: budget.tokens,
            fixed,
            context: stage.context.clone(),
        });
    }
    let mut plan = plan::plan(&plan::PlanInput {
        series,
        snippets: input.snippets,
        settings: &input.prompts.context,
        stages: &costs,
        secrets: input.secrets,
        counter: input.counter,
    });
    plan.notes.splice(0..0, budgeted.notes);
    Staged {
        budgets,
        plan,
        series: budgeted.series,
    }
}

/// Notes for a finder stage's report: its budget, how the series was split
/// and what the budget left out of its context.
pub fn report_notes(
    staged: &Staged,
    chunk: &plan::Chunk,
    stage: &StageDef,
    context_notes: &[String],
) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(budget) = staged.budgets.get(&stage.name) {
        notes.push(format!(
            "budget: {} input tokens ({})",
            budget.tokens, budget.reason
        ));
    }
    notes.extend(staged.plan.notes.iter().cloned());
    if let Some(part) = &chunk.label {
        notes.push(format!("reviewed {part}"));
    }
    notes.extend(context_notes.iter().map(|note| format!("context: {note}")));
    notes
}

/// What the verify and report stages are shown.
pub struct Scope {
    pub series: ReviewSeries,
    pub context: Vec<ContextSnippet>,
}

/// What the verify stage gets: the same shared prefix as the finders when
/// the series was not split; when it was, only the files the candidates
/// cite and no context.
pub fn for_verify(staged: &Staged, candidates: &[crate::finding::Finding]) -> Scope {
    let series = &staged.series;
    if staged.plan.is_split() {
        let files = candidates.iter().map(|f| f.file.clone()).collect();
        return Scope {
            series: plan::series_for_files(series, &files),
            context: Vec::new(),
        };
    }
    Scope {
        series: series.clone(),
        context: staged
            .plan
            .chunks
            .first()
            .map(|chunk| chunk.shared.clone())
            .unwrap_or_default(),
    }
}
