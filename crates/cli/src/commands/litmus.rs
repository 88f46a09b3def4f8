//! `sashiko litmus`: decide C litmus tests under the Linux-kernel memory
//! model (crate `sashiko-lkmm`) and print herd7-style or TSV results.
//!
//! Only file walking, threading and printing live here; the checker itself
//! is pure. It must never hide a test that failed: every input gets a line.

use crate::term::out;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use sashiko_lkmm::{check_litmus, Diagnostic, LitmusError, Options, Outcome};

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
    /// Output: text (herd7-like), or json.
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
    /// Every syntax problem of a test that does not parse.
    diagnostics: Vec<Diagnostic>,
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
    let results = tokio::task::spawn_blocking(move || {
        let bar = crate::progress::Bar::new("litmus", files.len() as u64);
        let results = decide_all(&files, jobs, timeout, &bar);
        bar.finish(&format!("litmus: {} test(s) decided", results.len()));
        results
    })
    .await
    .context("litmus worker threads panicked")?;
    let mut errors = 0;
    for r in &results {
        let (out, err) = render(r, args.format);
        out!("{out}");
        crate::term::write_stderr(&sashiko_safetext::visible_controls(&err));
        if r.failure_kind == "Error" && r.result.is_err() {
            errors += 1;
        }
    }
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// What one test prints: (standard output, standard error). A test that
/// does not parse lists every problem as `path:line:column: message`.
fn render(r: &TestResult, format: LitmusFormat) -> (String, String) {
    use std::fmt::Write as _;
    let (mut out, mut err) = (String::new(), String::new());
    let path = r.path.display();
    match (&r.result, format) {
        (Ok(o), LitmusFormat::Text) => out.push_str(&o.render_herd()),
        (Ok(o), LitmusFormat::Tsv) => {
            let _ = writeln!(
                out,
                "{path}\t{}\t{}\t{}\t{}\t{}",
                o.verdict,
                o.positive,
                o.negative,
                if o.data_race { "yes" } else { "no" },
                r.elapsed.as_millis()
            );
        }
        (Err(_), LitmusFormat::Text) if !r.diagnostics.is_empty() => {
            let count = r.diagnostics.len();
            let _ = writeln!(
                out,
                "{path}: {}: cannot parse litmus test ({count} problem{})",
                r.failure_kind,
                if count == 1 { "" } else { "s" }
            );
            for d in &r.diagnostics {
                let _ = writeln!(out, "{path}:{}:{}: {}", d.line, d.column, d.message);
            }
        }
        (Err(e), LitmusFormat::Text) => {
            let _ = writeln!(out, "{path}: {}: {e}", r.failure_kind);
        }
        (Err(e), LitmusFormat::Tsv) => {
            let _ = writeln!(
                out,
                "{path}\t{}\t0\t0\tno\t{}",
                r.failure_kind,
                r.elapsed.as_millis()
            );
            if r.diagnostics.is_empty() {
                let _ = writeln!(err, "sashiko litmus: {path}: {e}");
            }
            for d in &r.diagnostics {
                let _ = writeln!(
                    err,
                    "sashiko litmus: {path}:{}:{}: {}",
                    d.line, d.column, d.message
                );
            }
        }
    }
    if format == LitmusFormat::Text {
        out.push('\n');
    }
    (out, err)
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

fn decide_all(
    files: &[PathBuf],
    jobs: usize,
    timeout: Duration,
    bar: &crate::progress::Bar,
) -> Vec<TestResult> {
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
                bar.advance(1);
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
    let mut diagnostics = Vec::new();
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
                Err(LitmusError::Parse(e)) => {
                    diagnostics = e.diagnostics();
                    (Err(LitmusError::Parse(e).to_string()), "Error")
                }
                Err(e) => (Err(e.to_string()), "Error"),
            }
        }
    };
    TestResult {
        path: path.to_path_buf(),
        result,
        failure_kind,
        diagnostics,
        elapsed: start.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROKEN: &str = "C broken\n{ int x = ; }\nP0(int *x) {\n  WRITE_ONCE(*x, 1)\n  int r0 = $;\n}\nexists (x=)\n";
    const GOOD: &str = "C good\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nP1(int *x) { int r0 = READ_ONCE(*x); }\nexists (1:r0=1)\n";

    fn decided(name: &str, src: &str) -> (tempfile::TempDir, TestResult) {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        std::fs::write(&path, src).expect("write test");
        let r = decide_one(&path, Duration::from_secs(10));
        (dir, r)
    }

    #[test]
    fn every_parse_problem_is_printed_with_its_position() {
        let (_dir, r) = decided("broken.litmus", BROKEN);
        assert_eq!(r.failure_kind, "Error");
        let (out, err) = render(&r, LitmusFormat::Text);
        let path = r.path.display().to_string();
        assert!(
            out.contains("cannot parse litmus test (4 problems)"),
            "{out}"
        );
        for (line, column) in [(2, 11), (5, 3), (5, 12), (7, 11)] {
            assert!(
                out.contains(&format!("{path}:{line}:{column}: ")),
                "{line}:{column} missing from\n{out}"
            );
        }
        assert!(err.is_empty(), "{err}");
        let (out, err) = render(&r, LitmusFormat::Tsv);
        assert!(
            out.starts_with(&format!("{path}\tError\t0\t0\tno\t")),
            "{out}"
        );
        assert_eq!(err.lines().count(), 4, "{err}");
        assert!(
            err.contains(&format!("{path}:5:12: unexpected character '$'")),
            "{err}"
        );
    }

    #[test]
    fn a_decided_test_prints_its_verdict() {
        let (_dir, r) = decided("good.litmus", GOOD);
        let (out, _) = render(&r, LitmusFormat::Tsv);
        assert!(out.contains("\tSometimes\t1\t1\tno\t"), "{out}");
        let (out, _) = render(&r, LitmusFormat::Text);
        assert!(out.contains("Observation good Sometimes 1 1"), "{out}");
    }
}
