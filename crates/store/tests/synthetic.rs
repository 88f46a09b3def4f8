//! The load bench's synthetic rows (`Store::fill_synthetic`, feature
//! `synthetic`) on a real PostgreSQL: the counts asked for, every bug
//! opened in its history, subsystems cycled; SQLite and an empty subsystem
//! list are refused with an error saying why.

mod common;

use common::TestDb;
use sashiko_store::{BackendKind, StoreError, SyntheticLoad, Table};

fn load(bugs: i32, subsystems: &[&str], series: i32) -> SyntheticLoad {
    SyntheticLoad {
        bugs,
        subsystems: subsystems.iter().map(|name| (*name).to_owned()).collect(),
        series,
    }
}

#[tokio::test]
async fn fills_the_counts_asked_for_on_postgres() {
    let db = TestDb::new(BackendKind::Postgres).await;
    db.store
        .fill_synthetic(&load(60, &["mm", "net", "fs/ext4"], 4))
        .await
        .expect("fill");
    db.store.vacuum_analyze().await.expect("vacuum");
    let expected = [
        (Table::Bugs, 60),
        (Table::BugHistory, 60),
        (Table::Series, 4),
        (Table::SeriesVersions, 4),
        (Table::Patches, 8),
    ];
    for (table, rows) in expected {
        assert_eq!(
            db.store.count(table).await.expect("count"),
            rows,
            "{table:?}"
        );
    }
    let per_subsystem = db
        .store
        .web_rows(
            "test: bugs per subsystem",
            "SELECT subsystem, COUNT(*) AS n FROM bugs GROUP BY subsystem ORDER BY subsystem",
            &[],
        )
        .await
        .expect("bugs per subsystem");
    let counted: Vec<(String, i64)> = per_subsystem
        .iter()
        .map(|row| {
            (
                row["subsystem"].as_str().unwrap_or_default().to_owned(),
                row["n"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    assert_eq!(
        counted,
        [
            ("fs/ext4".to_owned(), 20),
            ("mm".to_owned(), 20),
            ("net".to_owned(), 20)
        ]
    );
}

#[tokio::test]
async fn refuses_sqlite_and_an_empty_subsystem_list() {
    let sqlite = TestDb::new(BackendKind::Sqlite).await;
    let error = sqlite
        .store
        .fill_synthetic(&load(10, &["mm"], 1))
        .await
        .expect_err("SQLite has no generate_series");
    assert!(
        matches!(&error, StoreError::Invalid(why) if why.contains("SQLite")),
        "{error}"
    );
    assert_eq!(sqlite.store.count(Table::Bugs).await.expect("count"), 0);

    let postgres = TestDb::new(BackendKind::Postgres).await;
    let error = postgres
        .store
        .fill_synthetic(&load(10, &[], 1))
        .await
        .expect_err("no subsystem to cycle through");
    assert!(error.to_string().contains("subsystem names"), "{error}");
    assert_eq!(postgres.store.count(Table::Bugs).await.expect("count"), 0);
}
