//! Matching a review's findings to a corpus entry's labels: same patch,
//! same file, overlapping post-patch lines, and optionally the stage that
//! owns the label's class. Pure: values in, values out.

use sashiko_review::Finding;
use serde::Serialize;

use crate::corpus::{BugClass, Label};

/// How strictly findings must match labels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatchOptions {
    /// Also require the finding's stage to be the label class's home stage
    /// (`prescan` for prompt injection).
    pub match_class: bool,
}

/// The outcome of matching one review.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Matched {
    /// Per label, in label order: the findings (indices) that match it.
    pub label_hits: Vec<Vec<usize>>,
    /// Findings matching no label.
    pub false_positives: Vec<usize>,
    /// Findings matching a model-stage label (builtin pre-scan labels have
    /// their own fixed severities and are left out).
    pub severity_checked: usize,
    /// Of those, the findings whose severity equals their label's.
    pub severity_agreements: usize,
    /// Matched findings (each counted once).
    pub true_positive_findings: usize,
}

impl Matched {
    pub fn found(&self, label: usize) -> bool {
        self.label_hits
            .get(label)
            .is_some_and(|hits| !hits.is_empty())
    }
}

fn matches(finding: &Finding, label: &Label, options: MatchOptions) -> bool {
    // The pre-scan reports injected text, never a code bug; and a model
    // stage cannot be credited with the pre-scan's labels.
    let from_prescan = finding.stage == BugClass::PromptInjection.home_stage();
    finding.patch_index == 1
        && from_prescan == label.class.is_builtin()
        && label.overlaps(&finding.file, finding.line_start, finding.line_end)
        && (!options.match_class || finding.stage == label.class.home_stage())
}

/// Match `findings` of a single-patch review against `labels`.
pub fn match_findings(labels: &[Label], findings: &[Finding], options: MatchOptions) -> Matched {
    let mut out = Matched {
        label_hits: vec![Vec::new(); labels.len()],
        ..Matched::default()
    };
    for (index, finding) in findings.iter().enumerate() {
        let mut hit = false;
        let mut checked = false;
        let mut agrees = false;
        for (number, label) in labels.iter().enumerate() {
            if matches(finding, label, options) {
                out.label_hits[number].push(index);
                hit = true;
                if !label.class.is_builtin() {
                    checked = true;
                    agrees |= finding.severity == label.severity;
                }
            }
        }
        if hit {
            out.true_positive_findings += 1;
            out.severity_checked += usize::from(checked);
            out.severity_agreements += usize::from(agrees);
        } else {
            out.false_positives.push(index);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sashiko_review::Severity;

    fn label(file: &str, lines: [u32; 2], class: BugClass) -> Label {
        Label {
            class,
            file: file.into(),
            lines,
            severity: Severity::High,
            description: String::new(),
        }
    }

    fn finding(file: &str, start: u32, end: u32, stage: &str) -> Finding {
        Finding {
            patch_index: 1,
            file: file.into(),
            line_start: start,
            line_end: end,
            stage: stage.into(),
            severity: Severity::High,
            problem: "p".into(),
            severity_explanation: String::new(),
            preexisting: false,
            locations: vec![],
            evidence: vec![],
            suggestion: None,
            consensus: 1,
        }
    }

    #[test]
    fn overlap_file_and_class_decide() {
        let labels = [label("mm/a.c", [10, 12], BugClass::Leak)];
        // (finding, match_class, matches)
        let cases = [
            (finding("mm/a.c", 12, 14, "flow"), false, true),
            (finding("mm/a.c", 8, 9, "resource"), false, false),
            (finding("mm/b.c", 10, 10, "resource"), false, false),
            (finding("mm/a.c", 11, 11, "flow"), true, false),
            (finding("mm/a.c", 11, 11, "resource"), true, true),
            (finding("mm/a.c", 11, 11, "prescan"), false, false),
        ];
        for (finding, match_class, expected) in cases {
            let matched = match_findings(
                &labels,
                std::slice::from_ref(&finding),
                MatchOptions { match_class },
            );
            assert_eq!(
                matched.found(0),
                expected,
                "{finding:?} class={match_class}"
            );
            assert_eq!(matched.false_positives.is_empty(), expected);
        }
    }

    #[test]
    fn duplicates_of_a_found_label_are_not_false_positives() {
        let labels = [label("mm/a.c", [10, 12], BugClass::Leak)];
        let findings = [
            finding("mm/a.c", 10, 10, "resource"),
            finding("mm/a.c", 11, 11, "flow"),
            finding("mm/a.c", 40, 40, "flow"),
        ];
        let matched = match_findings(&labels, &findings, MatchOptions::default());
        assert_eq!(matched.label_hits[0], vec![0, 1]);
        assert_eq!(matched.false_positives, vec![2]);
        assert_eq!(matched.true_positive_findings, 2);
    }
}
