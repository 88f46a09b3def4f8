//! Context without tool turns: for each hunk, the enclosing function in the
//! post-patch file, found by a small C scanner, within a character budget
//! with priorities (functions containing changed lines first, smaller
//! first). Pure: the caller supplies file contents.
//!
//! The scanner is deliberately simple: a function starts at a line in
//! column 0 that is not a comment or preprocessor line and is followed by a
//! `{` in column 0; it ends at the next `}` in column 0. That is how kernel
//! style lays functions out, and when it fails the cost is only a missing
//! snippet.

use serde::Serialize;

use crate::anchor::{diff_lines, parse_hunk_header, LineKind};

/// A piece of source given to the model next to the patch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ContextSnippet {
    pub file: String,
    /// First line number of `text` in the post-patch file.
    pub first_line: u32,
    /// What it is, e.g. "enclosing function f()".
    pub label: String,
    pub text: String,
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
fn function_name(header: &str) -> Option<String> {
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

/// Post-patch line numbers of added lines (or of the hunk position for a
/// pure deletion) of `file` in `diff`.
pub fn changed_lines(diff: &str, file: &str) -> Vec<u32> {
    let mut out: Vec<u32> = diff_lines(diff)
        .into_iter()
        .filter(|line| line.file == file)
        .filter_map(|line| match line.kind {
            LineKind::Added => line.new_line,
            LineKind::Header if line.text.starts_with("@@ ") => {
                parse_hunk_header(line.text).map(|span| span.start)
            }
            _ => None,
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Enclosing functions of the changed lines of `file`, cheapest first,
/// until `budget_chars` is used up. Returns the snippets and a note for
/// each function left out.
pub fn enclosing_functions(
    file: &str,
    source: &str,
    diff: &str,
    budget_chars: &mut usize,
) -> (Vec<ContextSnippet>, Vec<String>) {
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
    let mut snippets = Vec::new();
    let mut left_out = Vec::new();
    for span in wanted {
        let start = usize::try_from(span.start - 1).unwrap_or(0);
        let end = usize::try_from(span.end).unwrap_or(0).min(lines.len());
        let text = lines[start..end].join("\n");
        if text.len() > *budget_chars {
            left_out.push(format!(
                "{file}: {}() ({} lines) left out: context budget used up",
                span.name,
                span.end - span.start + 1
            ));
            continue;
        }
        *budget_chars -= text.len();
        snippets.push(ContextSnippet {
            file: file.to_owned(),
            first_line: span.start,
            label: format!("enclosing function {}() after the patch", span.name),
            text,
        });
    }
    (snippets, left_out)
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
    fn enclosing_functions_follow_changed_lines_and_budget() {
        let diff =
            "--- a/d.c\n+++ b/d.c\n@@ -18,2 +18,3 @@\n \n+\tret = helper(d, 0);\n \treturn ret;\n";
        let mut budget = 10_000;
        let (snippets, left_out) = enclosing_functions("d.c", SOURCE, diff, &mut budget);
        assert_eq!(snippets.len(), 1);
        assert_eq!(snippets[0].first_line, 15);
        assert!(snippets[0].text.starts_with("int probe(struct dev *d)\n{"));
        assert!(left_out.is_empty());
        let mut tiny = 10;
        let (none, left_out) = enclosing_functions("d.c", SOURCE, diff, &mut tiny);
        assert!(none.is_empty());
        assert_eq!(left_out.len(), 1);
    }
}
