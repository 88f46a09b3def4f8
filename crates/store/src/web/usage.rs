//! A review's stored usage (`reviews.usage`) read back as typed values.
//! The review path stores either the usage report of every answer the
//! review received (`{"by_stage": {stage: {"usage": {...}, "cost_usd": x}},
//! "total": {...}, "total_cost_usd": x}`) or, without a metered client, one
//! flat usage object (`{"requests": n, "input_tokens": n, ...}`). Anything
//! else is kept as [`ReviewUsage::Unreadable`] with its text, so a page
//! says it cannot read the usage instead of showing zeros. Pure: decodes
//! a JSON document it is given.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Requests and tokens of one stage or of a whole review.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub requests: u64,
    /// Uncached input tokens.
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub cache_read_tokens: u64,
    #[serde(default)]
    pub cache_write_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    /// Of `output_tokens`, how many were hidden reasoning.
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl TokenUsage {
    /// All input tokens, cached or not.
    pub fn total_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_read_tokens)
            .saturating_add(self.cache_write_tokens)
    }
}

/// One stage's usage and cost.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StageUsage {
    pub stage: String,
    pub usage: TokenUsage,
    /// `None` when no price is configured for the model.
    pub cost_usd: Option<f64>,
}

/// What `reviews.usage` holds.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ReviewUsage {
    /// Nothing recorded (NULL or an empty object: the review never asked).
    None,
    /// The review's total and, when the review path recorded them, its
    /// stages in name order.
    Recorded {
        total: TokenUsage,
        by_stage: Vec<StageUsage>,
    },
    /// A document of another shape, as text.
    Unreadable(String),
}

#[derive(Deserialize)]
struct StageDocument {
    usage: TokenUsage,
    #[serde(default)]
    cost_usd: Option<f64>,
}

#[derive(Deserialize)]
struct ReportDocument {
    total: TokenUsage,
    #[serde(default)]
    by_stage: std::collections::BTreeMap<String, StageDocument>,
}

impl ReviewUsage {
    /// Reads a stored usage document.
    pub fn from_json(document: &Value) -> ReviewUsage {
        match document {
            Value::Null => return ReviewUsage::None,
            Value::Object(map) if map.is_empty() => return ReviewUsage::None,
            Value::Object(map) if map.contains_key("total") => {
                if let Ok(report) = serde_json::from_value::<ReportDocument>(document.clone()) {
                    return ReviewUsage::Recorded {
                        total: report.total,
                        by_stage: report
                            .by_stage
                            .into_iter()
                            .map(|(stage, entry)| StageUsage {
                                stage,
                                usage: entry.usage,
                                cost_usd: entry.cost_usd,
                            })
                            .collect(),
                    };
                }
            }
            Value::Object(_) => {
                if let Ok(total) = serde_json::from_value::<TokenUsage>(document.clone()) {
                    return ReviewUsage::Recorded {
                        total,
                        by_stage: Vec::new(),
                    };
                }
            }
            _ => {}
        }
        ReviewUsage::Unreadable(document.to_string())
    }

    /// The total, when one was recorded.
    pub fn total(&self) -> Option<&TokenUsage> {
        match self {
            ReviewUsage::Recorded { total, .. } => Some(total),
            ReviewUsage::None | ReviewUsage::Unreadable(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Regression: the series page read `usage.requests` at the top level
    /// of the usage report, which keeps it under `total`, and showed 0
    /// requests for a review that made 10.
    #[test]
    fn reads_the_report_and_the_flat_shape() {
        let report = json!({
            "by_stage": {
                "locking": {"usage": {"requests": 4, "input_tokens": 4000, "cache_read_tokens": 1000,
                            "cache_write_tokens": 0, "output_tokens": 300, "reasoning_tokens": 0}, "cost_usd": 0.01},
                "intent": {"usage": {"requests": 6, "input_tokens": 6000, "cache_read_tokens": 0,
                           "cache_write_tokens": 0, "output_tokens": 500, "reasoning_tokens": 20}, "cost_usd": null}
            },
            "total": {"requests": 10, "input_tokens": 10000, "cache_read_tokens": 1000,
                      "cache_write_tokens": 0, "output_tokens": 800, "reasoning_tokens": 20},
            "total_cost_usd": 0.01
        });
        let usage = ReviewUsage::from_json(&report);
        let total = usage.total().expect("a total");
        assert_eq!(
            (
                total.requests,
                total.total_input_tokens(),
                total.output_tokens
            ),
            (10, 11000, 800)
        );
        let ReviewUsage::Recorded { by_stage, .. } = &usage else {
            panic!("recorded: {usage:?}");
        };
        let stages: Vec<(&str, u64, Option<f64>)> = by_stage
            .iter()
            .map(|s| (s.stage.as_str(), s.usage.requests, s.cost_usd))
            .collect();
        assert_eq!(stages, [("intent", 6, None), ("locking", 4, Some(0.01))]);

        let flat = json!({"requests": 7, "input_tokens": 12000, "output_tokens": 900});
        let usage = ReviewUsage::from_json(&flat);
        assert_eq!(usage.total().map(|t| t.requests), Some(7));

        let cases = [
            (json!(null), ReviewUsage::None),
            (json!({}), ReviewUsage::None),
            (
                json!({"calls": 3}),
                ReviewUsage::Unreadable("{\"calls\":3}".to_string()),
            ),
            (json!([1]), ReviewUsage::Unreadable("[1]".to_string())),
        ];
        for (document, expected) in cases {
            assert_eq!(ReviewUsage::from_json(&document), expected, "{document}");
        }
    }
}
