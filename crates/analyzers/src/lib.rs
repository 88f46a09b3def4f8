//! The reviewed tree's own analyzers, run on a series: scripts/checkpatch.pl
//! (perl) on every patch, and Coccinelle's semantic patches under
//! scripts/coccinelle (`spatch` in report mode) on every changed C file
//! before and after the series. The result is a typed
//! [`sashiko_review::analysis::AnalyzerReports`]; the review engine turns
//! it into findings and evidence, and never runs anything itself.
//!
//! What this crate must never do: run anything the series brings (scripts
//! come from the baseline commit, or a path the user gave), read or write
//! the user's work tree (files come from git objects into scratch
//! directories), pass patch text through a shell, or take longer than its
//! budget. A tool that is missing makes its stage `skipped` with the
//! reason, never `passed`.

pub mod budget;
pub mod checkpatch;
pub mod coccinelle;
pub mod lines;
pub mod process;
pub mod snapshot;
mod started;

pub use started::Started;

use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::Oid;
use sashiko_review::analysis::{AnalyzerReports, AnalyzerRun, AnalyzerSource, AnalyzerTool};
use sashiko_review::ReviewSeries;

/// Why an analyzer could not prepare its inputs.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzerError {
    #[error("{what}: {message}")]
    Git { what: String, message: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("refusing to write the tree path {0:?} outside the scratch directory")]
    UnsafePath(String),
}

/// `[review.analyzers.checkpatch]`: how checkpatch.pl runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpatchSettings {
    pub enabled: bool,
    /// `--checkpatch PATH`: run this script instead of the tree's.
    pub path: Option<PathBuf>,
    /// Pass `--strict` (its CHECK messages become low findings).
    pub strict: bool,
    pub perl: PathBuf,
    pub timeout: Duration,
}

impl Default for CheckpatchSettings {
    fn default() -> Self {
        CheckpatchSettings {
            enabled: true,
            path: None,
            strict: false,
            perl: PathBuf::from("perl"),
            timeout: Duration::from_secs(120),
        }
    }
}

/// `[review.analyzers.coccinelle]`: how spatch runs and its budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoccinelleSettings {
    pub enabled: bool,
    pub spatch: PathBuf,
    /// spatch processes at once.
    pub jobs: usize,
    /// Wall time for all scripts of one review.
    pub wall_budget: Duration,
    /// CPU time for all scripts of one review.
    pub cpu_budget: Duration,
    /// The most one script may take on its files.
    pub script_timeout: Duration,
    /// A new report counts as the series' when it is within this many
    /// lines of a changed line (or names a changed line).
    pub near_lines: u32,
    /// Give spatch whole files instead of blanking the bodies of the
    /// functions the series does not change.
    pub whole_files: bool,
    /// Only scripts whose name (under scripts/coccinelle) starts with one
    /// of these, e.g. `locks/`; empty means every script.
    pub scripts: Vec<String>,
}

impl Default for CoccinelleSettings {
    /// Sized so a typical series adds well under a minute on two cores:
    /// two spatch processes for at most 30 s of wall time and 60 s of CPU.
    fn default() -> Self {
        CoccinelleSettings {
            enabled: true,
            spatch: PathBuf::from("spatch"),
            jobs: 2,
            wall_budget: Duration::from_secs(30),
            cpu_budget: Duration::from_secs(60),
            script_timeout: Duration::from_secs(20),
            near_lines: 3,
            whole_files: false,
            scripts: Vec::new(),
        }
    }
}

/// Settings of both analyzers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AnalyzerSettings {
    pub checkpatch: CheckpatchSettings,
    pub coccinelle: CoccinelleSettings,
}

/// The repository and commits the analyzers read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeInput {
    /// Any path inside the repository (a work tree or a bare repository).
    pub repo: PathBuf,
    /// Its git directory, for checkpatch's commit-id checks.
    pub git_dir: Option<PathBuf>,
    /// The commit the series applies to: scripts are taken from here.
    pub baseline: Oid,
    /// The tree with the whole series applied, when there is one.
    pub end_state: Option<Oid>,
}

impl TreeInput {
    pub fn new(repo: &Path, baseline: Oid, end_state: Option<Oid>) -> TreeInput {
        let git_dir = git2::Repository::discover(repo)
            .ok()
            .map(|repository| repository.path().to_path_buf());
        TreeInput {
            repo: repo.to_path_buf(),
            git_dir,
            baseline,
            end_state,
        }
    }
}

/// Both analyzers over one tree (or none: then only a `--checkpatch PATH`
/// can run, and Coccinelle is skipped).
#[derive(Clone, Debug)]
pub struct TreeAnalyzers {
    pub settings: AnalyzerSettings,
    pub tree: Option<TreeInput>,
}

impl TreeAnalyzers {
    pub fn new(settings: AnalyzerSettings, tree: Option<TreeInput>) -> TreeAnalyzers {
        TreeAnalyzers { settings, tree }
    }

    /// Run one analyzer on `series` (a turned-off one is skipped, saying so).
    pub async fn run_tool(&self, tool: AnalyzerTool, series: &ReviewSeries) -> AnalyzerRun {
        match tool {
            AnalyzerTool::Checkpatch if self.settings.checkpatch.enabled => {
                checkpatch::run(&self.settings.checkpatch, self.tree.as_ref(), series).await
            }
            AnalyzerTool::Coccinelle if self.settings.coccinelle.enabled => {
                coccinelle::run(&self.settings.coccinelle, self.tree.as_ref(), series).await
            }
            _ => AnalyzerRun::skipped(tool, "turned off in the configuration"),
        }
    }

    /// Run both analyzers at once on `series`.
    pub async fn analyze(&self, series: &ReviewSeries) -> AnalyzerReports {
        let (checkpatch, coccinelle) = tokio::join!(
            self.run_tool(AnalyzerTool::Checkpatch, series),
            self.run_tool(AnalyzerTool::Coccinelle, series)
        );
        AnalyzerReports {
            runs: vec![checkpatch, coccinelle],
        }
    }
}

#[async_trait::async_trait]
impl AnalyzerSource for TreeAnalyzers {
    async fn run(&self, tool: AnalyzerTool, series: &ReviewSeries) -> AnalyzerRun {
        self.run_tool(tool, series).await
    }
}

pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
