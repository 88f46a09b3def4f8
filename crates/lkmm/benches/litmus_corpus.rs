//! Benchmark: decide every test of ../shared/litmus with 1 and 2 worker
//! threads; print totals, the kernel subset and the ten slowest tests.
//!
//! `cargo bench -p sashiko-lkmm` runs everything; pass a substring to
//! restrict to matching paths, and `--tsv` to print one line per test.

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
        let mut cpu = Duration::ZERO;
        for (p, r, t) in &results {
            cpu += *t;
            if p.strip_prefix(&root).is_ok_and(|r| r.starts_with("kernel")) {
                kernel += *t;
            }
            match r {
                Ok(_) => decided += 1,
                Err(_) => not_decided += 1,
            }
            if tsv {
                let rel = p.strip_prefix(&root).unwrap_or(p).display();
                match r {
                    Ok(o) => println!(
                        "{rel}\t{}\t{}\t{}\t{}\t{}",
                        o.verdict,
                        o.positive,
                        o.negative,
                        if o.data_race { "yes" } else { "no" },
                        t.as_millis()
                    ),
                    Err(e) => println!("{rel}\t{}\t0\t0\tno\t{}\t{e}", kind(e), t.as_millis()),
                }
            }
        }
        println!(
            "jobs={jobs}: {} tests ({decided} decided, {not_decided} not) in {:.2} s wall, {:.2} s summed per-test time; kernel tests {:.3} s",
            results.len(),
            wall.as_secs_f64(),
            cpu.as_secs_f64(),
            kernel.as_secs_f64()
        );
        let mut decided_times: Vec<Duration> = results
            .iter()
            .filter(|r| r.1.is_ok())
            .map(|r| r.2)
            .collect();
        decided_times.sort();
        if !decided_times.is_empty() {
            let total: Duration = decided_times.iter().sum();
            let at = |q: f64| {
                decided_times[((decided_times.len() - 1) as f64 * q) as usize].as_secs_f64()
            };
            println!(
                "  decided tests: {:.2} s summed, median {:.4} s, p99 {:.3} s, max {:.3} s",
                total.as_secs_f64(),
                at(0.5),
                at(0.99),
                at(1.0)
            );
        }
        let mut slowest: Vec<&(
            PathBuf,
            Result<sashiko_lkmm::Outcome, LitmusError>,
            Duration,
        )> = results.iter().collect();
        slowest.sort_by_key(|r| std::cmp::Reverse(r.2));
        for (p, r, t) in slowest.iter().take(10) {
            let rel = p.strip_prefix(&root).unwrap_or(p).display();
            let what = match r {
                Ok(o) => format!("{} {} {}", o.verdict, o.positive, o.negative),
                Err(e) => kind(e).to_string(),
            };
            println!("  slow: {:8.3} s  {rel}  {what}", t.as_secs_f64());
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

type Row = (
    PathBuf,
    Result<sashiko_lkmm::Outcome, LitmusError>,
    Duration,
);

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
                let t = Instant::now();
                let options = Options {
                    deadline: Some(t + Duration::from_secs(10)),
                    ..Options::default()
                };
                let r = check_litmus(&src, &options);
                out.lock().expect("results lock").push((i, r, t.elapsed()));
            });
        }
    });
    let mut rows = out.into_inner().expect("results lock");
    rows.sort_by_key(|r| r.0);
    rows.into_iter()
        .map(|(i, r, t)| (paths[i].clone(), r, t))
        .collect()
}
