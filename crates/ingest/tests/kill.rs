//! Crash safety of the real binary: `sashiko ingest` SIGKILLed half-way
//! through the io-uring slice and run again ends with the same database as
//! one clean run. Needs the `sashiko` binary built next to this test
//! (`cargo build -p sashiko`) or named by $SASHIKO_BIN; skipped with a
//! message otherwise.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sqlx::Connection;
use support::{corpus_file, dump, path_str, sashiko_binary, IO_URING_MBOX};

fn ingest_command(binary: &Path, home: &Path, db_url: &str, mbox: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .args([
            "ingest",
            "--db",
            db_url,
            "--cursor-every",
            "50",
            &path_str(mbox),
        ])
        .env_remove("SASHIKO_DB")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

async fn stored_messages(db_url: &str) -> i64 {
    let Ok(mut connection) = sqlx::SqliteConnection::connect(db_url).await else {
        return 0;
    };
    let count = sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM messages")
        .fetch_one(&mut connection)
        .await
        .unwrap_or(0);
    let _ = connection.close().await;
    count
}

#[tokio::test]
async fn sigkilled_ingest_resumes_to_the_clean_database() {
    let test = "sigkilled_ingest_resumes_to_the_clean_database";
    let Some(binary) = sashiko_binary(test) else {
        return;
    };
    let Some(mbox) = corpus_file(test, IO_URING_MBOX) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let clean_url = format!("sqlite:{}", dir.path().join("clean.db").display());
    let crashed_url = format!("sqlite:{}", dir.path().join("crashed.db").display());

    let clean = ingest_command(&binary, dir.path(), &clean_url, &mbox)
        .output()
        .expect("run clean ingest");
    assert!(
        clean.status.success(),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    let mut child = ingest_command(&binary, dir.path(), &crashed_url, &mbox)
        .spawn()
        .expect("spawn ingest");
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut at_kill = 0;
    while Instant::now() < deadline {
        at_kill = stored_messages(&crashed_url).await;
        if at_kill >= 700 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    child.kill().expect("SIGKILL ingest");
    let status = child.wait().expect("reap ingest");
    assert_eq!(
        status.code(),
        None,
        "ingest was killed by the signal, not finished"
    );
    let after_kill = stored_messages(&crashed_url).await;
    assert!(
        (700..2496).contains(&after_kill),
        "killed half-way: {after_kill} messages stored"
    );

    let rerun = ingest_command(&binary, dir.path(), &crashed_url, &mbox)
        .output()
        .expect("re-run ingest");
    assert!(
        rerun.status.success(),
        "{}",
        String::from_utf8_lossy(&rerun.stderr)
    );
    let rerun_stdout = String::from_utf8_lossy(&rerun.stdout);
    assert_eq!(dump(&crashed_url).await, dump(&clean_url).await);
    eprintln!(
        "{test}: killed with {after_kill} messages stored (polled {at_kill}); re-run printed:\n{rerun_stdout}"
    );
}
