//! Benchmark: decide every test of ../shared/litmus with 1 and 2 worker
//! threads; print totals, the kernel subset and the ten slowest tests.
//!
//! `cargo bench -p sashiko-lkmm` runs everything; pass a substring to
//! restrict to matching paths, `--jobs=N` for one thread count only and
//! `--tsv` to print one line per test (wall and CPU milliseconds last).
//!
//! The per-test limit is 10 s of wall time, as in the CLI; on a shared
//! machine that is less CPU, so each test's CPU time (the worker thread's
//! run time from /proc/thread-self/schedstat, where available) is reported
//! beside its wall time.

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
    let paths: Vec<PathBuf> = index
        .lines()
        .skip(1)
        .filter_map(|l| l.split('\t').next())
        .filter(|p| p.contains(&filter))
        .map(|p| root.join(p))
        .collect();
    let job_counts: Vec<usize> = match jobs_only {
        Some(j) => vec![j],
        None => vec![1, 2],
    };
    for jobs in job_counts {
        let start = Instant::now();
        let results = run(&paths, jobs);
        let wall = start.elapsed();
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

fn run(paths: &[PathBuf], jobs: usize) -> Vec<Row> {
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
                    deadline: Some(t + Duration::from_secs(10)),
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
