//! Benchmark: decide every test of ../shared/litmus with 1 and 2 worker
//! threads; print totals, the kernel subset and the ten slowest tests.
//!
//! `cargo bench -p sashiko-lkmm` runs everything; pass a substring to
//! restrict to matching paths, `--jobs=N` for one thread count only and
//! `--tsv` to print one line per test (wall and CPU milliseconds last).
//!
//! The per-test limit is 10 s of wall time, as in the CLI (`--limit=SECS`
//! to change it); on a shared machine that is less CPU, so each test's CPU
//! time (the worker thread's run time from /proc/thread-self/schedstat,
//! where available) is reported beside its wall time, with the tests that
//! needed more than 10 s of CPU. herd7's own CPU time from EXPECTED.tsv is
//! summed beside ours over the tests herd7 finished, per family (the first
//! two path components) and in total, with the load average before and
//! after the run.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sashiko_lkmm::{check_litmus, LitmusError, Options};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/litmus");
    let Ok(index) = std::fs::read_to_string(root.join("EXPECTED.tsv")) else {
        println!("SKIP: ../shared/litmus not found; nothing to benchmark");
        return;
    };
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let tsv = args.iter().any(|a| a == "--tsv");
    let jobs_only: Option<usize> = args
        .iter()
        .find_map(|a| a.strip_prefix("--jobs=").and_then(|j| j.parse().ok()));
    let filter = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .cloned()
        .unwrap_or_default();
    let limit = args
        .iter()
        .find_map(|a| {
            a.strip_prefix("--limit=")
                .and_then(|j| j.parse::<f64>().ok())
        })
        .map_or(Duration::from_secs(10), Duration::from_secs_f64);
    // Path, herd7's CPU seconds when it finished the test.
    let rows: Vec<(String, Option<f64>)> = index
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let herd = (f.get(9) == Some(&"ok"))
                .then(|| f.get(7).and_then(|t| t.parse().ok()))
                .flatten();
            (f[0].to_string(), herd)
        })
        .filter(|(p, _)| p.contains(&filter))
        .collect();
    let herd_time: std::collections::HashMap<PathBuf, Option<f64>> =
        rows.iter().map(|(p, h)| (root.join(p), *h)).collect();
    let paths: Vec<PathBuf> = rows.iter().map(|(p, _)| root.join(p)).collect();
    let job_counts: Vec<usize> = match jobs_only {
        Some(j) => vec![j],
        None => vec![1, 2],
    };
    for jobs in job_counts {
        let load_before = load_average();
        let start = Instant::now();
        let results = run(&paths, jobs, limit);
        let wall = start.elapsed();
        println!(
            "load average (1, 5, 15 min): {load_before} before, {} after",
            load_average()
        );
        let mut decided = 0;
        let mut not_decided = 0;
        let mut kernel = Duration::ZERO;
        let mut kernel_cpu = Duration::ZERO;
        let mut summed = Duration::ZERO;
        let mut cpu = Duration::ZERO;
        let mut timeouts = 0;
        for (p, r, t, c) in &results {
            summed += *t;
            cpu += *c;
            if p.strip_prefix(&root).is_ok_and(|r| r.starts_with("kernel")) {
                kernel += *t;
                kernel_cpu += *c;
            }
            if matches!(r, Err(LitmusError::Timeout(_))) {
                timeouts += 1;
            }
            match r {
                Ok(_) => decided += 1,
                Err(_) => not_decided += 1,
            }
            if tsv {
                let rel = p.strip_prefix(&root).unwrap_or(p).display();
                match r {
                    Ok(o) => println!(
                        "{rel}\t{}\t{}\t{}\t{}\t{}\t{}",
                        o.verdict,
                        o.positive,
                        o.negative,
                        if o.data_race { "yes" } else { "no" },
                        t.as_millis(),
                        c.as_millis()
                    ),
                    Err(e) => println!(
                        "{rel}\t{}\t0\t0\tno\t{}\t{}\t{e}",
                        kind(e),
                        t.as_millis(),
                        c.as_millis()
                    ),
                }
            }
        }
        println!(
            "jobs={jobs}: {} tests ({decided} decided, {not_decided} not, {timeouts} of them timed out) in {:.2} s wall, {:.2} s summed per-test wall, {:.2} s CPU; kernel tests {:.3} s wall, {:.3} s CPU",
            results.len(),
            wall.as_secs_f64(),
            summed.as_secs_f64(),
            cpu.as_secs_f64(),
            kernel.as_secs_f64(),
            kernel_cpu.as_secs_f64()
        );
        for (label, pick) in [("wall", 2usize), ("CPU", 3usize)] {
            let mut times: Vec<Duration> = results
                .iter()
                .filter(|r| r.1.is_ok())
                .map(|r| if pick == 2 { r.2 } else { r.3 })
                .collect();
            times.sort();
            if times.is_empty() {
                continue;
            }
            let total: Duration = times.iter().sum();
            let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64();
            println!(
                "  decided tests ({label}): {:.2} s summed, median {:.4} s, p99 {:.3} s, max {:.3} s",
                total.as_secs_f64(),
                at(0.5),
                at(0.99),
                at(1.0)
            );
        }
        report_against_herd(&root, &results, &herd_time);
        let mut slowest: Vec<&Row> = results.iter().collect();
        slowest.sort_by_key(|r| std::cmp::Reverse(r.3));
        for (p, r, t, c) in slowest.iter().take(10) {
            let rel = p.strip_prefix(&root).unwrap_or(p).display();
            let what = match r {
                Ok(o) => format!("{} {} {}", o.verdict, o.positive, o.negative),
                Err(e) => kind(e).to_string(),
            };
            println!(
                "  slow: {:8.3} s CPU {:8.3} s wall  {rel}  {what}",
                c.as_secs_f64(),
                t.as_secs_f64()
            );
        }
        let mut decided_cpu: Vec<&Row> = results.iter().filter(|r| r.1.is_ok()).collect();
        decided_cpu.sort_by_key(|r| std::cmp::Reverse(r.3));
        for (p, r, t, c) in decided_cpu.iter().take(5) {
            let rel = p.strip_prefix(&root).unwrap_or(p).display();
            if let Ok(o) = r {
                println!(
                    "  slowest decided: {:8.3} s CPU {:8.3} s wall  {rel}  {} {} {}",
                    c.as_secs_f64(),
                    t.as_secs_f64(),
                    o.verdict,
                    o.positive,
                    o.negative
                );
            }
        }
    }
}

/// Our CPU time beside herd7's, over the tests herd7 finished, per family
/// and in total; tests decided, counted exactly, and over 10 s of CPU.
fn report_against_herd(
    root: &Path,
    results: &[Row],
    herd_time: &std::collections::HashMap<PathBuf, Option<f64>>,
) {
    #[derive(Default)]
    struct Family {
        tests: usize,
        decided: usize,
        exact: usize,
        cpu: f64,
        herd_finished: usize,
        herd_cpu: f64,
        ours_on_herd: f64,
    }
    let mut families: std::collections::BTreeMap<String, Family> = Default::default();
    let mut total = Family::default();
    let mut over_ten = Vec::new();
    for (p, r, _, c) in results {
        let rel = p.strip_prefix(root).unwrap_or(p);
        let key: Vec<String> = rel
            .components()
            .take(2)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let key = if key.len() == 2 && key[1].ends_with(".litmus") {
            key[0].clone()
        } else {
            key.join("/")
        };
        let cpu = c.as_secs_f64();
        let herd = herd_time.get(p).copied().flatten();
        for f in [families.entry(key).or_default(), &mut total] {
            f.tests += 1;
            f.cpu += cpu;
            if let Ok(o) = r {
                f.decided += 1;
                if o.positive.exact().is_some() && o.negative.exact().is_some() {
                    f.exact += 1;
                }
            }
            if let Some(h) = herd {
                f.herd_finished += 1;
                f.herd_cpu += h;
                f.ours_on_herd += cpu;
            }
        }
        if r.is_ok() && cpu > 10.0 {
            over_ten.push(rel.display().to_string());
        }
    }
    println!(
        "  {:<36} {:>6} {:>7} {:>6} {:>9} {:>6} {:>10} {:>10} {:>7}",
        "family", "tests", "decided", "exact", "CPU s", "herd", "herd CPU s", "ours there", "ratio"
    );
    let line = |name: &str, f: &Family| {
        let ratio = if f.ours_on_herd > 0.0 {
            format!("{:.0}x", f.herd_cpu / f.ours_on_herd)
        } else {
            "-".to_string()
        };
        println!(
            "  {:<36} {:>6} {:>7} {:>6} {:>9.2} {:>6} {:>10.1} {:>10.2} {:>7}",
            name,
            f.tests,
            f.decided,
            f.exact,
            f.cpu,
            f.herd_finished,
            f.herd_cpu,
            f.ours_on_herd,
            ratio
        );
    };
    for (name, f) in &families {
        line(name, f);
    }
    line("all", &total);
    println!(
        "  decided tests over 10 s of CPU: {}{}",
        over_ten.len(),
        if over_ten.is_empty() {
            String::new()
        } else {
            format!(" ({})", over_ten.join(", "))
        }
    );
}

/// The machine's load average line (1, 5 and 15 minutes), if readable.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

fn kind(e: &LitmusError) -> &'static str {
    match e {
        LitmusError::Unsupported { .. } => "Unsupported",
        LitmusError::Timeout(_) => "Timeout",
        _ => "Error",
    }
}

/// Path, result, wall time, CPU time.
type Row = (
    PathBuf,
    Result<sashiko_lkmm::Outcome, LitmusError>,
    Duration,
    Duration,
);

/// Run time of the calling thread (zero where schedstat is unavailable).
fn thread_cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(Duration::ZERO, Duration::from_nanos)
}

fn run(paths: &[PathBuf], jobs: usize, limit: Duration) -> Vec<Row> {
    let next = AtomicUsize::new(0);
    let out = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= paths.len() {
                    break;
                }
                let src = std::fs::read_to_string(&paths[i]).unwrap_or_default();
                let c = thread_cpu();
                let t = Instant::now();
                let options = Options {
                    deadline: Some(t + limit),
                    ..Options::default()
                };
                let r = check_litmus(&src, &options);
                let (wall, cpu) = (t.elapsed(), thread_cpu().saturating_sub(c));
                out.lock().expect("results lock").push((i, r, wall, cpu));
            });
        }
    });
    let mut rows = out.into_inner().expect("results lock");
    rows.sort_by_key(|r| r.0);
    rows.into_iter()
        .map(|(i, r, t, c)| (paths[i].clone(), r, t, c))
        .collect()
}
