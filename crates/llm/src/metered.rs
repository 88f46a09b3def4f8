//! A wrapping client that counts the usage of every answer that passes
//! through it, by stage — including answers a caller later rejects (failed
//! repair rounds, stages that end in an error), which the callers' own
//! sums would otherwise lose.
//!
//! It only observes: it must never change a request or a response.

use std::sync::{Arc, Mutex};

use crate::cost::UsageLedger;
use crate::error::LlmError;
use crate::types::{ChatRequest, ChatResponse};
use crate::LlmClient;

pub struct MeteredClient {
    inner: Arc<dyn LlmClient>,
    ledger: Mutex<UsageLedger>,
}

impl MeteredClient {
    pub fn new(inner: Arc<dyn LlmClient>) -> Self {
        MeteredClient {
            inner,
            ledger: Mutex::new(UsageLedger::default()),
        }
    }

    /// Usage so far, by stage.
    pub fn ledger(&self) -> UsageLedger {
        self.ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }
}

#[async_trait::async_trait]
impl LlmClient for MeteredClient {
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
        self.ledger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .add(&request.stage, response.usage);
        Ok(response)
    }
}
