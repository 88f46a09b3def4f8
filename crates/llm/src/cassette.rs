//! Recordings ("cassettes") of model conversations, as a wrapping client.
//!
//! `SASHIKO_LLM_CASSETTE=PATH` with `SASHIKO_LLM_CASSETTE_MODE`:
//! `record` always asks the model and appends each answer; `replay` answers
//! from the recording and asks the model (recording the answer) only for
//! requests it has not seen; `replay-strict` never asks the model and fails
//! on any request it has no recording for, so prompt drift shows.
//!
//! The file is JSONL, one exchange per line, keyed by a SHA-256 of the
//! normalised request (provider, model and the provider-neutral request with
//! object keys sorted; the endpoint is left out so a recording replays
//! against any server). Things that look like API keys are stripped from
//! what is written. This module must never write a key, and never consult
//! the model in `replay-strict` mode.
//!
//! It is the one cassette format: the CLI's `SASHIKO_LLM_CASSETTE`, the
//! tests and `sashiko bench --record-cassette` / `--cassette` (replayed by
//! [`CassetteClient::replay_only`]) all read and write it. Requests replay
//! exactly only when the review's nonce and canary are derived from the
//! series (`deterministic_secrets`), which every cassette user sets.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{LlmError, Origin};
use crate::types::{ChatRequest, ChatResponse};
use crate::LlmClient;

pub const CASSETTE_ENV: &str = "SASHIKO_LLM_CASSETTE";
pub const CASSETTE_MODE_ENV: &str = "SASHIKO_LLM_CASSETTE_MODE";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CassetteMode {
    Record,
    Replay,
    ReplayStrict,
}

impl std::str::FromStr for CassetteMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "record" => Ok(CassetteMode::Record),
            "replay" | "" => Ok(CassetteMode::Replay),
            "replay-strict" => Ok(CassetteMode::ReplayStrict),
            other => Err(format!(
                "unknown {CASSETTE_MODE_ENV} {other:?} (expected record, replay or replay-strict)"
            )),
        }
    }
}

/// One recorded exchange (one JSONL line).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Exchange {
    pub key: String,
    pub provider: String,
    pub model: String,
    pub stage: String,
    /// The normalised request, for reading diffs when prompts drift.
    pub request: Value,
    pub response: ChatResponse,
}

/// Sorts object keys recursively so the hash does not depend on map order.
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(object) => {
            let mut entries: Vec<(&String, &Value)> = object.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k.clone(), canonical(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// The normalised form of a request and its key.
pub fn request_key(provider: &str, model: &str, request: &ChatRequest) -> (String, Value) {
    let normalised = canonical(&serde_json::json!({
        "provider": provider,
        "model": model,
        "request": serde_json::to_value(request).unwrap_or(Value::Null),
    }));
    let digest = Sha256::digest(normalised.to_string().as_bytes());
    (hex::encode(digest), normalised)
}

/// Replaces things that look like API keys (`sk-...`, `AIza...`, bearer
/// tokens) with `[redacted]`.
pub fn strip_secrets(text: &str) -> String {
    const PREFIXES: [&str; 3] = ["sk-", "AIza", "Bearer "];
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'scan: while !rest.is_empty() {
        for prefix in PREFIXES {
            if let Some(after) = rest.strip_prefix(prefix) {
                let token_len = after
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
                    })
                    .unwrap_or(after.len());
                if token_len >= 16 {
                    out.push_str(prefix);
                    out.push_str("[redacted]");
                    rest = &after[token_len..];
                    continue 'scan;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

struct Tape {
    /// Recorded responses per key, in order; `next` indexes the one to
    /// replay next (the last one repeats).
    entries: HashMap<String, (Vec<ChatResponse>, usize)>,
}

/// A client that records to or replays from a cassette file.
pub struct CassetteClient {
    inner: Arc<dyn LlmClient>,
    path: PathBuf,
    mode: CassetteMode,
    tape: Mutex<Tape>,
}

impl CassetteClient {
    /// Wraps `inner`; in replay modes the file is read now (bad lines are
    /// reported and skipped; a missing file is an empty recording).
    pub fn new(
        inner: Arc<dyn LlmClient>,
        path: &Path,
        mode: CassetteMode,
    ) -> Result<Self, LlmError> {
        let exchanges = if mode == CassetteMode::Record {
            Vec::new()
        } else {
            match read_exchanges(path) {
                Ok(exchanges) => exchanges,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(error) => {
                    return Err(LlmError::Cassette {
                        path: path.display().to_string(),
                        origin: Box::new(origin_of(inner.as_ref())),
                        detail: format!("cannot read it: {error}"),
                    })
                }
            }
        };
        Ok(CassetteClient::over(inner, path, mode, exchanges))
    }

    /// Replays `path` with no model behind it (`replay-strict`): provider
    /// and model are the recording's, so requests key as they did when
    /// recorded; a request it has no recording for fails. A missing or
    /// empty recording is an error naming the file.
    pub fn replay_only(path: &Path) -> Result<Self, LlmError> {
        let unreadable = |detail: String| LlmError::Cassette {
            path: path.display().to_string(),
            origin: Box::new(Origin {
                provider: "cassette".to_owned(),
                endpoint: path.display().to_string(),
                model: String::new(),
            }),
            detail,
        };
        let exchanges =
            read_exchanges(path).map_err(|error| unreadable(format!("cannot read it: {error}")))?;
        let Some(first) = exchanges.first() else {
            return Err(unreadable("it records no exchange".to_owned()));
        };
        let inner = Arc::new(NoModel {
            provider: first.provider.clone(),
            model: first.model.clone(),
            endpoint: format!("cassette {}", path.display()),
        });
        Ok(CassetteClient::over(
            inner,
            path,
            CassetteMode::ReplayStrict,
            exchanges,
        ))
    }

    fn over(
        inner: Arc<dyn LlmClient>,
        path: &Path,
        mode: CassetteMode,
        exchanges: Vec<Exchange>,
    ) -> Self {
        let mut entries: HashMap<String, (Vec<ChatResponse>, usize)> = HashMap::new();
        for exchange in exchanges {
            entries
                .entry(exchange.key)
                .or_default()
                .0
                .push(exchange.response);
        }
        CassetteClient {
            inner,
            path: path.to_path_buf(),
            mode,
            tape: Mutex::new(Tape { entries }),
        }
    }

    fn lookup(&self, key: &str) -> Option<ChatResponse> {
        let mut tape = self
            .tape
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (responses, next) = tape.entries.get_mut(key)?;
        let index = (*next).min(responses.len().checked_sub(1)?);
        *next += 1;
        responses.get(index).cloned()
    }

    fn append(&self, exchange: &Exchange) -> Result<(), LlmError> {
        let line = serde_json::to_string(exchange)
            .map_err(|error| self.error(&exchange.stage, error.to_string()))?;
        let line = strip_secrets(&line);
        let _guard = self
            .tape
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(parent) = self
            .path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|error| {
                self.error(
                    &exchange.stage,
                    format!("cannot create its directory: {error}"),
                )
            })?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .map_err(|error| {
                self.error(
                    &exchange.stage,
                    format!("cannot open it for appending: {error}"),
                )
            })?;
        writeln!(file, "{line}")
            .map_err(|error| self.error(&exchange.stage, format!("cannot write to it: {error}")))
    }

    fn error(&self, stage: &str, detail: String) -> LlmError {
        LlmError::Cassette {
            path: self.path.display().to_string(),
            origin: Box::new(origin_of(self.inner.as_ref())),
            detail: format!("stage {stage}: {detail}"),
        }
    }
}

/// The exchanges recorded in `path`, in order; bad lines are reported and
/// skipped.
fn read_exchanges(path: &Path) -> Result<Vec<Exchange>, std::io::Error> {
    let text = std::fs::read_to_string(path)?;
    let mut exchanges = Vec::new();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Exchange>(line) {
            Ok(exchange) => exchanges.push(exchange),
            Err(error) => tracing::warn!(
                "cassette {}: skipping line {}: {error}",
                path.display(),
                number + 1
            ),
        }
    }
    Ok(exchanges)
}

/// The model behind a replay-only cassette: there is none, so asking it
/// is an error (replay-strict never does).
struct NoModel {
    provider: String,
    model: String,
    endpoint: String,
}

#[async_trait::async_trait]
impl LlmClient for NoModel {
    fn provider(&self) -> &str {
        &self.provider
    }
    fn model(&self) -> &str {
        &self.model
    }
    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }
    async fn chat(&self, _request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        Err(LlmError::Config {
            provider: self.provider.clone(),
            detail: format!(
                "{} replays a recording and has no model to ask",
                self.endpoint
            ),
        })
    }
}

fn origin_of(client: &dyn LlmClient) -> Origin {
    Origin {
        provider: client.provider().to_string(),
        endpoint: client.endpoint(),
        model: client.model().to_string(),
    }
}

#[async_trait::async_trait]
impl LlmClient for CassetteClient {
    fn provider(&self) -> &str {
        self.inner.provider()
    }
    fn model(&self) -> &str {
        self.inner.model()
    }
    fn endpoint(&self) -> String {
        self.inner.endpoint()
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let (key, normalised) = request_key(self.inner.provider(), self.inner.model(), request);
        if self.mode != CassetteMode::Record {
            if let Some(response) = self.lookup(&key) {
                return Ok(response);
            }
            if self.mode == CassetteMode::ReplayStrict {
                return Err(self.error(
                    &request.stage,
                    format!("no recording for this request (key {}); the prompt or settings changed since recording", &key[..16]),
                ));
            }
        }
        let response = self.inner.chat(request).await?;
        self.append(&Exchange {
            key,
            provider: self.inner.provider().to_string(),
            model: self.inner.model().to_string(),
            stage: request.stage.clone(),
            request: normalised,
            response: response.clone(),
        })?;
        Ok(response)
    }
}

/// A client that fails every request with the same configuration error, so
/// a broken cassette setting never silently talks to a live model.
struct MisconfiguredClient {
    inner: Arc<dyn LlmClient>,
    detail: String,
}

#[async_trait::async_trait]
impl LlmClient for MisconfiguredClient {
    fn provider(&self) -> &str {
        self.inner.provider()
    }
    fn model(&self) -> &str {
        self.inner.model()
    }
    fn endpoint(&self) -> String {
        self.inner.endpoint()
    }
    async fn chat(&self, _request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        Err(LlmError::Config {
            provider: self.inner.provider().to_string(),
            detail: self.detail.clone(),
        })
    }
}

/// Wraps `client` in a cassette when `SASHIKO_LLM_CASSETTE` is set.
pub fn try_wrap_from_env(client: Arc<dyn LlmClient>) -> Result<Arc<dyn LlmClient>, LlmError> {
    let Some(path) = std::env::var_os(CASSETTE_ENV).filter(|path| !path.is_empty()) else {
        return Ok(client);
    };
    let mode: CassetteMode = std::env::var(CASSETTE_MODE_ENV)
        .unwrap_or_default()
        .parse()
        .map_err(|detail| LlmError::Config {
            provider: client.provider().to_string(),
            detail,
        })?;
    Ok(Arc::new(CassetteClient::new(
        client,
        Path::new(&path),
        mode,
    )?))
}

/// Like [`try_wrap_from_env`]; a bad setting yields a client whose every
/// request fails with that error.
pub fn wrap_from_env(client: Arc<dyn LlmClient>) -> Arc<dyn LlmClient> {
    match try_wrap_from_env(client.clone()) {
        Ok(wrapped) => wrapped,
        Err(error) => Arc::new(MisconfiguredClient {
            inner: client,
            detail: error.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_stripped() {
        let cases = [
            (
                "key sk-abcdefghijklmnopqrstuvwx end",
                "key sk-[redacted] end",
            ),
            ("AIzaSyA1234567890abcdefghijklmnopqrstu", "AIza[redacted]"),
            (
                "Authorization: Bearer abcdefghijklmnopqrstu",
                "Authorization: Bearer [redacted]",
            ),
            ("sk-short stays", "sk-short stays"),
            ("ordinary kfree(p); text", "ordinary kfree(p); text"),
            (
                "ünïcode sk-ANTHROPIC_key-0123456789abcdef",
                "ünïcode sk-[redacted]",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_secrets(input), expected, "{input}");
        }
    }

    #[test]
    fn key_ignores_map_order_but_not_content() {
        let a = ChatRequest::new("s", "sys").with_user_text("x");
        let b = ChatRequest::new("s", "sys").with_user_text("y");
        assert_eq!(
            request_key("openai", "m", &a).0,
            request_key("openai", "m", &a.clone()).0
        );
        assert_ne!(
            request_key("openai", "m", &a).0,
            request_key("openai", "m", &b).0
        );
        assert_ne!(
            request_key("openai", "m", &a).0,
            request_key("openai", "m2", &a).0
        );
        let left = serde_json::json!({"b": 1, "a": {"d": 2, "c": 3}});
        let right = serde_json::json!({"a": {"c": 3, "d": 2}, "b": 1});
        assert_eq!(canonical(&left).to_string(), canonical(&right).to_string());
    }
}
