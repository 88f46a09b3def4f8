//! Test databases for both backends.
//!
//! SQLite lives in a temporary directory; PostgreSQL gets a uniquely named
//! database on the server at `SASHIKO_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432`), dropped when the test ends, even
//! when it panics. A PostgreSQL that cannot be reached fails the test with
//! a message saying how to start or point at one; it is never skipped.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

pub mod builders;

use std::sync::atomic::{AtomicU32, Ordering};

use sashiko_store::{BackendKind, Store};
use sqlx::Connection;

/// The server tests create their databases on.
pub fn pg_server_url() -> String {
    std::env::var("SASHIKO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// A migrated, empty database that disappears with the value.
pub struct TestDb {
    /// The store, migrated.
    pub store: Store,
    /// Its URL, for spawning processes against it.
    pub url: String,
    pg_database: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or(0);
    format!(
        "sashiko_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst),
        nanos
    )
}

impl TestDb {
    /// A fresh database of `backend`, migrated.
    pub async fn new(backend: BackendKind) -> TestDb {
        let db = Self::unmigrated(backend).await;
        db.store
            .migrate()
            .await
            .expect("migrating the test database");
        db
    }

    /// A fresh, empty database of `backend` without migrations.
    pub async fn unmigrated(backend: BackendKind) -> TestDb {
        match backend {
            BackendKind::Sqlite => {
                let dir = tempfile::tempdir().expect("creating a temporary directory");
                let url = format!("sqlite:{}", dir.path().join("nested/dir/test.db").display());
                let store = Store::connect(&url)
                    .await
                    .expect("opening the SQLite test database");
                TestDb {
                    store,
                    url,
                    pg_database: None,
                    _dir: Some(dir),
                }
            }
            BackendKind::Postgres => {
                let server = pg_server_url();
                let name = unique_name();
                let mut admin = match sqlx::PgConnection::connect(&format!("{server}/postgres")).await {
                    Ok(connection) => connection,
                    Err(error) => panic!(
                        "PostgreSQL is not reachable at {server} ({error}). Start it (.ci/run does, with \
                         pg_ctlcluster) or point SASHIKO_TEST_PG_URL at a server where this user may create databases"
                    ),
                };
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("creating the PostgreSQL test database");
                let _ = admin.close().await;
                let url = format!("{server}/{name}");
                let store = Store::connect(&url)
                    .await
                    .expect("connecting to the PostgreSQL test database");
                TestDb {
                    store,
                    url,
                    pg_database: Some(name),
                    _dir: None,
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_database.take() else {
            return;
        };
        let server = pg_server_url();
        // Drop runs inside the test's runtime: use a thread with its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("warning: could not drop a PostgreSQL test database: {error}");
        }
    }
}

/// Defines `$name_sqlite` and `$name_postgres` tests that call
/// `$body(store: &Store, db: &TestDb)` on a fresh database of each backend.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident => $body:path;)+) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let db = $crate::common::TestDb::new(sashiko_store::BackendKind::Sqlite).await;
                    $body(&db).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    let db = $crate::common::TestDb::new(sashiko_store::BackendKind::Postgres).await;
                    $body(&db).await;
                }
            }
        )+
    };
}

/// Inserts `n_bugs` bugs spread over `n_subsystems` subsystems (`subsystem-K`)
/// and the six states, straight in SQL (fast enough for 100,000), then
/// refreshes the planner's statistics.
pub async fn seed_bugs(db: &TestDb, n_bugs: i64, n_subsystems: i64) {
    let columns =
        "fingerprint, subsystem, state, severity, title, file, line_start, line_end, preexisting, \
                   created_at, updated_at";
    let values = "'seed-' || i, 'subsystem-' || (i % $2), \
                  CASE i % 6 WHEN 0 THEN 'open' WHEN 1 THEN 'confirmed' WHEN 2 THEN 'invalid' \
                  WHEN 3 THEN 'fixed' WHEN 4 THEN 'known' ELSE 'open' END, \
                  'medium', 'seeded bug ' || i, 'dir/file' || (i % 97) || '.c', i % 1000, i % 1000 + 3, \
                  i % 2 = 0, 1700000000000 + i, 1700000000000 + i";
    match db.store.backend() {
        BackendKind::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&db.url)
                .await
                .expect("connect");
            let sql = format!(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
                 INSERT INTO bugs ({columns}) SELECT {values} FROM n"
            );
            sqlx::query(&sql)
                .bind(n_bugs)
                .bind(n_subsystems)
                .execute(&mut connection)
                .await
                .expect("seed bugs");
            sqlx::query("ANALYZE")
                .execute(&mut connection)
                .await
                .expect("analyze");
        }
        BackendKind::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            let sql = format!("INSERT INTO bugs ({columns}) SELECT {values} FROM generate_series(1::bigint, $1) AS i");
            sqlx::query(&sql)
                .bind(n_bugs)
                .bind(n_subsystems)
                .execute(&mut connection)
                .await
                .expect("seed bugs");
            sqlx::query("ANALYZE")
                .execute(&mut connection)
                .await
                .expect("analyze");
        }
    }
}
