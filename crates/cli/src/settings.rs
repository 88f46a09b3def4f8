//! Effective configuration: built-in defaults, then
//! `$XDG_CONFIG_HOME/sashiko/config.toml`, then `SASHIKO_*` environment
//! variables, then command-line flags (later wins).
//!
//! Secrets (API keys) are held in [`Secret`], whose `Debug`, `Display` and
//! `Serialize` never show the value. Nothing here talks to the network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sashiko_llm::{
    JsonMode, Price, ProviderConfig, ProviderKind, RateLimitConfig, RetryConfig, Secret,
};
use sashiko_pipeline::prompts::PromptOptions;
use sashiko_pipeline::TreeSettings;
use sashiko_review::prompts::PromptSource;
use serde::{Deserialize, Serialize};

/// The `[queue]` table: which series `sashiko enqueue` puts first (defined
/// with the priority rules that read it).
pub use sashiko_pipeline::priority::QueueSettings;

/// The `[llm]` table of config.toml and its environment/flag overrides.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct LlmSettings {
    /// `openai` (any OpenAI-compatible server), `anthropic` or `gemini`.
    pub provider: Option<String>,
    /// Printed with any userinfo password or token redacted.
    #[serde(serialize_with = "serialize_redacted_opt")]
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<Secret>,
    /// How to ask an OpenAI-compatible server for JSON (`json_schema`,
    /// `json_object_with_schema` for llama.cpp's server, `json_object`, `none`).
    pub json_mode: Option<JsonMode>,
    /// Maximum output tokens per stage request.
    pub max_output_tokens: Option<u32>,
    pub timeout_secs: Option<u64>,
    pub retry: Option<RetryConfig>,
    pub rate_limit: Option<RateLimitConfig>,
    /// US dollars per million tokens, keyed by model (`"*"` for any).
    #[serde(default)]
    pub prices: BTreeMap<String, Price>,
}

impl LlmSettings {
    /// The provider connection these settings describe, or `None` when no
    /// provider and model are configured.
    pub fn provider_config(&self) -> anyhow::Result<Option<ProviderConfig>> {
        let (Some(provider), Some(model)) = (&self.provider, &self.model) else {
            return Ok(None);
        };
        let kind: ProviderKind = provider.parse().map_err(|error: String| {
            anyhow::anyhow!("invalid LLM provider {provider:?}: {error}")
        })?;
        let mut config = ProviderConfig::new(kind).with_model(model.clone());
        config.base_url = self.base_url.clone();
        config.api_key = self.api_key.clone();
        if let Some(mode) = self.json_mode {
            config.json_mode = mode;
        }
        if let Some(timeout) = self.timeout_secs {
            config.timeout_secs = timeout;
        }
        if let Some(retry) = &self.retry {
            config.retry = retry.clone();
        }
        if let Some(rate_limit) = &self.rate_limit {
            config.rate_limit = rate_limit.clone();
        }
        config.prices = self.prices.clone();
        Ok(Some(config))
    }
}

/// The whole configuration file.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSettings {
    pub db: Option<String>,
    #[serde(default)]
    pub llm: LlmSettings,
    #[serde(default)]
    pub queue: QueueSettings,
    /// Directory holding the stage manifest and prompts (default: the
    /// prompt set built into the binary).
    pub prompts: Option<PathBuf>,
    #[serde(default)]
    pub review: ReviewSettings,
}

/// The `[review]` table: adjustments of the prompt set's policies.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ReviewSettings {
    /// Token budgets: default per stage, the full budget, caps per
    /// subsystem, critical paths and subsystems (added to the manifest's
    /// `[budget]`).
    #[serde(default)]
    pub budget: sashiko_review::budget_policy::BudgetOverrides,
    /// A kernel tree (checkout or bare mirror) that `sashiko worker` and
    /// `sashiko bot` apply mailed series to, for the same context, tools
    /// and lock hierarchy `sashiko review` gives local commits. The tree
    /// is only read. `SASHIKO_REVIEW_TREE` overrides it.
    pub tree: Option<PathBuf>,
    /// The revision of `tree` a series is applied to when it names no
    /// `base-commit:` the tree holds (default `HEAD`, e.g. `origin/master`).
    /// `SASHIKO_REVIEW_BASE` overrides it.
    pub base: Option<String>,
    /// `[review.analyzers]`: the tree's checkpatch.pl and Coccinelle.
    #[serde(default)]
    pub analyzers: crate::analyzer_settings::AnalyzerConfig,
}

/// Values given on the command line; `None` means "not given".
#[derive(Clone, Debug, Default)]
pub struct FlagSettings {
    pub db: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub prompts: Option<PathBuf>,
}

fn serialize_redacted<S: serde::Serializer>(url: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&sashiko_safetext::redact_url(url))
}

fn serialize_redacted_opt<S: serde::Serializer>(
    url: &Option<String>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => serializer.serialize_some(&sashiko_safetext::redact_url(url)),
        None => serializer.serialize_none(),
    }
}

/// The configuration in force, with where each part came from.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    pub config_file: Option<PathBuf>,
    /// Printed with its password redacted (`sashiko config`).
    #[serde(serialize_with = "serialize_redacted")]
    pub db: String,
    pub llm: LlmSettings,
    /// A prompt directory given by flag, environment or file; `None` means
    /// the set built into the binary.
    pub prompts: Option<PathBuf>,
    pub review: ReviewSettings,
    pub queue: QueueSettings,
}

impl Settings {
    /// Load the file (if any), apply the environment and the flags.
    pub fn load(flags: &FlagSettings) -> anyhow::Result<Settings> {
        let env = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let config_path = config_file_path();
        let file = match &config_path {
            Some(path) if path.exists() => read_file_settings(path)?,
            _ => FileSettings::default(),
        };
        let mut llm = file.llm.clone();
        override_with(&mut llm.provider, env("SASHIKO_LLM_PROVIDER"));
        override_with(&mut llm.base_url, env("SASHIKO_LLM_BASE_URL"));
        override_with(&mut llm.model, env("SASHIKO_LLM_MODEL"));
        override_with(
            &mut llm.api_key,
            env("SASHIKO_LLM_API_KEY").map(Secret::new),
        );
        override_with(&mut llm.provider, flags.provider.clone());
        override_with(&mut llm.model, flags.model.clone());
        override_with(&mut llm.base_url, flags.base_url.clone());
        if llm.api_key.is_none() {
            let fallback = match llm.provider.as_deref() {
                Some("anthropic") => env("ANTHROPIC_API_KEY"),
                Some("gemini") => env("GEMINI_API_KEY"),
                Some("openai") => env("OPENAI_API_KEY"),
                _ => None,
            };
            llm.api_key = fallback.map(Secret::new);
        }
        let db = flags
            .db
            .clone()
            .or_else(|| env("SASHIKO_DB"))
            .or(file.db.clone())
            .unwrap_or_else(default_db_url);
        let prompts = flags
            .prompts
            .clone()
            .or_else(|| env("SASHIKO_PROMPTS").map(PathBuf::from))
            .or(file.prompts.clone());
        let mut review = file.review.clone();
        override_with(
            &mut review.tree,
            env("SASHIKO_REVIEW_TREE").map(PathBuf::from),
        );
        override_with(&mut review.base, env("SASHIKO_REVIEW_BASE"));
        Ok(Settings {
            config_file: config_path.filter(|path| path.exists()),
            db,
            llm,
            prompts,
            review,
            queue: file.queue.clone(),
        })
    }

    /// The tree mail is applied to (`[review] tree` and `base`), if any.
    pub fn tree_settings(&self) -> Option<TreeSettings> {
        Some(TreeSettings::new(
            self.review.tree.clone()?,
            self.review.base.clone(),
        ))
    }

    /// The prompt set in force with the configured budget, plus the guides
    /// of `guide_dirs` (added in order when they hold a `guides.toml`).
    pub fn prompt_options(&self, guide_dirs: Vec<PathBuf>) -> PromptOptions {
        PromptOptions {
            source: self.prompt_source(),
            guide_dirs,
            budget: self.review.budget.clone(),
        }
    }

    /// The prompt set in force: the configured directory, else the one
    /// built into the binary.
    pub fn prompt_source(&self) -> PromptSource {
        match &self.prompts {
            Some(dir) => PromptSource::Dir(dir.clone()),
            None => PromptSource::Embedded(crate::embedded_prompts::FILES),
        }
    }

    /// True when enough is configured to talk to a model.
    pub fn llm_configured(&self) -> bool {
        self.llm.provider.is_some() && self.llm.model.is_some()
    }
}

fn override_with<T>(slot: &mut Option<T>, value: Option<T>) {
    if value.is_some() {
        *slot = value;
    }
}

fn read_file_settings(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("parsing configuration file {}", path.display()))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// `$XDG_CONFIG_HOME/sashiko/config.toml` (or `~/.config/...`); overridden
/// by `SASHIKO_CONFIG`.
pub fn config_file_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SASHIKO_CONFIG") {
        return Some(PathBuf::from(path));
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|home| home.join(".config")))?;
    Some(base.join("sashiko").join("config.toml"))
}

/// `sqlite:$XDG_DATA_HOME/sashiko/sashiko.db` (or `~/.local/share/...`).
pub fn default_db_url() -> String {
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| home_dir().map(|home| home.join(".local").join("share")))
        .unwrap_or_else(|| PathBuf::from("."));
    format!(
        "sqlite:{}",
        base.join("sashiko").join("sashiko.db").display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_and_serialisation() {
        let settings = LlmSettings {
            api_key: Some(Secret::new("sk-very-secret")),
            ..LlmSettings::default()
        };
        let debug = format!("{settings:?}");
        let toml_text = toml::to_string(&settings).expect("settings serialise");
        let json_text = serde_json::to_string(&settings).expect("settings serialise");
        for text in [debug, toml_text, json_text] {
            assert!(!text.contains("sk-very-secret"), "leaked in {text}");
            assert!(text.contains("redacted"), "no marker in {text}");
        }
    }

    #[test]
    fn file_settings_parse_and_reject_unknown_keys() {
        let parsed: FileSettings = toml::from_str(
            "db = \"sqlite:/tmp/x.db\"\n[llm]\nprovider = \"openai\"\nmodel = \"m\"\n",
        )
        .expect("valid config parses");
        assert_eq!(parsed.db.as_deref(), Some("sqlite:/tmp/x.db"));
        assert_eq!(parsed.llm.provider.as_deref(), Some("openai"));
        let error = toml::from_str::<FileSettings>("[llm]\nmodle = \"x\"\n")
            .expect_err("typo must be rejected");
        assert!(error.to_string().contains("modle"), "{error}");
        let queue: FileSettings = toml::from_str(
            "[queue]\ncritical_subsystems = [\"MEMORY MANAGEMENT\"]\ncritical_paths = [\"kernel/rcu/\"]\n",
        )
        .expect("queue table parses");
        assert_eq!(queue.queue.critical_paths, ["kernel/rcu/"]);
        assert_eq!(queue.queue.critical_priority, None);
        let error = toml::from_str::<FileSettings>("[queue]\ncritical_path = [\"mm/\"]\n")
            .expect_err("typo must be rejected");
        assert!(error.to_string().contains("critical_path"), "{error}");
        let review: FileSettings =
            toml::from_str("[review]\ntree = \"/srv/linux\"\nbase = \"origin/master\"\n")
                .expect("review table parses");
        assert_eq!(review.review.tree, Some(PathBuf::from("/srv/linux")));
        assert_eq!(review.review.base.as_deref(), Some("origin/master"));
        let error = toml::from_str::<FileSettings>("[review]\ntrees = \"/srv/linux\"\n")
            .expect_err("typo must be rejected");
        assert!(error.to_string().contains("trees"), "{error}");
    }
}
