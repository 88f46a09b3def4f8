//! The one conversion from each source of patches to what the reviewer
//! looks at ([`ReviewPatch`], [`ReviewSeries`]): a parsed mail, a local
//! commit formatted as `git format-patch` would, and a patch read back from
//! the store. `sashiko review`, the worker, the list bot and the evaluation
//! harness all build their series here, so a field added to `ReviewPatch`
//! is filled the same way on every path.
//!
//! Pure: values in, values out.

use sashiko_ingest::git_range::FormattedCommit;
use sashiko_mail::ParsedMessage;
use sashiko_review::{ReviewPatch, ReviewSeries};
use sashiko_store::StoredPatch;

/// Patch `index` (1-based) of a mailed series, from its parsed mail.
pub fn patch_from_mail(index: u32, message: &ParsedMessage) -> ReviewPatch {
    ReviewPatch {
        index,
        subject: message.tags.title.clone(),
        author: mail_author(message),
        message_id: Some(message.message_id.clone()),
        commit_id: None,
        commit_message: message.commit_message.clone(),
        diff: message.diff.clone(),
    }
}

/// Patch `index` (1-based) of a series of local commits. `message_id` is
/// the synthetic id the commit is stored under, when it is stored.
pub fn patch_from_commit(
    index: u32,
    commit: &FormattedCommit,
    message_id: Option<String>,
) -> ReviewPatch {
    ReviewPatch {
        index,
        subject: commit.summary.clone(),
        author: commit.author.clone(),
        message_id,
        commit_id: Some(commit.commit_id.clone()),
        commit_message: commit.body.clone(),
        diff: commit.diff.clone(),
    }
}

/// A patch of an earlier version, as the store kept it.
pub fn patch_from_stored(patch: StoredPatch) -> ReviewPatch {
    ReviewPatch {
        index: patch.index,
        subject: patch.subject,
        author: patch.author,
        message_id: Some(patch.message_id),
        commit_id: None,
        commit_message: patch.commit_message,
        diff: patch.diff,
    }
}

/// A series of the given patches (in order).
pub fn review_series(
    title: impl Into<String>,
    version: u32,
    cover_letter: Option<String>,
    patches: Vec<ReviewPatch>,
) -> ReviewSeries {
    ReviewSeries {
        title: title.into(),
        version,
        cover_letter,
        patches,
    }
}

/// A one-patch series titled by its patch (a corpus entry, one commit).
pub fn single_patch_series(patch: ReviewPatch) -> ReviewSeries {
    review_series(patch.subject.clone(), 1, None, vec![patch])
}

/// The `From:` of a mail as `Name <address>`, or empty.
pub fn mail_author(message: &ParsedMessage) -> String {
    message
        .from
        .as_ref()
        .map(|person| person.display())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAIL: &[u8] = b"From: Ada Dev <ada@example.org>\nSubject: [PATCH v2 1/2] mm: fix the frobnicator\n\
Message-ID: <p1@example.org>\nDate: Mon, 1 Sep 2025 10:00:00 +0000\n\n\
The frobnicator leaks.\n\nSigned-off-by: Ada Dev <ada@example.org>\n---\n\
diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1,2 +1,3 @@\n int a;\n+int b;\n int c;\n";

    #[test]
    fn a_mail_becomes_a_patch_with_its_title_author_and_diff() {
        let parsed = sashiko_mail::parse_message(MAIL);
        let patch = patch_from_mail(1, &parsed);
        assert_eq!(patch.index, 1);
        assert_eq!(patch.subject, "mm: fix the frobnicator");
        assert_eq!(patch.author, "Ada Dev <ada@example.org>");
        assert_eq!(patch.message_id.as_deref(), Some("p1@example.org"));
        assert_eq!(patch.commit_id, None);
        assert!(patch.commit_message.contains("The frobnicator leaks."));
        assert!(patch.diff.contains("+int b;"), "{}", patch.diff);
        let series = single_patch_series(patch.clone());
        assert_eq!(series.title, "mm: fix the frobnicator");
        assert_eq!(series.version, 1);
        assert_eq!(series.patches, vec![patch]);
    }

    #[test]
    fn commits_and_stored_patches_keep_their_ids() {
        let commit = FormattedCommit {
            commit_id: "0123abcd".to_owned(),
            summary: "mm: tidy".to_owned(),
            author: "Ada <ada@example.org>".to_owned(),
            date: "Mon, 1 Sep 2025 10:00:00 +0000".to_owned(),
            body: "Tidy.".to_owned(),
            diff: "--- a/x\n+++ b/x\n".to_owned(),
            mbox: String::new(),
        };
        let patch = patch_from_commit(2, &commit, Some("0123abcd@git.sashiko.invalid".to_owned()));
        assert_eq!(
            (
                patch.index,
                patch.commit_id.as_deref(),
                patch.subject.as_str()
            ),
            (2, Some("0123abcd"), "mm: tidy")
        );
        assert_eq!(patch.commit_message, "Tidy.");
        let stored = patch_from_stored(StoredPatch {
            index: 3,
            message_id: "m@x".to_owned(),
            subject: "s".to_owned(),
            author: "a".to_owned(),
            commit_message: "c".to_owned(),
            diff: "d".to_owned(),
        });
        assert_eq!(stored.message_id.as_deref(), Some("m@x"));
        assert_eq!((stored.index, stored.commit_id), (3, None));
    }
}
