//! `sashiko stats`: how often people agreed with the bot. Precision per
//! stage and per prompt-set version from the feedback classified out of
//! replies to our reviews (agree and fixed count as right, disagree as
//! wrong), and the outbox by state.

use crate::term::{jsonln, outln};
use std::process::ExitCode;

use anyhow::Context;

use crate::commands::db::{open_store, DbUrlArgs};

#[derive(clap::Args, Debug)]
pub struct StatsArgs {
    #[command(flatten)]
    pub db: DbUrlArgs,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

fn precision(right: i64, wrong: i64) -> Option<f64> {
    let total = right + wrong;
    (total > 0).then(|| right as f64 / total as f64)
}

pub async fn run(args: StatsArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.db).await?;
    let rows = store
        .feedback_by_stage_and_prompt_set()
        .await
        .context("reading feedback")?;
    let outbox = store.outbox_states().await.context("reading the outbox")?;
    if args.json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|row| {
                serde_json::json!({
                    "stage": row.stage, "prompt_set": row.prompt_set_hash,
                    "agree": row.agree, "fixed": row.fixed, "disagree": row.disagree,
                    "precision": precision(row.agree + row.fixed, row.disagree),
                })
            })
            .collect();
        let outbox: serde_json::Map<String, serde_json::Value> = outbox
            .iter()
            .map(|(state, count)| (state.clone(), (*count).into()))
            .collect();
        jsonln!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"feedback": rows, "outbox": outbox}))?
        );
    } else {
        outln!(
            "{:<18} {:<14} {:>6} {:>6} {:>9} {:>10}",
            "stage",
            "prompt set",
            "agree",
            "fixed",
            "disagree",
            "precision"
        );
        let mut by_stage: std::collections::BTreeMap<&str, (i64, i64)> =
            std::collections::BTreeMap::new();
        for row in &rows {
            let shown = precision(row.agree + row.fixed, row.disagree)
                .map_or("-".into(), |p| format!("{:.0}%", p * 100.0));
            outln!(
                "{:<18} {:<14} {:>6} {:>6} {:>9} {:>10}",
                row.stage,
                row.prompt_set_hash.chars().take(12).collect::<String>(),
                row.agree,
                row.fixed,
                row.disagree,
                shown
            );
            let slot = by_stage.entry(&row.stage).or_default();
            slot.0 += row.agree + row.fixed;
            slot.1 += row.disagree;
        }
        if rows.is_empty() {
            outln!("(no feedback on findings yet)");
        }
        outln!();
        for (stage, (right, wrong)) in by_stage {
            let shown =
                precision(right, wrong).map_or("-".into(), |p| format!("{:.0}%", p * 100.0));
            outln!("stage {stage}: {right} right, {wrong} wrong, precision {shown}");
        }
        let outbox: Vec<String> = outbox
            .iter()
            .map(|(state, count)| format!("{state} {count}"))
            .collect();
        outln!(
            "outbox: {}",
            if outbox.is_empty() {
                "empty".to_string()
            } else {
                outbox.join(", ")
            }
        );
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
