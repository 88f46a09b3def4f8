//! Agreement with herd7 over ../shared/litmus (EXPECTED.tsv).
//!
//! By default the kernel's own tests plus a deterministic sample (every 10th
//! row, every 40th in unoptimised builds) run here; `LKMM_CORPUS=all` runs
//! every row (the benchmark decides every row too).
//! Skips with a message when ../shared/litmus is absent.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sashiko_lkmm::{check_litmus, LitmusError, Options};

struct Row {
    path: String,
    expected: String,
    source: String,
    herd: String,
    flags: String,
}

fn corpus_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/litmus");
    root.join("EXPECTED.tsv").is_file().then_some(root)
}

fn rows(root: &Path) -> Vec<Row> {
    let text =
        std::fs::read_to_string(root.join("EXPECTED.tsv")).expect("EXPECTED.tsv is readable");
    text.lines()
        .skip(1)
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let get = |i: usize| f.get(i).unwrap_or(&"").to_string();
            Row {
                path: get(0),
                expected: get(1),
                source: get(2),
                herd: get(6),
                flags: get(8),
            }
        })
        .collect()
}

#[derive(Default)]
struct Stats {
    total: usize,
    supported: usize,
    agree: usize,
    counts_agree: usize,
    disagreements: Vec<String>,
    unsupported: std::collections::BTreeMap<String, usize>,
}

fn run(select: &dyn Fn(usize, &Row) -> bool) -> Option<Stats> {
    let Some(root) = corpus_root() else {
        println!(
            "SKIP: ../shared/litmus not found next to the workspace; corpus agreement not checked"
        );
        return None;
    };
    let rows = rows(&root);
    let chosen: Vec<&Row> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| select(*i, r))
        .map(|(_, r)| r)
        .collect();
    let mut stats = Stats::default();
    let results: Vec<(usize, Result<sashiko_lkmm::Outcome, LitmusError>)> = {
        let next = std::sync::atomic::AtomicUsize::new(0);
        let out = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for _ in 0..2 {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= chosen.len() {
                        break;
                    }
                    let src = std::fs::read_to_string(root.join(&chosen[i].path))
                        .expect("test file is readable");
                    let options = Options {
                        deadline: Some(Instant::now() + Duration::from_secs(10)),
                        ..Options::default()
                    };
                    let r = check_litmus(&src, &options);
                    out.lock().expect("results lock").push((i, r));
                });
            }
        });
        out.into_inner().expect("results lock")
    };
    for (i, result) in results {
        let row = chosen[i];
        stats.total += 1;
        let outcome = match result {
            Ok(o) => o,
            Err(e) => {
                let key = match &e {
                    LitmusError::Unsupported { feature } => format!("unsupported: {feature}"),
                    LitmusError::Parse(_) => "parse error".to_string(),
                    LitmusError::Invalid(m) => format!("invalid: {m}"),
                    LitmusError::Timeout(_) => "timeout".to_string(),
                };
                println!("  not decided: {}: {e}", row.path);
                *stats.unsupported.entry(key).or_default() += 1;
                continue;
            }
        };
        if row.source == "herd7-run" {
            stats.supported += 1;
            let ours = format!(
                "{} {} {}",
                outcome.verdict, outcome.positive, outcome.negative
            );
            let flags_expected: Vec<&str> =
                row.flags.split(',').filter(|f| !f.is_empty()).collect();
            let mut flags_ours: Vec<&str> = outcome.flags.iter().map(String::as_str).collect();
            flags_ours.sort();
            let mut flags_sorted = flags_expected.clone();
            flags_sorted.sort();
            let race_expected = flags_expected.contains(&"data-race");
            let verdict_ok = row.herd.split(' ').next() == Some(&outcome.verdict.to_string());
            if verdict_ok && race_expected == outcome.data_race && flags_sorted == flags_ours {
                stats.agree += 1;
                if ours == row.herd {
                    stats.counts_agree += 1;
                }
            } else {
                stats.disagreements.push(format!(
                    "{}\texpected {} flags={:?}\tgot {} flags={:?}",
                    row.path, row.herd, flags_sorted, ours, flags_ours
                ));
            }
        } else if row.expected.is_empty() || row.expected == "Reachable" {
            // No reference verdict: counted as decided but not compared.
            *stats
                .unsupported
                .entry("no reference verdict (decided)".into())
                .or_default() += 1;
        } else {
            stats.supported += 1;
            let want = if row.expected == "DEADLOCK" {
                "Never"
            } else {
                row.expected.as_str()
            };
            if outcome.verdict.to_string() == want {
                stats.agree += 1;
                stats.counts_agree += 1;
            } else {
                stats.disagreements.push(format!(
                    "{}\texpected {} (comment)\tgot {}",
                    row.path, row.expected, outcome.verdict
                ));
            }
        }
    }
    println!(
        "corpus: {} tests, {} supported ({:.1}%), {} agree on verdict+flags ({:.1}% of supported), {} also on pos/neg",
        stats.total,
        stats.supported,
        100.0 * stats.supported as f64 / stats.total.max(1) as f64,
        stats.agree,
        100.0 * stats.agree as f64 / stats.supported.max(1) as f64,
        stats.counts_agree
    );
    for (k, v) in &stats.unsupported {
        println!("  not decided: {v} x {k}");
    }
    for d in &stats.disagreements {
        println!("  DISAGREE {d}");
    }
    Some(stats)
}

#[test]
fn kernel_litmus_tests_agree_with_herd7() {
    let Some(stats) = run(&|_, r| r.path.starts_with("kernel/")) else {
        return;
    };
    assert!(
        stats.disagreements.is_empty(),
        "{} disagreements",
        stats.disagreements.len()
    );
    assert!(stats.supported > 0);
}

#[test]
fn corpus_sample_agrees_with_herd7() {
    let all = std::env::var("LKMM_CORPUS").is_ok_and(|v| v == "all");
    // Unoptimised builds are ~20x slower: sample every 40th row there.
    let step = if cfg!(debug_assertions) { 40 } else { 10 };
    println!("sampling every {step}th row of EXPECTED.tsv (LKMM_CORPUS=all for every row)");
    let Some(stats) = run(&|i, r| !r.path.starts_with("kernel/") && (all || i % step == 0)) else {
        return;
    };
    assert!(
        stats.disagreements.is_empty(),
        "{} disagreements",
        stats.disagreements.len()
    );
}

/// Past the counting limit the verdict and the flags come from the witness
/// search: on every sampled test it must give what counting gives (and
/// its lower bounds must not exceed the counts).
#[test]
fn witness_search_agrees_with_counting() {
    let Some(root) = corpus_root() else {
        println!("SKIP: ../shared/litmus not found; witness search not checked");
        return;
    };
    let all = std::env::var("LKMM_CORPUS").is_ok_and(|v| v == "all");
    let step = if cfg!(debug_assertions) { 80 } else { 20 };
    let rows = rows(&root);
    let chosen: Vec<&Row> = rows
        .iter()
        .enumerate()
        .filter(|(i, r)| all || r.path.starts_with("kernel/") || i % step == 3)
        .map(|(_, r)| r)
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let problems = std::sync::Mutex::new(Vec::new());
    let compared = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if i >= chosen.len() {
                    break;
                }
                let src = std::fs::read_to_string(root.join(&chosen[i].path))
                    .expect("test file is readable");
                let limit = |max_candidates| Options {
                    deadline: Some(Instant::now() + Duration::from_secs(10)),
                    max_candidates,
                };
                let counted = check_litmus(&src, &limit(Options::default().max_candidates));
                let witnessed = check_litmus(&src, &limit(0));
                let (Ok(c), Ok(w)) = (counted, witnessed) else {
                    continue;
                };
                if c.positive.exact().is_none() || c.negative.exact().is_none() {
                    continue; // over the limit anyway: both are witness searches
                }
                compared.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let bounded = |count: sashiko_lkmm::Count, exact: sashiko_lkmm::Count| match count {
                    sashiko_lkmm::Count::Exact(n) => exact == n,
                    sashiko_lkmm::Count::AtLeast(n) => exact.exact().is_some_and(|e| n <= e),
                };
                if c.verdict != w.verdict
                    || c.flags != w.flags
                    || !bounded(w.positive, c.positive)
                    || !bounded(w.negative, c.negative)
                {
                    problems.lock().expect("problems lock").push(format!(
                        "{}: counted {} {} {} {:?}, witnessed {} {} {} {:?}",
                        chosen[i].path,
                        c.verdict,
                        c.positive,
                        c.negative,
                        c.flags,
                        w.verdict,
                        w.positive,
                        w.negative,
                        w.flags
                    ));
                }
            });
        }
    });
    let problems = problems.into_inner().expect("problems lock");
    println!(
        "witness search: {} tests compared with counting, {} differ",
        compared.into_inner(),
        problems.len()
    );
    for p in &problems {
        println!("  DIFFER {p}");
    }
    assert!(problems.is_empty(), "{} differ", problems.len());
}
