//! Unified diffs as `git format-patch` and `diff -u` write them: files,
//! renames, copies, mode changes, binary patches and hunks with line numbers.
//!
//! [`parse`] never fails: text that does not follow the format is skipped
//! with a diagnostic, and everything around it is still returned. Line
//! numbers are kept for both sides so a reviewer can anchor a finding to a
//! line of the patch. This module must never touch a repository; it reads
//! only the text it is given.

use serde::Serialize;

use crate::diagnostic::{Diagnostic, DiagnosticKind};

mod paths;

use paths::{diff_path, split_git_paths, unquote};

/// What a file diff does to its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileChange {
    Modified,
    Added,
    Deleted,
    Renamed,
    Copied,
}

/// The diff of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDiff {
    /// Path before the change, without the `a/` prefix; `None` for a new file.
    pub old_path: Option<String>,
    /// Path after the change, without the `b/` prefix; `None` for a deleted file.
    pub new_path: Option<String>,
    pub change: FileChange,
    pub old_mode: Option<String>,
    pub new_mode: Option<String>,
    /// `similarity index` of a rename or copy, in percent.
    pub similarity: Option<u32>,
    /// A `GIT binary patch` or `Binary files ... differ`: no hunks.
    pub is_binary: bool,
    pub hunks: Vec<Hunk>,
    /// 0-based line of the diff text where this file's header starts.
    pub header_line: usize,
}

impl FileDiff {
    /// The path a reviewer should name: the new one, or the old one for a deletion.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }
}

/// One `@@ -a,b +c,d @@` hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hunk {
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    /// Text after the closing `@@` (usually the enclosing function).
    pub section: String,
    pub lines: Vec<DiffLine>,
    /// 0-based line of the diff text holding the `@@` header.
    pub header_line: usize,
}

/// The role of a line inside a hunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineKind {
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`, about the line before it.
    NoNewline,
}

/// One line of a hunk with its numbers on each side.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    pub kind: LineKind,
    /// The line without its leading ` `, `+` or `-`.
    pub text: String,
    /// Line number in the old file (context and removed lines).
    pub old_line: Option<u32>,
    /// Line number in the new file (context and added lines).
    pub new_line: Option<u32>,
}

/// Parses every file diff in `text` (which may hold prose around the diff).
pub fn parse(text: &str) -> (Vec<FileDiff>, Vec<Diagnostic>) {
    let mut parser = Parser {
        lines: text.lines().collect(),
        position: 0,
        files: Vec::new(),
        diagnostics: Vec::new(),
    };
    parser.run();
    (parser.files, parser.diagnostics)
}

/// Whether `text` holds something [`parse`] would turn into a file diff.
pub fn contains_diff(text: &str) -> bool {
    first_diff_line(text).is_some()
}

/// Byte offset of the line where the first file diff starts, if any.
pub fn first_diff_line(text: &str) -> Option<usize> {
    // Substring searches instead of a walk over every line: bodies are
    // mostly diff, and this runs on every mail.
    let mut first = ["diff --git ", "GIT binary patch"]
        .iter()
        .filter_map(|marker| line_starts(text, marker).next())
        .min();
    for plus in line_starts(text, "+++ ") {
        if first.is_some_and(|found| plus > found) || plus == 0 {
            break;
        }
        let previous = text[..plus - 1]
            .rfind('\n')
            .map_or(0, |newline| newline + 1);
        if text[previous..].starts_with("--- ") {
            first = Some(first.map_or(previous, |found| found.min(previous)));
            break;
        }
    }
    first
}

/// Byte offsets of the lines of `text` that start with `marker`, in order.
pub(crate) fn line_starts<'t>(text: &'t str, marker: &'t str) -> impl Iterator<Item = usize> + 't {
    memchr::memmem::find_iter(text.as_bytes(), marker.as_bytes())
        .filter(move |&at| at == 0 || text.as_bytes()[at - 1] == b'\n')
}

struct Parser<'t> {
    lines: Vec<&'t str>,
    position: usize,
    files: Vec<FileDiff>,
    diagnostics: Vec<Diagnostic>,
}

fn new_file(header_line: usize) -> FileDiff {
    FileDiff {
        old_path: None,
        new_path: None,
        change: FileChange::Modified,
        old_mode: None,
        new_mode: None,
        similarity: None,
        is_binary: false,
        hunks: Vec::new(),
        header_line,
    }
}

impl<'t> Parser<'t> {
    fn current(&self) -> Option<&'t str> {
        self.lines.get(self.position).copied()
    }

    fn run(&mut self) {
        while let Some(line) = self.current() {
            if let Some(rest) = line.strip_prefix("diff --git ") {
                let mut file = new_file(self.position);
                let (old, new) = split_git_paths(rest);
                file.old_path = old;
                file.new_path = new;
                self.position += 1;
                self.read_extended_headers(&mut file);
                self.read_file_body(file);
            } else if line.starts_with("--- ")
                && self
                    .lines
                    .get(self.position + 1)
                    .is_some_and(|next| next.starts_with("+++ "))
            {
                let file = new_file(self.position);
                self.read_file_body(file);
            } else {
                self.position += 1;
            }
        }
    }

    fn read_extended_headers(&mut self, file: &mut FileDiff) {
        while let Some(line) = self.current() {
            if let Some(mode) = line.strip_prefix("old mode ") {
                file.old_mode = Some(mode.trim().to_owned());
            } else if let Some(mode) = line.strip_prefix("new mode ") {
                file.new_mode = Some(mode.trim().to_owned());
            } else if let Some(mode) = line.strip_prefix("deleted file mode ") {
                file.old_mode = Some(mode.trim().to_owned());
                file.change = FileChange::Deleted;
                file.new_path = None;
            } else if let Some(mode) = line.strip_prefix("new file mode ") {
                file.new_mode = Some(mode.trim().to_owned());
                file.change = FileChange::Added;
                file.old_path = None;
            } else if let Some(value) = line
                .strip_prefix("similarity index ")
                .or_else(|| line.strip_prefix("dissimilarity index "))
            {
                file.similarity = value.trim().trim_end_matches('%').parse().ok();
            } else if let Some(path) = line.strip_prefix("rename from ") {
                file.old_path = Some(unquote(path));
                file.change = FileChange::Renamed;
            } else if let Some(path) = line.strip_prefix("rename to ") {
                file.new_path = Some(unquote(path));
                file.change = FileChange::Renamed;
            } else if let Some(path) = line.strip_prefix("copy from ") {
                file.old_path = Some(unquote(path));
                file.change = FileChange::Copied;
            } else if let Some(path) = line.strip_prefix("copy to ") {
                file.new_path = Some(unquote(path));
                file.change = FileChange::Copied;
            } else if line.starts_with("index ") {
                // Blob ids; patch-id reads them, the file model does not need them.
            } else {
                return;
            }
            self.position += 1;
        }
    }

    /// Reads `---`/`+++`, binary markers and hunks of one file, then stores it.
    fn read_file_body(&mut self, mut file: FileDiff) {
        // After a hunk that ended early, prose may sit between hunks: skip it
        // up to the next hunk of this file rather than losing the rest.
        let mut resync = false;
        while let Some(line) = self.current() {
            if line.starts_with("GIT binary patch") {
                file.is_binary = true;
                self.position += 1;
                self.skip_binary_data();
            } else if line.starts_with("Binary files ") {
                file.is_binary = true;
                self.position += 1;
            } else if let Some(path) = line.strip_prefix("--- ") {
                if file.change != FileChange::Added {
                    file.old_path = diff_path(path).or(file.old_path.take());
                }
                if path.trim() == "/dev/null" {
                    file.change = FileChange::Added;
                    file.old_path = None;
                }
                self.position += 1;
            } else if let Some(path) = line.strip_prefix("+++ ") {
                if file.change != FileChange::Deleted {
                    file.new_path = diff_path(path).or(file.new_path.take());
                }
                if path.trim() == "/dev/null" {
                    file.change = FileChange::Deleted;
                    file.new_path = None;
                }
                self.position += 1;
            } else if line.starts_with("@@ ") {
                match parse_hunk_header(line) {
                    Some(header) => {
                        let diagnostics_before = self.diagnostics.len();
                        let hunk = self.read_hunk(header);
                        file.hunks.push(hunk);
                        resync = self.diagnostics.len() > diagnostics_before;
                    }
                    None => {
                        self.diagnostics.push(Diagnostic::warning(
                            DiagnosticKind::MalformedDiff,
                            format!(
                                "unreadable hunk header {line:?} in {}, skipped",
                                file.path()
                            ),
                        ));
                        self.position += 1;
                    }
                }
            } else if resync && !line.starts_with("diff ") && self.hunk_follows() {
                self.position += 1;
            } else if !file.hunks.is_empty()
                && !line.starts_with("diff ")
                && !line.starts_with("--- ")
                && self.hunk_follows()
            {
                // A hunk whose header counts fewer lines than it has (a
                // hand-edited patch): say so and go on with the next hunk
                // of this file rather than losing it.
                self.diagnostics.push(Diagnostic::warning(
                    DiagnosticKind::MalformedDiff,
                    format!(
                        "diff line {} follows a complete hunk of {} but is no hunk or file header; skipped up to the next hunk",
                        self.position + 1,
                        file.path()
                    ),
                ));
                resync = true;
                self.position += 1;
            } else {
                break;
            }
        }
        self.files.push(file);
    }

    /// Whether another hunk header comes before the next file header.
    fn hunk_follows(&self) -> bool {
        self.lines[self.position..]
            .iter()
            .take_while(|line| !line.starts_with("diff "))
            .any(|line| line.starts_with("@@ -"))
    }

    fn skip_binary_data(&mut self) {
        // Forward and reverse sections ("literal N"/"delta N" then base85
        // lines), each ended by an empty line.
        while let Some(line) = self.current() {
            if line.starts_with("diff --git ") {
                return;
            }
            let is_binary_line = line.is_empty()
                || line.starts_with("literal ")
                || line.starts_with("delta ")
                || line.bytes().next().is_some_and(|b| b.is_ascii_alphabetic());
            if !is_binary_line {
                return;
            }
            self.position += 1;
        }
    }

    fn read_hunk(&mut self, header: HunkHeader) -> Hunk {
        let mut hunk = Hunk {
            old_start: header.old_start,
            old_lines: header.old_lines,
            new_start: header.new_start,
            new_lines: header.new_lines,
            section: header.section,
            lines: Vec::new(),
            header_line: self.position,
        };
        self.position += 1;
        let mut old_left = hunk.old_lines;
        let mut new_left = hunk.new_lines;
        let mut old_line = hunk.old_start;
        let mut new_line = hunk.new_start;
        while let Some(line) = self.current() {
            if old_left == 0 && new_left == 0 {
                if let Some(text) = line.strip_prefix('\\') {
                    hunk.lines
                        .push(diff_line(LineKind::NoNewline, text, None, None));
                    self.position += 1;
                }
                break;
            }
            let (kind, text) = match line.as_bytes().first() {
                Some(b' ') => (LineKind::Context, &line[1..]),
                // Mailers strip the trailing space of an empty context line.
                None => (LineKind::Context, ""),
                Some(b'-') if old_left > 0 => (LineKind::Removed, &line[1..]),
                Some(b'+') if new_left > 0 => (LineKind::Added, &line[1..]),
                Some(b'\\') => (LineKind::NoNewline, &line[1..]),
                _ => {
                    self.diagnostics.push(Diagnostic::warning(
                        DiagnosticKind::MalformedDiff,
                        format!(
                            "hunk at diff line {} ends early: {old_left} old and {new_left} new lines missing before {line:?}",
                            hunk.header_line + 1
                        ),
                    ));
                    break;
                }
            };
            match kind {
                LineKind::Context if old_left == 0 || new_left == 0 => {
                    self.diagnostics.push(Diagnostic::warning(
                        DiagnosticKind::MalformedDiff,
                        format!(
                            "hunk at diff line {} has more context than its header says",
                            hunk.header_line + 1
                        ),
                    ));
                    break;
                }
                LineKind::Context => {
                    hunk.lines
                        .push(diff_line(kind, text, Some(old_line), Some(new_line)));
                    old_line = old_line.saturating_add(1);
                    new_line = new_line.saturating_add(1);
                    old_left -= 1;
                    new_left -= 1;
                }
                LineKind::Removed => {
                    hunk.lines.push(diff_line(kind, text, Some(old_line), None));
                    old_line = old_line.saturating_add(1);
                    old_left -= 1;
                }
                LineKind::Added => {
                    hunk.lines.push(diff_line(kind, text, None, Some(new_line)));
                    new_line = new_line.saturating_add(1);
                    new_left -= 1;
                }
                LineKind::NoNewline => hunk.lines.push(diff_line(kind, text, None, None)),
            }
            self.position += 1;
        }
        hunk
    }
}

fn diff_line(kind: LineKind, text: &str, old_line: Option<u32>, new_line: Option<u32>) -> DiffLine {
    DiffLine {
        kind,
        text: text.to_owned(),
        old_line,
        new_line,
    }
}

struct HunkHeader {
    old_start: u32,
    old_lines: u32,
    new_start: u32,
    new_lines: u32,
    section: String,
}

/// `@@ -a[,b] +c[,d] @@ section`.
fn parse_hunk_header(line: &str) -> Option<HunkHeader> {
    let rest = line.strip_prefix("@@ -")?;
    let (old, rest) = rest.split_once(" +")?;
    let (new, rest) = rest.split_once(" @@")?;
    let (old_start, old_lines) = parse_range(old)?;
    let (new_start, new_lines) = parse_range(new)?;
    Some(HunkHeader {
        old_start,
        old_lines,
        new_start,
        new_lines,
        section: rest.trim().to_owned(),
    })
}

/// `start[,count]`, the count being 1 when absent (as in git).
pub(crate) fn parse_range(range: &str) -> Option<(u32, u32)> {
    match range.split_once(',') {
        Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
        None => Some((range.parse().ok()?, 1)),
    }
}

#[cfg(test)]
mod tests;
