//! Untrusted mail text on both backends (issue 21, hole 5): a NUL byte in
//! any mail-derived column is stored cleaned (PostgreSQL's TEXT refuses
//! it, SQLite keeps it: both now store U+FFFD), raw bytes stay as
//! received, lookups by a cleaned key find the row, and what the database
//! still refuses is recognised as refused input and can be recorded in
//! `ingest_rejects` once.

mod common;

use common::TestDb;
use sashiko_store::{BackendKind, NewMessage, NewPatch, NewReject, NewSeriesVersion, Table};

async fn nul_is_cleaned_and_refusals_recorded(backend: BackendKind) {
    let db = TestDb::new(backend).await;
    let store = &db.store;
    let raw = b"From: A\0da <ada@example.org>\nSubject: x\0y\nMessage-ID: <nul\0id@example.org>\n\nbody\0\n";
    let message = NewMessage {
        message_id: "nul\0id@example.org",
        raw,
        subject: "x\0y",
        author: "A\0da <ada@example.org>",
        date: None,
        list: Some("li\0st.example.org"),
        in_reply_to: Some("pa\0rent@example.org"),
    };
    let stored = store.upsert_message(&message).await.expect("stored");
    assert!(stored.inserted);
    let again = store.upsert_message(&message).await.expect("stored again");
    assert!(!again.inserted, "idempotent on the cleaned Message-ID");
    assert_eq!(
        store
            .message_raw("nul\0id@example.org")
            .await
            .expect("lookup")
            .as_deref(),
        Some(&raw[..]),
        "raw bytes kept as received, found by the uncleaned id"
    );
    let rows = store
        .web_rows(
            "reading the cleaned columns",
            "SELECT subject, author FROM messages",
            &[],
        )
        .await
        .expect("rows");
    assert_eq!(rows[0]["subject"], "x\u{fffd}y");
    assert_eq!(rows[0]["author"], "A\u{fffd}da <ada@example.org>");

    let series = NewSeriesVersion {
        series_key: "nul\0id@example.org".into(),
        title: "t\0itle".into(),
        author: "A\0da".into(),
        version: 1,
        total: 1,
        cover_message_id: None,
        patches: vec![NewPatch {
            index: 1,
            message_id: "nul\0id@example.org".into(),
            subject: "x\0y".into(),
            author: "A\0da".into(),
            commit_message: "fix\0it".into(),
            diff: "+\0\n".into(),
            patch_id: None,
        }],
    };
    store
        .upsert_series_version(&series)
        .await
        .expect("series with NUL stored");
    assert_eq!(store.count(Table::Patches).await.expect("count"), 1);

    // A Message-ID longer than a PostgreSQL btree entry may be: refused
    // input there (recorded, not an outage); SQLite keeps it.
    // Pseudo-random letters: PostgreSQL compresses a repeated one.
    let mut seed = 0x2545_f491_u32;
    let letters: String = (0..9000)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + ((seed >> 16) % 26) as u8)
        })
        .collect();
    let long_id = format!("{letters}@example.org");
    let long = NewMessage {
        message_id: &long_id,
        ..message.clone()
    };
    match (backend, store.upsert_message(&long).await) {
        (BackendKind::Sqlite, result) => assert!(result.is_ok(), "{result:?}"),
        (BackendKind::Postgres, Err(error)) => {
            assert!(error.refuses_input(), "{error}");
            let reject = NewReject {
                source: "mbox:/tmp/x.mbox",
                location: "byte 42",
                message_id: Some(&long_id),
                reason: &error.to_string(),
                raw,
            };
            assert!(store.record_ingest_reject(&reject).await.expect("recorded"));
            assert!(
                !store.record_ingest_reject(&reject).await.expect("again"),
                "recorded once per (source, location)"
            );
            let listed = store.ingest_rejects(10).await.expect("listed");
            assert_eq!(listed.len(), 1);
            assert_eq!(listed[0].size, raw.len() as i64);
            assert!(
                listed[0].reason.contains("index row"),
                "{}",
                listed[0].reason
            );
        }
        (BackendKind::Postgres, Ok(_)) => panic!("PostgreSQL stored a 9 kB Message-ID"),
    }
}

#[tokio::test]
async fn sqlite_nul_is_cleaned_and_refusals_recorded() {
    nul_is_cleaned_and_refusals_recorded(BackendKind::Sqlite).await;
}

#[tokio::test]
async fn postgres_nul_is_cleaned_and_refusals_recorded() {
    nul_is_cleaned_and_refusals_recorded(BackendKind::Postgres).await;
}
