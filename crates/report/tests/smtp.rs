//! Sending through the outbox to a real SMTP server (aiosmtpd, see
//! support/smtp_server.py) on 127.0.0.1: delivery, a 5xx refusal (dead
//! letter), a 4xx and a hanging server (retried), and the server killed
//! in the middle of a burst: nothing lost, nothing delivered twice.
//! Skips with a message when python3 or aiosmtpd is missing.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sashiko_report::smtp::{drain_outbox, DrainOptions, Security, SmtpConfig, SmtpSender};
use sashiko_store::{MailQueued, NewMail, QueueConfig, Store};

struct Server {
    child: Child,
    port: u16,
    maildir: PathBuf,
    mode_file: PathBuf,
    delay_ms: u32,
}

fn aiosmtpd_available() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|status| status.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn spawn(port: u16, maildir: &Path, mode_file: &Path, delay_ms: u32) -> Child {
    spawn_with(port, maildir, mode_file, delay_ms, &[])
}

fn spawn_with(port: u16, maildir: &Path, mode_file: &Path, delay_ms: u32, extra: &[&str]) -> Child {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/smtp_server.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(maildir)
        .arg(mode_file)
        .arg(delay_ms.to_string())
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("READY line");
    assert_eq!(line.trim(), "READY", "the SMTP server started");
    child
}

impl Server {
    fn start(dir: &Path, delay_ms: u32) -> Server {
        let port = free_port();
        let maildir = dir.join("maildir");
        let mode_file = dir.join("mode");
        let child = spawn(port, &maildir, &mode_file, delay_ms);
        Server {
            child,
            port,
            maildir,
            mode_file,
            delay_ms,
        }
    }

    fn set_mode(&self, mode: &str) {
        std::fs::write(&self.mode_file, mode).expect("mode");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn restart(&mut self) {
        self.kill();
        self.child = spawn(self.port, &self.maildir, &self.mode_file, self.delay_ms);
    }

    /// Delivered messages by Message-ID, with how often each arrived.
    fn delivered(&self) -> BTreeMap<String, usize> {
        let mut seen = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir(self.maildir.join("new")) else {
            return seen;
        };
        for entry in entries.flatten() {
            let text = std::fs::read_to_string(entry.path()).expect("read mail");
            let id = text
                .lines()
                .find_map(|line| line.strip_prefix("Message-ID: "))
                .unwrap_or("?")
                .to_owned();
            *seen.entry(id).or_insert(0) += 1;
        }
        seen
    }

    fn config(&self, timeout_secs: u64) -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: self.port,
            security: Security::None,
            username: None,
            password: None,
            envelope_from: "sashiko@bot.example".into(),
            ca_file: None,
            timeout_secs,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn mail(n: usize, max_attempts: u32) -> NewMail {
    let id = format!("<test-{n}@bot.example>");
    NewMail {
        idempotency_key: format!("test/{n}"),
        review_id: None,
        recipients: vec!["ada@example.org".into(), "io-uring@vger.kernel.org".into()],
        subject: format!("Re: [PATCH] test {n}"),
        in_reply_to: Some(format!("patch-{n}@example.org")),
        body: format!(
            "From: Sashiko <sashiko@bot.example>\r\nTo: ada@example.org\r\nSubject: Re: [PATCH] test {n}\r\nMessage-ID: {id}\r\nAuto-Submitted: auto-generated\r\n\r\nbody {n}\r\n"
        )
        .into_bytes(),
        max_attempts,
    }
}

fn now_retry() -> DrainOptions {
    DrainOptions {
        retry: QueueConfig {
            retry_base: Duration::ZERO,
            retry_max: Duration::ZERO,
            ..QueueConfig::default()
        },
        ..DrainOptions::default()
    }
}

async fn store(dir: &Path) -> Store {
    let store = Store::connect(&format!("sqlite:{}", dir.join("out.db").display()))
        .await
        .expect("db");
    store.migrate().await.expect("migrate");
    store
}

async fn states(store: &Store) -> BTreeMap<String, i64> {
    store
        .outbox_states()
        .await
        .expect("states")
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn delivery_refusal_tempfail_and_hang() {
    if !aiosmtpd_available() {
        eprintln!("skipping: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(dir.path(), 0);
    let store = store(dir.path()).await;
    let sender = SmtpSender::new(&server.config(2)).expect("sender");

    for n in 0..3 {
        assert!(matches!(
            store.outbox_enqueue(&mail(n, 3)).await.expect("queue"),
            MailQueued::Added(_)
        ));
    }
    assert!(
        matches!(
            store.outbox_enqueue(&mail(0, 3)).await.expect("queue"),
            MailQueued::Existing(_)
        ),
        "same key, queued once"
    );
    let report = drain_outbox(&store, &sender, &now_retry())
        .await
        .expect("drain");
    assert_eq!(
        (report.sent, report.retried, report.dead),
        (3, 0, 0),
        "{report:?}"
    );
    assert_eq!(
        drain_outbox(&store, &sender, &now_retry())
            .await
            .expect("drain")
            .sent,
        0,
        "nothing sent twice"
    );
    let delivered = server.delivered();
    assert_eq!(delivered.len(), 3);
    assert!(delivered.values().all(|&count| count == 1));

    server.set_mode("refuse");
    store.outbox_enqueue(&mail(10, 3)).await.expect("queue");
    let report = drain_outbox(&store, &sender, &now_retry())
        .await
        .expect("drain");
    assert_eq!(
        (report.sent, report.dead),
        (0, 1),
        "5xx is permanent: {report:?}"
    );
    assert!(report.errors[0].contains("550"), "{:?}", report.errors);

    server.set_mode("tempfail");
    store.outbox_enqueue(&mail(11, 3)).await.expect("queue");
    let options = DrainOptions {
        max_rounds: 1,
        ..now_retry()
    };
    let report = drain_outbox(&store, &sender, &options)
        .await
        .expect("drain");
    assert_eq!(
        (report.sent, report.retried),
        (0, 1),
        "4xx is retried: {report:?}"
    );

    server.set_mode("hang");
    let started = std::time::Instant::now();
    let report = drain_outbox(&store, &sender, &options)
        .await
        .expect("drain");
    eprintln!(
        "hanging server: attempt gave up after {:?}",
        started.elapsed()
    );
    assert_eq!(
        (report.sent, report.retried),
        (0, 1),
        "a hanging server times out and is retried: {report:?}"
    );

    server.set_mode("accept");
    let report = drain_outbox(&store, &sender, &now_retry())
        .await
        .expect("drain");
    assert_eq!(report.sent, 1, "the server came back: {report:?}");
    let delivered = server.delivered();
    assert_eq!(delivered.get("<test-11@bot.example>"), Some(&1));
    assert!(
        !delivered.contains_key("<test-10@bot.example>"),
        "refused mail never delivered"
    );
    assert_eq!(
        states(&store).await,
        BTreeMap::from([("dead".into(), 1), ("sent".into(), 4)])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_killed_during_a_burst_loses_nothing_and_sends_nothing_twice() {
    if !aiosmtpd_available() {
        eprintln!("skipping: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
        return;
    }
    const BURST: usize = 40;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(dir.path(), 20);
    let store = store(dir.path()).await;
    let sender = SmtpSender::new(&server.config(2)).expect("sender");
    for n in 0..BURST {
        store.outbox_enqueue(&mail(n, 20)).await.expect("queue");
    }
    let drain_store = store.clone();
    let burst = tokio::spawn(async move {
        let sender = sender;
        let options = DrainOptions {
            max_rounds: 1,
            batch: 100,
            ..now_retry()
        };
        drain_outbox(&drain_store, &sender, &options)
            .await
            .expect("drain")
    });
    while server.delivered().len() < 10 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();
    let first = burst.await.expect("burst");
    assert!(
        first.sent >= 10 && first.retried > 0,
        "some sent, the rest retried: {first:?}"
    );
    server.restart();
    let sender = SmtpSender::new(&server.config(2)).expect("sender");
    let mut total_sent = first.sent;
    for _ in 0..5 {
        total_sent += drain_outbox(&store, &sender, &now_retry())
            .await
            .expect("drain")
            .sent;
    }
    let delivered = server.delivered();
    let twice: Vec<_> = delivered.iter().filter(|(_, &count)| count > 1).collect();
    assert!(twice.is_empty(), "delivered twice: {twice:?}");
    assert_eq!(delivered.len(), BURST, "every mail delivered once");
    assert_eq!(total_sent, BURST as u64);
    assert_eq!(
        states(&store).await,
        BTreeMap::from([("sent".into(), BURST as i64)])
    );
    eprintln!("burst of {BURST}: {} sent before the kill, {} retried, all {BURST} delivered exactly once after the restart", first.sent, first.retried);
}

fn openssl(dir: &Path, args: &[&str]) {
    let status = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl {args:?}");
}

/// A private CA and a server certificate for 127.0.0.1 signed by it.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=sashiko test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ],
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn starttls_with_login_to_a_server_that_requires_both() {
    if !aiosmtpd_available() || Command::new("openssl").arg("version").output().is_err() {
        eprintln!("skipping: python3 with aiosmtpd, or openssl, is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    certificates(dir.path());
    let port = free_port();
    let maildir = dir.path().join("maildir");
    let cert = dir.path().join("server.pem");
    let key = dir.path().join("server.key");
    let child = spawn_with(
        port,
        &maildir,
        &dir.path().join("mode"),
        0,
        &[
            cert.to_str().expect("utf-8"),
            key.to_str().expect("utf-8"),
            "sashiko:s3cret",
        ],
    );
    let server = Server {
        child,
        port,
        maildir,
        mode_file: dir.path().join("mode"),
        delay_ms: 0,
    };
    let store = store(dir.path()).await;
    let secure = |user: Option<&str>, password: &str, ca: bool| SmtpConfig {
        security: Security::Starttls,
        username: user.map(str::to_owned),
        password: Some(password.to_owned()),
        ca_file: ca.then(|| dir.path().join("ca.pem")),
        ..server.config(5)
    };
    let cases = [
        (
            "right login, trusted CA",
            secure(Some("sashiko"), "s3cret", true),
            "sent",
        ),
        (
            "wrong password",
            secure(Some("sashiko"), "wrong", true),
            "dead",
        ),
        (
            "CA not trusted",
            secure(Some("sashiko"), "s3cret", false),
            "queued",
        ),
        (
            "plain, no STARTTLS",
            SmtpConfig {
                security: Security::None,
                ..secure(None, "", true)
            },
            "dead",
        ),
    ];
    for (n, (name, config, expected)) in cases.into_iter().enumerate() {
        let sender = SmtpSender::new(&config).expect("sender");
        let MailQueued::Added(id) = store
            .outbox_enqueue(&mail(100 + n, 3))
            .await
            .expect("queue")
        else {
            panic!("{name}: queued")
        };
        let report = drain_outbox(
            &store,
            &sender,
            &DrainOptions {
                max_rounds: 1,
                ..DrainOptions::default()
            },
        )
        .await
        .expect("drain");
        let (state, _, error) = store.outbox_state(id).await.expect("state").expect("row");
        assert_eq!(state, expected, "{name}: {report:?} {error:?}");
        eprintln!("{name}: {state} {}", error.unwrap_or_default());
    }
    let delivered = server.delivered();
    assert_eq!(
        delivered.keys().collect::<Vec<_>>(),
        ["<test-100@bot.example>"],
        "only the authenticated TLS mail arrived"
    );
}
