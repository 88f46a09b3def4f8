//! End to end through the real binary: `sashiko enqueue`, `sashiko worker`,
//! `sashiko jobs`, `sashiko bugs`, against the fake OpenAI-compatible
//! server on 127.0.0.1, on SQLite and on PostgreSQL (127.0.0.1:5432 or
//! `SASHIKO_TEST_PG_URL`; an unreachable server fails the test with a
//! message saying so).
//!
//! The PostgreSQL case is the store issue's acceptance run: four worker
//! processes review 200 queued series while one of them is SIGKILLed at a
//! random moment three times, each time while it has a review running;
//! afterwards no review is left `running`, the killed attempts' reviews are
//! `interrupted`, and every job has exactly one `finished` review.

mod common;
mod queue_home;

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use queue_home::{commit, drop_pg_database, init_repo, patch_mail, pg_database, Home};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_store::{JobStatus, Store, Table};
use serde_json::json;

/// Two commits to mm/foo.c; the first adds a kmalloc on line 4.
fn two_commit_repo(dir: &Path) {
    init_repo(dir);
    let mut lines: Vec<String> = (1..=10).map(|n| format!("int filler_{n};")).collect();
    commit(dir, "mm/foo.c", &(lines.join("\n") + "\n"), "mm: base");
    for (line, text, subject) in [
        (3, "char *buf = kmalloc(64, GFP_KERNEL);", "mm: buffer"),
        (8, "int more;", "mm: more"),
    ] {
        lines.insert(line, text.to_string());
        commit(dir, "mm/foo.c", &(lines.join("\n") + "\n"), subject);
    }
}

fn preexisting_leak_script() -> FakeScript {
    FakeScript::new()
        .push(
            "resource",
            FakeAnswer::json(json!({"findings": [{
                "patch_index": 1, "file": "mm/foo.c", "line_start": 4, "line_end": 4,
                "severity": "medium", "problem": "the buffer is never freed (it already leaked before)",
                "severity_explanation": "scripted", "preexisting": true
            }]})),
        )
        .stage_default("verify", FakeAnswer::json(json!({"decisions": []})))
        .default_answer(FakeAnswer::json(json!({"findings": []})))
}

/// A worker slot, its pid and the (job, attempt) pairs it holds.
type Holder = (usize, u32, Vec<(i64, i64)>);

#[tokio::test(flavor = "multi_thread")]
async fn enqueue_worker_jobs_and_bugs_on_sqlite() {
    let home = Home::new(None);
    let repo = home.dir.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    two_commit_repo(&repo);
    let repo_arg = repo.display().to_string();
    let fake = FakeLlmServer::start(preexisting_leak_script()).await;

    let queued = home.json(&[
        "enqueue", "HEAD~2..", "--repo", &repo_arg, "--format", "json",
    ]);
    assert_eq!(queued[0]["result"]["outcome"], "added", "{queued}");
    let again = home.json(&[
        "enqueue", "HEAD~2..", "--repo", &repo_arg, "--format", "json",
    ]);
    assert_eq!(again[0]["result"]["outcome"], "existing", "{again}");
    let jobs = home.json(&["jobs", "--format", "json"]);
    assert_eq!(jobs.as_array().map(Vec::len), Some(1));
    assert_eq!(
        (jobs[0]["status"].as_str(), jobs[0]["attempts"].as_i64()),
        (Some("queued"), Some(0))
    );

    // A new commit does not move the queued job: it reviews the pinned two.
    commit(&repo, "mm/bar.c", "int bar;\n", "mm: bar");

    home.run(
        Some(&fake),
        &["worker", "--exit-when-idle", "--poll-ms", "50"],
    );
    let jobs = home.json(&["jobs", "--format", "json"]);
    assert_eq!(jobs[0]["status"], "done", "{jobs}");
    assert_eq!(jobs[0]["attempts"], 1);
    assert_eq!(
        (
            jobs[0]["reviews"][0]["attempt"].as_i64(),
            jobs[0]["reviews"][0]["status"].as_str(),
            jobs[0]["reviews"].as_array().map(Vec::len)
        ),
        (Some(1), Some("finished"), Some(1)),
        "the job lists the review its attempt ran: {jobs}"
    );
    assert!(jobs[0]["worker"]
        .as_str()
        .is_some_and(|worker| !worker.is_empty()));
    let bugs = home.json(&["bugs", "--format", "json"]);
    assert_eq!(bugs["bugs"].as_array().map(Vec::len), Some(1), "{bugs}");
    assert_eq!(
        (
            bugs["bugs"][0]["state"].as_str(),
            bugs["bugs"][0]["subsystem"].as_str()
        ),
        (Some("open"), Some("mm"))
    );

    // Reviewing the same series again opens no second bug.
    fake.set_script(preexisting_leak_script());
    home.json(&[
        "enqueue",
        "HEAD~3..HEAD~1",
        "--repo",
        &repo_arg,
        "--format",
        "json",
    ]);
    home.run(
        Some(&fake),
        &["worker", "--exit-when-idle", "--poll-ms", "50"],
    );
    let store = Store::connect(&home.db).await.expect("db");
    assert_eq!(store.count(Table::Reviews).await.expect("count"), 2);
    assert_eq!(store.count(Table::Bugs).await.expect("count"), 1);
    assert_eq!(
        store.count(Table::Patches).await.expect("count"),
        2,
        "same commits, same patches"
    );
    store.close().await;

    let id = bugs["bugs"][0]["id"].as_i64().expect("id").to_string();
    home.run(
        None,
        &[
            "bugs",
            "set",
            &id,
            "confirmed",
            "--why",
            "reproduced with kmemleak",
            "--by",
            "maint@example.org",
        ],
    );
    let shown = home.json(&["bugs", "show", &id, "--format", "json"]);
    let history = shown["history"].as_array().expect("history");
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["reason"], "reproduced with kmemleak");
    assert_eq!(history[1]["actor"], "maint@example.org");
    let refused = home
        .command(None, &["bugs", "set", &id, "wontfix", "--why", "x"])
        .output()
        .expect("runs");
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("wontfix"));

    // v2 of a mail series, enqueued on its own, supersedes queued v1; v1
    // arriving again later is obsolete.
    for (version, tag) in [(1, ""), (2, " v2")] {
        let mail = mbox_of_single_patches(1)
            .replace("[PATCH]", &format!("[PATCH{tag}]"))
            .replace("thing-0@", &format!("thing-0-v{version}@"));
        std::fs::write(home.dir.path().join(format!("v{version}.mbox")), mail).expect("mbox");
    }
    let v1 = home.json(&["enqueue", "v1.mbox", "--format", "json"]);
    assert_eq!(v1[0]["result"]["outcome"], "added", "{v1}");
    let v2 = home.json(&["enqueue", "v2.mbox", "--format", "json"]);
    assert_eq!(
        (
            v2[0]["result"]["outcome"].as_str(),
            v2[0]["result"]["superseded"].as_u64()
        ),
        (Some("added"), Some(1)),
        "{v2}"
    );
    let late = home.json(&["enqueue", "v1.mbox", "--format", "json"]);
    assert_eq!(late[0]["result"]["outcome"], "obsolete", "{late}");
    let superseded = home.json(&["jobs", "--status", "superseded", "--format", "json"]);
    assert_eq!(superseded.as_array().map(Vec::len), Some(1), "{superseded}");
    assert!(
        superseded[0]["last_error"]
            .as_str()
            .is_some_and(|why| why.contains("version 2")),
        "{superseded}"
    );
}

/// `n` single-patch series, each adding one line to its own file.
fn mbox_of_single_patches(n: usize) -> String {
    (0..n)
        .map(|index| {
            patch_mail(
                &format!("[PATCH] mm: fix thing {index}"),
                &format!("thing-{index}@example.org"),
                &format!("mm/thing_{index}.c"),
            )
        })
        .collect()
}

fn worker(home: &Home, fake: &FakeLlmServer) -> Child {
    home.command(
        Some(fake),
        &[
            "worker",
            "--exit-when-idle",
            "--lease-secs",
            "2",
            "--poll-ms",
            "100",
            "--retry-secs",
            "0",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .expect("worker starts")
}

#[tokio::test(flavor = "multi_thread")]
async fn four_workers_on_postgres_review_200_series_exactly_once_despite_sigkills() {
    const N: usize = 200;
    let name = format!("sashiko_cli_queue_{}", std::process::id());
    let url = pg_database(&name).await;
    let home = Home::new(Some(url.clone()));
    std::fs::write(
        home.dir.path().join("series.mbox"),
        mbox_of_single_patches(N),
    )
    .expect("mbox");
    let queued = home.json(&[
        "enqueue",
        "series.mbox",
        "--format",
        "json",
        "--max-attempts",
        "10",
    ]);
    assert_eq!(
        queued.as_array().map(Vec::len),
        Some(N),
        "one job per series"
    );
    let script = FakeScript::new()
        .stage_default(
            "verify",
            FakeAnswer::json(json!({"decisions": []})).delayed(Duration::from_millis(150)),
        )
        .default_answer(
            FakeAnswer::json(json!({"findings": []})).delayed(Duration::from_millis(150)),
        );
    let fake = FakeLlmServer::start(script).await;
    let store = Store::connect(&url).await.expect("db");

    let started = Instant::now();
    let mut workers: Vec<Child> = (0..4).map(|_| worker(&home, &fake)).collect();
    let mut seed = u64::from(started.elapsed().subsec_nanos()) | 1;
    let mut next_random = move |bound: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % bound
    };
    let mut recoveries = Vec::new();
    let mut killed_attempts: Vec<(i64, i64)> = Vec::new();
    for kill in 0..3 {
        tokio::time::sleep(Duration::from_millis(800 + next_random(1200))).await;
        // Kill a worker that holds a job whose review is running, so every
        // kill interrupts a review.
        let (slot, pid, held) = loop {
            let mut running = store
                .list_jobs(Some(JobStatus::Running), 1000)
                .await
                .expect("jobs");
            let ids: Vec<i64> = running.iter().map(|job| job.id).collect();
            let reviewing = store.job_reviews(&ids).await.expect("job reviews");
            running.retain(|job| {
                reviewing.iter().any(|review| {
                    review.job_id == job.id
                        && review.attempt == job.attempts
                        && review.status == "running"
                })
            });
            let holders: Vec<Holder> = workers
                .iter()
                .enumerate()
                .map(|(slot, child)| {
                    let tag = format!(":{}:", child.id());
                    let held = running
                        .iter()
                        .filter(|job| {
                            job.worker
                                .as_deref()
                                .is_some_and(|worker| worker.contains(&tag))
                        })
                        .map(|job| (job.id, job.attempts))
                        .collect::<Vec<_>>();
                    (slot, child.id(), held)
                })
                .filter(|(_, _, held)| !held.is_empty())
                .collect();
            if !holders.is_empty() {
                let pick = usize::try_from(next_random(holders.len() as u64)).unwrap_or(0);
                break holders[pick].clone();
            }
            let pending = store.pending_jobs().await.expect("pending");
            assert!(
                pending > 0,
                "all jobs finished before kill {}; make the fake model slower",
                kill + 1
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        workers[slot].kill().expect("SIGKILL");
        let killed_at = Instant::now();
        let _ = workers[slot].wait();
        workers[slot] = worker(&home, &fake);
        killed_attempts.extend(held.iter().copied());
        for (job, attempts) in held {
            loop {
                let now = store
                    .job(sashiko_store::JobId(job))
                    .await
                    .expect("job")
                    .expect("exists");
                if now.attempts > attempts || now.status == JobStatus::Done {
                    break;
                }
                assert!(
                    killed_at.elapsed() < Duration::from_secs(60),
                    "job {job} was never recovered"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            println!(
                "kill {}: job {job} of worker {pid} claimed again after {:?}",
                kill + 1,
                killed_at.elapsed()
            );
            recoveries.push(killed_at.elapsed());
        }
    }
    for mut child in workers {
        let deadline = Instant::now() + Duration::from_secs(300);
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                assert!(status.success(), "a worker failed: {status}");
                break;
            }
            assert!(Instant::now() < deadline, "a worker did not exit when idle");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let wall = started.elapsed();

    let jobs = store.list_jobs(None, 10_000).await.expect("jobs");
    assert_eq!(jobs.len(), N);
    assert!(
        jobs.iter().all(|job| job.status == JobStatus::Done),
        "every job done"
    );
    let mut review_ids: Vec<i64> = jobs
        .iter()
        .map(|job| {
            job.result
                .as_ref()
                .and_then(|result| result["review_id"].as_i64())
                .expect("review id")
        })
        .collect();
    review_ids.sort_unstable();
    review_ids.dedup();
    assert_eq!(
        review_ids.len(),
        N,
        "each job's result names its own review"
    );
    let reviews = store.count(Table::Reviews).await.expect("count");
    let retried: i64 = jobs.iter().map(|job| job.attempts - 1).sum();
    assert!(
        reviews <= N as i64 + retried,
        "no review beyond one per attempt"
    );
    let counts = store.review_counts().await.expect("review counts");
    let count_of = |status: &str| {
        counts
            .by_status
            .iter()
            .find(|(name, _)| name == status)
            .map_or(0, |(_, count)| *count)
    };
    assert_eq!(count_of("running"), 0, "no review left running: {counts:?}");
    let ids: Vec<i64> = jobs.iter().map(|job| job.id).collect();
    let job_reviews = store.job_reviews(&ids).await.expect("job reviews");
    // Each killed attempt's review is interrupted; or, when the kill landed
    // just after the review was stored, the job was completed from it.
    let mut completed_from_stored = 0;
    for (job_id, attempt) in &killed_attempts {
        let of_attempt: Vec<_> = job_reviews
            .iter()
            .filter(|review| review.job_id == *job_id && review.attempt == *attempt)
            .collect();
        let job = jobs
            .iter()
            .find(|job| job.id == *job_id)
            .expect("killed job listed");
        let from_stored = job
            .result
            .as_ref()
            .is_some_and(|result| result.get("completed_by").is_some());
        match of_attempt.as_slice() {
            [review] if review.status == "interrupted" => {}
            [review] if review.status == "finished" && from_stored && job.attempts == *attempt => {
                completed_from_stored += 1
            }
            other => {
                panic!("killed attempt {attempt} of job {job_id}: reviews {other:?}, job {job:?}")
            }
        }
    }
    for job in &jobs {
        let finished: Vec<_> = job_reviews
            .iter()
            .filter(|review| review.job_id == job.id && review.status == "finished")
            .collect();
        assert!(
            finished.len() == 1 && finished[0].attempt == job.attempts,
            "job {} (attempts {}) has one finished review, from its last attempt: {finished:?}",
            job.id,
            job.attempts
        );
        let named = job
            .result
            .as_ref()
            .and_then(|result| result["review_id"].as_i64());
        assert_eq!(
            named,
            Some(finished[0].review_id),
            "job {} names its finished review",
            job.id
        );
    }
    let slowest = recoveries.iter().max().copied().unwrap_or_default();
    assert!(
        slowest <= Duration::from_secs(2) + Duration::from_millis(200) + Duration::from_secs(2),
        "slowest {slowest:?}"
    );
    println!(
        "acceptance: {N} review jobs done exactly once by 4 `sashiko worker` processes with 3 SIGKILLs in {wall:?}; \
         {reviews} review rows for {N} series ({retried} re-run attempts; reviews by status {:?}; {completed_from_stored} job(s) \
         completed from the review a killed worker had stored), slowest lease recovery {slowest:?} (lease 2 s)",
        counts.by_status
    );
    store.close().await;
    drop_pg_database(&name).await;
}
