//! Offline token counts for budgets and rate limiting.
//!
//! Counts are real BPE token counts with OpenAI's `o200k_base` encoding
//! (`tiktoken-rs`, whose vocabulary ships inside the crate, so nothing is
//! fetched at run time). Other providers tokenize differently, so every
//! count used for a decision goes through a per provider/model
//! [`Calibration`]: a running ratio of the input tokens the provider
//! reported to the tokens we counted for the same requests.
//!
//! [`estimate_text`] is the crude four-bytes-per-token rule; it is kept for
//! the fake servers, which use it to invent "provider-reported" usage that
//! deliberately differs from our count. This module must never call a
//! network service.

use std::sync::OnceLock;

use crate::types::{ChatRequest, ContentBlock};

/// Bytes per token assumed by [`estimate_text`].
pub const BYTES_PER_TOKEN: usize = 4;

/// Tokens per message for role markers and separators (the chat formats
/// of all three providers add a few).
const PER_MESSAGE_OVERHEAD: u64 = 4;

/// The crude estimate: one token per four bytes (the fakes' own count).
pub fn estimate_text(text: &str) -> u64 {
    text.len().div_ceil(BYTES_PER_TOKEN) as u64
}

fn encoder() -> &'static tiktoken_rs::CoreBPE {
    static ENCODER: OnceLock<&'static tiktoken_rs::CoreBPE> = OnceLock::new();
    ENCODER.get_or_init(tiktoken_rs::o200k_base_singleton)
}

/// BPE tokens of `text` (`o200k_base`, special-token text counted as
/// ordinary text: patch text is untrusted and never a control token).
///
/// The same long texts (the system prompt, the series message) are
/// counted for every stage of a review, so counts of texts longer than a
/// few hundred bytes are remembered by a hash of their content.
pub fn count_text(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    if text.len() < MEMO_MIN_BYTES {
        return encoder().encode_ordinary(text).len() as u64;
    }
    let key = {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut hasher);
        (hasher.finish(), text.len())
    };
    if let Some(count) = memo().get(&key) {
        return count;
    }
    let count = encoder().encode_ordinary(text).len() as u64;
    memo().put(key, count);
    count
}

const MEMO_MIN_BYTES: usize = 512;
const MEMO_ENTRIES: usize = 4096;

/// Remembered counts; forgets everything when full (cheap and bounded).
struct Memo {
    counts: std::sync::Mutex<std::collections::HashMap<(u64, usize), u64>>,
}

impl Memo {
    fn get(&self, key: &(u64, usize)) -> Option<u64> {
        self.lock().get(key).copied()
    }

    fn put(&self, key: (u64, usize), count: u64) {
        let mut counts = self.lock();
        if counts.len() >= MEMO_ENTRIES {
            counts.clear();
        }
        counts.insert(key, count);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<(u64, usize), u64>> {
        self.counts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn memo() -> &'static Memo {
    static MEMO: OnceLock<Memo> = OnceLock::new();
    MEMO.get_or_init(|| Memo {
        counts: std::sync::Mutex::new(std::collections::HashMap::new()),
    })
}

/// Counted input tokens of a whole request: system, messages, tools and
/// schema, plus a small per-message overhead.
pub fn count_request(request: &ChatRequest) -> u64 {
    request_tokens(request, count_text)
}

/// [`count_request`] with the crude byte rule instead of BPE.
pub fn estimate_request(request: &ChatRequest) -> u64 {
    request_tokens(request, estimate_text)
}

fn request_tokens(request: &ChatRequest, count: fn(&str) -> u64) -> u64 {
    let mut total = count(&request.system) + 3;
    for message in &request.messages {
        total += PER_MESSAGE_OVERHEAD;
        for block in &message.content {
            total += match block {
                ContentBlock::Text(text) => count(text),
                ContentBlock::ToolUse { name, input, .. } => {
                    count(name) + count(&input.to_string())
                }
                ContentBlock::ToolResult { content, .. } => count(content) + 2,
                ContentBlock::Signature { .. } => 0,
            };
        }
    }
    for tool in &request.tools {
        total +=
            count(&tool.name) + count(&tool.description) + count(&tool.input_schema.to_string());
    }
    if let Some(schema) = &request.response_schema {
        total += count(&schema.schema.to_string());
    }
    total
}

/// Per-model correction of our count from reported usage: an exponential
/// moving average of reported / counted input tokens, clamped to [0.25, 4].
#[derive(Debug)]
pub struct Calibration {
    factor: std::sync::Mutex<Option<f64>>,
}

impl Default for Calibration {
    fn default() -> Self {
        Calibration {
            factor: std::sync::Mutex::new(None),
        }
    }
}

impl Calibration {
    /// The calibration shared by every client of `provider` and `model`.
    pub fn shared(provider: &str, model: &str) -> std::sync::Arc<Calibration> {
        use std::collections::HashMap;
        use std::sync::{Arc, Mutex};
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<Calibration>>>> = OnceLock::new();
        let registry = REGISTRY.get_or_init(Default::default);
        let mut map = registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(format!("{provider}|{model}"))
            .or_default()
            .clone()
    }

    /// Learns from one request: `counted` by [`count_request`], `reported`
    /// all input tokens the provider counted.
    pub fn observe(&self, counted: u64, reported: u64) {
        if counted == 0 || reported == 0 {
            return;
        }
        let ratio = (reported as f64 / counted as f64).clamp(0.25, 4.0);
        let mut factor = self
            .factor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *factor = Some(match *factor {
            Some(old) => old * 0.7 + ratio * 0.3,
            None => ratio,
        });
    }

    /// The current factor (1.0 before any observation).
    pub fn factor(&self) -> f64 {
        self.factor
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .unwrap_or(1.0)
    }

    /// `count` corrected by what this model reported so far.
    pub fn correct(&self, count: u64) -> u64 {
        (count as f64 * self.factor()).ceil() as u64
    }
}

/// Counts tokens as one provider's model will: BPE count times the
/// calibration learned from that model's reported usage. Cheap to clone.
#[derive(Clone, Debug)]
pub struct TokenCounter {
    calibration: std::sync::Arc<Calibration>,
}

impl TokenCounter {
    /// The counter for `provider`'s `model`, sharing the process-wide
    /// calibration that the HTTP clients feed.
    pub fn for_model(provider: &str, model: &str) -> TokenCounter {
        TokenCounter {
            calibration: Calibration::shared(provider, model),
        }
    }

    /// A counter with its own calibration (tests, offline tools).
    pub fn uncalibrated() -> TokenCounter {
        TokenCounter {
            calibration: std::sync::Arc::new(Calibration::default()),
        }
    }

    pub fn text(&self, text: &str) -> u64 {
        self.calibration.correct(count_text(text))
    }

    pub fn request(&self, request: &ChatRequest) -> u64 {
        self.calibration.correct(count_request(request))
    }

    pub fn factor(&self) -> f64 {
        self.calibration.factor()
    }

    /// The longest prefix `text[..ends[i]]` within `allowed` tokens, as its
    /// byte length and tokens; `(0, 0)` when none fits. `ends` are cut
    /// points in ascending order (binary search: token counts grow with
    /// the prefix).
    pub fn longest_prefix_within(&self, text: &str, ends: &[usize], allowed: u64) -> (usize, u64) {
        let (mut low, mut high) = (0usize, ends.len());
        let mut best = (0, 0);
        while low < high {
            let middle = (low + high).div_ceil(2);
            let cut = ends[middle - 1];
            let tokens = self.text(&text[..cut]);
            if tokens <= allowed {
                best = (cut, tokens);
                low = middle;
            } else {
                high = middle - 1;
            }
        }
        best
    }
}

/// The count of `request`'s input tokens, corrected for `provider`'s
/// `model` by the usage it reported in this process.
pub fn calibrated_count(provider: &str, model: &str, request: &ChatRequest) -> u64 {
    TokenCounter::for_model(provider, model).request(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_count(text: &str, expected: u64) {
        assert_eq!(count_text(text), expected, "{text:?}");
    }

    #[test]
    fn bpe_counts_of_known_strings() {
        // Reference counts from OpenAI's tiktoken (o200k_base).
        check_count("", 0);
        check_count("hello world", 2);
        check_count("static int foo(struct bar *b)", 8);
        check_count("<|endoftext|>", 7);
        // Code and prose are far from the four-bytes rule, in both directions.
        let spaces = " ".repeat(64);
        assert!(count_text(&spaces) < estimate_text(&spaces));
    }

    #[test]
    fn remembered_counts_equal_fresh_ones() {
        let text = "static int foo(struct bar *b)\n".repeat(40);
        let fresh = encoder().encode_ordinary(&text).len() as u64;
        assert_eq!(count_text(&text), fresh);
        assert_eq!(count_text(&text), fresh);
        let other = format!("{text}x");
        assert_ne!(count_text(&other), 0);
    }

    #[test]
    fn estimates_and_calibration() {
        assert_eq!(estimate_text(""), 0);
        assert_eq!(estimate_text("abcd"), 1);
        assert_eq!(estimate_text("abcde"), 2);
        let request = ChatRequest::new("s", "x".repeat(400)).with_user_text("y".repeat(40));
        assert_eq!(estimate_request(&request), 100 + 3 + 4 + 10);
        assert!(count_request(&request) > 3 + 4);
        let calibration = Calibration::default();
        assert_eq!(calibration.correct(100), 100);
        calibration.observe(100, 200);
        assert_eq!(calibration.correct(100), 200);
        calibration.observe(100, 100);
        assert_eq!(calibration.correct(100), 170);
        calibration.observe(1, 1_000_000);
        assert!(calibration.factor() <= 4.0);
    }

    #[test]
    fn counters_of_one_model_share_what_it_reported() {
        let a = TokenCounter::for_model("test-provider", "shared-model");
        let b = TokenCounter::for_model("test-provider", "shared-model");
        let other = TokenCounter::for_model("test-provider", "other-model");
        Calibration::shared("test-provider", "shared-model").observe(100, 150);
        let counted = count_text("static int foo(struct bar *b)");
        assert_eq!(
            a.text("static int foo(struct bar *b)"),
            (counted * 3).div_ceil(2)
        );
        assert_eq!(b.factor(), 1.5);
        assert_eq!(other.factor(), 1.0);
    }
}
