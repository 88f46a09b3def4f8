//! `sashiko review INPUT...`: review local commits, an mbox, stdin or a
//! Message-ID with the same prompts and policies as the list bot; store
//! the review; print a terse report (text) or one JSON document.
//!
//! Exit codes: 0 when no finding reaches `--fail-on`, 1 when one does,
//! 2 on error. A review that fails is stored as failed, never finished.

use crate::term::{errln, jsonln, out};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use sashiko_pipeline::prompts::load_prompts;
use sashiko_pipeline::review_runner::known_fingerprints;
use sashiko_pipeline::stored_keys::adopt_stored_series_keys;
use sashiko_pipeline::tree::{for_local, tree_maintainers};
use sashiko_pipeline::{connect_model, load_inputs, review_and_store, InputOptions};
use sashiko_report::json::{ReviewMeta, TreeView};
use sashiko_review::{ReviewInputs, ReviewOptions, ReviewSettings, Severity};
use sashiko_store::Store;

use crate::review_setup::cassette_mode;
use crate::settings::{FlagSettings, Settings};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug)]
pub struct ReviewArgs {
    /// Git revision or range (`HEAD~3..`, `A..B`, `A...B`, one commit), an
    /// mbox file, `-` for an mbox on stdin, or a Message-ID.
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Repository for git inputs.
    #[arg(long, default_value = ".")]
    pub repo: PathBuf,
    /// Output: text for people, or json (one document on standard output).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, default_value = "high", value_parser = crate::args::severity_parser())]
    pub fail_on: Severity,
    #[command(flatten)]
    pub model: crate::args::ModelArgs,
    /// Database URL (`sqlite:PATH`); default under $XDG_DATA_HOME/sashiko.
    #[arg(long)]
    pub db: Option<String>,
    /// Prompt set directory (default: the shipped prompts/).
    #[arg(long)]
    pub prompts: Option<PathBuf>,
    /// Base URL of a public-inbox server (e.g. lore) for Message-ID inputs.
    #[arg(long, env = "SASHIKO_LORE_BASE")]
    pub lore_base: Option<String>,
    /// Times a stage is asked again when its answer does not fit the schema.
    #[arg(long, default_value_t = 2)]
    pub max_attempts: u32,
    /// Review this many times and merge findings by similarity.
    #[arg(long, default_value_t = 1)]
    pub runs: u32,
    /// Extra or overriding subsystem guides (a directory with guides.toml).
    /// The reviewed tree's `.sashiko/guides` is used too when present.
    #[arg(long)]
    pub guides: Option<PathBuf>,
    /// With --runs: keep only findings raised in at least this many runs.
    #[arg(long, default_value_t = 1)]
    pub min_consensus: u32,
    /// For mail input: the revision of --repo to apply the series on
    /// (default: its base-commit: when the repository holds it, else
    /// HEAD); for commits: the baseline the model's tools are pinned to.
    #[arg(long)]
    pub base: Option<String>,
    /// Offer the model no repository tools, whatever the manifest says.
    #[arg(long)]
    pub no_tools: bool,
    /// Run this checkpatch.pl instead of the reviewed tree's
    /// scripts/checkpatch.pl (`[review.analyzers]` configures the rest).
    #[arg(long, value_name = "PATH")]
    pub checkpatch: Option<PathBuf>,
}

pub async fn run(args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&FlagSettings {
        db: args.db.clone(),
        provider: args.model.provider.clone(),
        model: args.model.model.clone(),
        base_url: args.model.base_url.clone(),
        prompts: args.prompts.clone(),
    })?;
    let mut loaded = load_inputs(
        &args.inputs,
        &InputOptions {
            repo: &args.repo,
            lore_base: args.lore_base.as_deref(),
        },
    )
    .await?;
    let guide_dirs = [Some(args.repo.join(".sashiko/guides")), args.guides.clone()]
        .into_iter()
        .flatten()
        .collect();
    let prompts = load_prompts(&settings.prompt_options(guide_dirs))?;
    for note in &prompts.notes {
        errln!("sashiko: note: {note}");
    }
    let prompts = prompts.prompts;
    let mut model = connect_model(settings.llm.provider_config()?.as_ref())?;
    // Stage lines with time and tokens on a terminal (not with --quiet).
    let watch = crate::stage_progress::StageWatch::new();
    if crate::progress::enabled() {
        if let Some(model) = &mut model {
            model.client = watch.wrap(model.client.clone());
        }
    }
    let store = Store::connect(&settings.db).await.with_context(|| {
        format!(
            "opening the database {}",
            sashiko_store::redact_url(&settings.db)
        )
    })?;
    store.migrate().await.context("migrating the database")?;
    adopt_stored_series_keys(&store, &mut loaded).await?;

    let maintainers = tree_maintainers(&args.repo);
    for diagnostic in maintainers.iter().flat_map(|m| &m.diagnostics) {
        errln!("sashiko: note: {diagnostic}");
    }
    let options = ReviewOptions {
        settings: ReviewSettings {
            max_attempts: args.max_attempts.max(1),
            runs: args.runs.max(1),
            deterministic_secrets: cassette_mode(),
            min_consensus: args.min_consensus.max(1),
            max_output_tokens: settings.llm.max_output_tokens.unwrap_or(4096),
            ..ReviewSettings::default()
        },
        inputs: ReviewInputs {
            known_fingerprints: known_fingerprints(&store).await?,
            maintainers,
            ..ReviewInputs::default()
        },
    };
    let analyzer_settings = settings.review.analyzers.settings(args.checkpatch.clone());
    let mut documents = Vec::new();
    let mut worst: Option<Severity> = None;
    let mut partial = false;
    for series in &loaded {
        for note in &series.notes {
            errln!("sashiko: note: {note}");
        }
        let progress = |line: &str| watch.report(line);
        // The series applied (mail) or read (commits) first: the
        // analyzers read the tree it gives.
        let mut tree = for_local(&prompts, &args.repo, series, args.base.as_deref())?;
        tree.analyzers = Some(sashiko_pipeline::analyzers::start(
            &analyzer_settings,
            tree.analysis_tree.clone(),
            &series.series,
        ));
        errln!("sashiko: {}", tree.summary);
        for note in &tree.notes {
            errln!("sashiko: note: {note}");
        }
        let mut series_options = tree.review_options(&options);
        if args.no_tools {
            series_options.inputs.tools = None;
        }
        let reviewed = review_and_store(
            &store,
            &prompts,
            series,
            model.as_ref(),
            &series_options,
            &tree.application,
            &progress,
        )
        .await?;
        for note in &reviewed.output.context_notes {
            errln!("sashiko: note: {note}");
        }
        worst = worst.max(reviewed.output.findings.iter().map(|f| f.severity).max());
        partial |= reviewed.output.failed_stages().next().is_some();
        let meta = ReviewMeta {
            review_id: Some(reviewed.review_id),
            status: reviewed.status.as_str(),
            provider: model.as_ref().map(|m| m.provider()),
            model: model.as_ref().map(|m| m.name()),
            endpoint: None,
            source: &series.source,
            wall_ms: reviewed.wall_ms,
            cost_usd: reviewed.cost_usd,
            runs: options.settings.runs,
            tree: Some(TreeView {
                status: tree.application.status.as_str(),
                base: tree.application.base.as_deref(),
                note: &tree.application.note,
            }),
        };
        match args.format {
            OutputFormat::Text => out!(
                "{}",
                sashiko_report::text::render(&series.series, &reviewed.output, &meta)
            ),
            OutputFormat::Json => documents.push(serde_json::to_value(
                sashiko_report::json::document(&series.series, &reviewed.output, &meta),
            )?),
        }
    }
    if args.format == OutputFormat::Json {
        let document = match documents.len() {
            1 => documents.remove(0),
            _ => serde_json::json!({ "reviews": documents }),
        };
        jsonln!("{}", serde_json::to_string_pretty(&document)?);
    }
    store.close().await;
    // A stage that failed after its retries: everything else was printed
    // above, and the exit status says the review is incomplete.
    if partial {
        errln!("sashiko: a stage failed after its retries; the review is partial (exit status 2)");
        return Ok(ExitCode::from(2));
    }
    Ok(match worst {
        Some(severity) if severity >= args.fail_on => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}
