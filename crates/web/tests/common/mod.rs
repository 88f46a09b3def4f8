//! Shared test setup: a migrated database on SQLite (temporary file) or
//! PostgreSQL (a fresh database on `SASHIKO_TEST_PG_URL`, default
//! postgres://postgres@127.0.0.1:5432, dropped afterwards), seeded with a
//! reviewed series through the store's own API, and a real server on an
//! ephemeral 127.0.0.1 port.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

pub mod seed;

use std::sync::atomic::{AtomicU32, Ordering};

use sashiko_store::{BackendKind, Store};
use sashiko_web::{AppState, WebConfig};
use sqlx::Connection;

pub fn pg_server_url() -> String {
    std::env::var("SASHIKO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string())
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A migrated database that is removed when dropped.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    pg_database: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new(backend: BackendKind) -> TestDb {
        let (url, pg_database, dir) = match backend {
            BackendKind::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite:{}", dir.path().join("web.db").display());
                (url, None, Some(dir))
            }
            BackendKind::Postgres => {
                let name = format!(
                    "sashiko_web_test_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst)
                );
                let admin_url = format!("{}/postgres", pg_server_url());
                let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap_or_else(|error| {
                    panic!("PostgreSQL at {admin_url} is needed (set SASHIKO_TEST_PG_URL to point at another server): {error}")
                });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create the test database");
                (format!("{}/{name}", pg_server_url()), Some(name), None)
            }
        };
        let store = Store::connect(&url)
            .await
            .expect("connect to the test database");
        store.migrate().await.expect("migrate the test database");
        TestDb {
            store,
            url,
            pg_database,
            _dir: dir,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = self.pg_database.take() {
            let admin_url = format!("{}/postgres", pg_server_url());
            // Drop from a separate thread with its own runtime: Drop cannot be async.
            // The pool is not closed first: its connections belong to the
            // test's runtime, which is blocked here, so closing them could
            // wait for ever (a test binary once hung so); WITH (FORCE) ends
            // them on the server instead.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime");
                runtime.block_on(async move {
                    if let Ok(mut admin) = sqlx::PgConnection::connect(&admin_url).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut admin)
                                .await;
                    }
                });
            })
            .join();
        }
    }
}

/// A server answering on 127.0.0.1; stops when dropped.
pub struct TestServer {
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn_server(store: &Store, config: WebConfig) -> TestServer {
    spawn_server_on(store, config, "127.0.0.1").await
}

pub async fn spawn_server_on(store: &Store, config: WebConfig, host: &str) -> TestServer {
    spawn_server_with(store, host, |_| config).await
}

/// A server whose configuration depends on its own base URL (as the mail
/// login links do).
pub async fn spawn_server_with(
    store: &Store,
    host: &str,
    config: impl FnOnce(&str) -> WebConfig,
) -> TestServer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local address").port();
    let state =
        AppState::new(store.clone(), config(&format!("http://{host}:{port}"))).expect("web state");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        sashiko_web::serve(listener, state, async move {
            let _ = stopped.await;
        })
        .await
        .expect("serve");
    });
    TestServer {
        base: format!("http://{host}:{port}"),
        stop: Some(stop),
    }
}

/// A client that does not follow redirects and keeps no cookies (tests
/// pass cookies by hand to see exactly what is sent).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client")
}

/// The value of cookie `name` set by `response`.
pub fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            value
                .strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_string())
        })
}

/// The value of hidden input `name` in `html`.
pub fn hidden_input(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// Logs in and returns the session cookie (or the failed response's status).
pub async fn login(base: &str, name: &str, password: &str) -> Result<String, reqwest::StatusCode> {
    let client = client();
    let page = client
        .get(format!("{base}/login"))
        .send()
        .await
        .expect("GET /login");
    let login_csrf = set_cookie(&page, "sashiko_login_csrf").expect("login CSRF cookie");
    let html = page.text().await.expect("login page");
    let field = hidden_input(&html, "csrf").expect("csrf field");
    let response = client
        .post(format!("{base}/login"))
        .header("Cookie", format!("sashiko_login_csrf={login_csrf}"))
        .form(&[
            ("name", name),
            ("password", password),
            ("csrf", field.as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .expect("POST /login");
    if response.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(response.status());
    }
    Ok(set_cookie(&response, "sashiko_session").expect("session cookie"))
}

/// The CSRF token of a session, read from a page's logout form.
pub async fn session_csrf(base: &str, session: &str) -> String {
    let html = client()
        .get(format!("{base}/"))
        .header("Cookie", format!("sashiko_session={session}"))
        .send()
        .await
        .expect("GET /")
        .text()
        .await
        .expect("page");
    hidden_input(&html, "csrf").expect("logout form with the session's CSRF token")
}

/// Backends every test runs on.
pub const BACKENDS: [BackendKind; 2] = [BackendKind::Sqlite, BackendKind::Postgres];
