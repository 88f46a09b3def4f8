//! Context without tool turns: for each hunk, the enclosing function in the
//! post-patch file, the definitions of the types, functions and macros the
//! changed lines use, and the callers of changed functions, found by small
//! C scanners ([`crate::cscan`]). Every snippet carries a kind (which the
//! stage manifest selects per stage) and a priority (which the token budget
//! uses to decide what to leave out). Pure: the caller supplies file
//! contents and decides which files to read.
//!
//! The scanner is deliberately simple: a function starts at a line in
//! column 0 that is not a comment or preprocessor line and is followed by a
//! `{` in column 0; it ends at the next `}` in column 0. That is how kernel
//! style lays functions out, and when it fails the cost is only a missing
//! snippet.

use serde::Serialize;

use crate::anchor::{diff_lines, LineKind, PatchLines};

/// What a snippet is, as `context = [...]` in the stage manifest names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContextKind {
    /// The function around a changed line (`enclosing`).
    Enclosing,
    /// A type, function or macro a changed line uses (`definitions`).
    Definition,
    /// A function that calls a changed function (`callers`).
    Caller,
    /// What changed since the earlier reviewed version of the series, as
    /// an interdiff of the two end states (`interdiff`); not source lines,
    /// so it is shown as diff text, unnumbered.
    Interdiff,
    /// What the tree's own analyzers (checkpatch.pl, Coccinelle) reported
    /// on the series (`analyzers`): tool output, shown unnumbered.
    Analyzers,
}

impl ContextKind {
    /// The manifest's name for this kind.
    pub fn manifest_name(self) -> &'static str {
        match self {
            ContextKind::Enclosing => "enclosing",
            ContextKind::Definition => "definitions",
            ContextKind::Caller => "callers",
            ContextKind::Interdiff => "interdiff",
            ContextKind::Analyzers => "analyzers",
        }
    }

    pub fn from_manifest_name(name: &str) -> Option<ContextKind> {
        [
            ContextKind::Enclosing,
            ContextKind::Definition,
            ContextKind::Caller,
            ContextKind::Interdiff,
            ContextKind::Analyzers,
        ]
        .into_iter()
        .find(|kind| kind.manifest_name() == name)
    }
}

/// Priorities of snippets (higher is kept longer when the budget is short).
pub mod priority {
    /// The interdiff to the earlier version: what a v(n+1) review is about.
    pub const INTERDIFF: u32 = 70;
    /// The tree's analyzers' reports: short, and what the stages confirm.
    pub const ANALYZERS: u32 = 65;
    pub const ENCLOSING: u32 = 60;
    pub const DEFINITION_IN_TOUCHED_FILE: u32 = 50;
    pub const DEFINITION_IN_INCLUDED_HEADER: u32 = 45;
    pub const CALLER_IN_TOUCHED_FILE: u32 = 40;
    pub const DEFINITION_ELSEWHERE: u32 = 35;
    pub const CALLER_ELSEWHERE: u32 = 30;
}

/// A piece of source given to the model next to the patch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContextSnippet {
    pub file: String,
    /// First line number of `text` in the post-patch file.
    pub first_line: u32,
    /// What it is, e.g. "enclosing function f()".
    pub label: String,
    pub text: String,
    pub kind: ContextKind,
    /// See [`priority`]; higher is kept longer.
    pub priority: u32,
}

impl ContextSnippet {
    /// The last line number of `text` in its file.
    pub fn last_line(&self) -> u32 {
        let lines = u32::try_from(self.text.lines().count()).unwrap_or(u32::MAX);
        self.first_line + lines.max(1) - 1
    }
}

/// A function's span (1-based, inclusive) and name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionSpan {
    pub start: u32,
    pub end: u32,
    pub name: String,
}

/// Every top-level function definition in a C file.
pub fn functions(source: &str) -> Vec<FunctionSpan> {
    let lines: Vec<&str> = source.lines().collect();
    let mut spans = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        if lines[index].starts_with('{') {
            let header_start = header_start(&lines, index);
            let Some(end) = (index + 1..lines.len()).find(|&i| lines[i].starts_with('}')) else {
                break;
            };
            if let Some(start) = header_start {
                let header: String = lines[start..index].join(" ");
                if let Some(name) = function_name(&header) {
                    spans.push(FunctionSpan {
                        start: line_number(start),
                        end: line_number(end),
                        name,
                    });
                }
            }
            index = end + 1;
        } else {
            index += 1;
        }
    }
    spans
}

fn line_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

/// The first line of the declaration that ends just above `brace`.
fn header_start(lines: &[&str], brace: usize) -> Option<usize> {
    let mut start = brace;
    while start > 0 {
        let previous = lines[start - 1];
        let ends_statement =
            previous.trim_end().ends_with(';') || previous.trim_end().ends_with('}');
        if previous.trim().is_empty()
            || previous.starts_with('#')
            || previous.trim_start().starts_with("/*")
            || previous.trim_start().starts_with('*')
            || previous.trim_end().ends_with("*/")
            || ends_statement
        {
            break;
        }
        start -= 1;
        if brace - start > 8 {
            return None;
        }
    }
    (start < brace).then_some(start)
}

/// `static int foo(struct bar *b)` -> `foo`; not for `struct x =`.
pub(crate) fn function_name(header: &str) -> Option<String> {
    if header.contains('=') {
        return None;
    }
    let open = header.find('(')?;
    let before = header[..open].trim_end();
    let name: String = before
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    (!name.is_empty() && !name.chars().next().is_some_and(|c| c.is_ascii_digit())).then_some(name)
}

/// The function a line of a diff is in, as far as the diff shows it: the
/// nearest function header above it in its hunk (a line opening at column
/// 0 followed by a `{` line at column 0), else the function git names in
/// the hunk header, unless a `}` at column 0 closes a function between
/// them. Removed lines count as much as the others.
pub fn diff_function_at(lines: &[crate::anchor::DiffLine<'_>], at: usize) -> Option<String> {
    let mut index = at;
    loop {
        let line = lines.get(index)?;
        if let Some(hunk) = line.text.strip_prefix("@@ ") {
            // `@@ -a,b +c,d @@ int foo(void)`: git's function context.
            let header = hunk.split_once("@@").map(|(_, rest)| rest.trim())?;
            return function_name(header);
        }
        if line.kind == LineKind::Header {
            return None;
        }
        let content = line.content();
        if content.starts_with('}') && index != at {
            return None;
        }
        if content.starts_with('{') && index > 0 {
            let header: Vec<&str> = lines[..index]
                .iter()
                .rev()
                .take_while(|above| {
                    above.kind != LineKind::Header && !above.content().trim().is_empty()
                })
                .filter(|above| above.kind != LineKind::Removed)
                .map(|above| above.content())
                .collect();
            if !header.is_empty() {
                let header: Vec<&str> = header.into_iter().rev().collect();
                return function_name(&header.join(" "));
            }
            // The header is above the hunk: git names it there.
        }
        index = index.checked_sub(1)?;
    }
}

/// The functions of `file` whose lines `diff` adds or removes.
pub fn diff_changed_functions(diff: &str, file: &str) -> std::collections::BTreeSet<String> {
    let lines = diff_lines(diff);
    lines
        .iter()
        .enumerate()
        .filter(|(_, line)| {
            line.file == file && matches!(line.kind, LineKind::Added | LineKind::Removed)
        })
        .filter_map(|(at, _)| diff_function_at(&lines, at))
        .collect()
}

/// The function holding post-patch line `line` of `file` in `diff`.
pub fn diff_function_of(diff: &str, file: &str, line: u32) -> Option<String> {
    let lines = diff_lines(diff);
    let at = lines
        .iter()
        .position(|l| l.file == file && l.new_line == Some(line))?;
    diff_function_at(&lines, at)
}

/// Post-patch line numbers of added lines (or of the hunk position for a
/// pure deletion) of `file` in `diff`.
pub fn changed_lines(diff: &str, file: &str) -> Vec<u32> {
    let mut out: Vec<u32> = diff_lines(diff)
        .into_iter()
        .filter(|line| line.file == file)
        .filter_map(|line| match line.kind {
            LineKind::Added => line.new_line,
            LineKind::Header => line.hunk_start,
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Enclosing functions of the changed lines of `file`, smallest first.
pub fn enclosing_functions(file: &str, source: &str, diff: &str) -> Vec<ContextSnippet> {
    let changed = changed_lines(diff, file);
    let lines: Vec<&str> = source.lines().collect();
    let mut wanted: Vec<FunctionSpan> = functions(source)
        .into_iter()
        .filter(|span| {
            changed
                .iter()
                .any(|line| (span.start..=span.end).contains(line))
        })
        .collect();
    wanted.sort_by_key(|span| span.end - span.start);
    wanted
        .into_iter()
        .map(|span| ContextSnippet {
            file: file.to_owned(),
            first_line: span.start,
            label: format!("enclosing function {}() after the patch", span.name),
            text: slice_lines(&lines, span.start, span.end),
            kind: ContextKind::Enclosing,
            priority: priority::ENCLOSING,
        })
        .collect()
}

/// Every file a series changes (post-patch paths, and the pre-patch paths
/// of renames), sorted.
pub fn series_files(series: &crate::series::ReviewSeries) -> std::collections::BTreeSet<String> {
    series
        .patches
        .iter()
        .flat_map(|patch| {
            PatchLines::from_diff(&patch.diff)
                .files()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Lines `start..=end` (1-based) of `lines`, joined.
pub fn slice_lines(lines: &[&str], start: u32, end: u32) -> String {
    let from = usize::try_from(start.max(1) - 1)
        .unwrap_or(0)
        .min(lines.len());
    let to = usize::try_from(end).unwrap_or(0).clamp(from, lines.len());
    lines[from..to].join("\n")
}

/// A series of one patch with `diff` and `commit_message` (tests).
#[cfg(test)]
pub(crate) fn one_patch_series(diff: &str, commit_message: &str) -> crate::series::ReviewSeries {
    crate::series::ReviewSeries {
        title: "t".into(),
        version: 1,
        cover_letter: None,
        patches: vec![crate::series::ReviewPatch {
            index: 1,
            subject: "subject".into(),
            author: "a".into(),
            message_id: None,
            commit_id: None,
            commit_message: commit_message.into(),
            diff: diff.into(),
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "#include <x.h>\n\nstatic int table[4] = {\n\t1,\n};\n\n/* helper */\nstatic int\nhelper(struct dev *d,\n       int flags)\n{\n\treturn d->x + flags;\n}\n\nint probe(struct dev *d)\n{\n\tint ret;\n\n\tret = helper(d, 0);\n\treturn ret;\n}\n";

    #[test]
    fn functions_are_found_with_multi_line_headers() {
        let found: Vec<(u32, u32, String)> = functions(SOURCE)
            .into_iter()
            .map(|f| (f.start, f.end, f.name))
            .collect();
        assert_eq!(
            found,
            vec![(8, 13, "helper".into()), (15, 21, "probe".into())]
        );
    }

    #[test]
    fn enclosing_functions_follow_changed_lines() {
        let diff =
            "--- a/d.c\n+++ b/d.c\n@@ -18,2 +18,3 @@\n \n+\tret = helper(d, 0);\n \treturn ret;\n";
        let snippets = enclosing_functions("d.c", SOURCE, diff);
        assert_eq!(snippets.len(), 1);
        assert_eq!((snippets[0].first_line, snippets[0].last_line()), (15, 21));
        assert!(snippets[0].text.starts_with("int probe(struct dev *d)\n{"));
        assert_eq!(snippets[0].kind, ContextKind::Enclosing);
        assert!(enclosing_functions("other.c", SOURCE, diff).is_empty());
    }
}
