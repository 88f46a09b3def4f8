//! What the application layer reads to queue reviews, on both backends:
//! the patch watermark, versions with new patches, a version with its
//! patches, whether a job key was ever queued, the stored key of a version
//! arriving alone, known bug fingerprints, and how a review met the tree.

mod common;

use common::builders::{finding, outcome, review, series};
use common::TestDb;
use sashiko_store::{
    BugState, NewJob, ReviewStatus, ReviewTree, SeriesVersionId, StateChange, TouchedVersion,
};

async fn queue_candidates_read_typed_rows(db: &TestDb) {
    let store = &db.store;
    assert_eq!(store.newest_patch_row().await.expect("empty"), 0);
    assert!(store
        .versions_with_patches_after(0)
        .await
        .expect("none")
        .is_empty());
    assert_eq!(
        store
            .version_to_queue(SeriesVersionId(12345))
            .await
            .expect("read"),
        None
    );

    let v1 = store
        .upsert_series_version(&series("key-a", 1, 2))
        .await
        .expect("v1");
    let watermark = store.newest_patch_row().await.expect("newest");
    assert!(watermark > 0);
    let v2 = store
        .upsert_series_version(&series("key-a", 2, 3))
        .await
        .expect("v2");
    let newest = store.newest_patch_row().await.expect("newest");
    assert!(newest > watermark);
    let touched = store
        .versions_with_patches_after(watermark)
        .await
        .expect("touched");
    assert_eq!(
        touched,
        vec![TouchedVersion {
            series_version: v2,
            newest_patch: newest
        }]
    );
    let all = store.versions_with_patches_after(0).await.expect("all");
    let ids: Vec<SeriesVersionId> = all.iter().map(|t| t.series_version).collect();
    assert_eq!(ids, vec![v1, v2]);

    let queued = store
        .version_to_queue(v2)
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(queued.series_key, "key-a");
    assert_eq!((queued.version, queued.total), (2, 3));
    assert_eq!(queued.title, "mm: fix things (v2)");
    assert_eq!(queued.author, "A U Thor <author@example.org>");
    assert_eq!(
        queued.cover_message_id.as_deref(),
        Some("cover-key-a-v2@example.org")
    );
    let indexes: Vec<u32> = queued.patches.iter().map(|p| p.index).collect();
    assert_eq!(indexes, vec![1, 2, 3]);
    assert_eq!(queued.patches[0].message_id, "key-a-v2-1@example.org");
    assert!(queued.patches[2]
        .commit_message
        .starts_with("mm: fix thing 3"));

    // A version stored under one key is found by its first patch mail.
    assert_eq!(
        store
            .stored_series_key(2, "key-a-v2-1@example.org")
            .await
            .expect("lookup")
            .as_deref(),
        Some("key-a")
    );
    assert_eq!(
        store
            .stored_series_key(3, "key-a-v2-1@example.org")
            .await
            .expect("lookup"),
        None,
        "the same mail as another version number is not that version"
    );

    // A job key counts as queued in any status.
    assert!(!store.job_was_queued("review:key-a:v2").await.expect("read"));
    store
        .enqueue(&NewJob {
            kind: "review".to_owned(),
            payload: serde_json::json!({}),
            dedup_key: Some("review:key-a:v2".to_owned()),
            series_key: Some("lineage".to_owned()),
            series_version: Some(2),
            priority: 0,
            max_attempts: 1,
        })
        .await
        .expect("enqueue");
    assert!(store.job_was_queued("review:key-a:v2").await.expect("read"));
    assert!(!store.job_was_queued("review:key-a:v1").await.expect("read"));

    // Only bugs marked known give fingerprints.
    assert!(store
        .known_bug_fingerprints()
        .await
        .expect("none")
        .is_empty());
    let started = store.start_review(&review(v1)).await.expect("start");
    let finished = store
        .finish_review_with_ids(
            started,
            &outcome(
                ReviewStatus::Finished,
                vec![
                    finding("mm/a.c", 3, true, "fp-known"),
                    finding("mm/b.c", 5, true, "fp-open"),
                ],
            ),
        )
        .await
        .expect("finish");
    assert_eq!(finished.bugs_opened, 2);
    let bug = store
        .finding_bug(finished.findings[0])
        .await
        .expect("read")
        .expect("a bug");
    store
        .set_bug_state(
            bug,
            &StateChange {
                to: BugState::Known,
                actor: "maint@example.org".to_owned(),
                reason: "a TODO in the tree".to_owned(),
                duplicate_of: None,
            },
        )
        .await
        .expect("known");
    let known = store.known_bug_fingerprints().await.expect("known");
    assert_eq!(known.into_iter().collect::<Vec<_>>(), vec!["fp-known"]);
}

both_backends! {
    queue_candidates => crate::queue_candidates_read_typed_rows;
}

async fn review_tree_is_stored_and_read_back(db: &TestDb) {
    let store = &db.store;
    let version = store
        .upsert_series_version(&series("tree-key", 1, 1))
        .await
        .expect("version");
    let started = store.start_review(&review(version)).await.expect("start");
    assert_eq!(store.review_tree(started).await.expect("read"), None);
    let tree = ReviewTree {
        status: "three_way".to_owned(),
        base: Some("0123456789abcdef0123456789abcdef01234567".to_owned()),
        note: "applied on 0123456789ab (head of main); patch 2 with a 3-way merge".to_owned(),
    };
    store.set_review_tree(started, &tree).await.expect("record");
    let read = store.review_tree(started).await.expect("read");
    assert_eq!(read.as_ref(), Some(&tree));
    assert!(read.is_some_and(|tree| tree.has_tree_context()));
    let none = ReviewTree {
        status: "not_applied".to_owned(),
        base: None,
        note: "reviewed without tree context: patch 1 does not apply".to_owned(),
    };
    store.set_review_tree(started, &none).await.expect("record");
    let read = store
        .review_tree(started)
        .await
        .expect("read")
        .expect("some");
    assert!(!read.has_tree_context());
    assert_eq!(read.base, None);
    let missing = store
        .set_review_tree(sashiko_store::ReviewId(987_654), &none)
        .await
        .expect_err("no such review");
    assert!(missing.to_string().contains("review 987654"), "{missing}");
}

both_backends! {
    review_tree => crate::review_tree_is_stored_and_read_back;
}
