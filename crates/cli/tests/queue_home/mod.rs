//! Shared by the queue's end-to-end tests (`queue_e2e`, `priority_e2e`,
//! `review_interrupted_e2e`, which also declare `mod common`): a temporary
//! home whose configuration keeps model retries short, the real binary run
//! in a clean environment against that home's database, commits, and
//! single-patch mails.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::Path;
use std::process::{Command, Output};

use sashiko_llm_fake::FakeLlmServer;
use serde_json::Value;

const SHORT_RETRIES: &str =
    "[llm.retry]\nmax_retries = 1\ninitial_backoff_ms = 10\nmax_backoff_ms = 20\n";

pub struct Home {
    pub dir: tempfile::TempDir,
    /// `SASHIKO_DB` of every command.
    pub db: String,
    /// Further environment of every command.
    pub env: Vec<(&'static str, String)>,
}

impl Home {
    /// A home on `db`, or on an SQLite file inside it.
    pub fn new(db: Option<String>) -> Home {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("config.toml"), SHORT_RETRIES).expect("config");
        let db =
            db.unwrap_or_else(|| format!("sqlite:{}", dir.path().join("sashiko.db").display()));
        Home {
            dir,
            db,
            env: Vec::new(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Adds TOML to the configuration file.
    pub fn append_config(&self, text: &str) {
        let path = self.path().join("config.toml");
        let config = std::fs::read_to_string(&path).expect("config");
        std::fs::write(path, config + text).expect("config");
    }

    /// `sashiko ARGS` in the home, talking to `fake` when given.
    pub fn command(&self, fake: Option<&FakeLlmServer>, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sashiko"));
        command
            .args(args)
            .current_dir(self.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join("xdg-config"))
            .env("SASHIKO_CONFIG", self.path().join("config.toml"))
            .env("SASHIKO_DB", &self.db)
            .envs(self.env.iter().map(|(name, value)| (*name, value)));
        if let Some(fake) = fake {
            command
                .env("SASHIKO_LLM_PROVIDER", "openai")
                .env("SASHIKO_LLM_BASE_URL", fake.base_url())
                .env("SASHIKO_LLM_MODEL", "fake-model")
                .env("SASHIKO_LLM_API_KEY", "sk-test");
        }
        command
    }

    /// Runs `sashiko ARGS`, which must succeed.
    pub fn run(&self, fake: Option<&FakeLlmServer>, args: &[&str]) -> Output {
        let output = self.command(fake, args).output().expect("sashiko runs");
        assert!(
            output.status.success(),
            "sashiko {args:?} failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// The JSON document `sashiko ARGS` printed.
    pub fn json(&self, args: &[&str]) -> Value {
        let output = self.run(None, args);
        serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "sashiko {args:?} printed no JSON ({error}): {}",
                String::from_utf8_lossy(&output.stdout)
            )
        })
    }
}

pub use crate::common::{git, init_repo};

/// Writes `text` to `file` and commits everything with `subject`.
pub fn commit(dir: &Path, file: &str, text: &str, subject: &str) {
    let path = dir.join(file);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::fs::write(path, text).expect("write");
    git(dir, &["add", "."]);
    let message = format!("{subject}\n\nWhy.\n\nSigned-off-by: Ada Dev <ada@example.org>");
    git(dir, &["commit", "-q", "-m", &message]);
}

/// One mbox message: a single patch `subject` adding one line to `file`.
pub fn patch_mail(subject: &str, message_id: &str, file: &str) -> String {
    format!(
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n\
         From: Ada Dev <ada@example.org>\n\
         Subject: {subject}\n\
         Message-ID: <{message_id}>\n\
         Date: Thu, 02 Jan 2025 10:00:00 +0000\n\
         \n\
         Change it.\n\
         \n\
         Signed-off-by: Ada Dev <ada@example.org>\n\
         ---\n {file} | 1 +\n 1 file changed, 1 insertion(+)\n\n\
         diff --git a/{file} b/{file}\n\
         index 1111111..2222222 100644\n\
         --- a/{file}\n\
         +++ b/{file}\n\
         @@ -1,3 +1,4 @@\n int a;\n+int b;\n int c;\n int d;\n\n"
    )
}

/// The PostgreSQL server tests make their databases on.
pub fn pg_server() -> String {
    std::env::var("SASHIKO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

/// A new database `name` on [`pg_server`]; its URL. Fails the test with a
/// message saying how to get a server when there is none.
pub async fn pg_database(name: &str) -> String {
    let server = pg_server();
    sashiko_store::create_postgres_database(&server, name)
        .await
        .unwrap_or_else(|error| {
            panic!("PostgreSQL at {server} is needed ({error}); start it (.ci/run does) or set SASHIKO_TEST_PG_URL")
        })
}

/// Drops database `name` on [`pg_server`].
pub async fn drop_pg_database(name: &str) {
    sashiko_store::drop_postgres_database(&pg_server(), name)
        .await
        .expect("drop test database");
}
