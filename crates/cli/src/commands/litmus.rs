//! `sashiko litmus`: decide C litmus tests under the Linux-kernel memory
//! model (crate `sashiko-lkmm`) and print herd7-style or TSV results.
//!
//! Only file walking, threading and printing live here; the checker itself
//! is pure. It must never hide a test that failed: every input gets a line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sashiko_lkmm::{check_litmus, LitmusError, Options, Outcome};

/// Output format of `sashiko litmus`.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LitmusFormat {
    /// herd7-style report per test.
    Text,
    /// `path verdict positive negative data_race milliseconds`, tab separated.
    Tsv,
}

#[derive(clap::Args, Debug)]
pub struct LitmusArgs {
    /// Litmus files, or directories searched recursively for `*.litmus`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: LitmusFormat,
    /// Tests decided in parallel.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Per-test time limit in seconds.
    #[arg(long, default_value_t = 10.0)]
    pub timeout: f64,
}

struct TestResult {
    path: PathBuf,
    result: Result<Outcome, String>,
    /// Verdict column for failures: Unsupported or Error.
    failure_kind: &'static str,
    elapsed: Duration,
}

pub async fn run(args: LitmusArgs) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    for p in &args.paths {
        collect(p, &mut files)
            .with_context(|| format!("cannot list litmus tests under {}", p.display()))?;
    }
    let timeout = Duration::from_secs_f64(args.timeout.max(0.001));
    let jobs = args.jobs.max(1);
    let results = tokio::task::spawn_blocking(move || decide_all(&files, jobs, timeout))
        .await
        .context("litmus worker threads panicked")?;
    let mut errors = 0;
    for r in &results {
        match (&r.result, args.format) {
            (Ok(o), LitmusFormat::Text) => print!("{}", o.render_herd()),
            (Ok(o), LitmusFormat::Tsv) => println!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                r.path.display(),
                o.verdict,
                o.positive,
                o.negative,
                if o.data_race { "yes" } else { "no" },
                r.elapsed.as_millis()
            ),
            (Err(e), LitmusFormat::Text) => {
                println!("{}: {}: {e}", r.path.display(), r.failure_kind)
            }
            (Err(e), LitmusFormat::Tsv) => {
                println!(
                    "{}\t{}\t0\t0\tno\t{}",
                    r.path.display(),
                    r.failure_kind,
                    r.elapsed.as_millis()
                );
                eprintln!("sashiko litmus: {}: {e}", r.path.display());
            }
        }
        if r.failure_kind == "Error" && r.result.is_err() {
            errors += 1;
        }
        if args.format == LitmusFormat::Text {
            println!();
        }
    }
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for e in entries {
            if e.is_dir() || e.extension().is_some_and(|x| x == "litmus") {
                collect(&e, out)?;
            }
        }
    } else {
        // Named files are taken as given (and reported if unreadable).
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn decide_all(files: &[PathBuf], jobs: usize, timeout: Duration) -> Vec<TestResult> {
    let next = AtomicUsize::new(0);
    let results = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= files.len() {
                    break;
                }
                let r = decide_one(&files[i], timeout);
                if let Ok(mut guard) = results.lock() {
                    guard.push((i, r));
                }
            });
        }
    });
    let mut rows = results.into_inner().unwrap_or_default();
    rows.sort_by_key(|(i, _)| *i);
    rows.into_iter().map(|(_, r)| r).collect()
}

fn decide_one(path: &Path, timeout: Duration) -> TestResult {
    let start = Instant::now();
    let (result, failure_kind) = match std::fs::read_to_string(path) {
        Err(e) => (Err(format!("cannot read {}: {e}", path.display())), "Error"),
        Ok(src) => {
            let options = Options {
                deadline: Some(start + timeout),
                ..Options::default()
            };
            match check_litmus(&src, &options) {
                Ok(o) => (Ok(o), ""),
                Err(e @ (LitmusError::Unsupported { .. } | LitmusError::Timeout(_))) => {
                    (Err(e.to_string()), "Unsupported")
                }
                Err(e) => (Err(e.to_string()), "Error"),
            }
        }
    };
    TestResult {
        path: path.to_path_buf(),
        result,
        failure_kind,
        elapsed: start.elapsed(),
    }
}
