//! Which lines a patch touches, so that findings can be held to them.
//!
//! A finding is anchored when its file is one the patch changes and its
//! line range overlaps a hunk of that file in the post-patch numbering
//! (context lines count: a bug can sit next to the change). This module
//! also renders a diff with post-patch line numbers for the model.

use std::collections::BTreeMap;

/// The post-patch line span of one hunk: `[start, end]` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HunkSpan {
    pub start: u32,
    pub end: u32,
}

/// Per file (post-patch path, also indexed by pre-patch path), the hunks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchLines {
    files: BTreeMap<String, Vec<HunkSpan>>,
}

impl PatchLines {
    /// Read the hunk headers of a unified diff. Lines that are not diff
    /// syntax are ignored; a malformed hunk header is skipped.
    pub fn from_diff(diff: &str) -> PatchLines {
        let mut lines = PatchLines::default();
        let mut paths: Vec<String> = Vec::new();
        for line in diff.lines() {
            if let Some(rest) = line.strip_prefix("diff --git ") {
                paths = git_header_paths(rest);
            } else if let Some(path) = line.strip_prefix("--- ") {
                push_path(&mut paths, path);
            } else if let Some(path) = line.strip_prefix("+++ ") {
                push_path(&mut paths, path);
            } else if line.starts_with("@@ ") {
                if let Some(span) = parse_hunk_header(line) {
                    for path in &paths {
                        lines.files.entry(path.clone()).or_default().push(span);
                    }
                }
            }
        }
        lines
    }

    pub fn touches_file(&self, file: &str) -> bool {
        self.files.contains_key(normalise_path(file))
    }

    /// Does `[start, end]` in `file` overlap a hunk?
    pub fn covers(&self, file: &str, start: u32, end: u32) -> bool {
        let (start, end) = if start <= end {
            (start, end)
        } else {
            (end, start)
        };
        self.files.get(normalise_path(file)).is_some_and(|spans| {
            spans
                .iter()
                .any(|span| start <= span.end && end >= span.start)
        })
    }

    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }
}

fn normalise_path(path: &str) -> &str {
    let path = path.trim();
    path.strip_prefix("a/")
        .or_else(|| path.strip_prefix("b/"))
        .or_else(|| path.strip_prefix("./"))
        .unwrap_or(path)
}

fn push_path(paths: &mut Vec<String>, raw: &str) {
    let raw = raw.split('\t').next().unwrap_or(raw).trim();
    if raw == "/dev/null" {
        return;
    }
    let path = normalise_path(raw).to_owned();
    if !paths.contains(&path) {
        paths.push(path);
    }
}

fn git_header_paths(rest: &str) -> Vec<String> {
    // "a/old b/new": split at " b/" (paths with spaces are rare in kernel trees).
    match rest.find(" b/") {
        Some(split) => {
            let old = normalise_path(&rest[..split]).to_owned();
            let new = normalise_path(&rest[split + 1..]).to_owned();
            if old == new {
                vec![new]
            } else {
                vec![new, old]
            }
        }
        None => Vec::new(),
    }
}

/// `@@ -a,b +c,d @@ ...` -> post-patch span `[c, c+d-1]` (a pure deletion
/// hunk gets the line it sits at).
pub fn parse_hunk_header(line: &str) -> Option<HunkSpan> {
    let inner = line.strip_prefix("@@ ")?;
    let end = inner.find(" @@")?;
    let new_part = inner[..end]
        .split_whitespace()
        .find(|part| part.starts_with('+'))?;
    let (start, count) = parse_range(&new_part[1..])?;
    let last = if count == 0 { start } else { start + count - 1 };
    Some(HunkSpan {
        start: start.max(1),
        end: last.max(1),
    })
}

fn parse_range(text: &str) -> Option<(u32, u32)> {
    match text.split_once(',') {
        Some((start, count)) => Some((start.parse().ok()?, count.parse().ok()?)),
        None => Some((text.parse().ok()?, 1)),
    }
}

/// What a line of a unified diff is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineKind {
    /// `diff --git`, `---`/`+++`, `@@`, index and rename lines, anything
    /// outside a hunk.
    Header,
    Context,
    Added,
    Removed,
    /// `\ No newline at end of file`.
    Marker,
}

/// One line of a unified diff with the post-patch file it belongs to and,
/// for context and added lines, its post-patch line number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiffLine<'a> {
    /// The raw line, with its `+`/`-`/` ` prefix.
    pub text: &'a str,
    /// Post-patch path (`b/` stripped); empty before the first `+++` line.
    pub file: &'a str,
    pub new_line: Option<u32>,
    pub kind: LineKind,
}

impl<'a> DiffLine<'a> {
    /// The line without its one-character diff prefix.
    pub fn content(&self) -> &'a str {
        self.text.get(1..).unwrap_or("")
    }
}

/// Walk a unified diff once, numbering context and added lines in the
/// post-patch file. The one diff walker of the reviewer and its renderers.
pub fn diff_lines(diff: &str) -> Vec<DiffLine<'_>> {
    let mut out = Vec::new();
    let mut file = "";
    let mut next: Option<u32> = None;
    for text in diff.lines() {
        let (kind, new_line) = if text.starts_with("diff --git ") {
            next = None;
            (LineKind::Header, None)
        } else if let Some(path) = text.strip_prefix("+++ ") {
            let path = path.split('\t').next().unwrap_or(path);
            file = path.strip_prefix("b/").unwrap_or(path);
            next = None;
            (LineKind::Header, None)
        } else if text.starts_with("@@ ") {
            next = parse_hunk_header(text).map(|span| span.start);
            (LineKind::Header, None)
        } else if let Some(number) = next {
            match text.as_bytes().first() {
                Some(b'-') => (LineKind::Removed, None),
                Some(b'\\') => (LineKind::Marker, None),
                Some(b'+') => {
                    next = Some(number + 1);
                    (LineKind::Added, Some(number))
                }
                _ => {
                    next = Some(number + 1);
                    (LineKind::Context, Some(number))
                }
            }
        } else {
            (LineKind::Header, None)
        };
        out.push(DiffLine {
            text,
            file,
            new_line,
            kind,
        });
    }
    out
}

/// The diff with the post-patch line number in front of every context and
/// added line (removed lines get a blank number column), so the model can
/// cite lines exactly.
pub fn number_diff_lines(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff_lines(diff) {
        match line.new_line {
            Some(number) => out.push_str(&format!("{number:>5} ")),
            None => out.push_str("      "),
        }
        out.push_str(line.text);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIFF: &str = "diff --git a/mm/a.c b/mm/a.c
index 1..2 100644
--- a/mm/a.c
+++ b/mm/a.c
@@ -10,6 +10,7 @@ int f(void)
 a
 b
 c
+d
 e
 f
 g
diff --git a/old.c b/new.c
similarity index 90%
rename from old.c
rename to new.c
--- a/old.c
+++ b/new.c
@@ -1,2 +1,0 @@
-x
-y
";

    #[test]
    fn covers_checks_file_and_overlap() {
        let lines = PatchLines::from_diff(DIFF);
        let cases = [
            ("mm/a.c", 13, 13, true),
            ("b/mm/a.c", 10, 10, true),
            ("mm/a.c", 16, 20, true),
            ("mm/a.c", 17, 30, false),
            ("mm/a.c", 1, 9, false),
            ("mm/b.c", 13, 13, false),
            ("new.c", 1, 1, true),
            ("old.c", 1, 1, true),
        ];
        for (file, start, end, expected) in cases {
            assert_eq!(
                lines.covers(file, start, end),
                expected,
                "{file}:{start}-{end}"
            );
        }
    }

    #[test]
    fn hunk_headers_parse() {
        let cases = [
            ("@@ -1,3 +1,4 @@", Some((1, 4))),
            ("@@ -5 +5 @@ f()", Some((5, 5))),
            ("@@ -3,2 +2,0 @@", Some((2, 2))),
            ("@@ broken @@", None),
        ];
        for (header, expected) in cases {
            let got = parse_hunk_header(header).map(|span| (span.start, span.end));
            assert_eq!(got, expected, "{header}");
        }
    }

    #[test]
    fn diff_lines_classify_and_number_every_line() {
        let diff = "--- a/x.c\n+++ b/x.c\t2024-01-01\n@@ -1,3 +1,3 @@\n a\n-b\n+c\n\n\\ No newline at end of file\n";
        let got: Vec<(LineKind, Option<u32>, &str)> = diff_lines(diff)
            .iter()
            .map(|line| (line.kind, line.new_line, line.file))
            .collect();
        let expected = [
            (LineKind::Header, None, ""),
            (LineKind::Header, None, "x.c"),
            (LineKind::Header, None, "x.c"),
            (LineKind::Context, Some(1), "x.c"),
            (LineKind::Removed, None, "x.c"),
            (LineKind::Added, Some(2), "x.c"),
            (LineKind::Context, Some(3), "x.c"),
            (LineKind::Marker, None, "x.c"),
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn numbered_diff_shows_post_patch_lines() {
        let numbered = number_diff_lines(DIFF);
        assert!(numbered.contains("   13 +d\n"), "{numbered}");
        assert!(numbered.contains("   16  g\n"), "{numbered}");
        assert!(numbered.contains("      -x\n"), "{numbered}");
    }
}
