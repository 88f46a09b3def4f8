//! Critical subsystems first, through the real binary on SQLite and on
//! PostgreSQL (127.0.0.1:5432 or `SASHIKO_TEST_PG_URL`): `sashiko enqueue`
//! ranks series by the `[queue]` configuration (a MAINTAINERS entry name
//! routed through the tree's MAINTAINERS, and a path pattern), an explicit
//! `--priority` wins either way, and `sashiko worker` reviews them in that
//! order.

use std::path::Path;
use std::process::Command;

use sashiko_llm::fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::{json, Value};

const MAINTAINERS: &str = "MEMORY MANAGEMENT\nM:\tA <a@example.org>\nF:\tmm/\n\n\
                           READ-COPY UPDATE (RCU)\nF:\tkernel/rcu/\n\n\
                           DRIVERS\nF:\tdrivers/\n";

/// (name, file the patch touches, extra enqueue arguments), in enqueue order.
const SERIES: [(&str, &str, &[&str]); 7] = [
    ("plain-a", "drivers/a.c", &[]),
    ("mm-b", "mm/b.c", &[]),
    ("plain-c", "drivers/c.c", &[]),
    ("rcu-d", "kernel/rcu/d.c", &[]),
    ("forced-e", "drivers/e.c", &["--priority", "50"]),
    ("mm-demoted-f", "mm/f.c", &["--priority", "0"]),
    ("plain-g", "drivers/g.c", &[]),
];

/// Priority desc, then enqueue order.
const EXPECTED_ORDER: [&str; 7] = [
    "forced-e",
    "mm-b",
    "rcu-d",
    "plain-a",
    "plain-c",
    "mm-demoted-f",
    "plain-g",
];

fn patch_mail(name: &str, file: &str) -> String {
    format!(
        "From mboxrd@z Thu Jan  1 00:00:00 1970\n\
         From: Ada Dev <ada@example.org>\n\
         Subject: [PATCH] {name}\n\
         Message-ID: <{name}@example.org>\n\
         Date: Thu, 02 Jan 2025 10:00:00 +0000\n\
         \n\
         Change {name}.\n\
         \n\
         Signed-off-by: Ada Dev <ada@example.org>\n\
         ---\n\
         diff --git a/{file} b/{file}\n\
         index 1111111..2222222 100644\n\
         --- a/{file}\n\
         +++ b/{file}\n\
         @@ -1,3 +1,4 @@\n int a;\n+int b;\n int c;\n int d;\n\n"
    )
}

fn sashiko(home: &Path, db: &str, fake: &FakeLlmServer, args: &[&str]) -> Value {
    let output = Command::new(env!("CARGO_BIN_EXE_sashiko"))
        .args(args)
        .current_dir(home)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("SASHIKO_CONFIG", home.join("config.toml"))
        .env("SASHIKO_DB", db)
        .env("SASHIKO_LLM_PROVIDER", "openai")
        .env("SASHIKO_LLM_BASE_URL", fake.base_url())
        .env("SASHIKO_LLM_MODEL", "fake-model")
        .env("SASHIKO_LLM_API_KEY", "sk-test")
        .output()
        .expect("sashiko runs");
    assert!(
        output.status.success(),
        "sashiko {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
}

async fn critical_series_are_reviewed_first(db: &str) {
    let home = tempfile::tempdir().expect("tempdir");
    let home = home.path();
    std::fs::write(
        home.join("config.toml"),
        "[queue]\ncritical_subsystems = [\"MEMORY MANAGEMENT\"]\ncritical_paths = [\"kernel/rcu/\"]\n",
    )
    .expect("config");
    let tree = home.join("linux");
    std::fs::create_dir_all(&tree).expect("mkdir");
    let init = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&tree)
        .status()
        .expect("git runs");
    assert!(init.success());
    std::fs::write(tree.join("MAINTAINERS"), MAINTAINERS).expect("MAINTAINERS");
    let fake = FakeLlmServer::start(
        FakeScript::new()
            .stage_default("verify", FakeAnswer::json(json!({"decisions": []})))
            .default_answer(FakeAnswer::json(json!({"findings": []}))),
    )
    .await;
    let tree_arg = tree.display().to_string();
    for (name, file, extra) in SERIES {
        let mbox = home.join(format!("{name}.mbox"));
        std::fs::write(&mbox, patch_mail(name, file)).expect("mbox");
        let mbox_arg = mbox.display().to_string();
        let mut args = vec![
            "enqueue", &mbox_arg, "--repo", &tree_arg, "--format", "json",
        ];
        args.extend_from_slice(extra);
        let queued = sashiko(home, db, &fake, &args);
        assert_eq!(queued[0]["result"]["outcome"], "added", "{name}: {queued}");
        let expected = match name {
            "forced-e" => 50,
            "mm-b" | "rcu-d" => 10,
            _ => 0,
        };
        assert_eq!(queued[0]["priority"], expected, "{name}: {queued}");
        if name == "mm-b" {
            let reason = queued[0]["priority_reason"].as_str().unwrap_or("");
            assert!(reason.contains("MEMORY MANAGEMENT"), "{reason}");
        }
    }
    sashiko(
        home,
        db,
        &fake,
        &[
            "worker",
            "--exit-when-idle",
            "--concurrency",
            "1",
            "--poll-ms",
            "50",
        ],
    );
    let jobs = sashiko(home, db, &fake, &["jobs", "--format", "json"]);
    let mut reviewed: Vec<(i64, String)> = jobs
        .as_array()
        .expect("jobs")
        .iter()
        .map(|job| {
            assert_eq!(job["status"], "done", "{job}");
            (
                job["result"]["review_id"].as_i64().expect("review id"),
                job["payload"]["title"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    reviewed.sort();
    let order: Vec<&str> = reviewed.iter().map(|(_, title)| title.as_str()).collect();
    assert_eq!(order, EXPECTED_ORDER, "reviews ran in priority order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn critical_series_first_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite:{}", dir.path().join("sashiko.db").display());
    critical_series_are_reviewed_first(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn critical_series_first_on_postgres() {
    let server = std::env::var("SASHIKO_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    let name = format!("sashiko_cli_priority_{}", std::process::id());
    let url = sashiko_store::create_postgres_database(&server, &name)
        .await
        .unwrap_or_else(|error| {
            panic!("PostgreSQL at {server} is needed ({error}); start it (.ci/run does) or set SASHIKO_TEST_PG_URL")
        });
    critical_series_are_reviewed_first(&url).await;
    sashiko_store::drop_postgres_database(&server, &name)
        .await
        .expect("drop test database");
}
