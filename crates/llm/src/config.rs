//! Provider configuration: which wire format, where, which model, which key,
//! and the retry, rate-limit, server-quirk and price settings.
//!
//! Values come from the caller (the CLI merges flags, environment and the
//! config file). A key is held in [`Secret`], which never prints or
//! serialises its value; this module must never log a key.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use sashiko_llm_core::ProviderKind;

/// A secret string. Debug, Display and Serialize print `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    /// The secret itself; only for putting it into a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str("[redacted]")
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Secret(String::deserialize(deserializer)?))
    }
}

/// How an OpenAI-compatible server wants structured output requested.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonMode {
    /// `{"type":"json_schema","json_schema":{"name","schema"}}` (OpenAI, vLLM, Ollama).
    #[default]
    JsonSchema,
    /// `{"type":"json_object","schema":...}` (llama-cpp-python's server).
    JsonObjectWithSchema,
    /// `{"type":"json_object"}`; the schema is only described in the prompt.
    JsonObject,
    /// No `response_format` at all.
    None,
}

/// Which field carries the output-token limit on OpenAI-compatible servers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensField {
    /// `max_completion_tokens` for api.openai.com, `max_tokens` elsewhere.
    #[default]
    Auto,
    MaxTokens,
    MaxCompletionTokens,
}

/// Retry policy for one request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryConfig {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub initial_backoff_ms: u64,
    pub max_backoff_ms: u64,
    /// Longest single wait honoured from a server hint (retry-after).
    pub max_server_wait_ms: u64,
    /// Give up when the total waiting would exceed this.
    pub max_total_wait_ms: u64,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_retries: 6,
            initial_backoff_ms: 1_000,
            max_backoff_ms: 60_000,
            max_server_wait_ms: 120_000,
            max_total_wait_ms: 600_000,
        }
    }
}

/// Limits shared by every request through clients connected with the same
/// provider and base URL in this process. Zero means unlimited.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    pub requests_per_minute: u32,
    pub tokens_per_minute: u64,
    /// Most requests in flight at once.
    pub max_concurrent: u32,
}

/// Prices in US dollars per million tokens.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub cache_read: f64,
    pub cache_write: f64,
    pub output: f64,
}

/// Configuration of one provider connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub provider: ProviderKind,
    #[serde(default)]
    pub base_url: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub api_key: Option<Secret>,
    #[serde(default)]
    pub retry: RetryConfig,
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Price table keyed by model name; `"*"` applies to any model.
    #[serde(default)]
    pub prices: std::collections::BTreeMap<String, Price>,
    /// OpenAI-compatible servers: how to ask for JSON output.
    #[serde(default)]
    pub json_mode: JsonMode,
    /// OpenAI-compatible servers: which field limits output tokens.
    #[serde(default)]
    pub max_tokens_field: MaxTokensField,
    /// Per-request HTTP timeout in seconds; 0 disables it (and the
    /// connect timeout), which tests running on a paused tokio clock need.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
}

fn default_timeout_secs() -> u64 {
    300
}

impl ProviderConfig {
    pub fn new(provider: ProviderKind) -> Self {
        ProviderConfig {
            provider,
            base_url: None,
            model: None,
            api_key: None,
            retry: RetryConfig::default(),
            rate_limit: RateLimitConfig::default(),
            prices: Default::default(),
            json_mode: JsonMode::default(),
            max_tokens_field: MaxTokensField::default(),
            timeout_secs: default_timeout_secs(),
        }
    }

    pub fn with_base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(Secret::new(key));
        self
    }

    /// The base URL in use, without a trailing slash.
    pub fn effective_base_url(&self) -> String {
        self.base_url
            .as_deref()
            .unwrap_or(self.provider.default_base_url())
            .trim_end_matches('/')
            .to_string()
    }

    /// The cost of `usage` by `model` in US dollars, if priced.
    pub fn cost_usd(&self, model: &str, usage: &crate::types::Usage) -> Option<f64> {
        self.price_for(model).map(|price| price.cost_usd(usage))
    }

    /// The price for `model`, falling back to the `"*"` entry.
    pub fn price_for(&self, model: &str) -> Option<&Price> {
        self.prices.get(model).or_else(|| self.prices.get("*"))
    }
}
