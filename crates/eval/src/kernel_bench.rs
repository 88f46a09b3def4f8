//! Sashiko's benchmark format: a JSON array of entries with `Commit` (the
//! commit that introduced a bug), `Fixed-by` (the commit that fixed it),
//! `subsystem` and `problem_description`. With a kernel tree, each entry's
//! commit is formatted from the tree and reviewed.
//!
//! Deciding whether a finding describes `problem_description` needs
//! judgment; what this module decides mechanically is location: a finding
//! counts as located when it cites a file the fix changes and overlaps the
//! fix's pre-image hunks (exact only when no commit between the two
//! touched those lines). Every entry's findings and description are kept
//! for human judgment. Bad entries are reported and the rest still run.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use sashiko_ingest::git_range::{format_range, FormattedCommit};
use sashiko_llm::LlmClient;
use sashiko_pipeline::series::{patch_from_commit, single_patch_series};
use sashiko_review::{run_review, Finding, PromptSet, ReviewOptions, ReviewSeries};
use serde::{Deserialize, Serialize};

use crate::bench::Source;
use crate::measure::MeasuringClient;
use crate::stats::Proportion;

/// One entry of the benchmark file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct KernelBenchEntry {
    #[serde(rename = "Commit")]
    pub commit: String,
    #[serde(rename = "Fixed-by")]
    pub fixed_by: String,
    #[serde(default)]
    pub subsystem: String,
    #[serde(default)]
    pub problem_description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum KernelBenchError {
    #[error("cannot read benchmark file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("benchmark file {path} is not a JSON array: {detail}")]
    NotArray { path: PathBuf, detail: String },
}

/// Parsed entries and per-entry problems (`entry N: ...`).
#[derive(Debug, Default)]
pub struct KernelBenchFile {
    pub entries: Vec<KernelBenchEntry>,
    pub problems: Vec<String>,
}

/// Does this JSON text look like Sashiko's benchmark format?
pub fn looks_like_kernel_bench(text: &str) -> bool {
    serde_json::from_str::<Vec<serde_json::Value>>(text)
        .ok()
        .and_then(|items| items.first().cloned())
        .is_some_and(|first| first.get("Commit").is_some() && first.get("Fixed-by").is_some())
}

pub fn load(path: &Path) -> Result<KernelBenchFile, KernelBenchError> {
    let text = std::fs::read_to_string(path).map_err(|source| KernelBenchError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let items: Vec<serde_json::Value> =
        serde_json::from_str(&text).map_err(|error| KernelBenchError::NotArray {
            path: path.to_path_buf(),
            detail: error.to_string(),
        })?;
    let mut file = KernelBenchFile::default();
    for (number, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<KernelBenchEntry>(item) {
            Ok(entry) if entry.commit.trim().is_empty() => file
                .problems
                .push(format!("entry {}: empty Commit", number + 1)),
            Ok(entry) => file.entries.push(entry),
            Err(error) => file.problems.push(format!("entry {}: {error}", number + 1)),
        }
    }
    Ok(file)
}

/// Per file, the pre-image line spans a diff changes.
pub fn pre_image_spans(diff: &str) -> Vec<(String, u32, u32)> {
    let mut spans = Vec::new();
    let mut file = String::new();
    for line in diff.lines() {
        if let Some(path) = line.strip_prefix("--- ") {
            file = path.trim().trim_start_matches("a/").to_owned();
        } else if let Some(rest) = line.strip_prefix("@@ -") {
            let range = rest.split_whitespace().next().unwrap_or("");
            let mut parts = range.split(',');
            let start: u32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
            let count: u32 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1);
            if file != "/dev/null" && start > 0 {
                spans.push((file.clone(), start, start + count.max(1) - 1));
            }
        }
    }
    spans
}

fn series_of(commit: &FormattedCommit) -> ReviewSeries {
    single_patch_series(patch_from_commit(1, commit, None))
}

#[derive(Clone, Debug, Serialize)]
pub struct EntryOutcome {
    pub commit: String,
    pub fixed_by: String,
    pub subsystem: String,
    pub problem_description: String,
    /// A finding overlaps the fix's pre-image hunks.
    pub located: bool,
    pub findings: Vec<Finding>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub requests: usize,
    pub wall_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct KernelBenchReport {
    pub source: String,
    pub source_detail: Source,
    pub scripted: bool,
    pub model: String,
    pub entries: usize,
    pub failed: usize,
    /// Entries whose bug location a finding overlaps (location only; the
    /// description match is left to human judgment).
    pub located: Proportion,
    pub input_tokens_per_entry: f64,
    pub output_tokens_per_entry: f64,
    pub requests: usize,
    pub wall_ms: u64,
    pub problems: Vec<String>,
    pub outcomes: Vec<EntryOutcome>,
}

/// Review every entry's commit from `repo` and locate the fixed bug.
pub async fn run_kernel_bench(
    file: KernelBenchFile,
    repo: &Path,
    prompts: &PromptSet,
    client: Arc<dyn LlmClient>,
    source: Source,
    options: &ReviewOptions,
    progress: &(dyn Fn(&str) + Sync),
) -> KernelBenchReport {
    run_kernel_bench_counted(
        file,
        repo,
        prompts,
        client,
        source,
        options,
        progress,
        &|_, _| {},
    )
    .await
}

/// [`run_kernel_bench`], calling `reviewed(done, total)` after each entry
/// (for a progress bar; it only shows, never decides).
#[allow(
    clippy::too_many_arguments,
    reason = "run_kernel_bench's arguments plus the progress count"
)]
pub async fn run_kernel_bench_counted(
    file: KernelBenchFile,
    repo: &Path,
    prompts: &PromptSet,
    client: Arc<dyn LlmClient>,
    source: Source,
    options: &ReviewOptions,
    progress: &(dyn Fn(&str) + Sync),
    reviewed: &(dyn Fn(u64, u64) + Sync),
) -> KernelBenchReport {
    let total = file.entries.len() as u64;
    let mut done = 0u64;
    let started = Instant::now();
    let measuring = Arc::new(MeasuringClient::new(client.clone()));
    let as_client: Arc<dyn LlmClient> = measuring.clone();
    let mut outcomes = Vec::new();
    let mut problems = file.problems;
    for entry in file.entries {
        let begun = Instant::now();
        let mut outcome = EntryOutcome {
            commit: entry.commit.clone(),
            fixed_by: entry.fixed_by.clone(),
            subsystem: entry.subsystem.clone(),
            problem_description: entry.problem_description.clone(),
            located: false,
            findings: Vec::new(),
            input_tokens: 0,
            output_tokens: 0,
            requests: 0,
            wall_ms: 0,
            error: None,
        };
        let formatted = format_range(repo, &entry.commit).map(|range| range.commits);
        let fix = format_range(repo, &entry.fixed_by).map(|range| range.commits);
        match (formatted, fix) {
            (Ok(commits), Ok(fix_commits)) if commits.len() == 1 => {
                let spans: Vec<_> = fix_commits
                    .iter()
                    .flat_map(|commit| pre_image_spans(&commit.diff))
                    .collect();
                let quiet = |_: &str| {};
                match run_review(
                    prompts,
                    &series_of(&commits[0]),
                    Some(as_client.clone()),
                    options,
                    &quiet,
                )
                .await
                {
                    Ok(output) => {
                        outcome.located = output.findings.iter().any(|finding| {
                            spans.iter().any(|(file, start, end)| {
                                &finding.file == file
                                    && finding.line_start <= *end
                                    && finding.line_end >= *start
                            })
                        });
                        outcome.input_tokens = output.usage.total_input_tokens();
                        outcome.output_tokens = output.usage.output_tokens;
                        outcome.findings = output.findings;
                    }
                    Err(error) => outcome.error = Some(error.to_string()),
                }
            }
            (Ok(commits), Ok(_)) => {
                outcome.error = Some(format!(
                    "Commit {} selects {} commits, expected one",
                    entry.commit,
                    commits.len()
                ))
            }
            (Err(error), _) | (_, Err(error)) => outcome.error = Some(error.to_string()),
        }
        outcome.requests = measuring.take().len();
        outcome.wall_ms = u64::try_from(begun.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(error) = &outcome.error {
            progress(&format!("{}: {error}", entry.commit));
            problems.push(format!("{}: {error}", entry.commit));
        }
        outcomes.push(outcome);
        done += 1;
        reviewed(done, total);
    }
    let ok: Vec<&EntryOutcome> = outcomes.iter().filter(|o| o.error.is_none()).collect();
    let per = |total: u64| {
        if ok.is_empty() {
            0.0
        } else {
            total as f64 / ok.len() as f64
        }
    };
    KernelBenchReport {
        source: source.label(),
        scripted: source.is_scripted(),
        source_detail: source,
        model: client.model().to_owned(),
        entries: outcomes.len(),
        failed: outcomes.len() - ok.len(),
        located: Proportion::new(
            ok.iter().filter(|o| o.located).count() as u64,
            ok.len() as u64,
        ),
        input_tokens_per_entry: per(ok.iter().map(|o| o.input_tokens).sum()),
        output_tokens_per_entry: per(ok.iter().map(|o| o.output_tokens).sum()),
        requests: outcomes.iter().map(|o| o.requests).sum(),
        wall_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        problems,
        outcomes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pre_image_spans_follow_old_side_headers() {
        let diff = "diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -10,3 +10,4 @@ f\n x\n+y\n@@ -40 +41,2 @@\n-z\n+w\n+v\ndiff --git a/new.c b/new.c\n--- /dev/null\n+++ b/new.c\n@@ -0,0 +1 @@\n+n\n";
        assert_eq!(
            pre_image_spans(diff),
            vec![("mm/a.c".to_owned(), 10, 12), ("mm/a.c".to_owned(), 40, 40)]
        );
    }

    #[test]
    fn entries_parse_and_bad_ones_are_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bench.json");
        std::fs::write(
            &path,
            r#"[{"Commit": "abc", "Fixed-by": "def", "subsystem": "mm", "problem_description": "leak"},
                {"Commit": "", "Fixed-by": "x"},
                {"Fixed-by": "only"}]"#,
        )
        .expect("write");
        let file = load(&path).expect("loads");
        assert_eq!(file.entries.len(), 1);
        assert_eq!(file.entries[0].subsystem, "mm");
        assert_eq!(file.problems.len(), 2, "{:?}", file.problems);
        assert!(looks_like_kernel_bench(
            &std::fs::read_to_string(&path).expect("read")
        ));
        assert!(!looks_like_kernel_bench("[corpus]\nname = \"x\""));
    }
}
