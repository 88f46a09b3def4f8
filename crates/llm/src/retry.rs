//! Retry classification and backoff timing.
//!
//! Decides from a failed answer whether to try again and how long to wait:
//! server hints (`retry-after` in seconds or as an HTTP date,
//! `retry-after-ms`, `x-should-retry`, Gemini's `RetryInfo.retryDelay`) win
//! over our own exponential backoff with jitter, and both are capped. A
//! connection the endpoint refuses (or a host name that does not resolve)
//! is a configuration mistake far more often than an outage: it gets
//! [`CONNECT_RETRIES`] quick retries, not the long overload policy. Pure
//! functions only: this module must never sleep or send anything.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;

use crate::config::RetryConfig;

/// What to do about a failed attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// Try again, after at least the server's hint if it gave one.
    Retry { server_hint: Option<Duration> },
    /// The endpoint could not be reached at all (connection refused, no
    /// such host): retried [`CONNECT_RETRIES`] times, [`CONNECT_RETRY_WAIT`]
    /// apart, then reported as a configuration problem.
    Unreachable,
    /// Quota or spending limit exhausted: retrying cannot help.
    QuotaExhausted,
    /// A request error that will fail the same way again.
    Fatal,
}

/// Retries of a request whose connection could not be made; a server
/// that is restarting is back within them, a wrong base URL is not.
pub const CONNECT_RETRIES: u32 = 2;

/// The wait before each of those retries.
pub const CONNECT_RETRY_WAIT: Duration = Duration::from_millis(500);

/// The generic part of classification, shared by all providers: status
/// codes, `x-should-retry` and the retry-after headers. Providers refine
/// this with what their error bodies say.
pub fn classify_status(status: u16, headers: &HeaderMap) -> FailureClass {
    let hint = server_hint(headers);
    match header_str(headers, "x-should-retry").map(str::trim) {
        Some("true") => return FailureClass::Retry { server_hint: hint },
        Some("false") => return FailureClass::Fatal,
        _ => {}
    }
    let retryable = matches!(status, 408 | 409 | 429) || (500..=599).contains(&status);
    if retryable {
        FailureClass::Retry { server_hint: hint }
    } else {
        FailureClass::Fatal
    }
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The wait a server asked for in its headers, if any.
pub fn server_hint(headers: &HeaderMap) -> Option<Duration> {
    if let Some(ms) = header_str(headers, "retry-after-ms") {
        if let Ok(ms) = ms.trim().parse::<f64>() {
            if ms.is_finite() && ms >= 0.0 {
                return Some(Duration::from_secs_f64(ms / 1000.0));
            }
        }
    }
    let value = header_str(headers, "retry-after")?.trim();
    parse_retry_after(value, SystemTime::now())
}

/// Parses a `retry-after` value: delay seconds (integer or decimal) or an
/// HTTP date relative to `now`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    if let Ok(seconds) = value.parse::<f64>() {
        if seconds.is_finite() && seconds >= 0.0 {
            return Some(Duration::from_secs_f64(seconds));
        }
        return None;
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Parses a protobuf JSON duration such as Gemini's `"37s"` or `"1.5s"`.
pub fn parse_proto_duration(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().strip_suffix('s')?.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// Our own backoff before retry number `retry` (0 for the first retry):
/// exponential from `initial_backoff_ms`, capped at `max_backoff_ms`, with
/// "equal jitter" (a uniform draw from the upper half of the step).
pub fn backoff(config: &RetryConfig, retry: u32, rng: &mut impl Rng) -> Duration {
    let step = config
        .initial_backoff_ms
        .saturating_mul(1u64 << retry.min(30))
        .min(config.max_backoff_ms);
    let half = step / 2;
    let jitter = if step > half {
        rng.gen_range(0..=step - half)
    } else {
        0
    };
    Duration::from_millis(half + jitter)
}

/// The wait before the next attempt: the server's hint (capped at
/// `max_server_wait_ms`) when given, else our backoff.
pub fn wait_before_retry(
    config: &RetryConfig,
    retry: u32,
    server_hint: Option<Duration>,
    rng: &mut impl Rng,
) -> Duration {
    match server_hint {
        Some(hint) => hint.min(Duration::from_millis(config.max_server_wait_ms)),
        None => backoff(config, retry, rng),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().expect("test header value"));
        }
        map
    }

    type StatusCase = (u16, &'static [(&'static str, &'static str)], FailureClass);

    #[test]
    fn status_classes() {
        let cases: &[StatusCase] = &[
            (429, &[], FailureClass::Retry { server_hint: None }),
            (408, &[], FailureClass::Retry { server_hint: None }),
            (409, &[], FailureClass::Retry { server_hint: None }),
            (500, &[], FailureClass::Retry { server_hint: None }),
            (
                503,
                &[("retry-after", "2")],
                FailureClass::Retry {
                    server_hint: Some(Duration::from_secs(2)),
                },
            ),
            (
                529,
                &[("retry-after-ms", "1500")],
                FailureClass::Retry {
                    server_hint: Some(Duration::from_millis(1500)),
                },
            ),
            (400, &[], FailureClass::Fatal),
            (401, &[], FailureClass::Fatal),
            (404, &[], FailureClass::Fatal),
            (
                400,
                &[("x-should-retry", "true")],
                FailureClass::Retry { server_hint: None },
            ),
            (503, &[("x-should-retry", "false")], FailureClass::Fatal),
        ];
        for (status, pairs, expected) in cases {
            assert_eq!(
                &classify_status(*status, &headers(pairs)),
                expected,
                "status {status} {pairs:?}"
            );
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 22 Nov 2026 01:00:00 GMT").expect("date");
        let cases = [
            ("2", Some(Duration::from_secs(2))),
            ("0.5", Some(Duration::from_millis(500))),
            (
                "Sun, 22 Nov 2026 01:00:30 GMT",
                Some(Duration::from_secs(30)),
            ),
            ("Sun, 22 Nov 2026 00:59:00 GMT", Some(Duration::ZERO)),
            ("-3", None),
            ("soon", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now), expected, "{value}");
        }
    }

    #[test]
    fn proto_durations() {
        assert_eq!(parse_proto_duration("37s"), Some(Duration::from_secs(37)));
        assert_eq!(
            parse_proto_duration("1.5s"),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_proto_duration("12"), None);
    }

    #[test]
    fn backoff_grows_within_jitter_and_cap() {
        let config = RetryConfig {
            initial_backoff_ms: 1000,
            max_backoff_ms: 8000,
            ..RetryConfig::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let cases = [
            (0, 500, 1000),
            (1, 1000, 2000),
            (2, 2000, 4000),
            (3, 4000, 8000),
            (4, 4000, 8000),
            (40, 4000, 8000),
        ];
        for (retry, low, high) in cases {
            for _ in 0..50 {
                let wait = backoff(&config, retry, &mut rng).as_millis() as u64;
                assert!(
                    (low..=high).contains(&wait),
                    "retry {retry}: {wait} not in {low}..={high}"
                );
            }
        }
    }

    #[test]
    fn server_hint_is_capped() {
        let config = RetryConfig {
            max_server_wait_ms: 10_000,
            ..RetryConfig::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(
            wait_before_retry(&config, 0, Some(Duration::from_secs(3)), &mut rng),
            Duration::from_secs(3)
        );
        assert_eq!(
            wait_before_retry(&config, 0, Some(Duration::from_secs(3600)), &mut rng),
            Duration::from_secs(10)
        );
    }
}
