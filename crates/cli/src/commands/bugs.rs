//! `sashiko bugs`: list the bug database by subsystem and state, and
//! `sashiko bugs set ID STATE --why TEXT` to triage one bug (recorded in
//! its history with who and why). It never deletes a bug.

use crate::term::{jsonln, outln};
use std::process::ExitCode;

use sashiko_store::{BugFilter, BugId, BugState, StateChange};

use crate::commands::db::{open_store, DbUrlArgs};
use crate::commands::review::OutputFormat;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BugsArgs {
    #[command(subcommand)]
    pub action: Option<BugsAction>,
    #[command(flatten)]
    pub db: DbUrlArgs,
    /// Only this subsystem.
    #[arg(long)]
    pub subsystem: Option<String>,
    /// Only this state: open, confirmed, invalid, fixed, known, duplicate.
    #[arg(long)]
    pub state: Option<String>,
    /// Page size.
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Only bugs older than this id (the next page).
    #[arg(long)]
    pub before: Option<i64>,
    /// Output: text for people, or json (one document on standard output).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(clap::Subcommand, Debug)]
pub enum BugsAction {
    /// Change a bug's state; the change is kept in its history.
    Set {
        /// Bug id.
        id: i64,
        /// open, confirmed, invalid, fixed, known or duplicate.
        state: String,
        /// Why (required; recorded in the history).
        #[arg(long)]
        why: String,
        /// Who decides (default: $SASHIKO_USER, then $USER, then $LOGNAME).
        #[arg(long)]
        by: Option<String>,
        /// For `duplicate`: the bug this one duplicates.
        #[arg(long)]
        duplicate_of: Option<i64>,
        #[command(flatten)]
        db: DbUrlArgs,
    },
    /// Show one bug and its history.
    Show {
        /// Bug id.
        id: i64,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        #[command(flatten)]
        db: DbUrlArgs,
    },
}

pub async fn run(args: BugsArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        Some(BugsAction::Set {
            id,
            state,
            why,
            by,
            duplicate_of,
            db,
        }) => {
            let change = StateChange {
                to: state.parse::<BugState>()?,
                actor: by.unwrap_or_else(default_actor),
                reason: why,
                duplicate_of: duplicate_of.map(BugId),
            };
            let store = open_store(&db).await?;
            store.set_bug_state(BugId(id), &change).await?;
            outln!(
                "bug {id}: {} (by {}: {})",
                change.to,
                change.actor,
                change.reason
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Some(BugsAction::Show { id, format, db }) => {
            let store = open_store(&db).await?;
            let Some(bug) = store.bug(BugId(id)).await? else {
                anyhow::bail!(
                    "bug {id} not found in {}",
                    sashiko_store::redact_url(&db.resolve()?)
                );
            };
            let history = store.bug_history(BugId(id)).await?;
            match format {
                OutputFormat::Json => {
                    jsonln!(
                        "{}",
                        serde_json::to_string_pretty(
                            &serde_json::json!({ "bug": bug, "history": history })
                        )?
                    )
                }
                OutputFormat::Text => {
                    outln!(
                        "bug {} [{}] {} {}",
                        bug.id,
                        bug.state,
                        bug.subsystem,
                        sashiko_report::text::file_lines(&bug.file, bug.line_start, bug.line_end)
                    );
                    outln!("  {}", bug.title);
                    for entry in history {
                        outln!(
                            "  {} {} {} -> {}: {}",
                            sashiko_ingest::pipeline::rfc3339_utc(
                                entry.changed_at.div_euclid(1000)
                            ),
                            entry.actor,
                            entry.from_state.as_deref().unwrap_or("(new)"),
                            entry.to_state,
                            entry.reason
                        );
                    }
                }
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        None => list(args).await,
    }
}

async fn list(args: BugsArgs) -> anyhow::Result<ExitCode> {
    let filter = BugFilter {
        subsystem: args.subsystem.clone(),
        state: args
            .state
            .as_deref()
            .map(str::parse::<BugState>)
            .transpose()?,
        before_id: args.before,
        limit: args.limit,
    };
    let store = open_store(&args.db).await?;
    let page = store.list_bugs(&filter).await?;
    match args.format {
        OutputFormat::Json => jsonln!("{}", serde_json::to_string_pretty(&page)?),
        OutputFormat::Text => {
            for bug in &page.bugs {
                let origin = if bug.preexisting {
                    "pre-existing"
                } else {
                    "introduced"
                };
                outln!(
                    "{:>6} {:<9} {:<8} {:<20} {}:{} {} ({origin})",
                    bug.id,
                    bug.state.as_str(),
                    bug.severity,
                    bug.subsystem,
                    bug.file,
                    bug.line_start,
                    bug.title
                );
            }
            if page.bugs.is_empty() {
                outln!("no bugs match");
            }
            if let Some(next) = page.next_before {
                outln!("more: --before {next}");
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

fn default_actor() -> String {
    ["SASHIKO_USER", "USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}
