//! Line numbers across versions of a file: from the baseline to the end
//! state of the series (to tell a report the tool already gave before the
//! series from a new one), and from the end state back to the patch of the
//! series that last touched a line (to anchor a report to that patch).

use sashiko_review::anchor::PatchLines;
use sashiko_review::ReviewSeries;

use crate::snapshot::Region;

/// How the lines of one file moved between the baseline and the end state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineMap {
    regions: Vec<Region>,
}

impl LineMap {
    pub fn new(regions: Vec<Region>) -> LineMap {
        LineMap { regions }
    }

    /// A file the series adds: every end-state line is changed.
    pub fn added_file(lines: u32) -> LineMap {
        LineMap {
            regions: vec![Region {
                old_start: 0,
                old_lines: 0,
                new_start: 1,
                new_lines: lines,
            }],
        }
    }

    /// The end-state number of baseline line `old`, `None` when the series
    /// changed or removed that line.
    pub fn old_to_new(&self, old: u32) -> Option<u32> {
        let mut shift: i64 = 0;
        for region in &self.regions {
            let old_end = region.old_start + region.old_lines;
            if region.old_lines > 0 && (region.old_start..old_end).contains(&old) {
                return None;
            }
            let before = if region.old_lines == 0 {
                // A pure insertion sits after line `old_start`.
                old <= region.old_start
            } else {
                old < region.old_start
            };
            if before {
                break;
            }
            shift += i64::from(region.new_lines) - i64::from(region.old_lines);
        }
        u32::try_from(i64::from(old) + shift).ok()
    }

    /// End-state lines the series changed (added or modified), plus the
    /// line at each pure deletion.
    pub fn changed_new_lines(&self) -> impl Iterator<Item = u32> + '_ {
        self.regions.iter().flat_map(|region| {
            if region.new_lines == 0 {
                region.new_start.max(1)..region.new_start.max(1) + 1
            } else {
                region.new_start..region.new_start + region.new_lines
            }
        })
    }

    /// Is end-state line `line` within `slack` lines of a changed line?
    pub fn near_change(&self, line: u32, slack: u32) -> bool {
        self.regions.iter().any(|region| {
            let (start, end) = if region.new_lines == 0 {
                (region.new_start.max(1), region.new_start.max(1))
            } else {
                (region.new_start, region.new_start + region.new_lines - 1)
            };
            line.saturating_add(slack) >= start && line <= end.saturating_add(slack)
        })
    }

    /// Is end-state line `line` one the series changed?
    pub fn is_changed(&self, line: u32) -> bool {
        self.near_change(line, 0)
    }
}

/// The patch of `series` a line of the end state belongs to, and its
/// number in that patch's post-patch numbering: the last patch touching
/// `file` whose hunks cover the line, walking back through the patches so
/// a line an earlier patch added (and later ones only moved) is anchored
/// to the earlier patch. `None` when no patch's hunks cover it.
pub fn attribute(series: &ReviewSeries, file: &str, end_line: u32) -> Option<(u32, u32)> {
    let mut line = end_line;
    for patch in series.patches.iter().rev() {
        let lines = PatchLines::from_diff(&patch.diff);
        if !lines.touches_file(file) {
            continue;
        }
        if lines.covers(file, line, line) {
            return Some((patch.index, line));
        }
        line = new_to_old(&patch.diff, file, line)?;
    }
    None
}

/// Through one patch's hunks of `file` (read by the patch model,
/// `sashiko_mail::diff`): the pre-patch number of post-patch line `new`
/// (which no hunk covers, so it only moved).
fn new_to_old(diff: &str, file: &str, new: u32) -> Option<u32> {
    let (files, _diagnostics) = sashiko_mail::diff::parse(diff);
    let mut shift: i64 = 0;
    let hunks = files
        .iter()
        .filter(|diff| diff.new_path.as_deref() == Some(file))
        .flat_map(|diff| &diff.hunks);
    for hunk in hunks {
        let new_start = hunk.new_start.max(1);
        if new < new_start {
            break;
        }
        shift = i64::from(hunk.old_start) + i64::from(hunk.old_lines)
            - (i64::from(new_start) + i64::from(hunk.new_lines));
    }
    u32::try_from(i64::from(new) + shift).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sashiko_review::ReviewPatch;

    fn region(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Region {
        Region {
            old_start,
            old_lines,
            new_start,
            new_lines,
        }
    }

    #[test]
    fn baseline_lines_map_to_the_end_state() {
        // 4 lines inserted after line 211, line 300 replaced by two lines.
        let map = LineMap::new(vec![region(211, 0, 212, 4), region(300, 1, 304, 2)]);
        let cases = [
            (1, Some(1)),
            (211, Some(211)),
            (212, Some(216)),
            (299, Some(303)),
            (300, None),
            (301, Some(306)),
            (2376, Some(2381)),
        ];
        for (old, new) in cases {
            assert_eq!(map.old_to_new(old), new, "baseline line {old}");
        }
        assert!(map.is_changed(213) && !map.is_changed(211));
        assert!(map.near_change(209, 3) && !map.near_change(208, 3));
        assert!(map.near_change(218, 3) && !map.near_change(219, 3));
        assert_eq!(
            map.changed_new_lines().collect::<Vec<_>>(),
            vec![212, 213, 214, 215, 304, 305]
        );
    }

    fn patch(index: u32, diff: &str) -> ReviewPatch {
        ReviewPatch {
            index,
            subject: format!("p{index}"),
            author: "A <a@b>".into(),
            message_id: None,
            commit_id: None,
            commit_message: String::new(),
            diff: diff.into(),
        }
    }

    #[test]
    fn end_state_lines_are_attributed_to_the_patch_that_changed_them() {
        // Patch 1 adds a line at 11 (hunk 8-14); patch 2 inserts 5 lines at
        // the top (hunk 1-8), moving patch 1's line to 16.
        let first = "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -8,6 +8,7 @@\n x\n x\n x\n+new\n x\n x\n x\n";
        let second = "diff --git a/a.c b/a.c\n--- a/a.c\n+++ b/a.c\n@@ -1,3 +1,8 @@\n+1\n+2\n+3\n+4\n+5\n x\n x\n x\n";
        let series = ReviewSeries {
            title: "t".into(),
            version: 1,
            cover_letter: None,
            patches: vec![patch(1, first), patch(2, second)],
        };
        let cases = [(3, Some((2, 3))), (16, Some((1, 11))), (40, None)];
        for (end_line, expected) in cases {
            assert_eq!(
                attribute(&series, "a.c", end_line),
                expected,
                "line {end_line}"
            );
        }
        assert_eq!(attribute(&series, "b.c", 3), None);
    }
}
