//! End to end through the real binary, on a real SQLite file, against the
//! fake OpenAI-compatible server on 127.0.0.1:
//!
//! - `sashiko ingest` stores an mboxrd archive holding two versions of a
//!   series, `sashiko enqueue` and `sashiko worker` review it, and the
//!   review, its findings and its bug sit on the series row ingest made,
//!   as the web's series page shows it; a local `sashiko review` of the
//!   same archive adds no series or bug.
//! - A worker configured with `[review] tree` applies a mailed series on
//!   its `base-commit:` (else the configured branch head) in a real git
//!   repository and gives the stages the same context, pinned tools and
//!   lock hierarchy as a local review, without writing to the tree.

mod common;
mod queue_home;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use queue_home::{commit, git, init_repo, Home};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_store::Store;
use serde_json::{json, Value};

/// One mboxrd message of the `alpha` series: the cover letter (`index`
/// 0) or patch `index` of 2 of version `version`.
fn alpha_mail(version: u32, index: u32) -> String {
    let tag = match version {
        1 => "PATCH".to_string(),
        n => format!("PATCH v{n}"),
    };
    let id = format!("alpha-v{version}-{index}@example.org");
    let cover = format!("alpha-v{version}-0@example.org");
    let (subject, threading, body) = if index == 0 {
        (
            format!("[{tag} 0/2] mm: alpha buffers"),
            String::new(),
            // An mboxrd-escaped line of the body.
            format!("The alpha series, version {version}.\n\n>From now on buffers are kept.\n"),
        )
    } else {
        (
            format!("[{tag} {index}/2] mm: alpha buffer {index}"),
            format!("In-Reply-To: <{cover}>\nReferences: <{cover}>\n"),
            format!(
                "Keep buffer {index}.\n\nSigned-off-by: Ada Dev <ada@example.org>\n---\n\
                 diff --git a/mm/alpha.c b/mm/alpha.c\n--- a/mm/alpha.c\n+++ b/mm/alpha.c\n\
                 @@ -10,3 +10,4 @@\n \tint a;\n+\tchar *buf{index} = kmalloc({version}{index}, GFP_KERNEL);\n \tint b;\n \tint c;\n"
            ),
        )
    };
    format!(
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n\
         From: Ada Dev <ada@example.org>\nTo: linux-mm@kvack.org\n\
         Subject: {subject}\nMessage-ID: <{id}>\n{threading}\
         Date: Mon, 1 Sep 2025 1{version}:0{index}:00 +0000\n\n{body}\n"
    )
}

fn leak_script() -> FakeScript {
    FakeScript::new()
        .stage_default(
            "resource",
            FakeAnswer::json(json!({"findings": [{
                "patch_index": 1, "file": "mm/alpha.c", "line_start": 11, "line_end": 11,
                "severity": "medium", "problem": "buf1 is never freed on the error path",
                "severity_explanation": "scripted", "preexisting": true
            }]})),
        )
        .stage_default("verify", FakeAnswer::json(json!({"decisions": []})))
        .default_answer(FakeAnswer::json(json!({"findings": []})))
}

async fn rows(store: &Store, sql: &str) -> Vec<serde_json::Map<String, Value>> {
    store.web_rows("test query", sql, &[]).await.expect(sql)
}

/// `sashiko serve` (web only) on an ephemeral port; its base URL.
fn serve_web(home: &Home) -> (std::process::Child, String) {
    let mut child = home
        .command(
            None,
            &["serve", "--listen", "127.0.0.1:0", "--cache-ttl-ms", "0"],
        )
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("sashiko serve starts");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr is piped")).lines();
    let base = loop {
        let line = lines
            .next()
            .and_then(Result::ok)
            .expect("serve prints its address before anything fails");
        if let Some(rest) = line.strip_prefix("sashiko: serving ") {
            break rest.trim_end_matches('/').to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_review_of_an_ingested_series_lands_on_the_ingested_row() {
    let home = Home::new(None);
    let mbox = home.path().join("linux-mm.mbox");
    let archive: String = (1..=2)
        .flat_map(|version| (0..=2).map(move |index| alpha_mail(version, index)))
        .collect();
    std::fs::write(&mbox, archive).expect("write the archive");
    let mbox_arg = mbox.display().to_string();
    let fake = FakeLlmServer::start(leak_script()).await;

    home.run(None, &["ingest", &format!("mboxrd:{mbox_arg}")]);
    let store = Store::connect(&home.db).await.expect("db opens");
    let series = rows(&store, "SELECT id, series_key FROM series").await;
    assert_eq!(series.len(), 1, "{series:?}");
    assert_eq!(series[0]["series_key"], "alpha-v1-0@example.org");
    let v2 = rows(
        &store,
        "SELECT v.id FROM series_versions v JOIN series s ON s.id = v.series_id \
         WHERE s.series_key = 'alpha-v1-0@example.org' AND v.version = 2",
    )
    .await;
    let v2_id = v2[0]["id"].as_i64().expect("the ingested v2 row");

    // v2 arrives alone (its own mbox, no v1 to link it to): the queued job
    // still names the ingested row.
    let v2_mbox = home.path().join("v2.mbox");
    let v2_mails: String = (0..=2).map(|index| alpha_mail(2, index)).collect();
    std::fs::write(&v2_mbox, v2_mails).expect("write v2");
    let queued = home.json(&[
        "enqueue",
        &v2_mbox.display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(queued.as_array().map(Vec::len), Some(1), "{queued}");
    home.run(
        Some(&fake),
        &["worker", "--exit-when-idle", "--poll-ms", "50"],
    );
    let jobs = home.json(&["jobs", "--format", "json"]);
    let done: Vec<&Value> = jobs
        .as_array()
        .expect("jobs")
        .iter()
        .filter(|job| job["status"] == "done")
        .collect();
    assert_eq!(done.len(), 1, "{jobs:#}");
    assert_eq!(done[0]["payload"]["series_key"], "alpha-v1-0@example.org");
    // No tree is configured: the job says the review had no tree context.
    assert_eq!(done[0]["result"]["tree"]["context"], false, "{jobs:#}");
    assert!(
        done[0]["result"]["tree"]["summary"]
            .as_str()
            .is_some_and(|s| s.starts_with("no tree context: no [review] tree")),
        "{jobs:#}"
    );

    let series = rows(&store, "SELECT id FROM series").await;
    assert_eq!(
        series.len(),
        1,
        "the worker made no second series: {series:?}"
    );
    let reviews = rows(
        &store,
        &format!("SELECT id, status FROM reviews WHERE series_version_id = {v2_id}"),
    )
    .await;
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(reviews[0]["status"], "finished");
    let review_id = reviews[0]["id"].as_i64().expect("review id");
    let findings = rows(
        &store,
        &format!("SELECT problem, bug_id FROM findings WHERE review_id = {review_id}"),
    )
    .await;
    assert_eq!(findings.len(), 1, "{findings:?}");
    let bugs = rows(&store, "SELECT id, first_series_version_id FROM bugs").await;
    assert_eq!(bugs.len(), 1, "{bugs:?}");
    assert_eq!(bugs[0]["first_series_version_id"].as_i64(), Some(v2_id));
    assert_eq!(findings[0]["bug_id"], bugs[0]["id"]);

    // The web's series page of the ingested row shows the review, and b4's
    // API points at that row.
    let (mut web, base) = serve_web(&home);
    let page = reqwest::get(format!("{base}/series/{v2_id}"))
        .await
        .expect("series page")
        .text()
        .await
        .expect("page text");
    let patchset: Value = reqwest::get(format!("{base}/api/patchset?id=alpha-v2-1@example.org"))
        .await
        .expect("b4 API")
        .json()
        .await
        .expect("b4 JSON");
    web.kill().expect("stop serve");
    let _ = web.wait();
    assert!(
        page.contains("buf1 is never freed on the error path"),
        "{page}"
    );
    assert_eq!(patchset["url"], format!("/series/{v2_id}"), "{patchset}");

    // Reviewing the same archive locally stores onto the same rows: no new
    // series or version, no second bug.
    let output = home.run(
        Some(&fake),
        &[
            "review",
            &mbox_arg,
            "--format",
            "json",
            "--fail-on",
            "critical",
        ],
    );
    assert!(output.status.success());
    let counts = rows(
        &store,
        "SELECT (SELECT COUNT(*) FROM series) AS series, \
         (SELECT COUNT(*) FROM series_versions) AS versions, \
         (SELECT COUNT(*) FROM bugs) AS bugs, (SELECT COUNT(*) FROM reviews) AS reviews",
    )
    .await;
    assert_eq!(
        (
            counts[0]["series"].as_i64(),
            counts[0]["versions"].as_i64(),
            counts[0]["bugs"].as_i64(),
            counts[0]["reviews"].as_i64()
        ),
        (Some(1), Some(2), Some(1), Some(3)),
        "{counts:?}"
    );
    store.close().await;
}

const HEADER: &str = "#define WIDGET_MAX 8\n\nstruct widget {\n\tint items[WIDGET_MAX];\n};\n\nint widget_count(struct widget *w);\n";
const HELPER: &str = "#include <linux/widget.h>\n\nint widget_count(struct widget *w)\n{\n\treturn w->items[0];\n}\n\nvoid widget_reset(struct widget *w)\n{\n\tw->items[WIDGET_MAX] = 0;\n}\n";
const DRIVER_BEFORE: &str = "#include <linux/widget.h>\n\nstatic int widget_probe(struct widget *w)\n{\n\treturn 0;\n}\n\nint widget_init(struct widget *w)\n{\n\treturn widget_probe(w);\n}\n";
const DRIVER_AFTER: &str = "#include <linux/widget.h>\n\nstatic int widget_probe(struct widget *w)\n{\n\tint n = widget_count(w);\n\n\treturn n > WIDGET_MAX ? -EINVAL : 0;\n}\n\nint widget_init(struct widget *w)\n{\n\treturn widget_probe(w);\n}\n";
const RMAP: &str = "/*\n * Lock ordering in mm:\n *\n * inode->i_rwsem\n *   mm->mmap_lock\n *     folio_lock\n */\nint rmap_placeholder;\n";

fn stdout_of(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The text of every tool result the fake received for `stage`.
fn tool_results(fake: &FakeLlmServer, stage: &str) -> Vec<String> {
    let mut results: Vec<String> = Vec::new();
    for request in fake.requests_for(stage) {
        for message in request.body["messages"].as_array().into_iter().flatten() {
            if message["role"] == "tool" {
                let content = message["content"].as_str().unwrap_or("").to_owned();
                if !results.contains(&content) {
                    results.push(content);
                }
            }
        }
    }
    results
}

/// A kernel-like tree in `home`: a base commit, the patch as
/// format-patch mails it (with its `base-commit:`), then the branch moved
/// on without it.
struct WidgetTree {
    path: std::path::PathBuf,
    base: String,
    head: String,
    patch_mail: String,
}

fn widget_tree(home: &Home) -> WidgetTree {
    let tree = home.path().join("linux");
    std::fs::create_dir_all(&tree).expect("mkdir");
    init_repo(&tree);
    for (path, text) in [
        ("include/linux/widget.h", HEADER),
        ("lib/helper.c", HELPER),
        ("drivers/widget.c", DRIVER_BEFORE),
        ("mm/rmap.c", RMAP),
    ] {
        let path = tree.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    git(&tree, &["add", "."]);
    git(
        &tree,
        &[
            "commit",
            "-q",
            "-m",
            "widget: base\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    let base = stdout_of(&tree, &["rev-parse", "HEAD"]);
    commit(
        &tree,
        "drivers/widget.c",
        DRIVER_AFTER,
        "widget: count items in probe",
    );
    let patch_mail = stdout_of(
        &tree,
        &[
            "format-patch",
            "-1",
            "--stdout",
            "--base=HEAD~1",
            "--add-header=Message-ID: <widget-1@example.org>",
        ],
    ) + "\n";
    assert!(patch_mail.contains(&format!("base-commit: {base}")));
    git(&tree, &["reset", "-q", "--hard", &base]);
    commit(&tree, "lib/later.c", "int later;\n", "lib: later");
    let head = stdout_of(&tree, &["rev-parse", "HEAD"]);
    home.append_config(&format!(
        "\n[review]\ntree = {:?}\nbase = \"main\"\n",
        tree.display().to_string()
    ));
    WidgetTree {
        path: tree,
        base,
        head,
        patch_mail,
    }
}

/// The first request's shared prefix carries the post-patch context.
fn assert_post_patch_context(fake: &FakeLlmServer) {
    let requests = fake.requests();
    let prefix = requests[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    for needle in [
        "context: enclosing function widget_probe() after the patch in drivers/widget.c",
        "context: definition of macro WIDGET_MAX in include/linux/widget.h",
        "context: definition of widget_count() in lib/helper.c",
    ] {
        assert!(prefix.contains(needle), "{needle} missing from\n{prefix}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_worker_with_a_tree_applies_mail_on_its_base_and_gives_local_context() {
    let home = Home::new(None);
    let WidgetTree {
        path: tree,
        base,
        head,
        patch_mail,
    } = widget_tree(&home);
    let loose_before = stdout_of(&tree, &["count-objects"]);
    let mbox = home.path().join("widget.mbox");
    std::fs::write(&mbox, patch_mail).expect("write the mbox");
    let script = common::otherwise_silent(
        FakeScript::new()
            .push(
                "locking",
                FakeAnswer::tool_call("read_file", json!({"path": "lib/helper.c"})),
            )
            .push(
                "locking",
                FakeAnswer::tool_call("git_show", json!({"rev": head})),
            )
            .push(
                "locking",
                FakeAnswer::json(json!({"findings": [{
                    "patch_index": 1, "file": "lib/helper.c", "line_start": 10, "line_end": 10,
                    "severity": "high", "problem": "widget_reset writes one past the end of items",
                    "severity_explanation": "scripted", "preexisting": true
                }]})),
            ),
    );
    let fake = FakeLlmServer::start(script).await;
    let mbox_arg = mbox.display().to_string();
    home.json(&["enqueue", &mbox_arg, "--format", "json"]);
    home.run(
        Some(&fake),
        &["worker", "--exit-when-idle", "--poll-ms", "50"],
    );
    let jobs = home.json(&["jobs", "--format", "json"]);
    let result = &jobs[0]["result"];
    assert_eq!(jobs[0]["status"], "done", "{jobs:#}");
    assert_eq!(result["tree"]["context"], true, "{result:#}");
    assert_eq!(
        result["tree"]["baseline"],
        base.as_str(),
        "the base-commit, not main"
    );
    assert_eq!(result["tree"]["tools"], true, "{result:#}");
    assert_eq!(result["tree"]["lock_hierarchy"], true, "{result:#}");
    assert!(
        result["tree"]["notes"]
            .to_string()
            .contains("the series' base-commit"),
        "{result:#}"
    );

    // Context from the post-patch tree, shared by every stage.
    assert_post_patch_context(&fake);
    // Tools read the baseline and refuse the later branch head.
    let results = tool_results(&fake, "locking");
    assert_eq!(results.len(), 2, "{results:#?}");
    assert!(
        results[0].contains("   10 \tw->items[WIDGET_MAX] = 0;"),
        "{}",
        results[0]
    );
    assert!(
        results[1].contains("not the review's baseline or one of its ancestors"),
        "{}",
        results[1]
    );
    let store = Store::connect(&home.db).await.expect("db opens");
    let findings = rows(&store, "SELECT problem FROM findings").await;
    assert_eq!(
        findings.len(),
        1,
        "the grounded finding is kept: {findings:?}"
    );
    store.close().await;

    // The tree was only read.
    assert_eq!(stdout_of(&tree, &["rev-parse", "HEAD"]), head);
    assert_eq!(stdout_of(&tree, &["status", "--porcelain"]), "");
    assert_eq!(stdout_of(&tree, &["count-objects"]), loose_before);

    // Without a base-commit the configured branch head is the base.
    let without_base = std::fs::read_to_string(&mbox)
        .expect("mbox")
        .replace(&format!("base-commit: {base}\n"), "")
        .replace("<widget-1@example.org>", "<widget-again@example.org>");
    let mbox2 = home.path().join("widget-again.mbox");
    std::fs::write(&mbox2, without_base).expect("write");
    home.json(&["enqueue", &mbox2.display().to_string(), "--format", "json"]);
    fake.set_script(common::otherwise_silent(FakeScript::new()));
    home.run(
        Some(&fake),
        &["worker", "--exit-when-idle", "--poll-ms", "50"],
    );
    let jobs = home.json(&["jobs", "--format", "json"]);
    let newest = &jobs[0];
    assert_eq!(newest["status"], "done", "{jobs:#}");
    assert_eq!(
        newest["result"]["tree"]["baseline"],
        head.as_str(),
        "{newest:#}"
    );
    assert!(
        newest["result"]["tree"]["notes"]
            .to_string()
            .contains("head of main; the series names no base-commit"),
        "{newest:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_bot_reviews_ingested_mail_on_the_ingested_rows_with_tree_context() {
    let home = Home::new(None);
    let tree = widget_tree(&home);
    // The list's archive: v1 (which the tree never had) and v2, the mail
    // format-patch made, both carrying the list's List-Id.
    let list_id = "List-Id: <linux-widget.example.org>\n";
    let v2 = tree
        .patch_mail
        .replacen(
            "Subject: [PATCH]",
            &format!("{list_id}Subject: [PATCH v2]"),
            1,
        )
        .replace("<widget-1@example.org>", "<widget-2@example.org>");
    let v1 = format!(
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n\
         From: Ada Dev <ada@example.org>\n{list_id}\
         Subject: [PATCH] widget: count items in probe\nMessage-ID: <widget-1@example.org>\n\
         Date: Thu, 2 Jan 2025 09:00:00 +0000\n\nCount them.\n\n\
         Signed-off-by: Ada Dev <ada@example.org>\n---\n\
         diff --git a/drivers/widget.c b/drivers/widget.c\n--- a/drivers/widget.c\n+++ b/drivers/widget.c\n\
         @@ -3,4 +3,4 @@\n static int widget_probe(struct widget *w)\n {{\n-\treturn 0;\n+\treturn widget_count(w);\n }}\n\n"
    );
    let mbox = home.path().join("linux-widget.mbox");
    std::fs::write(&mbox, v1 + &v2).expect("write the archive");
    let mbox_arg = mbox.display().to_string();
    home.run(None, &["ingest", &format!("mbox:{mbox_arg}")]);

    std::fs::write(
        home.path().join("policy.toml"),
        "[bot]\naddress = \"Sashiko <sashiko@bot.example>\"\n\n\
         [lists.\"linux-widget.example.org\"]\nenabled = true\ndry_run = true\n",
    )
    .expect("policy");
    std::fs::write(
        home.path().join("bot.toml"),
        format!(
            "policy = \"policy.toml\"\nincomplete_wait_minutes = 0\ndry_run_dir = \"dry-run\"\n\
             [[sources]]\nspec = \"mbox:{mbox_arg}\"\n"
        ),
    )
    .expect("bot config");
    let fake = FakeLlmServer::start(common::otherwise_silent(FakeScript::new())).await;
    let poll = |fake: &FakeLlmServer| -> Value {
        let output = home.run(
            Some(fake),
            &["bot", "--config", "bot.toml", "--once", "--json"],
        );
        let text = String::from_utf8_lossy(&output.stdout).to_string();
        serde_json::from_str(text.lines().last().unwrap_or("{}"))
            .unwrap_or_else(|error| panic!("bot report ({error}): {text}"))
    };
    let first = poll(&fake);
    assert_eq!(
        (first["reviewed"].as_i64(), first["superseded"].as_i64()),
        (Some(1), Some(1)),
        "v2 reviewed, v1 superseded: {first}"
    );
    assert_post_patch_context(&fake);
    let again = poll(&fake);
    assert_eq!(
        (
            again["reviewed"].as_i64(),
            again["already_reviewed"].as_i64()
        ),
        (Some(0), Some(1)),
        "{again}"
    );

    let store = Store::connect(&home.db).await.expect("db opens");
    let stored = rows(
        &store,
        "SELECT s.series_key, v.version, (SELECT COUNT(*) FROM reviews r \
         WHERE r.series_version_id = v.id) AS reviews FROM series s \
         JOIN series_versions v ON v.series_id = s.id ORDER BY v.version",
    )
    .await;
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
            ("widget-1@example.org".to_string(), 1, 0),
            ("widget-1@example.org".to_string(), 2, 1),
        ],
        "one series, as ingest stored it, reviewed once: {stored:?}"
    );
    store.close().await;
    assert_eq!(stdout_of(&tree.path, &["rev-parse", "HEAD"]), tree.head);
}
