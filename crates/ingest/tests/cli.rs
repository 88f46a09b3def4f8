//! `sashiko ingest` as a user runs it: a source that cannot be read is
//! named on stderr, the other sources are still ingested, and the exit
//! status is 1 (2 when nothing could be read). Needs the built binary
//! (see `support::sashiko_binary`); skipped with a message otherwise.

mod support;

use std::process::Command;

use support::{corpus_file, path_str, sashiko_binary, IO_URING_MBOX};

fn ingest(binary: &std::path::Path, home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(binary)
        .arg("ingest")
        .args(args)
        .env_remove("SASHIKO_DB")
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .output()
        .expect("run sashiko ingest")
}

#[test]
fn unreadable_sources_are_named_and_the_rest_is_ingested() {
    let test = "unreadable_sources_are_named_and_the_rest_is_ingested";
    let Some(binary) = sashiko_binary(test) else {
        return;
    };
    let Some(mbox) = corpus_file(test, IO_URING_MBOX) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    let missing = dir.path().join("no-such.mbox");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let nntp = format!("nntp://127.0.0.1:{closed_port}/test.group");
    let output = ingest(
        &binary,
        dir.path(),
        &[
            "--db",
            &db,
            &path_str(&missing),
            &nntp,
            "nntp://host-only",
            &path_str(&mbox),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for named in [
        path_str(&missing),
        nntp.clone(),
        "nntp://host-only".to_owned(),
    ] {
        assert!(stderr.contains(&named), "stderr names {named}:\n{stderr}");
    }
    assert!(stdout.contains("messages new:       2496"), "{stdout}");

    let only_bad = ingest(&binary, dir.path(), &["--db", &db, &path_str(&missing)]);
    assert_eq!(only_bad.status.code(), Some(2));

    let json = ingest(
        &binary,
        dir.path(),
        &["--db", &db, "--format", "json", &path_str(&mbox)],
    );
    assert_eq!(json.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert_eq!(
        report["counts"]["messages_read"], 0,
        "cursor kept in the database"
    );
    assert_eq!(report["series_unchanged"], true);
}
