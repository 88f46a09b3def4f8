//! Shared fixtures of the integration tests: the corpus, a real
//! public-inbox (nntpd and httpd on 127.0.0.1) serving the io-uring slice,
//! and migrated test databases of both backends with a dump for comparing
//! them. Test-only.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

#[path = "../../src/test_support.rs"]
mod test_support;

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sashiko_store::{BackendKind, Store};
use sha2::{Digest, Sha256};
use sqlx::{Connection, Row};
pub use test_support::{clone_io_uring_bundle, corpus_dir, git};

pub const IO_URING_MBOX: &str = "lists/io-uring-28250-30749.mbox";
pub const IO_URING_GROUP: &str = "test.io-uring";

/// A public-inbox v2 inbox holding the io-uring slice, with daemons started
/// on demand and stopped on drop.
pub struct PublicInbox {
    dir: tempfile::TempDir,
    pub inbox: PathBuf,
    pub epoch: PathBuf,
    children: Vec<Child>,
}

fn have(binary: &str) -> bool {
    Command::new(binary)
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

impl PublicInbox {
    /// Builds the inbox, or `None` (after printing why the test is skipped)
    /// when the corpus or the public-inbox programs are missing.
    pub fn io_uring(test: &str) -> Option<PublicInbox> {
        let corpus = corpus_dir(test)?;
        for binary in [
            "public-inbox-init",
            "public-inbox-index",
            "public-inbox-nntpd",
            "public-inbox-httpd",
        ] {
            if !have(binary) {
                eprintln!(
                    "skipping {test}: {binary} not found (apt-get install -y public-inbox; listed in .ci/packages.txt)"
                );
                return None;
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let inbox = dir.path().join("io-uring");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        let fixture = PublicInbox {
            epoch: inbox.join("git/0.git"),
            inbox,
            dir,
            children: Vec::new(),
        };
        fixture.run(&[
            "public-inbox-init",
            "-V2",
            "-L",
            "basic",
            "io-uring",
            &fixture.inbox.to_string_lossy(),
            "http://127.0.0.1/io-uring",
            "io-uring@vger.kernel.org",
        ]);
        std::fs::remove_dir_all(&fixture.epoch).expect("remove the empty epoch");
        clone_io_uring_bundle(&corpus, &fixture.epoch);
        let config = fixture.config().to_string_lossy().into_owned();
        git(
            fixture.dir.path(),
            &[
                "config",
                "-f",
                &config,
                "publicinbox.io-uring.newsgroup",
                IO_URING_GROUP,
            ],
        );
        fixture.run(&["public-inbox-index", &fixture.inbox.to_string_lossy()]);
        Some(fixture)
    }

    /// An inbox holding exactly `messages` (raw bytes, in order), written
    /// as public-inbox v2 writes them (one commit per message, blob `m`)
    /// and indexed; `None` (after saying why) without public-inbox.
    pub fn from_messages(test: &str, group: &str, messages: &[&[u8]]) -> Option<PublicInbox> {
        for binary in [
            "public-inbox-init",
            "public-inbox-index",
            "public-inbox-nntpd",
        ] {
            if !have(binary) {
                eprintln!("skipping {test}: {binary} not found (apt-get install -y public-inbox)");
                return None;
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let inbox = dir.path().join("inbox");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        let fixture = PublicInbox {
            epoch: inbox.join("git/0.git"),
            inbox,
            dir,
            children: Vec::new(),
        };
        fixture.run(&[
            "public-inbox-init",
            "-V2",
            "-L",
            "basic",
            "test",
            &fixture.inbox.to_string_lossy(),
            "http://127.0.0.1/test",
            "test@example.org",
        ]);
        let config = fixture.config().to_string_lossy().into_owned();
        git(
            fixture.dir.path(),
            &["config", "-f", &config, "publicinbox.test.newsgroup", group],
        );
        std::fs::create_dir_all(&fixture.epoch).expect("epoch dir");
        git(&fixture.epoch, &["init", "-q", "--bare"]);
        let mut parent: Option<String> = None;
        for (index, message) in messages.iter().enumerate() {
            let file = fixture.dir.path().join(format!("message-{index}"));
            std::fs::write(&file, message).expect("message file");
            let blob = git(
                &fixture.epoch,
                &["hash-object", "-w", &file.to_string_lossy()],
            );
            let tree = git_stdin(
                &fixture.epoch,
                &["mktree"],
                format!("100644 blob {}\tm\n", blob.trim()).as_bytes(),
            );
            let mut args = vec!["commit-tree".to_owned(), tree.trim().to_owned()];
            if let Some(parent) = &parent {
                args.extend(["-p".to_owned(), parent.clone()]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let commit = git_stdin(&fixture.epoch, &args, b"message\n");
            parent = Some(commit.trim().to_owned());
        }
        if let Some(head) = &parent {
            git(&fixture.epoch, &["update-ref", "refs/heads/master", head]);
        }
        fixture.run(&["public-inbox-index", &fixture.inbox.to_string_lossy()]);
        Some(fixture)
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn command(&self, program: &str) -> Command {
        let mut command = Command::new(program);
        command
            .env("PI_CONFIG", self.config())
            .env("HOME", self.dir.path().join("home"))
            .current_dir(self.dir.path());
        command
    }

    fn run(&self, argv: &[&str]) {
        let output = self
            .command(argv[0])
            .args(&argv[1..])
            .output()
            .expect("run public-inbox");
        assert!(
            output.status.success(),
            "{argv:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Starts `public-inbox-nntpd` on a free loopback port; returns the port.
    pub fn start_nntpd(&mut self) -> u16 {
        self.start_daemon("public-inbox-nntpd", "nntp")
    }

    /// Starts `public-inbox-httpd` on a free loopback port; returns the port.
    pub fn start_httpd(&mut self) -> u16 {
        self.start_daemon("public-inbox-httpd", "http")
    }

    fn start_daemon(&mut self, program: &str, scheme: &str) -> u16 {
        for _attempt in 0..5 {
            let port = free_port();
            let log =
                std::fs::File::create(self.dir.path().join(format!("{program}.log"))).expect("log");
            let child = self
                .command(program)
                .args(["-W0", "-l", &format!("{scheme}://127.0.0.1:{port}")])
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("spawn public-inbox daemon");
            self.children.push(child);
            let deadline = Instant::now() + Duration::from_secs(30);
            while Instant::now() < deadline {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return port;
                }
                if let Some(child) = self.children.last_mut() {
                    if child.try_wait().ok().flatten().is_some() {
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        panic!(
            "{program} did not start; see its log in {}",
            self.dir.path().display()
        );
    }
}

impl Drop for PublicInbox {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Runs git with `args` in `dir`, `input` on its stdin.
fn git_stdin(dir: &Path, args: &[&str], input: &[u8]) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run git");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to git");
    let output = child.wait_with_output().expect("git output");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("find a free port")
}

/// A migrated, empty database that disappears with the value.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pg_database: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

pub fn pg_server_url() -> String {
    std::env::var("SASHIKO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

impl TestDb {
    pub async fn new(backend: BackendKind) -> TestDb {
        let (url, pg_database, dir) = match backend {
            BackendKind::Sqlite => {
                let dir = tempfile::tempdir().expect("tempdir");
                let url = format!("sqlite:{}", dir.path().join("sashiko.db").display());
                (url, None, Some(dir))
            }
            BackendKind::Postgres => {
                let server = pg_server_url();
                let name = format!(
                    "sashiko_ingest_test_{}_{}",
                    std::process::id(),
                    rand_suffix()
                );
                let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres"))
                    .await
                    .unwrap_or_else(|error| {
                        panic!("PostgreSQL not reachable at {server}: {error}")
                    });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create test database");
                let _ = admin.close().await;
                (format!("{server}/{name}"), Some(name), None)
            }
        };
        let store = Store::connect(&url).await.expect("connect test database");
        store.migrate().await.expect("migrate test database");
        TestDb {
            store,
            url,
            pg_database,
            _dir: dir,
        }
    }
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0);
    nanos.wrapping_add(COUNTER.fetch_add(1, Ordering::SeqCst))
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_database.take() else {
            return;
        };
        let server = pg_server_url();
        let _ = std::thread::spawn(move || {
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
    }
}

/// The content of a database that ingest writes, without row ids and
/// timestamps, one line per row, in a stable order.
#[derive(Debug, PartialEq, Eq)]
pub struct Dump {
    pub messages: Vec<String>,
    pub series_versions: Vec<String>,
    pub patches: Vec<String>,
    pub cursors: Vec<String>,
}

const DUMP_MESSAGES: &str =
    "SELECT m.message_id, l.name, m.subject, m.author, m.date, m.in_reply_to, m.raw \
     FROM messages m LEFT JOIN lists l ON l.id = m.list_id ORDER BY m.message_id";
const DUMP_SERIES: &str =
    "SELECT s.series_key, s.title, s.author, CAST(v.version AS TEXT), CAST(v.total AS TEXT), \
     v.title, v.author, v.cover_message_id \
     FROM series_versions v JOIN series s ON s.id = v.series_id ORDER BY s.series_key, v.version";
const DUMP_PATCHES: &str = "SELECT s.series_key, CAST(v.version AS TEXT), CAST(p.patch_index AS TEXT), p.message_id, \
     p.subject, p.author, p.commit_message, p.diff, p.patch_id \
     FROM patches p JOIN series_versions v ON v.id = p.series_version_id JOIN series s ON s.id = v.series_id \
     ORDER BY s.series_key, v.version, p.patch_index";
const DUMP_CURSORS: &str = "SELECT source, value FROM ingest_cursors ORDER BY source";

macro_rules! dump_rows {
    ($connection:expr, $sql:expr, $raw_column:expr) => {{
        let rows = sqlx::query($sql)
            .fetch_all(&mut $connection)
            .await
            .expect("dump query");
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|column| {
                        if Some(column) == $raw_column {
                            let raw: Vec<u8> = row.get(column);
                            hex::encode(Sha256::digest(&raw))
                        } else {
                            let value: Option<String> = row.get(column);
                            value.unwrap_or_else(|| "NULL".to_owned())
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            })
            .collect::<Vec<String>>()
    }};
}

macro_rules! dump_all {
    ($connection:expr) => {
        Dump {
            messages: dump_rows!($connection, DUMP_MESSAGES, Some(6)),
            series_versions: dump_rows!($connection, DUMP_SERIES, None::<usize>),
            patches: dump_rows!($connection, DUMP_PATCHES, None::<usize>),
            cursors: dump_rows!($connection, DUMP_CURSORS, None::<usize>),
        }
    };
}

/// Dumps the database at `url` (SQLite or PostgreSQL).
pub async fn dump(url: &str) -> Dump {
    if url.starts_with("sqlite:") {
        let mut connection = sqlx::SqliteConnection::connect(url)
            .await
            .expect("open SQLite for dump");
        dump_all!(connection)
    } else {
        let mut connection = sqlx::PgConnection::connect(url)
            .await
            .expect("open PostgreSQL for dump");
        dump_all!(connection)
    }
}

/// The path of a corpus file, or `None` when the corpus is absent.
pub fn corpus_file(test: &str, relative: &str) -> Option<PathBuf> {
    corpus_dir(test).map(|corpus| corpus.join(relative))
}

pub fn path_str(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// The built `sashiko` binary: $SASHIKO_BIN, else `sashiko` in the target
/// directory this test runs from; `None` (after saying why the test is
/// skipped) when it is not built.
pub fn sashiko_binary(test: &str) -> Option<PathBuf> {
    let candidate = match std::env::var_os("SASHIKO_BIN") {
        Some(path) => PathBuf::from(path),
        None => std::env::current_exe()
            .ok()?
            .parent()?
            .parent()?
            .join("sashiko"),
    };
    if candidate.is_file() {
        Some(candidate)
    } else {
        eprintln!(
            "skipping {test}: {} not found; build it with `cargo build -p sashiko` or set SASHIKO_BIN",
            candidate.display()
        );
        None
    }
}
