//! The reviewed tree's own analyzers (checkpatch.pl, Coccinelle) for one
//! review: which repository and commits they read, started as soon as
//! those are known so perl and spatch run while the rest of the review is
//! prepared. The review engine collects their reports.

use std::path::Path;
use std::sync::Arc;

use sashiko_analyzers::{AnalyzerSettings, TreeAnalyzers, TreeInput};
use sashiko_review::analysis::ReviewAnalyzers;
use sashiko_review::ReviewSeries;

/// The tree the analyzers of a review read: `repo` at the baseline and,
/// when the series is applied there, its last commit.
pub fn tree_input(repo: &Path, pins: Option<sashiko_tools::Pins>) -> Option<TreeInput> {
    pins.map(|pins| TreeInput::new(repo, pins.baseline, pins.post_patch))
}

/// The analyzers of one review of `series`, already running when there is
/// a tokio runtime (else they run when the engine asks).
pub fn start(
    settings: &AnalyzerSettings,
    tree: Option<TreeInput>,
    series: &ReviewSeries,
) -> ReviewAnalyzers {
    let analyzers = Arc::new(TreeAnalyzers::new(settings.clone(), tree));
    if tokio::runtime::Handle::try_current().is_ok() {
        ReviewAnalyzers(Arc::new(analyzers.start(series)))
    } else {
        ReviewAnalyzers(analyzers)
    }
}
