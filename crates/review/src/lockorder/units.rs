//! Which code the lock-order stage walks for one patch: the enclosing
//! functions the context carries (post-patch, checked line by line against
//! the patch's added lines so a snippet from a later tree is not misread),
//! and, for hunks no snippet covers, the hunk's own post-patch lines.
//! Pure.

use std::collections::BTreeSet;

use crate::anchor::{diff_lines, LineKind};
use crate::context::{functions, ContextSnippet};
use crate::series::ReviewPatch;

/// A piece of post-patch code to walk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unit {
    pub file: String,
    pub first_line: u32,
    pub text: String,
    /// Function name ("" when unknown), for scoped hierarchy sections.
    pub function: String,
    /// The whole enclosing function as the context shows it (a
    /// pre-existing inversion may be reported only from such a unit).
    pub whole_function: bool,
}

/// What one patch changes in one file, in post-patch numbering.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    pub added: BTreeSet<u32>,
    /// Lines just after removed lines (where a deletion sits).
    pub deletions: BTreeSet<u32>,
}

impl Changes {
    /// The first changed line in `(after, up_to]`.
    pub fn changed_between(&self, after: u32, up_to: u32) -> Option<u32> {
        self.added
            .range(after + 1..=up_to)
            .chain(self.deletions.range(after + 1..=up_to))
            .min()
            .copied()
    }
}

struct Hunk<'a> {
    file: &'a str,
    header: &'a str,
    /// Context and added lines: (post-patch number, content, added?).
    lines: Vec<(u32, &'a str, bool)>,
}

/// The units to walk for `patch` and what it changes per file.
pub(crate) fn units_for_patch(
    patch: &ReviewPatch,
    context: &[ContextSnippet],
) -> (Vec<Unit>, Vec<(String, Changes)>) {
    let hunks = hunks(&patch.diff);
    let mut changes: Vec<(String, Changes)> = Vec::new();
    for hunk in &hunks {
        let entry = match changes.iter().position(|(file, _)| file == hunk.file) {
            Some(at) => &mut changes[at].1,
            None => {
                changes.push((hunk.file.to_owned(), Changes::default()));
                &mut changes.last_mut().expect("just pushed").1
            }
        };
        entry
            .added
            .extend(hunk.lines.iter().filter(|l| l.2).map(|l| l.0));
    }
    add_deletions(&patch.diff, &mut changes);

    let mut units = Vec::new();
    let mut covered: BTreeSet<(String, u32)> = BTreeSet::new();
    for snippet in context
        .iter()
        .filter(|s| s.kind == crate::context::ContextKind::Enclosing && is_c(&s.file))
    {
        let Some((_, file_changes)) = changes.iter().find(|(file, _)| *file == snippet.file) else {
            continue;
        };
        let snippet_lines: Vec<&str> = snippet.text.lines().collect();
        let last = snippet.first_line + u32::try_from(snippet_lines.len()).unwrap_or(0);
        let inside: Vec<u32> = file_changes
            .added
            .range(snippet.first_line..last)
            .copied()
            .collect();
        let deletions_inside: Vec<u32> = file_changes
            .deletions
            .range(snippet.first_line..last)
            .copied()
            .collect();
        let added_text = |line: u32| {
            hunks
                .iter()
                .filter(|h| h.file == snippet.file)
                .flat_map(|h| h.lines.iter())
                .find(|l| l.0 == line && l.2)
                .map(|l| l.1)
        };
        // Added lines must read the same in the snippet (a deletion alone
        // cannot be checked that way).
        let matches = !(inside.is_empty() && deletions_inside.is_empty())
            && inside.iter().all(|line| {
                let index = usize::try_from(line - snippet.first_line).unwrap_or(usize::MAX);
                snippet_lines.get(index).copied() == added_text(*line)
            });
        if !matches {
            continue;
        }
        covered.extend(
            inside
                .iter()
                .chain(&deletions_inside)
                .map(|line| (snippet.file.clone(), *line)),
        );
        units.push(Unit {
            file: snippet.file.clone(),
            first_line: snippet.first_line,
            text: snippet.text.clone(),
            function: functions(&snippet.text)
                .first()
                .map(|span| span.name.clone())
                .unwrap_or_default(),
            whole_function: true,
        });
    }
    for hunk in hunks.iter().filter(|h| is_c(h.file)) {
        let (Some(first), Some(last)) = (hunk.lines.first(), hunk.lines.last()) else {
            continue;
        };
        let deletions = changes
            .iter()
            .find(|(file, _)| file == hunk.file)
            .map(|(_, c)| c.deletions.range(first.0..=last.0 + 1).copied().collect())
            .unwrap_or_else(Vec::new);
        let uncovered = hunk
            .lines
            .iter()
            .filter(|l| l.2)
            .map(|l| l.0)
            .chain(deletions)
            .any(|line| !covered.contains(&(hunk.file.to_owned(), line)));
        if !uncovered {
            continue;
        }
        let text: Vec<&str> = hunk.lines.iter().map(|l| l.1).collect();
        units.push(Unit {
            file: hunk.file.to_owned(),
            first_line: first.0,
            text: text.join("\n"),
            function: hunk_function(hunk.header),
            whole_function: false,
        });
    }
    (units, changes)
}

fn is_c(file: &str) -> bool {
    file.ends_with(".c") || file.ends_with(".h")
}

fn hunks(diff: &str) -> Vec<Hunk<'_>> {
    let mut out: Vec<Hunk<'_>> = Vec::new();
    for line in diff_lines(diff) {
        match line.kind {
            LineKind::Header if line.text.starts_with("@@ ") => out.push(Hunk {
                file: line.file,
                header: line.text,
                lines: Vec::new(),
            }),
            LineKind::Context | LineKind::Added => {
                if let (Some(hunk), Some(number)) = (out.last_mut(), line.new_line) {
                    hunk.lines
                        .push((number, line.content(), line.kind == LineKind::Added));
                }
            }
            _ => {}
        }
    }
    out
}

/// Where removed lines sat: the next post-patch line after them.
fn add_deletions(diff: &str, changes: &mut [(String, Changes)]) {
    let mut pending: Option<&str> = None;
    let mut last_number = 0;
    for line in diff_lines(diff) {
        match line.kind {
            LineKind::Removed => pending = Some(line.file),
            LineKind::Context | LineKind::Added => {
                let number = line.new_line.unwrap_or(last_number);
                if let Some(file) = pending.take() {
                    mark(changes, file, number);
                }
                last_number = number;
            }
            LineKind::Header => {
                if let Some(file) = pending.take() {
                    mark(changes, file, last_number + 1);
                }
            }
            LineKind::Marker => {}
        }
    }
    if let Some(file) = pending {
        mark(changes, file, last_number + 1);
    }
}

fn mark(changes: &mut [(String, Changes)], file: &str, line: u32) {
    if let Some((_, entry)) = changes.iter_mut().find(|(name, _)| name == file) {
        entry.deletions.insert(line);
    }
}

/// `@@ -1,2 +1,3 @@ static int foo(struct x *y)` -> `foo`.
fn hunk_function(header: &str) -> String {
    let after = header
        .strip_prefix("@@ ")
        .and_then(|rest| rest.split_once(" @@"))
        .map(|(_, after)| after)
        .unwrap_or("");
    let before_paren = after.split('(').next().unwrap_or("");
    if !after.contains('(') {
        return String::new();
    }
    before_paren
        .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .next()
        .unwrap_or("")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(diff: &str) -> ReviewPatch {
        ReviewPatch {
            index: 1,
            subject: "mm: x".into(),
            author: "A <a@example.org>".into(),
            message_id: None,
            commit_id: None,
            commit_message: String::new(),
            diff: diff.into(),
        }
    }

    const DIFF: &str = "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -3,4 +3,4 @@ int f(struct folio *folio)\n {\n \ti_mmap_lock_write(mapping);\n-\tfoo();\n+\tfolio_lock(folio);\n \ti_mmap_unlock_write(mapping);\n";

    #[test]
    fn snippets_that_match_the_patch_are_used_else_the_hunk() {
        let snippet = ContextSnippet {
            file: "mm/x.c".into(),
            first_line: 2,
            label: "enclosing function f() after the patch".into(),
            text: "int f(struct folio *folio)\n{\n\ti_mmap_lock_write(mapping);\n\tfolio_lock(folio);\n\ti_mmap_unlock_write(mapping);\n}".into(),
            kind: crate::context::ContextKind::Enclosing,
            priority: crate::context::priority::ENCLOSING,
        };
        let (units, changes) = units_for_patch(&patch(DIFF), std::slice::from_ref(&snippet));
        assert_eq!(units.len(), 1);
        assert!(units[0].whole_function);
        assert_eq!(units[0].function, "f");
        assert_eq!(changes[0].1.added, BTreeSet::from([5]));
        assert_eq!(changes[0].1.deletions, BTreeSet::from([5]));
        assert_eq!(changes[0].1.changed_between(3, 6), Some(5));
        assert_eq!(changes[0].1.changed_between(5, 6), None);

        // A snippet from another tree (the added line is not where the
        // patch says): the hunk's own lines are walked instead.
        let moved = ContextSnippet {
            first_line: 3,
            ..snippet
        };
        let (units, _) = units_for_patch(&patch(DIFF), &[moved]);
        assert_eq!(units.len(), 1);
        assert!(!units[0].whole_function);
        assert_eq!(units[0].first_line, 3);
        assert_eq!(units[0].function, "f");
        assert!(units[0].text.starts_with("{\n\ti_mmap_lock_write"));
    }

    #[test]
    fn hunk_headers_name_their_function() {
        let cases = [
            ("@@ -1,2 +1,3 @@ static int foo(struct x *y)", "foo"),
            ("@@ -1,2 +1,3 @@", ""),
            ("@@ -1 +1 @@ struct x {", ""),
        ];
        for (header, expected) in cases {
            assert_eq!(hunk_function(header), expected, "{header}");
        }
    }
}
