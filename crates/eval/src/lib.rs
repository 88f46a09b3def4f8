//! Evaluation of the reviewer: the seeded-bug corpus and its labels, a
//! label oracle served over the real OpenAI chat-completions protocol,
//! matching of findings to labels, and figures with
//! Wilson confidence intervals, each labelled with its source
//! (`fake:oracle`, `cassette:<model>`, `live:<model>`). Recorded answers
//! are `sashiko_llm`'s cassettes, the one format; this crate has none of
//! its own.
//!
//! Architecture invariant: reviews run through `sashiko_review::run_review`
//! with an `LlmClient` from `sashiko_llm::connect`; this crate never
//! shortcuts the pipeline, and never reports a scripted source's figures
//! without marking them scripted.

pub mod bench;
pub mod corpus;
pub mod kernel_bench;
pub mod matching;
pub mod measure;
pub mod oracle;
pub mod render;
pub mod replay;
pub mod report;
pub mod server;
pub mod stats;

use std::sync::Arc;

use sashiko_llm::{LlmClient, LlmError, ProviderConfig, ProviderKind, RetryConfig};

pub use bench::{run_bench, BenchOptions, BenchRun, Source};
pub use corpus::{load as load_corpus, BugClass, Corpus, CorpusPatch, Label};
pub use oracle::{Oracle, OracleConfig};
pub use render::render_text;
pub use report::{report, BenchReport};
pub use server::{AnswerServer, Answerer};

/// A client for a local answer server, through `sashiko_llm::connect`
/// (OpenAI protocol, no retries: the server never fails transiently).
pub fn local_client(
    server: &AnswerServer,
    model: &str,
) -> Result<Arc<dyn LlmClient>, Box<LlmError>> {
    let mut config = ProviderConfig::new(ProviderKind::Openai)
        .with_base_url(server.base_url())
        .with_model(model)
        .with_api_key("sk-local-answer-server");
    config.retry = RetryConfig {
        max_retries: 0,
        ..config.retry
    };
    sashiko_llm::connect(&config).map_err(Box::new)
}
