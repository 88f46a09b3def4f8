//! A scripted fake LLM server for tests and manual runs.
//!
//! It speaks the real wire protocols on 127.0.0.1 — OpenAI chat completions
//! (`/v1/chat/completions`), Anthropic Messages (`/v1/messages`) and Gemini
//! generateContent (`/v1beta/models/{model}:generateContent`) — all on one
//! port, with real usage blocks (including simulated prompt caching). It
//! answers from a [`FakeScript`] chosen by the `x-sashiko-stage` header or
//! by the tool whose result the request carries, and records every request.
//!
//! The server runs on its own thread and runtime, so it keeps real time
//! even when a test pauses tokio's clock. It must never listen on anything
//! but a loopback address.

mod anthropic;
mod gemini;
mod handler;
mod openai;
mod script;
mod tools;

pub use script::{AnswerQueue, FakeAnswer, FakeErrorKind, FakeScript, ScriptError};

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::routing::post;
use axum::Router;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use sashiko_llm_core::tokens::estimate_text;
use sashiko_llm_core::ProviderKind;

/// One request the fake received.
#[derive(Clone, Debug, Serialize)]
pub struct RecordedRequest {
    pub protocol: ProviderKind,
    pub path: String,
    /// The `x-sashiko-stage` header, or empty.
    pub stage: String,
    /// Lower-case header names.
    pub headers: BTreeMap<String, String>,
    /// The body as JSON (`null` if it was not JSON).
    pub body: Value,
}

/// What a protocol module extracts from a request.
pub(crate) struct RequestFacts {
    pub model: String,
    /// Names of tools whose results the last message carries.
    pub tool_results: Vec<String>,
    /// The prompt as a sequence of segments (system, then messages), for
    /// counting tokens and simulating prefix caching.
    pub segments: Vec<String>,
    /// Explicit cache breakpoints (segment indices, inclusive); `None`
    /// means automatic prefix caching.
    pub breakpoints: Option<Vec<usize>>,
    /// Why the real service would refuse this request, if it would.
    pub problem: Option<String>,
    /// A tool the request forces the model to call (Anthropic
    /// `tool_choice: {type: tool}`): JSON answers come back as its input.
    pub forced_tool: Option<String>,
}

/// Usage the fake reports, in protocol-neutral terms.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FakeUsage {
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
}

/// A successful answer to render.
pub(crate) enum Reply {
    Text {
        text: String,
        truncated: bool,
    },
    ToolCall {
        id: String,
        name: String,
        input: Value,
    },
}

impl Reply {
    fn output_tokens(&self) -> u64 {
        match self {
            Reply::Text { text, .. } => estimate_text(text).max(1),
            Reply::ToolCall { name, input, .. } => {
                estimate_text(name) + estimate_text(&input.to_string())
            }
        }
    }
}

struct FakeState {
    script: Mutex<FakeScript>,
    requests: Mutex<Vec<RecordedRequest>>,
    seen_prefixes: Mutex<HashSet<String>>,
    counter: Mutex<u64>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running fake server; stops when dropped.
pub struct FakeLlmServer {
    addr: SocketAddr,
    state: Arc<FakeState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    finished: Option<std::sync::mpsc::Receiver<()>>,
}

/// Errors starting the fake.
#[derive(Debug, thiserror::Error)]
pub enum FakeServerError {
    #[error("fake LLM server: refusing to listen on non-loopback address {0}")]
    NotLoopback(SocketAddr),
    #[error("fake LLM server: cannot listen on {addr}: {cause}")]
    Bind {
        addr: SocketAddr,
        cause: std::io::Error,
    },
    #[error("fake LLM server: cannot start its thread: {0}")]
    Thread(std::io::Error),
}

impl FakeLlmServer {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(script: FakeScript) -> FakeLlmServer {
        let addr = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(addr, script)
            .await
            .expect("binding a free port on 127.0.0.1 for the fake LLM server")
    }

    /// Starts on `addr`, which must be a loopback address.
    pub async fn start_on(
        addr: SocketAddr,
        script: FakeScript,
    ) -> Result<FakeLlmServer, FakeServerError> {
        if !addr.ip().is_loopback() {
            return Err(FakeServerError::NotLoopback(addr));
        }
        let listener = std::net::TcpListener::bind(addr)
            .map_err(|cause| FakeServerError::Bind { addr, cause })?;
        let local = listener
            .local_addr()
            .map_err(|cause| FakeServerError::Bind { addr, cause })?;
        listener
            .set_nonblocking(true)
            .map_err(|cause| FakeServerError::Bind { addr, cause })?;
        let state = Arc::new(FakeState {
            script: Mutex::new(script),
            requests: Mutex::new(Vec::new()),
            seen_prefixes: Mutex::new(HashSet::new()),
            counter: Mutex::new(0),
        });
        let router = Router::new()
            .route("/v1/chat/completions", post(handler::openai))
            .route("/v1/messages", post(handler::anthropic))
            .route("/v1beta/models/{model_action}", post(handler::gemini))
            .with_state(state.clone());
        let (shutdown_tx, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let (finished_tx, finished_rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(format!("fake-llm-{}", local.port()))
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        tracing::error!("fake LLM server: cannot start its runtime: {error}");
                        return;
                    }
                };
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => {
                            let serve =
                                axum::serve(listener, router).with_graceful_shutdown(async {
                                    let _ = shutdown_rx.await;
                                });
                            if let Err(error) = serve.await {
                                tracing::error!("fake LLM server stopped: {error}");
                            }
                        }
                        Err(error) => {
                            tracing::error!("fake LLM server: cannot use its listener: {error}")
                        }
                    }
                });
                let _ = finished_tx.send(());
            })
            .map_err(FakeServerError::Thread)?;
        Ok(FakeLlmServer {
            addr: local,
            state,
            shutdown: Some(shutdown_tx),
            finished: Some(finished_rx),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenAI-style base URL, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        self.base_url_for(ProviderKind::Openai)
    }

    /// The base URL a client of `kind` should be configured with.
    pub fn base_url_for(&self, kind: ProviderKind) -> String {
        match kind {
            ProviderKind::Openai | ProviderKind::Anthropic => format!("http://{}/v1", self.addr),
            ProviderKind::Gemini => format!("http://{}/v1beta", self.addr),
        }
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// Requests received for one stage.
    pub fn requests_for(&self, stage: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.stage == stage)
            .collect()
    }

    /// Replaces the script (answers already queued are dropped).
    pub fn set_script(&self, script: FakeScript) {
        *lock(&self.state.script) = script;
    }

    /// Stops the server and waits until its port is closed.
    pub async fn stop(mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(finished) = self.finished.take() {
            let _ = tokio::task::spawn_blocking(move || finished.recv()).await;
        }
    }
}

impl Drop for FakeLlmServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn hash_prefix(segments: &[String]) -> String {
    let mut hasher = Sha256::new();
    for segment in segments {
        hasher.update(segment.as_bytes());
        hasher.update([0u8]);
    }
    hex::encode(hasher.finalize())
}

impl FakeState {
    fn next_id(&self) -> u64 {
        let mut counter = lock(&self.counter);
        *counter += 1;
        *counter
    }

    /// Input usage with simulated caching: automatic prefix caching, or
    /// explicit breakpoints (read when seen before, written otherwise).
    fn input_usage(&self, facts: &RequestFacts) -> FakeUsage {
        let tokens: Vec<u64> = facts
            .segments
            .iter()
            .map(|segment| estimate_text(segment) + 4)
            .collect();
        let total: u64 = tokens.iter().sum();
        let prefix_tokens = |end: usize| tokens[..=end].iter().sum::<u64>();
        let mut seen = lock(&self.seen_prefixes);
        let mut usage = FakeUsage::default();
        match &facts.breakpoints {
            None => {
                for end in 0..facts.segments.len() {
                    let key = hash_prefix(&facts.segments[..=end]);
                    // The whole prompt is never a cache hit in full: the
                    // last segment is always new work.
                    if end + 1 < facts.segments.len() && seen.contains(&key) {
                        usage.cache_read = prefix_tokens(end);
                    }
                    seen.insert(key);
                }
            }
            Some(breakpoints) => {
                for &end in breakpoints
                    .iter()
                    .filter(|end| **end < facts.segments.len())
                {
                    let key = hash_prefix(&facts.segments[..=end]);
                    let upto = prefix_tokens(end);
                    if seen.contains(&key) {
                        usage.cache_read = usage.cache_read.max(upto);
                    } else {
                        usage.cache_write = upto.saturating_sub(usage.cache_read);
                        seen.insert(key);
                    }
                }
            }
        }
        usage.input = total.saturating_sub(usage.cache_read + usage.cache_write);
        usage
    }
}

/// How one protocol reads requests and writes answers.
pub(crate) trait FakeProtocol {
    const KIND: ProviderKind;
    fn facts(body: &Value, model_from_path: Option<&str>) -> RequestFacts;
    fn render(reply: &Reply, usage: FakeUsage, model: &str, id: u64) -> Value;
    /// Status, extra headers and body of a provider-shaped error.
    fn error(
        kind: FakeErrorKind,
        retry_after: Option<std::time::Duration>,
        message: &str,
    ) -> (u16, Vec<(String, String)>, Value);
}
