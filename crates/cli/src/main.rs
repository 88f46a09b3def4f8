//! The `sashiko` binary: command-line glue over the library crates.
//!
//! Every subcommand lives in its own module under `commands/` and returns an
//! exit code. This file only parses arguments, sets up logging and maps
//! errors to exit status 2. It must never hold review, parsing or storage
//! logic of its own: that is the application layer's (`sashiko-pipeline`)
//! and the library crates' below it. Commands never call each other.

mod analyzer_settings;
mod args;
mod commands;
mod embedded_prompts;
mod progress;
mod review_setup;
mod settings;
mod stage_progress;
mod term;

use std::process::ExitCode;
use term::errln;

use clap::{CommandFactory, Parser, Subcommand};

/// LLM-assisted review of Linux kernel patches.
///
/// Exit status: 0 when the run completed and no finding reached the
/// threshold (and when standard output's reader went away early, as in
/// `sashiko series ... | head -1`), 1 when findings reached `--fail-on`
/// (or some inputs failed), 2 on error. Progress goes to standard error,
/// only on a terminal; NO_COLOR turns colour off.
#[derive(Debug, Parser)]
#[command(name = "sashiko", version, about, long_about)]
struct Cli {
    /// Show no progress on standard error (errors and notes still show).
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
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
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell) generated from these definitions.
    Completions(CompletionsArgs),
    /// Print the man page (roff) generated from these definitions.
    Man,
}

#[derive(clap::Args, Debug)]
struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

/// Exit status for a run that failed with an error (as opposed to one that
/// completed and found problems, which is 1).
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    progress::init(cli.quiet);
    match &cli.command {
        Command::Completions(args) => {
            let mut definitions = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(args.shell, &mut definitions, "sashiko", &mut script);
            term::write_stdout(&String::from_utf8_lossy(&script));
            return ExitCode::SUCCESS;
        }
        Command::Man => {
            let mut page = Vec::new();
            if let Err(error) = clap_mangen::Man::new(Cli::command()).render(&mut page) {
                errln!("sashiko: error: rendering the man page: {error}");
                return ExitCode::from(EXIT_ERROR);
            }
            term::write_stdout(&String::from_utf8_lossy(&page));
            return ExitCode::SUCCESS;
        }
        _ => {}
    }
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
            Command::Completions(_) | Command::Man => Ok(ExitCode::SUCCESS),
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

/// Log lines (`SASHIKO_LOG`, default warnings) on standard error, in
/// colour only when it is a terminal and NO_COLOR is unset or empty.
fn init_logging() {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("SASHIKO_LOG").unwrap_or_else(|_| EnvFilter::new("warn"));
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| LogWriter)
        .with_ansi(std::io::stderr().is_terminal() && !no_color)
        .try_init();
}

/// Standard error for log lines, clearing a progress bar first.
struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        progress::clear_line();
        std::io::stderr().write(bytes)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definitions_are_consistent() {
        // Every subcommand and flag, including the global --quiet against
        // each subcommand's own short flags.
        Cli::command().debug_assert();
    }
}
