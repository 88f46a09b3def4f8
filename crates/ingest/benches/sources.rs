//! Throughput of the local sources over the shared corpus: mbox splitting
//! of the five list slices and reading the io-uring public-inbox epoch.
//! Prints messages/s and MB/s (best of several rounds). Storing is measured
//! by the store's own benchmarks; this covers only reading.
//!
//! Run with `cargo bench -p sashiko-ingest --bench sources`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sashiko_ingest::mbox::{self, MboxFormat};
use sashiko_ingest::{open, SourceSpec};

const ROUNDS: usize = 5;

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("SASHIKO_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    dir.join("MANIFEST.json").is_file().then_some(dir)
}

fn best_of<T>(mut round: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let value = round();
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("at least one round"))
}

fn report(what: &str, messages: usize, bytes: usize, elapsed: Duration) {
    let seconds = elapsed.as_secs_f64();
    println!(
        "{what:<48} {messages:>6} messages {:>9.1} ms {:>10.0} messages/s {:>7.1} MB/s",
        seconds * 1000.0,
        messages as f64 / seconds,
        bytes as f64 / seconds / 1e6
    );
}

fn main() {
    let Some(corpus) = corpus() else {
        println!("skipping: shared corpus not found (set SASHIKO_CORPUS)");
        return;
    };
    let mut total_messages = 0;
    let mut total_bytes = 0;
    let mut total_time = Duration::ZERO;
    for slice in [
        "lists/io-uring-28250-30749.mbox",
        "lists/ksummit-02115-03114.mbox",
        "lists/linux-block-04000-06499.mbox",
        "lists/linux-ext4-19250-21749.mbox",
        "lists/linux-kbuild-14500-16999.mbox",
    ] {
        let bytes = std::fs::read(corpus.join(slice)).expect("read corpus slice");
        let (elapsed, count) = best_of(|| mbox::split(&bytes, MboxFormat::Mboxrd).messages.len());
        report(&format!("mbox split {slice}"), count, bytes.len(), elapsed);
        total_messages += count;
        total_bytes += bytes.len();
        total_time += elapsed;
    }
    report(
        "mbox split, all five slices",
        total_messages,
        total_bytes,
        total_time,
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let epoch = dir.path().join("0.git");
    let bundle = corpus.join("public-inbox/io-uring.0-28250-30749.bundle");
    let cloned = Command::new("git")
        .args(["clone", "-q", "--mirror"])
        .arg(&bundle)
        .arg(&epoch)
        .status()
        .is_ok_and(|status| status.success());
    if !cloned {
        println!("skipping public-inbox: cannot clone {}", bundle.display());
        return;
    }
    let spec = SourceSpec::PublicInbox { path: epoch };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let (elapsed, (count, bytes)) = best_of(|| {
        runtime.block_on(async {
            let mut source = open(&spec, None).await.expect("open epoch");
            let (mut count, mut bytes) = (0, 0);
            while let Some(message) = source.next_message().await.expect("read") {
                count += 1;
                bytes += message.bytes.len();
            }
            (count, bytes)
        })
    });
    report(
        "public-inbox epoch io-uring (git2, blob m)",
        count,
        bytes,
        elapsed,
    );
}
