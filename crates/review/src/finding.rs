//! The findings model: what a review says about a patch, anchored to a
//! file and line range of that patch.
//!
//! These are core types; the JSON the model writes (`wire`) and the JSON we
//! print or store are separate structs converted explicitly.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How bad a finding is. Ordered: `Low < Medium < High < Critical`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error for an unknown severity name.
#[derive(Debug, thiserror::Error)]
#[error("unknown severity {0:?} (expected low, medium, high or critical)")]
pub struct UnknownSeverity(pub String);

impl FromStr for Severity {
    type Err = UnknownSeverity;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(UnknownSeverity(text.to_owned())),
        }
    }
}

/// A further place the finding refers to (the other side of a lock
/// inversion, the allocation a leak comes from, ...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    pub file: String,
    pub line_start: u32,
    pub line_end: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Supporting material attached to a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// Lines of the patch the finding is about, as they appear in the diff.
    QuotedCode { text: String },
    /// A litmus test and the memory-model checker's verdict on it.
    Litmus { test: String, verdict: String },
    /// Any other deterministic check's output.
    Check { name: String, detail: String },
}

/// One problem found in a patch of the series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// 1-based index of the patch in the series.
    pub patch_index: u32,
    /// Path in the post-patch tree.
    pub file: String,
    pub line_start: u32,
    pub line_end: u32,
    /// Name of the stage that produced it.
    pub stage: String,
    pub severity: Severity,
    pub problem: String,
    pub severity_explanation: String,
    /// True when the bug exists before the patch (goes to the bug
    /// database, not into the reply).
    pub preexisting: bool,
    pub locations: Vec<Location>,
    pub evidence: Vec<Evidence>,
    /// Optional suggested fix, in prose.
    pub suggestion: Option<String>,
    /// In how many of the review's runs the finding was raised.
    pub consensus: u32,
}

impl Finding {
    /// A stable identity for deduplicating the same bug across reviews,
    /// runs and series versions: file, stage and the leading words of the
    /// problem, normalised. Line numbers are left out because they move
    /// between versions.
    pub fn fingerprint(&self) -> String {
        let words: Vec<String> = self
            .problem
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|word| !word.is_empty() && !word.chars().all(|c| c.is_ascii_digit()))
            .take(12)
            .map(str::to_lowercase)
            .collect();
        let mut hasher = Sha256::new();
        hasher.update(self.file.as_bytes());
        hasher.update([0]);
        hasher.update(self.stage.as_bytes());
        hasher.update([0]);
        hasher.update(words.join(" ").as_bytes());
        hex::encode(&hasher.finalize()[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(problem: &str, line: u32) -> Finding {
        Finding {
            patch_index: 1,
            file: "mm/a.c".into(),
            line_start: line,
            line_end: line,
            stage: "resource".into(),
            severity: Severity::High,
            problem: problem.into(),
            severity_explanation: String::new(),
            preexisting: false,
            locations: vec![],
            evidence: vec![],
            suggestion: None,
            consensus: 1,
        }
    }

    #[test]
    fn severities_order_and_parse() {
        assert!(Severity::Low < Severity::Medium && Severity::High < Severity::Critical);
        for severity in Severity::ALL {
            assert_eq!(severity.as_str().parse::<Severity>().ok(), Some(severity));
        }
        assert_eq!(" HIGH ".parse::<Severity>().ok(), Some(Severity::High));
        assert!("severe".parse::<Severity>().is_err());
    }

    #[test]
    fn fingerprint_ignores_line_numbers_and_case_but_not_file() {
        let a = finding("Leak of buf allocated at line 12 on the error path", 40);
        let b = finding("leak of BUF allocated at line 19 on the error path", 52);
        assert_eq!(a.fingerprint(), b.fingerprint());
        let mut c = a.clone();
        c.file = "mm/b.c".into();
        assert_ne!(a.fingerprint(), c.fingerprint());
    }
}
