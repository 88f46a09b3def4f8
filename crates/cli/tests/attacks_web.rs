//! Attacks on the web side, replayed against the real `sashiko serve`
//! binary over HTTP on 127.0.0.1 (issue 21: holes 1, 2, 5, 7, 9 and 10;
//! the mail side is in `attacks_mail.rs`). Each test is the attack as an
//! outside attacker ran it, with the safe outcome asserted:
//!
//! - 1, memory through the response cache: 10,000 distinct
//!   `/api/bugs?...&junk=N` URLs of 50 kB answers keep the server's memory
//!   within its cache budget (prints the RSS before and after).
//! - 2, the login rate limit locked out the right password: after wrong
//!   passwords for an account from many addresses and from the owner's own
//!   address (behind a proxy), the owner logs in within a minute, waiting
//!   at most the `Retry-After`; a browser that logged in before is not
//!   held up at all; the guesses themselves are slowed.
//! - 5, `%00` in a query parameter gave 500 on PostgreSQL: every route
//!   with NUL bytes and other bad values answers 4xx with a message naming
//!   the parameter, never 5xx.
//! - 7, open redirect after login: `next` values a browser would read as
//!   another host (tab, newline, `/\`, `//`, encoded forms) send the
//!   browser to `/`, never elsewhere and never a 500.
//! - 9, sessions outlived a password change: a new password ends the old
//!   sessions; `sashiko user disable/enable/remove` work and end sessions.
//! - 10, slow-header connections stayed open: 50 connections sending half
//!   a request are closed by the header deadline.
//!
//! PostgreSQL at 127.0.0.1:5432 (or `SASHIKO_TEST_PG_URL`) is required for
//! hole 5, as in the other PostgreSQL tests; the rest use SQLite files.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::{COOKIE, LOCATION, RETRY_AFTER, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

fn sashiko(dir: &Path, db: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sashiko"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
        .env("SASHIKO_CONFIG", dir.join("config.toml"))
        .env("SASHIKO_DB", db);
    command
}

/// `sashiko user ARGS...` with `password` on stdin; its output.
fn user(dir: &Path, db: &str, args: &[&str], password: &str) -> std::process::Output {
    let mut child = sashiko(dir, db)
        .arg("user")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sashiko user starts");
    // Commands other than `add` do not read stdin and may be gone already.
    let _ = child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(format!("{password}\n").as_bytes());
    child.wait_with_output().expect("sashiko user runs")
}

fn add_admin(dir: &Path, db: &str, name: &str, password: &str) {
    let output = user(dir, db, &["add", name, "--role", "admin"], password);
    assert!(output.status.success(), "user add: {output:?}");
}

/// A running `sashiko serve`, killed when dropped.
struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(dir: &Path, db: &str, args: &[&str]) -> Serve {
        std::fs::write(dir.join("config.toml"), "").expect("config");
        let mut child = sashiko(dir, db)
            .args(["serve", "--listen", "127.0.0.1:0", "--insecure-cookies"])
            .args(args)
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sashiko serve starts");
        let base = common::served_address(&mut child);
        Serve { child, base }
    }

    fn address(&self) -> String {
        self.base.trim_start_matches("http://").to_string()
    }

    /// The server's resident memory in kB (VmRSS).
    fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/PID/status of the server");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("a VmRSS line")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("HTTP client")
}

/// The value of cookie `name` among a response's Set-Cookie headers.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|text| {
            text.split(';')
                .next()
                .and_then(|pair| pair.strip_prefix(&format!("{name}=")))
                .map(str::to_string)
        })
        .filter(|value| !value.is_empty())
}

/// One password attempt as a browser makes it (login page first for the
/// double-submit token), from `forwarded_for` when given, with extra
/// cookies; the response.
async fn attempt(
    base: &str,
    name: &str,
    password: &str,
    next: &str,
    forwarded_for: Option<&str>,
    cookies: &str,
) -> reqwest::Response {
    let client = client();
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("GET /login");
    let csrf = set_cookie(&page, "sashiko_login_csrf").expect("login CSRF cookie");
    let mut request = client
        .post(format!("{base}/login"))
        .header(COOKIE, format!("sashiko_login_csrf={csrf}{cookies}"))
        .form(&[
            ("name", name),
            ("password", password),
            ("csrf", csrf.as_str()),
            ("next", next),
        ]);
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", format!("192.0.2.1, {address}"));
    }
    request.send().await.expect("POST /login")
}

// ---------------------------------------------------------------- hole 1

/// Stores `n` bugs of subsystem mm with long titles.
async fn seed_bugs(db: &str, n: usize) {
    let store = sashiko_store::Store::connect(db).await.expect("db opens");
    store
        .web_rows(
            "test: seeding bugs",
            &format!(
                "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < {n}) \
                 INSERT INTO bugs (fingerprint, subsystem, state, severity, title, file, line_start, \
                                   line_end, preexisting, created_at, updated_at) \
                 SELECT 'fp-' || n, 'mm', 'open', 'high', \
                        'a lock is not released on the error path of function number ' || n || \
                        ' when the allocation fails and the caller retries the whole operation', \
                        'mm/file' || n || '.c', n, n, FALSE, 1700000000000, 1700000000000 FROM g"
            ),
            &[],
        )
        .await
        .expect("seed bugs");
    store.close().await;
}

/// Regression: the cache kept up to 10,000 entries of up to 4 MB keyed on
/// the whole URI and never dropped expired ones; 1,500 anonymous
/// `GET /api/bugs?...&junk=N` took the server from 40 MB to 970 MB.
#[tokio::test(flavor = "multi_thread")]
async fn hole_1_ten_thousand_distinct_cached_urls_stay_within_the_cache_budget() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    let migrated = sashiko(dir.path(), &db)
        .args(["db", "migrate"])
        .output()
        .expect("db migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    seed_bugs(&db, 150).await;
    // A long lifetime, so only the byte budget (the default 64 MiB) can
    // bound the cache.
    let serve = Serve::start(dir.path(), &db, &["--cache-ttl-ms", "600000"]);
    let client = client();
    let url = |n: usize| format!("{}/api/bugs?subsystem=mm&limit=150&junk={n}", serve.base);
    let first = client.get(url(0)).send().await.expect("GET");
    assert_eq!(first.status(), StatusCode::OK);
    let answer_bytes = first.bytes().await.expect("body").len();
    assert!(answer_bytes > 40_000, "answers of {answer_bytes} bytes");
    let before_kb = serve.rss_kb();
    let requests = 10_000;
    let workers = 8;
    let mut tasks = Vec::new();
    for worker in 0..workers {
        let client = client.clone();
        let urls: Vec<String> = (1..=requests)
            .filter(|n| n % workers == worker)
            .map(url)
            .collect();
        tasks.push(tokio::spawn(async move {
            for url in urls {
                let response = client.get(&url).send().await.expect("GET");
                assert_eq!(response.status(), StatusCode::OK, "{url}");
                response.bytes().await.expect("body");
            }
        }));
    }
    for task in tasks {
        task.await.expect("requests");
    }
    let after_kb = serve.rss_kb();
    let unbounded_mb = requests * answer_bytes / 1_000_000;
    eprintln!(
        "hole 1: server RSS {} MB before, {} MB after {requests} distinct cached URLs \
         of {answer_bytes} bytes each ({unbounded_mb} MB of answers; cache budget 64 MiB)",
        before_kb / 1000,
        after_kb / 1000
    );
    assert!(
        after_kb < before_kb + 160_000,
        "RSS grew from {before_kb} kB to {after_kb} kB"
    );
    // The cache still answers: the newest URL again is the same answer.
    let again = client.get(url(requests)).send().await.expect("GET");
    assert_eq!(again.status(), StatusCode::OK);
}

// ---------------------------------------------------------------- hole 2

/// Logs in `name` as its owner would: on 429 waits the `Retry-After`
/// (which must be short) and tries again; the time it took.
async fn owner_logs_in(
    base: &str,
    name: &str,
    password: &str,
    forwarded_for: Option<&str>,
    cookies: &str,
) -> (Duration, reqwest::Response) {
    let started = Instant::now();
    loop {
        let response = attempt(base, name, password, "/", forwarded_for, cookies).await;
        if response.status() != StatusCode::TOO_MANY_REQUESTS {
            return (started.elapsed(), response);
        }
        let wait: u64 = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .expect("a 429 says how long to wait");
        assert!(wait <= 16, "Retry-After {wait} s is not short");
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the owner could not log in within a minute"
        );
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
}

/// Regression: the limiter refused before checking the password and keyed
/// on the TCP peer, so 5 wrong passwords from anywhere locked a named
/// maintainer out for 10 minutes, and behind a proxy 5 requests locked out
/// everyone.
#[tokio::test(flavor = "multi_thread")]
async fn hole_2_wrong_passwords_from_anywhere_do_not_lock_the_owner_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    add_admin(dir.path(), &db, "ada", "ada-password-1");
    add_admin(dir.path(), &db, "bob", "bob-password-1");
    let serve = Serve::start(
        dir.path(),
        &db,
        &["--client-address-header", "X-Forwarded-For"],
    );
    let base = &serve.base;

    // A browser that logged in to bob before keeps a device cookie.
    let first = attempt(base, "bob", "bob-password-1", "/", Some("198.51.100.7"), "").await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let device = set_cookie(&first, "sashiko_device").expect("a device cookie");

    // The guesser: 20 wrong passwords for each account from 20 addresses.
    let guessing = Instant::now();
    let mut checked = 0;
    for n in 0..20 {
        let from = format!("203.0.113.{n}");
        for name in ["ada", "bob"] {
            let response = attempt(base, name, "guess", "/", Some(&from), "").await;
            match response.status() {
                StatusCode::UNAUTHORIZED => checked += 1,
                StatusCode::TOO_MANY_REQUESTS => {}
                other => panic!("a guess got {other}"),
            }
        }
    }
    // Per account: 5 free guesses, then one per delay (1 s, 2 s, 4 s, 8 s,
    // then every 15 s) that passed while guessing.
    let elapsed = guessing.elapsed().as_secs_f64();
    let mut waited = 0.0;
    let mut allowed_per_account = 5 + 1;
    for step in 0_u32.. {
        waited += f64::from(2_u32.pow(step.min(4))).min(15.0);
        if waited > elapsed {
            break;
        }
        allowed_per_account += 1;
    }
    assert!(
        checked <= 2 * allowed_per_account,
        "{checked} of 40 guesses in {elapsed:.1} s were checked: guessing is not slowed"
    );
    eprintln!("hole 2: {checked} of 40 guesses in {elapsed:.1} s were checked");

    // The owner of ada, from a new address, gets in within a minute.
    let (took, response) =
        owner_logs_in(base, "ada", "ada-password-1", Some("198.51.100.9"), "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "ada logs in");
    assert!(set_cookie(&response, "sashiko_session").is_some());
    eprintln!("hole 2: ada logged in {took:?} after 40 guesses");

    // bob's browser is not held up by the guesses at all.
    let response = attempt(
        base,
        "bob",
        "bob-password-1",
        "/",
        Some("198.51.100.7"),
        &format!("; sashiko_device={device}"),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "a known browser logs in at once"
    );

    // Guesses from the owner's own address (every client behind a proxy
    // without the header shares one): the owner still gets in.
    for _ in 0..10 {
        attempt(base, "ada", "guess", "/", None, "").await;
    }
    let (took, response) = owner_logs_in(base, "ada", "ada-password-1", None, "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "ada logs in");
    eprintln!("hole 2: ada logged in {took:?} after 10 guesses from her own address");
}

// ---------------------------------------------------------------- hole 5

fn pg_server() -> String {
    std::env::var("SASHIKO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// Regression: `%00` in web query parameters reached PostgreSQL, which
/// refuses NUL in TEXT, and the answer was a 500.
#[tokio::test(flavor = "multi_thread")]
async fn hole_5_nul_bytes_and_bad_query_values_get_400_never_500_on_postgres() {
    let name = format!("sashiko_attack_web_nul_{}", std::process::id());
    let server = pg_server();
    let url = sashiko_store::create_postgres_database(&server, &name)
        .await
        .unwrap_or_else(|error| panic!("PostgreSQL at {server} is needed ({error})"));
    let dir = tempfile::tempdir().expect("tempdir");
    let migrated = sashiko(dir.path(), &url)
        .args(["db", "migrate"])
        .output()
        .expect("db migrate");
    assert!(migrated.status.success(), "{migrated:?}");
    seed_bugs(&url, 5).await;
    add_admin(dir.path(), &url, "ada", "ada-password-1");
    let serve = Serve::start(dir.path(), &url, &["--cache-ttl-ms", "0"]);
    let client = client();

    // NUL in every place a value is read: a 400 naming the parameter.
    for (path, named) in [
        ("/api/bugs?subsystem=mm%00", "subsystem"),
        ("/api/bugs?state=open%00&limit=5", "state"),
        ("/api/patchset?id=%00", "id"),
        ("/subsystem/mm?file=mm%00", "file"),
        ("/subsystem/mm?sort=%00file", "sort"),
        ("/search?q=%00", "q"),
        ("/login?next=/%00", "next"),
        ("/feeds/mm.atom?x=%00", "x"),
        ("/subsystem/m%00m", "path"),
        ("/bug/1?%00=1", "name"),
    ] {
        let response = client
            .get(format!("{}{path}", serve.base))
            .send()
            .await
            .expect("GET");
        let status = response.status();
        let body = response.text().await.expect("body");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        // JSON escapes the quotes around the name, HTML shows them as
        // entities.
        let quoted = [
            format!("\\\"{named}\\\""),
            format!("&quot;{named}&quot;"),
            format!("&#34;{named}&#34;"),
        ];
        assert!(
            body.contains("NUL")
                && (named == "path" && body.contains("the path")
                    || named == "name" && body.contains("parameter name")
                    || quoted.iter().any(|text| body.contains(text.as_str()))),
            "{path}: the answer names the input: {body}"
        );
    }

    // Other bad values: a clear 4xx, never a 5xx.
    for path in [
        "/api/bugs?limit=abc",
        "/api/bugs?limit=-1",
        "/api/bugs?limit=99999999999999999999",
        "/api/bugs?after=zz",
        "/api/bugs?state=nonsense",
        "/api/bugs?subsystem=%FF%FE",
        "/api/bugs/99999999999999999999",
        "/api/bugs/-1",
        "/subsystem/mm?after=abc",
        "/subsystem/mm?before=-99999999999999999999",
        "/subsystem/mm?age=99999999999999999",
        "/subsystem/mm?file=%25%5F%5C",
        "/subsystem/%FF",
        "/bug/abc",
        "/series/99999999999999999999",
        "/review/-5",
        "/search?q=%FF%FE%FD",
        "/api/patchset?id=%3C%3E",
    ] {
        let response = client
            .get(format!("{}{path}", serve.base))
            .send()
            .await
            .expect("GET");
        let status = response.status();
        let body = response.text().await.expect("body");
        assert!(!status.is_server_error(), "{path}: {status} {body}");
        if status.is_client_error() {
            assert!(!body.trim().is_empty(), "{path}: {status} with no message");
        }
    }

    // A NUL in a form field: refused, not a database error.
    let response = attempt(&serve.base, "ada\0", "x", "/", None, "").await;
    let status = response.status();
    assert!(
        status.is_client_error() && status != StatusCode::NOT_FOUND,
        "login with a NUL name: {status}"
    );
    drop(serve);
    sashiko_store::drop_postgres_database(&server, &name)
        .await
        .expect("drop the test database");
}

// ---------------------------------------------------------------- hole 7

/// Regression: `safe_next` let `/\t/evil.example` through as the Location
/// (browsers drop the tab and go to //evil.example), and a `next` with a
/// newline gave 500.
#[tokio::test(flavor = "multi_thread")]
async fn hole_7_next_after_login_never_leaves_the_site() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    add_admin(dir.path(), &db, "ada", "ada-password-1");
    let serve = Serve::start(dir.path(), &db, &[]);
    let client = client();
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\r\nSet-Cookie: x=1",
        "//evil.example",
        "/\\evil.example",
        "\\/evil.example",
        "/\\/evil.example",
        "https://evil.example/",
        "evil.example",
        "/%2F%2Fevil.example",
        "/%2f/evil.example",
        "/%5Cevil.example",
        "/%09/evil.example",
        "/%252F%252Fevil.example",
        "/%0a/evil.example",
        "/ /evil.example",
        "/\u{7f}/evil.example",
        "/\u{3000}/evil.example",
        "/é",
        "",
    ] {
        let response = attempt(&serve.base, "ada", "ada-password-1", next, None, "").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "next {next:?}");
        assert_eq!(
            response.headers()[LOCATION],
            "/",
            "next {next:?} is not followed"
        );
        let page = client
            .get(format!("{}/login", serve.base))
            .query(&[("next", next)])
            .send()
            .await
            .expect("GET /login");
        assert_eq!(page.status(), StatusCode::OK, "GET /login?next={next:?}");
        let html = page.text().await.expect("login page");
        // The template escapes `/` as `&#x2F;`.
        assert!(
            html.contains("name=\"next\" value=\"&#x2F;\""),
            "next {next:?} is not offered"
        );
    }
    // A path of this site is followed as it is.
    let next = "/subsystem/drivers%2Fnet?view=all&sort=file";
    let response = attempt(&serve.base, "ada", "ada-password-1", next, None, "").await;
    assert_eq!(response.headers()[LOCATION], next);
}

// ---------------------------------------------------------------- hole 9

/// Whether `session` is a logged-in session of a `--private` server.
async fn session_works(base: &str, session: &str) -> bool {
    let status = client()
        .get(format!("{base}/api/subsystems"))
        .header(COOKIE, format!("sashiko_session={session}"))
        .send()
        .await
        .expect("GET /api/subsystems")
        .status();
    assert!(
        status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
        "{status}"
    );
    status == StatusCode::OK
}

async fn log_in(base: &str, name: &str, password: &str) -> Option<String> {
    let response = attempt(base, name, password, "/", None, "").await;
    set_cookie(&response, "sashiko_session").filter(|_| response.status() == StatusCode::SEE_OTHER)
}

/// Regression: sessions outlived a password change, and there was no way
/// to disable or remove an account.
#[tokio::test(flavor = "multi_thread")]
async fn hole_9_a_new_password_disable_and_remove_end_sessions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    add_admin(dir.path(), &db, "ada", "ada-password-1");
    let serve = Serve::start(dir.path(), &db, &["--private"]);
    let base = &serve.base;

    let stolen = log_in(base, "ada", "ada-password-1")
        .await
        .expect("logged in");
    assert!(session_works(base, &stolen).await);
    add_admin(dir.path(), &db, "ada", "ada-password-2");
    assert!(
        !session_works(base, &stolen).await,
        "the session from before the password change is over"
    );
    assert!(log_in(base, "ada", "ada-password-1").await.is_none());
    let session = log_in(base, "ada", "ada-password-2")
        .await
        .expect("new password");
    assert!(session_works(base, &session).await);

    let disabled = user(dir.path(), &db, &["disable", "ada"], "");
    assert!(disabled.status.success(), "{disabled:?}");
    assert!(
        !session_works(base, &session).await,
        "disabling ends sessions"
    );
    assert!(log_in(base, "ada", "ada-password-2").await.is_none());
    // Still disabled after a new password.
    add_admin(dir.path(), &db, "ada", "ada-password-3");
    assert!(log_in(base, "ada", "ada-password-3").await.is_none());

    let enabled = user(dir.path(), &db, &["enable", "ada"], "");
    assert!(enabled.status.success(), "{enabled:?}");
    let session = log_in(base, "ada", "ada-password-3")
        .await
        .expect("enabled again");

    let removed = user(dir.path(), &db, &["remove", "ada"], "");
    assert!(removed.status.success(), "{removed:?}");
    assert!(
        !session_works(base, &session).await,
        "removing ends sessions"
    );
    assert!(log_in(base, "ada", "ada-password-3").await.is_none());
    let again = user(dir.path(), &db, &["remove", "ada"], "");
    assert_eq!(again.status.code(), Some(2), "{again:?}");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("account \"ada\" not found"),
        "{again:?}"
    );
}

// ---------------------------------------------------------------- hole 10

/// Regression: 50 connections sending half a request were all still open
/// after 40 s. With the default header deadline (10 s) every one is
/// closed, and the server still answers.
#[tokio::test(flavor = "multi_thread")]
async fn hole_10_slow_header_connections_are_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    let serve = Serve::start(dir.path(), &db, &[]);
    let address = serve.address();
    let started = Instant::now();
    let mut connections: Vec<std::net::TcpStream> = (0..50)
        .map(|n| {
            let mut stream = std::net::TcpStream::connect(&address).expect("connect");
            stream
                .write_all(
                    format!("GET /?n={n} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").as_bytes(),
                )
                .expect("half a request");
            stream
                .set_read_timeout(Some(Duration::from_secs(30)))
                .expect("read timeout");
            stream
        })
        .collect();
    let threads: Vec<_> = connections
        .drain(..)
        .map(|mut stream| {
            std::thread::spawn(move || {
                let mut buffer = [0_u8; 1024];
                loop {
                    match stream.read(&mut buffer) {
                        Ok(0) => return Some(Instant::now()),
                        Ok(_) => {}
                        Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                            return Some(Instant::now())
                        }
                        Err(_) => return None,
                    }
                }
            })
        })
        .collect();
    let closed: Vec<Option<Instant>> = threads
        .into_iter()
        .map(|thread| thread.join().expect("reader"))
        .collect();
    let open = closed.iter().filter(|at| at.is_none()).count();
    assert_eq!(
        open, 0,
        "{open} of 50 slow connections still open after 30 s"
    );
    let last = closed
        .iter()
        .flatten()
        .map(|at| at.duration_since(started))
        .max()
        .expect("50 closings");
    eprintln!("hole 10: 50 slow-header connections closed, the last after {last:?}");
    assert!(
        last >= Duration::from_secs(9),
        "closed before the deadline: {last:?}"
    );
    let health = client()
        .get(format!("{}/healthz", serve.base))
        .send()
        .await
        .expect("GET /healthz");
    assert_eq!(health.status(), StatusCode::OK);
}
