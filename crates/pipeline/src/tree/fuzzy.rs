//! Applying a file's hunks to text the way `patch` does when the context
//! moved: each hunk is looked for at its stated line, then at growing
//! offsets above and below, first with all its context lines, then
//! ignoring one and then two context lines at its edges (the "fuzz").
//!
//! Pure: bytes and hunks in, bytes or the hunk that did not fit out. What
//! moved and by how much is returned so the review can say so; a fuzzy
//! application may put a change where its author did not mean it, which is
//! why it is the last resort after an exact and a 3-way application.

use sashiko_mail::diff::{Hunk, LineKind};

/// The most context lines ignored at each edge of a hunk.
pub const MAX_FUZZ: usize = 2;

/// How far the hunks of one file had to move.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Moved {
    /// The largest distance, in lines, of a hunk from its stated place.
    pub max_offset: usize,
    /// The most context lines ignored at one edge of a hunk.
    pub max_fuzz: usize,
}

impl Moved {
    /// The larger of two.
    pub fn max(self, other: Moved) -> Moved {
        Moved {
            max_offset: self.max_offset.max(other.max_offset),
            max_fuzz: self.max_fuzz.max(other.max_fuzz),
        }
    }
}

/// One hunk as lines to find and lines to put instead.
struct Sides<'h> {
    before: Vec<&'h [u8]>,
    after: Vec<&'h [u8]>,
    /// Context lines at the start and end of the hunk (the fuzzable ones).
    leading_context: usize,
    trailing_context: usize,
    /// The hunk's new side ends without a newline at end of file.
    after_no_newline: bool,
    /// The hunk's old side ends without a newline at end of file.
    before_no_newline: bool,
}

fn sides(hunk: &Hunk) -> Sides<'_> {
    let mut before = Vec::new();
    let mut after = Vec::new();
    let mut after_no_newline = false;
    let mut before_no_newline = false;
    let mut last = LineKind::Context;
    for line in &hunk.lines {
        match line.kind {
            LineKind::Context => {
                before.push(line.text.as_bytes());
                after.push(line.text.as_bytes());
            }
            LineKind::Removed => before.push(line.text.as_bytes()),
            LineKind::Added => after.push(line.text.as_bytes()),
            LineKind::NoNewline => match last {
                LineKind::Added => after_no_newline = true,
                LineKind::Removed => before_no_newline = true,
                _ => {
                    after_no_newline = true;
                    before_no_newline = true;
                }
            },
        }
        if line.kind != LineKind::NoNewline {
            last = line.kind;
        }
    }
    let kinds: Vec<LineKind> = hunk
        .lines
        .iter()
        .map(|line| line.kind)
        .filter(|kind| *kind != LineKind::NoNewline)
        .collect();
    let leading_context = kinds
        .iter()
        .take_while(|kind| **kind == LineKind::Context)
        .count();
    let trailing_context = if leading_context == kinds.len() {
        0
    } else {
        kinds
            .iter()
            .rev()
            .take_while(|kind| **kind == LineKind::Context)
            .count()
    };
    Sides {
        before,
        after,
        leading_context,
        trailing_context,
        after_no_newline,
        before_no_newline,
    }
}

/// `text` with `hunks` applied in order, and how far they moved; or why a
/// hunk did not fit (its number, 1-based, and header).
pub fn apply_hunks(text: &[u8], hunks: &[Hunk]) -> Result<(Vec<u8>, Moved), String> {
    let mut lines: Vec<Vec<u8>> = text
        .split_inclusive(|&byte| byte == b'\n')
        .map(|line| line.strip_suffix(b"\n").unwrap_or(line).to_vec())
        .collect();
    let mut ends_with_newline = text.is_empty() || text.ends_with(b"\n");
    let mut moved = Moved::default();
    // Lines added minus lines removed by the hunks so far, and the first
    // line a later hunk may touch (hunks apply in order, never overlap).
    let mut delta: isize = 0;
    let mut floor = 0usize;
    for (number, hunk) in hunks.iter().enumerate() {
        let sides = sides(hunk);
        let stated = usize::try_from(hunk.old_start)
            .unwrap_or(0)
            .saturating_sub(1);
        let stated = stated
            .checked_add_signed(delta)
            .unwrap_or(0)
            .min(lines.len());
        let fits = (0..=MAX_FUZZ).find_map(|fuzz| {
            let lead = fuzz.min(sides.leading_context);
            let trail = fuzz.min(sides.trailing_context);
            if fuzz > 0 && lead + trail == 0 {
                return None;
            }
            let before = &sides.before[lead..sides.before.len() - trail];
            let after = &sides.after[lead..sides.after.len() - trail];
            let want = (stated + lead).min(lines.len());
            find(&lines, before, want, floor)
                .map(|at| (at, fuzz, want.abs_diff(at), before.len(), after))
        });
        let Some((at, fuzz, offset, removed, after)) = fits else {
            return Err(format!(
                "hunk {} (@@ -{},{} +{},{} @@) does not match",
                number + 1,
                hunk.old_start,
                hunk.old_lines,
                hunk.new_start,
                hunk.new_lines
            ));
        };
        let reaches_end = at + removed == lines.len();
        lines.splice(at..at + removed, after.iter().map(|line| line.to_vec()));
        if reaches_end && (sides.after_no_newline || sides.before_no_newline) {
            ends_with_newline = !sides.after_no_newline;
        }
        floor = at + after.len();
        delta += after.len() as isize - removed as isize;
        moved = moved.max(Moved {
            max_offset: offset,
            max_fuzz: fuzz,
        });
    }
    let mut out = Vec::with_capacity(text.len() + 64);
    for (at, line) in lines.iter().enumerate() {
        out.extend_from_slice(line);
        if at + 1 < lines.len() || ends_with_newline {
            out.push(b'\n');
        }
    }
    Ok((out, moved))
}

/// Where `wanted` occurs in `lines` at or after `floor`, nearest to `at`
/// first (below before above at equal distance, as `patch` does).
fn find(lines: &[Vec<u8>], wanted: &[&[u8]], at: usize, floor: usize) -> Option<usize> {
    let fits = |start: usize| {
        start >= floor
            && start + wanted.len() <= lines.len()
            && wanted
                .iter()
                .zip(&lines[start..])
                .all(|(want, have)| *want == have.as_slice())
    };
    if wanted.is_empty() {
        // A hunk of pure additions with no context: its stated place.
        return (at >= floor && at <= lines.len()).then_some(at);
    }
    let span = lines.len().max(at);
    (0..=span).find_map(|distance| {
        if let Some(start) = at.checked_add(distance).filter(|&s| fits(s)) {
            return Some(start);
        }
        at.checked_sub(distance)
            .filter(|&s| distance > 0 && fits(s))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunks(diff: &str) -> Vec<Hunk> {
        let (files, _) = sashiko_mail::diff::parse(diff);
        files.into_iter().flat_map(|file| file.hunks).collect()
    }

    const FILE: &str = "a\nb\nc\nd\ne\nf\ng\nh\n";

    fn diff(body: &str) -> String {
        format!("diff --git a/x b/x\n--- a/x\n+++ b/x\n{body}")
    }

    /// (case, file, diff body, expected text or error start, moved)
    fn check(name: &str, file: &str, body: &str, expected: Result<&str, &str>, moved: Moved) {
        let got = apply_hunks(file.as_bytes(), &hunks(&diff(body)));
        match (got, expected) {
            (Ok((text, got_moved)), Ok(want)) => {
                assert_eq!(String::from_utf8_lossy(&text), want, "{name}");
                assert_eq!(got_moved, moved, "{name}");
            }
            (Err(error), Err(want)) => assert!(error.starts_with(want), "{name}: {error}"),
            (got, want) => panic!("{name}: got {got:?}, want {want:?}"),
        }
    }

    fn at(max_offset: usize, max_fuzz: usize) -> Moved {
        Moved {
            max_offset,
            max_fuzz,
        }
    }

    #[test]
    fn hunks_apply_in_place_at_an_offset_with_fuzz_or_not_at_all() {
        let replace_d = "@@ -3,3 +3,3 @@\n c\n-d\n+D\n e\n";
        check(
            "in place",
            FILE,
            replace_d,
            Ok("a\nb\nc\nD\ne\nf\ng\nh\n"),
            at(0, 0),
        );
        check(
            "moved down by two lines",
            &format!("x\ny\n{FILE}"),
            replace_d,
            Ok("x\ny\na\nb\nc\nD\ne\nf\ng\nh\n"),
            at(2, 0),
        );
        check(
            "moved up",
            "b\nc\nd\ne\nf\ng\nh\n",
            replace_d,
            Ok("b\nc\nD\ne\nf\ng\nh\n"),
            at(1, 0),
        );
        check(
            "a changed context line needs fuzz 1",
            "a\nb\nC\nd\ne\nf\ng\nh\n",
            replace_d,
            Ok("a\nb\nC\nD\ne\nf\ng\nh\n"),
            at(0, 1),
        );
        check(
            "the removed line itself differs",
            "a\nb\nc\nX\ne\nf\ng\nh\n",
            replace_d,
            Err("hunk 1 (@@ -3,3 +3,3 @@) does not match"),
            at(0, 0),
        );
        check(
            "two hunks keep their order and running offset",
            FILE,
            "@@ -1,2 +1,3 @@\n a\n+a2\n b\n@@ -7,2 +8,2 @@\n g\n-h\n+H\n",
            Ok("a\na2\nb\nc\nd\ne\nf\ng\nH\n"),
            at(0, 0),
        );
        check(
            "adding to an empty file",
            "",
            "@@ -0,0 +1,2 @@\n+one\n+two\n",
            Ok("one\ntwo\n"),
            at(0, 0),
        );
        check(
            "dropping the newline at end of file",
            "a\nb\n",
            "@@ -1,2 +1,2 @@\n a\n-b\n+c\n\\ No newline at end of file\n",
            Ok("a\nc"),
            at(0, 0),
        );
        check(
            "adding the newline at end of file",
            "a\nb",
            "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
            Ok("a\nb\n"),
            at(0, 0),
        );
        check(
            "non-ASCII lines match byte for byte",
            "/* © Ådå */\nint x;\n",
            "@@ -1,2 +1,2 @@\n /* © Ådå */\n-int x;\n+int y;\n",
            Ok("/* © Ådå */\nint y;\n"),
            at(0, 0),
        );
    }
}
