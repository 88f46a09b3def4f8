//! Known issues: a finding whose code carries an annotation naming the
//! problem (a TODO/FIXME/known-issue comment next to it), or whose
//! fingerprint a maintainer marked known, is not reported again. It is kept
//! and counted so nothing silently disappears.

use std::collections::BTreeSet;

use crate::finding::Finding;
use crate::series::ReviewSeries;

/// Lines around a finding searched for an annotation.
const NEARBY: u32 = 3;

/// Words too common to tie a comment to a problem.
const COMMON: [&str; 12] = [
    "this", "that", "with", "when", "from", "there", "which", "will", "have", "should", "could",
    "here",
];

/// Why `finding` is a known issue, if it is.
pub fn known_reason(
    finding: &Finding,
    series: &ReviewSeries,
    markers: &[String],
    known_fingerprints: &BTreeSet<String>,
) -> Option<String> {
    if known_fingerprints.contains(&finding.fingerprint()) {
        return Some("marked known by a maintainer".to_owned());
    }
    let patch = series.patch(finding.patch_index)?;
    let problem_words = significant_words(&finding.problem);
    let low = finding.line_start.saturating_sub(NEARBY);
    let high = finding.line_end.saturating_add(NEARBY);
    post_patch_lines(&patch.diff, &finding.file)
        .into_iter()
        .filter(|(number, _)| (low..=high).contains(number))
        .find_map(|(_, text)| {
            let lower = text.to_lowercase();
            let has_marker = markers.iter().any(|marker| lower.contains(marker.as_str()));
            let shares_word = significant_words(text)
                .intersection(&problem_words)
                .next()
                .is_some();
            (has_marker && shares_word).then(|| format!("annotated in the code: {}", text.trim()))
        })
}

fn significant_words(text: &str) -> BTreeSet<String> {
    crate::words::content_words(text, &COMMON)
        .iter()
        .map(|word| stem(word).to_owned())
        .collect()
}

/// A crude English stem so "leaks", "leaked" and "leaking" meet "leak".
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(stripped) = word.strip_suffix(suffix) {
            if stripped.len() >= 3 {
                return stripped;
            }
        }
    }
    word
}

/// Post-patch (line number, text) of context and added lines of `file`.
fn post_patch_lines<'a>(diff: &'a str, file: &str) -> Vec<(u32, &'a str)> {
    crate::anchor::diff_lines(diff)
        .into_iter()
        .filter(|line| line.file == file)
        .filter_map(|line| Some((line.new_line?, line.content())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use crate::series::ReviewPatch;

    fn series(comment: &str) -> ReviewSeries {
        ReviewSeries {
            title: "t".into(),
            version: 1,
            cover_letter: None,
            patches: vec![ReviewPatch {
                index: 1,
                subject: "s".into(),
                author: "a".into(),
                message_id: None,
                commit_id: None,
                commit_message: String::new(),
                diff: format!(
                    "--- a/f.c\n+++ b/f.c\n@@ -1,3 +1,4 @@\n a\n+\t{comment}\n+\tbuf = kmalloc(n, GFP_KERNEL);\n b\n"
                ),
            }],
        }
    }

    fn finding() -> Finding {
        Finding {
            patch_index: 1,
            file: "f.c".into(),
            line_start: 3,
            line_end: 3,
            stage: "resource".into(),
            severity: Severity::High,
            problem: "buf leaks when the caller fails".into(),
            severity_explanation: String::new(),
            preexisting: false,
            locations: vec![],
            evidence: vec![],
            suggestion: None,
            consensus: 1,
        }
    }

    #[test]
    fn annotations_naming_the_problem_make_it_known() {
        let markers: Vec<String> = ["todo", "fixme", "known issue"].map(String::from).to_vec();
        let none = BTreeSet::new();
        let cases = [
            ("/* TODO: buf leaks on error, fixed in the rework */", true),
            ("/* FIXME: locking is wrong here */", false),
            ("/* buf is freed by the caller */", false),
            ("/* Known issue: the buffer BUF may leak */", true),
        ];
        for (comment, expected) in cases {
            let reason = known_reason(&finding(), &series(comment), &markers, &none);
            assert_eq!(reason.is_some(), expected, "{comment}: {reason:?}");
        }
        let marked: BTreeSet<String> = [finding().fingerprint()].into();
        assert!(known_reason(&finding(), &series("x"), &markers, &marked).is_some());
    }
}
