//! `sashiko bench [review] CORPUS` (and `--replay LIST --tree TREE`, in
//! `bench_replay`): review every patch of a labelled corpus
//! (or every entry of a Sashiko benchmark file with `--repo`) through the
//! real review path and print recall, false positives, precision, tokens,
//! requests and wall time, each labelled with its source: `fake:oracle`,
//! `cassette:<model>` or `live:<model>`.
//!
//! Sibling subcommands (`bench ingest`, `bench litmus`, ...) go into
//! [`BenchCommand`]; `sashiko bench CORPUS` stays the review bench. This
//! command never presents a scripted source as a model: oracle figures
//! are marked scripted, and without a model it says so and exits 2.

use crate::term::{errln, jsonln, out, outln};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use sashiko_eval::bench::{run_bench_counted, BenchOptions, Source};
use sashiko_eval::kernel_bench;
use sashiko_eval::matching::MatchOptions;
use sashiko_eval::{local_client, AnswerServer, Oracle, OracleConfig};
use sashiko_llm::{CassetteClient, CassetteMode, LlmClient};
use sashiko_review::{PromptSet, ReviewOptions, ReviewSettings};

use crate::settings::{FlagSettings, Settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: Option<BenchCommand>,
    #[command(flatten)]
    pub review: ReviewBenchArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum BenchCommand {
    /// Review a labelled corpus or a Sashiko benchmark file and print
    /// figures (the default when no subcommand is given).
    Review(ReviewBenchArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct ReviewBenchArgs {
    /// A corpus directory holding labels.toml (e.g. tests/eval), or a
    /// Sashiko benchmark JSON file (Commit, Fixed-by, subsystem,
    /// problem_description) used with --repo.
    pub corpus: Option<PathBuf>,
    /// Output: text for people, or json (one document on standard output).
    #[arg(long, value_enum, default_value_t = BenchFormat::Text)]
    pub format: BenchFormat,
    /// Review every patch this many times.
    #[arg(long, default_value_t = 1)]
    pub runs: u32,
    /// Answer with the label oracle (scripted; figures are `fake:oracle`).
    #[arg(long)]
    pub oracle: bool,
    /// Oracle: probability of reporting each labelled bug (implies --oracle).
    #[arg(long)]
    pub oracle_recall: Option<f64>,
    /// Oracle: probability of one invented finding per clean patch
    /// (implies --oracle).
    #[arg(long)]
    pub oracle_fp: Option<f64>,
    /// Oracle: seed of its draws.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Replay answers recorded from a model (figures are `cassette:<model>`;
    /// a request the recording lacks fails that review).
    #[arg(long, value_name = "FILE")]
    pub cassette: Option<PathBuf>,
    /// Record the live model's answers into FILE (sashiko_llm's JSONL
    /// cassette, replaced if it exists) for later --cassette runs.
    #[arg(long, value_name = "FILE")]
    pub record_cassette: Option<PathBuf>,
    /// Kernel tree for a Sashiko benchmark file.
    #[arg(long, value_name = "KERNEL_TREE")]
    pub repo: Option<PathBuf>,
    /// Also require a finding's stage to own the label's bug class.
    #[arg(long)]
    pub match_class: bool,
    #[command(flatten)]
    pub model: crate::args::ModelArgs,
    /// Prompt set directory (default: the shipped prompts/).
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// Times a stage is asked again when its answer does not fit the schema.
    #[arg(long, default_value_t = 2)]
    pub max_attempts: u32,
    /// Replay every complete series of this list slice (an mbox) against
    /// --tree as the worker would, with the scripted fake model, and print
    /// how they applied, panics, wall time, tokens and context.
    #[arg(long, value_name = "LIST.mbox", requires = "tree")]
    pub replay: Option<PathBuf>,
    /// Replay: the kernel tree (a git repository, only read) series are
    /// applied to.
    #[arg(long, value_name = "KERNEL_TREE")]
    pub tree: Option<PathBuf>,
    /// Replay: the revision used when a series names no base-commit the
    /// tree holds (default HEAD).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Replay: only the first N complete series.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Replay: also run the tree's checkpatch.pl and Coccinelle, as the
    /// worker does.
    #[arg(long)]
    pub analyzers: bool,
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(BenchCommand::Review(review)) => run_review_bench(review).await,
        None => run_review_bench(args.review).await,
    }
}

pub(super) fn progress_printer() -> impl Fn(&str) + Sync {
    |line: &str| crate::progress::line(&format!("bench: {line}"))
}

pub(super) fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    jsonln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn run_review_bench(args: ReviewBenchArgs) -> anyhow::Result<ExitCode> {
    if let Some(list) = args.replay.clone() {
        return super::bench_replay::run(&args, list).await;
    }
    let Some(corpus_path) = args.corpus.clone() else {
        bail!("sashiko bench needs a CORPUS: a directory with labels.toml or a Sashiko benchmark JSON file");
    };
    let oracle_mode = args.oracle || args.oracle_recall.is_some() || args.oracle_fp.is_some();
    if oracle_mode && args.cassette.is_some() {
        bail!("--oracle and --cassette exclude each other: choose one source of answers");
    }
    if args.record_cassette.is_some() && (oracle_mode || args.cassette.is_some()) {
        bail!("--record-cassette records a live model; it cannot record the oracle or a replay");
    }
    for (name, value) in [
        ("--oracle-recall", args.oracle_recall),
        ("--oracle-fp", args.oracle_fp),
    ] {
        if let Some(p) = value.filter(|p| !(0.0..=1.0).contains(p)) {
            bail!("{name} must be a probability between 0 and 1, not {p}");
        }
    }
    let settings = Settings::load(&FlagSettings {
        db: None,
        provider: args.model.provider.clone(),
        model: args.model.model.clone(),
        base_url: args.model.base_url.clone(),
        prompts: args.prompts.clone(),
    })?;
    if corpus_path.is_file() && (oracle_mode || args.cassette.is_some()) {
        bail!(
            "{} is a Sashiko benchmark file: it has no labels for the oracle or a cassette; it needs a real model",
            corpus_path.display()
        );
    }
    // Without a model a live bench has nothing to measure: say so before
    // doing any work.
    let live = if oracle_mode || args.cassette.is_some() {
        None
    } else {
        Some(live_client(&settings)?)
    };
    let prompt_source = settings.prompt_source();
    let prompts = PromptSet::load_from(&prompt_source)
        .with_context(|| format!("loading the prompt set from {prompt_source}"))?;
    let review = ReviewOptions {
        settings: ReviewSettings {
            max_attempts: args.max_attempts.max(1),
            max_output_tokens: settings.llm.max_output_tokens.unwrap_or(4096),
            // Recorded requests replay only if they are the same requests.
            deterministic_secrets: args.cassette.is_some() || args.record_cassette.is_some(),
            ..ReviewSettings::default()
        },
        ..ReviewOptions::default()
    };
    if corpus_path.is_file() {
        return run_kernel_bench(&args, &corpus_path, live, &prompts, &review).await;
    }

    let loaded = sashiko_eval::load_corpus(&corpus_path)
        .with_context(|| format!("loading the corpus {}", corpus_path.display()))?;
    for problem in &loaded.problems {
        errln!("sashiko bench: skipped: {problem}");
    }
    let corpus = loaded.corpus;
    if corpus.patches.is_empty() {
        bail!("the corpus {} has no usable patch", corpus_path.display());
    }
    // The server (if any) must live until the bench is done.
    let (_server, client, source): (Option<AnswerServer>, Arc<dyn LlmClient>, Source) =
        if oracle_mode {
            let config = OracleConfig {
                recall: args.oracle_recall.unwrap_or(1.0),
                false_positive_rate: args.oracle_fp.unwrap_or(0.0),
                seed: args.seed,
                obey_injections: false,
            };
            let server = AnswerServer::start(Box::new(Oracle::new(
                corpus.clone(),
                prompts.clone(),
                config,
            )))
            .await?;
            let client = local_client(&server, "oracle").context("connecting to the oracle")?;
            let source = Source::Oracle {
                recall: config.recall.to_string(),
                false_positive_rate: config.false_positive_rate.to_string(),
                seed: config.seed,
            };
            (Some(server), client, source)
        } else if let Some(path) = &args.cassette {
            let client = CassetteClient::replay_only(path)
                .with_context(|| format!("loading the cassette {}", path.display()))?;
            let source = Source::Cassette {
                model: client.model().to_owned(),
                path: path.display().to_string(),
            };
            (None, Arc::new(client), source)
        } else {
            let (client, source) = live.context("no model configured")?;
            match &args.record_cassette {
                Some(path) => (None, recorder(client, path)?, source),
                None => (None, client, source),
            }
        };
    let options = BenchOptions {
        runs: args.runs.max(1),
        matching: MatchOptions {
            match_class: args.match_class,
        },
        review,
    };
    let progress = progress_printer();
    let bar = crate::progress::Bar::new(
        "bench",
        u64::from(options.runs) * corpus.patches.len() as u64,
    );
    let run = run_bench_counted(
        &corpus,
        &prompts,
        client.clone(),
        source,
        &options,
        &progress,
        &|_, _| bar.advance(1),
    )
    .await;
    bar.finish(&format!("bench: {} review(s)", run.outcomes.len()));
    if let Some(path) = &args.record_cassette {
        errln!(
            "sashiko bench: recorded the answers into {}",
            path.display()
        );
    }
    let report = sashiko_eval::report(&corpus, &run);
    match args.format {
        BenchFormat::Json => print_json(&report)?,
        BenchFormat::Text => out!("{}", sashiko_eval::render_text(&report)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `client` recording every exchange into a fresh cassette at `path`.
fn recorder(client: Arc<dyn LlmClient>, path: &Path) -> anyhow::Result<Arc<dyn LlmClient>> {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error)
                .with_context(|| format!("replacing the earlier recording {}", path.display()))
        }
    }
    let cassette = CassetteClient::new(client, path, CassetteMode::Record)
        .with_context(|| format!("recording into {}", path.display()))?;
    Ok(Arc::new(cassette))
}

fn live_client(settings: &Settings) -> anyhow::Result<(Arc<dyn LlmClient>, Source)> {
    let Some(config) = settings.llm.provider_config()? else {
        bail!(
            "no model configured: set [llm] provider and model in the configuration, SASHIKO_LLM_PROVIDER and SASHIKO_LLM_MODEL, or --provider and --model (or use --oracle / --cassette for scripted or recorded answers)"
        );
    };
    let client = sashiko_llm::connect(&config).context("connecting to the configured model")?;
    let source = Source::Live {
        provider: client.provider().to_owned(),
        model: client.model().to_owned(),
    };
    Ok((client, source))
}

async fn run_kernel_bench(
    args: &ReviewBenchArgs,
    path: &Path,
    live: Option<(Arc<dyn LlmClient>, Source)>,
    prompts: &PromptSet,
    review: &ReviewOptions,
) -> anyhow::Result<ExitCode> {
    let Some(repo) = &args.repo else {
        bail!(
            "{} is a Sashiko benchmark file: pass --repo KERNEL_TREE with the commits it names",
            path.display()
        );
    };
    let file = kernel_bench::load(path)?;
    for problem in &file.problems {
        errln!("sashiko bench: {}: skipped {problem}", path.display());
    }
    let (client, source) = live.context("no model configured")?;
    let progress = progress_printer();
    let bar = crate::progress::Bar::new("kernel bench", file.entries.len() as u64);
    let report = kernel_bench::run_kernel_bench_counted(
        file,
        repo,
        prompts,
        client,
        source,
        review,
        &progress,
        &|_, _| bar.advance(1),
    )
    .await;
    bar.finish(&format!("kernel bench: {} entries", report.entries));
    match args.format {
        BenchFormat::Json => print_json(&report)?,
        BenchFormat::Text => {
            outln!(
                "kernel bench {}: {} entries, {} failed, located {}/{} [{}], {:.0} input / {:.0} output tokens per entry, {} requests, {} ms",
                path.display(),
                report.entries,
                report.failed,
                report.located.successes,
                report.located.trials,
                report.source,
                report.input_tokens_per_entry,
                report.output_tokens_per_entry,
                report.requests,
                report.wall_ms
            );
            for outcome in &report.outcomes {
                outln!(
                    "  {} ({}): {} finding(s), {}{}",
                    outcome.commit,
                    outcome.subsystem,
                    outcome.findings.len(),
                    if outcome.located {
                        "located"
                    } else {
                        "not located"
                    },
                    outcome
                        .error
                        .as_deref()
                        .map(|e| format!(", error: {e}"))
                        .unwrap_or_default()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
