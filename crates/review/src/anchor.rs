//! Which lines a patch touches, so that findings can be held to them.
//!
//! A finding is anchored when its file is one the patch changes and its
//! line range overlaps a hunk of that file in the post-patch numbering
//! (context lines count: a bug can sit next to the change). This module
//! also renders a diff with post-patch line numbers for the model.
//!
//! The diff itself is read by `sashiko_mail::diff`, the one patch model of
//! the project: this module must never parse hunk headers of its own.

use std::collections::BTreeMap;

use sashiko_mail::diff::{self as patch_model, FileDiff, Hunk};

/// The post-patch line span of one hunk: `[start, end]` inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HunkSpan {
    pub start: u32,
    pub end: u32,
}

impl HunkSpan {
    /// The post-patch span of `hunk` (a pure deletion hunk gets the line it
    /// sits at).
    pub fn of(hunk: &Hunk) -> HunkSpan {
        let start = hunk.new_start;
        let last = if hunk.new_lines == 0 {
            start
        } else {
            start.saturating_add(hunk.new_lines - 1)
        };
        HunkSpan {
            start: start.max(1),
            end: last.max(1),
        }
    }
}

/// Per file (post-patch path, also indexed by pre-patch path), the hunks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchLines {
    files: BTreeMap<String, Vec<HunkSpan>>,
}

impl PatchLines {
    /// The hunks of a unified diff. Text that is not diff syntax is
    /// ignored; a malformed hunk header is skipped.
    pub fn from_diff(diff: &str) -> PatchLines {
        let (files, _diagnostics) = patch_model::parse(diff);
        PatchLines::from_files(&files)
    }

    /// The hunks of an already parsed diff.
    pub fn from_files(files: &[FileDiff]) -> PatchLines {
        let mut lines = PatchLines::default();
        for file in files {
            let mut paths: Vec<&str> = Vec::new();
            for path in [file.new_path.as_deref(), file.old_path.as_deref()]
                .into_iter()
                .flatten()
            {
                if !paths.contains(&path) {
                    paths.push(path);
                }
            }
            for hunk in &file.hunks {
                for path in &paths {
                    lines
                        .files
                        .entry((*path).to_owned())
                        .or_default()
                        .push(HunkSpan::of(hunk));
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

/// A path as a finding may cite it (`b/mm/x.c`, `./mm/x.c`).
fn normalise_path(path: &str) -> &str {
    let path = path.trim();
    path.strip_prefix("a/")
        .or_else(|| path.strip_prefix("b/"))
        .or_else(|| path.strip_prefix("./"))
        .unwrap_or(path)
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
    /// On a `@@` line: the hunk's first post-patch line.
    pub hunk_start: Option<u32>,
}

impl<'a> DiffLine<'a> {
    /// The line without its one-character diff prefix.
    pub fn content(&self) -> &'a str {
        self.text.get(1..).unwrap_or("")
    }
}

/// Walk a unified diff once, numbering context and added lines in the
/// post-patch file. The one diff walker of the reviewer and its renderers;
/// which line is what comes from the patch model, so lines past a hunk's
/// stated length (a mail signature, prose) are headers, not code.
pub fn diff_lines(diff: &str) -> Vec<DiffLine<'_>> {
    let mut out: Vec<DiffLine<'_>> = diff
        .lines()
        .map(|text| DiffLine {
            text,
            file: "",
            new_line: None,
            kind: LineKind::Header,
            hunk_start: None,
        })
        .collect();
    let (files, _diagnostics) = patch_model::parse(diff);
    for file in &files {
        for hunk in &file.hunks {
            if let Some(header) = out.get_mut(hunk.header_line) {
                header.hunk_start = Some(hunk.new_start);
            }
            for (offset, line) in hunk.lines.iter().enumerate() {
                if let Some(out) = out.get_mut(hunk.header_line + 1 + offset) {
                    out.kind = match line.kind {
                        patch_model::LineKind::Context => LineKind::Context,
                        patch_model::LineKind::Added => LineKind::Added,
                        patch_model::LineKind::Removed => LineKind::Removed,
                        patch_model::LineKind::NoNewline => LineKind::Marker,
                    };
                    out.new_line = line.new_line;
                }
            }
        }
    }
    // Each line belongs to the file of the last `+++` header above it.
    let mut file = "";
    for line in &mut out {
        if line.kind == LineKind::Header {
            if let Some(path) = line.text.strip_prefix("+++ ") {
                let path = path.split('\t').next().unwrap_or(path);
                file = path.strip_prefix("b/").unwrap_or(path);
            }
        }
        line.file = file;
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
    fn hunk_spans_come_from_the_patch_model() {
        let cases = [
            ("@@ -1,3 +1,4 @@\n a\n+b\n c\n d\n", vec![(1, 4)]),
            ("@@ -5 +5 @@ f()\n-x\n+y\n", vec![(5, 5)]),
            ("@@ -3,2 +2,0 @@\n-x\n-y\n", vec![(2, 2)]),
            ("@@ broken @@\n a\n", vec![]),
        ];
        for (hunks, expected) in cases {
            let diff = format!("--- a/x.c\n+++ b/x.c\n{hunks}");
            let lines = PatchLines::from_diff(&diff);
            let got: Vec<(u32, u32)> = lines
                .files
                .get("x.c")
                .into_iter()
                .flatten()
                .map(|span| (span.start, span.end))
                .collect();
            assert_eq!(got, expected, "{hunks}");
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
