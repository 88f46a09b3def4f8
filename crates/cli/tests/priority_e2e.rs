//! Critical subsystems first, through the real binary on SQLite and on
//! PostgreSQL (127.0.0.1:5432 or `SASHIKO_TEST_PG_URL`): `sashiko enqueue`
//! ranks series by the `[queue]` configuration (a MAINTAINERS entry name
//! routed through the tree's MAINTAINERS, and a path pattern), an explicit
//! `--priority` wins either way, and `sashiko worker` reviews them in that
//! order.

mod common;
mod queue_home;

use queue_home::{drop_pg_database, init_repo, patch_mail, pg_database, Home};
use sashiko_llm_fake::{FakeLlmServer, FakeScript};

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

async fn critical_series_are_reviewed_first(db: Option<String>) {
    let home = Home::new(db);
    home.append_config(
        "[queue]\ncritical_subsystems = [\"MEMORY MANAGEMENT\"]\ncritical_paths = [\"kernel/rcu/\"]\n",
    );
    let tree = home.path().join("linux");
    std::fs::create_dir_all(&tree).expect("mkdir");
    init_repo(&tree);
    std::fs::write(tree.join("MAINTAINERS"), MAINTAINERS).expect("MAINTAINERS");
    let fake = FakeLlmServer::start(common::otherwise_silent(FakeScript::new())).await;
    let tree_arg = tree.display().to_string();
    for (name, file, extra) in SERIES {
        let mbox = format!("{name}.mbox");
        let mail = patch_mail(
            &format!("[PATCH] {name}"),
            &format!("{name}@example.org"),
            file,
        );
        std::fs::write(home.path().join(&mbox), mail).expect("mbox");
        let mut args = vec!["enqueue", &mbox, "--repo", &tree_arg, "--format", "json"];
        args.extend_from_slice(extra);
        let queued = home.json(&args);
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
    home.run(
        Some(&fake),
        &[
            "worker",
            "--exit-when-idle",
            "--concurrency",
            "1",
            "--poll-ms",
            "50",
        ],
    );
    let jobs = home.json(&["jobs", "--format", "json"]);
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
    critical_series_are_reviewed_first(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn critical_series_first_on_postgres() {
    let name = format!("sashiko_cli_priority_{}", std::process::id());
    let url = pg_database(&name).await;
    critical_series_are_reviewed_first(Some(url)).await;
    drop_pg_database(&name).await;
}
