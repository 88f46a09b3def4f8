//! Acceptance: four worker processes on PostgreSQL run 400 queued jobs,
//! one of them is SIGKILLed at a random moment three times (and replaced),
//! and still every job is done exactly once, nothing is lost, and the
//! leases of the killed workers are recovered within the configured lease.
//!
//! The workers are this test binary re-executed (the ignored test
//! `child_worker_process`), running the real worker loop with a handler
//! that records a review like `sashiko worker` does (start, heartbeat,
//! finish) and sleeps like a slow LLM in between. Every kill lands while the
//! victim has a review running; afterwards no review is left `running`,
//! each killed attempt's review is `interrupted`, and every job has exactly
//! one `finished` review, from its last attempt. Database triggers record
//! every claim and every completion, independently of the code under test.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::builders::{outcome, review, series};
use common::TestDb;
use sashiko_store::{
    default_worker_id, run_worker, BackendKind, ClaimedJob, JobFailure, JobHandler, JobStatus,
    NewJob, ReviewStatus, SeriesVersionId, Store, WorkerConfig,
};
use sqlx::Connection;

const URL_ENV: &str = "SASHIKO_KILL_TEST_URL";
// Enough work (about 20 s for four workers on a quiet machine) that the
// three kills, each followed by a lease recovery of about 2 s, always land
// while jobs are still queued, however fast the machine is.
const N_JOBS: i64 = 400;
const N_WORKERS: usize = 4;
const N_KILLS: usize = 3;
const LEASE: Duration = Duration::from_secs(2);
const POLL: Duration = Duration::from_millis(100);

/// Records a review that takes 100-300 ms, like a model answering.
struct SlowHandler {
    store: Store,
    version: SeriesVersionId,
}

impl JobHandler for SlowHandler {
    async fn run(&self, job: ClaimedJob) -> Result<serde_json::Value, JobFailure> {
        let transient = |error: sashiko_store::StoreError| JobFailure::transient(error.to_string());
        let review_id = self
            .store
            .start_review(&review(self.version))
            .await
            .map_err(transient)?;
        let _heartbeat = self.store.keep_review_alive(review_id);
        let millis = 100 + (job.id.0 * 7919) % 200;
        tokio::time::sleep(Duration::from_millis(u64::try_from(millis).unwrap_or(100))).await;
        self.store
            .finish_review(review_id, &outcome(ReviewStatus::Finished, vec![]))
            .await
            .map_err(transient)?;
        Ok(
            serde_json::json!({ "job": job.id.0, "worker": job.worker, "attempt": job.attempt, "review_id": review_id.0 }),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a worker process of four_workers_survive_sigkill, which runs it with the database URL set"]
async fn child_worker_process() {
    let url =
        std::env::var(URL_ENV).expect("run by four_workers_survive_sigkill, which sets the URL");
    let store = Store::connect(&url).await.expect("connect");
    let version = store
        .upsert_series_version(&series("kill-test", 1, 1))
        .await
        .expect("series");
    let mut config = WorkerConfig::new(default_worker_id());
    config.exit_when_idle = true;
    config.poll_interval = POLL;
    config.queue.lease = LEASE;
    config.heartbeat_interval = LEASE / 4;
    let handler = SlowHandler {
        store: store.clone(),
        version,
    };
    let report = run_worker(
        store,
        config,
        std::sync::Arc::new(handler),
        std::future::pending(),
    )
    .await
    .expect("worker loop");
    println!("worker report: {report:?}");
}

fn spawn_worker(url: &str) -> Child {
    Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "--exact",
            "child_worker_process",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(URL_ENV, url)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning a worker process")
}

/// A small deterministic generator; the seed is printed for reruns.
struct Random(u64);

impl Random {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_workers_survive_sigkill() {
    let db = TestDb::new(BackendKind::Postgres).await;
    let mut admin = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    for statement in [
        "CREATE TABLE witness (job_id BIGINT NOT NULL, event TEXT NOT NULL, worker TEXT, attempt BIGINT, \
         at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())",
        "CREATE FUNCTION witness_job() RETURNS trigger AS $$ BEGIN \
           IF NEW.status = 'running' AND (OLD.status <> 'running' OR OLD.attempts <> NEW.attempts) THEN \
             INSERT INTO witness (job_id, event, worker, attempt) VALUES (NEW.id, 'claim', NEW.worker, NEW.attempts); \
           ELSIF NEW.status = 'done' AND OLD.status <> 'done' THEN \
             INSERT INTO witness (job_id, event, worker, attempt) VALUES (NEW.id, 'done', NEW.worker, NEW.attempts); \
           ELSIF NEW.status = 'queued' AND OLD.status = 'running' THEN \
             INSERT INTO witness (job_id, event, worker, attempt) VALUES (NEW.id, 'recovered', OLD.worker, OLD.attempts); \
           END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER witness_jobs AFTER UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION witness_job()",
    ] {
        sqlx::query(statement).execute(&mut admin).await.expect("witness setup");
    }
    for index in 0..N_JOBS {
        let mut job = NewJob::new("review", serde_json::json!({ "index": index }));
        job.max_attempts = 10;
        db.store.enqueue(&job).await.expect("enqueue");
    }

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64 | 1)
        .unwrap_or(0x9e37_79b9_7f4a_7c15);
    println!("random seed {seed}");
    let mut random = Random(seed);
    let started = Instant::now();
    let mut workers: Vec<Child> = (0..N_WORKERS).map(|_| spawn_worker(&db.url)).collect();
    let mut recoveries = Vec::new();
    let mut killed_attempts: Vec<(i64, i64)> = Vec::new();
    for kill in 0..N_KILLS {
        tokio::time::sleep(Duration::from_millis(300 + random.below(1_000))).await;
        let victim_slot = usize::try_from(random.below(N_WORKERS as u64)).unwrap_or(0);
        let victim = &mut workers[victim_slot];
        let pid = victim.id();
        // Wait until the victim holds a job whose review is running, so
        // every kill interrupts a review.
        let pattern = format!("%:{pid}:%");
        let held = loop {
            let held: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT j.id, j.attempts FROM jobs j WHERE j.status = 'running' AND j.worker LIKE $1 \
                 AND EXISTS (SELECT 1 FROM reviews r WHERE r.job_id = j.id AND r.job_attempt = j.attempts \
                             AND r.status = 'running')",
            )
            .bind(&pattern)
            .fetch_all(&mut admin)
            .await
            .expect("jobs held");
            if !held.is_empty() {
                break held;
            }
            let pending = db.store.pending_jobs().await.expect("pending");
            assert!(
                pending > 0,
                "all jobs finished before kill {}; make the handler slower",
                kill + 1
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        victim.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix
        let killed_at = Instant::now();
        let _ = victim.wait();
        println!(
            "kill {}: worker pid {pid} holding jobs {held:?} at {:?}",
            kill + 1,
            started.elapsed()
        );
        workers[victim_slot] = spawn_worker(&db.url);
        killed_attempts.extend(held.iter().copied());
        // Measure until every held job was claimed again (or done) by someone else.
        for (job, attempts) in held {
            let recovered = loop {
                let (status, now_attempts): (String, i64) =
                    sqlx::query_as("SELECT status, attempts FROM jobs WHERE id = $1")
                        .bind(job)
                        .fetch_one(&mut admin)
                        .await
                        .expect("job state");
                if now_attempts > attempts || status == "done" {
                    break killed_at.elapsed();
                }
                assert!(
                    killed_at.elapsed() < Duration::from_secs(60),
                    "job {job} never recovered"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            println!("  job {job} claimed again {recovered:?} after the kill (lease {LEASE:?})");
            recoveries.push(recovered);
        }
    }
    for mut worker in workers {
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            if let Some(status) = worker.try_wait().expect("wait") {
                assert!(status.success(), "a worker process failed: {status}");
                break;
            }
            assert!(Instant::now() < deadline, "a worker did not exit when idle");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let wall = started.elapsed();

    let counts: Vec<(JobStatus, i64)> = db.store.job_counts().await.expect("counts");
    let done = counts
        .iter()
        .find(|(status, _)| *status == JobStatus::Done)
        .map_or(0, |(_, count)| *count);
    assert_eq!(done, N_JOBS, "every job done: {counts:?}");
    let completions: Vec<(i64, i64)> =
        sqlx::query_as("SELECT job_id, COUNT(*) FROM witness WHERE event = 'done' GROUP BY job_id")
            .fetch_all(&mut admin)
            .await
            .expect("witness");
    assert_eq!(
        completions.len() as i64,
        N_JOBS,
        "every job has a completion"
    );
    assert!(
        completions.iter().all(|(_, count)| *count == 1),
        "a job completed twice: {completions:?}"
    );
    let (claims, recovered): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*) FILTER (WHERE event = 'claim'), COUNT(*) FILTER (WHERE event = 'recovered') FROM witness",
    )
    .fetch_one(&mut admin)
    .await
    .expect("witness");
    // Reviews: none left running, one finished per job (from its last
    // attempt), and every other review interrupted.
    let by_status: Vec<(String, i64)> =
        sqlx::query_as("SELECT status, COUNT(*) FROM reviews GROUP BY status ORDER BY status")
            .fetch_all(&mut admin)
            .await
            .expect("reviews by status");
    let count_of = |status: &str| {
        by_status
            .iter()
            .find(|(name, _)| name == status)
            .map_or(0, |(_, count)| *count)
    };
    assert_eq!(
        count_of("running"),
        0,
        "no review left running: {by_status:?}"
    );
    // Each killed attempt's review is interrupted; or, when the kill landed
    // just after the review was stored, recovery completed the job from it.
    let mut completed_from_stored = 0;
    for (job, attempt) in &killed_attempts {
        let (review_status, from_stored): (String, bool) = sqlx::query_as(
            "SELECT r.status, j.attempts = r.job_attempt AND j.result ? 'completed_by' FROM reviews r \
             JOIN jobs j ON j.id = r.job_id WHERE r.job_id = $1 AND r.job_attempt = $2",
        )
        .bind(job)
        .bind(attempt)
        .fetch_one(&mut admin)
        .await
        .expect("the killed attempt's review");
        match (review_status.as_str(), from_stored) {
            ("interrupted", _) => {}
            ("finished", true) => completed_from_stored += 1,
            other => panic!("killed attempt {attempt} of job {job}: {other:?}"),
        }
    }
    assert!(
        recovered + completed_from_stored >= N_KILLS as i64,
        "each kill left a lease to recover ({recovered} handed back, {completed_from_stored} completed from a stored review)"
    );
    assert_eq!(
        count_of("finished") + count_of("interrupted"),
        by_status.iter().map(|(_, count)| count).sum::<i64>(),
        "reviews are finished or interrupted: {by_status:?}"
    );
    let per_job: Vec<(i64, i64, i64)> = sqlx::query_as(
        "SELECT j.id, COUNT(r.id), COUNT(r.id) FILTER (WHERE r.job_attempt = j.attempts) FROM jobs j \
         LEFT JOIN reviews r ON r.job_id = j.id AND r.status = 'finished' GROUP BY j.id",
    )
    .fetch_all(&mut admin)
    .await
    .expect("finished reviews per job");
    assert_eq!(per_job.len() as i64, N_JOBS);
    let wrong: Vec<_> = per_job
        .iter()
        .filter(|(_, finished, from_last)| (*finished, *from_last) != (1, 1))
        .collect();
    assert!(
        wrong.is_empty(),
        "every job has exactly one finished review, from its last attempt; (job, finished, from last attempt): {wrong:?}"
    );
    let slowest = recoveries.iter().max().copied().unwrap_or_default();
    // Lease expiry plus one idle poll of a worker, plus scheduling slack.
    assert!(
        slowest <= LEASE + POLL * 2 + Duration::from_secs(2),
        "slowest recovery {slowest:?} for lease {LEASE:?}"
    );
    println!(
        "acceptance: {N_JOBS} jobs done exactly once by {N_WORKERS} worker processes with {N_KILLS} SIGKILLs in {wall:?}; \
         {claims} claims ({} re-runs after kills), {recovered} leases recovered, slowest recovery {slowest:?} (lease {LEASE:?}); \
         {completed_from_stored} completed from a review the killed worker had stored; reviews {by_status:?}, none running, \
         one finished per job",
        claims - N_JOBS
    );
}
