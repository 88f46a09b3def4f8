//! Browser test with Debian's headless Chromium driven through
//! chromedriver's WebDriver HTTP API (plain reqwest): log in, filter a
//! subsystem, triage a bug and see the decision in its history, check
//! that patch and finding text full of HTML and script is shown as text
//! (the script never runs), read what changed between two versions of a
//! series, and log in by a mailed link (the mail read from the store's
//! outbox). Screenshots of the main pages are saved to
//! tests/artifacts/web/ at the workspace root. Skips with a message when
//! chromium or chromedriver is not installed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use common::seed::{seed, store_thread, ACKED_BY, HOSTILE, REVIEWED_BY};
use common::{spawn_server_with, TestDb};
use sashiko_store::{NewPatch, NewSeriesVersion};
use sashiko_web::accounts::{add_user, NewAccount, Role};
use sashiko_web::{MailLoginConfig, WebConfig};
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
    store_thread(&db.store).await;
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
    add_user(
        &db.store,
        &NewAccount {
            name: "ada".into(),
            password: "ada-password-unused".into(),
            role: Role::Admin,
            subsystems: vec![],
            email: Some("ada@example.org".into()),
        },
    )
    .await
    .expect("account with an address");
    let v2 = second_version(&db.store).await;
    // "localhost" so that the browser accepts the Secure session cookie over HTTP.
    let server = spawn_server_with(&db.store, "localhost", |base| WebConfig {
        mail_login: Some(MailLoginConfig {
            from: "Sashiko <sashiko@example.org>".into(),
            base_url: base.to_string(),
            token_minutes: 15,
            max_mails: 3,
        }),
        ..WebConfig::default()
    })
    .await;
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

    // The facts of the series page (issue 17): real token counts from the
    // stored usage report, the mails' Date, titles with one prefix, and
    // each patch's trailers, its own and those given in replies.
    let reviews = driver.text_of("#reviews tbody tr").await;
    assert!(
        reviews.contains("openai fake-model 10 12000 900 $0.0123"),
        "requests, input and output tokens, cost: {reviews}"
    );
    assert_eq!(driver.text_of("#series-date").await, "2023-11-14 22:13");
    assert_eq!(
        driver.text_of("#patch-1").await,
        "[1/2] mm/slab: free with kfree",
        "one subject prefix"
    );
    let first = driver.text_of("#trailers-1").await;
    for trailer in [
        "Signed-off-by: Dev Eloper <dev@example.org>",
        REVIEWED_BY,
        ACKED_BY,
    ] {
        assert!(first.contains(trailer), "{trailer} on patch 1: {first}");
    }
    let second = driver.text_of("#trailers-2").await;
    assert!(
        second.contains(ACKED_BY) && !second.contains(REVIEWED_BY),
        "the cover's tag applies to patch 2, patch 1's does not: {second}"
    );
    driver.screenshot("series-facts").await;
    driver
        .goto(&format!("{base}/review/{}", seeded.review_id))
        .await;
    let usage = driver.text_of("#usage").await;
    for row in [
        "resource 6 6000 2000 0 500 0 $0.0071",
        "security 4 4000 0 0 400 0 $0.0052",
        "total 10 10000 2000 0 900 0 $0.0123",
    ] {
        assert!(usage.contains(row), "usage table row {row:?} in {usage}");
    }
    driver.screenshot("review").await;
    driver.goto(&format!("{base}/search?q=kfree")).await;
    driver.screenshot("search").await;

    // What changed between the two versions of the series.
    driver.goto(&format!("{base}/series/{v2}")).await;
    assert_eq!(driver.count("#versions tbody tr").await, 2, "two versions");
    let versions = driver.text_of("#versions").await;
    for expected in [
        "changed mm/slab: free with kfree",
        "new mm/slab: say why",
        "dropped net:",
    ] {
        assert!(versions.contains(expected), "{expected:?} in {versions}");
    }
    let interdiff = "kmem_cache_free(cache, obj);";
    assert!(
        !driver.text_of("#interdiff-v2").await.contains(interdiff),
        "the diff of the diffs is folded away at first"
    );
    driver.click("#interdiff-v2 summary").await;
    let unfolded = driver.text_of("#interdiff-v2").await;
    // The reviewer's interdiff of the end states: v1's kfree() line became
    // v2's kmem_cache_free() line (not a diff of the two diffs).
    let line_of = |sign: char, text: &str| {
        unfolded
            .lines()
            .any(|line| line.starts_with(sign) && line.contains(text))
    };
    assert!(
        line_of('-', "kfree(obj);") && line_of('+', interdiff),
        "{unfolded}"
    );
    driver.screenshot("series-versions").await;
    driver.click("#versions a[href]").await;
    let v1 = format!("{base}/series/{}", seeded.version_id);
    driver.wait_url(|url| url == v1).await;

    // Log out, then log in again by a mailed link.
    driver.click("header .who button").await;
    driver.wait_url(|url| url == home).await;
    assert!(driver.text_of("header .who").await.contains("Log in"));
    driver.goto(&format!("{base}/login")).await;
    driver.type_into("#address", "Ada@Example.org").await;
    driver.click("#mail-submit").await;
    driver.wait_url(|url| url.ends_with("/login/mail")).await;
    assert!(
        driver
            .text_of("#mail-sent")
            .await
            .contains("a login link is on its way"),
        "the same answer whether or not the address has an account"
    );
    let mails = db
        .store
        .outbox_claim_due(10)
        .await
        .expect("read the outbox");
    assert_eq!(mails.len(), 1, "one login mail");
    assert_eq!(mails[0].recipients, ["ada@example.org"]);
    let text = String::from_utf8_lossy(&mails[0].body);
    let link = text
        .lines()
        .find(|line| line.starts_with(&format!("{base}/login/token?t=")))
        .unwrap_or_else(|| panic!("no login link in {text}"))
        .to_string();
    driver.goto(&link).await;
    driver.screenshot("mail-login").await;
    driver.click("#token-submit").await;
    driver.wait_url(|url| url == home).await;
    assert!(
        driver.text_of("header .who").await.contains("ada (admin)"),
        "logged in by the mailed link"
    );
    // The link works once.
    driver.goto(&link).await;
    driver.click("#token-submit").await;
    driver.wait_url(|url| url.ends_with("/login/token")).await;
    assert!(driver.text_of("#token-invalid").await.contains("not valid"));
}

/// Stores version 2 of the seeded series: patch 1 changed, patch 2
/// dropped, a new patch 2. Returns its id.
async fn second_version(store: &sashiko_store::Store) -> i64 {
    let diff = "diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -100,4 +100,5 @@ void *cache_alloc(void)\n \tobj = get_obj();\n-\tfree(obj);\n+\tkmem_cache_free(cache, obj);\n+\treturn obj;\n \tspin_unlock(&lock);\n }\n";
    let comment = "diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -1,2 +1,3 @@\n+/* Allocation of slab objects. */\n #include <linux/slab.h>\n";
    let patch = |index: u32, subject: &str, diff: &str| NewPatch {
        index,
        message_id: format!("v2-p{index}.1700000000.git.dev@example.org"),
        subject: format!("[PATCH v2 {index}/2] {subject}"),
        author: "Dev Eloper <dev@example.org>".to_string(),
        commit_message: format!("{subject}\n\nSigned-off-by: Dev Eloper <dev@example.org>"),
        diff: diff.to_string(),
        patch_id: None,
    };
    store
        .upsert_series_version(&NewSeriesVersion {
            series_key: "dev@example.org/slab-fixes".to_string(),
            title: "[PATCH v2 0/2] slab fixes".to_string(),
            author: "Dev Eloper <dev@example.org>".to_string(),
            version: 2,
            total: 2,
            cover_message_id: Some("cover-v2.1700000000.git.dev@example.org".to_string()),
            patches: vec![
                patch(1, "mm/slab: free with kfree", diff),
                patch(2, "mm/slab: say why", comment),
            ],
        })
        .await
        .expect("store version 2")
        .0
}
