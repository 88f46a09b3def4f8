//! Budgets of the repository tools for one review: calls, bytes returned,
//! bytes per call, lines per read, matches and files per grep, commits per
//! log walk. Counted across every stage of the review; a call over budget
//! gets an error result, never a partial side effect.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

/// Limits of the tools of one review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ToolLimits {
    /// Tool calls per review, all stages together.
    pub max_calls: u32,
    /// Bytes of tool output per review.
    pub max_bytes: u64,
    /// Bytes of one tool result; longer results are cut with a note.
    pub max_call_bytes: usize,
    /// Lines one read_file call returns at most.
    pub max_read_lines: u32,
    /// Matches one grep returns at most.
    pub max_grep_matches: usize,
    /// Files one grep searches at most.
    pub max_grep_files: usize,
    /// Bytes one grep reads at most.
    pub max_grep_bytes: u64,
    /// Commits git_log examines at most.
    pub max_log_walk: usize,
    /// Largest file read_file or blame will open.
    pub max_file_bytes: usize,
}

impl Default for ToolLimits {
    fn default() -> Self {
        ToolLimits {
            max_calls: 40,
            max_bytes: 400_000,
            max_call_bytes: 16_000,
            max_read_lines: 300,
            max_grep_matches: 60,
            max_grep_files: 20_000,
            max_grep_bytes: 64 << 20,
            max_log_walk: 2_000,
            max_file_bytes: 4 << 20,
        }
    }
}

/// The last line of a window of at most `max_lines` lines (at least one)
/// starting at `start`, without overflowing at the top of `u32`: line
/// numbers come from the model and may be anything.
pub fn window_end(start: u32, max_lines: u32) -> u32 {
    start.saturating_add(max_lines.max(1) - 1)
}

/// What the tools of one review have used so far.
#[derive(Debug, Default)]
pub struct Spent {
    calls: AtomicU32,
    bytes: AtomicU64,
}

impl Spent {
    /// Counts a call, or says why it may not be made.
    pub fn take_call(&self, limits: &ToolLimits) -> Result<(), String> {
        let used = self.calls.fetch_add(1, Ordering::SeqCst);
        if used >= limits.max_calls {
            return Err(format!(
                "the tool budget of this review is used up ({} calls); answer with what you have",
                limits.max_calls
            ));
        }
        if self.bytes.load(Ordering::SeqCst) >= limits.max_bytes {
            return Err(format!(
                "the tool output budget of this review is used up ({} bytes); answer with what you have",
                limits.max_bytes
            ));
        }
        Ok(())
    }

    pub fn add_bytes(&self, bytes: usize) {
        self.bytes.fetch_add(bytes as u64, Ordering::SeqCst);
    }

    pub fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::SeqCst)
    }
}

/// Cut `text` at a line boundary to at most `max` bytes, saying so.
pub fn cap_output(mut text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    let mut cut = max;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = text[..cut].rfind('\n').map_or(cut, |newline| newline + 1);
    let left_out = text[cut..].lines().count();
    text.truncate(cut);
    text.push_str(&format!(
        "[{left_out} more line(s) left out: the result is limited to {max} bytes; ask for less]\n"
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_and_caps() {
        let limits = ToolLimits {
            max_calls: 2,
            max_bytes: 10,
            ..ToolLimits::default()
        };
        let spent = Spent::default();
        assert!(spent.take_call(&limits).is_ok());
        spent.add_bytes(11);
        assert!(spent
            .take_call(&limits)
            .is_err_and(|e| e.contains("output budget")));
        assert!(spent
            .take_call(&limits)
            .is_err_and(|e| e.contains("2 calls")));
        assert_eq!(cap_output("a\nb\n".into(), 10), "a\nb\n");
        assert_eq!(
            cap_output("aaa\nbbb\nccc\n".into(), 9),
            "aaa\nbbb\n[1 more line(s) left out: the result is limited to 9 bytes; ask for less]\n"
        );
    }
}
