//! What changed between two versions of a series, patch by patch: patches
//! are matched by subject (without the `[PATCH vN i/n]` tags); a patch is
//! new, dropped, changed or the same; for a changed one the change of its
//! diff is shown as the added and removed lines that differ between the
//! two versions' `+`/`-` lines (a diff of the diffs, context ignored).
//! Pure: text in, values out; never renders HTML (the template escapes).

use serde::Serialize;

/// Patch diffs longer than this many changed lines are only said to differ.
const MAX_COMPARED_LINES: usize = 3000;

/// One patch in the comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatchChange {
    /// `new`, `dropped`, `changed` or `same`.
    pub kind: &'static str,
    pub subject: String,
    /// For `changed`: lines of the diff of the diffs, each starting with
    /// `+ ` (only in the newer version) or `- ` (only in the older one).
    pub lines: Vec<String>,
    /// True when the diffs were too long to compare line by line.
    pub too_long: bool,
}

/// The subject without its leading bracketed tags.
pub fn bare_subject(subject: &str) -> &str {
    let mut rest = subject.trim();
    while let Some(after) = rest.strip_prefix('[') {
        match after.find(']') {
            Some(end) => rest = after[end + 1..].trim_start(),
            None => break,
        }
    }
    rest
}

/// The `+`/`-` lines of a unified diff, file headers left out.
fn changed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|line| {
            (line.starts_with('+') && !line.starts_with("+++"))
                || (line.starts_with('-') && !line.starts_with("---"))
        })
        .collect()
}

/// Lines only in `old` (`- `) and only in `new` (`+ `), in order, by a
/// longest common subsequence.
fn line_diff(old: &[&str], new: &[&str]) -> Vec<String> {
    let (n, m) = (old.len(), new.len());
    let mut lcs = vec![vec![0_u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if old[i] == new[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && old[i] == new[j] {
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+ {}", new[j]));
            j += 1;
        } else {
            out.push(format!("- {}", old[i]));
            i += 1;
        }
    }
    out
}

/// Compares the patches `(subject, diff)` of two versions, in the newer
/// version's order, dropped patches last.
pub fn compare(previous: &[(String, String)], current: &[(String, String)]) -> Vec<PatchChange> {
    let find = |patches: &[(String, String)], subject: &str| {
        patches
            .iter()
            .find(|(other, _)| bare_subject(other) == bare_subject(subject))
            .map(|(_, diff)| diff.clone())
    };
    let mut changes: Vec<PatchChange> = current
        .iter()
        .map(|(subject, diff)| {
            let change = |kind, lines, too_long| PatchChange {
                kind,
                subject: bare_subject(subject).to_string(),
                lines,
                too_long,
            };
            match find(previous, subject) {
                None => change("new", Vec::new(), false),
                Some(old) => {
                    let (old, new) = (changed_lines(&old), changed_lines(diff));
                    if old == new {
                        change("same", Vec::new(), false)
                    } else if old.len() + new.len() > MAX_COMPARED_LINES {
                        change("changed", Vec::new(), true)
                    } else {
                        change("changed", line_diff(&old, &new), false)
                    }
                }
            }
        })
        .collect();
    changes.extend(
        previous
            .iter()
            .filter(|(subject, _)| find(current, subject).is_none())
            .map(|(subject, _)| PatchChange {
                kind: "dropped",
                subject: bare_subject(subject).to_string(),
                lines: Vec::new(),
                too_long: false,
            }),
    );
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patch(subject: &str, added: &[&str]) -> (String, String) {
        let mut diff = "--- a/mm/x.c\n+++ b/mm/x.c\n@@ -1,1 +1,2 @@\n ctx\n".to_string();
        for line in added {
            diff.push_str(&format!("+{line}\n"));
        }
        (subject.to_string(), diff)
    }

    fn check(
        previous: &[(String, String)],
        current: &[(String, String)],
        expected: &[(&str, &str, &[&str])],
    ) {
        let got: Vec<(&str, String, Vec<String>)> = compare(previous, current)
            .into_iter()
            .map(|change| (change.kind, change.subject, change.lines))
            .collect();
        let expected: Vec<(&str, String, Vec<String>)> = expected
            .iter()
            .map(|(kind, subject, lines)| {
                (
                    *kind,
                    subject.to_string(),
                    lines.iter().map(|l| l.to_string()).collect(),
                )
            })
            .collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn patches_are_new_dropped_changed_or_the_same() {
        let v1 = [
            patch("[PATCH 1/3] mm: a", &["a();"]),
            patch("[PATCH 2/3] mm: b", &["b();"]),
            patch("[PATCH 3/3] mm: c", &["c();"]),
        ];
        let v2 = [
            patch("[PATCH v2 1/3] mm: a", &["a();"]),
            patch("[PATCH v2 2/3] mm: b", &["b(1);", "free(x);"]),
            patch("[PATCH v2 3/3] mm: d", &["d();"]),
        ];
        check(
            &v1,
            &v2,
            &[
                ("same", "mm: a", &[]),
                ("changed", "mm: b", &["+ +b(1);", "+ +free(x);", "- +b();"]),
                ("new", "mm: d", &[]),
                ("dropped", "mm: c", &[]),
            ],
        );
        check(
            &v1,
            &v1,
            &[
                ("same", "mm: a", &[]),
                ("same", "mm: b", &[]),
                ("same", "mm: c", &[]),
            ],
        );
    }

    #[test]
    fn tags_are_stripped_from_subjects() {
        for (subject, bare) in [
            ("[PATCH v3 2/7] mm: fix", "mm: fix"),
            ("[RFC][PATCH] net: x", "net: x"),
            ("mm: plain", "mm: plain"),
            ("[unclosed mm", "[unclosed mm"),
        ] {
            assert_eq!(bare_subject(subject), bare, "{subject}");
        }
    }
}
