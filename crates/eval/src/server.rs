//! A local server speaking the OpenAI chat-completions protocol whose
//! answers come from an [`Answerer`] (the label oracle), so
//! the bench drives the real client and review path over real HTTP.
//!
//! Usage blocks are estimates (about four bytes per token, the llm crate's
//! documented approximation) over the real request bodies, with automatic
//! prefix caching simulated the way OpenAI reports it: a request whose
//! leading messages were seen before gets them as `cached_tokens`. The
//! server listens on 127.0.0.1 only and must never forward a request.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use sashiko_llm::tokens::estimate_text;
use sashiko_llm::STAGE_HEADER;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Something that answers a stage request with the answer text.
pub trait Answerer: Send {
    /// `Err` becomes a 400 with the message (e.g. a request the answerer
    /// cannot place).
    fn answer(&mut self, stage: &str, body: &Value) -> Result<String, String>;
}

impl Answerer for crate::oracle::Oracle {
    fn answer(&mut self, stage: &str, body: &Value) -> Result<String, String> {
        Ok(crate::oracle::Oracle::answer(self, stage, body))
    }
}

/// Token figures of one request, as the server accounted them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RequestRecord {
    pub stage: String,
    /// All prompt tokens (cached included).
    pub prompt_tokens: u64,
    /// Of those, served from the simulated prefix cache.
    pub cached_tokens: u64,
    /// Of those, the shared prefix: the system message and the first user
    /// message (the series), identical across the stages of one review.
    pub shared_prefix_tokens: u64,
    pub completion_tokens: u64,
}

struct ServerState {
    answerer: Mutex<Box<dyn Answerer>>,
    seen_prefixes: Mutex<HashSet<String>>,
    records: Mutex<Vec<RequestRecord>>,
    counter: Mutex<u64>,
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running answer server; stops when dropped.
pub struct AnswerServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// Errors starting the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("oracle server: cannot listen on 127.0.0.1: {0}")]
    Bind(std::io::Error),
}

impl AnswerServer {
    /// Start on a free port of 127.0.0.1, on the current tokio runtime.
    pub async fn start(answerer: Box<dyn Answerer>) -> Result<AnswerServer, ServerError> {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .await
            .map_err(ServerError::Bind)?;
        let addr = listener.local_addr().map_err(ServerError::Bind)?;
        let state = Arc::new(ServerState {
            answerer: Mutex::new(answerer),
            seen_prefixes: Mutex::new(HashSet::new()),
            records: Mutex::new(Vec::new()),
            counter: Mutex::new(0),
        });
        let router = Router::new()
            .route("/v1/chat/completions", post(handle))
            .with_state(state.clone());
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = shutdown_rx.await;
            });
            if let Err(error) = serve.await {
                tracing::error!("oracle server stopped: {error}");
            }
        });
        Ok(AnswerServer {
            addr,
            state,
            shutdown: Some(shutdown),
        })
    }

    /// `http://127.0.0.1:PORT/v1`, for an OpenAI provider config.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Every request answered so far.
    pub fn records(&self) -> Vec<RequestRecord> {
        lock(&self.state.records).clone()
    }

    /// Forget the records (not the prefix cache).
    pub fn take_records(&self) -> Vec<RequestRecord> {
        std::mem::take(&mut *lock(&self.state.records))
    }
}

impl Drop for AnswerServer {
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

fn error_response(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error",
        "param": null, "code": "invalid_request"}});
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn handle(
    State(state): State<Arc<ServerState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let stage = headers
        .get(STAGE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        return error_response(StatusCode::BAD_REQUEST, "the request body is not JSON");
    };
    let Some(messages) = json.get("messages").and_then(Value::as_array) else {
        return error_response(StatusCode::BAD_REQUEST, "the request has no messages array");
    };
    let segments: Vec<String> = messages.iter().map(Value::to_string).collect();
    let answer = lock(&state.answerer).answer(&stage, &json);
    let text = match answer {
        Ok(text) => text,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, &message),
    };
    let tokens: Vec<u64> = segments.iter().map(|s| estimate_text(s) + 4).collect();
    let prompt: u64 = tokens.iter().sum();
    let shared_prefix: u64 = tokens.iter().take(2).sum();
    let mut cached = 0;
    {
        let mut seen = lock(&state.seen_prefixes);
        for end in 0..segments.len() {
            let key = hash_prefix(&segments[..=end]);
            // The last message is always new work, as with real caches.
            if end + 1 < segments.len() && seen.contains(&key) {
                cached = tokens[..=end].iter().sum();
            }
            seen.insert(key);
        }
    }
    let completion = estimate_text(&text).max(1);
    lock(&state.records).push(RequestRecord {
        stage,
        prompt_tokens: prompt,
        cached_tokens: cached,
        shared_prefix_tokens: shared_prefix,
        completion_tokens: completion,
    });
    let id = {
        let mut counter = lock(&state.counter);
        *counter += 1;
        *counter
    };
    let model = json
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("oracle");
    let response = json!({
        "id": format!("chatcmpl-oracle{id}"),
        "object": "chat.completion",
        "created": 1_763_000_000 + id,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text, "refusal": null},
            "logprobs": null, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        },
    });
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        response.to_string(),
    )
        .into_response()
}
