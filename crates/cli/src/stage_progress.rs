//! Stage progress of one review on a terminal: a line when a stage sends
//! its first request, and each line the engine reports (a stage done)
//! with the elapsed time and the tokens used so far.
//!
//! [`StageWatch`] wraps the model client and only counts: it forwards
//! every request unchanged and never alters an answer or an error. When
//! progress is off (`--quiet`, not a terminal) it is not installed.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use sashiko_llm::{ChatRequest, ChatResponse, LlmClient, LlmError, Usage};

use crate::progress;

/// What the review has used so far, shared by the client and the lines.
#[derive(Default)]
struct Tally {
    stages_started: BTreeSet<String>,
    usage: Usage,
}

/// The elapsed time and token figures of one review's progress lines.
#[derive(Clone)]
pub struct StageWatch {
    started: Instant,
    tally: Arc<Mutex<Tally>>,
}

impl StageWatch {
    pub fn new() -> StageWatch {
        StageWatch {
            started: Instant::now(),
            tally: Arc::new(Mutex::new(Tally::default())),
        }
    }

    /// `client` with its requests counted here.
    pub fn wrap(&self, client: Arc<dyn LlmClient>) -> Arc<dyn LlmClient> {
        Arc::new(WatchedClient {
            inner: client,
            watch: self.clone(),
        })
    }

    /// Shows `text` (an engine progress line) with time and tokens.
    pub fn report(&self, text: &str) {
        let tokens = match self.tally.lock() {
            Ok(tally) => tokens_text(&tally.usage),
            Err(_) => String::new(),
        };
        progress::line(&format!(
            "[{}] {text}{tokens}",
            progress::seconds(self.started.elapsed())
        ));
    }

    fn stage_request(&self, stage: &str) {
        let first = match self.tally.lock() {
            Ok(mut tally) => tally.stages_started.insert(stage.to_owned()),
            Err(_) => false,
        };
        if first {
            progress::line(&format!(
                "[{}] stage {stage} started",
                progress::seconds(self.started.elapsed())
            ));
        }
    }

    fn answered(&self, usage: &Usage) {
        if let Ok(mut tally) = self.tally.lock() {
            tally.usage.requests += 1;
            tally.usage.input_tokens += usage.input_tokens;
            tally.usage.cache_read_tokens += usage.cache_read_tokens;
            tally.usage.cache_write_tokens += usage.cache_write_tokens;
            tally.usage.output_tokens += usage.output_tokens;
        }
    }
}

/// ` (3 requests, 1200 in / 80 out tokens so far)`, or nothing before
/// the first answer.
fn tokens_text(usage: &Usage) -> String {
    if usage.requests == 0 {
        return String::new();
    }
    format!(
        " ({} request{}, {} in / {} out tokens so far)",
        usage.requests,
        if usage.requests == 1 { "" } else { "s" },
        usage.total_input_tokens(),
        usage.output_tokens
    )
}

struct WatchedClient {
    inner: Arc<dyn LlmClient>,
    watch: StageWatch,
}

#[async_trait::async_trait]
impl LlmClient for WatchedClient {
    fn provider(&self) -> &str {
        self.inner.provider()
    }

    fn model(&self) -> &str {
        self.inner.model()
    }

    fn endpoint(&self) -> String {
        self.inner.endpoint()
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        self.watch.stage_request(&request.stage);
        let answer = self.inner.chat(request).await;
        if let Ok(response) = &answer {
            self.watch.answered(&response.usage);
        }
        answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_text() {
        let none = Usage::default();
        assert_eq!(tokens_text(&none), "");
        let some = Usage {
            requests: 3,
            input_tokens: 1000,
            cache_read_tokens: 200,
            output_tokens: 80,
            ..Usage::default()
        };
        assert_eq!(
            tokens_text(&some),
            " (3 requests, 1200 in / 80 out tokens so far)"
        );
    }
}
