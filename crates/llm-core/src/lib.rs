//! The provider-neutral model interface: the [`LlmClient`] trait, the
//! request and response values, errors, structured-output validation with
//! one repair round, the tool-calling loop, and offline token counting and
//! budget fitting.
//!
//! The review core links this crate and nothing that opens a socket: the
//! HTTP adapters, retries, rate limits, recordings and metering live in
//! `sashiko-llm`, the scripted fake server in `sashiko-llm-fake`. This
//! crate must never depend on an HTTP client or server.

pub mod budget;
pub mod error;
pub mod provider;
pub mod schema;
pub mod structured;
pub mod tokens;
pub mod tool_loop;
pub mod types;

pub use budget::{fit_to_budget, ContextPart, FittedContext};
pub use error::{LlmError, Origin};
pub use provider::{ProviderKind, STAGE_HEADER};
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
