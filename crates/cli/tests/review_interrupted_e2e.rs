//! `sashiko review` killed mid-review (SIGKILL, and Ctrl-C's SIGINT) does
//! not leave its review `running` forever: the real binary renews the
//! review's lease while it runs, and once the lease passes the review is
//! marked `interrupted` — by `sashiko db status`, or by the next review's
//! start. Real binary, real SQLite file, the fake model on 127.0.0.1 with
//! slow answers; the review lease is shortened with
//! `SASHIKO_REVIEW_LEASE_SECS`.

mod common;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{git, init_repo, otherwise_silent};
use sashiko_llm::fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_store::web_queries::SqlParam;
use sashiko_store::Store;
use serde_json::Value;

const LEASE_SECS: &str = "1";

fn one_commit_repo(dir: &Path) {
    init_repo(dir);
    std::fs::create_dir_all(dir.join("mm")).expect("mkdir");
    std::fs::write(dir.join("mm/a.c"), "int a;\n").expect("write");
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "mm: base\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    std::fs::write(dir.join("mm/a.c"), "int a;\nint b;\n").expect("write");
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "mm: add b\n\nWhy.\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
}

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn db(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("sashiko.db").display())
    }

    fn command(&self, fake: &FakeLlmServer, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sashiko"));
        command
            .args(args)
            .current_dir(self.dir.path().join("repo"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("SASHIKO_CONFIG", self.dir.path().join("config.toml"))
            .env("SASHIKO_DB", self.db())
            .env("SASHIKO_REVIEW_LEASE_SECS", LEASE_SECS)
            .env("SASHIKO_LLM_PROVIDER", "openai")
            .env("SASHIKO_LLM_BASE_URL", fake.base_url())
            .env("SASHIKO_LLM_MODEL", "fake-model")
            .env("SASHIKO_LLM_API_KEY", "sk-test");
        command
    }

    fn run(&self, fake: &FakeLlmServer, args: &[&str]) -> Output {
        let output = self.command(fake, args).output().expect("sashiko runs");
        assert!(
            output.status.code().is_some_and(|code| code < 2),
            "sashiko {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }
}

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
        .command(fake, &["review", "HEAD~1.."])
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
    let home = Home {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    std::fs::create_dir_all(home.dir.path().join("repo")).expect("mkdir");
    one_commit_repo(&home.dir.path().join("repo"));
    std::fs::write(
        home.dir.path().join("config.toml"),
        "[llm]\ntimeout_secs = 300\n[llm.retry]\nmax_retries = 0\n",
    )
    .expect("config");
    let slow = FakeScript::new().default_answer(
        FakeAnswer::json(serde_json::json!({"findings": []})).delayed(Duration::from_secs(60)),
    );
    let fake = FakeLlmServer::start(slow).await;
    // Create the database before watching it.
    home.run(&fake, &["db", "migrate"]);
    let store = Store::connect(&home.db()).await.expect("db");

    // SIGKILL: `sashiko db status` finds the lease passed and says so.
    let killed = review_then_signal(&home, &fake, &store, "-KILL").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let status: Value = serde_json::from_slice(
        &home
            .run(&fake, &["db", "status", "--format", "json"])
            .stdout,
    )
    .expect("status JSON");
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
    fake.set_script(otherwise_silent(FakeScript::new()));
    home.run(&fake, &["review", "HEAD~1.."]);
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
