//! What each stage request contains, within its token budget: the shared
//! prefix (system, series, shared context) is built once and identical for
//! every stage, so prompt caching pays for it once; a stage's own context
//! kinds follow the prefix. Every part goes through
//! [`sashiko_llm_core::fit_to_budget`], lowest priority left out first. A series
//! too large for the smallest stage budget is split into chunks by file
//! (each reviewed separately), and a single file section still too large is
//! shortened with a note: nothing is ever cut silently. Commit messages
//! and cover letters are budgeted too ([`budget_messages`]), and in the
//! shared context the enclosing functions come first, each patch's
//! within its fair share ([`shares`]).
//!
//! Pure: counts with the [`TokenCounter`] it is given.

use std::collections::{BTreeMap, BTreeSet};

use sashiko_llm_core::tokens::TokenCounter;
use sashiko_llm_core::{fit_to_budget, ContextPart};
use serde::{Deserialize, Serialize};

use crate::anchor::PatchLines;
use crate::context::{ContextKind, ContextSnippet};
use crate::request::{self, ReviewSecrets};
use crate::series::ReviewSeries;

mod messages;
mod shares;

pub use messages::{budget_messages, fair_shares, BudgetedSeries};

/// Context kinds a stage's `context = [...]` may name.
pub const KNOWN_KINDS: &[&str] = &[
    "series",
    "candidates",
    "enclosing",
    "definitions",
    "callers",
    "interdiff",
    "analyzers",
];

pub fn validate_kinds(names: &[String]) -> Result<(), String> {
    match names
        .iter()
        .find(|name| !KNOWN_KINDS.contains(&name.as_str()))
    {
        Some(unknown) => Err(format!(
            "unknown context kind {unknown:?} (known: {})",
            KNOWN_KINDS.join(", ")
        )),
        None => Ok(()),
    }
}

fn default_shared() -> Vec<String> {
    vec![
        "interdiff".to_owned(),
        "analyzers".to_owned(),
        "enclosing".to_owned(),
        "definitions".to_owned(),
    ]
}

fn default_shared_max() -> u64 {
    12_000
}

/// `[context]` of the stage manifest.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ContextSettings {
    /// Kinds in the shared prefix: every stage sees them, whatever its
    /// own `context` list says, because the prefix is one.
    #[serde(default = "default_shared")]
    pub shared: Vec<String>,
    /// At most this many tokens of shared context.
    #[serde(default = "default_shared_max")]
    pub shared_max_tokens: u64,
}

impl Default for ContextSettings {
    fn default() -> Self {
        ContextSettings {
            shared: default_shared(),
            shared_max_tokens: default_shared_max(),
        }
    }
}

fn kinds(names: &[String]) -> BTreeSet<ContextKind> {
    names
        .iter()
        .filter_map(|name| ContextKind::from_manifest_name(name))
        .collect()
}

/// What the plan needs to know about one stage that will be asked.
#[derive(Clone, Debug)]
pub struct StageCost {
    pub name: String,
    /// Its input-token budget.
    pub budget: u64,
    /// Tokens of its request without the series and context: system,
    /// instructions, guidance, schema, tools, message overhead.
    pub fixed: u64,
    /// Its manifest `context` list.
    pub context: Vec<String>,
}

/// The context of one stage within one chunk.
#[derive(Clone, Debug, Default)]
pub struct StageContext {
    /// Snippets after the shared prefix, for this stage only.
    pub extra: Vec<ContextSnippet>,
    /// What the budget left out, for the model and the report.
    pub notes: Vec<String>,
}

/// One request's worth of series: usually the whole series.
#[derive(Clone, Debug)]
pub struct Chunk {
    pub series: ReviewSeries,
    /// "part 2 of 3 (patch 1: drivers/a.c)" when the series was split.
    pub label: Option<String>,
    pub shared: Vec<ContextSnippet>,
    /// Notes about the shared part (every stage gets them).
    pub shared_notes: Vec<String>,
    pub stages: BTreeMap<String, StageContext>,
}

#[derive(Clone, Debug)]
pub struct Plan {
    pub chunks: Vec<Chunk>,
    /// Review-level notes: splitting, shortening.
    pub notes: Vec<String>,
}

impl Plan {
    pub fn is_split(&self) -> bool {
        self.chunks.len() > 1
    }

    /// Every snippet some request of the plan shows the model.
    pub fn sent_snippets(&self) -> Vec<ContextSnippet> {
        let mut sent = Vec::new();
        for chunk in &self.chunks {
            sent.extend(chunk.shared.iter().cloned());
            for stage in chunk.stages.values() {
                sent.extend(stage.extra.iter().cloned());
            }
        }
        sent
    }
}

/// What the plan is made from.
pub struct PlanInput<'a> {
    pub series: &'a ReviewSeries,
    pub snippets: &'a [ContextSnippet],
    pub settings: &'a ContextSettings,
    pub stages: &'a [StageCost],
    pub secrets: &'a ReviewSecrets,
    pub counter: &'a TokenCounter,
}

impl PlanInput<'_> {
    fn series_tokens(&self, series: &ReviewSeries) -> u64 {
        self.counter
            .text(&request::series_message(series, &[], self.secrets))
    }

    fn snippet_tokens(&self, snippet: &ContextSnippet) -> u64 {
        self.counter
            .text(&request::snippet_block(snippet, &self.secrets.nonce))
    }
}

/// Below this many tokens for the patches a chunk is not worth making.
const MIN_SERIES_ROOM: u64 = 1_000;

pub fn plan(input: &PlanInput<'_>) -> Plan {
    let room_for_series = input
        .stages
        .iter()
        .map(|stage| stage.budget.saturating_sub(stage.fixed))
        .min()
        .unwrap_or(u64::MAX);
    let whole = input.series_tokens(input.series);
    let mut notes = Vec::new();
    let pieces = if whole <= room_for_series {
        vec![(input.series.clone(), None)]
    } else {
        // Leave a quarter of the room for context.
        let target = (room_for_series / 4 * 3).max(MIN_SERIES_ROOM);
        let split = split_by_file(input, target);
        notes.push(format!(
            "the series ({whole} tokens) does not fit the smallest stage budget ({room_for_series} tokens for the patches): reviewed in {} parts by file",
            split.pieces.len()
        ));
        notes.extend(split.notes);
        split.pieces
    };
    let total = pieces.len();
    let chunks = pieces
        .into_iter()
        .enumerate()
        .map(|(number, (series, files))| {
            let label = files.map(|files| format!("part {} of {total} ({files})", number + 1));
            plan_chunk(input, series, label)
        })
        .collect();
    Plan { chunks, notes }
}

fn plan_chunk(input: &PlanInput<'_>, series: ReviewSeries, label: Option<String>) -> Chunk {
    let series_tokens = input.series_tokens(&series);
    let files = crate::context::series_files(&series);
    // An enclosing function of a file this chunk does not show is noise.
    let snippets: Vec<&ContextSnippet> = input
        .snippets
        .iter()
        .filter(|s| s.kind != ContextKind::Enclosing || files.contains(&s.file))
        .collect();
    let shared_kinds = kinds(&input.settings.shared);
    let room = |stage: &StageCost| {
        stage
            .budget
            .saturating_sub(stage.fixed)
            .saturating_sub(series_tokens)
    };
    let shared_room = input
        .stages
        .iter()
        .map(room)
        .min()
        .unwrap_or(0)
        .min(input.settings.shared_max_tokens);
    let shared_candidates: Vec<&ContextSnippet> = snippets
        .iter()
        .copied()
        .filter(|s| shared_kinds.contains(&s.kind))
        .collect();
    let shares::Fitted {
        kept: shared,
        used: shared_used,
        notes: shared_notes,
    } = shares::fit_shared(input, &series, &shared_candidates, shared_room);
    let mut stages = BTreeMap::new();
    for stage in input.stages {
        let own: BTreeSet<ContextKind> = kinds(&stage.context)
            .difference(&shared_kinds)
            .copied()
            .collect();
        let candidates: Vec<&ContextSnippet> = snippets
            .iter()
            .copied()
            .filter(|s| own.contains(&s.kind))
            .collect();
        let (extra, _, notes) = fit(input, &candidates, room(stage).saturating_sub(shared_used));
        stages.insert(stage.name.clone(), StageContext { extra, notes });
    }
    Chunk {
        series,
        label,
        shared,
        shared_notes,
        stages,
    }
}

/// Fit snippets into `budget` tokens: the kept ones in order, their
/// tokens, and one note per snippet left out.
fn fit(
    input: &PlanInput<'_>,
    snippets: &[&ContextSnippet],
    budget: u64,
) -> (Vec<ContextSnippet>, u64, Vec<String>) {
    let parts: Vec<ContextPart> = snippets
        .iter()
        .enumerate()
        .map(|(index, snippet)| ContextPart {
            label: format!("#{index} {} in {}", snippet.label, snippet.file),
            text: request::snippet_block(snippet, &input.secrets.nonce),
            priority: snippet.priority,
            is_patch: false,
        })
        .collect();
    let fitted = fit_to_budget(&parts, budget, input.counter);
    let kept: Vec<ContextSnippet> = fitted
        .parts
        .iter()
        .filter_map(|part| {
            let index: usize = part
                .label
                .strip_prefix('#')?
                .split(' ')
                .next()?
                .parse()
                .ok()?;
            snippets.get(index).map(|snippet| (*snippet).clone())
        })
        .collect();
    let notes = fitted.notes.iter().map(|note| strip_index(note)).collect();
    let used = kept.iter().map(|s| input.snippet_tokens(s)).sum();
    (kept, used, notes)
}

/// "left out #3 definition of x in f.h (...)" -> without the "#3 ".
fn strip_index(note: &str) -> String {
    match note.find('#') {
        Some(at) => {
            let rest = &note[at + 1..];
            let after = rest.find(' ').map_or("", |space| &rest[space + 1..]);
            format!("{}{after}", &note[..at])
        }
        None => note.to_owned(),
    }
}

struct Split {
    /// Each piece's series and a description of its files.
    pieces: Vec<(ReviewSeries, Option<String>)>,
    notes: Vec<String>,
}

/// A patch's diff cut into per-file sections (at `diff --git` lines; a
/// diff without them is one section).
pub fn file_sections(diff: &str) -> Vec<(String, String)> {
    let mut sections: Vec<(String, String)> = Vec::new();
    for line in diff.split_inclusive('\n') {
        let starts = line.starts_with("diff --git ") || sections.is_empty();
        if starts {
            sections.push((String::new(), String::new()));
        }
        if let Some(last) = sections.last_mut() {
            if last.0.is_empty() {
                if let Some(path) = line.strip_prefix("+++ ") {
                    let path = path.trim_end().split('\t').next().unwrap_or("");
                    last.0 = path.strip_prefix("b/").unwrap_or(path).to_owned();
                }
            }
            last.1.push_str(line);
        }
    }
    for section in &mut sections {
        if section.0.is_empty() {
            section.0 = PatchLines::from_diff(&section.1)
                .files()
                .next()
                .unwrap_or("(no file)")
                .to_owned();
        }
    }
    sections
}

fn split_by_file(input: &PlanInput<'_>, target: u64) -> Split {
    let mut headers_only = input.series.clone();
    for patch in &mut headers_only.patches {
        patch.diff.clear();
    }
    let header_tokens = input.series_tokens(&headers_only);
    let available = target.saturating_sub(header_tokens).max(MIN_SERIES_ROOM);
    let mut notes = Vec::new();
    // (patch index, file, diff text, tokens)
    let mut sections = Vec::new();
    for patch in &input.series.patches {
        for (file, mut text) in file_sections(&patch.diff) {
            let mut tokens = input.counter.text(&text);
            if tokens > available {
                let fitted = fit_to_budget(
                    &[ContextPart {
                        label: format!("patch {} {file}", patch.index),
                        text: text.clone(),
                        priority: 0,
                        is_patch: true,
                    }],
                    available,
                    input.counter,
                );
                notes.extend(fitted.notes);
                text = fitted
                    .parts
                    .into_iter()
                    .next()
                    .map(|p| p.text)
                    .unwrap_or_default();
                tokens = fitted.estimated_tokens;
            }
            sections.push((patch.index, file, text, tokens));
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut used = 0;
    for (index, section) in sections.iter().enumerate() {
        match groups.last_mut() {
            Some(group) if used + section.3 <= available => group.push(index),
            _ => {
                groups.push(vec![index]);
                used = 0;
            }
        }
        used += section.3;
    }
    let pieces = groups
        .into_iter()
        .map(|group| {
            let mut series = headers_only.clone();
            let mut described = Vec::new();
            for &index in &group {
                let (patch_index, file, text, _) = &sections[index];
                if let Some(patch) = series.patches.iter_mut().find(|p| p.index == *patch_index) {
                    patch.diff.push_str(text);
                }
                described.push(format!("patch {patch_index}: {file}"));
            }
            (series, Some(described.join(", ")))
        })
        .collect();
    Split { pieces, notes }
}

/// `series` with each patch's diff limited to the sections of `files`
/// (for verifying candidates of a split series).
pub fn series_for_files(series: &ReviewSeries, files: &BTreeSet<String>) -> ReviewSeries {
    let mut limited = series.clone();
    for patch in &mut limited.patches {
        patch.diff = file_sections(&patch.diff)
            .into_iter()
            .filter(|(file, _)| files.contains(file))
            .map(|(_, text)| text)
            .collect();
    }
    limited
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
