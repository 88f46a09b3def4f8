//! Shared helpers of the end-to-end tests: a temporary home with a git
//! repository, a config with short retries, and the real binary.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sashiko_llm_fake::{FakeAnswer, FakeScript};
use sashiko_store::Store;
use serde_json::Value;

pub fn git(dir: &Path, args: &[&str]) {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2025-01-02T10:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2025-01-02T10:00:00+00:00")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
}

/// `git init` with a fixed author, ready for commits.
pub fn init_repo(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["config", "user.name", "Ada Dev"]);
    git(dir, &["config", "user.email", "ada@example.org"]);
}

/// `script` plus the answers of a model that finds nothing else: no
/// findings from any other stage, no verification decisions, no wordings
/// from the report stage (the finders' text is used).
pub fn otherwise_silent(script: FakeScript) -> FakeScript {
    script
        .stage_default(
            "verify",
            FakeAnswer::json(serde_json::json!({"decisions": []})),
        )
        .stage_default(
            "report",
            FakeAnswer::json(serde_json::json!({"comments": []})),
        )
        .default_answer(FakeAnswer::json(serde_json::json!({"findings": []})))
}

pub struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    /// A temporary home with a repository made by `make_repo` and a
    /// config that keeps retries short.
    pub fn new(make_repo: fn(&Path)) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("repo")).expect("mkdir");
        make_repo(&dir.path().join("repo"));
        std::fs::write(
            dir.path().join("config.toml"),
            "[llm.retry]\nmax_retries = 1\ninitial_backoff_ms = 10\nmax_backoff_ms = 20\n",
        )
        .expect("config");
        Env { dir }
    }

    /// Add TOML to the configuration file the binary reads.
    pub fn append_config(&self, text: &str) {
        let path = self.dir.path().join("config.toml");
        let mut config = std::fs::read_to_string(&path).expect("config");
        config.push_str(text);
        std::fs::write(path, config).expect("config");
    }

    pub fn db_url(&self) -> String {
        format!("sqlite:{}", self.dir.path().join("sashiko.db").display())
    }

    pub fn repo(&self) -> PathBuf {
        self.dir.path().join("repo")
    }

    pub fn review(&self, base_url: Option<&str>, args: &[&str]) -> Output {
        self.review_with_env(base_url, args, &[])
    }

    /// Like `review`, with extra environment variables.
    pub fn review_with_env(
        &self,
        base_url: Option<&str>,
        args: &[&str],
        vars: &[(&str, &str)],
    ) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sashiko"));
        command
            .arg("review")
            .args(args)
            .current_dir(self.repo())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("SASHIKO_CONFIG", self.dir.path().join("config.toml"))
            .env("SASHIKO_DB", self.db_url());
        if let Some(url) = base_url {
            command
                .env("SASHIKO_LLM_PROVIDER", "openai")
                .env("SASHIKO_LLM_BASE_URL", url)
                .env("SASHIKO_LLM_MODEL", "fake-model")
                .env("SASHIKO_LLM_API_KEY", "sk-test-never-printed");
        }
        command.envs(vars.iter().copied());
        command.output().expect("sashiko runs")
    }

    pub async fn store(&self) -> Store {
        Store::connect(&self.db_url()).await.expect("db opens")
    }
}

/// The JSON document a `--format json` run printed.
pub fn stdout_json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "stdout is not JSON ({error}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// Waits for a spawned `sashiko serve` (stderr piped) to print the address
/// it listens on and returns it without the trailing slash; stderr keeps
/// being drained so the server never blocks on a full pipe.
pub fn served_address(child: &mut std::process::Child) -> String {
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take().expect("stderr is piped");
    let mut lines = BufReader::new(stderr).lines();
    let base = loop {
        let line = lines
            .next()
            .and_then(Result::ok)
            .expect("serve prints its address before anything fails");
        if let Some(rest) = line.strip_prefix("sashiko: serving ") {
            break rest.trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    base
}
