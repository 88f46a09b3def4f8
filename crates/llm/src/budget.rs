//! Fitting context into a token budget before sending.
//!
//! Context parts carry a priority; the lowest-priority parts are dropped
//! first (whole, never cut mid-way). The patch itself is only shortened when
//! everything else is gone, and then with a note saying so, so a reviewer
//! never sees a silently truncated patch. Pure: no IO.

use crate::tokens::estimate_text;

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
    pub estimated_tokens: u64,
}

/// Keeps as much of `parts` as fits in `budget_tokens` (estimated).
pub fn fit_to_budget(parts: &[ContextPart], budget_tokens: u64) -> FittedContext {
    let mut kept: Vec<Option<ContextPart>> = parts.iter().cloned().map(Some).collect();
    let mut notes = Vec::new();
    let total = |kept: &[Option<ContextPart>]| -> u64 {
        kept.iter()
            .flatten()
            .map(|part| estimate_text(&part.text))
            .sum()
    };
    let mut order: Vec<usize> = (0..parts.len())
        .filter(|&index| !parts[index].is_patch)
        .collect();
    order.sort_by_key(|&index| (parts[index].priority, std::cmp::Reverse(index)));
    for index in order {
        if total(&kept) <= budget_tokens {
            break;
        }
        if let Some(part) = kept[index].take() {
            notes.push(format!(
                "left out {} ({} tokens) to fit the budget",
                part.label,
                estimate_text(&part.text)
            ));
        }
    }
    let mut over = total(&kept).saturating_sub(budget_tokens);
    for part in kept.iter_mut().flatten().filter(|part| part.is_patch).rev() {
        if over == 0 {
            break;
        }
        let tokens = estimate_text(&part.text);
        let keep_tokens = tokens.saturating_sub(over);
        let mut cut = (keep_tokens as usize * crate::tokens::BYTES_PER_TOKEN).min(part.text.len());
        while !part.text.is_char_boundary(cut) {
            cut -= 1;
        }
        // Cut at a line boundary so no diff line is half there.
        let cut = part.text[..cut]
            .rfind('\n')
            .map_or(0, |newline| newline + 1);
        let removed_lines = part.text[cut..].lines().count();
        notes.push(format!(
            "{} shortened: its last {removed_lines} lines were left out to fit the budget",
            part.label
        ));
        part.text.truncate(cut);
        over = over.saturating_sub(tokens - estimate_text(&part.text));
    }
    let parts: Vec<ContextPart> = kept.into_iter().flatten().collect();
    let estimated_tokens = parts.iter().map(|part| estimate_text(&part.text)).sum();
    FittedContext {
        parts,
        notes,
        estimated_tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(label: &str, bytes: usize, priority: u32, is_patch: bool) -> ContextPart {
        let line = "x".repeat(39) + "\n";
        ContextPart {
            label: label.into(),
            text: line.repeat(bytes / 40),
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
        let parts = vec![
            part("guide", 400, 2, false),
            part("patch", 800, 0, true),
            part("callers", 400, 1, false),
            part("maintainers", 400, 3, false),
        ];
        // Everything fits: 100 + 200 + 100 + 100 tokens.
        let all = fit_to_budget(&parts, 500);
        assert_eq!(
            (labels(&all), all.notes.len()),
            (vec!["guide", "patch", "callers", "maintainers"], 0)
        );
        // Lowest priority (callers) goes first, then guide.
        let some = fit_to_budget(&parts, 400);
        assert_eq!(labels(&some), vec!["guide", "patch", "maintainers"]);
        let fewer = fit_to_budget(&parts, 300);
        assert_eq!(labels(&fewer), vec!["patch", "maintainers"]);
        assert!(
            fewer.notes[0].contains("left out callers")
                && fewer.notes[1].contains("left out guide")
        );
        // Only the patch is left, and it is shortened at a line boundary with a note.
        let tight = fit_to_budget(&parts, 150);
        assert_eq!(labels(&tight), vec!["patch"]);
        assert!(tight.estimated_tokens <= 150, "{}", tight.estimated_tokens);
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
}
