//! The hierarchy parser: reads the "Lock ordering" block comment at the top
//! of mm/rmap.c or mm/filemap.c into edges outer -> inner.
//!
//! The comment is an indented tree: a lock is taken inside the nearest
//! less-indented lock above it. A note in parentheses (possibly over
//! several lines) or after "in"/"within" says where; `a,b` lists several
//! locks at one place; a blank line ends a tree; text above the line that
//! says "Lock ordering" is ignored, and a later line ending in `:` opens a
//! section that applies only to some code (e.g. hugetlbfs). Lines it cannot read become diagnostics and the rest is
//! still parsed. Pure: the caller supplies the file's text.

use std::fmt;

use super::table::LockTable;

/// One documented ordering: `outer` is taken before (outside) `inner`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HierarchyEdge {
    pub outer: String,
    pub inner: String,
    /// The note on the outer lock's line ("" when none).
    pub outer_note: String,
    /// The note on the inner lock's line: where it is taken inside `outer`.
    pub inner_note: String,
    /// File the comment is in and the line of the inner entry.
    pub file: String,
    pub line: u32,
    /// The section header when the edge is in a section that applies only
    /// to some code (e.g. "hugetlbfs PageHuge() take locks in this order").
    pub scope: Option<String>,
}

impl HierarchyEdge {
    /// `a -> b (note)` with the source position.
    pub fn describe(&self) -> String {
        let mut out = format!("{} -> {}", self.outer, self.inner);
        let notes: Vec<&str> = [self.outer_note.as_str(), self.inner_note.as_str()]
            .into_iter()
            .filter(|note| !note.is_empty())
            .collect();
        if !notes.is_empty() {
            out.push_str(&format!(" ({})", notes.join("; ")));
        }
        if let Some(scope) = &self.scope {
            out.push_str(&format!(" [only: {scope}]"));
        }
        out.push_str(&format!("  {}:{}", self.file, self.line));
        out
    }
}

/// A line of the comment that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HierarchyDiagnostic {
    pub file: String,
    pub line: u32,
    pub message: String,
}

impl fmt::Display for HierarchyDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// An entry of the tree being built: its indentation, locks and note.
struct Entry {
    indent: usize,
    names: Vec<String>,
    note: String,
    /// Edges this entry's line created (their `inner_note` follows a
    /// continued note).
    edges: std::ops::Range<usize>,
}

/// Parse the first "Lock ordering" block comment of `source` (the text of
/// `file`), canonicalising lock names with `table`.
pub fn parse_hierarchy(
    file: &str,
    source: &str,
    table: &LockTable,
) -> (Vec<HierarchyEdge>, Vec<HierarchyDiagnostic>) {
    let mut parser = Parser {
        file,
        table,
        edges: Vec::new(),
        diagnostics: Vec::new(),
        stack: Vec::new(),
        scope: None,
        seen_title: false,
        open_parens: 0,
    };
    let Some(block) = ordering_comment(source) else {
        parser.diagnostic(1, "no \"Lock ordering\" comment found".to_owned());
        return (parser.edges, parser.diagnostics);
    };
    for (line_number, text) in block {
        parser.line(line_number, &text);
    }
    (parser.edges, parser.diagnostics)
}

/// The body lines (1-based number, text after the ` * ` prefix) of the
/// first block comment mentioning "lock ordering".
fn ordering_comment(source: &str) -> Option<Vec<(u32, String)>> {
    let mut current: Option<Vec<(u32, String)>> = None;
    for (index, raw) in source.lines().enumerate() {
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let mut text = raw.trim_start();
        match &mut current {
            None => {
                let Some(rest) = text.strip_prefix("/*") else {
                    continue;
                };
                if rest.contains("*/") {
                    continue;
                }
                current = Some(vec![(number, rest.trim_start_matches('*').to_owned())]);
            }
            Some(lines) => {
                let closes = text.contains("*/");
                if let Some(before) = text.split("*/").next() {
                    text = before;
                }
                let body = text.strip_prefix('*').unwrap_or(text);
                lines.push((number, body.trim_end().to_owned()));
                if closes {
                    let block = current.take().unwrap_or_default();
                    if block
                        .iter()
                        .any(|(_, line)| line.to_lowercase().contains("lock ordering"))
                    {
                        return Some(block);
                    }
                }
            }
        }
    }
    None
}

struct Parser<'a> {
    file: &'a str,
    table: &'a LockTable,
    edges: Vec<HierarchyEdge>,
    diagnostics: Vec<HierarchyDiagnostic>,
    stack: Vec<Entry>,
    scope: Option<String>,
    seen_title: bool,
    /// Unclosed `(` of a note continued on the next line.
    open_parens: i32,
}

impl Parser<'_> {
    fn diagnostic(&mut self, line: u32, message: String) {
        self.diagnostics.push(HierarchyDiagnostic {
            file: self.file.to_owned(),
            line,
            message,
        });
    }

    fn line(&mut self, number: u32, text: &str) {
        let indent = indentation(text);
        let content = text.trim();
        if self.open_parens > 0 {
            self.continue_note(content);
            return;
        }
        if !self.seen_title {
            // Text above the "Lock ordering" title is not part of the tree.
            self.seen_title = content.to_lowercase().contains("lock ordering");
            return;
        }
        if content.is_empty() {
            self.stack.clear();
            return;
        }
        if let Some(header) = content.strip_suffix(':') {
            self.stack.clear();
            self.scope = Some(header.trim().to_owned());
            return;
        }
        if content.starts_with('(') {
            if self.stack.is_empty() {
                self.diagnostic(
                    number,
                    format!("a note with no lock before it: {content:?}"),
                );
            } else {
                self.continue_note(content);
            }
            return;
        }
        let (name_part, note) = split_note(content);
        self.open_parens = paren_balance(&note);
        let mut names = Vec::new();
        let mut unreadable = Vec::new();
        for spelling in name_part.split(',').map(str::trim) {
            if looks_like_lock(spelling) {
                names.push(self.table.canonical(spelling));
            } else {
                unreadable.push(spelling);
            }
        }
        if !unreadable.is_empty() {
            self.diagnostic(
                number,
                format!(
                    "cannot read {:?} as a lock name; line skipped, locks under it start a new tree",
                    unreadable.join(",")
                ),
            );
            names.clear();
        }
        while self.stack.last().is_some_and(|top| top.indent >= indent) {
            self.stack.pop();
        }
        let first_edge = self.edges.len();
        if let Some(parent) = self.stack.last() {
            for outer in &parent.names {
                for inner in &names {
                    self.edges.push(HierarchyEdge {
                        outer: outer.clone(),
                        inner: inner.clone(),
                        outer_note: parent.note.clone(),
                        inner_note: clean_note(&note),
                        file: self.file.to_owned(),
                        line: number,
                        scope: self.scope.clone(),
                    });
                }
            }
        }
        let edges = first_edge..self.edges.len();
        self.stack.push(Entry {
            indent,
            names,
            note: clean_note(&note),
            edges,
        });
    }

    /// A note continued from the line above (or a note on its own line).
    fn continue_note(&mut self, content: &str) {
        self.open_parens = (self.open_parens + paren_balance(content)).max(0);
        let Some(entry) = self.stack.last_mut() else {
            return;
        };
        let joined = if entry.note.is_empty() {
            clean_note(content)
        } else {
            format!("{} {}", entry.note, clean_note(content))
        };
        entry.note = joined;
        for edge in &mut self.edges[entry.edges.clone()] {
            edge.inner_note = entry.note.clone();
        }
    }
}

/// Columns of leading blanks, tabs to the next multiple of eight.
fn indentation(text: &str) -> usize {
    let mut column = 0;
    for c in text.chars() {
        match c {
            ' ' => column += 1,
            '\t' => column = (column / 8 + 1) * 8,
            _ => break,
        }
    }
    column
}

/// `name (note)` or `name in note` -> (name, note with its parentheses).
fn split_note(content: &str) -> (&str, String) {
    if let Some(open) = content.find('(') {
        // `vma_lock(hugetlb)`-style names keep no parentheses: the note
        // starts at the first one either way.
        return (content[..open].trim(), content[open..].to_owned());
    }
    for word in [" in ", " within "] {
        if let Some(at) = content.find(word) {
            return (content[..at].trim(), content[at + 1..].to_owned());
        }
    }
    (content.trim(), String::new())
}

fn paren_balance(text: &str) -> i32 {
    text.chars().fold(0, |depth, c| match c {
        '(' => depth + 1,
        ')' => depth - 1,
        _ => depth,
    })
}

/// Outer parentheses dropped, blanks collapsed.
fn clean_note(note: &str) -> String {
    let words: Vec<&str> = note.split_whitespace().collect();
    let joined = words.join(" ");
    let trimmed = joined.strip_prefix('(').unwrap_or(&joined);
    let trimmed = trimmed.strip_suffix(')').unwrap_or(trimmed);
    trimmed.trim().to_owned()
}

/// A lock name is a few words of identifier characters, `->`, `.`, `|`.
fn looks_like_lock(spelling: &str) -> bool {
    let words = spelling.split_whitespace().count();
    let starts_well = spelling
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '-');
    starts_well
        && (1..=4).contains(&words)
        && spelling
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _->.|".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> LockTable {
        LockTable::from_toml(include_str!("../../../../prompts/checks/lock_order.toml"))
            .expect("the shipped table parses")
    }

    /// (comment, expected edges as "outer>inner@line", expected diagnostics
    /// as "line: fragment")
    fn check(comment: &str, edges: &[&str], diagnostics: &[&str]) {
        let (got, diags) = parse_hierarchy("mm/x.c", comment, &table());
        let got: Vec<String> = got
            .iter()
            .map(|e| format!("{}>{}@{}", e.outer, e.inner, e.line))
            .collect();
        assert_eq!(got, edges, "{comment}");
        assert_eq!(diags.len(), diagnostics.len(), "{comment}: {diags:?}");
        for (diag, expected) in diags.iter().zip(diagnostics) {
            let (line, fragment) = expected.split_once(": ").expect("line: fragment");
            assert_eq!(diag.line.to_string(), line, "{diag}");
            assert!(diag.message.contains(fragment), "{diag}");
        }
    }

    #[test]
    fn trees_notes_and_diagnostics() {
        check(
            "/*\n * Lock ordering:\n *\n *  a_lock\n *    b_lock (in f)\n *      c_lock\n *    d_lock\n */\n",
            &["a_lock>b_lock@5", "b_lock>c_lock@6", "a_lock>d_lock@7"],
            &[],
        );
        check(
            "/*\n * Lock ordering:\n *  a_lock\n *    b_lock\n *\n *  b_lock\n *    c_lock\n */\n",
            &["a_lock>b_lock@4", "b_lock>c_lock@7"],
            &[],
        );
        check(
            "/*\n * Lock ordering:\n * a_lock,b_lock   (both in g)\n *   ->c_lock\n */\n",
            &["a_lock>c_lock@4", "b_lock>c_lock@4"],
            &[],
        );
        check(
            "/*\n * Lock ordering:\n *\ta_lock\n *\t\tb_lock (note that goes on\n *\t\t\tto the next line)\n *\t\tc_lock\n */\n",
            &["a_lock>b_lock@4", "a_lock>c_lock@6"],
            &[],
        );
        check(
            "/*\n * Lock ordering:\n *  a_lock\n *    see the section about it below\n *      b_lock\n *    c_lock = 3\n *  d_lock\n *    e_lock\n */\n",
            &["d_lock>e_lock@8"],
            &["4: cannot read", "6: cannot read"],
        );
        check(
            "/* nothing */\nint x;\n",
            &[],
            &["1: no \"Lock ordering\" comment"],
        );
        check(
            "/*\n * Lock ordering:\n * (a stray note)\n *  a_lock\n */\n",
            &[],
            &["3: a note with no lock"],
        );
    }

    #[test]
    fn notes_and_scopes_are_kept() {
        let comment = "/*\n * Lock ordering:\n *  ->i_mmap_rwsem\t\t(truncate path)\n *    ->private_lock\t(block_dirty_folio,\n *\t\t\t\tand others)\n *\n * hugetlbfs pages take locks in this order:\n *   vma_lock\n *     mapping->i_mmap_rwsem in huge_pmd_share\n */\n";
        let (edges, diagnostics) = parse_hierarchy("mm/filemap.c", comment, &table());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert_eq!(edges.len(), 2);
        assert_eq!(edges[0].outer, "mapping->i_mmap_rwsem");
        assert_eq!(edges[0].inner, "mapping->private_lock");
        assert_eq!(edges[0].outer_note, "truncate path");
        assert_eq!(edges[0].inner_note, "block_dirty_folio, and others");
        assert_eq!(edges[0].scope, None);
        assert_eq!(edges[1].outer, "vma_lock(hugetlb)");
        assert_eq!(edges[1].inner_note, "in huge_pmd_share");
        assert_eq!(
            edges[1].scope.as_deref(),
            Some("hugetlbfs pages take locks in this order")
        );
        assert_eq!(
            edges[0].describe(),
            "mapping->i_mmap_rwsem -> mapping->private_lock (truncate path; block_dirty_folio, and others)  mm/filemap.c:4"
        );
    }
}
