//! Slowing down password guessing without locking anyone out (issue 21,
//! hole 2). Failed logins are counted per key (the account name and the
//! client address); after `free_failures` of them the next attempt under
//! that key must wait, one second doubling per further failure up to
//! `max_delay`. An attempt made too early is refused with the time left
//! (a `Retry-After`) and its password is not checked, so a guesser gets at
//! most one guess per `max_delay` per account, while the owner, from any
//! address and even from the address the guesses came from (behind a
//! proxy every client shares one), logs in after at most `max_delay`.
//!
//! A browser that logged in to an account before carries a device cookie;
//! its attempts for that account are counted under the device instead of
//! the account name, so a guesser hammering the name does not keep its
//! owner waiting. Device tokens live in this process only (a restart
//! treats every browser as new, which is the plain backoff again).
//!
//! This module must never refuse an attempt for longer than `max_delay`
//! and never keep more than a bounded number of keys.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Keys remembered at most; past this the forgotten ones are dropped, and
/// if that is not enough, the oldest half.
const MAX_KEYS: usize = 100_000;

/// How the login throttle behaves.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleConfig {
    /// Failures per key before attempts have to wait.
    pub free_failures: u32,
    /// The longest wait between two attempts under one key.
    pub max_delay: Duration,
    /// A key with no failure for this long starts again from zero.
    pub forget_after: Duration,
}

struct Failures {
    count: u32,
    last: Instant,
}

/// Failed-login counts per key and the device tokens of past logins.
pub struct PasswordThrottle {
    config: ThrottleConfig,
    failures: Mutex<HashMap<String, Failures>>,
    /// SHA-256 of a device token → the account name it logged in.
    devices: Mutex<HashMap<String, String>>,
}

impl PasswordThrottle {
    pub fn new(config: ThrottleConfig) -> PasswordThrottle {
        PasswordThrottle {
            config,
            failures: Mutex::new(HashMap::new()),
            devices: Mutex::new(HashMap::new()),
        }
    }

    /// The wait after `count` failures.
    fn delay(&self, count: u32) -> Duration {
        if count < self.config.free_failures {
            return Duration::ZERO;
        }
        let doublings = (count - self.config.free_failures).min(30);
        Duration::from_secs(1_u64 << doublings).min(self.config.max_delay)
    }

    /// How long an attempt under `keys` must still wait; none when it may
    /// be checked now.
    pub fn wait(&self, keys: &[String]) -> Option<Duration> {
        let Ok(failures) = self.failures.lock() else {
            return Some(self.config.max_delay);
        };
        let now = Instant::now();
        keys.iter()
            .filter_map(|key| failures.get(key))
            .filter(|record| now.duration_since(record.last) < self.config.forget_after)
            .filter_map(|record| {
                (record.last + self.delay(record.count)).checked_duration_since(now)
            })
            .filter(|left| !left.is_zero())
            .max()
    }

    /// Records one failure under each of `keys`.
    pub fn fail(&self, keys: &[String]) {
        let Ok(mut failures) = self.failures.lock() else {
            return;
        };
        let now = Instant::now();
        if failures.len() >= MAX_KEYS {
            let forget_after = self.config.forget_after;
            failures.retain(|_, record| now.duration_since(record.last) < forget_after);
            if failures.len() >= MAX_KEYS {
                let mut ages: Vec<Instant> = failures.values().map(|record| record.last).collect();
                ages.sort_unstable();
                let median = ages[ages.len() / 2];
                failures.retain(|_, record| record.last > median);
            }
        }
        for key in keys {
            let record = failures.entry(key.clone()).or_insert(Failures {
                count: 0,
                last: now,
            });
            if now.duration_since(record.last) >= self.config.forget_after {
                record.count = 0;
            }
            record.count = record.count.saturating_add(1);
            record.last = now;
        }
    }

    /// Forgets the failures under `keys` (after a successful login).
    pub fn forget(&self, keys: &[String]) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in keys {
                failures.remove(key);
            }
        }
    }

    /// Remembers that the device known by `token_hash` logged in `name`.
    pub fn trust_device(&self, token_hash: String, name: &str) {
        if let Ok(mut devices) = self.devices.lock() {
            if devices.len() >= MAX_KEYS {
                devices.clear();
            }
            devices.insert(token_hash, name.to_string());
        }
    }

    /// Whether the device known by `token_hash` logged in `name` before.
    pub fn device_knows(&self, token_hash: &str, name: &str) -> bool {
        self.devices
            .lock()
            .is_ok_and(|devices| devices.get(token_hash).is_some_and(|known| known == name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(max_delay_ms: u64) -> PasswordThrottle {
        PasswordThrottle::new(ThrottleConfig {
            free_failures: 3,
            max_delay: Duration::from_millis(max_delay_ms),
            forget_after: Duration::from_secs(600),
        })
    }

    fn keys() -> Vec<String> {
        vec!["name:ada".to_string()]
    }

    #[test]
    fn the_first_failures_are_free_then_attempts_wait() {
        let throttle = throttle(15_000);
        for _ in 0..3 {
            assert_eq!(throttle.wait(&keys()), None);
            throttle.fail(&keys());
        }
        let wait = throttle.wait(&keys()).expect("waits after 3 failures");
        assert!(wait <= Duration::from_secs(1), "{wait:?}");
    }

    #[test]
    fn the_wait_never_exceeds_the_longest_delay() {
        let throttle = throttle(50);
        for _ in 0..100 {
            throttle.fail(&keys());
        }
        let wait = throttle.wait(&keys()).expect("waits");
        assert!(wait <= Duration::from_millis(50), "{wait:?}");
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(throttle.wait(&keys()), None, "may try again");
    }

    #[test]
    fn keys_are_independent_and_forgotten_after_success() {
        let throttle = throttle(15_000);
        for _ in 0..10 {
            throttle.fail(&keys());
        }
        assert_eq!(throttle.wait(&["name:bob".to_string()]), None);
        throttle.forget(&keys());
        assert_eq!(throttle.wait(&keys()), None);
    }

    #[test]
    fn devices_are_known_per_account() {
        let throttle = throttle(15_000);
        throttle.trust_device("abc".to_string(), "ada");
        assert!(throttle.device_knows("abc", "ada"));
        assert!(!throttle.device_knows("abc", "bob"));
        assert!(!throttle.device_knows("def", "ada"));
    }
}
