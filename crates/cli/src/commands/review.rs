//! `sashiko review INPUT...`: review local commits, an mbox, stdin or a
//! Message-ID with the same prompts and policies as the list bot; store
//! the review; print a terse report (text) or one JSON document.
//!
//! Exit codes: 0 when no finding reaches `--fail-on`, 1 when one does,
//! 2 on error. A review that fails is stored as failed, never finished.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use sashiko_llm::LlmClient;
use sashiko_report::json::ReviewMeta;
use sashiko_review::{run_review, PromptSet, ReviewOptions, ReviewOutput, Severity};
use sashiko_store::{
    NewFinding, NewMessage, NewPatch, NewReview, NewSeriesVersion, ReviewOutcome, ReviewStatus,
    Store,
};

use crate::inputs::{load_inputs, InputOptions, LoadedSeries};
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
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, default_value = "high")]
    pub fail_on: Severity,
    /// LLM provider: openai (any OpenAI-compatible server), anthropic, gemini.
    #[arg(long)]
    pub provider: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    /// e.g. http://127.0.0.1:11434/v1 for Ollama.
    #[arg(long)]
    pub base_url: Option<String>,
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
}

pub async fn run(args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&FlagSettings {
        db: args.db.clone(),
        provider: args.provider.clone(),
        model: args.model.clone(),
        base_url: args.base_url.clone(),
        prompts: args.prompts.clone(),
    })?;
    let prompts = PromptSet::load(&settings.prompts)
        .with_context(|| format!("loading the prompt set from {}", settings.prompts.display()))?;
    let loaded = load_inputs(
        &args.inputs,
        &InputOptions {
            repo: &args.repo,
            lore_base: args.lore_base.as_deref(),
        },
    )
    .await?;
    let client = connect_model(&settings)?;
    let store = Store::connect(&settings.db).await.with_context(|| {
        format!(
            "opening the database {}",
            sashiko_store::redact_url(&settings.db)
        )
    })?;
    store.migrate().await.context("migrating the database")?;

    let options = ReviewOptions {
        max_attempts: args.max_attempts.max(1),
        max_output_tokens: settings.llm.max_output_tokens.unwrap_or(4096),
        ..ReviewOptions::default()
    };
    let mut documents = Vec::new();
    let mut worst: Option<Severity> = None;
    for series in &loaded {
        for note in &series.notes {
            eprintln!("sashiko: note: {note}");
        }
        let reviewed = review_one(&store, &prompts, series, client.clone(), &options).await?;
        worst = worst.max(reviewed.output.findings.iter().map(|f| f.severity).max());
        let meta = ReviewMeta {
            review_id: Some(reviewed.review_id),
            status: reviewed.status.as_str(),
            provider: client.as_ref().map(|c| c.provider()),
            model: client.as_ref().map(|c| c.model()),
            endpoint: None,
            source: &series.source,
            wall_ms: reviewed.wall_ms,
        };
        match args.format {
            OutputFormat::Text => print!(
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
        println!("{}", serde_json::to_string_pretty(&document)?);
    }
    store.close().await;
    Ok(match worst {
        Some(severity) if severity >= args.fail_on => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    })
}

fn connect_model(settings: &Settings) -> anyhow::Result<Option<Arc<dyn LlmClient>>> {
    let Some(config) = settings.llm.provider_config()? else {
        return Ok(None);
    };
    let client = sashiko_llm::connect(&config).context("connecting to the configured model")?;
    Ok(Some(client))
}

struct Reviewed {
    review_id: i64,
    status: ReviewStatus,
    output: ReviewOutput,
    wall_ms: u64,
}

async fn review_one(
    store: &Store,
    prompts: &PromptSet,
    loaded: &LoadedSeries,
    client: Option<Arc<dyn LlmClient>>,
    options: &ReviewOptions,
) -> anyhow::Result<Reviewed> {
    for message in &loaded.messages {
        store
            .upsert_message(&NewMessage {
                message_id: &message.message_id,
                raw: &message.raw,
                subject: &message.subject,
                author: &message.author,
                date: message.date.clone(),
                list: None,
                in_reply_to: message.in_reply_to.as_deref(),
            })
            .await
            .with_context(|| format!("storing message {}", message.message_id))?;
    }
    let series = &loaded.series;
    let version_id = store
        .upsert_series_version(&NewSeriesVersion {
            series_key: loaded.series_key.clone(),
            title: series.title.clone(),
            author: series
                .patches
                .first()
                .map(|p| p.author.clone())
                .unwrap_or_default(),
            version: series.version,
            total: u32::try_from(series.patches.len()).unwrap_or(u32::MAX),
            cover_message_id: loaded.cover_message_id.clone(),
            patches: series
                .patches
                .iter()
                .zip(&loaded.patch_ids)
                .map(|(patch, patch_id)| NewPatch {
                    index: patch.index,
                    message_id: patch.message_id.clone().unwrap_or_default(),
                    subject: patch.subject.clone(),
                    author: patch.author.clone(),
                    commit_message: patch.commit_message.clone(),
                    diff: patch.diff.clone(),
                    patch_id: patch_id.clone(),
                })
                .collect(),
        })
        .await
        .with_context(|| format!("storing series {:?}", series.title))?;
    let review_id = store
        .start_review(&NewReview {
            series_version: version_id,
            provider: client.as_ref().map(|c| c.provider().to_owned()),
            model: client.as_ref().map(|c| c.model().to_owned()),
            prompt_set_hash: prompts.hash.clone(),
            guides: Vec::new(),
            runs: 1,
        })
        .await
        .context("recording the start of the review")?;

    let started = Instant::now();
    let show_progress = std::io::stderr().is_terminal();
    let progress = move |line: &str| {
        if show_progress {
            eprintln!("sashiko: {line}");
        }
    };
    let result = run_review(prompts, series, client.clone(), options, &progress).await;
    let wall_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let model = client.as_ref().map(|c| c.model().to_owned());
    match result {
        Ok(output) => {
            let status = if output.compromised {
                ReviewStatus::Compromised
            } else {
                ReviewStatus::Finished
            };
            let outcome = ReviewOutcome {
                status,
                findings: output
                    .findings
                    .iter()
                    .map(|finding| NewFinding {
                        patch_index: finding.patch_index,
                        file: finding.file.clone(),
                        line_start: finding.line_start,
                        line_end: finding.line_end,
                        stage: finding.stage.clone(),
                        severity: finding.severity.as_str().to_owned(),
                        problem: finding.problem.clone(),
                        severity_explanation: finding.severity_explanation.clone(),
                        preexisting: finding.preexisting,
                        locations: serde_json::to_value(&finding.locations).unwrap_or_default(),
                        evidence: (!finding.evidence.is_empty())
                            .then(|| serde_json::to_value(&finding.evidence).unwrap_or_default()),
                        model: model.clone(),
                        prompt_set_hash: prompts.hash.clone(),
                        fingerprint: finding.fingerprint(),
                    })
                    .collect(),
                usage: serde_json::to_value(output.usage)?,
                cost_usd: None,
                skipped_stages: output.skipped_stages().map(|s| s.name.clone()).collect(),
                error: None,
                wall_ms,
            };
            store
                .finish_review(review_id, &outcome)
                .await
                .context("storing the review's findings")?;
            Ok(Reviewed {
                review_id: review_id.0,
                status,
                output,
                wall_ms,
            })
        }
        Err(error) => {
            let outcome = ReviewOutcome {
                status: ReviewStatus::Failed,
                findings: Vec::new(),
                usage: serde_json::Value::Null,
                cost_usd: None,
                skipped_stages: Vec::new(),
                error: Some(error.to_string()),
                wall_ms,
            };
            if let Err(store_error) = store.finish_review(review_id, &outcome).await {
                eprintln!(
                    "sashiko: could not record the failed review {}: {store_error}",
                    review_id.0
                );
            }
            Err(anyhow::Error::new(error).context(format!(
                "review of {:?} ({}) failed",
                series.title, loaded.source
            )))
        }
    }
}
