//! The job queue on both backends: dedup, priorities, supersede, leases,
//! fencing, retries, dead letters and the worker loop.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::TestDb;
use sashiko_store::{
    run_worker, ClaimedJob, Enqueued, JobFailure, JobHandler, JobId, JobStatus, NewJob,
    QueueConfig, Store, WorkerConfig,
};

const LEASE: Duration = Duration::from_secs(30);

fn job(name: &str) -> NewJob {
    NewJob::new("test", serde_json::json!({ "name": name }))
}

async fn added(store: &Store, new_job: &NewJob) -> JobId {
    match store.enqueue(new_job).await.expect("enqueue") {
        Enqueued::Added { id, .. } => id,
        other => panic!("expected a new job for {new_job:?}, got {other:?}"),
    }
}

async fn status(store: &Store, id: JobId) -> JobStatus {
    store
        .job(id)
        .await
        .expect("read job")
        .expect("job exists")
        .status
}

async fn dedup_keys_allow_one_active_job(db: &TestDb) {
    let store = &db.store;
    let mut keyed = job("a");
    keyed.dedup_key = Some("review:a".to_string());
    let first = added(store, &keyed).await;
    assert_eq!(
        store.enqueue(&keyed).await.expect("enqueue"),
        Enqueued::Existing { id: first }
    );
    let claimed = store
        .claim("w", LEASE)
        .await
        .expect("claim")
        .expect("a job");
    assert_eq!(claimed.id, first);
    // Still active while running.
    assert_eq!(
        store.enqueue(&keyed).await.expect("enqueue"),
        Enqueued::Existing { id: first }
    );
    store
        .complete_job(&claimed, &serde_json::json!({ "ok": true }))
        .await
        .expect("complete");
    // Done: the key is free again (a re-review is a new job).
    let second = added(store, &keyed).await;
    assert_ne!(first, second);
}

async fn claims_follow_priority_then_age(db: &TestDb) {
    let store = &db.store;
    let cases = [
        ("low-old", -1),
        ("normal-old", 0),
        ("critical", 10),
        ("normal-new", 0),
        ("low-new", -1),
    ];
    for (name, priority) in cases {
        let mut new_job = job(name);
        new_job.priority = priority;
        added(store, &new_job).await;
    }
    let mut order = Vec::new();
    while let Some(claimed) = store.claim("w", LEASE).await.expect("claim") {
        order.push(claimed.payload["name"].as_str().expect("name").to_string());
    }
    assert_eq!(
        order,
        ["critical", "normal-old", "normal-new", "low-old", "low-new"]
    );
}

async fn newer_versions_supersede_queued_older_ones(db: &TestDb) {
    let store = &db.store;
    let version = |number: u32| {
        let mut new_job = job(&format!("v{number}"));
        new_job.series_key = Some("mm-fix".to_string());
        new_job.series_version = Some(number);
        new_job
    };
    let v1 = added(store, &version(1)).await;
    let other_series = added(store, &job("unrelated")).await;
    match store.enqueue(&version(2)).await.expect("enqueue v2") {
        Enqueued::Added { superseded, .. } => assert_eq!(superseded, 1),
        other => panic!("v2 should be added, got {other:?}"),
    }
    assert_eq!(status(store, v1).await, JobStatus::Superseded);
    assert_eq!(status(store, other_series).await, JobStatus::Queued);
    let v2 = store
        .list_jobs(Some(JobStatus::Queued), 10)
        .await
        .expect("list");
    let v2 = v2
        .iter()
        .find(|listed| listed.series_version == Some(2))
        .expect("v2 queued")
        .id;
    // An older version arriving late does not displace the newer one.
    assert_eq!(
        store.enqueue(&version(1)).await.expect("enqueue v1"),
        Enqueued::Obsolete { newer: JobId(v2) }
    );
    let superseded = store.job(v1).await.expect("read").expect("exists");
    assert!(
        superseded
            .last_error
            .unwrap_or_default()
            .contains("version 2"),
        "reason recorded"
    );
}

async fn expired_leases_are_recovered_and_fenced(db: &TestDb) {
    let store = &db.store;
    let id = added(store, &job("slow")).await;
    let stale = store
        .claim("worker-a", Duration::from_millis(200))
        .await
        .expect("claim")
        .expect("job");
    assert_eq!((stale.id, stale.attempt), (id, 1));
    // Nothing else to claim while the lease holds.
    assert!(store
        .claim("worker-b", LEASE)
        .await
        .expect("claim")
        .is_none());
    tokio::time::sleep(Duration::from_millis(400)).await;
    let fresh = store
        .claim("worker-b", LEASE)
        .await
        .expect("claim")
        .expect("recovered job");
    assert_eq!((fresh.id, fresh.attempt), (id, 2));
    let listed = store.job(id).await.expect("read").expect("exists");
    assert!(
        listed.last_error.unwrap_or_default().contains("worker-a"),
        "recovery names the old worker"
    );
    // The old owner can neither extend, complete nor fail it.
    assert!(store.heartbeat(&stale, LEASE).await.is_err());
    assert!(store
        .complete_job(&stale, &serde_json::json!("stale"))
        .await
        .is_err());
    assert!(store
        .fail_job(&stale, "stale", false, &QueueConfig::default())
        .await
        .is_err());
    // Even the same worker name cannot complete an older attempt.
    let same_name_stale = ClaimedJob {
        worker: "worker-b".to_string(),
        ..stale.clone()
    };
    assert!(store
        .complete_job(&same_name_stale, &serde_json::json!("stale"))
        .await
        .is_err());
    store
        .complete_job(&fresh, &serde_json::json!("fresh"))
        .await
        .expect("complete");
    let done = store.job(id).await.expect("read").expect("exists");
    assert_eq!(
        (done.status, done.result),
        (JobStatus::Done, Some(serde_json::json!("fresh")))
    );
}

async fn failures_retry_with_backoff_then_go_dead(db: &TestDb) {
    let store = &db.store;
    let mut new_job = job("flaky");
    new_job.max_attempts = 3;
    let id = added(store, &new_job).await;
    let backoff = QueueConfig {
        retry_base: Duration::from_secs(3600),
        retry_max: Duration::from_secs(7200),
        ..QueueConfig::default()
    };
    let claimed = store.claim("w", LEASE).await.expect("claim").expect("job");
    assert_eq!(
        store
            .fail_job(&claimed, "boom 1", false, &backoff)
            .await
            .expect("fail"),
        JobStatus::Queued
    );
    // Backing off: not claimable yet.
    assert!(store.claim("w", LEASE).await.expect("claim").is_none());
    let listed = store.job(id).await.expect("read").expect("exists");
    assert!(
        listed.run_at > listed.created_at + 3_000_000,
        "run_at is an hour out"
    );
    assert_eq!(listed.last_error.as_deref(), Some("boom 1"));

    let immediate = QueueConfig {
        retry_base: Duration::ZERO,
        ..QueueConfig::default()
    };
    let mut other = job("other");
    other.max_attempts = 3;
    let other_id = added(store, &other).await;
    for attempt in 1..=3 {
        let claimed = store.claim("w", LEASE).await.expect("claim").expect("job");
        assert_eq!((claimed.id, claimed.attempt), (other_id, attempt));
        let expected = if attempt < 3 {
            JobStatus::Queued
        } else {
            JobStatus::Dead
        };
        assert_eq!(
            store
                .fail_job(&claimed, "boom", false, &immediate)
                .await
                .expect("fail"),
            expected
        );
    }
    let mut doomed = job("bad input");
    doomed.max_attempts = 5;
    let doomed_id = added(store, &doomed).await;
    let claimed = store.claim("w", LEASE).await.expect("claim").expect("job");
    assert_eq!(claimed.id, doomed_id);
    assert_eq!(
        store
            .fail_job(&claimed, "unparsable", true, &immediate)
            .await
            .expect("fail"),
        JobStatus::Dead
    );
    let counts: HashMap<_, _> = store
        .job_counts()
        .await
        .expect("counts")
        .into_iter()
        .collect();
    assert_eq!(
        (counts[&JobStatus::Dead], counts[&JobStatus::Queued]),
        (2, 1)
    );
}

async fn an_expired_lease_out_of_attempts_is_dead(db: &TestDb) {
    let store = &db.store;
    let mut new_job = job("crashes");
    new_job.max_attempts = 1;
    let id = added(store, &new_job).await;
    store
        .claim("w", Duration::from_millis(100))
        .await
        .expect("claim")
        .expect("job");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(store.recover_expired_leases().await.expect("recover"), 1);
    assert_eq!(status(store, id).await, JobStatus::Dead);
}

/// Counts every run per job; fails the first attempt of every fifth job.
struct CountingHandler {
    runs: Mutex<HashMap<i64, u32>>,
}

impl JobHandler for CountingHandler {
    async fn run(&self, job: ClaimedJob) -> Result<serde_json::Value, JobFailure> {
        let run = {
            let mut runs = self.runs.lock().expect("lock");
            let count = runs.entry(job.id.0).or_default();
            *count += 1;
            *count
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        if job.id.0 % 5 == 0 && job.attempt == 1 {
            return Err(JobFailure::transient(format!(
                "job {} fails its first attempt",
                job.id.0
            )));
        }
        Ok(serde_json::json!({ "job": job.id.0, "run": run }))
    }
}

async fn the_worker_loop_runs_every_job_exactly_once(db: &TestDb) {
    let store = &db.store;
    let n_jobs = 60;
    for index in 0..n_jobs {
        added(store, &job(&format!("job {index}"))).await;
    }
    let handler = Arc::new(CountingHandler {
        runs: Mutex::new(HashMap::new()),
    });
    let mut config = WorkerConfig::new("test-worker");
    config.concurrency = 4;
    config.exit_when_idle = true;
    config.poll_interval = Duration::from_millis(20);
    config.queue.retry_base = Duration::ZERO;
    let report = run_worker(
        store.clone(),
        config,
        handler.clone(),
        std::future::pending(),
    )
    .await
    .expect("worker");
    assert_eq!(report.completed, n_jobs);
    assert_eq!(report.lost, 0);
    let done = store
        .list_jobs(Some(JobStatus::Done), 1000)
        .await
        .expect("list");
    assert_eq!(done.len() as u64, n_jobs);
    let runs = handler.runs.lock().expect("lock");
    for listed in &done {
        let expected = if listed.id % 5 == 0 { 2 } else { 1 };
        assert_eq!(
            runs[&listed.id], expected,
            "job {} ran {} times",
            listed.id, runs[&listed.id]
        );
        assert_eq!(listed.attempts, i64::from(expected));
    }
    assert_eq!(
        report.failed,
        runs.keys().filter(|id| *id % 5 == 0).count() as u64
    );
}

async fn concurrent_claimers_never_share_a_job(db: &TestDb) {
    let store = &db.store;
    for index in 0..200 {
        added(store, &job(&format!("job {index}"))).await;
    }
    let mut claimers = tokio::task::JoinSet::new();
    for claimer in 0..4 {
        let store = store.clone();
        claimers.spawn(async move {
            let mut mine = Vec::new();
            while let Some(claimed) = store
                .claim(&format!("claimer-{claimer}"), LEASE)
                .await
                .expect("claim")
            {
                store
                    .complete_job(&claimed, &serde_json::json!(claimer))
                    .await
                    .expect("complete");
                mine.push(claimed.id.0);
            }
            mine
        });
    }
    let mut all = Vec::new();
    while let Some(mine) = claimers.join_next().await {
        all.extend(mine.expect("claimer task"));
    }
    all.sort_unstable();
    let before = all.len();
    all.dedup();
    assert_eq!(
        (before, all.len()),
        (200, 200),
        "every job claimed exactly once"
    );
}

both_backends! {
    dedup => crate::dedup_keys_allow_one_active_job;
    priority => crate::claims_follow_priority_then_age;
    supersede => crate::newer_versions_supersede_queued_older_ones;
    leases => crate::expired_leases_are_recovered_and_fenced;
    retries => crate::failures_retry_with_backoff_then_go_dead;
    lease_dead_letter => crate::an_expired_lease_out_of_attempts_is_dead;
    worker_loop => crate::the_worker_loop_runs_every_job_exactly_once;
    concurrent_claims => crate::concurrent_claimers_never_share_a_job;
}
