//! `sashiko jobs`: list queued, running and finished jobs with their
//! status, attempts and worker, and the reviews each attempt started
//! (`finished`, `failed`, `interrupted` when the attempt's worker was lost,
//! ...). Read-only: it never changes a job.

use crate::term::{jsonln, outln};
use std::process::ExitCode;

use sashiko_store::JobStatus;

use crate::commands::db::{open_store, DbUrlArgs};
use crate::commands::review::OutputFormat;

#[derive(clap::Args, Debug)]
pub struct JobsArgs {
    #[command(flatten)]
    pub db: DbUrlArgs,
    /// Only jobs in this status: queued, running, done, dead, superseded.
    #[arg(long)]
    pub status: Option<String>,
    /// Most jobs to list, newest first.
    #[arg(long, default_value_t = 100)]
    pub limit: u32,
    /// Output: text for people, or json (one document on standard output).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

pub async fn run(args: JobsArgs) -> anyhow::Result<ExitCode> {
    let status = args
        .status
        .as_deref()
        .map(str::parse::<JobStatus>)
        .transpose()?;
    let store = open_store(&args.db).await?;
    let jobs = store.list_jobs(status, args.limit).await?;
    let ids: Vec<i64> = jobs.iter().map(|job| job.id).collect();
    let reviews = store.job_reviews(&ids).await?;
    let reviews_of = |id: i64| reviews.iter().filter(move |review| review.job_id == id);
    match args.format {
        OutputFormat::Json => {
            let mut listed = Vec::with_capacity(jobs.len());
            for job in &jobs {
                let mut value = serde_json::to_value(job)?;
                if let Some(object) = value.as_object_mut() {
                    let of_job: Vec<_> = reviews_of(job.id).collect();
                    object.insert("reviews".to_string(), serde_json::to_value(of_job)?);
                }
                listed.push(value);
            }
            jsonln!("{}", serde_json::to_string_pretty(&listed)?);
        }
        OutputFormat::Text => {
            let counts = store.job_counts().await?;
            let summary: Vec<String> = counts
                .iter()
                .map(|(status, count)| format!("{} {count}", status.as_str()))
                .collect();
            outln!("jobs: {}", summary.join(", "));
            for job in &jobs {
                let what = job
                    .payload
                    .get("title")
                    .and_then(|title| title.as_str())
                    .unwrap_or(job.kind.as_str());
                outln!(
                    "{:>6} {:<10} attempts {}/{} prio {:>3} {:<28} {}",
                    job.id,
                    job.status.as_str(),
                    job.attempts,
                    job.max_attempts,
                    job.priority,
                    job.worker.as_deref().unwrap_or("-"),
                    what
                );
                if let Some(error) = &job.last_error {
                    outln!("       last error: {error}");
                }
                for review in reviews_of(job.id) {
                    outln!(
                        "       attempt {} review {} {}{}",
                        review.attempt,
                        review.review_id,
                        review.status,
                        review
                            .error
                            .as_deref()
                            .map(|error| format!(": {error}"))
                            .unwrap_or_default()
                    );
                }
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
