//! Arguments several subcommands share, defined once so their help text
//! and accepted values are the same everywhere (and in the man page and
//! completions generated from them).

use clap::builder::TypedValueParser as _;
use sashiko_review::Severity;

/// `--provider`, `--model`, `--base-url`: the model a command talks to.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// LLM provider (overrides SASHIKO_LLM_PROVIDER and `[llm] provider`):
    /// openai is any OpenAI-compatible server (Ollama, llama.cpp, vLLM).
    #[arg(long, value_parser = ["openai", "anthropic", "gemini"])]
    pub provider: Option<String>,
    /// Model name as the provider knows it, e.g. qwen2.5-coder or
    /// claude-sonnet-4 (overrides SASHIKO_LLM_MODEL and `[llm] model`).
    #[arg(long)]
    pub model: Option<String>,
    /// Base URL of the provider's API, e.g. http://127.0.0.1:11434/v1 for
    /// Ollama (overrides SASHIKO_LLM_BASE_URL and `[llm] base_url`).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

/// `--fail-on`: the lowest severity that makes the exit status 1.
pub fn severity_parser() -> impl clap::builder::TypedValueParser<Value = Severity> {
    clap::builder::PossibleValuesParser::new(Severity::ALL.map(Severity::as_str)).map(|name| {
        name.parse::<Severity>()
            .expect("the possible values are the severities' own names")
    })
}
