//! What changed between versions of a series, for its page: which patches
//! are new, dropped, changed or the same (matched by title, as
//! `sashiko_mail::parse_subject` reads it), and the interdiff of the two
//! versions' end states. The interdiff is the one the reviewer gave the
//! review of this version (stored with the review); for a version no
//! review was given one, it is computed by the reviewer's own function
//! (`sashiko_review::versions::interdiff`) over the stored patches, so the
//! page never shows a different "what changed" from what a review sees.
//! Pure: values in, values out; it never renders HTML.

use serde::Serialize;

use sashiko_mail::parse_subject;
use sashiko_review::ReviewSeries;
use sashiko_store::web::{PatchRow, SeriesVersionRow};
use sashiko_store::StoredInterdiff;

/// One patch in the comparison of two versions' patch lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PatchChange {
    /// `new`, `dropped`, `changed` or `same`.
    pub kind: &'static str,
    /// The patch's title (its subject without tags).
    pub subject: String,
}

/// The `+`/`-` lines of a unified diff, file headers left out: two
/// versions of a patch whose lines are these are the same change.
fn changed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|line| {
            (line.starts_with('+') && !line.starts_with("+++"))
                || (line.starts_with('-') && !line.starts_with("---"))
        })
        .collect()
}

/// Compares the patches `(subject, diff)` of two versions, in the newer
/// version's order, dropped patches last.
pub fn compare(previous: &[(String, String)], current: &[(String, String)]) -> Vec<PatchChange> {
    let title = |subject: &str| parse_subject(subject).title;
    let find = |patches: &[(String, String)], wanted: &str| {
        patches
            .iter()
            .find(|(subject, _)| title(subject) == wanted)
            .map(|(_, diff)| diff.clone())
    };
    let mut changes: Vec<PatchChange> = current
        .iter()
        .map(|(subject, diff)| {
            let subject = title(subject);
            let kind = match find(previous, &subject) {
                None => "new",
                Some(old) if changed_lines(&old) == changed_lines(diff) => "same",
                Some(_) => "changed",
            };
            PatchChange { kind, subject }
        })
        .collect();
    changes.extend(
        previous
            .iter()
            .map(|(subject, _)| title(subject))
            .filter(|subject| find(current, subject).is_none())
            .map(|subject| PatchChange {
                kind: "dropped",
                subject,
            }),
    );
    changes
}

/// A stored version as the reviewer sees a series (through the pipeline's
/// one conversion of stored patches); patches read without their text
/// are left out.
pub fn review_series(version: &SeriesVersionRow, patches: &[PatchRow]) -> ReviewSeries {
    sashiko_pipeline::series::review_series(
        version.title.clone(),
        u32::try_from(version.version).unwrap_or(0),
        None,
        patches
            .iter()
            .filter_map(PatchRow::stored)
            .map(sashiko_pipeline::series::patch_from_stored)
            .collect(),
    )
}

/// The interdiff from `earlier` to `later` as the reviewer computes it and
/// gives it to a review of `later`.
pub fn interdiff(earlier: &ReviewSeries, later: &ReviewSeries) -> StoredInterdiff {
    sashiko_pipeline::review_runner::stored_interdiff(earlier, later)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sashiko_review::ReviewPatch;

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
        expected: &[(&str, &str)],
    ) {
        let got: Vec<(&str, String)> = compare(previous, current)
            .into_iter()
            .map(|change| (change.kind, change.subject))
            .collect();
        let expected: Vec<(&str, String)> = expected
            .iter()
            .map(|(kind, subject)| (*kind, subject.to_string()))
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
            patch("[RFC PATCH v2 3/3] mm: d", &["d();"]),
        ];
        check(
            &v1,
            &v2,
            &[
                ("same", "mm: a"),
                ("changed", "mm: b"),
                ("new", "mm: d"),
                ("dropped", "mm: c"),
            ],
        );
        check(
            &v1,
            &v1,
            &[("same", "mm: a"), ("same", "mm: b"), ("same", "mm: c")],
        );
    }

    fn series(version: u32, diffs: &[&str]) -> ReviewSeries {
        ReviewSeries {
            title: "mm: fixes".to_string(),
            version,
            cover_letter: None,
            patches: diffs
                .iter()
                .enumerate()
                .map(|(at, diff)| ReviewPatch {
                    index: u32::try_from(at + 1).expect("small"),
                    subject: format!("mm: patch {}", at + 1),
                    author: "A <a@example.org>".to_string(),
                    message_id: None,
                    commit_id: None,
                    commit_message: String::new(),
                    diff: diff.to_string(),
                })
                .collect(),
        }
    }

    /// The interdiff compares end states: a line v1 added and v2 adds
    /// differently shows as that line changing, not as a diff of diffs.
    #[test]
    fn the_interdiff_is_the_reviewers() {
        let v1 = series(1, &["diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -100,3 +100,3 @@\n \tobj = get_obj();\n-\tfree(obj);\n+\tkfree(obj);\n \tspin_unlock(&lock);\n"]);
        let v2 = series(2, &["diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -100,3 +100,3 @@\n \tobj = get_obj();\n-\tfree(obj);\n+\tkmem_cache_free(cache, obj);\n \tspin_unlock(&lock);\n"]);
        let shown = interdiff(&v1, &v2);
        assert_eq!(shown.earlier_version, 1);
        assert_eq!(shown.files.len(), 1, "{shown:?}");
        let text = &shown.files[0].text;
        assert!(
            text.contains("-\tkfree(obj);\n+\tkmem_cache_free(cache, obj);\n"),
            "{text}"
        );
    }
}
