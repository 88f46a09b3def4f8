//! `sashiko review` killed mid-review (SIGKILL, and Ctrl-C's SIGINT) does
//! not leave its review `running` forever: the real binary renews the
//! review's lease while it runs, and once the lease passes the review is
//! marked `interrupted` — by `sashiko db status`, or by the next review's
//! start. Real binary, real SQLite file, the fake model on 127.0.0.1 with
//! slow answers; the review lease is shortened to 1 s with
//! `SASHIKO_REVIEW_LEASE_SECS`.

mod common;
mod queue_home;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use queue_home::{commit, init_repo, Home};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_store::web_queries::SqlParam;
use sashiko_store::Store;
use serde_json::{json, Value};

/// Every review as (id, status, error, heartbeat_at - started_at).
async fn reviews(store: &Store) -> Vec<(i64, String, String, i64)> {
    let rows = store
        .web_rows(
            "reviews",
            "SELECT id, status, COALESCE(error, '') AS error, \
             COALESCE(heartbeat_at, started_at) - started_at AS beat FROM reviews ORDER BY id",
            &[] as &[SqlParam],
        )
        .await
        .expect("reviews");
    rows.iter()
        .map(|row| {
            (
                row.get("id").and_then(Value::as_i64).unwrap_or(0),
                row.get("status")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                row.get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
                row.get("beat").and_then(Value::as_i64).unwrap_or(0),
            )
        })
        .collect()
}

/// Starts a review against a model that answers after a minute, waits
/// until its review row has been renewed at least once (the heartbeat of
/// the real binary), then sends `signal` to it.
async fn review_then_signal(home: &Home, fake: &FakeLlmServer, store: &Store, signal: &str) -> i64 {
    let known = reviews(store).await.len();
    let mut child: Child = home
        .command(Some(fake), &["review", "HEAD~1..", "--repo", "repo"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("sashiko review starts");
    let started = Instant::now();
    let id = loop {
        let now = reviews(store).await;
        if let Some((id, status, _, beat)) = now.get(known) {
            assert_eq!(status, "running");
            if *beat > 0 {
                break *id;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no renewed running review appeared: {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal}");
    let exited = child.wait().expect("wait");
    assert!(!exited.success(), "the review did not complete: {exited}");
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_reviews_are_marked_interrupted_by_db_status_or_the_next_start() {
    let mut home = Home::new(None);
    home.env
        .push(("SASHIKO_REVIEW_LEASE_SECS", "1".to_string()));
    home.append_config("[llm]\ntimeout_secs = 300\n");
    let repo = home.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    init_repo(&repo);
    commit(&repo, "mm/a.c", "int a;\n", "mm: base");
    commit(&repo, "mm/a.c", "int a;\nint b;\n", "mm: add b");
    let slow = FakeScript::new()
        .default_answer(FakeAnswer::json(json!({"findings": []})).delayed(Duration::from_secs(60)));
    let fake = FakeLlmServer::start(slow).await;
    // Create the database before watching it.
    home.run(None, &["db", "migrate"]);
    let store = Store::connect(&home.db).await.expect("db");

    // SIGKILL: `sashiko db status` finds the lease passed and says so.
    let killed = review_then_signal(&home, &fake, &store, "-KILL").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let status = home.json(&["db", "status", "--format", "json"]);
    assert_eq!(status["recovered"]["reviews"], 1, "{status}");
    assert_eq!(status["reviews"]["interrupted"], 1, "{status}");
    assert!(status["reviews"].get("running").is_none(), "{status}");
    let rows = reviews(&store).await;
    assert_eq!(rows[0].0, killed);
    assert!(
        rows[0].2.contains("no heartbeat"),
        "reason stored: {rows:?}"
    );

    // SIGINT (Ctrl-C): the next review marks it interrupted when it starts.
    let interrupted = review_then_signal(&home, &fake, &store, "-INT").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    fake.set_script(common::otherwise_silent(FakeScript::new()));
    home.run(Some(&fake), &["review", "HEAD~1..", "--repo", "repo"]);
    let rows = reviews(&store).await;
    let statuses: Vec<(i64, &str)> = rows
        .iter()
        .map(|(id, status, _, _)| (*id, status.as_str()))
        .collect();
    assert_eq!(statuses.len(), 3, "{rows:?}");
    assert_eq!(
        &statuses[..2],
        [(killed, "interrupted"), (interrupted, "interrupted")]
    );
    assert_eq!(statuses[2].1, "finished", "{rows:?}");
    store.close().await;
}
