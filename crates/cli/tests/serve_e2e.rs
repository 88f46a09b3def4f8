//! End to end through the real binary: `sashiko serve` with an ingest loop
//! over an mbox that grows while it runs and one review worker, against the
//! fake OpenAI-compatible server on 127.0.0.1 and a real SQLite file. New
//! complete series become review jobs, their reviews show through b4's
//! `/api/patchset` and the series page, an incomplete series waits for its
//! last patch, and a restart on the same database queues nothing twice.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::{json, Value};

/// One patch mail of series `series` (version `version`, part `index` of
/// `total`), adding a kmalloc to mm/slab.c.
fn patch(series: &str, version: u32, index: u32, total: u32) -> String {
    let tag = if version > 1 {
        format!("PATCH v{version}")
    } else {
        "PATCH".to_string()
    };
    let in_reply_to = format!("{series}-v{version}-0@example.org");
    format!(
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n\
         From: Ada Dev <ada@example.org>\nTo: linux-mm@kvack.org\n\
         Subject: [{tag} {index}/{total}] mm: {series} change {index}\n\
         Message-ID: <{series}-v{version}-{index}@example.org>\n\
         In-Reply-To: <{in_reply_to}>\nReferences: <{in_reply_to}>\n\
         Date: Mon, 1 Sep 2025 10:0{index}:00 +0000\n\n\
         Change {index} of {series} v{version}.\n\nSigned-off-by: Ada Dev <ada@example.org>\n---\n\
         diff --git a/mm/{series}.c b/mm/{series}.c\n--- a/mm/{series}.c\n+++ b/mm/{series}.c\n\
         @@ -10,3 +10,4 @@\n \tint a;\n+\tchar *buf{index} = kmalloc({version}{index}, GFP_KERNEL);\n \tint b;\n \tint c;\n\n"
    )
}

/// The cover letter of a series.
fn cover(series: &str, version: u32, total: u32) -> String {
    let tag = if version > 1 {
        format!("PATCH v{version}")
    } else {
        "PATCH".to_string()
    };
    format!(
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n\
         From: Ada Dev <ada@example.org>\nTo: linux-mm@kvack.org\n\
         Subject: [{tag} 0/{total}] mm: {series}\n\
         Message-ID: <{series}-v{version}-0@example.org>\n\
         Date: Mon, 1 Sep 2025 10:00:00 +0000\n\n\
         The {series} series, version {version}.\n\n"
    )
}

fn append(path: &Path, text: &str) {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("open the mbox");
    file.write_all(text.as_bytes()).expect("append to the mbox");
}

fn script() -> FakeScript {
    FakeScript::new()
        .stage_default(
            "resource",
            FakeAnswer::json(json!({"findings": [{
                "patch_index": 1, "file": "mm/alpha.c", "line_start": 11, "line_end": 11,
                "severity": "medium", "problem": "the buffer is never freed",
                "severity_explanation": "scripted", "preexisting": false
            }]})),
        )
        .stage_default("verify", FakeAnswer::json(json!({"decisions": []})))
        .default_answer(FakeAnswer::json(json!({"findings": []})))
}

struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(dir: &Path, db: &str, mbox: &Path, fake: &FakeLlmServer) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sashiko"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--cache-ttl-ms",
                "0",
                "--ingest",
                &format!("mbox:{}", mbox.display()),
                "--ingest-every",
                "1",
                "--workers",
                "1",
            ])
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", dir)
            .env("XDG_CONFIG_HOME", dir.join("xdg-config"))
            .env("SASHIKO_CONFIG", dir.join("config.toml"))
            .env("SASHIKO_DB", db)
            .env("SASHIKO_LLM_PROVIDER", "openai")
            .env("SASHIKO_LLM_BASE_URL", fake.base_url())
            .env("SASHIKO_LLM_MODEL", "fake-model")
            .env("SASHIKO_LLM_API_KEY", "sk-test")
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sashiko serve starts");
        let base = common::served_address(&mut child);
        Serve { child, base }
    }

    /// SIGINT: the web server finishes, the workers stop after the jobs
    /// in hand and the ingest loop between passes.
    fn stop(mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "serve exited with {status}");
                return;
            }
            assert!(Instant::now() < deadline, "serve did not stop after SIGINT");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

async fn get_json(url: &str) -> Option<Value> {
    let response = reqwest::get(url).await.ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

/// Waits until b4's view of the series containing `message_id` is
/// `Reviewed` and returns it.
async fn reviewed(base: &str, message_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(patchset) = get_json(&format!("{base}/api/patchset?id={message_id}")).await {
            if patchset["status"] == "Reviewed" {
                return patchset;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{message_id} was not reviewed within two minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn jobs(dir: &Path, db: &str) -> Vec<Value> {
    let output = Command::new(env!("CARGO_BIN_EXE_sashiko"))
        .args(["jobs", "--format", "json"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("SASHIKO_CONFIG", dir.join("config.toml"))
        .env("SASHIKO_DB", db)
        .output()
        .expect("sashiko jobs runs");
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice::<Value>(&output.stdout)
        .expect("jobs JSON")
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_ingests_a_growing_mbox_reviews_new_series_and_restarts_without_duplicates() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("config.toml"),
        "[llm.retry]\nmax_retries = 1\ninitial_backoff_ms = 10\nmax_backoff_ms = 20\n",
    )
    .expect("config");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    let mbox = dir.path().join("list.mbox");
    let fake = FakeLlmServer::start(script()).await;
    append(
        &mbox,
        &(cover("alpha", 1, 2) + &patch("alpha", 1, 1, 2) + &patch("alpha", 1, 2, 2)),
    );

    let serve = Serve::start(dir.path(), &db, &mbox, &fake);
    let alpha = reviewed(&serve.base, "alpha-v1-1@example.org").await;
    assert_eq!(
        alpha["patches"].as_array().map(Vec::len),
        Some(2),
        "{alpha}"
    );
    let output: Value = serde_json::from_str(
        alpha["reviews"][0]["output"]
            .as_str()
            .expect("b4's output is a JSON string"),
    )
    .expect("output JSON");
    assert_eq!(
        output["findings"][0]["problem"], "the buffer is never freed",
        "{alpha}"
    );

    // The list grows while serve runs: a second series arrives without its
    // last patch (it must wait), then v2 of the first series.
    append(&mbox, &(cover("beta", 1, 2) + &patch("beta", 1, 1, 2)));
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        get_json(&format!(
            "{}/api/patchset?id=beta-v1-1@example.org",
            serve.base
        ))
        .await
        .is_some_and(|patchset| patchset["reviews"].as_array().is_some_and(Vec::is_empty)),
        "an incomplete series is stored but not reviewed"
    );
    append(
        &mbox,
        &(patch("beta", 1, 2, 2)
            + &cover("alpha", 2, 2)
            + &patch("alpha", 2, 1, 2)
            + &patch("alpha", 2, 2, 2)),
    );
    let beta = reviewed(&serve.base, "beta-v1-2@example.org").await;
    assert_eq!(beta["version"], 1);
    let alpha_v2 = reviewed(&serve.base, "alpha-v2-1@example.org").await;
    assert_eq!(alpha_v2["version"], 2);
    let page = reqwest::get(format!(
        "{}{}",
        serve.base,
        alpha_v2["url"].as_str().unwrap_or("")
    ))
    .await
    .expect("series page")
    .text()
    .await
    .expect("series page text");
    assert!(page.contains("the buffer is never freed"), "{page}");
    serve.stop();

    // The workers' reviews sit on the series rows ingest made: one series
    // per lineage (alpha's two versions under v1's first Message-ID), and
    // b4's URL is the ingested version's page.
    let store = sashiko_store::Store::connect(&db).await.expect("db opens");
    let stored = store
        .web_rows(
            "test: series and their reviewed versions",
            "SELECT s.series_key, v.id, v.version, (SELECT COUNT(*) FROM reviews r \
             WHERE r.series_version_id = v.id) AS reviews FROM series s \
             JOIN series_versions v ON v.series_id = s.id ORDER BY v.id",
            &[],
        )
        .await
        .expect("series query");
    let summary: Vec<(String, i64, i64)> = stored
        .iter()
        .map(|row| {
            (
                row["series_key"].as_str().unwrap_or("").to_string(),
                row["version"].as_i64().unwrap_or(0),
                row["reviews"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("alpha-v1-0@example.org".to_string(), 1, 1),
            ("beta-v1-0@example.org".to_string(), 1, 1),
            ("alpha-v1-0@example.org".to_string(), 2, 1),
        ],
        "{stored:?}"
    );
    assert_eq!(
        alpha_v2["url"],
        format!("/series/{}", stored[2]["id"].as_i64().unwrap_or(0))
    );
    store.close().await;

    let before = jobs(dir.path(), &db);
    assert_eq!(
        before.len(),
        3,
        "one job per complete series version: {before:#?}"
    );
    assert!(
        before.iter().all(|job| job["status"] == "done"),
        "{before:#?}"
    );

    // A restart reads the same mbox again and queues nothing new.
    let serve = Serve::start(dir.path(), &db, &mbox, &fake);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let again = reviewed(&serve.base, "alpha-v2-1@example.org").await;
    assert_eq!(
        again["reviews"], alpha_v2["reviews"],
        "the same review, not a new one"
    );
    serve.stop();
    let after = jobs(dir.path(), &db);
    assert_eq!(after.len(), 3, "the restart queued nothing: {after:#?}");
}
