//! The API `sashiko review` uses: messages, series, reviews, findings,
//! cursors, on both backends.

mod common;

use common::builders::{finding, outcome, review, series};
use common::TestDb;
use sashiko_store::{NewMessage, ReviewStatus, StoreError, Table};

async fn messages_are_idempotent_and_kept_byte_for_byte(db: &TestDb) {
    let store = &db.store;
    // Not valid UTF-8 on purpose: raw bytes must survive.
    let raw: &[u8] = b"From: a@example.org\r\nSubject: x\r\n\r\nbody \xff\xfe\r\n";
    let cases = [
        (
            "one@example.org",
            Some("linux-mm@kvack.org"),
            Some("Sat, 21 Nov 2026 10:00:00 +0000"),
        ),
        (
            "two@example.org",
            Some("linux-mm@kvack.org"),
            Some("2026-11-21T10:00:00Z"),
        ),
        ("three@example.org", None, None),
    ];
    for (message_id, list, date) in cases {
        let message = NewMessage {
            message_id,
            raw,
            subject: "x",
            author: "a@example.org",
            date: date.map(str::to_string),
            list,
            in_reply_to: Some("parent@example.org"),
        };
        let first = store.upsert_message(&message).await.expect("first upsert");
        let second = store.upsert_message(&message).await.expect("second upsert");
        assert!(first.inserted, "{message_id}: first upsert inserts");
        assert!(!second.inserted, "{message_id}: second upsert finds it");
        assert_eq!(first.id, second.id, "{message_id}: same row");
        let stored = store
            .message_raw(message_id)
            .await
            .expect("reading raw")
            .expect("message exists");
        assert_eq!(stored, raw, "{message_id}: raw bytes kept");
    }
    assert_eq!(store.count(Table::Messages).await.expect("count"), 3);
    assert_eq!(store.count(Table::Lists).await.expect("count"), 1);
}

async fn series_versions_and_patches_are_idempotent(db: &TestDb) {
    let store = &db.store;
    let v1 = store
        .upsert_series_version(&series("s1", 1, 3))
        .await
        .expect("v1");
    let v1_again = store
        .upsert_series_version(&series("s1", 1, 3))
        .await
        .expect("v1 again");
    let v2 = store
        .upsert_series_version(&series("s1", 2, 2))
        .await
        .expect("v2");
    let other = store
        .upsert_series_version(&series("s2", 1, 1))
        .await
        .expect("other series");
    assert_eq!(v1, v1_again);
    assert_ne!(v1, v2);
    assert_ne!(v2, other);
    assert_eq!(store.count(Table::Series).await.expect("count"), 2);
    assert_eq!(store.count(Table::SeriesVersions).await.expect("count"), 3);
    assert_eq!(store.count(Table::Patches).await.expect("count"), 3 + 2 + 1);
}

async fn reviews_store_findings_in_one_transaction(db: &TestDb) {
    let store = &db.store;
    let version = store
        .upsert_series_version(&series("s1", 1, 3))
        .await
        .expect("series");
    let id = store.start_review(&review(version)).await.expect("start");
    assert_eq!(
        store.review_status(id).await.expect("status").as_deref(),
        Some("running")
    );
    let findings = vec![
        finding("mm/slub.c", 10, false, "fp-a"),
        finding("mm/slab.c", 20, false, "fp-b"),
    ];
    store
        .finish_review(id, &outcome(ReviewStatus::Finished, findings))
        .await
        .expect("finish");
    assert_eq!(
        store.review_status(id).await.expect("status").as_deref(),
        Some("finished")
    );
    assert_eq!(store.count(Table::Findings).await.expect("count"), 2);
    assert_eq!(store.count(Table::Reviews).await.expect("count"), 1);

    // A review is finished once; the second attempt changes nothing.
    let again = store
        .finish_review(
            id,
            &outcome(
                ReviewStatus::Finished,
                vec![finding("mm/x.c", 1, false, "fp-c")],
            ),
        )
        .await;
    assert!(
        matches!(again, Err(StoreError::Invalid(_))),
        "second finish is refused: {again:?}"
    );
    assert_eq!(store.count(Table::Findings).await.expect("count"), 2);

    // A failed review keeps its status and error, never "finished".
    let failed = store.start_review(&review(version)).await.expect("start");
    let mut failure = outcome(ReviewStatus::Failed, vec![]);
    failure.error = Some("stage locking: endpoint http://127.0.0.1:9/v1 answered 500".to_string());
    store
        .finish_review(failed, &failure)
        .await
        .expect("finish failed");
    assert_eq!(
        store
            .review_status(failed)
            .await
            .expect("status")
            .as_deref(),
        Some("failed")
    );
    // A running review that never finishes stays running.
    let abandoned = store.start_review(&review(version)).await.expect("start");
    assert_eq!(
        store
            .review_status(abandoned)
            .await
            .expect("status")
            .as_deref(),
        Some("running")
    );
}

async fn finishing_an_unknown_review_is_an_error(db: &TestDb) {
    let result = db
        .store
        .finish_review(
            sashiko_store::ReviewId(424242),
            &outcome(ReviewStatus::Finished, vec![]),
        )
        .await;
    let error = result.expect_err("unknown review");
    assert!(
        error.to_string().contains("424242"),
        "error names the review: {error}"
    );
}

async fn cursors_round_trip(db: &TestDb) {
    let store = &db.store;
    let cases = [
        ("lore:linux-mm", "1"),
        ("nntp:lkml", "42"),
        ("lore:linux-mm", "17"),
    ];
    for (source, value) in cases {
        store.set_cursor(source, value).await.expect("set");
        assert_eq!(
            store.get_cursor(source).await.expect("get").as_deref(),
            Some(value)
        );
    }
    assert_eq!(store.get_cursor("never-set").await.expect("get"), None);
    assert_eq!(store.count(Table::IngestCursors).await.expect("count"), 2);
}

both_backends! {
    messages_idempotent => crate::messages_are_idempotent_and_kept_byte_for_byte;
    series_idempotent => crate::series_versions_and_patches_are_idempotent;
    reviews_transactional => crate::reviews_store_findings_in_one_transaction;
    unknown_review => crate::finishing_an_unknown_review_is_an_error;
    cursors => crate::cursors_round_trip;
}

#[tokio::test]
async fn sqlite_url_creates_parent_directories_and_rejects_other_schemes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a/b/c/sashiko.db");
    let store = sashiko_store::Store::connect(&format!("sqlite:{}", path.display()))
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    store.migrate().await.expect("migrating twice is a no-op");
    assert!(path.exists(), "database file created at {}", path.display());
    for url in ["mysql://localhost/x", "/just/a/path", ""] {
        let error = sashiko_store::Store::connect(url)
            .await
            .expect_err("unsupported");
        assert!(
            error.to_string().contains("unsupported database URL"),
            "{url}: {error}"
        );
    }
}
