//! `promptcheck`: print the guide coverage of the list slices and the
//! token cost of every stage against its budget.
//!
//! ```text
//! cargo run -p sashiko-promptcheck -- [--shared DIR] [--prompts DIR]
//! ```
//!
//! `--shared` defaults to `../shared` beside the repository, `--prompts`
//! to the shipped `prompts/`. Without the shared data only the token table
//! is printed (with no typical series to compare against). Exit status 2
//! on an error (bad arguments, unreadable data).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use sashiko_promptcheck::shared::{SharedData, SLICES};
use sashiko_promptcheck::{budgets, coverage};
use sashiko_review::maintainers::Maintainers;
use sashiko_review::PromptSet;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("promptcheck: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> anyhow::Result<()> {
    let mut shared_dir: Option<PathBuf> = None;
    let mut prompts_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../prompts");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--shared" => {
                shared_dir = Some(args.next().context("--shared needs a directory")?.into())
            }
            "--prompts" => prompts_dir = args.next().context("--prompts needs a directory")?.into(),
            "-h" | "--help" => {
                println!("usage: promptcheck [--shared DIR] [--prompts DIR]");
                return Ok(());
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    let prompts = PromptSet::load(&prompts_dir)
        .with_context(|| format!("loading the prompt set in {}", prompts_dir.display()))?;
    println!(
        "prompt set {} {} (hash {})\n",
        prompts.name, prompts.version, prompts.hash
    );
    let shared = match &shared_dir {
        Some(dir) => Some(SharedData::at(dir).with_context(|| {
            format!("{} lacks corpus/lists or the kernel tarball", dir.display())
        })?),
        None => SharedData::beside_repository(),
    };
    let Some(shared) = shared else {
        println!("no ../shared beside the repository: guide coverage skipped\n");
        println!(
            "{}",
            budgets::render(&budgets::stage_budgets(&prompts, &[]), 0)
        );
        return Ok(());
    };
    let maintainers = Maintainers::parse(&shared.kernel_file("MAINTAINERS")?);
    let mut coverages = Vec::new();
    let mut typical = Vec::new();
    for slice in SLICES {
        let series = shared
            .slice_series(&slice)
            .with_context(|| format!("reading the {} slice", slice.name))?;
        if slice.target {
            typical.extend(series.series.iter().map(budgets::series_tokens));
        }
        coverages.push(coverage::route_slice(
            &prompts,
            &maintainers,
            slice,
            &series,
        ));
    }
    println!("{}", coverage::render(&coverages));
    let combinations: Vec<Vec<String>> = coverages
        .iter()
        .flat_map(|coverage| coverage.series.iter().map(|series| series.guides.clone()))
        .collect();
    let median = budgets::percentile(&typical, 50);
    println!(
        "Series tokens (o200k_base, series message without context) over {} series: median {median}, p75 {}, p90 {}\n",
        typical.len(),
        budgets::percentile(&typical, 75),
        budgets::percentile(&typical, 90)
    );
    println!(
        "{}",
        budgets::render(&budgets::stage_budgets(&prompts, &combinations), median)
    );
    Ok(())
}
