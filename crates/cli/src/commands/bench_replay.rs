//! `sashiko bench --replay LIST.mbox --tree TREE`: replay every complete
//! series of a list slice against a kernel tree as the worker would
//! (applied on its base-commit, the configured base, 3-way or with fuzz;
//! reviewed with the tree context it got) and print how they applied,
//! panics, wall time, prompt tokens, context snippets and what the budget
//! left out (`sashiko_eval::replay`).
//!
//! The model is the scripted fake (`sashiko-llm-fake`, the real OpenAI
//! wire protocol on 127.0.0.1) answering no findings: the figures measure
//! applying, context and budget, never review quality, and say so.

use crate::term::{out, outln};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use sashiko_eval::replay::{run_replay, ReplayOptions, ReplayReport};
use sashiko_llm::{LlmClient, ProviderConfig, ProviderKind, RetryConfig};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_pipeline::AnalyzerSettings;
use sashiko_review::{PromptSet, ReviewOptions, ReviewSettings};

use super::bench::{print_json, progress_printer, BenchFormat, ReviewBenchArgs};
use crate::settings::{FlagSettings, Settings};

/// The fake's answers: a valid, empty answer for every stage.
fn silent_script() -> FakeScript {
    FakeScript::new()
        .stage_default(
            "verify",
            FakeAnswer::json(serde_json::json!({"decisions": []})),
        )
        .stage_default(
            "report",
            FakeAnswer::json(serde_json::json!({"comments": []})),
        )
        .default_answer(FakeAnswer::json(serde_json::json!({"findings": []})))
}

fn fake_client(server: &FakeLlmServer) -> anyhow::Result<Arc<dyn LlmClient>> {
    let mut config = ProviderConfig::new(ProviderKind::Openai)
        .with_base_url(server.base_url())
        .with_model("fake-silent")
        .with_api_key("sk-local-fake");
    config.retry = RetryConfig {
        max_retries: 0,
        ..config.retry
    };
    sashiko_llm::connect(&config).context("connecting to the fake model")
}

pub async fn run(args: &ReviewBenchArgs, list: PathBuf) -> anyhow::Result<ExitCode> {
    let Some(tree) = args.tree.clone() else {
        bail!(
            "--replay {} needs --tree KERNEL_TREE: the git tree the series are applied to",
            list.display()
        );
    };
    if args.corpus.is_some() {
        bail!("--replay takes a list slice instead of a CORPUS: give one or the other");
    }
    if !list.is_file() {
        bail!("--replay {}: not a readable mbox file", list.display());
    }
    sashiko_pipeline::tree::apply::open_tree(&tree)
        .with_context(|| format!("--tree {} is not a git repository", tree.display()))?;
    let settings = Settings::load(&FlagSettings {
        db: None,
        provider: None,
        model: None,
        base_url: None,
        prompts: args.prompts.clone(),
    })?;
    let prompt_source = settings.prompt_source();
    let prompts = PromptSet::load_from(&prompt_source)
        .with_context(|| format!("loading the prompt set from {prompt_source}"))?;
    let options = ReplayOptions {
        tree,
        base: args.base.clone(),
        limit: args.limit,
        review: ReviewOptions {
            settings: ReviewSettings {
                max_attempts: args.max_attempts.max(1),
                max_output_tokens: settings.llm.max_output_tokens.unwrap_or(4096),
                ..ReviewSettings::default()
            },
            ..ReviewOptions::default()
        },
        analyzers: args.analyzers.then(AnalyzerSettings::default),
    };
    let server = FakeLlmServer::start(silent_script()).await;
    let client = fake_client(&server)?;
    let progress = progress_printer();
    let report = run_replay(&list, &prompts, client, &options, &progress).await;
    server.stop().await;
    let report = report?;
    match args.format {
        BenchFormat::Json => print_json(&report)?,
        BenchFormat::Text => out!("{}", render(&report)),
    }
    if report.panics > 0 {
        outln!("sashiko bench: {} series panicked", report.panics);
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// The replay's figures for people.
pub fn render(report: &ReplayReport) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "replay {} on {}", report.list, report.tree);
    let _ = writeln!(
        text,
        "model: {} (scripted fake, answers no findings: these figures measure applying, context and budget){}",
        report.model,
        if report.analyzers {
            ", with the tree's analyzers"
        } else {
            ", without the tree's analyzers"
        }
    );
    let _ = writeln!(
        text,
        "series: {} replayed of {} complete ({} in the slice), {} patches",
        report.replayed, report.complete, report.series_in_slice, report.patches
    );
    let applied: Vec<String> = report
        .applied
        .iter()
        .filter(|(status, _)| !matches!(status.as_str(), "not_applied" | "no_tree" | "panic"))
        .map(|(status, count)| format!("{status} {count}"))
        .collect();
    let _ = writeln!(
        text,
        "applied: {} ({})",
        report.applied_total,
        if applied.is_empty() {
            "none".to_owned()
        } else {
            applied.join(", ")
        }
    );
    let reasons: Vec<String> = report
        .not_applied
        .iter()
        .map(|(reason, count)| format!("{reason} {count}"))
        .collect();
    let _ = writeln!(
        text,
        "reviewed without tree: {}{}",
        report.without_tree,
        if reasons.is_empty() {
            String::new()
        } else {
            format!(" (did not apply: {})", reasons.join(", "))
        }
    );
    let _ = writeln!(text, "panics: {}", report.panics);
    let _ = writeln!(text, "failed reviews: {}", report.failed);
    let _ = writeln!(
        text,
        "wall per series: p50 {} ms, p95 {} ms (apply and context: p50 {} ms, p95 {} ms); total {} ms",
        report.wall_ms_p50,
        report.wall_ms_p95,
        report.tree_ms_p50,
        report.tree_ms_p95,
        report.total_ms
    );
    let _ = writeln!(
        text,
        "prompt tokens per patch: {:.0}",
        report.prompt_tokens_per_patch
    );
    let _ = writeln!(
        text,
        "context snippets per patch: {:.1}",
        report.context_snippets_per_patch
    );
    let left = &report.left_out;
    let _ = writeln!(
        text,
        "budget left out: {} enclosing functions, {} definitions, {} callers; {} functions windowed, {} series split, {} messages shortened, {} other notes",
        left.enclosing,
        left.definitions,
        left.callers,
        left.windowed,
        left.split,
        left.messages,
        left.other
    );
    for outcome in &report.outcomes {
        let _ = writeln!(
            text,
            "  {} v{} ({} patches): {} in {} ms, {} prompt tokens, {} snippets{}",
            outcome.title,
            outcome.version,
            outcome.patches,
            outcome.tree_status,
            outcome.wall_ms,
            outcome.prompt_tokens,
            outcome.context_snippets,
            outcome
                .panic
                .as_deref()
                .or(outcome.error.as_deref())
                .map(|why| format!(": {why}"))
                .unwrap_or_default()
        );
    }
    text
}
