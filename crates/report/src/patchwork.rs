//! Posting a check per patch to a patchwork instance through its REST API
//! (`/api/1.2/`): find the patch by Message-ID, then create a check with
//! context `sashiko`, a state from the review and a link to the web view.
//!
//! This module only reports; it must never change a patch's state,
//! delegate or anything else in patchwork.

use sashiko_safetext::{redact_text, redact_url};
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where patchwork is.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchworkConfig {
    /// Base URL, e.g. `https://patchwork.kernel.org`.
    pub url: String,
    /// API token of the bot's patchwork account.
    #[serde(default, skip_serializing)]
    pub token: Option<String>,
    /// The check's context name.
    #[serde(default = "default_context")]
    pub context: String,
}

fn default_context() -> String {
    "sashiko".into()
}

/// The check states patchwork knows (we never post `pending`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    /// Reviewed, nothing found.
    Success,
    /// Findings below the failing severity.
    Warning,
    /// Findings at or above it.
    Fail,
}

/// One check to post.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// The state.
    pub state: CheckState,
    /// Link to the review.
    pub target_url: Option<String>,
    /// One line for humans.
    pub description: String,
}

/// Errors talking to patchwork. The URL and the transport's detail (which
/// quotes the request URL) are shown with secrets redacted.
#[derive(Debug, thiserror::Error)]
pub enum PatchworkError {
    #[error(
        "asking patchwork {} for the patch <{message_id}>: {}",
        redact_url(url),
        redact_text(detail)
    )]
    Lookup {
        url: String,
        message_id: String,
        detail: String,
    },
    #[error("patchwork {} has no patch <{message_id}>", redact_url(url))]
    NoPatch { url: String, message_id: String },
    #[error(
        "posting the check for patch {patch} to {}: {}",
        redact_url(url),
        redact_text(detail)
    )]
    Post {
        url: String,
        patch: i64,
        detail: String,
    },
    #[error("patchwork {} needs an API token to post checks", redact_url(url))]
    NoToken { url: String },
}

#[derive(Deserialize)]
struct PatchRef {
    id: i64,
}

#[derive(Serialize)]
struct CheckBody<'a> {
    state: CheckState,
    target_url: Option<&'a str>,
    context: &'a str,
    description: &'a str,
}

/// A patchwork REST client.
pub struct PatchworkClient {
    config: PatchworkConfig,
    http: reqwest::Client,
}

impl PatchworkClient {
    /// A client for `config`.
    pub fn new(config: PatchworkConfig) -> Result<PatchworkClient, PatchworkError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("sashiko/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| PatchworkError::Lookup {
                url: config.url.clone(),
                message_id: String::new(),
                detail: error.to_string(),
            })?;
        Ok(PatchworkClient { config, http })
    }

    fn api(&self, path: &str) -> String {
        format!("{}/api/1.2/{path}", self.config.url.trim_end_matches('/'))
    }

    /// The patch id of the mail `message_id`.
    pub async fn patch_id(&self, message_id: &str) -> Result<i64, PatchworkError> {
        let bare = message_id.trim_start_matches('<').trim_end_matches('>');
        let lookup = |detail: String| PatchworkError::Lookup {
            url: self.config.url.clone(),
            message_id: bare.to_owned(),
            detail,
        };
        let response = self
            .http
            .get(self.api("patches/"))
            .query(&[("msgid", bare)])
            .send()
            .await
            .map_err(|error| lookup(error.to_string()))?;
        if !response.status().is_success() {
            return Err(lookup(format!("HTTP {}", response.status())));
        }
        let patches: Vec<PatchRef> = response
            .json()
            .await
            .map_err(|error| lookup(error.to_string()))?;
        patches
            .first()
            .map(|patch| patch.id)
            .ok_or_else(|| PatchworkError::NoPatch {
                url: self.config.url.clone(),
                message_id: bare.to_owned(),
            })
    }

    /// Posts `check` on the patch mailed as `message_id`; returns its id.
    pub async fn post_check(&self, message_id: &str, check: &Check) -> Result<i64, PatchworkError> {
        let token = self
            .config
            .token
            .as_deref()
            .ok_or_else(|| PatchworkError::NoToken {
                url: self.config.url.clone(),
            })?;
        let patch = self.patch_id(message_id).await?;
        let post = |detail: String| PatchworkError::Post {
            url: self.config.url.clone(),
            patch,
            detail,
        };
        let response = self
            .http
            .post(self.api(&format!("patches/{patch}/checks/")))
            .header("Authorization", format!("Token {token}"))
            .json(&CheckBody {
                state: check.state,
                target_url: check.target_url.as_deref(),
                context: &self.config.context,
                description: &check.description,
            })
            .send()
            .await
            .map_err(|error| post(error.to_string()))?;
        let status = response.status();
        if !status.is_success() {
            let text = response.text().await.unwrap_or_default();
            return Err(post(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            )));
        }
        Ok(patch)
    }
}
