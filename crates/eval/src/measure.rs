//! A thin [`LlmClient`] decorator that notes, per request, the stage, the
//! estimated shared-prefix and total prompt tokens of the request body and
//! the usage the provider reported. It forwards every call unchanged and
//! must never alter a request or an answer.

use std::sync::{Arc, Mutex};

use sashiko_llm::tokens::{estimate_request, estimate_text};
use sashiko_llm::{ChatRequest, ChatResponse, ContentBlock, LlmClient, LlmError, Usage};

/// One request as seen by the decorator.
#[derive(Clone, Debug)]
pub struct Observed {
    pub stage: String,
    /// Estimated tokens of the system text and the first message.
    pub shared_prefix_estimate: u64,
    /// Estimated tokens of the whole request.
    pub request_estimate: u64,
    pub usage: Usage,
}

pub struct MeasuringClient {
    inner: Arc<dyn LlmClient>,
    observed: Mutex<Vec<Observed>>,
}

impl MeasuringClient {
    pub fn new(inner: Arc<dyn LlmClient>) -> MeasuringClient {
        MeasuringClient {
            inner,
            observed: Mutex::new(Vec::new()),
        }
    }

    /// Take what was observed since the last call.
    pub fn take(&self) -> Vec<Observed> {
        std::mem::take(
            &mut *self
                .observed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

fn text_of(request: &ChatRequest, index: usize) -> String {
    request
        .messages
        .get(index)
        .map(|message| {
            message
                .content
                .iter()
                .filter_map(|block| match block {
                    ContentBlock::Text(text) => Some(text.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[async_trait::async_trait]
impl LlmClient for MeasuringClient {
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
        let response = self.inner.chat(request).await?;
        let series_text = text_of(request, 0);
        let observed = Observed {
            stage: request.stage.clone(),
            shared_prefix_estimate: estimate_text(&request.system)
                + estimate_text(&series_text)
                + 7,
            request_estimate: estimate_request(request),
            usage: response.usage,
        };
        self.observed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(observed);
        Ok(response)
    }
}
