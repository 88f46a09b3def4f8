//! Fitting context into a token budget before sending.
//!
//! Context parts carry a priority; the lowest-priority parts are dropped
//! first (whole, never cut mid-way). The patch itself is only shortened when
//! everything else is gone, and then at a line boundary with a note saying
//! how many lines were left out, so a reviewer never sees a silently
//! truncated patch. Tokens are counted with the calibrated BPE counter of
//! the model that will read the text. Pure: no IO.

use crate::tokens::TokenCounter;

/// One piece of context offered to a stage.
#[derive(Clone, Debug, PartialEq)]
pub struct ContextPart {
    pub label: String,
    pub text: String,
    /// Higher is kept longer.
    pub priority: u32,
    /// The patch under review: shortened last, and only with a note.
    pub is_patch: bool,
}

/// The context that fits, in the original order, and what was left out.
#[derive(Clone, Debug, PartialEq)]
pub struct FittedContext {
    pub parts: Vec<ContextPart>,
    /// One line per dropped or shortened part, for the prompt and the log.
    pub notes: Vec<String>,
    /// Tokens of the kept parts, as `counter` counts them.
    pub estimated_tokens: u64,
}

/// Keeps as much of `parts` as fits in `budget_tokens`.
pub fn fit_to_budget(
    parts: &[ContextPart],
    budget_tokens: u64,
    counter: &TokenCounter,
) -> FittedContext {
    let sizes: Vec<u64> = parts.iter().map(|part| counter.text(&part.text)).collect();
    let mut kept: Vec<Option<ContextPart>> = parts.iter().cloned().map(Some).collect();
    let mut kept_sizes = sizes.clone();
    let mut notes = Vec::new();
    let mut total: u64 = sizes.iter().sum();
    let mut order: Vec<usize> = (0..parts.len())
        .filter(|&index| !parts[index].is_patch)
        .collect();
    order.sort_by_key(|&index| (parts[index].priority, std::cmp::Reverse(index)));
    for index in order {
        if total <= budget_tokens {
            break;
        }
        if let Some(part) = kept[index].take() {
            notes.push(format!(
                "left out {} ({} tokens) to fit the budget",
                part.label, sizes[index]
            ));
            total -= sizes[index];
            kept_sizes[index] = 0;
        }
    }
    for index in (0..kept.len()).rev() {
        if total <= budget_tokens {
            break;
        }
        let Some(part) = kept[index].as_mut().filter(|part| part.is_patch) else {
            continue;
        };
        let others = total - kept_sizes[index];
        let allowed = budget_tokens.saturating_sub(others);
        let (cut, tokens) = longest_prefix_within(&part.text, allowed, counter);
        let removed_lines = part.text[cut..].lines().count();
        notes.push(format!(
            "{} shortened: its last {removed_lines} lines were left out to fit the budget",
            part.label
        ));
        part.text.truncate(cut);
        total = others + tokens;
        kept_sizes[index] = tokens;
    }
    let parts: Vec<ContextPart> = kept.into_iter().flatten().collect();
    FittedContext {
        parts,
        notes,
        estimated_tokens: total,
    }
}

/// The byte length of the longest run of whole leading lines of `text`
/// within `allowed` tokens, and its tokens.
fn longest_prefix_within(text: &str, allowed: u64, counter: &TokenCounter) -> (usize, u64) {
    let mut ends: Vec<usize> = text.match_indices('\n').map(|(at, _)| at + 1).collect();
    if !text.ends_with('\n') && !text.is_empty() {
        ends.push(text.len());
    }
    counter.longest_prefix_within(text, &ends, allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of one known token count each: "word " repeated is 1 token a
    /// word in o200k_base, plus the newline.
    fn part(label: &str, lines: usize, priority: u32, is_patch: bool) -> ContextPart {
        ContextPart {
            label: label.into(),
            text: "alpha beta gamma delta epsilon zeta eta theta iota\n".repeat(lines),
            priority,
            is_patch,
        }
    }

    fn labels(fitted: &FittedContext) -> Vec<&str> {
        fitted
            .parts
            .iter()
            .map(|part| part.label.as_str())
            .collect()
    }

    #[test]
    fn drops_by_priority_then_shortens_the_patch_with_a_note() {
        let counter = TokenCounter::uncalibrated();
        let parts = vec![
            part("guide", 10, 2, false),
            part("patch", 20, 0, true),
            part("callers", 10, 1, false),
            part("maintainers", 10, 3, false),
        ];
        let size = |p: &ContextPart| counter.text(&p.text);
        let (small, patch) = (size(&parts[0]), size(&parts[1]));
        let all = fit_to_budget(&parts, 3 * small + patch, &counter);
        assert_eq!(
            (labels(&all), all.notes.len()),
            (vec!["guide", "patch", "callers", "maintainers"], 0)
        );
        assert_eq!(all.estimated_tokens, 3 * small + patch);
        // Lowest priority (callers) goes first, then guide.
        let some = fit_to_budget(&parts, 2 * small + patch, &counter);
        assert_eq!(labels(&some), vec!["guide", "patch", "maintainers"]);
        let fewer = fit_to_budget(&parts, small + patch, &counter);
        assert_eq!(labels(&fewer), vec!["patch", "maintainers"]);
        assert!(
            fewer.notes[0].contains("left out callers")
                && fewer.notes[1].contains("left out guide")
        );
        // Only the patch is left, and it is shortened at a line boundary with a note.
        let tight = fit_to_budget(&parts, patch * 3 / 4, &counter);
        assert_eq!(labels(&tight), vec!["patch"]);
        assert!(tight.estimated_tokens <= patch * 3 / 4, "{tight:?}");
        assert_eq!(tight.estimated_tokens, counter.text(&tight.parts[0].text));
        assert!(tight.parts[0].text.ends_with('\n'));
        assert!(
            tight
                .notes
                .last()
                .is_some_and(|note| note.starts_with("patch shortened: its last 5 lines")),
            "{:?}",
            tight.notes
        );
    }

    #[test]
    fn prefix_search_keeps_whole_lines() {
        let counter = TokenCounter::uncalibrated();
        let cases = [
            ("a\nb\nc\n", 0, 0),
            ("a\nb\nc\n", 100, 6),
            ("a\nb\nc", 100, 5),
        ];
        for (text, allowed, expected_cut) in cases {
            assert_eq!(
                longest_prefix_within(text, allowed, &counter).0,
                expected_cut,
                "{text:?} within {allowed}"
            );
        }
    }
}
