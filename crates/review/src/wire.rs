//! The JSON the model writes, as its own structs. Converted explicitly
//! into core [`Finding`]s so the answer format and the core model can
//! change independently. Everything here is untrusted model output.

use serde::Deserialize;

use crate::finding::{Finding, Location, Severity};

#[derive(Debug, Deserialize)]
pub struct FindingsAnswer {
    pub findings: Vec<WireFinding>,
    /// Ordering claims stated as litmus tests (memory-ordering stage).
    #[serde(default)]
    pub litmus_claims: Vec<WireLitmusClaim>,
}

/// An ordering claim: the outcome in the test's condition must never
/// happen for the patched code to be correct.
#[derive(Clone, Debug, Deserialize)]
pub struct WireLitmusClaim {
    pub patch_index: u32,
    pub file: String,
    pub line_start: u32,
    pub line_end: u32,
    pub claim: String,
    pub litmus: String,
}

#[derive(Debug, Deserialize)]
pub struct WireLocation {
    pub file: String,
    pub line_start: u32,
    pub line_end: u32,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct WireFinding {
    pub patch_index: u32,
    pub file: String,
    pub line_start: u32,
    pub line_end: u32,
    pub severity: Severity,
    pub problem: String,
    pub severity_explanation: String,
    pub preexisting: bool,
    #[serde(default)]
    pub suggestion: Option<String>,
    #[serde(default)]
    pub locations: Vec<WireLocation>,
}

impl WireFinding {
    pub fn into_finding(self, stage: &str) -> Finding {
        Finding {
            patch_index: self.patch_index,
            file: self.file.trim().trim_start_matches("b/").to_owned(),
            line_start: self.line_start.min(self.line_end),
            line_end: self.line_end.max(self.line_start),
            stage: stage.to_owned(),
            severity: self.severity,
            problem: self.problem.trim().to_owned(),
            severity_explanation: self.severity_explanation.trim().to_owned(),
            preexisting: self.preexisting,
            locations: self
                .locations
                .into_iter()
                .map(|location| Location {
                    file: location.file,
                    line_start: location.line_start,
                    line_end: location.line_end,
                    note: location.note,
                })
                .collect(),
            evidence: Vec::new(),
            suggestion: self.suggestion.filter(|text| !text.trim().is_empty()),
            consensus: 1,
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct VerifyAnswer {
    pub decisions: Vec<Decision>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Keep,
    Drop,
    Duplicate,
    FixedLater,
}

#[derive(Debug, Deserialize)]
pub struct Decision {
    pub id: String,
    pub action: Action,
    #[serde(default)]
    pub duplicate_of: Option<String>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub severity_explanation: Option<String>,
    #[serde(default)]
    pub preexisting: Option<bool>,
    pub reason: String,
}
