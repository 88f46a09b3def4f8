//! Login by mail end to end: the real `sashiko serve` with
//! `--mail-login-from` and `--smtp`, a real SMTP server on 127.0.0.1
//! (aiosmtpd, the script the report crate's SMTP tests use), a real SQLite
//! file. The link arrives by mail, logs in once and never again, the
//! answer for an unknown address is the same page, the requests are rate
//! limited per address whether it exists or not, and only the token's hash
//! is stored. Skips with a message when aiosmtpd is not installed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use reqwest::StatusCode;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("address")
        .port()
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn smtp_server(dir: &Path) -> Option<(Killed, u16, PathBuf)> {
    let available = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .status()
        .is_ok_and(|status| status.success());
    if !available {
        eprintln!(
            "skipping: python3 with aiosmtpd is needed (pip install -r .ci/python-packages.txt)"
        );
        return None;
    }
    let port = free_port();
    let maildir = dir.join("maildir");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../report/tests/support/smtp_server.py");
    let mut child = Command::new("python3")
        .arg(script)
        .arg(port.to_string())
        .arg(&maildir)
        .arg(dir.join("smtp-mode"))
        .arg("0")
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("READY line");
    assert_eq!(line.trim(), "READY", "the SMTP server started");
    Some((Killed(child), port, maildir))
}

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
}

/// The `value` of the hidden input `name` in a form.
fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).expect("the hidden input") + marker.len();
    page[start..]
        .split('"')
        .next()
        .expect("a quoted value")
        .to_string()
}

/// Waits for the `count`-th delivered mail and returns every mail's text.
fn delivered(maildir: &Path, count: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mails: Vec<String> = std::fs::read_dir(maildir.join("new"))
            .map(|entries| {
                entries
                    .flatten()
                    .map(|entry| std::fs::read_to_string(entry.path()).expect("read mail"))
                    .collect()
            })
            .unwrap_or_default();
        if mails.len() >= count {
            return mails;
        }
        assert!(
            Instant::now() < deadline,
            "{count} mail(s) not delivered in 30 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mailed_link_logs_in_once_and_unknown_addresses_look_the_same() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some((_smtp, smtp_port, maildir)) = smtp_server(dir.path()) else {
        return;
    };
    std::fs::write(dir.path().join("config.toml"), "").expect("config");
    std::fs::write(
        dir.path().join("smtp.toml"),
        format!(
            "host = \"127.0.0.1\"\nport = {smtp_port}\nsecurity = \"none\"\nenvelope_from = \"sashiko@example.org\"\ntimeout_secs = 5\n"
        ),
    )
    .expect("smtp settings");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    let mut add = sashiko(dir.path(), &db)
        .args([
            "user",
            "add",
            "ada",
            "--role",
            "admin",
            "--email",
            "Ada@Example.org",
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("user add starts");
    add.stdin
        .take()
        .expect("stdin")
        .write_all(b"ada-password\n")
        .expect("password");
    assert!(add.wait().expect("user add").success());

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let smtp_file = dir.path().join("smtp.toml").display().to_string();
    let serve = sashiko(dir.path(), &db)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &base,
            "--insecure-cookies",
            "--mail-login-from",
            "Sashiko <sashiko@example.org>",
            "--smtp",
            &smtp_file,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve starts");
    let _serve = Killed(serve);
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client");
    let deadline = Instant::now() + Duration::from_secs(30);
    let login = loop {
        if let Ok(response) = client.get(format!("{base}/login")).send().await {
            break response;
        }
        assert!(Instant::now() < deadline, "serve did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let csrf_cookie = set_cookie(&login, "sashiko_login_csrf").expect("login CSRF cookie");
    let page = login.text().await.expect("login page");
    assert!(page.contains("id=\"mail-login\""), "{page}");
    let csrf = hidden(&page, "csrf");
    let cookie = format!("sashiko_login_csrf={csrf_cookie}");

    let ask = |address: &'static str| {
        let client = client.clone();
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        let base = base.clone();
        async move {
            let response = client
                .post(format!("{base}/login/mail"))
                .header(COOKIE, cookie)
                .form(&[("address", address), ("csrf", csrf.as_str())])
                .send()
                .await
                .expect("POST /login/mail");
            (response.status(), response.text().await.expect("answer"))
        }
    };
    let known = ask("ada@example.org").await;
    let unknown = ask("nobody@example.org").await;
    assert_eq!(known.0, StatusCode::OK, "{}", known.1);
    assert_eq!(
        known, unknown,
        "the same answer whether or not the address has an account"
    );
    let forged = client
        .post(format!("{base}/login/mail"))
        .header(COOKIE, cookie.clone())
        .form(&[
            ("address", "ada@example.org"),
            ("csrf", "0".repeat(64).as_str()),
        ])
        .send()
        .await
        .expect("forged POST");
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);

    let mails = delivered(&maildir, 1);
    assert_eq!(mails.len(), 1, "one mail, to the account's address only");
    let mail = &mails[0];
    assert!(mail.contains("To: ada@example.org"), "{mail}");
    let marker = format!("{base}/login/token?t=");
    let token = mail[mail.find(&marker).expect("the link") + marker.len()..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect::<String>();
    assert_eq!(token.len(), 64, "{mail}");

    // Only the hash is stored.
    let store = sashiko_store::Store::connect(&db).await.expect("store");
    let stored = store
        .web_rows(
            "login tokens",
            "SELECT token_hash FROM web_login_tokens",
            &[],
        )
        .await
        .expect("tokens");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0]["token_hash"].as_str(), Some(token.as_str()));
    store.close().await;

    // The link shows a button; following the link alone spends nothing.
    let confirm = client
        .get(format!("{base}/login/token?t={token}"))
        .header(COOKIE, cookie.clone())
        .send()
        .await
        .expect("GET the link");
    assert_eq!(confirm.status(), StatusCode::OK);
    let form = confirm.text().await.expect("confirm page");
    assert_eq!(hidden(&form, "token"), token);
    let redeem = || {
        client
            .post(format!("{base}/login/token"))
            .header(COOKIE, cookie.clone())
            .form(&[("token", token.as_str()), ("csrf", csrf.as_str())])
            .send()
    };
    let first = redeem().await.expect("redeem");
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        first.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/")
    );
    let session = set_cookie(&first, "sashiko_session").expect("a session cookie");
    let home = client
        .get(format!("{base}/"))
        .header(COOKIE, format!("sashiko_session={session}"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("home page");
    assert!(home.contains("ada"), "logged in as ada: {home}");
    let second = redeem().await.expect("redeem again");
    assert_eq!(
        second.status(),
        StatusCode::UNAUTHORIZED,
        "a token works once"
    );
    assert!(set_cookie(&second, "sashiko_session").is_none());

    // Three requests per address per window, known or not.
    for address in ["ada@example.org", "nobody@example.org"] {
        assert_eq!(ask(address).await.0, StatusCode::OK, "{address}");
        assert_eq!(ask(address).await.0, StatusCode::OK, "{address}");
        assert_eq!(
            ask(address).await.0,
            StatusCode::TOO_MANY_REQUESTS,
            "{address}"
        );
    }
}
