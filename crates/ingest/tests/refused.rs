//! Regression of issue 21, hole 5: one mail with a NUL byte stalled a
//! source on PostgreSQL (TEXT refuses NUL; ingest never moved its cursor
//! past the failing message, so no later message was ever stored).
//!
//! Now, on both backends and through a real mbox file and a real
//! public-inbox NNTP server: the NUL mail is stored (raw bytes as
//! received, derived columns cleaned), a mail the database still refuses
//! (a 9 kB Message-ID, beyond a PostgreSQL index entry) is recorded as
//! rejected with the reason, every later mail is stored, its series too,
//! and the next run reads nothing again.

mod support;

use sashiko_ingest::{ingest, IngestOptions, IngestReport, SourceSpec, StoreCursorStore};
use sashiko_store::{BackendKind, Table};
use support::{PublicInbox, TestDb};

/// A 9,000-letter Message-ID local part; pseudo-random so PostgreSQL
/// cannot compress it below its index limit.
fn long_local_part() -> String {
    let mut seed = 0x2545_f491_u32;
    (0..9000)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + ((seed >> 16) % 26) as u8)
        })
        .collect()
}

fn patch_mail(message_id: &str, subject: &str, added_line: &str, minute: u32) -> Vec<u8> {
    format!(
        "From: Ada Dev <ada@example.org>\nTo: test@example.org\nSubject: {subject}\n\
         Message-ID: <{message_id}>\nDate: Mon, 1 Sep 2025 10:{minute:02}:00 +0000\n\n\
         Change it.\n\nSigned-off-by: Ada Dev <ada@example.org>\n---\n\
         diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1,2 +1,3 @@\n int a;\n+{added_line}\n int b;\n"
    )
    .into_bytes()
}

/// The four mails, in source order: a patch, the NUL patch, the patch
/// with the huge Message-ID, a later patch.
fn mails() -> (Vec<Vec<u8>>, String) {
    let long_id = format!("{}@example.org", long_local_part());
    let mails = vec![
        patch_mail("first@example.org", "[PATCH] mm: first", "int x;", 0),
        patch_mail(
            "nul@example.org",
            "[PATCH] mm: nul \0 in the subject",
            "char c = '\0';",
            1,
        ),
        patch_mail(&long_id, "[PATCH] mm: long id", "int y;", 2),
        patch_mail("after@example.org", "[PATCH] mm: after", "int z;", 3),
    ];
    (mails, long_id)
}

/// The added diff line of the NUL mail.
const NUL_LINE: &[u8] = b"+char c = '\0';";

async fn run(db: &TestDb, spec: &SourceSpec) -> IngestReport {
    let cursors = StoreCursorStore::new(db.store.clone());
    let report = ingest(
        std::slice::from_ref(spec),
        &db.store,
        &cursors,
        &IngestOptions {
            list: Some("test@example.org".into()),
            ..IngestOptions::default()
        },
    )
    .await
    .expect("ingest never stops on one message");
    assert!(
        report.failed_sources.is_empty(),
        "{:?}",
        report.failed_sources
    );
    report
}

/// `raw_nul`: the NUL mail as the store must keep it, or `None` where the
/// server adds header lines (NNTP's Xref, Path): then its NUL body line.
async fn check(backend: BackendKind, spec: &SourceSpec, raw_nul: Option<&[u8]>, db: &TestDb) {
    let first = run(db, spec).await;
    eprintln!("{backend:?} {spec}: {:?}", first.counts);
    let counts = &first.counts;
    assert_eq!(counts.messages_read, 4);
    match backend {
        BackendKind::Postgres => {
            assert_eq!((counts.messages_new, counts.messages_rejected), (3, 1));
            assert!(
                first
                    .diagnostics
                    .iter()
                    .any(|d| d.contains("recorded as rejected")),
                "{:?}",
                first.diagnostics
            );
            let rejects = db.store.ingest_rejects(10).await.expect("rejects");
            assert_eq!(rejects.len(), 1);
            assert!(
                rejects[0].reason.contains("index row"),
                "{}",
                rejects[0].reason
            );
            assert_eq!(rejects[0].source, spec.key());
            // Its series cannot be stored either: left out, said so.
            assert_eq!(counts.series_rejected, 1, "{:?}", first.diagnostics);
        }
        BackendKind::Sqlite => {
            assert_eq!((counts.messages_new, counts.messages_rejected), (4, 0));
            assert_eq!(counts.series_rejected, 0);
        }
    }
    assert_eq!(counts.series + counts.series_rejected, 4);
    // Every mail after the bad ones is stored, the NUL mail byte for byte.
    let after = db
        .store
        .message_raw("after@example.org")
        .await
        .expect("read");
    assert!(after.is_some(), "the mail after the bad ones is stored");
    let nul = db
        .store
        .message_raw("nul@example.org")
        .await
        .expect("read")
        .expect("the NUL mail is stored");
    match raw_nul {
        Some(raw) => assert_eq!(nul, raw, "raw bytes kept as received"),
        None => assert!(
            nul.windows(NUL_LINE.len()).any(|w| w == NUL_LINE),
            "the NUL byte is kept in the raw message"
        ),
    }
    let subject = db
        .store
        .web_rows(
            "reading the cleaned subject",
            "SELECT subject FROM messages WHERE message_id = 'nul@example.org'",
            &[],
        )
        .await
        .expect("subject");
    assert_eq!(
        subject[0]["subject"],
        "[PATCH] mm: nul \u{fffd} in the subject"
    );
    // The cursor moved past everything: nothing is read or recorded again.
    let second = run(db, spec).await;
    assert_eq!(second.counts.messages_read, 0, "{:?}", second.counts);
    let rejected = db.store.count(Table::IngestRejects).await.expect("count");
    assert_eq!(rejected, i64::from(backend == BackendKind::Postgres));
}

async fn mbox_case(backend: BackendKind) {
    let (mails, _) = mails();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.mbox");
    let mut mbox = Vec::new();
    for mail in &mails {
        mbox.extend_from_slice(b"From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        mbox.extend_from_slice(mail);
        mbox.push(b'\n');
    }
    std::fs::write(&path, mbox).expect("mbox");
    let spec: SourceSpec = format!("mboxrd:{}", path.display()).parse().expect("spec");
    let db = TestDb::new(backend).await;
    check(backend, &spec, Some(&mails[1]), &db).await;
}

#[tokio::test]
async fn postgres_mbox_with_a_nul_mail_and_a_refused_mail_never_stalls() {
    mbox_case(BackendKind::Postgres).await;
}

#[tokio::test]
async fn sqlite_mbox_with_a_nul_mail_and_a_refused_mail_never_stalls() {
    mbox_case(BackendKind::Sqlite).await;
}

async fn nntp_case(backend: BackendKind, test: &str) {
    let (mails, _) = mails();
    let refs: Vec<&[u8]> = mails.iter().map(Vec::as_slice).collect();
    let Some(mut inbox) = PublicInbox::from_messages(test, "test.refused", &refs) else {
        return;
    };
    let port = inbox.start_nntpd();
    let spec: SourceSpec = format!("nntp://127.0.0.1:{port}/test.refused")
        .parse()
        .expect("spec");
    let db = TestDb::new(backend).await;
    check(backend, &spec, None, &db).await;
}

#[tokio::test]
async fn postgres_nntp_with_a_nul_mail_and_a_refused_mail_never_stalls() {
    nntp_case(
        BackendKind::Postgres,
        "postgres_nntp_with_a_nul_mail_and_a_refused_mail_never_stalls",
    )
    .await;
}

#[tokio::test]
async fn sqlite_nntp_with_a_nul_mail_and_a_refused_mail_never_stalls() {
    nntp_case(
        BackendKind::Sqlite,
        "sqlite_nntp_with_a_nul_mail_and_a_refused_mail_never_stalls",
    )
    .await;
}
