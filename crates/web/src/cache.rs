//! A micro-cache of anonymous GET responses for the read-heavy pages and
//! API (`/`, `/subsystem/...`, `/api/...` except the OpenAPI document):
//! a response is reused for at most `ttl` and dropped at once when this
//! process records a triage decision (the generation counter moves). With
//! several web replicas another replica's decision shows up within `ttl`.
//! It must never serve a response to a request with a session cookie (the
//! page carries that user's name and CSRF token) or cache anything but a
//! 200 answer, and never hold more than its byte budget: the key is the
//! whole URI, which anyone can vary, so entries are counted in bytes,
//! expired ones dropped on every store and the oldest dropped when the
//! budget is full (issue 21, hole 1).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

/// What one entry costs besides its key and body (map slot, queue slot,
/// header value), counted so that many tiny answers are bounded too.
const ENTRY_OVERHEAD: usize = 256;

struct Entry {
    stored: Instant,
    generation: u64,
    content_type: Option<HeaderValue>,
    body: Bytes,
}

impl Entry {
    fn cost(key: &str, body: &Bytes) -> usize {
        key.len() + body.len() + ENTRY_OVERHEAD
    }
}

/// The entries and the order they were stored in (oldest first), which
/// is also the order they expire in since every entry lives `ttl`.
#[derive(Default)]
struct Entries {
    by_key: HashMap<String, Entry>,
    /// Keys with the instant their entry was stored; a key whose entry was
    /// replaced since has a newer instant in the map and is skipped.
    order: VecDeque<(String, Instant)>,
    bytes: usize,
}

impl Entries {
    /// Drops the oldest entry; false when there is none.
    fn drop_oldest(&mut self) -> bool {
        let Some((key, stored)) = self.order.pop_front() else {
            return false;
        };
        if self
            .by_key
            .get(&key)
            .is_some_and(|entry| entry.stored == stored)
        {
            if let Some(entry) = self.by_key.remove(&key) {
                self.bytes -= Entry::cost(&key, &entry.body);
            }
        }
        true
    }

    /// Drops every entry stored before `expired_before`.
    fn drop_expired(&mut self, expired_before: Instant) {
        while self
            .order
            .front()
            .is_some_and(|(_, stored)| *stored < expired_before)
        {
            self.drop_oldest();
        }
    }
}

/// Cached responses and the generation that invalidates them, bounded in
/// bytes: entries older than `ttl` are dropped on the next store, and the
/// oldest ones go first when the budget is full.
pub struct ResponseCache {
    ttl: Duration,
    max_bytes: usize,
    generation: AtomicU64,
    entries: Mutex<Entries>,
}

impl ResponseCache {
    /// A cache keeping answers for `ttl` within `max_bytes` (keys, bodies
    /// and a fixed overhead per entry).
    pub fn new(ttl: Duration, max_bytes: usize) -> ResponseCache {
        ResponseCache {
            ttl,
            max_bytes,
            generation: AtomicU64::new(0),
            entries: Mutex::new(Entries::default()),
        }
    }

    /// Forgets every cached response (called after each change).
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut entries) = self.entries.lock() {
            *entries = Entries::default();
        }
    }

    /// The bytes held now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.entries.lock().map_or(0, |entries| entries.bytes)
    }

    fn get(&self, key: &str) -> Option<(Option<HeaderValue>, Bytes)> {
        let generation = self.generation.load(Ordering::SeqCst);
        let entries = self.entries.lock().ok()?;
        let entry = entries.by_key.get(key)?;
        (entry.generation == generation && entry.stored.elapsed() < self.ttl)
            .then(|| (entry.content_type.clone(), entry.body.clone()))
    }

    fn put(&self, key: String, generation: u64, content_type: Option<HeaderValue>, body: Bytes) {
        let cost = Entry::cost(&key, &body);
        // One answer may take at most an eighth of the budget (the caller
        // passes larger ones on uncached), so a few large pages cannot
        // push out everything else.
        if cost > self.max_bytes / 8 {
            return;
        }
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let now = Instant::now();
        if let Some(expired_before) = now.checked_sub(self.ttl) {
            entries.drop_expired(expired_before);
        }
        if let Some(old) = entries.by_key.remove(&key) {
            entries.bytes -= Entry::cost(&key, &old.body);
        }
        while entries.bytes + cost > self.max_bytes && entries.drop_oldest() {}
        entries.bytes += cost;
        entries.order.push_back((key.clone(), now));
        entries.by_key.insert(
            key,
            Entry {
                stored: now,
                generation,
                content_type,
                body,
            },
        );
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
    let largest = cache.max_bytes / 8;
    if axum::body::HttpBody::size_hint(response.body())
        .upper()
        .is_none_or(|upper| upper > largest as u64)
    {
        // Too large (or of unknown size) to keep: passed on as it is.
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, largest).await {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn body(n: usize) -> Bytes {
        Bytes::from(vec![b'x'; n])
    }

    #[test]
    fn ten_thousand_distinct_keys_stay_within_the_budget() {
        let cache = ResponseCache::new(Duration::from_secs(60), 1 << 20);
        for n in 0..10_000 {
            cache.put(format!("/api/bugs?junk={n}"), 0, None, body(10_000));
            assert!(
                cache.bytes() <= 1 << 20,
                "{} bytes after {n}",
                cache.bytes()
            );
        }
        // The newest answers are kept, the oldest were dropped.
        assert!(cache.get("/api/bugs?junk=9999").is_some());
        assert!(cache.get("/api/bugs?junk=0").is_none());
    }

    #[test]
    fn expired_entries_are_dropped_on_the_next_store() {
        let cache = ResponseCache::new(Duration::from_millis(20), 1 << 20);
        for n in 0..50 {
            cache.put(format!("/?n={n}"), 0, None, body(1000));
        }
        let full = cache.bytes();
        std::thread::sleep(Duration::from_millis(40));
        cache.put("/".to_string(), 0, None, body(1000));
        assert_eq!(
            cache.bytes(),
            Entry::cost("/", &body(1000)),
            "{full} before"
        );
    }

    #[test]
    fn an_answer_larger_than_an_eighth_of_the_budget_is_not_kept() {
        let cache = ResponseCache::new(Duration::from_secs(60), 80_000);
        cache.put("/big".to_string(), 0, None, body(20_000));
        assert!(cache.get("/big").is_none());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn storing_a_key_again_replaces_its_bytes() {
        let cache = ResponseCache::new(Duration::from_secs(60), 1 << 20);
        cache.put("/".to_string(), 0, None, body(1000));
        cache.put("/".to_string(), 0, None, body(500));
        assert_eq!(cache.bytes(), Entry::cost("/", &body(500)));
        assert_eq!(cache.get("/").map(|(_, body)| body.len()), Some(500));
    }
}
