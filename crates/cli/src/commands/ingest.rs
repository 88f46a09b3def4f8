//! `sashiko ingest SOURCE...`: read mail sources into the database and
//! print what was read, stored new, already stored, and how many series
//! were assembled.
//!
//! Glue only: parsing `SOURCE`, reading and storing live in
//! `sashiko-ingest`. A source that cannot be read is reported by name and
//! the others are still ingested (exit 1); this module must never swallow
//! such a failure or print a count it did not get from the pipeline.

use crate::term::{errln, jsonln, outln};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sashiko_ingest::{
    ingest_with_progress, CursorStore, IngestOptions, IngestReport, IngestStep,
    JsonFileCursorStore, SourceSpec, StoreCursorStore,
};

use sashiko_store::{redact_url, Store};

use crate::settings::{FlagSettings, Settings};

/// Diagnostics printed in text mode before the rest is summarized.
const SHOWN_DIAGNOSTICS: usize = 20;

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// Where to read mail: `mbox:PATH` (also `mboxrd:`/`mboxo:` to force
    /// the escaping), `maildir:PATH`, `public-inbox:GITDIR` (an epoch
    /// `git/N.git` or a v2 inbox directory), `nntp://HOST[:PORT]/GROUP`,
    /// `lore:BASE/LIST/MSGID` or `lore:MSGID`, or a bare path (an mbox file,
    /// a maildir or a git directory, detected).
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST/DB` (default:
    /// $SASHIKO_DB, the configuration file, then
    /// sqlite:$XDG_DATA_HOME/sashiko/sashiko.db).
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// Store this list name with every message instead of its List-Id.
    #[arg(long)]
    pub list: Option<String>,

    /// Keep the sources' resume points in this JSON file instead of the
    /// database.
    #[arg(long, value_name = "FILE")]
    pub cursor_file: Option<PathBuf>,

    /// Save each source's resume point after this many stored messages.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub cursor_every: u64,

    /// Store messages only; do not assemble series.
    #[arg(long)]
    pub no_series: bool,

    /// Output: text for people, or json (one document on standard output).
    #[arg(long, value_enum, default_value_t = IngestFormat::Text)]
    pub format: IngestFormat,
}

/// How the counts are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum IngestFormat {
    Text,
    Json,
}

/// Connects to the database in force and applies pending migrations.
async fn open_store(db: Option<String>) -> anyhow::Result<Store> {
    let settings = Settings::load(&FlagSettings {
        db,
        ..FlagSettings::default()
    })?;
    let url = settings.db;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(&url)))?;
    store
        .migrate()
        .await
        .with_context(|| format!("migrating the database {}", redact_url(&url)))?;
    Ok(store)
}

pub async fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let mut specs = Vec::new();
    let mut bad_specs = Vec::new();
    for text in &args.sources {
        match text.parse::<SourceSpec>() {
            Ok(spec) => specs.push(spec),
            Err(error) => bad_specs.push((text.clone(), error.to_string())),
        }
    }
    let store = open_store(args.db.clone()).await?;
    let cursors: Box<dyn CursorStore> = match &args.cursor_file {
        Some(path) => Box::new(
            JsonFileCursorStore::open(path)
                .with_context(|| format!("opening the cursor file {}", path.display()))?,
        ),
        None => Box::new(StoreCursorStore::new(store.clone())),
    };
    let options = IngestOptions {
        list: args.list.clone(),
        cursor_every: args.cursor_every.max(1),
        assemble_series: !args.no_series,
        interrupt_after: None,
    };
    // A counting bar per source on a terminal (sources do not know their
    // size up front), left as one line per source when it is done.
    let bar: std::sync::Mutex<Option<SourceBar>> = std::sync::Mutex::new(None);
    let show = |step: IngestStep<'_>| {
        let Ok(mut bar) = bar.lock() else {
            return;
        };
        match step {
            IngestStep::Source { source } => {
                SourceBar::finish(bar.take());
                *bar = Some(SourceBar {
                    bar: crate::progress::Bar::new(&format!("ingest {source}"), 0),
                    source: source.to_owned(),
                    read: 0,
                });
            }
            IngestStep::Messages { read } => {
                if let Some(bar) = bar.as_mut() {
                    bar.read = read;
                    bar.bar.advance(1);
                }
            }
            IngestStep::Series => {
                SourceBar::finish(bar.take());
                crate::progress::line("ingest: assembling series");
            }
        }
    };
    let result = ingest_with_progress(&specs, &store, cursors.as_ref(), &options, &show).await;
    if let Ok(mut bar) = bar.lock() {
        SourceBar::finish(bar.take());
    }
    let mut report = result.context("ingesting mail")?;
    report.failed_sources.splice(0..0, bad_specs);
    store.close().await;
    print_report(&report, args.format)?;
    Ok(if report.failed_sources.is_empty() {
        ExitCode::SUCCESS
    } else if report.failed_sources.len() == args.sources.len() {
        ExitCode::from(crate::EXIT_ERROR)
    } else {
        ExitCode::from(1)
    })
}

/// The progress bar of the source being read.
struct SourceBar {
    bar: crate::progress::Bar,
    source: String,
    read: u64,
}

impl SourceBar {
    fn finish(bar: Option<SourceBar>) {
        if let Some(done) = bar {
            done.bar.finish(&format!(
                "ingest {}: {} message(s) read",
                done.source, done.read
            ));
        }
    }
}

fn print_report(report: &IngestReport, format: IngestFormat) -> anyhow::Result<()> {
    for (source, error) in &report.failed_sources {
        errln!("sashiko: cannot ingest {source}: {error}");
    }
    match format {
        IngestFormat::Json => {
            let json = serde_json::to_string_pretty(report).context("encoding the report")?;
            jsonln!("{json}");
        }
        IngestFormat::Text => {
            for diagnostic in report.diagnostics.iter().take(SHOWN_DIAGNOSTICS) {
                errln!("sashiko: note: {diagnostic}");
            }
            if report.diagnostics.len() > SHOWN_DIAGNOSTICS {
                errln!(
                    "sashiko: note: {} more diagnostics (see --format json)",
                    report.diagnostics.len() - SHOWN_DIAGNOSTICS
                );
            }
            let counts = &report.counts;
            outln!("messages read:      {}", counts.messages_read);
            outln!("messages new:       {}", counts.messages_new);
            outln!("messages duplicate: {}", counts.messages_duplicate);
            if counts.messages_rejected > 0 {
                outln!(
                    "messages rejected:  {} (refused by the database; kept with the reason in ingest_rejects)",
                    counts.messages_rejected
                );
            }
            if report.series_unchanged {
                outln!("series:             unchanged (no new messages)");
            } else {
                outln!("series:             {}", counts.series);
            }
            outln!("pull requests:      {}", counts.pull_requests);
            outln!("diagnostics:        {}", counts.diagnostics);
        }
    }
    Ok(())
}
