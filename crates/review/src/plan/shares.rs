//! The shared context, fairly: the interdiff first, then the enclosing
//! function of every change, then definitions (and any other shared
//! kind) in what is left. Enclosing functions are grouped by the patch
//! whose changes they enclose and each patch gets its fair share of the
//! room ([`fair_shares`]); a function larger than what is left of its
//! patch's share is shown as a window around the changed lines, with a
//! note saying which lines were cut. One huge function never pushes out
//! another patch's function.
//!
//! Regression: issue 14 item 2, the 900-line `ext4_fill_super()` of one
//! patch filled the shared context and `anon_vma_prepare()`, the function
//! with the bug in the other patch, was left out.
//!
//! Pure: counts with the plan's counter.

use std::collections::BTreeMap;

use crate::context::{changed_lines, ContextKind, ContextSnippet};
use crate::series::ReviewSeries;

use super::messages::fair_shares;
use super::{fit, PlanInput};

/// Below this many tokens a window is not worth showing.
const MIN_WINDOW_TOKENS: u64 = 120;

/// What fitting the shared context kept, its tokens and the notes.
pub(super) struct Fitted {
    pub kept: Vec<ContextSnippet>,
    pub used: u64,
    pub notes: Vec<String>,
}

/// Fit `candidates` (the shared kinds) into `room` tokens.
pub(super) fn fit_shared(
    input: &PlanInput<'_>,
    series: &ReviewSeries,
    candidates: &[&ContextSnippet],
    room: u64,
) -> Fitted {
    let by_kind = |kind: ContextKind| -> Vec<&ContextSnippet> {
        candidates
            .iter()
            .copied()
            .filter(|snippet| snippet.kind == kind)
            .collect()
    };
    let interdiff = by_kind(ContextKind::Interdiff);
    let enclosing = by_kind(ContextKind::Enclosing);
    let rest: Vec<&ContextSnippet> = candidates
        .iter()
        .copied()
        .filter(|s| !matches!(s.kind, ContextKind::Interdiff | ContextKind::Enclosing))
        .collect();
    let (mut kept, mut used, mut notes) = fit(input, &interdiff, room);
    let fair = fair_enclosing(input, series, &enclosing, room.saturating_sub(used));
    kept.extend(fair.kept);
    used += fair.used;
    notes.extend(fair.notes);
    let (others, others_used, others_notes) = fit(input, &rest, room.saturating_sub(used));
    kept.extend(others);
    used += others_used;
    notes.extend(others_notes);
    Fitted { kept, used, notes }
}

/// The patch whose changes `snippet` encloses: the first whose changed
/// lines of its file fall inside it, else the first touching its file.
fn owner(series: &ReviewSeries, snippet: &ContextSnippet) -> u32 {
    let (first, last) = (snippet.first_line, snippet.last_line());
    let touching: Vec<(u32, Vec<u32>)> = series
        .patches
        .iter()
        .map(|patch| (patch.index, changed_lines(&patch.diff, &snippet.file)))
        .filter(|(_, lines)| !lines.is_empty())
        .collect();
    touching
        .iter()
        .find(|(_, lines)| lines.iter().any(|line| (first..=last).contains(line)))
        .or(touching.first())
        .map_or(0, |(index, _)| *index)
}

fn fair_enclosing(
    input: &PlanInput<'_>,
    series: &ReviewSeries,
    snippets: &[&ContextSnippet],
    room: u64,
) -> Fitted {
    let mut groups: BTreeMap<u32, Vec<(&ContextSnippet, u64)>> = BTreeMap::new();
    for snippet in snippets {
        groups
            .entry(owner(series, snippet))
            .or_default()
            .push((snippet, input.snippet_tokens(snippet)));
    }
    let demands: Vec<u64> = groups
        .values()
        .map(|group| group.iter().map(|(_, tokens)| tokens).sum())
        .collect();
    let shares = fair_shares(&demands, room);
    let diffs: String = series.patches.iter().map(|p| p.diff.as_str()).collect();
    let mut fitted = Fitted {
        kept: Vec::new(),
        used: 0,
        notes: Vec::new(),
    };
    for ((patch, mut group), share) in groups.into_iter().zip(shares) {
        group.sort_by_key(|(_, tokens)| *tokens);
        let mut left = share;
        for (snippet, tokens) in group {
            if tokens <= left {
                left -= tokens;
                fitted.used += tokens;
                fitted.kept.push(snippet.clone());
                continue;
            }
            let window = (left >= MIN_WINDOW_TOKENS)
                .then(|| window(input, snippet, &changed_lines(&diffs, &snippet.file), left))
                .flatten();
            match window {
                Some((windowed, window_tokens, note)) => {
                    left -= window_tokens;
                    fitted.used += window_tokens;
                    fitted.kept.push(windowed);
                    fitted.notes.push(note);
                }
                None => fitted.notes.push(format!(
                    "left out {} in {} ({tokens} tokens): patch {patch}'s share of the shared context ({share} tokens) is used up",
                    snippet.label, snippet.file
                )),
            }
        }
    }
    fitted
}

/// `snippet` cut to the lines around `changed` (file line numbers) that
/// fit in `allowed` tokens: the window, its tokens and a note.
fn window(
    input: &PlanInput<'_>,
    snippet: &ContextSnippet,
    changed: &[u32],
    allowed: u64,
) -> Option<(ContextSnippet, u64, String)> {
    let lines: Vec<&str> = snippet.text.lines().collect();
    let (first, last) = (snippet.first_line, snippet.last_line());
    let inside: Vec<usize> = changed
        .iter()
        .filter(|line| (first..=last).contains(*line))
        .filter_map(|line| usize::try_from(line - first).ok())
        .filter(|&at| at < lines.len())
        .collect();
    let low = inside.iter().copied().min().unwrap_or(0);
    let high = inside.iter().copied().max().unwrap_or(low);
    let make = |from: usize, to: usize| -> (ContextSnippet, u64) {
        let from_line = first + u32::try_from(from).unwrap_or(0);
        let to_line = first + u32::try_from(to).unwrap_or(0);
        let cut = ContextSnippet {
            file: snippet.file.clone(),
            first_line: from_line,
            label: format!(
                "{}, lines {from_line}-{to_line} of its {first}-{last} (around the change)",
                snippet.label
            ),
            text: lines[from..=to].join("\n"),
            kind: snippet.kind,
            priority: snippet.priority,
        };
        let tokens = input.snippet_tokens(&cut);
        (cut, tokens)
    };
    let around = |margin: usize| {
        (
            low.saturating_sub(margin),
            (high + margin).min(lines.len().saturating_sub(1)),
        )
    };
    // The widest margin around the changed lines that fits.
    let (mut lo, mut hi) = (0usize, lines.len());
    let mut best: Option<(ContextSnippet, u64)> = None;
    while lo < hi {
        let middle = (lo + hi).div_ceil(2);
        let (from, to) = around(middle - 1);
        let candidate = make(from, to);
        if candidate.1 <= allowed {
            best = Some(candidate);
            lo = middle;
        } else {
            hi = middle - 1;
        }
    }
    if best.is_none() {
        // The changed lines alone are too many: as many as fit from the first.
        let (mut lo, mut hi) = (low, high);
        while lo < hi {
            let middle = (lo + hi).div_ceil(2);
            let candidate = make(low, middle);
            if candidate.1 <= allowed {
                best = Some(candidate);
                lo = middle;
            } else {
                hi = middle - 1;
            }
        }
        if best.is_none() {
            let candidate = make(low, low);
            best = (candidate.1 <= allowed).then_some(candidate);
        }
    }
    let (cut, tokens) = best?;
    let shown_last = cut.last_line();
    let mut left_out = Vec::new();
    if cut.first_line > first {
        left_out.push(format!("{first}-{}", cut.first_line - 1));
    }
    if shown_last < last {
        left_out.push(format!("{}-{last}", shown_last + 1));
    }
    let note = format!(
        "{} in {} ({} lines) is larger than its patch's share of the shared context ({allowed} tokens left): shown lines {}-{shown_last} around the changed lines, lines {} cut",
        snippet.label,
        snippet.file,
        lines.len(),
        cut.first_line,
        left_out.join(" and ")
    );
    Some((cut, tokens, note))
}
