//! The model a process talks to: the configured provider connected once,
//! wrapped for cassette record/replay when `SASHIKO_LLM_CASSETTE` asks for
//! it, with its price from the configuration's price table so every stored
//! review carries its cost.

use std::sync::Arc;

use sashiko_llm::{LlmClient, Price, ProviderConfig};

use crate::error::{Context, ErrorKind, Result};

/// A connected model and what its tokens cost.
#[derive(Clone)]
pub struct Model {
    pub client: Arc<dyn LlmClient>,
    /// From the configured price table (the model's entry, else `"*"`);
    /// `None` when no price is known.
    pub price: Option<Price>,
}

impl Model {
    /// A model with no known price (tests, scripted clients).
    pub fn unpriced(client: Arc<dyn LlmClient>) -> Model {
        Model {
            client,
            price: None,
        }
    }

    /// The provider's name, for reports.
    pub fn provider(&self) -> &str {
        self.client.provider()
    }

    /// The model's name, for reports.
    pub fn name(&self) -> &str {
        self.client.model()
    }
}

/// Connects to the configured provider; `None` when none is configured.
pub fn connect_model(config: Option<&ProviderConfig>) -> Result<Option<Model>> {
    let Some(config) = config else {
        return Ok(None);
    };
    let client = sashiko_llm::connect(config).context(ErrorKind::Setup, || {
        "connecting to the configured model".to_owned()
    })?;
    // SASHIKO_LLM_CASSETTE / SASHIKO_LLM_CASSETTE_MODE record or replay
    // transcripts around the real client.
    let client = sashiko_llm::cassette::try_wrap_from_env(client)
        .context(ErrorKind::Setup, || {
            "setting up the LLM cassette from SASHIKO_LLM_CASSETTE".to_owned()
        })?;
    let model = config.model.clone().unwrap_or_default();
    let price = config
        .prices
        .get(&model)
        .or_else(|| config.prices.get("*"))
        .cloned();
    Ok(Some(Model { client, price }))
}
