//! The HTTP client shared by all wire formats: one POST per attempt, the
//! retry loop, rate limiting and error shaping.
//!
//! A [`Wire`] says how a protocol encodes requests, decodes answers and
//! classifies failures; [`HttpClient`] does everything else the same way for
//! all of them. Keys go into headers only; this module must never put a key
//! into an error, a log line or a recorded request.

use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use reqwest::header::HeaderMap;
use serde_json::Value;

use crate::config::{ProviderConfig, ProviderKind, Secret};
use crate::error::{short_body, LlmError, Origin};
use crate::ratelimit::RateLimiter;
use crate::retry::{self, FailureClass};
use crate::tokens;
use crate::types::{ChatRequest, ChatResponse};
use crate::{LlmClient, STAGE_HEADER};

/// One wire protocol: pure translation, no IO.
pub(crate) trait Wire: Send + Sync + 'static {
    fn kind(&self) -> ProviderKind;
    /// The URL to POST a request to.
    fn url(&self, base_url: &str, model: &str) -> String;
    /// Authentication and version headers.
    fn headers(&self, api_key: Option<&Secret>) -> Vec<(&'static str, String)>;
    /// The request body.
    fn encode(&self, request: &ChatRequest, model: &str) -> Value;
    /// A successful response body; `model` is the configured model, used
    /// when the answer does not name one.
    fn decode(
        &self,
        body: &Value,
        request: &ChatRequest,
        model: &str,
    ) -> Result<ChatResponse, String>;
    /// Refines the generic status classification with the error body.
    fn classify(&self, status: u16, headers: &HeaderMap, body: &str) -> FailureClass {
        let _ = body;
        retry::classify_status(status, headers)
    }
}

pub(crate) struct HttpClient<W: Wire> {
    wire: W,
    config: ProviderConfig,
    origin: Origin,
    http: reqwest::Client,
    limiter: Arc<RateLimiter>,
}

struct AttemptError {
    error: LlmError,
    class: FailureClass,
}

impl<W: Wire> HttpClient<W> {
    pub(crate) fn new(wire: W, config: &ProviderConfig) -> Result<Self, LlmError> {
        let model = config.model.clone().ok_or_else(|| LlmError::Config {
            provider: wire.kind().to_string(),
            detail: "no model configured (set SASHIKO_LLM_MODEL, --model or [llm] model)".into(),
        })?;
        let mut builder = reqwest::Client::builder();
        // Zero disables both timeouts: tests that pause tokio's clock need
        // that, since a paused clock jumps ahead while we wait for IO.
        if config.timeout_secs > 0 {
            builder = builder
                .timeout(Duration::from_secs(config.timeout_secs))
                .connect_timeout(Duration::from_secs(config.timeout_secs.min(30)));
        } else {
            builder = builder.pool_idle_timeout(None);
        }
        let http = builder.build().map_err(|error| LlmError::Config {
            provider: wire.kind().to_string(),
            detail: format!("cannot build the HTTP client: {error}"),
        })?;
        let base_url = config.effective_base_url();
        let limiter =
            RateLimiter::shared(&format!("{}|{}", wire.kind(), base_url), &config.rate_limit);
        Ok(HttpClient {
            origin: Origin {
                provider: wire.kind().to_string(),
                endpoint: base_url,
                model,
            },
            wire,
            config: config.clone(),
            http,
            limiter,
        })
    }

    async fn attempt(
        &self,
        url: &str,
        body: &Value,
        request: &ChatRequest,
    ) -> Result<ChatResponse, AttemptError> {
        let mut builder = self
            .http
            .post(url)
            .json(body)
            .header(STAGE_HEADER, request.stage.as_str());
        for (name, value) in self.wire.headers(self.config.api_key.as_ref()) {
            builder = builder.header(name, value);
        }
        let response = builder.send().await.map_err(|error| {
            if error.is_connect() {
                AttemptError {
                    error: LlmError::Transport {
                        origin: Box::new(self.origin.clone()),
                        detail: unreachable_detail(&error),
                    },
                    class: FailureClass::Unreachable,
                }
            } else {
                AttemptError {
                    error: LlmError::Transport {
                        origin: Box::new(self.origin.clone()),
                        detail: transport_detail(&error),
                    },
                    class: FailureClass::Retry { server_hint: None },
                }
            }
        })?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(|error| AttemptError {
            error: LlmError::Transport {
                origin: Box::new(self.origin.clone()),
                detail: format!("reading the response body: {}", transport_detail(&error)),
            },
            class: FailureClass::Retry { server_hint: None },
        })?;
        if !(200..300).contains(&status) {
            let class = self.wire.classify(status, &headers, &text);
            let error = match class {
                FailureClass::Unreachable => LlmError::Transport {
                    origin: Box::new(self.origin.clone()),
                    detail: format!("HTTP {status}: {}", short_body(&text)),
                },
                FailureClass::QuotaExhausted => LlmError::QuotaExhausted {
                    origin: Box::new(self.origin.clone()),
                    status,
                    body: short_body(&text),
                },
                FailureClass::Retry { server_hint } => LlmError::Http {
                    origin: Box::new(self.origin.clone()),
                    status,
                    body: short_body(&text),
                    retry_after: server_hint,
                },
                FailureClass::Fatal => LlmError::Http {
                    origin: Box::new(self.origin.clone()),
                    status,
                    body: short_body(&text),
                    retry_after: None,
                },
            };
            return Err(AttemptError { error, class });
        }
        let decode_error = |detail: String| AttemptError {
            error: LlmError::Decode {
                origin: Box::new(self.origin.clone()),
                detail,
            },
            class: FailureClass::Fatal,
        };
        let json: Value = serde_json::from_str(&text).map_err(|error| {
            decode_error(format!(
                "response is not JSON ({error}): {}",
                short_body(&text)
            ))
        })?;
        self.wire
            .decode(&json, request, &self.origin.model)
            .map_err(decode_error)
    }
}

/// One line for an endpoint that cannot be reached: the innermost cause
/// (connection refused, DNS failure) and where to fix the address.
fn unreachable_detail(error: &reqwest::Error) -> String {
    use std::error::Error;
    let mut cause: &dyn Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    format!(
        "cannot connect: {}; check the base URL (--base-url, SASHIKO_LLM_BASE_URL or [llm] base_url) and that the server is running",
        sashiko_safetext::redact_text(&cause.to_string())
    )
}

fn transport_detail(error: &reqwest::Error) -> String {
    use std::error::Error;
    let mut detail = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    // reqwest quotes the request URL, userinfo and query included.
    sashiko_safetext::redact_text(&detail)
}

#[async_trait::async_trait]
impl<W: Wire> LlmClient for HttpClient<W> {
    fn provider(&self) -> &str {
        &self.origin.provider
    }

    fn model(&self) -> &str {
        &self.origin.model
    }

    fn endpoint(&self) -> String {
        sashiko_safetext::redact_url(&self.origin.endpoint)
    }

    async fn chat(&self, request: &ChatRequest) -> Result<ChatResponse, LlmError> {
        let body = self.wire.encode(request, &self.origin.model);
        let url = self.wire.url(&self.origin.endpoint, &self.origin.model);
        // BPE count, corrected by what this model reported so far; the
        // rate limiter reserves it and learns the real figure afterwards.
        let counted = tokens::count_request(request);
        let calibration = tokens::Calibration::shared(&self.origin.provider, &self.origin.model);
        let estimated_tokens = calibration.correct(counted);
        let mut rng = rand::rngs::StdRng::from_entropy();
        let mut waited = Duration::ZERO;
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let permit = self.limiter.acquire(estimated_tokens).await;
            let outcome = self.attempt(&url, &body, request).await;
            drop(permit);
            let failure = match outcome {
                Ok(mut response) => {
                    self.limiter
                        .record_usage(estimated_tokens, response.usage.total_tokens());
                    calibration.observe(counted, response.usage.total_input_tokens());
                    response.retry_wait = waited;
                    return Ok(response);
                }
                Err(failure) => failure,
            };
            let hint = match failure.class {
                FailureClass::Retry { server_hint } => server_hint,
                FailureClass::Unreachable => {
                    // No warning per retry: the one line the caller gets
                    // says what is wrong and where to fix it.
                    if attempts > retry::CONNECT_RETRIES.min(self.config.retry.max_retries) {
                        return Err(failure.error);
                    }
                    tracing::debug!(
                        stage = %request.stage,
                        attempt = attempts,
                        "retrying an unreachable LLM endpoint: {}",
                        failure.error
                    );
                    tokio::time::sleep(retry::CONNECT_RETRY_WAIT).await;
                    waited += retry::CONNECT_RETRY_WAIT;
                    continue;
                }
                FailureClass::QuotaExhausted | FailureClass::Fatal => return Err(failure.error),
            };
            let wait = retry::wait_before_retry(&self.config.retry, attempts - 1, hint, &mut rng);
            let over_budget =
                waited + wait > Duration::from_millis(self.config.retry.max_total_wait_ms);
            if attempts > self.config.retry.max_retries || over_budget {
                return Err(LlmError::RetriesExhausted {
                    origin: Box::new(self.origin.clone()),
                    attempts,
                    waited,
                    last: Box::new(failure.error),
                });
            }
            if hint.is_some() {
                // A server that asks us to slow down slows every review
                // sharing this endpoint, for that long and no longer.
                self.limiter.pause_for(wait);
            }
            tracing::warn!(
                stage = %request.stage,
                attempt = attempts,
                wait_ms = wait.as_millis() as u64,
                "retrying LLM request: {}",
                failure.error
            );
            tokio::time::sleep(wait).await;
            waited += wait;
        }
    }
}
