//! The `sashiko` binary: command-line glue over the library crates.
//!
//! Every subcommand lives in its own module under `commands/` and returns an
//! exit code. This file only parses arguments, sets up logging and maps
//! errors to exit status 2. It must never hold review, parsing or storage
//! logic of its own: that is the application layer's (`sashiko-pipeline`)
//! and the library crates' below it. Commands never call each other.

mod analyzer_settings;
mod commands;
mod review_setup;
mod settings;
mod term;

use std::process::ExitCode;
use term::errln;

use clap::{Parser, Subcommand};

/// LLM-assisted review of Linux kernel patches.
#[derive(Debug, Parser)]
#[command(name = "sashiko", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Review commits, an mbox, or a Message-ID.
    Review(commands::review::ReviewArgs),
    /// Print the effective configuration (secrets redacted).
    Config(commands::config::ConfigArgs),
    /// Decide C litmus tests under the Linux-kernel memory model.
    Litmus(commands::litmus::LitmusArgs),
    /// Assemble patch series from mbox files and print them (JSON or text).
    Series(commands::series::SeriesArgs),
    /// Read mbox, maildir, public-inbox git, NNTP or lore sources into the
    /// database (each message once) and assemble series.
    Ingest(commands::ingest::IngestArgs),
    /// Create or upgrade the database schema, or show its status.
    Db(commands::db::DbArgs),
    /// List review jobs with their status, attempts and worker.
    Jobs(commands::jobs::JobsArgs),
    /// List the bug database by subsystem and state, or triage one bug.
    Bugs(commands::bugs::BugsArgs),
    /// Serve the maintainer web view, the JSON API (b4's /api/patchset),
    /// Atom feeds and /metrics (127.0.0.1:8080 unless --listen).
    Serve(commands::serve::ServeArgs),
    /// Manage web accounts (admins and subsystem maintainers).
    User(commands::user::UserArgs),
    /// Follow lists, review complete series and reply by mail as the
    /// policy allows (never twice, never to unknown lists).
    Bot(commands::bot::BotArgs),
    /// Precision of the findings per stage and prompt set, from replies.
    Stats(commands::stats::StatsArgs),
    /// Queue review jobs for `sashiko worker` (same inputs as review).
    Enqueue(commands::enqueue::EnqueueArgs),
    /// Run queued review jobs (many workers may share one PostgreSQL).
    Worker(commands::worker::WorkerArgs),
    /// Measure the reviewer on a labelled corpus (oracle, cassette or live
    /// model) or a Sashiko benchmark file; every figure names its source.
    Bench(Box<commands::bench::BenchArgs>),
    /// Run the scripted fake LLM server (OpenAI, Anthropic and Gemini wire
    /// protocols on one loopback port) for manual runs.
    FakeLlm(commands::fake_llm::FakeLlmArgs),
}

/// Exit status for a run that failed with an error (as opposed to one that
/// completed and found problems, which is 1).
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            errln!("sashiko: cannot start the async runtime: {error}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Review(args) => commands::review::run(args).await,
            Command::Config(args) => commands::config::run(args).await,
            Command::Litmus(args) => commands::litmus::run(args).await,
            Command::Series(args) => commands::series::run(args).await,
            Command::Ingest(args) => commands::ingest::run(args).await,
            Command::Db(args) => commands::db::run(args).await,
            Command::Jobs(args) => commands::jobs::run(args).await,
            Command::Bugs(args) => commands::bugs::run(args).await,
            Command::Serve(args) => commands::serve::run(args).await,
            Command::User(args) => commands::user::run(args).await,
            Command::Bot(args) => commands::bot::run(args).await,
            Command::Stats(args) => commands::stats::run(args).await,
            Command::Enqueue(args) => commands::enqueue::run(args).await,
            Command::Worker(args) => commands::worker::run(args).await,
            Command::Bench(args) => commands::bench::run(*args).await,
            Command::FakeLlm(args) => commands::fake_llm::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            errln!("sashiko: error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SASHIKO_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("NO_COLOR").is_none())
        .try_init();
}
