//! Every text of a series that reaches the model is counted and budgeted,
//! not only the diffs: commit messages and the cover letter share a
//! quarter of the smallest stage budget (fair shares: a short message is
//! kept whole, the rest split what is left), and a longer one is cut at a
//! line boundary with a note saying what was left out. Subjects and
//! author lines are single lines and are cut at [`MAX_HEADER_BYTES`].
//!
//! Regression: issue 21 item 3, a 50 MB commit message made each of 8
//! stage requests 53 MB while the plan said 118,255 tokens. A text far
//! larger than its share is never tokenized whole: it is cut by bytes
//! first (a token is at least one byte), then by lines.
//!
//! Pure: counts with the [`TokenCounter`] it is given.

use sashiko_llm_core::tokens::TokenCounter;

use crate::series::ReviewSeries;

/// The series as the model is shown it, and what was shortened.
#[derive(Clone, Debug)]
pub struct BudgetedSeries {
    pub series: ReviewSeries,
    pub notes: Vec<String>,
}

/// Commit messages and the cover letter together get at most the
/// smallest stage budget divided by this.
pub const MESSAGE_SHARE_DIVISOR: u64 = 4;
/// Subjects and author lines longer than this are cut.
pub const MAX_HEADER_BYTES: usize = 512;
/// Bytes per token assumed when cutting a huge text before counting it:
/// BPE tokens of real text average 3-4 bytes, so a prefix of this many
/// bytes per allowed token always holds enough text to fill the share.
const PRECUT_BYTES_PER_TOKEN: usize = 8;

/// Fair shares of `total` for `demands`: the smallest demands are met in
/// full, the rest split what is left equally.
pub fn fair_shares(demands: &[u64], total: u64) -> Vec<u64> {
    let mut order: Vec<usize> = (0..demands.len()).collect();
    order.sort_by_key(|&index| demands[index]);
    let mut shares = vec![0; demands.len()];
    let mut left = total;
    for (position, &index) in order.iter().enumerate() {
        let remaining = (demands.len() - position) as u64;
        let share = demands[index].min(left / remaining);
        shares[index] = share;
        left -= share;
    }
    shares
}

/// The largest char boundary of `text` at or below `at`.
pub fn floor_char_boundary(text: &str, at: usize) -> usize {
    if at >= text.len() {
        return text.len();
    }
    (0..=at)
        .rev()
        .find(|&index| text.is_char_boundary(index))
        .unwrap_or(0)
}

/// `text` cut to at most `allowed` tokens: whole leading lines when at
/// least one fits, else the longest prefix of whole characters. Returns
/// the kept prefix and its tokens.
pub fn shorten(text: &str, allowed: u64, counter: &TokenCounter) -> (String, u64) {
    let limit = usize::try_from(allowed)
        .unwrap_or(usize::MAX)
        .saturating_mul(PRECUT_BYTES_PER_TOKEN);
    let candidate = &text[..floor_char_boundary(text, limit)];
    let line_ends: Vec<usize> = candidate
        .match_indices('\n')
        .map(|(at, _)| at + 1)
        .collect();
    let (cut, tokens) = counter.longest_prefix_within(candidate, &line_ends, allowed);
    if cut > 0 {
        return (candidate[..cut].to_owned(), tokens);
    }
    let char_ends: Vec<usize> = candidate
        .char_indices()
        .map(|(at, c)| at + c.len_utf8())
        .collect();
    let (cut, tokens) = counter.longest_prefix_within(candidate, &char_ends, allowed);
    (candidate[..cut].to_owned(), tokens)
}

/// Tokens of `text`, or `over` when it is so long that it certainly needs
/// cutting to `over - 1` (it is then never tokenized whole).
fn demand(text: &str, over: u64, counter: &TokenCounter) -> u64 {
    let limit = usize::try_from(over)
        .unwrap_or(usize::MAX)
        .saturating_mul(PRECUT_BYTES_PER_TOKEN);
    if text.len() > limit {
        over
    } else {
        counter.text(text)
    }
}

fn cut_header(text: &mut String, what: &str, notes: &mut Vec<String>) {
    if text.len() > MAX_HEADER_BYTES {
        let bytes = text.len();
        text.truncate(floor_char_boundary(text, MAX_HEADER_BYTES));
        text.push_str(" [...]");
        notes.push(format!(
            "{what} ({bytes} bytes) shortened to its first {MAX_HEADER_BYTES} bytes"
        ));
    }
}

/// `series` with its messages, cover letter, subjects and authors within
/// their share of `smallest_budget` (the smallest stage budget).
pub fn budget_messages(
    series: &ReviewSeries,
    smallest_budget: u64,
    counter: &TokenCounter,
) -> BudgetedSeries {
    let mut budgeted = series.clone();
    let mut notes = Vec::new();
    cut_header(&mut budgeted.title, "the series title", &mut notes);
    for patch in &mut budgeted.patches {
        let index = patch.index;
        cut_header(
            &mut patch.subject,
            &format!("patch {index}'s subject"),
            &mut notes,
        );
        cut_header(
            &mut patch.author,
            &format!("patch {index}'s author line"),
            &mut notes,
        );
    }
    let total = smallest_budget / MESSAGE_SHARE_DIVISOR;
    // (what, text) of every message, the cover letter first.
    let mut texts: Vec<(String, &mut String)> = Vec::new();
    if let Some(cover) = budgeted.cover_letter.as_mut() {
        texts.push(("the cover letter".to_owned(), cover));
    }
    for patch in &mut budgeted.patches {
        texts.push((
            format!("patch {}'s commit message", patch.index),
            &mut patch.commit_message,
        ));
    }
    let demands: Vec<u64> = texts
        .iter()
        .map(|(_, text)| demand(text, total.saturating_add(1), counter))
        .collect();
    let shares = fair_shares(&demands, total);
    for (((what, text), demand), share) in texts.into_iter().zip(demands).zip(shares) {
        if demand <= share {
            continue;
        }
        let bytes = text.len();
        let lines = text.lines().count();
        let (kept, tokens) = shorten(text, share, counter);
        let kept_lines = kept.lines().count();
        notes.push(format!(
            "{what} ({bytes} bytes, {lines} lines) shortened to its first {} bytes ({kept_lines} lines, {tokens} tokens) to fit its share of the budget ({share} of {total} tokens for messages); the rest was not shown to the model",
            kept.len()
        ));
        *text = format!(
            "{kept}\n[... {} bytes left out to fit the budget]",
            bytes - kept.len()
        );
    }
    BudgetedSeries {
        series: budgeted,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fair_shares_meet_small_demands_and_split_the_rest() {
        let cases: &[(&[u64], u64, &[u64])] = &[
            (&[10, 20], 100, &[10, 20]),
            (&[10, 500, 500], 100, &[10, 45, 45]),
            (&[1000, 5], 100, &[95, 5]),
            (&[], 100, &[]),
            (&[7, 7, 7], 0, &[0, 0, 0]),
        ];
        for (demands, total, expected) in cases {
            assert_eq!(
                &fair_shares(demands, *total),
                expected,
                "{demands:?} {total}"
            );
        }
    }

    #[test]
    fn shorten_keeps_whole_lines_then_whole_characters() {
        let counter = TokenCounter::uncalibrated();
        let (kept, tokens) = shorten("alpha beta\ngamma delta\n", 4, &counter);
        assert_eq!(kept, "alpha beta\n");
        assert!(tokens <= 4);
        // One long line of non-ASCII text: cut between characters.
        let line = "调用".repeat(10_000);
        let (kept, tokens) = shorten(&line, 50, &counter);
        assert!(!kept.is_empty() && tokens <= 50, "{tokens}");
        assert!(line.starts_with(&kept));
        assert_eq!(floor_char_boundary("é", 1), 0);
    }

    #[test]
    fn a_huge_commit_message_is_cut_with_a_note_and_small_ones_stay_whole() {
        let counter = TokenCounter::uncalibrated();
        let mut series = crate::context::one_patch_series("", "short and whole\n");
        let mut second = series.patches[0].clone();
        second.index = 2;
        second.commit_message = "a line of a very long commit message\n".repeat(200_000);
        second.subject = "s".repeat(5_000);
        series.patches.push(second);
        let budgeted = budget_messages(&series, 32_000, &counter);
        assert_eq!(
            budgeted.series.patches[0].commit_message,
            "short and whole\n"
        );
        let long = &budgeted.series.patches[1].commit_message;
        assert!(counter.text(long) <= 8_000 + 20, "{}", counter.text(long));
        assert!(long.ends_with("bytes left out to fit the budget]"));
        assert!(budgeted.series.patches[1].subject.len() < 600);
        assert_eq!(budgeted.notes.len(), 2, "{:?}", budgeted.notes);
        assert!(
            budgeted.notes[1]
                .starts_with("patch 2's commit message (7400000 bytes, 200000 lines) shortened"),
            "{:?}",
            budgeted.notes
        );
    }
}
