//! Load figures for the web view: 100,000 bugs in PostgreSQL (plus 5,000
//! series and one reviewed series for the b4 API), the server in this
//! process on 127.0.0.1, and 50 concurrent keep-alive clients hammering
//! one URL at a time for a fixed duration. Prints requests, throughput and
//! latency percentiles (p50, p90, p99, max) per URL. Needs PostgreSQL at
//! SASHIKO_TEST_PG_URL (default postgres://postgres@127.0.0.1:5432); makes
//! its own database and drops it. Run: `cargo bench -p sashiko-web --bench load`
//! (SASHIKO_LOAD_SECS, SASHIKO_LOAD_CLIENTS and SASHIKO_LOAD_POOL change
//! the run; SASHIKO_LOAD_ONLY=TEXT keeps the URLs containing TEXT and
//! SASHIKO_LOAD_CACHE=off|on runs one half).

use std::time::{Duration, Instant};

use sashiko_store::{
    NewFinding, NewPatch, NewReview, NewSeriesVersion, ReviewOutcome, ReviewStatus, Store,
    SyntheticLoad,
};
use sqlx::Connection;

const SUBSYSTEMS: [&str; 40] = [
    "mm",
    "net",
    "drivers/net",
    "fs/ext4",
    "fs/btrfs",
    "fs/xfs",
    "kernel",
    "sched",
    "block",
    "drivers/gpu",
    "drivers/usb",
    "drivers/scsi",
    "drivers/nvme",
    "arch/x86",
    "arch/arm64",
    "sound/soc",
    "security",
    "crypto",
    "drivers/infiniband",
    "drivers/md",
    "fs/nfs",
    "fs/f2fs",
    "io_uring",
    "bpf",
    "drivers/iio",
    "drivers/i2c",
    "drivers/spi",
    "drivers/pci",
    "drivers/tty",
    "drivers/input",
    "drivers/media",
    "drivers/hid",
    "drivers/acpi",
    "drivers/clk",
    "drivers/pinctrl",
    "drivers/regulator",
    "virt",
    "lib",
    "ipc",
    "init",
];

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

async fn fill(store: &Store) -> String {
    store
        .fill_synthetic(&SyntheticLoad {
            bugs: 100_000,
            subsystems: SUBSYSTEMS.iter().map(|name| (*name).to_owned()).collect(),
            series: 5000,
        })
        .await
        .expect("bulk load");
    let diff = "diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -100,3 +100,4 @@\n \ta();\n+\tkfree(obj);\n \treturn obj;\n }\n";
    let version = store
        .upsert_series_version(&NewSeriesVersion {
            series_key: "bench/reviewed".into(),
            title: "[PATCH 0/3] reviewed series".into(),
            author: "Dev <dev@example.org>".into(),
            version: 2,
            total: 3,
            cover_message_id: Some("reviewed-cover@bench".into()),
            patches: (1..=3)
                .map(|index| NewPatch {
                    index,
                    message_id: format!("reviewed-{index}@bench"),
                    subject: format!("[PATCH v2 {index}/3] mm: change {index}"),
                    author: "Dev".into(),
                    commit_message: "mm: change".into(),
                    diff: diff.into(),
                    patch_id: None,
                })
                .collect(),
        })
        .await
        .expect("reviewed series");
    let review = store
        .start_review(&NewReview {
            series_version: version,
            provider: Some("openai".into()),
            model: Some("m".into()),
            prompt_set_hash: "h".into(),
            guides: vec![],
            runs: 1,
        })
        .await
        .expect("start review");
    let findings = (0..6)
        .map(|n| NewFinding {
            patch_index: 1 + n % 3,
            file: "mm/slab.c".into(),
            line_start: 101,
            line_end: 101,
            stage: "resource".into(),
            severity: ["low", "medium", "high"][n as usize % 3].into(),
            problem: format!("problem {n}"),
            severity_explanation: "why".into(),
            preexisting: n % 2 == 0,
            locations: serde_json::json!([]),
            evidence: None,
            model: Some("m".into()),
            prompt_set_hash: "h".into(),
            fingerprint: format!("bench-review-{n}"),
            subsystem: None,
        })
        .collect();
    store
        .finish_review(
            review,
            &ReviewOutcome {
                status: ReviewStatus::Finished,
                findings,
                usage: serde_json::json!({}),
                cost_usd: Some(0.01),
                skipped_stages: vec![],
                error: None,
                wall_ms: 1000,
            },
        )
        .await
        .expect("finish review");
    // The bulk load appended one bug_counts row per bug: fold them as
    // serve does, then what autovacuum does to settled tables (dead rows
    // gone, statistics, the visibility map for index-only scans).
    store
        .compact_bug_counts()
        .await
        .expect("compacting bug_counts");
    store.vacuum_analyze().await.expect("VACUUM (ANALYZE)");
    "reviewed-2@bench".to_string()
}

struct Figures {
    requests: usize,
    errors: usize,
    seconds: f64,
    latencies_us: Vec<u64>,
}

async fn hammer(url: String, clients: usize, duration: Duration) -> Figures {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()
                .expect("client");
            let mut latencies = Vec::new();
            let mut errors = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                match client.get(&url).send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies
                            .push(u64::try_from(sent.elapsed().as_micros()).unwrap_or(u64::MAX));
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut figures = Figures {
        requests: 0,
        errors: 0,
        seconds: 0.0,
        latencies_us: Vec::new(),
    };
    for task in tasks {
        let (latencies, errors) = task.await.expect("client task");
        figures.requests += latencies.len();
        figures.errors += errors;
        figures.latencies_us.extend(latencies);
    }
    figures.seconds = started.elapsed().as_secs_f64();
    figures.latencies_us.sort_unstable();
    figures
}

/// The one-minute load average of the machine (Linux), to show how busy
/// it was during a run.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".to_string())
}

fn percentile(sorted: &[u64], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index.min(sorted.len() - 1)] as f64 / 1000.0
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let server_url = std::env::var("SASHIKO_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
        let name = format!("sashiko_web_load_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&format!("{server_url}/postgres")).await.expect("PostgreSQL for the load figures");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create database");
        // Everything is in memory: random reads cost about what sequential
        // ones do (the setting deploy/README.md recommends).
        sqlx::query(&format!("ALTER DATABASE {name} SET random_page_cost = 1.1")).execute(&mut admin).await.expect("random_page_cost");
        let url = format!("{server_url}/{name}");
        let pool = env_number("SASHIKO_LOAD_POOL", 8) as u32;
        let store = Store::connect_with(&url, &sashiko_store::ConnectOptions { max_connections: pool, ..Default::default() }).await.expect("connect");
        store.migrate().await.expect("migrate");
        let loading = Instant::now();
        let message_id = fill(&store).await;
        let bugs = store.count(sashiko_store::Table::Bugs).await.expect("count");
        println!("loaded {bugs} bugs, 5001 series in {:.1} s", loading.elapsed().as_secs_f64());

        let clients = env_number("SASHIKO_LOAD_CLIENTS", 50) as usize;
        let seconds = env_number("SASHIKO_LOAD_SECS", 10);
        println!("{clients} concurrent clients, {seconds} s per URL, {pool} database connections, server and clients in one process on 127.0.0.1");
        // The bulk load appended one bug_counts row per bug; the server
        // compacts them when it starts (and every 10 s).
        let deep_cursor = store
            .bug_list_page(&sashiko_store::web::BugListFilter {
                subsystem: "mm".to_string(),
                states: sashiko_store::web::NEEDS_ACTION.to_vec(),
                limit: 1001,
                ..Default::default()
            })
            .await
            .expect("cursor")
            .rows
            .last()
            .map(|bug| bug.id)
            .expect("a bug twenty pages deep");
        let only = std::env::var("SASHIKO_LOAD_ONLY").unwrap_or_default();
        let cache = std::env::var("SASHIKO_LOAD_CACHE").unwrap_or_default();
        for (label, cache_ttl_ms) in [("response cache off", 0), ("response cache on (1 s, anonymous GETs)", 1000)] {
            if (cache == "off" && cache_ttl_ms > 0) || (cache == "on" && cache_ttl_ms == 0) {
                continue;
            }
            let config = sashiko_web::WebConfig { cache_ttl_ms, ..sashiko_web::WebConfig::default() };
            let state = sashiko_web::AppState::new(store.clone(), config).expect("state");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let address = listener.local_addr().expect("address");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let server = tokio::spawn(sashiko_web::serve(listener, state, async move {
                let _ = stopped.await;
            }));
            let base = format!("http://{address}");
            let targets = [
                format!("{base}/subsystem/mm"),
                format!("{base}/subsystem/mm?view=all&sort=severity&preexisting=yes"),
                format!("{base}/subsystem/mm?view=needs-action&severity=high&sort=file"),
                format!("{base}/subsystem/mm?view=all&age=30&sort=updated"),
                format!("{base}/subsystem/mm?view=needs-action&sort=newest&after={deep_cursor}"),
                format!("{base}/api/patchset?id={message_id}"),
                format!("{base}/api/bugs?subsystem=mm&state=open&limit=100"),
                format!("{base}/api/bugs?limit=100"),
                format!("{base}/api/subsystems"),
                format!("{base}/"),
            ];
            println!("\n{label}");
            println!("{:<62} {:>8} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6}", "URL", "requests", "errors", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "load1");
            for target in targets.iter().filter(|target| target.contains(only.as_str())) {
                let _ = hammer(target.clone(), clients, Duration::from_secs(1)).await; // warm up
                let figures = hammer(target.clone(), clients, Duration::from_secs(seconds)).await;
                println!(
                    "{:<62} {:>8} {:>8} {:>7.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6}",
                    target.trim_start_matches(&base),
                    figures.requests,
                    figures.errors,
                    figures.requests as f64 / figures.seconds,
                    percentile(&figures.latencies_us, 0.50),
                    percentile(&figures.latencies_us, 0.90),
                    percentile(&figures.latencies_us, 0.99),
                    percentile(&figures.latencies_us, 1.0),
                    load_average(),
                );
            }
            let _ = stop.send(());
            let _ = server.await;
        }
        store.close().await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut admin).await.expect("drop database");
    });
}
