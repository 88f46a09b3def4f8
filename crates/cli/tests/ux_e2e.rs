//! The tool as people use it (issue 17), each case against the real
//! binary: pipes closed early, fast clear failures, one-line errors, help
//! text, the installed binary without a source tree, `serve`'s refusal of
//! a missing database directory, completions and the man page, progress
//! only on a terminal (through a real pty made by `script`), and the text
//! output's nits. The model is the fake server on 127.0.0.1.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{git, init_repo, otherwise_silent, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::json;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_sashiko")
}

/// The binary with a clean environment: a temporary home, no SASHIKO_*.
fn sashiko(home: &Path) -> Command {
    let mut command = Command::new(bin());
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("XDG_DATA_HOME", home.join("xdg-data"))
        .env("XDG_CACHE_HOME", home.join("xdg-cache"))
        .current_dir(home)
        .stdin(Stdio::null());
    command
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn lines(bytes: &[u8]) -> Vec<String> {
    text(bytes)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// A repository with a base commit and one commit adding two lines.
fn one_commit_repo(dir: &Path) {
    init_repo(dir);
    let base: Vec<String> = (1..=20).map(|n| format!("int filler_{n};")).collect();
    std::fs::create_dir_all(dir.join("mm")).expect("mkdir");
    std::fs::write(dir.join("mm/frob.c"), base.join("\n") + "\n").expect("write");
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "mm: base\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    let mut changed = base.clone();
    changed.insert(10, "\tchar *buf = kmalloc(64, GFP_KERNEL);".to_owned());
    changed.insert(11, "\tbuf[64] = 0;".to_owned());
    std::fs::write(dir.join("mm/frob.c"), changed.join("\n") + "\n").expect("write");
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "mm: frob a buffer\n\nWhy.\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
}

/// A three-part series mbox of which only part 1 is present.
fn partial_series_mbox(parts: &[u32], total: u32) -> String {
    let mut mbox = String::new();
    for part in parts {
        mbox.push_str(&format!(
            "From mboxrd@z Thu Jan  1 00:00:00 1970\nFrom: Ada Dev <ada@example.org>\n\
             Subject: [PATCH {part}/{total}] mm: part {part}\nMessage-ID: <part{part}@example.org>\n\
             Date: Mon, 1 Sep 2025 10:00:00 +0000\n\nPart {part}.\n\n\
             Signed-off-by: Ada Dev <ada@example.org>\n---\n\
             diff --git a/mm/a{part}.c b/mm/a{part}.c\n--- a/mm/a{part}.c\n+++ b/mm/a{part}.c\n\
             @@ -1,2 +1,3 @@\n int a;\n+int b{part};\n int c;\n\n"
        ));
    }
    mbox
}

/// A pipe whose reader is already closed: every write to it fails with
/// EPIPE, as after `| head -1` has read its line. The reader is `true`'s
/// standard input, closed when it exits.
fn closed_pipe() -> Stdio {
    let mut reader = Command::new("true")
        .stdin(Stdio::piped())
        .spawn()
        .expect("true(1) runs");
    let writer = reader.stdin.take().expect("piped stdin");
    reader.wait().expect("true exits");
    Stdio::from(writer)
}

#[test]
fn broken_pipe_ends_quietly_with_status_0_for_series_and_bugs() {
    let home = tempfile::tempdir().expect("tempdir");
    let mbox = home.path().join("series.mbox");
    std::fs::write(&mbox, partial_series_mbox(&[1, 2, 3], 3)).expect("write");
    let db = format!("sqlite:{}", home.path().join("db/sashiko.db").display());
    let runs: [(&str, Vec<String>); 3] = [
        ("series", vec!["series".into(), mbox.display().to_string()]),
        (
            "series text",
            vec![
                "series".into(),
                "--format".into(),
                "text".into(),
                mbox.display().to_string(),
            ],
        ),
        (
            "bugs json",
            vec![
                "bugs".into(),
                "--format".into(),
                "json".into(),
                "--db".into(),
                db.clone(),
            ],
        ),
    ];
    for (name, args) in runs {
        let output = sashiko(home.path())
            .args(&args)
            .stdout(closed_pipe())
            .output()
            .expect("sashiko runs");
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{name}: {stderr}");
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{name} must end quietly: {stderr}"
        );
    }
}

/// A loopback port nobody listens on.
fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    port
}

#[test]
fn connection_refused_review_fails_in_seconds_with_one_line_and_no_colour() {
    let env = Env::new(one_commit_repo);
    // The default retry policy, not the tests' short one: the point is
    // that a refused connection does not go through the overload retries.
    let empty_config = env.repo().join("../empty-config.toml");
    std::fs::write(&empty_config, "").expect("config");
    let port = refused_port();
    let url = format!("http://user:hunter2@127.0.0.1:{port}/v1");
    let started = Instant::now();
    let output = env.review_with_env(
        Some(&url),
        &["HEAD~1.."],
        &[("SASHIKO_CONFIG", empty_config.to_str().expect("utf-8 path"))],
    );
    let elapsed = started.elapsed();
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        elapsed < Duration::from_secs(10),
        "took {elapsed:?}: {stderr}"
    );
    let about_endpoint: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains(&format!("127.0.0.1:{port}")))
        .collect();
    assert_eq!(
        about_endpoint.len(),
        1,
        "one line names the endpoint: {stderr}"
    );
    let line = about_endpoint[0];
    assert!(line.contains("cannot connect"), "{line}");
    assert!(line.contains("base URL"), "the line names the fix: {line}");
    assert!(!stderr.contains("hunter2"), "password redacted: {stderr}");
    assert!(!stderr.contains("WARN"), "no retry warnings: {stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "no ANSI codes into a pipe: {stderr}"
    );
}

#[test]
fn a_missing_file_a_directory_and_a_bad_range_are_each_one_clear_line() {
    let env = Env::new(one_commit_repo);
    std::fs::create_dir_all(env.repo().join("mails")).expect("mkdir");
    let cases = [
        ("missing.mbox", "missing.mbox: no such file"),
        ("./mails", "./mails is a directory"),
        ("mails/missing.mbox", "mails/missing.mbox: no such file"),
        ("HEAD~30..", "HEAD~30"),
    ];
    for (input, expected) in cases {
        let output = env.review(None, &[input]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{input}: {stderr}");
        let error_lines: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
        assert_eq!(error_lines.len(), 1, "{input}: {stderr}");
        assert!(error_lines[0].contains(expected), "{input}: {stderr}");
        // libgit2's reason appears once, not repeated by each wrapper.
        assert!(
            stderr.matches("not found").count() <= 1,
            "{input} repeats itself: {stderr}"
        );
        assert!(
            !stderr.contains("class="),
            "{input}: libgit2 internals: {stderr}"
        );
    }
    // Outside any repository a missing file is still a missing file.
    let nowhere = tempfile::tempdir().expect("tempdir");
    let output = sashiko(nowhere.path())
        .args(["review", "--db"])
        .arg(format!("sqlite:{}", nowhere.path().join("x.db").display()))
        .arg("missing.mbox")
        .output()
        .expect("sashiko runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert_eq!(lines(&output.stderr).len(), 1, "{stderr}");
    assert!(stderr.contains("missing.mbox: no such file"), "{stderr}");
    assert!(!stderr.contains("cannot open git repository"), "{stderr}");
}

/// The help text of `flag` in `sashiko SUBCOMMAND --help`: what follows
/// the flag up to the next flag.
fn flag_help(subcommand: &[&str], flag: &str) -> String {
    let home = tempfile::tempdir().expect("tempdir");
    let output = sashiko(home.path())
        .args(subcommand)
        .arg("--help")
        .output()
        .expect("sashiko runs");
    let help = text(&output.stdout);
    let start = help
        .find(&format!("{flag} "))
        .or_else(|| help.find(&format!("{flag}\n")))
        .unwrap_or_else(|| panic!("{subcommand:?} has no {flag}: {help}"));
    let rest = &help[start + flag.len()..];
    let end = rest.find("\n  -").unwrap_or(rest.len());
    rest[..end].to_owned()
}

#[test]
fn model_provider_and_format_have_help_in_every_subcommand_and_fail_on_lists_values() {
    let cases: [(&[&str], &str); 14] = [
        (&["review"], "--model"),
        (&["review"], "--provider"),
        (&["review"], "--format"),
        (&["worker"], "--model"),
        (&["worker"], "--provider"),
        (&["bench"], "--model"),
        (&["bench"], "--provider"),
        (&["bench"], "--format"),
        (&["bugs"], "--format"),
        (&["jobs"], "--format"),
        (&["enqueue"], "--format"),
        (&["ingest"], "--format"),
        (&["series"], "--format"),
        (&["db", "status"], "--format"),
    ];
    for (subcommand, flag) in cases {
        let help = flag_help(subcommand, flag);
        let words = help
            .split_whitespace()
            .filter(|word| word.chars().all(char::is_alphabetic) && word.len() > 2)
            .count();
        assert!(words >= 3, "{subcommand:?} {flag} has no help: {help:?}");
    }
    let fail_on = flag_help(&["review"], "--fail-on");
    assert!(
        fail_on.contains("low") && fail_on.contains("medium") && fail_on.contains("critical"),
        "--fail-on lists its values: {fail_on}"
    );
    let provider = flag_help(&["review"], "--provider");
    assert!(
        provider.contains("anthropic") && provider.contains("gemini"),
        "{provider}"
    );
    let home = tempfile::tempdir().expect("tempdir");
    let wrong = sashiko(home.path())
        .args(["review", "--fail-on", "severe", "HEAD"])
        .output()
        .expect("sashiko runs");
    let stderr = text(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("severe") && stderr.contains("critical"),
        "{stderr}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_cli_definitions() {
    let home = tempfile::tempdir().expect("tempdir");
    let checks: [(&[&str], &[&str]); 4] = [
        (
            &["completions", "bash"],
            &["_sashiko()", "review", "--fail-on"],
        ),
        (&["completions", "zsh"], &["#compdef sashiko", "review"]),
        (&["completions", "fish"], &["complete -c sashiko", "review"]),
        (&["man"], &[".TH sashiko", "review", "completions"]),
    ];
    for (args, wanted) in checks {
        let output = sashiko(home.path())
            .args(args)
            .output()
            .expect("sashiko runs");
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            text(&output.stderr)
        );
        let stdout = text(&output.stdout);
        for piece in wanted {
            assert!(stdout.contains(piece), "{args:?} lacks {piece:?}");
        }
    }
    let bad = sashiko(home.path())
        .args(["completions", "tcsh"])
        .output()
        .expect("sashiko runs");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("bash"), "lists the shells");
}

#[test]
fn serve_refuses_a_database_directory_that_does_not_exist_and_db_migrate_creates_it() {
    let home = tempfile::tempdir().expect("tempdir");
    let missing_dir = home.path().join("no/such/dir");
    let url = format!("sqlite:{}", missing_dir.join("x.db").display());
    let started = Instant::now();
    let output = sashiko(home.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--db", &url])
        .output()
        .expect("sashiko runs");
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(lines(&output.stderr).len(), 1, "{stderr}");
    assert!(stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("sashiko db migrate"), "{stderr}");
    assert!(!missing_dir.exists(), "nothing was created");

    let migrate = sashiko(home.path())
        .args(["db", "migrate", "--db", &url])
        .output()
        .expect("sashiko runs");
    assert_eq!(migrate.status.code(), Some(0), "{}", text(&migrate.stderr));
    assert!(missing_dir.join("x.db").is_file(), "db migrate creates");

    // With --create-db serve makes the directory itself and serves.
    let other_dir = home.path().join("other/dir");
    let other = format!("sqlite:{}", other_dir.join("y.db").display());
    let mut serve = sashiko(home.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--create-db",
            "--db",
            &other,
        ])
        .stderr(Stdio::null())
        .spawn()
        .expect("sashiko serve starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !other_dir.join("y.db").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let still_running = serve.try_wait().expect("wait").is_none();
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(other_dir.join("y.db").exists(), "--create-db creates");
    assert!(still_running, "and serve keeps serving");
}

/// The shipped prompt set's hash, from the source directory.
fn source_prompt_hash() -> String {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../prompts");
    sashiko_review::PromptSet::load(&dir)
        .expect("shipped prompts load")
        .hash
}

#[test]
fn the_installed_binary_runs_from_an_empty_directory_with_its_built_in_prompts() {
    let install = tempfile::tempdir().expect("tempdir");
    let installed = install.path().join("bin/sashiko");
    std::fs::create_dir_all(installed.parent().expect("parent")).expect("mkdir");
    std::fs::copy(bin(), &installed).expect("copy the binary");
    let home = install.path().join("home");
    let work = install.path().join("empty");
    std::fs::create_dir_all(&home).expect("mkdir");
    std::fs::create_dir_all(&work).expect("mkdir");
    let run = |args: &[&str]| -> Output {
        Command::new(&installed)
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .current_dir(&work)
            .stdin(Stdio::null())
            .output()
            .expect("installed sashiko runs")
    };
    let config = run(&["config"]);
    let stdout = text(&config.stdout);
    assert_eq!(config.status.code(), Some(0), "{}", text(&config.stderr));
    let hash = source_prompt_hash();
    assert!(
        stdout.contains("built into sashiko") && stdout.contains(&format!("hash {hash}")),
        "config names the built-in set with the source hash {hash}: {stdout}"
    );
    assert!(!stdout.contains(env!("CARGO_MANIFEST_DIR")), "{stdout}");

    // A review (no model: builtin stages only) loads the built-in set.
    std::fs::write(work.join("one.mbox"), partial_series_mbox(&[1], 1)).expect("write");
    let db = format!("sqlite:{}", install.path().join("db/s.db").display());
    let review = run(&["review", "--db", &db, "--format", "json", "one.mbox"]);
    assert_eq!(review.status.code(), Some(0), "{}", text(&review.stderr));
    let document: serde_json::Value = serde_json::from_slice(&review.stdout).expect("review JSON");
    assert_eq!(
        document["review"]["prompt_set_hash"],
        json!(hash),
        "{document}"
    );

    // --prompts DIR overrides it, and config says so.
    let copy = install.path().join("my-prompts");
    copy_dir(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../prompts"),
        &copy,
    );
    let overridden = Command::new(&installed)
        .arg("config")
        .env_clear()
        .env("HOME", &home)
        .env("SASHIKO_PROMPTS", &copy)
        .current_dir(&work)
        .output()
        .expect("installed sashiko runs");
    let stdout = text(&overridden.stdout);
    assert!(
        stdout.contains(&format!("prompt set in force: {}", copy.display())),
        "{stdout}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("readdir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn single_line_finding() -> FakeScript {
    otherwise_silent(FakeScript::new().stage_default(
        "resource",
        FakeAnswer::json(json!({"findings": [{
            "patch_index": 1, "file": "mm/frob.c", "line_start": 12, "line_end": 12,
            "severity": "high", "problem": "writes one past the end of buf",
            "severity_explanation": "scripted", "preexisting": false
        }]})),
    ))
}

/// Runs `command` (a shell command line) under a pty made by `script`;
/// returns the terminal transcript and the exit status.
fn under_pty(command: &str) -> (String, Option<i32>) {
    let output = Command::new("script")
        .args(["-q", "-e", "-c", command, "/dev/null"])
        .stdin(Stdio::null())
        .output()
        .expect("script(1) runs");
    (text(&output.stdout), output.status.code())
}

fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_shows_on_a_terminal_only_and_never_in_json_or_with_quiet() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script(1) from util-linux is not installed");
        return;
    }
    let env = Env::new(one_commit_repo);
    let fake = FakeLlmServer::start(single_line_finding()).await;
    let vars = [
        ("SASHIKO_CONFIG", env.repo().join("../config.toml")),
        ("SASHIKO_DB", PathBuf::from(env.db_url())),
        ("HOME", env.repo().join("..")),
    ];
    let mut prefix = String::from("env -i PATH=\"$PATH\" ");
    for (name, value) in &vars {
        prefix.push_str(&format!(
            "{name}={} ",
            shell_quote(&value.display().to_string())
        ));
    }
    prefix.push_str(&format!(
        "SASHIKO_LLM_PROVIDER=openai SASHIKO_LLM_MODEL=fake SASHIKO_LLM_API_KEY=sk-test SASHIKO_LLM_BASE_URL={} ",
        shell_quote(&fake.base_url())
    ));
    let repo = shell_quote(&env.repo().display().to_string());
    let json_file = env.repo().join("../out.json");
    let review = format!(
        "cd {repo} && {prefix}{} review HEAD~1..",
        shell_quote(bin())
    );

    // On a terminal: stage lines with elapsed time and tokens, JSON on
    // standard output untouched.
    let (transcript, status) = under_pty(&format!(
        "{review} --format json > {}",
        shell_quote(&json_file.display().to_string())
    ));
    assert_eq!(status, Some(1), "a high finding: {transcript}");
    assert!(
        transcript.contains("stage resource started"),
        "{transcript}"
    );
    assert!(transcript.contains("tokens so far"), "{transcript}");
    assert!(transcript.contains(" s]"), "elapsed time: {transcript}");
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&json_file).expect("json written"))
            .expect("standard output is only the JSON document");
    assert_eq!(document["findings"][0]["line_start"], json!(12));

    // --quiet on a terminal: none of it.
    let (quiet, status) = under_pty(&format!("{review} --quiet"));
    assert_eq!(status, Some(1), "{quiet}");
    assert!(
        !quiet.contains("started") && !quiet.contains("tokens so far"),
        "{quiet}"
    );

    // Not a terminal: none of it either.
    let piped = env.review(Some(&fake.base_url()), &["HEAD~1.."]);
    let stderr = text(&piped.stderr);
    assert!(
        !stderr.contains("started") && !stderr.contains("tokens so far"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn text_output_says_file_23_shows_consensus_and_ranges_of_missing_parts() {
    let env = Env::new(one_commit_repo);
    let fake = FakeLlmServer::start(single_line_finding()).await;
    let once = env.review(Some(&fake.base_url()), &["HEAD~1.."]);
    let stdout = text(&once.stdout);
    assert!(stdout.contains("mm/frob.c:12  "), "{stdout}");
    assert!(!stdout.contains("mm/frob.c:12-12"), "{stdout}");
    assert!(
        !stdout.contains(" runs)"),
        "no consensus for one run: {stdout}"
    );

    let twice = env.review(Some(&fake.base_url()), &["HEAD~1..", "--runs", "2"]);
    let stdout = text(&twice.stdout);
    assert!(stdout.contains("(2/2 runs)"), "{stdout}");

    // A series with parts 1 and 5 of 642: the parts missing as ranges.
    let home = tempfile::tempdir().expect("tempdir");
    let mbox = home.path().join("partial.mbox");
    std::fs::write(&mbox, partial_series_mbox(&[1, 5], 642)).expect("write");
    let series = sashiko(home.path())
        .args(["series", "--format", "text"])
        .arg(&mbox)
        .output()
        .expect("sashiko runs");
    let stdout = text(&series.stdout);
    assert!(stdout.contains("missing 2-4, 6-642"), "{stdout}");
    let json_run = sashiko(home.path())
        .arg("series")
        .arg(&mbox)
        .output()
        .expect("sashiko runs");
    let stdout = text(&json_run.stdout);
    assert!(
        stdout.contains("lacks patch(es) 2-4, 6-642 of 642"),
        "{stdout}"
    );
}

/// `env -i` with a clean home and the fake model, for a pty command line.
fn clean_env(home: &Path, base_url: &str, db: &str) -> String {
    format!(
        "env -i PATH=\"$PATH\" HOME={home} XDG_CONFIG_HOME={config} SASHIKO_CONFIG={missing} SASHIKO_DB={db} \
         SASHIKO_LLM_PROVIDER=openai SASHIKO_LLM_MODEL=fake SASHIKO_LLM_API_KEY=sk-test SASHIKO_LLM_BASE_URL={url} ",
        home = shell_quote(&home.display().to_string()),
        config = shell_quote(&home.join("xdg-config").display().to_string()),
        missing = shell_quote(&home.join("no-config.toml").display().to_string()),
        db = shell_quote(db),
        url = shell_quote(base_url),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_show_bars_and_workers_a_line_per_job_on_a_terminal_only() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script(1) from util-linux is not installed");
        return;
    }
    let home = tempfile::tempdir().expect("tempdir");
    let fake = FakeLlmServer::start(single_line_finding()).await;
    let bin = shell_quote(bin());
    let mp = "C MP\n{}\nP0(int *x, int *y) { WRITE_ONCE(*x, 1); smp_wmb(); WRITE_ONCE(*y, 1); }\n\
              P1(int *x, int *y) { int r0; int r1; r0 = READ_ONCE(*y); smp_rmb(); r1 = READ_ONCE(*x); }\n\
              exists (1:r0=1 /\\ 1:r1=0)\n";
    let litmus_dir = home.path().join("litmus");
    std::fs::create_dir_all(&litmus_dir).expect("mkdir");
    for name in ["a", "b", "c"] {
        std::fs::write(litmus_dir.join(format!("{name}.litmus")), mp).expect("write");
    }
    let mbox = home.path().join("list.mbox");
    std::fs::write(&mbox, partial_series_mbox(&[1, 2, 3], 3)).expect("write");
    let repo = home.path().join("repo");
    std::fs::create_dir_all(&repo).expect("mkdir");
    one_commit_repo(&repo);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let quoted = |path: &Path| shell_quote(&path.display().to_string());
    // Each case once with progress and once with --quiet, each on a
    // database of its own so the worker has a job both times.
    for (run, quiet) in [("shown", ""), ("quiet", "--quiet ")] {
        let db = format!(
            "sqlite:{}",
            home.path().join(format!("{run}.sqlite")).display()
        );
        let env = clean_env(home.path(), &fake.base_url(), &db);
        let cases = [
            (
                format!("{env}{bin} litmus {quiet}{} > /dev/null", quoted(&litmus_dir)),
                vec!["litmus: 3 test(s) decided"],
            ),
            (
                format!("{env}{bin} ingest {quiet}mbox:{} > /dev/null", quoted(&mbox)),
                vec!["message(s) read", "assembling series"],
            ),
            (
                format!(
                    "cd {} && {env}{bin} bench {quiet}tests/eval --oracle > /dev/null",
                    quoted(&root)
                ),
                vec!["bench: ", " review(s) ("],
            ),
            (
                format!(
                    "{env}{bin} enqueue HEAD~1.. --repo {repo} > /dev/null && {env}{bin} worker {quiet}--exit-when-idle --poll-ms 50",
                    repo = quoted(&repo)
                ),
                vec!["job 1 (", ": started", "finished, 1 finding(s), "],
            ),
        ];
        for (command, wanted) in &cases {
            let (transcript, status) = under_pty(command);
            assert!(matches!(status, Some(0 | 1)), "{command}: {transcript}");
            for piece in wanted {
                assert_eq!(
                    transcript.contains(piece),
                    quiet.is_empty(),
                    "{run}: {piece:?} in {command}: {transcript}"
                );
            }
        }
    }
    // Not a terminal: no bar, no summary.
    let piped = Command::new(env!("CARGO_BIN_EXE_sashiko"))
        .arg("litmus")
        .arg(&litmus_dir)
        .env_clear()
        .env("HOME", home.path())
        .output()
        .expect("sashiko runs");
    let stderr = text(&piped.stderr);
    assert!(
        !stderr.contains("decided") && !stderr.contains('['),
        "{stderr}"
    );
}

#[test]
fn log_lines_are_coloured_on_a_terminal_unless_no_color_is_set() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: script(1) from util-linux is not installed");
        return;
    }
    let home = tempfile::tempdir().expect("tempdir");
    let mbox = home.path().join("list.mbox");
    std::fs::write(&mbox, partial_series_mbox(&[1, 2, 3], 3)).expect("write");
    let db = format!("sqlite:{}", home.path().join("db.sqlite").display());
    // SASHIKO_LOG=debug makes ingest log; --quiet keeps progress (and its
    // bar's control sequences) out, so only log colours could show.
    let command = |no_color: &str| {
        format!(
            "{}{no_color}SASHIKO_LOG=debug {} ingest --quiet mbox:{} > /dev/null",
            clean_env(home.path(), "http://127.0.0.1:9/v1", &db),
            shell_quote(bin()),
            shell_quote(&mbox.display().to_string())
        )
    };
    let (coloured, status) = under_pty(&command(""));
    assert_eq!(status, Some(0), "{coloured}");
    assert!(
        coloured.contains("DEBUG") || coloured.contains("INFO"),
        "{coloured}"
    );
    assert!(
        coloured.contains("\u{1b}["),
        "colour on a terminal: {coloured}"
    );
    let (plain, status) = under_pty(&command("NO_COLOR=1 "));
    assert_eq!(status, Some(0), "{plain}");
    assert!(plain.contains("DEBUG") || plain.contains("INFO"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "NO_COLOR: {plain}");
}
