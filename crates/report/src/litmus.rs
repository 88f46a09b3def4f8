//! The litmus test and the memory-model checker's verdict as a reader of
//! the text report or the reply mail needs them: under the finding that
//! says "the litmus test below reaches the bad outcome", the test itself
//! (comments, blank-line runs and trailing spaces trimmed, long tests cut
//! with a note saying so) and the verdict with its state counts.
//!
//! Pure: evidence in, text out. The full test stays in the JSON output and
//! the store; this module never rewrites what the checker decided.

use sashiko_review::{Evidence, Finding};

/// Most lines of a litmus test shown in text or mail; the rest is cut with
/// a note (the JSON output keeps all of it).
const MAX_TEST_LINES: usize = 40;

/// Each line of the block starts with this, so mail clients and the prose
/// wrapper leave it as it is.
const INDENT: &str = "    ";

/// The litmus evidence of `finding` as an indented block, or `None` when
/// it carries none.
pub fn evidence_block(finding: &Finding) -> Option<String> {
    let blocks: Vec<String> = finding
        .evidence
        .iter()
        .filter_map(|evidence| match evidence {
            Evidence::Litmus { test, verdict } => Some(render(test, verdict)),
            _ => None,
        })
        .collect();
    (!blocks.is_empty()).then(|| blocks.join("\n"))
}

fn render(test: &str, verdict: &str) -> String {
    let lines = trimmed_lines(test);
    let mut out = String::new();
    let shown = lines.len().min(MAX_TEST_LINES);
    for line in &lines[..shown] {
        if line.is_empty() {
            out.push('\n');
        } else {
            out.push_str(INDENT);
            out.push_str(line);
            out.push('\n');
        }
    }
    if lines.len() > shown {
        out.push_str(&format!(
            "{INDENT}[ ... {} more line(s) of the test cut; the full test is in the JSON output ]\n",
            lines.len() - shown
        ));
    }
    out.push_str(&crate::wrap::wrap(
        &format!("LKMM checker verdict: {}", verdict.trim()),
        72,
    ));
    out
}

/// The test's lines without `(* ... *)` comments, trailing spaces, leading
/// and trailing blank lines or runs of blank lines.
fn trimmed_lines(test: &str) -> Vec<String> {
    let uncommented = strip_comments(test);
    let mut lines: Vec<String> = Vec::new();
    for line in uncommented.lines() {
        let line = line.trim_end().replace('\t', "    ");
        if line.is_empty() && lines.last().is_none_or(String::is_empty) {
            continue;
        }
        lines.push(line);
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// Remove `(* ... *)` comments: those that open a line (as litmus files
/// write them, before the program and after the condition), up to the
/// line that closes them. `(*x` inside the program is code, not a comment.
fn strip_comments(test: &str) -> String {
    let mut out = String::with_capacity(test.len());
    let mut inside = false;
    for line in test.lines() {
        let trimmed = line.trim_start();
        if !inside && trimmed.starts_with("(*") {
            inside = true;
            let after = &trimmed[2..];
            if let Some(end) = after.find("*)") {
                inside = false;
                let rest = after[end + 2..].trim();
                if !rest.is_empty() {
                    out.push_str(rest);
                    out.push('\n');
                }
            }
            continue;
        }
        if inside {
            if let Some(end) = line.find("*)") {
                inside = false;
                let rest = line[end + 2..].trim();
                if !rest.is_empty() {
                    out.push_str(rest);
                    out.push('\n');
                }
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sashiko_review::Severity;

    fn finding(evidence: Vec<Evidence>) -> Finding {
        Finding {
            patch_index: 1,
            file: "kernel/pub.c".into(),
            line_start: 6,
            line_end: 7,
            stage: "memory-ordering".into(),
            severity: Severity::High,
            problem: "The litmus test below reaches the bad outcome.".into(),
            severity_explanation: String::new(),
            preexisting: false,
            locations: vec![],
            evidence,
            suggestion: None,
            consensus: 1,
        }
    }

    fn litmus(test: &str) -> Evidence {
        Evidence::Litmus {
            test: test.into(),
            verdict: "Sometimes (positive 1, negative 3)".into(),
        }
    }

    #[test]
    fn the_block_shows_the_trimmed_test_and_the_verdict_with_counts() {
        let cases = [
            (
                "C mp\n(* from the patch *)\n\n\n{}\n\nP0(int *x)\n{\n\tWRITE_ONCE(*x, 1);   \n}\n\nexists (0:r0=1)\n\n",
                "    C mp\n\n    {}\n\n    P0(int *x)\n    {\n        WRITE_ONCE(*x, 1);\n    }\n\n    exists (0:r0=1)\nLKMM checker verdict: Sometimes (positive 1, negative 3)\n",
            ),
            (
                "C a\n(* multi\nline *)\nexists (x=1)",
                "    C a\n    exists (x=1)\nLKMM checker verdict: Sometimes (positive 1, negative 3)\n",
            ),
        ];
        for (test, expected) in cases {
            let block = evidence_block(&finding(vec![litmus(test)])).expect("a block");
            assert_eq!(block, expected, "{test:?}");
        }
    }

    #[test]
    fn long_tests_are_cut_with_a_note_and_other_evidence_is_not_shown() {
        let long: String = (0..60).map(|n| format!("line{n}\n")).collect();
        let block = evidence_block(&finding(vec![litmus(&long)])).expect("a block");
        assert!(block.contains("    line39\n"), "{block}");
        assert!(!block.contains("line40"), "{block}");
        assert!(
            block.contains(
                "[ ... 20 more line(s) of the test cut; the full test is in the JSON output ]"
            ),
            "{block}"
        );
        let other = finding(vec![Evidence::Check {
            name: "lock-order".into(),
            detail: "inversion".into(),
        }]);
        assert_eq!(evidence_block(&other), None);
    }
}
