//! A rate limiter shared by every client talking to the same endpoint in
//! this process: requests per minute, tokens per minute, requests in
//! flight, and a shared pause when a server says "slow down".
//!
//! Sliding one-minute windows over tokio's clock (so tests can pause it).
//! A request larger than the whole token budget still goes once the window
//! is empty, and a pause lasts only as long as the server asked: the limiter
//! may slow callers down but must never stall them forever.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::config::RateLimitConfig;

const WINDOW: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Window {
    requests: VecDeque<Instant>,
    tokens: VecDeque<(Instant, u64)>,
    paused_until: Option<Instant>,
}

impl Window {
    fn expire(&mut self, now: Instant) {
        while self
            .requests
            .front()
            .is_some_and(|at| now.duration_since(*at) >= WINDOW)
        {
            self.requests.pop_front();
        }
        while self
            .tokens
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) >= WINDOW)
        {
            self.tokens.pop_front();
        }
    }
}

pub struct RateLimiter {
    config: RateLimitConfig,
    window: Mutex<Window>,
    in_flight: Option<Arc<Semaphore>>,
}

/// Held while a request is in flight.
pub struct Permit {
    _slot: Option<OwnedSemaphorePermit>,
}

impl RateLimiter {
    pub fn new(config: &RateLimitConfig) -> Self {
        RateLimiter {
            config: config.clone(),
            window: Mutex::new(Window::default()),
            in_flight: (config.max_concurrent > 0)
                .then(|| Arc::new(Semaphore::new(config.max_concurrent as usize))),
        }
    }

    /// The limiter for `key` (provider and base URL) with these limits,
    /// created on first use and shared afterwards.
    pub fn shared(key: &str, config: &RateLimitConfig) -> Arc<RateLimiter> {
        static REGISTRY: OnceLock<Mutex<HashMap<String, Arc<RateLimiter>>>> = OnceLock::new();
        let full_key = format!(
            "{key}|{}|{}|{}",
            config.requests_per_minute, config.tokens_per_minute, config.max_concurrent
        );
        let registry = REGISTRY.get_or_init(Default::default);
        let mut map = registry
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(full_key)
            .or_insert_with(|| Arc::new(RateLimiter::new(config)))
            .clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// How long a request of `tokens` must wait now; zero means it may go
    /// and has been counted.
    fn try_take(&self, tokens: u64) -> Duration {
        let now = Instant::now();
        let mut window = self.lock();
        window.expire(now);
        let mut wait = Duration::ZERO;
        if let Some(until) = window.paused_until {
            wait = wait.max(until.saturating_duration_since(now));
        }
        let rpm = self.config.requests_per_minute as usize;
        if rpm > 0 && window.requests.len() >= rpm {
            if let Some(oldest) = window.requests.front() {
                wait = wait.max((*oldest + WINDOW).saturating_duration_since(now));
            }
        }
        let tpm = self.config.tokens_per_minute;
        let used: u64 = window.tokens.iter().map(|(_, count)| count).sum();
        if tpm > 0 && used > 0 && used + tokens > tpm {
            // Wait until enough old entries leave the window.
            let mut freed = 0;
            for (at, count) in &window.tokens {
                freed += count;
                if used - freed + tokens <= tpm || freed == used {
                    wait = wait.max((*at + WINDOW).saturating_duration_since(now));
                    break;
                }
            }
        }
        if wait.is_zero() {
            window.requests.push_back(now);
            window.tokens.push_back((now, tokens));
        }
        wait
    }

    /// Waits until a request of about `tokens` may be sent.
    pub async fn acquire(&self, tokens: u64) -> Permit {
        let slot = match &self.in_flight {
            Some(semaphore) => semaphore.clone().acquire_owned().await.ok(),
            None => None,
        };
        loop {
            let wait = self.try_take(tokens);
            if wait.is_zero() {
                return Permit { _slot: slot };
            }
            tracing::debug!(
                wait_ms = wait.as_millis() as u64,
                "rate limiter delays an LLM request"
            );
            tokio::time::sleep(wait).await;
        }
    }

    /// Corrects the token window once the real usage is known.
    pub fn record_usage(&self, estimated: u64, actual: u64) {
        if actual > estimated {
            let now = Instant::now();
            self.lock().tokens.push_back((now, actual - estimated));
        }
    }

    /// Holds back every request through this limiter for `duration`.
    pub fn pause_for(&self, duration: Duration) {
        let until = Instant::now() + duration;
        let mut window = self.lock();
        window.paused_until = Some(window.paused_until.map_or(until, |old| old.max(until)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(rpm: u32, tpm: u64) -> RateLimiter {
        RateLimiter::new(&RateLimitConfig {
            requests_per_minute: rpm,
            tokens_per_minute: tpm,
            max_concurrent: 0,
        })
    }

    #[tokio::test(start_paused = true)]
    async fn requests_per_minute_spreads_requests() {
        let limiter = limiter(2, 0);
        let start = Instant::now();
        let mut at = Vec::new();
        for _ in 0..5 {
            let _permit = limiter.acquire(1).await;
            at.push(start.elapsed().as_secs());
        }
        assert_eq!(at, vec![0, 0, 60, 60, 120]);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_per_minute_delays_and_oversized_request_still_goes() {
        let limiter = limiter(0, 1000);
        let start = Instant::now();
        let _ = limiter.acquire(600).await;
        assert_eq!(start.elapsed().as_secs(), 0);
        let _ = limiter.acquire(600).await;
        assert_eq!(start.elapsed().as_secs(), 60);
        // Larger than the whole budget: waits for an empty window, then goes.
        let _ = limiter.acquire(5000).await;
        assert_eq!(start.elapsed().as_secs(), 120);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_holds_others_back_for_the_hint_only() {
        let limiter = Arc::new(limiter(0, 0));
        limiter.pause_for(Duration::from_secs(2));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let limiter = limiter.clone();
            tasks.push(tokio::spawn(async move {
                let _ = limiter.acquire(10).await;
                Instant::now()
            }));
        }
        for task in tasks {
            let done = task.await.expect("task");
            assert_eq!(done.duration_since(start), Duration::from_secs(2));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn usage_correction_counts_against_the_window() {
        let limiter = limiter(0, 1000);
        let start = Instant::now();
        let _ = limiter.acquire(100).await;
        limiter.record_usage(100, 950);
        let _ = limiter.acquire(100).await;
        assert_eq!(start.elapsed().as_secs(), 60);
    }
}
