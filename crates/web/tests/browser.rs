//! Browser test with Debian's headless Chromium driven through
//! chromedriver's WebDriver HTTP API (plain reqwest): log in, filter a
//! subsystem, triage a bug and see the decision in its history, and check
//! that patch and finding text full of HTML and script is shown as text
//! (the script never runs). Screenshots of the main pages are saved to
//! tests/artifacts/web/ at the workspace root. Skips with a message when
//! chromium or chromedriver is not installed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use common::seed::{seed, HOSTILE};
use common::{spawn_server_on, TestDb};
use sashiko_web::accounts::{add_user, NewAccount, Role};
use serde_json::{json, Value};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Driver {
    child: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    names.iter().map(PathBuf::from).find(|path| path.exists())
}

impl Driver {
    async fn start(chromium: &Path, chromedriver: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("address")
            .port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        for _ in 0..100 {
            if let Ok(response) = http.get(format!("{base}/status")).send().await {
                if response
                    .json::<Value>()
                    .await
                    .map(|status| status["value"]["ready"] == true)
                    .unwrap_or(false)
                {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().expect("profile directory");
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
        ]
        .iter()
        .map(|flag| flag.to_string())
        .chain([format!("--user-data-dir={}", profile.path().display())])
        .collect::<Vec<_>>();
        let capabilities = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium.display().to_string(), "args": args}}}});
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session JSON");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_string();
        Driver {
            child,
            base,
            session,
            http,
            _profile: profile,
        }
    }

    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, &url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let answer: Value = request
            .send()
            .await
            .unwrap_or_else(|error| panic!("WebDriver {path}: {error}"))
            .json()
            .await
            .expect("WebDriver JSON");
        if answer["value"].get("error").is_some() {
            panic!("WebDriver {path} failed: {answer}");
        }
        answer["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let found = self
            .command(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }

    async fn count(&self, css: &str) -> usize {
        let found = self
            .command(
                reqwest::Method::POST,
                "/elements",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        found.as_array().map_or(0, Vec::len)
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn text_of(&self, css: &str) -> String {
        let element = self.find(css).await;
        self.command(
            reqwest::Method::GET,
            &format!("/element/{element}/text"),
            None,
        )
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    async fn url(&self) -> String {
        self.command(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits (up to 10 s) for the current URL to satisfy `check`: a click
    /// on a submit button returns before the next page has loaded.
    async fn wait_url(&self, check: impl Fn(&str) -> bool) -> String {
        for _ in 0..100 {
            let url = self.url().await;
            if check(&url) && self.ready().await {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the page did not change as expected; now at {}",
            self.url().await
        )
    }

    async fn ready(&self) -> bool {
        let state = self
            .command(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": "return document.readyState", "args": []})),
            )
            .await;
        state == "complete"
    }

    async fn title(&self) -> String {
        self.command(reqwest::Method::GET, "/title", None)
            .await
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    async fn screenshot(&self, name: &str) {
        let data = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap_or(""))
            .expect("PNG in base64");
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/artifacts/web");
        std::fs::create_dir_all(&dir).expect("artifact directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }
}

#[tokio::test]
async fn maintainer_logs_in_filters_and_triages_in_chromium() {
    let (Some(chromium), Some(chromedriver)) = (
        find_program(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]),
        find_program(&["/usr/bin/chromedriver"]),
    ) else {
        eprintln!("SKIPPED: chromium and chromedriver are not installed (apt-get install -y chromium chromium-driver)");
        return;
    };
    let db = TestDb::new(sashiko_store::BackendKind::Sqlite).await;
    let seeded = seed(&db.store).await;
    add_user(
        &db.store,
        &NewAccount {
            name: "mmguy".into(),
            password: "mmguy-password".into(),
            role: Role::Maintainer,
            subsystems: vec!["mm".into()],
            email: None,
        },
    )
    .await
    .expect("account");
    // "localhost" so that the browser accepts the Secure session cookie over HTTP.
    let server = spawn_server_on(&db.store, Default::default(), "localhost").await;
    let base = &server.base;
    let driver = Driver::start(&chromium, &chromedriver).await;

    driver.goto(&format!("{base}/")).await;
    driver.screenshot("subsystems").await;
    assert_eq!(
        driver.count("#subsystems tbody tr").await,
        3,
        "three subsystems with open bugs"
    );

    // Log in.
    driver.goto(&format!("{base}/login")).await;
    driver.screenshot("login").await;
    driver.type_into("#name", "mmguy").await;
    driver.type_into("#password", "mmguy-password").await;
    driver.click("#login-submit").await;
    let home = format!("{base}/");
    driver.wait_url(|url| url == home).await;
    assert!(
        driver
            .text_of("header .who")
            .await
            .contains("mmguy (maintainer)"),
        "logged in"
    );

    // Filter a subsystem: every state, then only high severity.
    driver.goto(&format!("{base}/subsystem/mm")).await;
    assert_eq!(driver.count("tr.bug-row").await, 1);
    driver.click("#f-view option[value=all]").await;
    driver.click("#f-severity option[value=high]").await;
    driver.click("#f-apply").await;
    let url = driver.wait_url(|url| url.contains("severity=high")).await;
    assert!(
        url.contains("view=all") && url.contains("severity=high"),
        "{url}"
    );
    assert_eq!(driver.count("tr.bug-row").await, 0, "no high bug in mm");
    driver.click("#f-severity option[value=medium]").await;
    driver.click("#f-apply").await;
    driver.wait_url(|url| url.contains("severity=medium")).await;
    assert_eq!(driver.count("tr.bug-row[data-severity=medium]").await, 1);
    driver.screenshot("subsystem").await;

    // Triage the bug and see it in the history.
    driver.goto(&format!("{base}/bug/{}", seeded.mm_bug)).await;
    driver.click("#t-action option[value=confirm]").await;
    driver
        .type_into("#t-reason", "reproduced <b>with</b> KASAN")
        .await;
    driver.click("#t-submit").await;
    driver.wait_url(|url| url.ends_with("#history")).await;
    assert_eq!(driver.text_of("#bug-state").await, "confirmed");
    let history = driver.text_of("#history").await;
    assert!(
        history.contains("mmguy")
            && history.contains("open → confirmed")
            && history.contains("reproduced <b>with</b> KASAN"),
        "{history}"
    );
    driver.screenshot("bug").await;
    let stored = db
        .store
        .bug(sashiko_store::BugId(seeded.mm_bug))
        .await
        .expect("read")
        .expect("bug");
    assert_eq!(stored.state.as_str(), "confirmed");

    // Hostile text is shown as text and its script never runs.
    driver
        .goto(&format!("{base}/bug/{}", seeded.hostile_bug))
        .await;
    assert_eq!(
        driver.title().await,
        format!("Bug {} · sashiko", seeded.hostile_bug)
    );
    assert!(
        driver.text_of(".finding .problem").await.contains(HOSTILE),
        "finding text shown literally"
    );
    assert_eq!(
        driver.count("script").await,
        0,
        "no script element in the page"
    );
    driver
        .goto(&format!("{base}/series/{}", seeded.version_id))
        .await;
    assert_eq!(
        driver.count("script, iframe, img").await,
        0,
        "no element from patch text"
    );
    assert!(
        driver
            .text_of("#patches")
            .await
            .contains("<script>alert(\"pwn\")</script>"),
        "subject shown literally"
    );
    assert!(!driver.title().await.contains("owned"));
    driver.screenshot("series").await;
    driver
        .goto(&format!("{base}/review/{}", seeded.review_id))
        .await;
    driver.screenshot("review").await;
    driver.goto(&format!("{base}/search?q=kfree")).await;
    driver.screenshot("search").await;
}
