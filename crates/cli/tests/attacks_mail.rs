//! Attacks on the mail side, replayed against the real `sashiko` binary
//! (issue 21: holes 4, 5, 6 and 8). Each test is the attack as an outside
//! attacker ran it, with the safe outcome asserted; the web's holes are in
//! the web's own suite.
//!
//! - 4, bot amplification: a forged `#sashiko rerun` (From: the author,
//!   no list-server verdict) sends nothing; three authenticated reruns
//!   give two more replies (`max_reruns_per_series` = 2); a patch Cc'ing
//!   300 addresses gets one reply to 20 of them, with a note saying so.
//!   Real SMTP server (aiosmtpd) on 127.0.0.1; prints the figures.
//! - 5, one NUL byte stalls a source: `sashiko ingest` on PostgreSQL of an
//!   mbox holding a NUL mail and a mail PostgreSQL refuses stores every
//!   later mail, records the refused one, and reads nothing twice.
//! - 6, secrets: `sashiko config` and a failing review never show the
//!   database password or the LLM URL's `user:pass`, neither on screen
//!   nor in `reviews.error`.
//! - 8, terminal escapes: `sashiko review`'s text output shows a
//!   subject's ESC/OSC sequences as `^[`, never raw; JSON keeps them
//!   escaped.
//!
//! Skips (saying why) only where a real part is missing: python3 with
//! aiosmtpd for the SMTP test. PostgreSQL at 127.0.0.1:5432 (or
//! `SASHIKO_TEST_PG_URL`) is required, as in the other PostgreSQL tests.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::{json, Value};

fn sashiko() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sashiko"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default());
    command
}

/// A home for one run: config with short retries, no XDG leftovers.
fn home(command: &mut Command, dir: &Path) {
    std::fs::write(
        dir.join("config.toml"),
        "[llm.retry]\nmax_retries = 1\ninitial_backoff_ms = 10\nmax_backoff_ms = 20\n",
    )
    .expect("config");
    command
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("SASHIKO_CONFIG", dir.join("config.toml"));
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A patch mail to `list` touching mm/a.c.
fn patch(message_id: &str, subject: &str, extra_headers: &str) -> String {
    format!(
        "From: Ada Dev <ada.dev@gmail.com>\nTo: test@lists.example.org\n{extra_headers}\
         Subject: {subject}\nMessage-ID: <{message_id}>\nDate: Mon, 1 Sep 2025 10:00:00 +0000\n\
         List-Id: <test.lists.example.org>\n\n\
         Keep a buffer.\n\nSigned-off-by: Ada Dev <ada.dev@gmail.com>\n---\n\
         diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1,2 +1,3 @@\n int a;\n\
         +char *buf = kmalloc(64, GFP_KERNEL);\n int b;\n"
    )
}

fn one_finding() -> FakeScript {
    common::otherwise_silent(FakeScript::new().stage_default(
        "resource",
        FakeAnswer::json(json!({"findings": [{
            "patch_index": 1, "file": "mm/a.c", "line_start": 2, "line_end": 2,
            "severity": "high", "problem": "Is the buffer freed on every path?",
            "severity_explanation": "a leak per call", "preexisting": false
        }]})),
    ))
}

// ---------------------------------------------------------------- hole 8

/// Regression: a subject with an OSC title sequence, a screen clear and a
/// bidi override, both raw and RFC 2047-encoded, reached the terminal raw.
#[test]
fn review_text_output_shows_escape_sequences_instead_of_running_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mbox = dir.path().join("escapes.mbox");
    let subject = "[PATCH] mm: \u{1b}]0;pwned\u{7}\u{1b}[2J=?utf-8?q?=1B]8;;https://evil.example=1B\\\\?= admin\u{202e}txt";
    std::fs::write(
        &mbox,
        format!(
            "From mboxrd@z Thu Jan  1 00:00:00 1970\n{}\n",
            patch("esc@example.org", subject, "")
        ),
    )
    .expect("mbox");
    let run = |format: &str| {
        let mut command = sashiko();
        home(&mut command, dir.path());
        command
            .args(["review", "--no-tools", "--format", format])
            .arg(&mbox)
            .env(
                "SASHIKO_DB",
                format!("sqlite:{}", dir.path().join("db.sqlite").display()),
            )
            .current_dir(dir.path())
            .output()
            .expect("sashiko runs")
    };
    let output = run("text");
    let (stdout, stderr) = text(&output);
    assert!(output.status.code().is_some_and(|c| c <= 1), "{stderr}");
    for stream in [&output.stdout, &output.stderr] {
        assert!(
            !stream.contains(&0x1b) && !stream.contains(&0x07),
            "raw control bytes reached the terminal:\n{stdout}\n{stderr}"
        );
    }
    assert!(
        stdout.contains("^[]0;pwned^G^[[2J"),
        "the sequence is shown, not run: {stdout}"
    );
    assert!(stdout.contains("<U+202E>"), "{stdout}");
    // JSON escapes control characters itself and keeps the data as it is.
    let json_output = run("json");
    let document: Value = serde_json::from_slice(&json_output.stdout)
        .unwrap_or_else(|e| panic!("JSON ({e}): {}", text(&json_output).0));
    assert!(!json_output.stdout.contains(&0x1b));
    assert!(
        document.to_string().contains("\\u001b]0;pwned"),
        "{document}"
    );
}

// ---------------------------------------------------------------- hole 6

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// Regression: `sashiko config` printed the PostgreSQL password from
/// SASHIKO_DB; an LLM base URL's `user:pass` went into the error text and
/// `reviews.error`.
#[tokio::test]
async fn passwords_in_urls_never_reach_the_screen_or_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = closed_port();
    let llm_url = format!("http://llmuser:s3cret-llm@127.0.0.1:{port}/v1?api_key=s3cret-query");

    let mut config = sashiko();
    home(&mut config, dir.path());
    let output = config
        .arg("config")
        .env(
            "SASHIKO_DB",
            "postgres://sashiko:hunter2-db@127.0.0.1:5432/prod",
        )
        .env("SASHIKO_LLM_PROVIDER", "openai")
        .env("SASHIKO_LLM_MODEL", "m")
        .env("SASHIKO_LLM_BASE_URL", &llm_url)
        .output()
        .expect("config runs");
    let (stdout, stderr) = text(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stdout.contains("postgres://sashiko:***@127.0.0.1:5432/prod"),
        "{stdout}"
    );
    assert!(stdout.contains("llmuser:***@"), "{stdout}");
    for secret in ["hunter2-db", "s3cret-llm", "s3cret-query"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret} in {stdout}{stderr}"
        );
    }

    // A review whose model cannot be reached fails; the failure is shown
    // and stored without the URL's secrets.
    let mbox = dir.path().join("one.mbox");
    std::fs::write(
        &mbox,
        format!(
            "From mboxrd@z Thu Jan  1 00:00:00 1970\n{}\n",
            patch("leak@example.org", "[PATCH] mm: keep a buffer", "")
        ),
    )
    .expect("mbox");
    let db = format!("sqlite:{}", dir.path().join("db.sqlite").display());
    let mut review = sashiko();
    home(&mut review, dir.path());
    let output = review
        .args(["review", "--no-tools"])
        .arg(&mbox)
        .env("SASHIKO_DB", &db)
        .env("SASHIKO_LLM_PROVIDER", "openai")
        .env("SASHIKO_LLM_MODEL", "m")
        .env("SASHIKO_LLM_BASE_URL", &llm_url)
        .env("SASHIKO_LLM_API_KEY", "sk-never-shown")
        .current_dir(dir.path())
        .output()
        .expect("review runs");
    let (stdout, stderr) = text(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "the review fails: {stdout}{stderr}"
    );
    assert!(
        stderr.contains("127.0.0.1"),
        "the error still says where: {stderr}"
    );
    let store = sashiko_store::Store::connect(&db).await.expect("db");
    let rows = store
        .web_rows(
            "reading review errors",
            "SELECT status, error FROM reviews",
            &[],
        )
        .await
        .expect("rows");
    assert!(!rows.is_empty(), "the failed review is stored");
    let stored = serde_json::to_string(&rows).expect("json");
    assert!(stored.contains("failed"), "{stored}");
    for secret in ["s3cret-llm", "s3cret-query", "sk-never-shown"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret) && !stored.contains(secret),
            "{secret} leaked: {stderr}\n{stored}"
        );
    }
    eprintln!("stored error: {stored}");
}

// ---------------------------------------------------------------- hole 5

fn pg_server() -> String {
    std::env::var("SASHIKO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// Regression: on PostgreSQL one mail with a NUL byte failed its insert,
/// the source's cursor never moved past it, and no later mail of that
/// source was ever stored. Here the NUL mail sits between two good ones,
/// followed by a mail PostgreSQL cannot index (a 9 kB Message-ID).
#[tokio::test]
async fn a_nul_mail_on_postgres_no_longer_stalls_its_source() {
    let name = format!("sashiko_attack_nul_{}", std::process::id());
    let server = pg_server();
    let url = sashiko_store::create_postgres_database(&server, &name)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at {server} is needed ({error})"));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut seed = 0x2545_f491_u32;
    let long_id: String = (0..9000)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + ((seed >> 16) % 26) as u8)
        })
        .collect();
    let mails = [
        patch("before@example.org", "[PATCH 1/1] mm: before", ""),
        patch("nul@example.org", "[PATCH] mm: a NUL \0 here", ""),
        patch(&format!("{long_id}@example.org"), "[PATCH] mm: long id", ""),
        patch("after@example.org", "[PATCH] mm: after", ""),
    ];
    let mbox = dir.path().join("nul.mbox");
    let mut bytes = String::new();
    for mail in &mails {
        bytes.push_str("From mboxrd@z Thu Jan  1 00:00:00 1970\n");
        bytes.push_str(mail);
        bytes.push('\n');
    }
    std::fs::write(&mbox, bytes).expect("mbox");
    let ingest = || {
        let mut command = sashiko();
        home(&mut command, dir.path());
        let output = command
            .args(["ingest", "--format", "json", "--db", &url])
            .arg(format!("mboxrd:{}", mbox.display()))
            .output()
            .expect("ingest runs");
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stdout}{stderr}");
        serde_json::from_str::<Value>(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    };
    let first = ingest();
    let counts = &first["counts"];
    eprintln!("first run: {counts}");
    assert_eq!(counts["messages_read"], 4, "{first}");
    assert_eq!(counts["messages_new"], 3, "{first}");
    assert_eq!(counts["messages_rejected"], 1, "{first}");
    let store = sashiko_store::Store::connect(&url).await.expect("db");
    assert!(
        store
            .message_raw("after@example.org")
            .await
            .expect("read")
            .is_some(),
        "the mail after the bad ones is stored"
    );
    let nul = store
        .message_raw("nul@example.org")
        .await
        .expect("read")
        .expect("the NUL mail is stored");
    assert!(nul.contains(&0), "its raw bytes keep the NUL");
    let rejects = store.ingest_rejects(10).await.expect("rejects");
    assert_eq!(rejects.len(), 1);
    assert!(
        rejects[0].reason.contains("index row"),
        "{}",
        rejects[0].reason
    );
    let second = ingest();
    assert_eq!(
        second["counts"]["messages_read"], 0,
        "cursor moved on: {second}"
    );
    // The operator sees what was refused, where and why.
    let mut listing = sashiko();
    home(&mut listing, dir.path());
    let listed = listing
        .args(["db", "rejects", "--db", &url])
        .output()
        .expect("db rejects runs");
    let (listed_out, listed_err) = text(&listed);
    assert!(listed.status.success(), "{listed_err}");
    assert!(
        listed_out.contains("index row") && listed_out.contains("(9012 chars)"),
        "{listed_out}"
    );
    store.close().await;
    sashiko_store::drop_postgres_database(&server, &name)
        .await
        .expect("drop the test database");
}

// ---------------------------------------------------------------- hole 4

struct Smtp {
    child: Child,
    maildir: PathBuf,
}

impl Smtp {
    fn start(dir: &Path) -> Option<(Smtp, u16)> {
        let available = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !available {
            eprintln!("skipping: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
            return None;
        }
        let port = closed_port();
        let maildir = dir.join("delivered");
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../report/tests/support/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(&maildir)
            .arg(dir.join("smtp-mode"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("READY");
        assert_eq!(line.trim(), "READY");
        Some((Smtp { child, maildir }, port))
    }

    /// Delivered mails, each with its envelope recipients.
    fn mails(&self) -> Vec<(Vec<String>, String)> {
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) {
            for entry in entries.flatten() {
                let mail = std::fs::read_to_string(entry.path()).expect("mail");
                let rcpts = mail
                    .lines()
                    .next()
                    .and_then(|l| l.strip_prefix("X-Test-Rcpt: "))
                    .map(|r| r.split(',').map(str::to_owned).collect())
                    .unwrap_or_default();
                out.push((rcpts, mail));
            }
        }
        out
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What kernel.org's list server prepends to a mail whose sender's domain
/// passed DMARC: the verdict a command needs (see `sashiko_bot::auth`).
fn vouched_by_list_server(domain: &str) -> String {
    format!(
        "ARC-Seal: i=1; a=rsa-sha256; d=subspace.kernel.org; s=arc-20240116; cv=none; b=x\n\
         ARC-Authentication-Results: i=1; smtp.subspace.kernel.org; dmarc=pass (p=none dis=none) header.from={domain}; arc=none\n"
    )
}

/// Regression: `#sashiko rerun` was authorised by an unauthenticated From,
/// each rerun reviewed again and mailed every recipient without a limit,
/// and a patch Cc'ing 300 addresses made the bot mail all of them.
#[tokio::test(flavor = "multi_thread")]
async fn forged_reruns_and_mass_cc_no_longer_amplify_the_bot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((smtp, port)) = Smtp::start(dir.path()) else {
        return;
    };
    let fake = FakeLlmServer::start(one_finding()).await;
    let inbox = dir.path().join("list");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(inbox.join(sub)).expect("maildir");
    }
    std::fs::write(
        dir.path().join("policy.toml"),
        "[bot]\naddress = \"Sashiko <sashiko@bot.example>\"\n\n\
         [defaults]\nmin_severity = \"low\"\ndaily_cap = 1000\n\n\
         [lists.\"test.lists.example.org\"]\nenabled = true\nreply = \"all\"\n\
         command_authserv_ids = [\"smtp.subspace.kernel.org\"]\n",
    )
    .expect("policy");
    std::fs::write(
        dir.path().join("bot.toml"),
        format!(
            "db = \"sqlite:{db}\"\npolicy = \"policy.toml\"\nincomplete_wait_minutes = 0\nmail_retry_seconds = 0\n\
             [[sources]]\nspec = \"maildir:{inbox}\"\nlist = \"test.lists.example.org\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nenvelope_from = \"sashiko@bot.example\"\ntimeout_secs = 5\n",
            db = dir.path().join("bot.db").display(),
            inbox = inbox.display(),
        ),
    )
    .expect("bot config");
    let poll = || -> Value {
        let mut command = sashiko();
        home(&mut command, dir.path());
        let output = command
            .args(["bot", "--once", "--json", "--config"])
            .arg(dir.path().join("bot.toml"))
            .env("SASHIKO_LLM_PROVIDER", "openai")
            .env("SASHIKO_LLM_BASE_URL", fake.base_url())
            .env("SASHIKO_LLM_MODEL", "fake-model")
            .env("SASHIKO_LLM_API_KEY", "sk-test")
            .env("SASHIKO_LOG", "sashiko_bot=info")
            .output()
            .expect("bot runs");
        let (stdout, stderr) = text(&output);
        assert!(output.status.success(), "{stdout}{stderr}");
        serde_json::from_str(stdout.lines().last().unwrap_or("{}"))
            .unwrap_or_else(|e| panic!("report ({e}): {stdout}{stderr}"))
    };
    let deliver = |name: &str, mail: &str| {
        std::fs::write(inbox.join("new").join(name), mail).expect("deliver");
    };

    // A patch whose Cc names 300 addresses.
    let cc: Vec<String> = (0..300).map(|n| format!("dev{n:03}@example.net")).collect();
    deliver(
        "patch",
        &patch(
            "mass-cc@example.org",
            "[PATCH] mm: keep a buffer",
            &format!("Cc: {}\n", cc.join(",\n ")),
        ),
    );
    let first = poll();
    assert_eq!(first["reviewed"], 1, "{first}");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "one reply: {first}");
    let (rcpts, reply) = &mails[0];
    assert_eq!(rcpts.len(), 20, "{rcpts:?}");
    assert!(
        rcpts.contains(&"ada.dev@gmail.com".to_owned()),
        "the author: {rcpts:?}"
    );
    assert!(
        rcpts.contains(&"test@lists.example.org".to_owned()),
        "the list: {rcpts:?}"
    );
    let unfolded: String = reply.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        unfolded.contains("This reply went to 20 of the 302 addresses on the patch"),
        "the mail says so: {reply}"
    );
    assert_eq!(first["recipients_dropped"], 282, "{first}");
    let our_id = reply
        .lines()
        .find_map(|l| l.strip_prefix("Message-ID: "))
        .expect("our id")
        .trim()
        .to_owned();

    let rerun = |name: &str, headers: &str| {
        format!(
            "{headers}From: Ada Dev <ada.dev@gmail.com>\nTo: test@lists.example.org\n\
             Subject: Re: [PATCH] mm: keep a buffer\nMessage-ID: <{name}@gmail.com>\n\
             In-Reply-To: {our_id}\nReferences: <mass-cc@example.org> {our_id}\n\
             List-Id: <test.lists.example.org>\n\nPlease look again.\n#sashiko rerun\n"
        )
    };
    // Forged: From says the author, no list server vouches for it.
    deliver("forged", &rerun("forged", ""));
    let forged = poll();
    assert_eq!(
        (
            forged["commands_refused"].as_u64(),
            forged["reviewed"].as_u64(),
            forged["sent"].as_u64()
        ),
        (Some(1), Some(0), Some(0)),
        "{forged}"
    );
    // Forged with a verdict the attacker wrote below the server's: the
    // server's own (dmarc=fail for a forged gmail.com From) is on top.
    deliver(
        "forged-arc",
        &rerun(
            "forged-arc",
            &format!(
                "ARC-Authentication-Results: i=2; smtp.subspace.kernel.org; dmarc=fail header.from=gmail.com\n{}",
                vouched_by_list_server("gmail.com")
            ),
        ),
    );
    let forged_arc = poll();
    assert_eq!(forged_arc["commands_refused"], 1, "{forged_arc}");
    assert_eq!(forged_arc["sent"], 0, "{forged_arc}");

    // Three authenticated reruns, one per poll: two are honoured.
    let mut sent_by_reruns = 0;
    let mut deliveries_by_reruns = 0;
    let deliveries =
        |mails: &[(Vec<String>, String)]| mails.iter().map(|(r, _)| r.len()).sum::<usize>();
    for n in 1..=3 {
        let before = smtp.mails();
        deliver(
            &format!("rerun{n}"),
            &rerun(&format!("rerun{n}"), &vouched_by_list_server("gmail.com")),
        );
        let report = poll();
        eprintln!("rerun {n}: {report}");
        let now = smtp.mails();
        let added = now.len() - before.len();
        sent_by_reruns += added;
        deliveries_by_reruns += deliveries(&now) - deliveries(&before);
        if n <= 2 {
            assert_eq!(
                (report["reviewed"].as_u64(), added),
                (Some(1), 1),
                "{report}"
            );
        } else {
            assert_eq!(report["reruns_refused"], 1, "{report}");
            assert_eq!(
                (report["reviewed"].as_u64(), added),
                (Some(0), 0),
                "{report}"
            );
        }
    }
    let total_deliveries: usize = smtp.mails().iter().map(|(r, _)| r.len()).sum();
    eprintln!(
        "figures: 300 Cc -> 1 mail to 20 of 302 addresses (282 left off); \
         1 forged + 1 forged-ARC rerun -> 0 mails; 3 authenticated reruns -> {sent_by_reruns} mails, \
         {deliveries_by_reruns} deliveries; in all {} mails, {total_deliveries} deliveries",
        smtp.mails().len()
    );
    assert_eq!(sent_by_reruns, 2);
    assert_eq!(smtp.mails().len(), 3);
    assert!(smtp.mails().iter().all(|(r, _)| r.len() <= 20));
    fake.stop().await;
}
