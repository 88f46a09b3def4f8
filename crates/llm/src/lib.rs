//! The LLM layer: one provider-neutral client trait over the OpenAI
//! (also Ollama, llama.cpp, vLLM), Anthropic and Gemini wire formats, with
//! retries that honour server hints, a shared rate limiter, structured-output
//! validation with one repair round, usage accounting, recordings, and a
//! scripted fake server that speaks the real protocols.
//!
//! Everything that talks to a model goes through [`LlmClient`]. This crate
//! must never log or return an API key, never put the caller's stage label
//! into prompt text, and never reach the network except the configured
//! endpoint.

mod anthropic;
pub mod budget;
pub mod cassette;
pub mod config;
pub mod cost;
pub mod error;
pub mod fake;
mod gemini;
mod http;
pub mod metered;
mod openai;
pub mod ratelimit;
pub mod retry;
pub mod schema;
pub mod structured;
pub mod tokens;
pub mod tool_loop;
pub mod types;

use std::sync::Arc;

pub use anthropic::ANTHROPIC_VERSION;
pub use budget::{fit_to_budget, ContextPart, FittedContext};
pub use cassette::{wrap_from_env, CassetteClient, CassetteMode};
pub use config::{
    JsonMode, MaxTokensField, Price, ProviderConfig, ProviderKind, RateLimitConfig, RetryConfig,
    Secret,
};
pub use cost::{StageUsage, UsageLedger, UsageReport};
pub use error::{LlmError, Origin};
pub use gemini::to_gemini_schema;
pub use http::STAGE_HEADER;
pub use metered::MeteredClient;
pub use structured::{chat_structured, StructuredAnswer};
pub use tool_loop::{
    run_tool_loop, LoopStop, SourceLines, ToolBudget, ToolExecutor, ToolLoopOutcome, ToolOutput,
};
pub use types::{
    ChatRequest, ChatResponse, ContentBlock, Message, ResponseSchema, Role, StopReason, ToolCall,
    ToolSpec, Usage,
};

/// A chat model behind some wire protocol.
#[async_trait::async_trait]
pub trait LlmClient: Send + Sync {
    /// `openai`, `anthropic` or `gemini`.
    fn provider(&self) -> &str;
    fn model(&self) -> &str;
    /// The base URL; never contains a key.
    fn endpoint(&self) -> String;
    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError>;
}

/// Builds a client for `config`.
pub fn connect(config: &ProviderConfig) -> Result<Arc<dyn LlmClient>, LlmError> {
    match config.provider {
        ProviderKind::Openai => Ok(Arc::new(http::HttpClient::new(
            openai::OpenAiWire::new(config),
            config,
        )?)),
        ProviderKind::Anthropic => Ok(Arc::new(http::HttpClient::new(
            anthropic::AnthropicWire,
            config,
        )?)),
        ProviderKind::Gemini => Ok(Arc::new(http::HttpClient::new(gemini::GeminiWire, config)?)),
    }
}
