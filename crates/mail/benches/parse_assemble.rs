//! `cargo bench -p sashiko-mail`: parse + series assembly over the five list
//! slices of ../shared/corpus on one thread. Prints messages/s, series/s,
//! MB/s and the process's peak resident memory (VmHWM). Target: at least
//! 20,000 messages/s. Splitting the mbox is not timed (that is ingest's job).
//!
//! Skips with a message when the corpus is absent.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use sashiko_mail::{assemble, parse_message, ParsedMessage};

const SLICES: &[&str] = &[
    "lists/linux-kbuild-14500-16999.mbox",
    "lists/io-uring-28250-30749.mbox",
    "lists/linux-block-04000-06499.mbox",
    "lists/linux-ext4-19250-21749.mbox",
    "lists/ksummit-02115-03114.mbox",
];

/// Rounds per slice; the fastest is reported (least disturbed by the other
/// processes sharing the machine).
const ROUNDS: usize = 5;

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Time this thread has spent on a CPU (first field of
/// /proc/thread-self/schedstat, nanoseconds): unlike wall time it does not
/// count the time other processes on a shared machine held the core.
fn thread_cpu_time() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanoseconds: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(nanoseconds))
}

struct Round {
    elapsed: Duration,
    cpu: Option<Duration>,
    series: usize,
}

fn one_round(raw_messages: &[Vec<u8>]) -> Round {
    let cpu_start = thread_cpu_time();
    let start = Instant::now();
    let messages: Vec<ParsedMessage> = raw_messages.iter().map(|raw| parse_message(raw)).collect();
    let assembly = assemble(&messages);
    let elapsed = start.elapsed();
    let cpu = thread_cpu_time()
        .zip(cpu_start)
        .map(|(end, start)| end.saturating_sub(start));
    Round {
        elapsed,
        cpu,
        series: std::hint::black_box(assembly).series.len(),
    }
}

fn main() {
    let Some(corpus) = support::corpus_dir() else {
        support::skip_message("parse_assemble benchmark");
        return;
    };
    let mut total_messages = 0usize;
    let mut total_series = 0usize;
    let mut total_bytes = 0usize;
    let mut total_time = Duration::ZERO;
    let mut total_cpu = Duration::ZERO;
    println!("parse + assemble, one thread, best of {ROUNDS} rounds");
    println!(
        "{:<40} {:>8} {:>7} {:>10} {:>12} {:>10} {:>8}",
        "slice", "messages", "series", "ms", "messages/s", "series/s", "MB/s"
    );
    for slice in SLICES {
        let data = match std::fs::read(corpus.join(slice)) {
            Ok(data) => data,
            Err(error) => {
                eprintln!("cannot read {slice}: {error}; skipped");
                continue;
            }
        };
        let raw_messages = support::split_mboxrd(&data);
        let bytes: usize = raw_messages.iter().map(Vec::len).sum();
        let best = (0..ROUNDS)
            .map(|_| one_round(&raw_messages))
            .min_by_key(|round| round.elapsed)
            .expect("at least one round");
        let seconds = best.elapsed.as_secs_f64();
        println!(
            "{:<40} {:>8} {:>7} {:>10.1} {:>12.0} {:>10.0} {:>8.1}",
            slice.trim_start_matches("lists/"),
            raw_messages.len(),
            best.series,
            seconds * 1000.0,
            raw_messages.len() as f64 / seconds,
            best.series as f64 / seconds,
            bytes as f64 / seconds / 1e6
        );
        total_messages += raw_messages.len();
        total_series += best.series;
        total_bytes += bytes;
        total_time += best.elapsed;
        total_cpu += best.cpu.unwrap_or_default();
    }
    let seconds = total_time.as_secs_f64();
    if seconds > 0.0 {
        println!(
            "{:<40} {:>8} {:>7} {:>10.1} {:>12.0} {:>10.0} {:>8.1}",
            "all slices",
            total_messages,
            total_series,
            seconds * 1000.0,
            total_messages as f64 / seconds,
            total_series as f64 / seconds,
            total_bytes as f64 / seconds / 1e6
        );
    }
    let cpu_seconds = total_cpu.as_secs_f64();
    if cpu_seconds > 0.0 {
        println!(
            "on-CPU time of the same rounds: {:.1} ms, {:.0} messages/s, {:.0} series/s per core",
            cpu_seconds * 1000.0,
            total_messages as f64 / cpu_seconds,
            total_series as f64 / cpu_seconds
        );
    }
    match peak_memory_kib() {
        Some(kib) => println!("peak memory (VmHWM): {:.1} MiB", kib as f64 / 1024.0),
        None => println!("peak memory: /proc/self/status not readable"),
    }
}
