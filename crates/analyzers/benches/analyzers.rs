//! What the analyzers add to a review: checkpatch.pl and Coccinelle on
//! series of 1, 5 and 20 patches (one changed C file each) on the
//! ../shared kernel, with the default budget. Prints wall and CPU time per
//! tool, the scripts run and left out, and the machine's load (other
//! processes share the cores, so CPU time is the steadier figure).
//!
//! `cargo bench -p sashiko-analyzers` (set SASHIKO_BENCH_RUNS for more
//! than 3 runs per size; SASHIKO_BENCH_WALL_SECS to change the budget).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use sashiko_analyzers::{AnalyzerSettings, TreeAnalyzers, TreeInput};
use sashiko_review::analysis::AnalyzerTool;

/// Files the benchmark series change, in order: C files of mm/, kernel/,
/// fs/ and lib/ with a `\treturn 0;\n` to insert a line before.
const FILES: [&str; 20] = [
    "mm/rmap.c",
    "mm/filemap.c",
    "mm/mmap.c",
    "mm/slub.c",
    "mm/vmscan.c",
    "kernel/fork.c",
    "kernel/workqueue.c",
    "kernel/signal.c",
    "fs/namei.c",
    "fs/inode.c",
    "lib/idr.c",
    "mm/memory.c",
    "mm/page_alloc.c",
    "kernel/exit.c",
    "fs/dcache.c",
    "block/blk-core.c",
    "kernel/cpu.c",
    "mm/swapfile.c",
    "kernel/module/main.c",
    "net/core/dev.c",
];

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn main() {
    let Some(kernel) = support::kernel() else {
        support::skip("analyzers benchmark");
        return;
    };
    let runs: usize = std::env::var("SASHIKO_BENCH_RUNS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3);
    let mut settings = AnalyzerSettings::default();
    if let Some(seconds) = std::env::var("SASHIKO_BENCH_WALL_SECS")
        .ok()
        .and_then(|text| text.parse().ok())
    {
        settings.coccinelle.wall_budget = Duration::from_secs(seconds);
        settings.coccinelle.cpu_budget = Duration::from_secs(seconds * 2);
    }
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    println!(
        "analyzers benchmark: {} cores, budget {} s wall / {} s CPU, {} spatch jobs",
        std::thread::available_parallelism().map_or(0, usize::from),
        settings.coccinelle.wall_budget.as_secs(),
        settings.coccinelle.cpu_budget.as_secs(),
        settings.coccinelle.jobs
    );
    let mut tip = kernel.base;
    let mut tips = Vec::new();
    for (index, file) in FILES.iter().enumerate() {
        let line = format!("\tpr_debug(\"%s: sashiko bench {index}\\n\", __func__);\n");
        tip = support::commit(
            kernel,
            tip,
            &format!("{file}: log the way out\n\nSo the exit shows in dynamic debug.\n\nSigned-off-by: Ann Example <ann@example.org>\n"),
            &[(file, &|text: &str| {
                text.replacen("\treturn 0;\n", &format!("{line}\treturn 0;\n"), 1)
            })],
        );
        tips.push(tip);
    }
    for size in [1usize, 5, 20] {
        let tip = tips[size - 1];
        let series = support::series(kernel, kernel.base, tip);
        let analyzers = TreeAnalyzers::new(
            settings.clone(),
            Some(TreeInput::new(&kernel.path, kernel.base, Some(tip))),
        );
        for run in 0..runs {
            let load_before = load();
            let started = Instant::now();
            let reports = runtime.block_on(analyzers.analyze(&series));
            let wall = started.elapsed();
            let figure = |tool| {
                reports
                    .run(tool)
                    .map(|run| (run.elapsed_ms, run.cpu_ms, run.messages.len()))
                    .unwrap_or_default()
            };
            let (checkpatch_wall, checkpatch_cpu, checkpatch_messages) =
                figure(AnalyzerTool::Checkpatch);
            let (cocci_wall, cocci_cpu, cocci_messages) = figure(AnalyzerTool::Coccinelle);
            let cocci = reports.run(AnalyzerTool::Coccinelle);
            println!(
                "{size:>2} file(s) run {}: added {:.1} s wall; checkpatch {:.1} s wall {:.1} s CPU {} msg; coccinelle {:.1} s wall {:.1} s CPU {} msg, {} script(s) ran, {} skipped for the budget; load {} -> {}",
                run + 1,
                wall.as_secs_f64(),
                checkpatch_wall as f64 / 1000.0,
                checkpatch_cpu as f64 / 1000.0,
                checkpatch_messages,
                cocci_wall as f64 / 1000.0,
                cocci_cpu as f64 / 1000.0,
                cocci_messages,
                cocci.map_or(0, |run| run.ran.len()),
                cocci.map_or(0, |run| run.skipped_for_budget.len()),
                load_before,
                load()
            );
            if run == 0 {
                if let Some(cocci) = cocci {
                    println!("   {}", cocci.summary());
                }
            }
        }
    }
}
