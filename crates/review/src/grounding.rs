//! Grounding: a finding must cite lines the model was shown. A bug the
//! patch introduces must sit in the diff (see [`crate::anchor`]); a
//! pre-existing bug may instead cite lines of a file that a tool returned
//! or that the context showed, in post-patch numbering (baseline lines
//! count only for files the series does not change, where the numbering is
//! the same). Everything else is dropped and counted. Pure.

use std::collections::BTreeSet;

use sashiko_llm_core::SourceLines;

use crate::context::ContextSnippet;
use crate::finding::Finding;

/// Lines the model was shown besides the diff.
#[derive(Clone, Debug, Default)]
pub struct ShownLines {
    spans: Vec<(String, u32, u32)>,
}

impl ShownLines {
    /// From tool results and the context snippets that were sent.
    /// `changed_files`: files the series changes (their baseline numbering
    /// differs from post-patch numbering).
    pub fn new(
        tool_sources: &[SourceLines],
        snippets: &[ContextSnippet],
        changed_files: &BTreeSet<String>,
    ) -> ShownLines {
        let mut spans: Vec<(String, u32, u32)> = tool_sources
            .iter()
            .filter(|source| source.tree != "baseline" || !changed_files.contains(&source.file))
            .map(|source| (source.file.clone(), source.start, source.end))
            .collect();
        spans.extend(snippets.iter().map(|snippet| {
            (
                snippet.file.clone(),
                snippet.first_line,
                snippet.last_line(),
            )
        }));
        ShownLines { spans }
    }

    /// Were all lines of the finding's range shown?
    pub fn covers(&self, finding: &Finding) -> bool {
        let file = finding.file.trim_start_matches("b/");
        (finding.line_start..=finding.line_end).all(|line| {
            self.spans
                .iter()
                .any(|(shown, start, end)| shown == file && (*start..=*end).contains(&line))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding(file: &str, start: u32, end: u32) -> Finding {
        Finding {
            patch_index: 1,
            file: file.into(),
            line_start: start,
            line_end: end,
            stage: "flow".into(),
            severity: Severity::Medium,
            problem: "p".into(),
            severity_explanation: String::new(),
            preexisting: true,
            locations: vec![],
            evidence: vec![],
            suggestion: None,
            consensus: 1,
        }
    }

    fn source(file: &str, tree: &str, start: u32, end: u32) -> SourceLines {
        SourceLines {
            file: file.into(),
            tree: tree.into(),
            start,
            end,
        }
    }

    #[test]
    fn covered_only_by_lines_shown_in_the_same_numbering() {
        let changed = BTreeSet::from(["drivers/a.c".to_owned()]);
        let shown = ShownLines::new(
            &[
                source("lib/util.c", "post-patch", 10, 20),
                source("lib/util.c", "post-patch", 21, 21),
                source("drivers/a.c", "baseline", 1, 100),
                source("lib/old.c", "baseline", 5, 6),
            ],
            &[],
            &changed,
        );
        let cases = [
            (finding("lib/util.c", 12, 21), true),
            (finding("lib/util.c", 12, 22), false),
            (finding("b/lib/util.c", 10, 10), true),
            (finding("drivers/a.c", 50, 50), false),
            (finding("lib/old.c", 5, 5), true),
            (finding("lib/never.c", 1, 1), false),
        ];
        for (finding, expected) in cases {
            assert_eq!(shown.covers(&finding), expected, "{finding:?}");
        }
    }
}
