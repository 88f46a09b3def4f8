//! Acceptance of the list bot, end to end with real parts: the `sashiko`
//! binary follows the io-uring list slice (an mbox from ../shared) and a
//! maildir, reviews through the fake LLM (real OpenAI wire protocol on
//! 127.0.0.1, scripted to find something in a few series), and sends
//! through a real SMTP server (aiosmtpd) into a maildir.
//!
//! Checked: exactly one correctly threaded reply per reviewed patch
//! version, none to other lists, none to replies or bots; a bot killed
//! halfway and restarted resends nothing; a third run does nothing; mail
//! commands and feedback in replies are honoured and counted.
//!
//! Skips with a message when the corpus, python3/aiosmtpd or the built
//! binary (SASHIKO_BIN, else $CARGO_TARGET_DIR/debug/sashiko) is missing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::json;

const CORPUS: &str = "../../../shared/corpus/lists/io-uring-28250-30749.mbox";

fn binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("SASHIKO_BIN") {
        return Some(PathBuf::from(path));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let path = target.join("debug/sashiko");
    path.is_file().then_some(path)
}

fn aiosmtpd() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|s| s.success())
}

fn finding(patch: u32, file: &str, severity: &str, problem: &str) -> serde_json::Value {
    json!({"patch_index": patch, "file": file, "line_start": 1, "line_end": 5, "severity": severity,
           "problem": problem, "severity_explanation": "scripted", "preexisting": false})
}

/// The report stage's wording of the mock file's leak.
const REWORDED: &str =
    "Reworded by the report stage: does the mock file leak its allocation when registration fails?";

/// Findings anchored at the top of files that only a few series create.
fn script() -> FakeScript {
    FakeScript::new()
        .stage_default(
            "resource",
            FakeAnswer::json(json!({"findings": [
                finding(1, "io_uring/mock_file.c", "high", "Does the new mock file leak its allocation when registration fails? Nothing frees it on the error path."),
                finding(2, "io_uring/mock_file.c", "medium", "Is the mock file's reference dropped on every path here?"),
                finding(1, "io_uring/zcrx.h", "high", "Is this header safe to include when the zero-copy receive option is disabled?"),
                finding(1, "io_uring/mock_file.h", "low", "A low-severity remark that the policy's minimum keeps off the list."),
                finding(2, "test/timestamp.c", "medium", "Does this test leak the ring when the timestamp option is unsupported?"),
                finding(2, "rust/kernel/io_uring.rs", "high", "Is the lifetime of the borrowed command tied to the request here?"),
                finding(1, "man/io_uring_set_iowait.3", "medium", "The page documents a return value the function never produces; is that intended?"),
                finding(2, "examples/zcrx.c", "medium", "Is the area unmapped when the example exits early?"),
                finding(5, "examples/zcrx.c", "medium", "Is the area unmapped when the example exits early?"),
                finding(2, "io_uring/cmd_net.c", "high", "Can the socket be released while this command still uses it?"),
                finding(1, "include/uapi/linux/io_uring/mock_file.h", "medium", "Does this uapi struct leave a hole that leaks kernel stack to user space?"),
            ]})),
        )
        .stage_default("verify", FakeAnswer::json(json!({"decisions": []})))
        // The report stage offers one wording for every finding; each is
        // checked against its own finding, so it is used only where it
        // matches (the mock file's findings) and the others keep their text.
        .stage_default(
            "report",
            FakeAnswer::json(json!({"comments": (1..=12)
                .map(|n| json!({"id": format!("R{n}"), "text": REWORDED}))
                .collect::<Vec<_>>()})),
        )
        .default_answer(FakeAnswer::json(json!({"findings": []})))
}

/// A patchwork stand-in: any Message-ID is a patch (id = its position in
/// first-seen order); checks are recorded after their shape is checked.
#[derive(Clone, Default)]
struct Patchwork {
    ids: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    checks: std::sync::Arc<std::sync::Mutex<Vec<(usize, String)>>>,
}

async fn patchwork() -> (String, Patchwork) {
    use axum::extract::{Path as UrlPath, Query, State};
    use axum::routing::{get, post};
    let state = Patchwork::default();
    let app = axum::Router::new()
        .route(
            "/api/1.2/patches/",
            get(|State(pw): State<Patchwork>, Query(q): Query<BTreeMap<String, String>>| async move {
                let msgid = q.get("msgid").cloned().unwrap_or_default();
                let mut ids = pw.ids.lock().expect("lock");
                let id = ids.iter().position(|m| *m == msgid).unwrap_or_else(|| {
                    ids.push(msgid.clone());
                    ids.len() - 1
                });
                axum::Json(json!([{"id": id}]))
            }),
        )
        .route(
            "/api/1.2/patches/{id}/checks/",
            post(|State(pw): State<Patchwork>, UrlPath(id): UrlPath<usize>, headers: axum::http::HeaderMap, axum::Json(body): axum::Json<serde_json::Value>| async move {
                let token = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Token t0k");
                let state = body["state"].as_str().unwrap_or("").to_owned();
                if !token || body["context"] != "sashiko" || !["success", "warning", "fail"].contains(&state.as_str()) {
                    return axum::http::StatusCode::BAD_REQUEST;
                }
                pw.checks.lock().expect("lock").push((id, state));
                axum::http::StatusCode::CREATED
            }),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    (format!("http://{address}"), state)
}

struct Smtp {
    child: Child,
    maildir: PathBuf,
}

impl Smtp {
    fn start(dir: &Path) -> (Smtp, u16) {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .port();
        let maildir = dir.join("smtp-maildir");
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
        (Smtp { child, maildir }, port)
    }

    fn mails(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) {
            for entry in entries.flatten() {
                out.push(std::fs::read_to_string(entry.path()).expect("mail"));
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

fn header<'a>(mail: &'a str, name: &str) -> Option<&'a str> {
    let prefix = format!("{name}: ");
    let head = mail.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n")
        .find_map(|line| line.strip_prefix(prefix.as_str()))
}

/// The folded value of a header, continuation lines joined.
fn folded(mail: &str, name: &str) -> String {
    let head = mail.split("\r\n\r\n").next().unwrap_or("");
    let mut value = String::new();
    let mut inside = false;
    for line in head.split("\r\n") {
        if let Some(rest) = line.strip_prefix(&format!("{name}: ")) {
            value.push_str(rest);
            inside = true;
        } else if inside && line.starts_with(' ') {
            value.push_str(line);
        } else {
            inside = false;
        }
    }
    value
}

/// The verdict kernel.org's list server prepends to a mail whose sender's
/// domain passed DMARC (see `sashiko_bot::auth`): what makes a mail
/// command count.
fn vouched(from: &str) -> String {
    let domain = from
        .trim_end_matches('>')
        .rsplit_once('@')
        .map(|(_, domain)| domain)
        .unwrap_or("");
    format!(
        "ARC-Seal: i=1; a=rsa-sha256; d=subspace.kernel.org; s=arc-20240116; cv=none; b=x\n\
         ARC-Authentication-Results: i=1; smtp.subspace.kernel.org; dmarc=pass (p=none dis=none) header.from={domain}; arc=none\n"
    )
}

struct Env {
    dir: tempfile::TempDir,
    bin: PathBuf,
    fake_url: String,
}

impl Env {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        command
            .args(["bot", "--config"])
            .arg(self.dir.path().join("bot.toml"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg"))
            .env("SASHIKO_CONFIG", self.dir.path().join("sashiko.toml"))
            .env("SASHIKO_LLM_PROVIDER", "openai")
            .env("SASHIKO_LLM_BASE_URL", &self.fake_url)
            .env("SASHIKO_LLM_MODEL", "fake-model")
            .env("SASHIKO_LLM_API_KEY", "sk-test")
            .env("SASHIKO_LOG", "sashiko_bot=info");
        command
    }

    fn once(&self) -> Output {
        let output = self
            .command()
            .args(["--once", "--json"])
            .output()
            .expect("bot runs");
        eprintln!(
            "{}",
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .filter(|l| l.starts_with("sashiko bot:"))
                .collect::<Vec<_>>()
                .join("\n")
        );
        output
    }
}

fn report(output: &Output) -> serde_json::Value {
    let text = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(text.lines().last().unwrap_or("{}"))
        .unwrap_or_else(|e| panic!("report JSON ({e}): {text}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn io_uring_slice_gets_one_threaded_reply_per_reviewed_patch_version() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join(CORPUS);
    if !corpus.is_file() {
        eprintln!(
            "skipping: the io-uring corpus slice is not at {}",
            corpus.display()
        );
        return;
    }
    if !aiosmtpd() {
        eprintln!("skipping: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
        return;
    }
    let Some(bin) = binary() else {
        eprintln!("skipping: build the binary first (cargo build -p sashiko) or set SASHIKO_BIN");
        return;
    };
    let fake = FakeLlmServer::start(script()).await;
    let (patchwork_url, patchwork_seen) = patchwork().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (smtp, port) = Smtp::start(dir.path());
    let replies_dir = dir.path().join("replies");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(replies_dir.join(sub)).expect("maildir");
    }
    std::fs::write(
        dir.path().join("policy.toml"),
        "[bot]\naddress = \"Sashiko <sashiko@bot.example>\"\nweb_base = \"https://sashiko.example/review/\"\n\n\
         [defaults]\nmin_severity = \"medium\"\ndaily_cap = 1000\n\n\
         [lists.\"io-uring.vger.kernel.org\"]\nenabled = true\nreply = \"all\"\nmaintainers = [\"Jens Axboe <axboe@kernel.dk>\"]\ncommand_authserv_ids = [\"smtp.subspace.kernel.org\"]\n\n\
         [lists.\"netdev.vger.kernel.org\"]\nenabled = false\n",
    )
    .expect("policy");
    std::fs::write(
        dir.path().join("bot.toml"),
        format!(
            "db = \"sqlite:{db}\"\npolicy = \"policy.toml\"\nincomplete_wait_minutes = 0\nmail_retry_seconds = 0\ndry_run_dir = \"dry-run\"\n\
             [[sources]]\nspec = \"mbox:{corpus}\"\n\
             [[sources]]\nspec = \"maildir:{replies}\"\nlist = \"io-uring.vger.kernel.org\"\n\
             [[sources]]\nspec = \"maildir:{delivered}\"\nlist = \"io-uring.vger.kernel.org\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nenvelope_from = \"sashiko@bot.example\"\ntimeout_secs = 5\n\
             [patchwork]\nurl = \"{patchwork_url}\"\ntoken = \"t0k\"\n",
            db = dir.path().join("bot.db").display(),
            corpus = corpus.display(),
            replies = replies_dir.display(),
            delivered = dir.path().join("smtp-maildir").display(),
        ),
    )
    .expect("config");
    std::fs::write(
        dir.path().join("sashiko.toml"),
        "[llm.retry]\nmax_retries = 1\ninitial_backoff_ms = 10\nmax_backoff_ms = 20\n",
    )
    .expect("settings");
    let env = Env {
        dir,
        bin,
        fake_url: fake.base_url(),
    };

    // Run 1: killed halfway (as soon as the first reply has gone out, or
    // after a while).
    let mut first = env
        .command()
        .arg("--once")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bot");
    let started = Instant::now();
    while smtp.mails().is_empty() && started.elapsed() < Duration::from_secs(120) {
        if first.try_wait().expect("wait").is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let killed_running = first.try_wait().expect("wait").is_none();
    let _ = first.kill();
    let _ = first.wait();
    let after_kill = smtp.mails().len();
    eprintln!("run 1 killed (still running: {killed_running}) after {:?} with {after_kill} mail(s) delivered", started.elapsed());

    // Run 2: to completion. Run 3: nothing left to do.
    let second = env.once();
    let second_report = report(&second);
    let third = env.once();
    let third_report = report(&third);
    assert_eq!(third_report["replies_queued"], 0, "{third_report}");
    assert_eq!(third_report["reviewed"], 0, "{third_report}");
    assert_eq!(third_report["sent"], 0, "{third_report}");
    // Our own replies come back through the list (here: the SMTP
    // server's maildir is followed too): all recognised, none answered.
    let fourth_pass = report(&env.once());
    assert_eq!(
        fourth_pass["ignored_own"].as_u64(),
        Some(smtp.mails().len() as u64),
        "{fourth_pass}"
    );
    assert_eq!(fourth_pass["replies_queued"], 0, "{fourth_pass}");

    let mails = smtp.mails();
    let corpus_text = std::fs::read(&corpus).expect("corpus");
    let corpus_text = String::from_utf8_lossy(&corpus_text);
    let mut per_patch: BTreeMap<String, usize> = BTreeMap::new();
    for mail in &mails {
        let in_reply_to = header(mail, "In-Reply-To").expect("In-Reply-To").to_owned();
        *per_patch.entry(in_reply_to.clone()).or_default() += 1;
        let references = folded(mail, "References");
        assert!(
            references.trim_end().ends_with(&in_reply_to),
            "References end with the patch: {references}"
        );
        assert_eq!(header(mail, "Auto-Submitted"), Some("auto-generated"));
        assert_eq!(header(mail, "MIME-Version"), Some("1.0"));
        assert!(header(mail, "X-Sashiko-Review").is_some_and(|v| v.contains("review=")));
        let subject = header(mail, "Subject").expect("subject");
        assert!(
            subject.starts_with("Re: [") && subject.contains("PATCH"),
            "{subject}"
        );
        let rcpts = header(mail, "X-Test-Rcpt").expect("envelope");
        for rcpt in rcpts.split(',') {
            let is_list = rcpt.ends_with("vger.kernel.org") || rcpt.contains("lists.");
            assert!(
                !is_list || rcpt == "io-uring@vger.kernel.org",
                "mail to another list: {rcpt}"
            );
            assert!(
                !rcpt.contains("sashiko@bot.example") && !rcpt.contains("lkp@intel.com"),
                "{rcpt}"
            );
        }
        assert!(
            rcpts.contains("io-uring@vger.kernel.org"),
            "reply-all includes the list: {rcpts}"
        );
        // No kernel tree is configured: the reply says the review had no
        // tree context (issue 14, never a silent difference).
        assert!(
            mail.contains("reviewed without tree context")
                && mail.contains("Tree: none, no kernel tree was configured"),
            "the reply hides that the review had no tree: {mail}"
        );
        // The patch replied to is in the corpus, is not a reply and not a bot's.
        let id = in_reply_to.trim_matches(['<', '>']);
        let at = corpus_text
            .find(&format!("Message-ID: <{id}>"))
            .or_else(|| corpus_text.find(&format!("Message-Id: <{id}>")))
            .expect("patch in corpus");
        let start = corpus_text[..at].rfind("\nFrom ").unwrap_or(0);
        let head = &corpus_text[start..at];
        let subject_line = head
            .lines()
            .find(|l| l.starts_with("Subject:"))
            .unwrap_or("");
        assert!(
            !subject_line
                .to_ascii_lowercase()
                .starts_with("subject: re:"),
            "replied to a reply: {subject_line}"
        );
        assert!(!head.contains("Auto-Submitted: auto"), "replied to a bot");
    }
    let twice: Vec<_> = per_patch.iter().filter(|(_, &n)| n > 1).collect();
    assert!(
        twice.is_empty(),
        "more than one reply to a patch: {twice:?}"
    );
    assert!(
        mails.len() >= 2,
        "the scripted findings produce a few replies, got {}",
        mails.len()
    );
    let checks = patchwork_seen.checks.lock().expect("lock").clone();
    let mut per_patch_checks: BTreeMap<usize, usize> = BTreeMap::new();
    for (id, _) in &checks {
        *per_patch_checks.entry(*id).or_default() += 1;
    }
    let repeated = per_patch_checks.values().filter(|&&n| n > 1).count();
    let failing = checks
        .iter()
        .filter(|(_, state)| state != "success")
        .count();
    eprintln!(
        "patchwork: {} checks on {} patches ({failing} warning/fail), {repeated} posted twice",
        checks.len(),
        per_patch_checks.len()
    );
    // A check posted just before the kill in run 1 may be posted again by
    // run 2 (it is marked after patchwork's answer): at most one such.
    assert!(repeated <= 1, "checks posted twice: {repeated}");
    assert!(
        failing >= per_patch.len(),
        "every mailed patch has a warning or fail check"
    );
    let problems: BTreeSet<&str> = mails
        .iter()
        .flat_map(|m| {
            [
                "leak its allocation",
                "reference dropped",
                "zero-copy receive",
                "low-severity",
            ]
            .into_iter()
            .filter(move |p| m.contains(p))
        })
        .collect();
    assert!(
        !problems.contains("low-severity"),
        "below the minimum severity: never mailed"
    );
    // Prose is wrapped at 72 columns: compare with whitespace collapsed.
    let reworded = mails
        .iter()
        .filter(|m| {
            m.split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .contains(REWORDED)
        })
        .count();
    assert!(
        reworded >= 1,
        "the report stage's checked wording reaches the list mail"
    );
    assert!(
        mails
            .iter()
            .any(|m| m.contains("leave a hole that leaks kernel stack")),
        "a wording that does not match its finding is refused: the finder's text is mailed"
    );
    eprintln!("{reworded} replies carry the report stage's wording");
    eprintln!(
        "delivered {} replies to {} patches; problems mailed: {problems:?}; run 2: {second_report}; run 3: {third_report}",
        mails.len(),
        per_patch.len()
    );

    // Replies to our review: the patch author agrees (feedback), a
    // stranger's `#sashiko stop` is refused, the author's `#sashiko rerun`
    // is honoured.
    let ours = &mails[0];
    let our_id = header(ours, "Message-ID").expect("id").to_owned();
    let patch_id = header(ours, "In-Reply-To").expect("irt").to_owned();
    let author = header(ours, "To").expect("to").to_owned();
    let quoted: String = ours
        .split_once("\r\n\r\n")
        .map(|(_, body)| body)
        .unwrap_or("")
        .split("\r\n")
        .take_while(|line| *line != "-- ")
        .map(|line| format!("> {line}\n"))
        .collect();
    let inject = |name: &str, from: &str, body: &str| {
        let text = format!(
            "{}From: {from}\nTo: io-uring@vger.kernel.org\nSubject: Re: reply\nMessage-ID: <{name}@example.org>\nIn-Reply-To: {our_id}\nReferences: {patch_id} {our_id}\nList-Id: <io-uring.vger.kernel.org>\n\nOn x, Sashiko wrote:\n{quoted}\n{body}\n",
            vouched(from)
        );
        std::fs::write(env.dir.path().join("replies/new").join(name), text).expect("inject");
    };
    inject("agree", &author, "Good catch, thanks. Fixed in v2.");
    inject("stranger", "Mallory <mallory@example.org>", "#sashiko stop");
    let fourth = report(&env.once());
    assert_eq!(fourth["feedback_recorded"], 1, "{fourth}");
    assert_eq!(fourth["commands_refused"], 1, "{fourth}");
    assert_eq!(fourth["stopped_by_command"], 0, "{fourth}");
    assert_eq!(fourth["sent"], 0, "{fourth}");
    // The author of another patch asks for a rerun: reviewed again, and
    // that patch gets exactly one more reply; the next poll does nothing.
    let other = mails
        .iter()
        .find(|m| header(m, "In-Reply-To") != Some(patch_id.as_str()))
        .expect("another reply");
    let other_patch = header(other, "In-Reply-To").expect("irt").to_owned();
    let other_id = header(other, "Message-ID").expect("id").to_owned();
    let other_author = header(other, "To").expect("to").to_owned();
    std::fs::write(
        env.dir.path().join("replies/new/rerun"),
        format!(
            "{}From: {other_author}\nTo: io-uring@vger.kernel.org\nSubject: Re: rerun\nMessage-ID: <rerun@example.org>\nIn-Reply-To: {other_id}\nReferences: {other_patch} {other_id}\nList-Id: <io-uring.vger.kernel.org>\n\nI changed the base, please look again.\n#sashiko rerun\n",
            vouched(&other_author)
        ),
    )
    .expect("inject");
    let rerun = report(&env.once());
    assert_eq!(rerun["commands_honoured"].as_u64(), Some(1), "{rerun}");
    assert_eq!(rerun["reviewed"], 1, "{rerun}");
    assert!(rerun["sent"].as_u64().is_some_and(|n| n >= 1), "{rerun}");
    let again = report(&env.once());
    assert_eq!(
        (again["reviewed"].as_u64(), again["sent"].as_u64()),
        (Some(0), Some(0)),
        "{again}"
    );
    let to_other = smtp
        .mails()
        .iter()
        .filter(|m| header(m, "In-Reply-To") == Some(other_patch.as_str()))
        .count();
    assert_eq!(
        to_other, 2,
        "one reply, then one more on the explicit rerun"
    );
    let mails = smtp.mails();
    // `#sashiko known` from that author: an agreeing verdict on the finding.
    std::fs::write(
        env.dir.path().join("replies/new/known"),
        format!(
            "{}From: {other_author}\nTo: io-uring@vger.kernel.org\nSubject: Re: known\nMessage-ID: <known@example.org>\nIn-Reply-To: {other_id}\nReferences: {other_patch} {other_id}\nList-Id: <io-uring.vger.kernel.org>\n\nWe know about this one.\n#sashiko known\n",
            vouched(&other_author)
        ),
    )
    .expect("inject");
    let known = report(&env.once());
    assert_eq!(
        (
            known["commands_honoured"].as_u64(),
            known["feedback_recorded"].as_u64(),
            known["sent"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{known}"
    );

    inject("author-stop", &author, "Please stop.\n#sashiko stop");
    let fifth = report(&env.once());
    assert_eq!(fifth["commands_honoured"], 1, "{fifth}");
    // Stop covers every version of the series.
    assert!(
        fifth["stopped_by_command"].as_u64().is_some_and(|n| n >= 1),
        "{fifth}"
    );
    assert_eq!(fifth["sent"], 0, "{fifth}");
    assert_eq!(
        smtp.mails().len(),
        mails.len(),
        "no mail after the commands"
    );
    let stats = Command::new(&env.bin)
        .args(["stats", "--db"])
        .arg(format!(
            "sqlite:{}",
            env.dir.path().join("bot.db").display()
        ))
        .env("SASHIKO_CONFIG", env.dir.path().join("sashiko.toml"))
        .output()
        .expect("stats");
    let stats_text = String::from_utf8_lossy(&stats.stdout);
    eprintln!("{stats_text}");
    assert!(
        stats_text.contains("resource") && stats_text.contains("100%"),
        "{stats_text}"
    );
    // The operator switches the list to dry run; a new patch that the
    // script finds something in is reviewed, its reply rendered to the
    // dry-run directory, and nothing is sent.
    let policy_path = env.dir.path().join("policy.toml");
    let policy = std::fs::read_to_string(&policy_path).expect("policy");
    std::fs::write(
        &policy_path,
        policy.replace("reply = \"all\"\n", "reply = \"all\"\ndry_run = true\n"),
    )
    .expect("policy");
    std::fs::write(
        env.dir.path().join("replies/new/newpatch"),
        "From: New Dev <new@example.org>\nTo: io-uring@vger.kernel.org\nSubject: [PATCH] io_uring/mock: add a mock file\n\
         Message-ID: <newpatch@example.org>\nList-Id: <io-uring.vger.kernel.org>\nDate: Mon, 1 Sep 2025 10:00:00 +0000\n\n\
         Add it.\n\nSigned-off-by: New Dev <new@example.org>\n---\n io_uring/mock_file.c | 5 +++++\n\n\
         diff --git a/io_uring/mock_file.c b/io_uring/mock_file.c\nnew file mode 100644\nindex 0000000..1111111\n\
         --- /dev/null\n+++ b/io_uring/mock_file.c\n@@ -0,0 +1,5 @@\n+a\n+b\n+c\n+d\n+e\n",
    )
    .expect("inject patch");
    let dry = report(&env.once());
    assert_eq!(
        (
            dry["reviewed"].as_u64(),
            dry["replies_dry_run"].as_u64(),
            dry["sent"].as_u64()
        ),
        (Some(1), Some(1), Some(0)),
        "{dry}"
    );
    let rendered: Vec<String> = std::fs::read_dir(env.dir.path().join("dry-run"))
        .expect("dry-run dir")
        .flatten()
        .map(|entry| std::fs::read_to_string(entry.path()).expect("read"))
        .collect();
    assert_eq!(rendered.len(), 1);
    assert_eq!(
        header(&rendered[0], "In-Reply-To"),
        Some("<newpatch@example.org>")
    );
    assert_eq!(smtp.mails().len(), mails.len(), "dry run sends nothing");
    let dry_again = report(&env.once());
    assert_eq!(
        dry_again["replies_dry_run"], 0,
        "rendered once: {dry_again}"
    );
    fake.stop().await;
}

/// One patch mail of the ring series, version `version`, into a maildir.
fn ring_mail(version: u32, diff: &str) -> String {
    let tag = if version == 1 {
        "PATCH".to_owned()
    } else {
        format!("PATCH v{version}")
    };
    format!(
        "Message-ID: <ring-push-v{version}@example.org>\nFrom: Ada Dev <ada@example.org>\n\
         To: io-uring@vger.kernel.org\nList-Id: <io-uring.vger.kernel.org>\n\
         Date: Thu, 2 Jan 2025 1{version}:00:00 +0000\nSubject: [{tag}] foo_ring: push items\n\n\
         Push items.\n\nSigned-off-by: Ada Dev <ada@example.org>\n---\n{diff}-- \n2.40.0\n"
    )
}

/// v1 allocates before the space check: `item` leaks when the ring is full.
const RING_V1: &str = "diff --git a/io_uring/foo_ring.c b/io_uring/foo_ring.c
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/io_uring/foo_ring.c
@@ -0,0 +1,12 @@
+int foo_ring_push(struct foo_ring *ring, int value)
+{
+\tstruct foo_item *item = kmalloc(sizeof(*item), GFP_KERNEL);
+
+\tif (!item)
+\t\treturn -ENOMEM;
+\tif (ring->count == FOO_RING_SIZE)
+\t\treturn -ENOSPC;
+\titem->value = value;
+\tring->slots[ring->head++] = item;
+\treturn 0;
+}
";

/// v2 allocates after it.
const RING_V2: &str = "diff --git a/io_uring/foo_ring.c b/io_uring/foo_ring.c
new file mode 100644
index 0000000..2222222
--- /dev/null
+++ b/io_uring/foo_ring.c
@@ -0,0 +1,12 @@
+int foo_ring_push(struct foo_ring *ring, int value)
+{
+\tstruct foo_item *item;
+\tif (ring->count == FOO_RING_SIZE)
+\t\treturn -ENOSPC;
+\titem = kmalloc(sizeof(*item), GFP_KERNEL);
+\tif (!item)
+\t\treturn -ENOMEM;
+\titem->value = value;
+\tring->slots[ring->head++] = item;
+\treturn 0;
+}
";

const RING_LEAK: &str = "item allocated with kmalloc() above is leaked when the ring is full";
const RING_HEAD: &str = "ring->head is never wrapped, so the next push writes past slots";

/// Issue 15, case 1, through the list bot: v1's reply raises the leak; v2
/// moves kmalloc() after the check and its review does not raise the leak
/// again (the re-check of v2's foo_ring_push() shows it fixed), so v2's
/// reply never mentions it, while it does carry what v2's review found.
#[tokio::test(flavor = "multi_thread")]
async fn a_v2_reply_never_claims_a_bug_fixed_since_v1() {
    if !aiosmtpd() {
        eprintln!("skipping: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
        return;
    }
    let Some(bin) = binary() else {
        eprintln!("skipping: build the binary first (cargo build -p sashiko) or set SASHIKO_BIN");
        return;
    };
    let ring_finding = |line: u32, problem: &str| {
        json!({"patch_index": 1, "file": "io_uring/foo_ring.c", "line_start": line, "line_end": line + 1,
               "severity": "high", "problem": problem, "severity_explanation": "scripted", "preexisting": false})
    };
    let silent = |script: FakeScript| {
        script
            .stage_default("verify", FakeAnswer::json(json!({"decisions": []})))
            .stage_default("report", FakeAnswer::json(json!({"comments": []})))
            .default_answer(FakeAnswer::json(json!({"findings": []})))
    };
    let fake = FakeLlmServer::start(silent(FakeScript::new().push(
        "resource",
        FakeAnswer::json(json!({"findings": [ring_finding(7, RING_LEAK)]})),
    )))
    .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (smtp, port) = Smtp::start(dir.path());
    let inbox = dir.path().join("inbox");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(inbox.join(sub)).expect("maildir");
    }
    std::fs::write(inbox.join("new/1.eml"), ring_mail(1, RING_V1)).expect("v1 mail");
    std::fs::write(
        dir.path().join("policy.toml"),
        "[bot]\naddress = \"Sashiko <sashiko@bot.example>\"\n\n\
         [defaults]\nmin_severity = \"medium\"\ndaily_cap = 1000\n\n\
         [lists.\"io-uring.vger.kernel.org\"]\nenabled = true\nreply = \"all\"\n",
    )
    .expect("policy");
    std::fs::write(
        dir.path().join("bot.toml"),
        format!(
            "db = \"sqlite:{db}\"\npolicy = \"policy.toml\"\nincomplete_wait_minutes = 0\nmail_retry_seconds = 0\n\
             [[sources]]\nspec = \"maildir:{inbox}\"\nlist = \"io-uring.vger.kernel.org\"\n\
             [smtp]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"none\"\nenvelope_from = \"sashiko@bot.example\"\ntimeout_secs = 5\n",
            db = dir.path().join("bot.db").display(),
            inbox = inbox.display(),
        ),
    )
    .expect("config");
    std::fs::write(
        dir.path().join("sashiko.toml"),
        "[llm.retry]\nmax_retries = 1\ninitial_backoff_ms = 10\nmax_backoff_ms = 20\n",
    )
    .expect("settings");
    let env = Env {
        dir,
        bin,
        fake_url: fake.base_url(),
    };
    let first = env.once();
    assert!(first.status.success(), "{first:?}");
    let reply_to = |version: u32| {
        let wanted = format!("<ring-push-v{version}@example.org>");
        smtp.mails()
            .into_iter()
            .filter(|mail| header(mail, "In-Reply-To") == Some(wanted.as_str()))
            .collect::<Vec<_>>()
    };
    let v1_replies = reply_to(1);
    assert_eq!(v1_replies.len(), 1, "one reply to v1: {first:?}");
    assert!(
        v1_replies[0].contains("is leaked when the ring is full"),
        "{}",
        v1_replies[0]
    );

    fake.set_script(silent(FakeScript::new().push(
        "flow",
        FakeAnswer::json(json!({"findings": [ring_finding(10, RING_HEAD)]})),
    )));
    std::fs::write(
        env.dir.path().join("inbox/new/2.eml"),
        ring_mail(2, RING_V2),
    )
    .expect("v2 mail");
    let second = env.once();
    assert!(second.status.success(), "{second:?}");
    let v2_replies = reply_to(2);
    assert_eq!(v2_replies.len(), 1, "one reply to v2: {second:?}");
    let v2_reply = &v2_replies[0];
    assert!(
        v2_reply.contains("ring->head is never wrapped"),
        "v2's own finding: {v2_reply}"
    );
    for claim in ["leak", "still present", "v1"] {
        assert!(
            !v2_reply.to_lowercase().contains(claim),
            "the v2 reply says {claim:?}: {v2_reply}"
        );
    }
}
