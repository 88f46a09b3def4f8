//! The bot's configuration file (`sashiko bot --config FILE`): where to
//! read mail from, the policy file, timing, and how mail leaves (SMTP,
//! patchwork). Paths are relative to the file's directory.
//!
//! The LLM and database come from sashiko's normal settings unless given
//! here. This module only reads configuration; it never opens sockets.

use std::path::{Path, PathBuf};

use sashiko_report::patchwork::PatchworkConfig;
use sashiko_report::smtp::SmtpConfig;
use serde::Deserialize;

/// One followed source.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// A source in `sashiko ingest` syntax: `mbox:PATH`, `maildir:PATH`,
    /// `public-inbox:GITDIR`, `nntp://HOST[:PORT]/GROUP`.
    pub spec: String,
    /// The list its messages belong to (List-Id form, e.g.
    /// `io-uring.vger.kernel.org`); default: each message's List-Id.
    #[serde(default)]
    pub list: Option<String>,
}

/// The whole file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// Database URL; default: sashiko's configured database.
    #[serde(default)]
    pub db: Option<String>,
    /// The policy file.
    pub policy: PathBuf,
    /// Sources to follow.
    #[serde(default)]
    pub sources: Vec<SourceConfig>,
    /// Seconds between polls.
    #[serde(default = "default_poll")]
    pub poll_seconds: u64,
    /// Minutes to wait for missing patches before reviewing the parts
    /// present.
    #[serde(default = "default_wait")]
    pub incomplete_wait_minutes: u64,
    /// Days of stored mail considered for series assembly.
    #[serde(default = "default_window")]
    pub window_days: u64,
    /// Where dry-run replies are written (one file per mail); default: logged only.
    #[serde(default)]
    pub dry_run_dir: Option<PathBuf>,
    /// Attempts per mail before it is dead.
    #[serde(default = "default_attempts")]
    pub mail_attempts: u32,
    /// Seconds before the first retry of a mail (doubled per attempt).
    #[serde(default = "default_retry")]
    pub mail_retry_seconds: u64,
    /// Minutes after which a mail left `sending` by a stopped bot is
    /// queued again (it may have been delivered: keep this long).
    #[serde(default = "default_stale")]
    pub stale_sending_minutes: u64,
    /// Stop reviewing after this many reviews per poll (0: no limit).
    #[serde(default)]
    pub max_reviews_per_poll: u32,
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
    #[serde(default)]
    pub patchwork: Option<PatchworkConfig>,
}

fn default_poll() -> u64 {
    300
}
fn default_wait() -> u64 {
    120
}
fn default_window() -> u64 {
    30
}
fn default_attempts() -> u32 {
    8
}
fn default_retry() -> u64 {
    60
}
fn default_stale() -> u64 {
    60
}

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading bot configuration {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("bot configuration {path} is not valid: {detail}")]
    Parse { path: String, detail: String },
}

impl BotConfig {
    /// Reads `path`, resolving relative paths against its directory.
    pub fn load(path: &Path) -> Result<BotConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut config: BotConfig = toml::from_str(&text).map_err(|error| ConfigError::Parse {
            path: path.display().to_string(),
            detail: error.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        config.policy = resolve(&config.policy);
        config.dry_run_dir = config.dry_run_dir.as_deref().map(resolve);
        for source in &mut config.sources {
            for prefix in ["mbox:", "mboxrd:", "mboxo:", "maildir:", "public-inbox:"] {
                if let Some(rest) = source.spec.strip_prefix(prefix) {
                    source.spec = format!("{prefix}{}", resolve(Path::new(rest)).display());
                    break;
                }
            }
        }
        Ok(config)
    }
}
