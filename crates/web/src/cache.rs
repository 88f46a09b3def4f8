//! A micro-cache of anonymous GET responses for the read-heavy pages and
//! API (`/`, `/subsystem/...`, `/api/...` except the OpenAPI document):
//! a response is reused for at most `ttl` and dropped at once when this
//! process records a triage decision (the generation counter moves). With
//! several web replicas another replica's decision shows up within `ttl`.
//! It must never serve a response to a request with a session cookie (the
//! page carries that user's name and CSRF token) or cache anything but a
//! 200 answer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

const MAX_ENTRIES: usize = 10_000;
const MAX_BODY: usize = 4 << 20;

struct Entry {
    stored: Instant,
    generation: u64,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

/// Cached responses and the generation that invalidates them.
pub struct ResponseCache {
    ttl: Duration,
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
}

impl ResponseCache {
    pub fn new(ttl: Duration) -> ResponseCache {
        ResponseCache {
            ttl,
            generation: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Forgets every cached response (called after each change).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    fn get(&self, key: &str) -> Option<(Option<HeaderValue>, Bytes)> {
        let generation = self.generation.load(Ordering::SeqCst);
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        (entry.generation == generation && entry.stored.elapsed() < self.ttl)
            .then(|| (entry.content_type.clone(), entry.body.clone()))
    }

    fn put(&self, key: String, generation: u64, content_type: Option<HeaderValue>, body: Bytes) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(
                key,
                Entry {
                    stored: Instant::now(),
                    generation,
                    content_type,
                    body,
                },
            );
        }
    }
}

fn cacheable(request: &Request) -> bool {
    let path = request.uri().path();
    request.method() == Method::GET
        && (path == "/"
            || path.starts_with("/subsystem/")
            || (path.starts_with("/api/") && path != "/api/openapi.json"))
        && !request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .any(|value| {
                value
                    .to_str()
                    .is_ok_and(|text| text.contains(crate::auth::SESSION_COOKIE))
            })
}

pub async fn serve_cached(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let cache = &state.inner.cache;
    if cache.ttl.is_zero() || !cacheable(&request) {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    if let Some((content_type, body)) = cache.get(&key) {
        let mut response = (StatusCode::OK, Body::from(body)).into_response();
        if let Some(content_type) = content_type {
            response
                .headers_mut()
                .insert(header::CONTENT_TYPE, content_type);
        }
        return response;
    }
    let generation = cache.generation.load(Ordering::SeqCst);
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            cache.put(
                key,
                generation,
                parts.headers.get(header::CONTENT_TYPE).cloned(),
                bytes.clone(),
            );
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(error) => {
            tracing::warn!("buffering a response for the cache: {error}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "response too large to buffer",
            )
                .into_response()
        }
    }
}
