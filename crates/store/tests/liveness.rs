//! Interrupted reviews on both backends: a review whose process stops
//! renewing its lease, and a review whose job attempt loses the job, are
//! marked `interrupted` with the reason; the retry starts a new review; an
//! interrupted review can never be finished afterwards; and a job whose
//! worker died right after storing its review is completed from it.

mod common;

use std::time::Duration;

use common::builders::{outcome, review, series};
use common::TestDb;
use sashiko_store::{
    run_as_job_attempt, ConnectOptions, Enqueued, JobId, JobStatus, NewJob, QueueConfig, ReviewId,
    ReviewStatus, Store, StoreError,
};

/// A second pool on the test database whose reviews have a short lease.
async fn short_lease_store(db: &TestDb, lease: Duration) -> Store {
    let options = ConnectOptions {
        review_lease: lease,
        ..ConnectOptions::default()
    };
    Store::connect_with(&db.url, &options)
        .await
        .expect("connect with a short review lease")
}

async fn status_and_error(store: &Store, id: ReviewId) -> (String, String) {
    let rows = store
        .web_rows(
            "a review's status",
            "SELECT status, error FROM reviews WHERE id = $1",
            &[sashiko_store::web_queries::SqlParam::Int(id.0)],
        )
        .await
        .expect("read review");
    let row = rows.first().expect("review exists");
    let text = |name: &str| {
        row.get(name)
            .and_then(|v| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    (text("status"), text("error"))
}

async fn enqueue_one(store: &Store, name: &str) -> JobId {
    let mut job = NewJob::new("review", serde_json::json!({ "name": name }));
    job.max_attempts = 3;
    match store.enqueue(&job).await.expect("enqueue") {
        Enqueued::Added { id, .. } => id,
        other => panic!("expected a new job, got {other:?}"),
    }
}

/// A job `name` enqueued and claimed by `worker-a` for `lease`, and the
/// review its attempt started.
struct Attempt {
    job: JobId,
    claimed: sashiko_store::ClaimedJob,
    review: ReviewId,
    version: sashiko_store::SeriesVersionId,
}

async fn attempt_with_review(store: &Store, name: &str, lease: Duration) -> Attempt {
    let version = store
        .upsert_series_version(&series(name, 1, 1))
        .await
        .expect("series");
    let job = enqueue_one(store, name).await;
    let claimed = store
        .claim("worker-a", lease)
        .await
        .expect("claim")
        .expect("job");
    let review = run_as_job_attempt(&claimed, store.start_review(&review(version)))
        .await
        .expect("start");
    Attempt {
        job,
        claimed,
        review,
        version,
    }
}

async fn reviews_without_heartbeat_are_interrupted(db: &TestDb) {
    let store = short_lease_store(db, Duration::from_millis(400)).await;
    let version = store
        .upsert_series_version(&series("live", 1, 1))
        .await
        .expect("series");
    let alive = store.start_review(&review(version)).await.expect("start");
    let heartbeat = store.keep_review_alive(alive);
    let silent = store.start_review(&review(version)).await.expect("start");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert_eq!(store.interrupt_stale_reviews().await.expect("sweep"), 1);
    let (status, error) = status_and_error(&store, silent).await;
    assert_eq!(status, "interrupted");
    assert!(error.contains("no heartbeat"), "reason given: {error}");
    assert_eq!(status_and_error(&store, alive).await.0, "running");
    let counts = store.review_counts().await.expect("counts");
    assert_eq!(counts.stale, 0);
    assert!(
        counts.by_status.contains(&("interrupted".to_string(), 1)),
        "{counts:?}"
    );

    // The interrupted review's late outcome is refused and changes nothing.
    let late = store
        .finish_review(silent, &outcome(ReviewStatus::Finished, vec![]))
        .await;
    match late {
        Err(StoreError::Invalid(message)) => {
            assert!(message.contains("interrupted"), "{message}")
        }
        other => panic!("finishing an interrupted review must fail, got {other:?}"),
    }
    assert_eq!(status_and_error(&store, silent).await.0, "interrupted");

    // The live review finishes normally.
    store
        .finish_review(alive, &outcome(ReviewStatus::Finished, vec![]))
        .await
        .expect("finish the live review");
    drop(heartbeat);

    // A process that stops (its heartbeat dropped) is found by the next start.
    let dropped = store.start_review(&review(version)).await.expect("start");
    drop(store.keep_review_alive(dropped));
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let next = store.start_review(&review(version)).await.expect("start");
    assert_eq!(status_and_error(&store, dropped).await.0, "interrupted");
    assert_eq!(status_and_error(&store, next).await.0, "running");
    store.close().await;
}

async fn a_lost_job_attempt_interrupts_its_review(db: &TestDb) {
    let store = &db.store;
    let Attempt {
        job: id,
        review: old_review,
        version,
        ..
    } = attempt_with_review(store, "slow", Duration::from_millis(200)).await;
    let _old_heartbeat = store.keep_review_alive(old_review);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // worker-a is gone (no job heartbeat): worker-b's claim hands the job back.
    let second = store
        .claim("worker-b", Duration::from_secs(30))
        .await
        .expect("claim")
        .expect("recovered job");
    assert_eq!((second.id, second.attempt), (id, 2));
    let (status, error) = status_and_error(store, old_review).await;
    assert_eq!(status, "interrupted", "the old attempt's review is marked");
    assert!(
        error.contains(&format!("job {} attempt 1", id.0)) && error.contains("worker-a"),
        "reason names the job, attempt and worker: {error}"
    );
    let new_review = run_as_job_attempt(&second, store.start_review(&review(version)))
        .await
        .expect("start");
    assert_ne!(new_review, old_review, "the retry starts a new review");
    store
        .finish_review(new_review, &outcome(ReviewStatus::Finished, vec![]))
        .await
        .expect("finish");
    store
        .complete_job(&second, &serde_json::json!({ "review_id": new_review.0 }))
        .await
        .expect("complete");
    assert!(store
        .finish_review(old_review, &outcome(ReviewStatus::Finished, vec![]))
        .await
        .is_err());
    let listed = store.job_reviews(&[id.0]).await.expect("job reviews");
    let summary: Vec<(i64, &str)> = listed
        .iter()
        .map(|row| (row.attempt, row.status.as_str()))
        .collect();
    assert_eq!(summary, [(1, "interrupted"), (2, "finished")]);
}

async fn a_zombie_attempt_cannot_finish_its_review(db: &TestDb) {
    let store = &db.store;
    let Attempt {
        job: id,
        review: review_id,
        ..
    } = attempt_with_review(store, "zombie", Duration::from_millis(200)).await;
    // The review keeps its own heartbeat, but the job lease expires.
    let _heartbeat = store.keep_review_alive(review_id);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(store.recover_expired_leases().await.expect("recover"), 1);
    let late = store
        .finish_review(review_id, &outcome(ReviewStatus::Finished, vec![]))
        .await;
    assert!(
        late.is_err(),
        "a review of a lost attempt is not finished: {late:?}"
    );
    assert_eq!(status_and_error(store, review_id).await.0, "interrupted");
    assert_eq!(
        store.job(id).await.expect("job").expect("exists").status,
        JobStatus::Queued
    );
}

async fn a_failed_attempt_interrupts_the_review_it_left_running(db: &TestDb) {
    let store = &db.store;
    let Attempt {
        claimed,
        review: review_id,
        ..
    } = attempt_with_review(store, "failing", Duration::from_secs(30)).await;
    let retry_now = QueueConfig {
        retry_base: Duration::ZERO,
        ..QueueConfig::default()
    };
    assert_eq!(
        store
            .fail_job(&claimed, "model unreachable", false, &retry_now)
            .await
            .expect("fail"),
        JobStatus::Queued
    );
    let (status, error) = status_and_error(store, review_id).await;
    assert_eq!(status, "interrupted");
    assert!(error.contains("model unreachable"), "{error}");
}

async fn a_job_whose_dead_worker_stored_its_review_is_completed_from_it(db: &TestDb) {
    let store = &db.store;
    let Attempt {
        job: id,
        claimed,
        review: review_id,
        ..
    } = attempt_with_review(store, "stored", Duration::from_millis(200)).await;
    store
        .finish_review(review_id, &outcome(ReviewStatus::Finished, vec![]))
        .await
        .expect("finish");
    // worker-a dies here, before marking the job done.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let recovered = store.recover().await.expect("recover");
    assert_eq!(
        (recovered.jobs, recovered.completed),
        (0, 1),
        "{recovered:?}"
    );
    let job = store.job(id).await.expect("job").expect("exists");
    assert_eq!((job.status, job.attempts), (JobStatus::Done, 1));
    let result = job.result.expect("result");
    assert_eq!(result["review_id"], review_id.0);
    assert!(
        result["completed_by"]
            .as_str()
            .is_some_and(|why| why.contains("worker-a")),
        "{result}"
    );
    // Not run again, and the late completion of the dead attempt is refused.
    assert!(store
        .claim("worker-b", Duration::from_secs(30))
        .await
        .expect("claim")
        .is_none());
    assert!(store
        .complete_job(&claimed, &serde_json::json!({}))
        .await
        .is_err());
}

both_backends! {
    stored_review => crate::a_job_whose_dead_worker_stored_its_review_is_completed_from_it;
    stale => crate::reviews_without_heartbeat_are_interrupted;
    lost_attempt => crate::a_lost_job_attempt_interrupts_its_review;
    zombie => crate::a_zombie_attempt_cannot_finish_its_review;
    failed_attempt => crate::a_failed_attempt_interrupts_the_review_it_left_running;
}
