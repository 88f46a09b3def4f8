//! The LLM layer's IO half: the OpenAI (also Ollama, llama.cpp, vLLM),
//! Anthropic and Gemini HTTP adapters behind the [`LlmClient`] trait, with
//! retries that honour server hints, a shared rate limiter, usage and cost
//! accounting (metering) and recordings (cassettes).
//!
//! The trait, the request and response values, structured output, the tool
//! loop and token counting live in `sashiko-llm-core` (re-exported here so
//! callers keep one import path); the scripted fake server lives in
//! `sashiko-llm-fake`. This crate must never log or return an API key,
//! never put the caller's stage label into prompt text, and never reach the
//! network except the configured endpoint.

mod anthropic;
pub mod cassette;
pub mod config;
pub mod cost;
mod gemini;
mod http;
pub mod metered;
mod openai;
pub mod ratelimit;
pub mod retry;

pub use sashiko_llm_core::{budget, error, schema, structured, tokens, tool_loop, types};

use std::sync::Arc;

pub use anthropic::ANTHROPIC_VERSION;
pub use cassette::{wrap_from_env, CassetteClient, CassetteMode};
pub use config::{
    JsonMode, MaxTokensField, Price, ProviderConfig, ProviderKind, RateLimitConfig, RetryConfig,
    Secret,
};
pub use cost::{StageUsage, UsageLedger, UsageReport};
pub use gemini::to_gemini_schema;
pub use metered::MeteredClient;
pub use sashiko_llm_core::{
    chat_structured, fit_to_budget, run_tool_loop, ChatRequest, ChatResponse, ContentBlock,
    ContextPart, FittedContext, LlmClient, LlmError, LoopStop, Message, Origin, ResponseSchema,
    Role, SourceLines, StopReason, StructuredAnswer, ToolBudget, ToolCall, ToolExecutor,
    ToolLoopOutcome, ToolOutput, ToolSpec, Usage, STAGE_HEADER,
};

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
