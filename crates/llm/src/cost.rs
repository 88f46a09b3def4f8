//! Usage and cost accounting per request, stage and review.
//!
//! Costs come only from the price table in the configuration (US dollars
//! per million tokens); with no price configured the cost is unknown, never
//! guessed. This module must never fetch prices from anywhere.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Price;
use crate::types::Usage;

impl Price {
    /// The cost of `usage` in US dollars. Reasoning tokens are part of
    /// output tokens and billed as output.
    pub fn cost_usd(&self, usage: &Usage) -> f64 {
        let per_token = |tokens: u64, per_million: f64| tokens as f64 * per_million / 1_000_000.0;
        per_token(usage.input_tokens, self.input)
            + per_token(usage.cache_read_tokens, self.cache_read)
            + per_token(usage.cache_write_tokens, self.cache_write)
            + per_token(usage.output_tokens, self.output)
    }
}

/// Usage of one review, by stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UsageLedger {
    pub by_stage: BTreeMap<String, Usage>,
}

/// A ledger with costs, as stored and shown by `--format json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    pub by_stage: BTreeMap<String, StageUsage>,
    pub total: Usage,
    /// `None` when no price is configured for the model.
    pub total_cost_usd: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageUsage {
    pub usage: Usage,
    pub cost_usd: Option<f64>,
}

impl UsageLedger {
    pub fn add(&mut self, stage: &str, usage: Usage) {
        *self.by_stage.entry(stage.to_string()).or_default() += usage;
    }

    pub fn total(&self) -> Usage {
        self.by_stage
            .values()
            .fold(Usage::default(), |sum, usage| sum + *usage)
    }

    pub fn report(&self, price: Option<&Price>) -> UsageReport {
        let cost = |usage: &Usage| price.map(|price| price.cost_usd(usage));
        let total = self.total();
        UsageReport {
            by_stage: self
                .by_stage
                .iter()
                .map(|(stage, usage)| {
                    (
                        stage.clone(),
                        StageUsage {
                            usage: *usage,
                            cost_usd: cost(usage),
                        },
                    )
                })
                .collect(),
            total,
            total_cost_usd: cost(&total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_from_the_price_table() {
        let price = Price {
            input: 3.0,
            cache_read: 0.3,
            cache_write: 3.75,
            output: 15.0,
        };
        let usage = Usage {
            requests: 2,
            input_tokens: 1_000_000,
            cache_read_tokens: 2_000_000,
            cache_write_tokens: 100_000,
            output_tokens: 10_000,
            reasoning_tokens: 4_000,
        };
        let cases = [
            (usage, 3.0 + 0.6 + 0.375 + 0.15),
            (Usage::default(), 0.0),
            (
                Usage {
                    output_tokens: 1,
                    ..Usage::default()
                },
                0.000015,
            ),
        ];
        for (usage, expected) in cases {
            assert!(
                (price.cost_usd(&usage) - expected).abs() < 1e-9,
                "{usage:?}"
            );
        }
        let mut ledger = UsageLedger::default();
        ledger.add("resource", usage);
        ledger.add("resource", usage);
        ledger.add(
            "verify",
            Usage {
                requests: 1,
                output_tokens: 1_000_000,
                ..Usage::default()
            },
        );
        let report = ledger.report(Some(&price));
        assert_eq!(report.total.requests, 5);
        assert_eq!(report.by_stage["resource"].usage.input_tokens, 2_000_000);
        assert!((report.total_cost_usd.expect("priced") - (2.0 * 4.125 + 15.0)).abs() < 1e-9);
        assert_eq!(ledger.report(None).total_cost_usd, None);
    }
}
