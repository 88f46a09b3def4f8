//! Coccinelle in report mode on the C files a series changes.
//!
//! The baseline and end-state versions of every changed `.c` file and the
//! chosen semantic patches (from the baseline's scripts/coccinelle) are
//! written into a scratch directory as `a/PATH`, `b/PATH` and
//! `cocci/SCRIPT`; each script runs once over both versions of the files it
//! is relevant to, so a report the baseline already had is recognised and
//! never blamed on the series. Only reports on or next to changed lines
//! are kept: new ones become the series' findings, old ones pre-existing
//! bug candidates. Scripts run most relevant first, two at a time by
//! default, until the budget is spent; the report names the scripts that
//! ran and those the budget left out.

mod prepare;
pub mod report;
pub mod scripts;
pub mod select;

use std::collections::BTreeMap;
use std::time::Instant;

use sashiko_review::analysis::{
    AnalyzerMessage, AnalyzerRun, AnalyzerState, AnalyzerTool, MessageLevel,
};
use sashiko_review::ReviewSeries;

use crate::budget::{self, Budget, JobResult};
use crate::lines;
use crate::process::{self, Invocation};
use crate::{millis, CoccinelleSettings, TreeInput};
use prepare::{Prepared, PreparedFile};
use report::{Report, Verdict};
use scripts::Script;

/// Which version of a file a report is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Side {
    Baseline,
    EndState,
}

/// At most this many bytes of source (both versions) per spatch process,
/// so one slow script on a large series is cut into pieces that each fit
/// the per-script limit.
const MAX_JOB_BYTES: usize = 600_000;

/// Run the relevant semantic patches on the series' changed C files.
pub async fn run(
    settings: &CoccinelleSettings,
    tree: Option<&TreeInput>,
    series: &ReviewSeries,
) -> AnalyzerRun {
    let started = Instant::now();
    let mut report = match run_inner(settings, tree, series).await {
        Ok(report) => report,
        Err(Stop::Skipped(reason)) => AnalyzerRun::skipped(AnalyzerTool::Coccinelle, reason),
        Err(Stop::NotApplicable(reason)) => AnalyzerRun {
            state: AnalyzerState::NotApplicable,
            ..AnalyzerRun::skipped(AnalyzerTool::Coccinelle, reason)
        },
        Err(Stop::Failed(reason)) => AnalyzerRun {
            state: AnalyzerState::Failed,
            ..AnalyzerRun::skipped(AnalyzerTool::Coccinelle, reason)
        },
    };
    report.elapsed_ms = millis(started.elapsed());
    report
}

/// Why Coccinelle did not run through.
pub(crate) enum Stop {
    Skipped(String),
    NotApplicable(String),
    Failed(String),
}

/// One spatch process: a script over some files, both versions.
struct Job {
    script: usize,
    files: Vec<usize>,
}

async fn run_inner(
    settings: &CoccinelleSettings,
    tree: Option<&TreeInput>,
    series: &ReviewSeries,
) -> Result<AnalyzerRun, Stop> {
    let Some(tree) = tree else {
        return Err(Stop::Skipped(
            "no tree with the series applied (Coccinelle compares the changed files before and after the series)".to_owned(),
        ));
    };
    let Some(end_state) = tree.end_state else {
        return Err(Stop::Skipped(
            "the series is not applied to the tree (Coccinelle compares the changed files before and after the series)".to_owned(),
        ));
    };
    let Some(spatch) = process::find_program(&settings.spatch) else {
        return Err(Stop::Skipped(format!(
            "spatch ({}) is not installed (Debian package coccinelle)",
            settings.spatch.display()
        )));
    };
    let prepared = prepare::prepare(tree, end_state, settings.whole_files).await?;
    let version = spatch_version(&spatch).await;
    let ocaml = ["ocamlopt", "ocamlopt.opt"]
        .iter()
        .any(|name| process::find_program(std::path::Path::new(name)).is_some());
    let mut notes = prepared.notes.clone();
    if !settings.whole_files {
        notes.push(
            "spatch saw the changed functions only (other function bodies blanked, line numbers kept)"
                .to_owned(),
        );
    }
    let mut failed = Vec::new();
    let mut runnable = Vec::new();
    for (index, script) in prepared.scripts.iter().enumerate() {
        let chosen = settings.scripts.is_empty()
            || settings
                .scripts
                .iter()
                .any(|prefix| script.name.starts_with(prefix.as_str()));
        if !script.has_report || !chosen {
            continue;
        }
        if script.needs_ocaml && !ocaml {
            failed.push((
                script.name.clone(),
                "needs OCaml scripting (ocamlopt is not installed)".to_owned(),
            ));
            continue;
        }
        if let (Some(need), Some(have)) = (&script.requires, &version) {
            if !scripts::version_at_least(have, need) {
                failed.push((
                    script.name.clone(),
                    format!("needs spatch {need}, this is {have}"),
                ));
                continue;
            }
        }
        runnable.push(index);
    }
    let (jobs, not_relevant) = plan_jobs(&prepared, &runnable);
    notes.push(format!(
        "{} changed C file(s); {} script(s) relevant to what the changed code calls, {} not",
        prepared.files.len(),
        jobs.iter()
            .map(|job| job.script)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        not_relevant
    ));
    let invocations: Vec<Invocation> = jobs
        .iter()
        .map(|job| invocation(settings, &spatch, &prepared, job))
        .collect();
    let results = budget::run_all(
        &invocations,
        Budget {
            jobs: settings.jobs,
            wall: settings.wall_budget,
            cpu: settings.cpu_budget,
            job_timeout: settings.script_timeout,
        },
    )
    .await;
    let cpu: std::time::Duration = results.iter().map(JobResult::cpu).sum();
    let outcome = collect(&prepared, &jobs, results, settings, series);
    notes.extend(outcome.notes);
    failed.extend(outcome.failed);
    Ok(AnalyzerRun {
        tool: AnalyzerTool::Coccinelle,
        state: AnalyzerState::Ran,
        reason: None,
        source: format!(
            "spatch {} with scripts/coccinelle of the tree at {}",
            version.as_deref().unwrap_or("(unknown version)"),
            tree.baseline.to_string().get(..12).unwrap_or("")
        ),
        messages: outcome.messages,
        ran: outcome.ran,
        skipped_for_budget: outcome.skipped_for_budget,
        failed,
        notes,
        elapsed_ms: 0,
        cpu_ms: millis(cpu),
    })
}

/// The first line of `spatch --version`: `spatch version 1.1.1 ...`.
async fn spatch_version(spatch: &std::path::Path) -> Option<String> {
    let outcome = process::run(&Invocation {
        program: spatch.to_path_buf(),
        args: vec!["--version".to_owned()],
        cwd: std::env::temp_dir(),
        env: vec![],
        timeout: std::time::Duration::from_secs(10),
    })
    .await
    .ok()?;
    let words: Vec<&str> = outcome.stdout.lines().next()?.split_whitespace().collect();
    let at = words.iter().position(|word| *word == "version")?;
    words.get(at + 1).map(|version| (*version).to_owned())
}

/// Jobs in order of relevance (highest script score first), and how many
/// runnable scripts were relevant to no changed file.
fn plan_jobs(prepared: &Prepared, runnable: &[usize]) -> (Vec<Job>, usize) {
    let mut ranked: Vec<(u32, usize, Vec<usize>)> = Vec::new();
    let mut not_relevant = 0;
    for &index in runnable {
        let script = &prepared.scripts[index];
        let scored: Vec<(usize, u32)> = prepared
            .files
            .iter()
            .enumerate()
            .map(|(file, prepared_file)| (file, select::score(script, &prepared_file.calls)))
            .filter(|(_, score)| *score > 0)
            .collect();
        match scored.iter().map(|(_, score)| *score).max() {
            Some(best) => {
                ranked.push((best, index, scored.iter().map(|(file, _)| *file).collect()))
            }
            None => not_relevant += 1,
        }
    }
    ranked.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| prepared.scripts[a.1].name.cmp(&prepared.scripts[b.1].name))
    });
    let mut jobs = Vec::new();
    for (_, script, files) in ranked {
        let mut chunk = Vec::new();
        let mut bytes = 0;
        for file in files {
            let size = prepared.files[file].bytes;
            if !chunk.is_empty() && bytes + size > MAX_JOB_BYTES {
                jobs.push(Job {
                    script,
                    files: std::mem::take(&mut chunk),
                });
                bytes = 0;
            }
            chunk.push(file);
            bytes += size;
        }
        if !chunk.is_empty() {
            jobs.push(Job {
                script,
                files: chunk,
            });
        }
    }
    (jobs, not_relevant)
}

fn invocation(
    settings: &CoccinelleSettings,
    spatch: &std::path::Path,
    prepared: &Prepared,
    job: &Job,
) -> Invocation {
    let script = &prepared.scripts[job.script];
    let mut args: Vec<String> = ["-D", "report", "--very-quiet", "--no-show-diff"]
        .iter()
        .map(|arg| (*arg).to_owned())
        .collect();
    args.push("--timeout".to_owned());
    args.push(settings.script_timeout.as_secs().max(1).to_string());
    for option in &script.options {
        if !args.contains(option) {
            args.push(option.clone());
        }
    }
    if !script
        .options
        .iter()
        .any(|option| option.ends_with("includes"))
    {
        args.push("--no-includes".to_owned());
    }
    args.push("--cocci-file".to_owned());
    args.push(format!("cocci/{}", script.name));
    for &file in &job.files {
        let file = &prepared.files[file];
        if let Some(baseline) = &file.scratch_baseline {
            args.push(baseline.clone());
        }
        args.push(file.scratch_end.clone());
    }
    Invocation {
        program: spatch.to_path_buf(),
        args,
        cwd: prepared.scratch.path().to_path_buf(),
        env: vec![(
            "HOME".to_owned(),
            prepared.scratch.path().display().to_string(),
        )],
        timeout: settings.script_timeout,
    }
}

/// What the jobs' output comes to.
struct Collected {
    messages: Vec<AnalyzerMessage>,
    ran: Vec<String>,
    skipped_for_budget: Vec<String>,
    failed: Vec<(String, String)>,
    notes: Vec<String>,
}

fn collect(
    prepared: &Prepared,
    jobs: &[Job],
    results: Vec<JobResult>,
    settings: &CoccinelleSettings,
    series: &ReviewSeries,
) -> Collected {
    let mut per_script: BTreeMap<usize, Vec<&'static str>> = BTreeMap::new();
    let mut failed = Vec::new();
    let mut messages = Vec::new();
    let mut away = 0;
    let mut unattributed = 0;
    let mut unparsed = Vec::new();
    for (job, result) in jobs.iter().zip(results) {
        let script = &prepared.scripts[job.script];
        let state = match result {
            JobResult::Finished(outcome) if outcome.success() => {
                let files = scratch_files(prepared, job);
                let mut reports = Vec::new();
                for parsed in report::parse(&outcome.stdout, &files) {
                    match parsed {
                        Ok(report) => reports.push(report),
                        Err(line) => unparsed.push(format!("{}: {line}", script.name)),
                    }
                }
                for &file in &job.files {
                    let prepared_file = &prepared.files[file];
                    let (found, far, lost) =
                        messages_for_file(script, prepared_file, &reports, settings, series);
                    messages.extend(found);
                    away += far;
                    unattributed += lost;
                }
                "ran"
            }
            JobResult::Finished(outcome) => {
                failed.push((script.name.clone(), outcome.first_error_line()));
                "failed"
            }
            JobResult::TimedOut(_) => {
                failed.push((
                    script.name.clone(),
                    format!(
                        "did not finish within {} s",
                        settings.script_timeout.as_secs()
                    ),
                ));
                "failed"
            }
            JobResult::StoppedAtDeadline(_) | JobResult::NotStarted => "budget",
            JobResult::SpawnFailed(error) => {
                failed.push((script.name.clone(), error));
                "failed"
            }
        };
        per_script.entry(job.script).or_default().push(state);
    }
    let mut ran = Vec::new();
    let mut skipped_for_budget = Vec::new();
    for (script, states) in per_script {
        let name = prepared.scripts[script].name.clone();
        if states.contains(&"budget") {
            skipped_for_budget.push(name);
        } else if states.iter().all(|state| *state == "ran") {
            ran.push(name);
        } else if states.contains(&"ran") {
            ran.push(format!("{name} (on part of the files)"));
        }
    }
    failed.sort();
    failed.dedup();
    let mut notes = Vec::new();
    if away > 0 {
        notes.push(format!(
            "{away} report(s) away from the changed lines were left out (not about this series)"
        ));
    }
    if unattributed > 0 {
        notes.push(format!(
            "{unattributed} report(s) near a change could not be matched to a patch's hunks and were left out"
        ));
    }
    if let Some(first) = unparsed.first() {
        notes.push(format!(
            "{} line(s) of spatch output were not reports, first: {first}",
            unparsed.len()
        ));
    }
    Collected {
        messages,
        ran,
        skipped_for_budget,
        failed,
        notes,
    }
}

/// (scratch path, side, repository path) of the files a job was given.
fn scratch_files(prepared: &Prepared, job: &Job) -> Vec<(String, Side, String)> {
    let mut files = Vec::new();
    for &file in &job.files {
        let file = &prepared.files[file];
        if let (Some(scratch), Some(path)) = (&file.scratch_baseline, &file.old_path) {
            files.push((scratch.clone(), Side::Baseline, path.clone()));
        }
        files.push((
            file.scratch_end.clone(),
            Side::EndState,
            file.new_path.clone(),
        ));
    }
    files
}

/// The messages one script's reports give for one file: new ones and
/// pre-existing ones near the change, attributed to a patch; plus counts
/// of reports away from the change and of ones no patch's hunks cover.
fn messages_for_file(
    script: &Script,
    file: &PreparedFile,
    reports: &[Report],
    settings: &CoccinelleSettings,
    series: &ReviewSeries,
) -> (Vec<AnalyzerMessage>, usize, usize) {
    let baseline: Vec<&Report> = reports
        .iter()
        .filter(|report| {
            report.side == Side::Baseline && Some(&report.file) == file.old_path.as_ref()
        })
        .collect();
    let mut found = Vec::new();
    let mut away = 0;
    let mut lost = 0;
    let mut seen = std::collections::BTreeSet::new();
    for end in reports
        .iter()
        .filter(|report| report.side == Side::EndState && report.file == file.new_path)
    {
        if !seen.insert((end.line, end.message.clone())) {
            continue;
        }
        let verdict = report::classify(end, &baseline, &file.map, settings.near_lines);
        if verdict == Verdict::AwayFromChange {
            away += 1;
            continue;
        }
        let Some((patch_index, line)) = lines::attribute(series, &file.new_path, end.line) else {
            lost += 1;
            continue;
        };
        let shift = i64::from(line) - i64::from(end.line);
        let related_lines = end
            .related_lines()
            .into_iter()
            .filter_map(|related| u32::try_from(i64::from(related) + shift).ok())
            .collect();
        found.push(AnalyzerMessage {
            tool: AnalyzerTool::Coccinelle,
            patch_index,
            file: Some(file.new_path.clone()),
            line: Some(line),
            check: script.name.clone(),
            level: level(script, &end.message),
            message: end.message.clone(),
            output: end.raw.clone(),
            related_lines,
            preexisting: verdict == Verdict::PreexistingNearChange,
        });
    }
    (found, away, lost)
}

/// The level of a report: its own `ERROR`/`WARNING` word, else by the kind
/// of script.
fn level(script: &Script, message: &str) -> MessageLevel {
    let upper = message.trim_start();
    if upper.starts_with("ERROR") {
        MessageLevel::Error
    } else if upper.starts_with("WARNING") {
        MessageLevel::Warning
    } else if matches!(
        script.category.as_str(),
        "locks" | "free" | "null" | "iterators"
    ) {
        MessageLevel::Bug
    } else {
        MessageLevel::Note
    }
}
