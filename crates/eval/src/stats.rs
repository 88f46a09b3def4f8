//! Confidence intervals for the bench's proportions. Pure arithmetic; no
//! IO and no randomness.

use serde::Serialize;

/// z for a two-sided 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// A proportion with its Wilson score interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Proportion {
    pub successes: u64,
    pub trials: u64,
    /// `successes / trials`, or `None` without trials.
    pub value: Option<f64>,
    /// 95% Wilson score interval, `None` without trials.
    pub ci95: Option<[f64; 2]>,
}

impl Proportion {
    pub fn new(successes: u64, trials: u64) -> Proportion {
        Proportion {
            successes,
            trials,
            value: (trials > 0).then(|| successes as f64 / trials as f64),
            ci95: wilson(successes, trials, Z95),
        }
    }

    /// Whether `p` lies inside the 95% interval.
    pub fn interval_contains(&self, p: f64) -> bool {
        self.ci95.is_some_and(|[low, high]| low <= p && p <= high)
    }
}

/// The Wilson score interval for `successes` out of `trials` at `z`.
pub fn wilson(successes: u64, trials: u64, z: f64) -> Option<[f64; 2]> {
    if trials == 0 {
        return None;
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some([(centre - half).max(0.0), (centre + half).min(1.0)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-4
    }

    #[test]
    fn wilson_matches_published_values() {
        // (successes, trials, low, high): the Wilson formula at z = 1.96
        // evaluated independently (Python, math.sqrt), rounded to 4 places.
        let cases = [
            (0, 10, 0.0, 0.2775),
            (10, 10, 0.7225, 1.0),
            (5, 10, 0.2366, 0.7634),
            (70, 100, 0.6042, 0.7811),
            (1, 50, 0.0035, 0.1050),
        ];
        for (successes, trials, low, high) in cases {
            let [l, h] = wilson(successes, trials, Z95).expect("trials > 0");
            assert!(
                close(l, low) && close(h, high),
                "{successes}/{trials}: {l} {h}"
            );
        }
        assert_eq!(wilson(0, 0, Z95), None);
    }

    #[test]
    fn proportion_interval_contains_its_value() {
        let p = Proportion::new(21, 30);
        assert_eq!(p.value, Some(0.7));
        assert!(p.interval_contains(0.7));
        assert!(!p.interval_contains(0.2));
    }
}
