//! Store benchmarks (run with `cargo bench -p sashiko-store`; PostgreSQL at
//! `SASHIKO_TEST_PG_URL` or 127.0.0.1:5432, like the tests):
//!
//! - claims per second: 4 workers, each with its own connection pool,
//!   claiming and completing 2,000 queued jobs (PostgreSQL and SQLite);
//! - listing one subsystem's open bugs (first page of 50) with 100,000 bugs
//!   in 50 subsystems, and the query plan that serves it.
//!
//! Figures are printed; nothing is asserted here (the tests do that).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::TestDb;
use sashiko_store::{BackendKind, BugFilter, BugState, NewJob, Store};

const N_JOBS: usize = 2_000;
const N_WORKERS: usize = 4;
const N_BUGS: i64 = 100_000;
const N_SUBSYSTEMS: i64 = 50;
const LIST_REPEATS: usize = 200;

async fn claims_per_second(backend: BackendKind) {
    let db = TestDb::new(backend).await;
    for index in 0..N_JOBS {
        let mut job = NewJob::new("bench", serde_json::json!({ "index": index }));
        job.priority = i32::try_from(index % 3).unwrap_or(0);
        db.store.enqueue(&job).await.expect("enqueue");
    }
    let mut stores = Vec::new();
    for _ in 0..N_WORKERS {
        stores.push(Store::connect(&db.url).await.expect("connect"));
    }
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for (worker, store) in stores.into_iter().enumerate() {
        workers.spawn(async move {
            let name = format!("bench-{worker}");
            let mut claimed = 0usize;
            while let Some(job) = store
                .claim(&name, Duration::from_secs(60))
                .await
                .expect("claim")
            {
                store
                    .complete_job(&job, &serde_json::json!(null))
                    .await
                    .expect("complete");
                claimed += 1;
            }
            claimed
        });
    }
    let mut total = 0;
    while let Some(claimed) = workers.join_next().await {
        total += claimed.expect("worker task");
    }
    let elapsed = started.elapsed();
    println!(
        "{:<8} claims: {total} claims+completions by {N_WORKERS} workers in {:.2} s = {:.0} claims/s",
        backend.name(),
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
}

async fn list_one_subsystem(backend: BackendKind) {
    let db = TestDb::new(backend).await;
    let seeding = Instant::now();
    common::seed_bugs(&db, N_BUGS, N_SUBSYSTEMS).await;
    let seeded = seeding.elapsed();
    let filter = BugFilter {
        subsystem: Some("subsystem-17".to_string()),
        state: Some(BugState::Open),
        ..BugFilter::default()
    };
    let plan = db.store.explain_list_bugs(&filter).await.expect("explain");
    db.store.list_bugs(&filter).await.expect("warm-up");
    let mut times = Vec::with_capacity(LIST_REPEATS);
    for _ in 0..LIST_REPEATS {
        let started = Instant::now();
        let page = db.store.list_bugs(&filter).await.expect("list");
        times.push(started.elapsed());
        assert_eq!(page.bugs.len(), 50);
    }
    times.sort();
    let median = times[times.len() / 2];
    let p95 = times[times.len() * 95 / 100];
    println!(
        "{:<8} bugs: list one subsystem's open bugs (page of 50) among {N_BUGS} bugs: median {:.3} ms, p95 {:.3} ms \
         (seeded in {:.1} s)",
        backend.name(),
        median.as_secs_f64() * 1000.0,
        p95.as_secs_f64() * 1000.0,
        seeded.as_secs_f64()
    );
    println!("{:<8} plan: {}", backend.name(), plan.replace('\n', " | "));
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // useful either: always run, it is quick.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for backend in [BackendKind::Postgres, BackendKind::Sqlite] {
            claims_per_second(backend).await;
            list_one_subsystem(backend).await;
        }
    });
}
