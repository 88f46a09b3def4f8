//! Acceptance tests of issue 3 for ingest, on real databases (SQLite file
//! and PostgreSQL on 127.0.0.1) and the io-uring slice of the shared corpus:
//!
//! - ingesting a slice twice stores each message once;
//! - a run interrupted half-way and re-run ends with the same database as
//!   one clean run (here interrupted in-process; tests/kill.rs SIGKILLs the
//!   real binary);
//! - NNTP, public-inbox git and mbox ingestion give the same messages and
//!   the same series.

mod support;

use sashiko_ingest::{
    ingest, IngestOptions, IngestReport, MemoryCursorStore, SourceSpec, StoreCursorStore,
};
use sashiko_store::BackendKind;
use support::{corpus_file, dump, path_str, PublicInbox, TestDb, IO_URING_GROUP, IO_URING_MBOX};

/// Messages in the io-uring slice, and distinct Message-IDs among them
/// (MANIFEST.json: four ids are delivered twice).
const SLICE_MESSAGES: u64 = 2500;
const SLICE_DISTINCT: u64 = 2496;

async fn run(db: &TestDb, spec: &SourceSpec, options: &IngestOptions) -> IngestReport {
    let cursors = StoreCursorStore::new(db.store.clone());
    let report = ingest(std::slice::from_ref(spec), &db.store, &cursors, options)
        .await
        .expect("ingest");
    assert!(
        report.failed_sources.is_empty(),
        "{:?}",
        report.failed_sources
    );
    report
}

fn mbox_spec(test: &str) -> Option<SourceSpec> {
    let path = corpus_file(test, IO_URING_MBOX)?;
    Some(
        format!("mbox:{}", path_str(&path))
            .parse()
            .expect("mbox spec"),
    )
}

async fn twice_stores_once(backend: BackendKind) {
    let test = "ingesting_twice_stores_each_message_once";
    let Some(spec) = mbox_spec(test) else {
        return;
    };
    let db = TestDb::new(backend).await;
    let options = IngestOptions::default();
    let first = run(&db, &spec, &options).await;
    assert_eq!(first.counts.messages_read, SLICE_MESSAGES);
    assert_eq!(first.counts.messages_new, SLICE_DISTINCT);
    assert_eq!(
        first.counts.messages_duplicate,
        SLICE_MESSAGES - SLICE_DISTINCT
    );
    assert!(first.counts.series > 100, "{:?}", first.counts);
    let after_first = dump(&db.url).await;
    assert_eq!(after_first.messages.len() as u64, SLICE_DISTINCT);

    // Same cursors: nothing new to read, nothing changes.
    let second = run(&db, &spec, &options).await;
    assert_eq!(second.counts.messages_read, 0);
    assert!(
        second.series_unchanged,
        "idle re-run skips the series phase"
    );

    // A run that died in its series phase leaves the state `pending`: the
    // next run redoes the series phase even with no new message.
    let cursors = StoreCursorStore::new(db.store.clone());
    sashiko_ingest::CursorStore::set(&cursors, &format!("{}#series", spec.key()), "pending")
        .await
        .expect("mark series pending");
    let redo = run(&db, &spec, &options).await;
    assert_eq!(redo.counts.messages_read, 0);
    assert!(!redo.series_unchanged);
    assert_eq!(redo.counts.series, first.counts.series);
    assert_eq!(dump(&db.url).await, after_first);

    // Cursors forgotten: every message is read again and found stored.
    let forgetful = MemoryCursorStore::new();
    let third = ingest(std::slice::from_ref(&spec), &db.store, &forgetful, &options)
        .await
        .expect("ingest without cursors");
    assert_eq!(third.counts.messages_read, SLICE_MESSAGES);
    assert_eq!(third.counts.messages_new, 0);
    assert_eq!(third.counts.messages_duplicate, SLICE_MESSAGES);
    assert_eq!(third.counts.series, first.counts.series);
    assert!(!third.series_unchanged);
    assert_eq!(dump(&db.url).await, after_first);
    eprintln!("{test} ({}): {:?}", backend.name(), first.counts);
}

#[tokio::test]
async fn ingesting_twice_stores_each_message_once_sqlite() {
    twice_stores_once(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn ingesting_twice_stores_each_message_once_postgres() {
    twice_stores_once(BackendKind::Postgres).await;
}

/// Interrupts after `stop_after` messages (cursor saved every 100, so up to
/// 99 stored messages are read again), re-runs, and compares with a clean
/// run, cursors included.
async fn interrupted_matches_clean(backend: BackendKind, spec: &SourceSpec, stop_after: u64) {
    let clean = TestDb::new(backend).await;
    let options = IngestOptions::default();
    run(&clean, spec, &options).await;

    let crashed = TestDb::new(backend).await;
    let interrupted = IngestOptions {
        interrupt_after: Some(stop_after),
        ..IngestOptions::default()
    };
    let partial = run(&crashed, spec, &interrupted).await;
    assert!(partial.interrupted);
    assert_eq!(partial.counts.messages_read, stop_after);
    let partial_dump = dump(&crashed.url).await;
    assert!(
        partial_dump.series_versions.is_empty(),
        "no series phase before the crash"
    );
    assert_eq!(
        partial_dump.cursors.len(),
        2,
        "a cursor and the pending series state were saved before the crash: {:?}",
        partial_dump.cursors
    );

    let resumed = run(&crashed, spec, &options).await;
    assert!(
        resumed.counts.messages_read < SLICE_MESSAGES - stop_after + 100,
        "resumed from the saved cursor: {:?}",
        resumed.counts
    );
    assert!(resumed.counts.messages_duplicate >= stop_after % 100);
    assert_eq!(dump(&crashed.url).await, dump(&clean.url).await);
}

#[tokio::test]
async fn interrupted_mbox_run_resumes_to_the_clean_database_sqlite() {
    let Some(spec) = mbox_spec("interrupted_mbox_run_resumes_sqlite") else {
        return;
    };
    interrupted_matches_clean(BackendKind::Sqlite, &spec, 1234).await;
}

#[tokio::test]
async fn interrupted_mbox_run_resumes_to_the_clean_database_postgres() {
    let Some(spec) = mbox_spec("interrupted_mbox_run_resumes_postgres") else {
        return;
    };
    interrupted_matches_clean(BackendKind::Postgres, &spec, 1777).await;
}

#[tokio::test]
async fn interrupted_public_inbox_run_resumes_to_the_clean_database() {
    let test = "interrupted_public_inbox_run_resumes";
    let Some(corpus) = support::corpus_dir(test) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let epoch = dir.path().join("git/0.git");
    support::clone_io_uring_bundle(&corpus, &epoch);
    let spec: SourceSpec = format!("public-inbox:{}", path_str(&epoch))
        .parse()
        .expect("spec");
    interrupted_matches_clean(BackendKind::Sqlite, &spec, 901).await;
}

/// The slice written as a maildir (every third message already moved to
/// `cur/` with flags, as a mail client would) ingests to the same messages
/// and series as the mbox, and a second run reads nothing.
#[tokio::test]
async fn maildir_gives_the_same_database_as_the_mbox() {
    let test = "maildir_gives_the_same_database_as_the_mbox";
    let Some(mbox) = mbox_spec(test) else {
        return;
    };
    let SourceSpec::Mbox { path, .. } = &mbox else {
        unreachable!("mbox_spec returns an mbox source");
    };
    let bytes = std::fs::read(path).expect("read slice");
    let dir = tempfile::tempdir().expect("tempdir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
    }
    let messages =
        sashiko_ingest::mbox::split(&bytes, sashiko_ingest::mbox::MboxFormat::Mboxrd).messages;
    for (index, message) in messages.iter().enumerate() {
        let unique = format!("{:010}.M{index}P1.test", 1_700_000_000 + index);
        let relative = if index % 3 == 0 {
            format!("cur/{unique}:2,S")
        } else {
            format!("new/{unique}")
        };
        std::fs::write(dir.path().join(relative), &message.bytes).expect("write message");
    }
    let maildir: SourceSpec = format!("maildir:{}", path_str(dir.path()))
        .parse()
        .expect("spec");

    let from_mbox = TestDb::new(BackendKind::Sqlite).await;
    run(&from_mbox, &mbox, &IngestOptions::default()).await;
    let from_maildir = TestDb::new(BackendKind::Sqlite).await;
    let report = run(&from_maildir, &maildir, &IngestOptions::default()).await;
    assert_eq!(report.counts.messages_read, SLICE_MESSAGES);
    assert_eq!(report.counts.messages_new, SLICE_DISTINCT);
    let again = run(&from_maildir, &maildir, &IngestOptions::default()).await;
    assert_eq!(again.counts.messages_read, 0);
    let (mbox_dump, maildir_dump) = (dump(&from_mbox.url).await, dump(&from_maildir.url).await);
    assert_eq!(maildir_dump.messages, mbox_dump.messages);
    assert_eq!(maildir_dump.series_versions, mbox_dump.series_versions);
    assert_eq!(maildir_dump.patches, mbox_dump.patches);
}

/// Messages without the raw column (NNTP articles carry headers the server
/// adds, see tests/servers.rs).
fn without_raw(rows: &[String]) -> Vec<String> {
    rows.iter()
        .map(|row| {
            row.rsplit_once(" | ")
                .map_or(row.as_str(), |(rest, _)| rest)
                .to_owned()
        })
        .collect()
}

#[tokio::test]
async fn nntp_public_inbox_git_and_mbox_give_the_same_messages_and_series() {
    let test = "nntp_public_inbox_git_and_mbox_give_the_same_messages_and_series";
    let Some(mut inbox) = PublicInbox::io_uring(test) else {
        return;
    };
    let Some(mbox) = mbox_spec(test) else {
        return;
    };
    let port = inbox.start_nntpd();
    let sources: [(&str, SourceSpec); 3] = [
        ("mbox", mbox),
        (
            "public-inbox git",
            format!("public-inbox:{}", path_str(&inbox.epoch))
                .parse()
                .expect("spec"),
        ),
        (
            "nntp",
            format!("nntp://127.0.0.1:{port}/{IO_URING_GROUP}")
                .parse()
                .expect("spec"),
        ),
    ];
    let mut dumps = Vec::new();
    for (name, spec) in &sources {
        let db = TestDb::new(BackendKind::Sqlite).await;
        let report = run(&db, spec, &IngestOptions::default()).await;
        eprintln!("{test}: {name}: {:?}", report.counts);
        assert_eq!(report.counts.messages_new, SLICE_DISTINCT, "{name}");
        dumps.push((name, dump(&db.url).await));
    }
    let (_, reference) = &dumps[0];
    for (name, other) in &dumps[1..] {
        if **name == "nntp" {
            assert_eq!(
                without_raw(&other.messages),
                without_raw(&reference.messages),
                "{name}"
            );
        } else {
            assert_eq!(other.messages, reference.messages, "{name}");
        }
        assert_eq!(other.series_versions, reference.series_versions, "{name}");
        assert_eq!(other.patches, reference.patches, "{name}");
    }
    eprintln!(
        "{test}: {} messages, {} series versions, {} patches, identical across mbox, git and NNTP",
        reference.messages.len(),
        reference.series_versions.len(),
        reference.patches.len()
    );
}
