//! Analyzers started as soon as the series and its tree are known, so perl
//! and spatch run while the rest of the review is prepared (context
//! gathering, storing the series); the review engine collects each tool's
//! result when it needs it.

use std::sync::{Arc, Mutex};

use sashiko_review::analysis::{AnalyzerRun, AnalyzerSource, AnalyzerState, AnalyzerTool};
use sashiko_review::ReviewSeries;
use tokio::task::JoinHandle;

use crate::TreeAnalyzers;

/// Both analyzers already running on one series.
pub struct Started {
    analyzers: Arc<TreeAnalyzers>,
    series: ReviewSeries,
    checkpatch: Mutex<Option<JoinHandle<AnalyzerRun>>>,
    coccinelle: Mutex<Option<JoinHandle<AnalyzerRun>>>,
}

impl TreeAnalyzers {
    /// Start both analyzers on `series` now, on the current tokio runtime.
    pub fn start(self: Arc<Self>, series: &ReviewSeries) -> Started {
        let spawn = |tool| {
            let analyzers = Arc::clone(&self);
            let series = series.clone();
            tokio::spawn(async move { analyzers.run_tool(tool, &series).await })
        };
        Started {
            checkpatch: Mutex::new(Some(spawn(AnalyzerTool::Checkpatch))),
            coccinelle: Mutex::new(Some(spawn(AnalyzerTool::Coccinelle))),
            series: series.clone(),
            analyzers: self,
        }
    }
}

impl Started {
    fn take(&self, tool: AnalyzerTool) -> Option<JoinHandle<AnalyzerRun>> {
        let slot = match tool {
            AnalyzerTool::Checkpatch => &self.checkpatch,
            AnalyzerTool::Coccinelle => &self.coccinelle,
        };
        slot.lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
    }
}

impl Drop for Started {
    /// A review that ends without asking (it failed, or was interrupted)
    /// stops the runs it did not collect: their processes are killed and
    /// their scratch directories removed.
    fn drop(&mut self) {
        for tool in [AnalyzerTool::Checkpatch, AnalyzerTool::Coccinelle] {
            if let Some(handle) = self.take(tool) {
                handle.abort();
            }
        }
    }
}

#[async_trait::async_trait]
impl AnalyzerSource for Started {
    /// The started run when `series` is the one it was started on (the
    /// first time it is asked for); otherwise a fresh run.
    async fn run(&self, tool: AnalyzerTool, series: &ReviewSeries) -> AnalyzerRun {
        let handle = (*series == self.series).then(|| self.take(tool)).flatten();
        match handle {
            Some(handle) => handle.await.unwrap_or_else(|error| AnalyzerRun {
                state: AnalyzerState::Failed,
                ..AnalyzerRun::skipped(tool, format!("the {tool} run stopped: {error}"))
            }),
            None => self.analyzers.run_tool(tool, series).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AnalyzerSettings;

    fn series(title: &str) -> ReviewSeries {
        ReviewSeries {
            title: title.into(),
            version: 1,
            cover_letter: None,
            patches: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_started_run_is_collected_once_then_runs_afresh() {
        let mut settings = AnalyzerSettings::default();
        settings.checkpatch.enabled = false;
        let analyzers = Arc::new(TreeAnalyzers::new(settings, None));
        let started = analyzers.start(&series("a"));
        for _ in 0..2 {
            let run = started.run(AnalyzerTool::Checkpatch, &series("a")).await;
            assert_eq!(
                run.reason.as_deref(),
                Some("turned off in the configuration")
            );
            let run = started.run(AnalyzerTool::Coccinelle, &series("b")).await;
            assert_eq!(run.state, AnalyzerState::Skipped);
            assert!(run
                .reason
                .is_some_and(|reason| reason.starts_with("no tree")));
        }
        assert!(started.take(AnalyzerTool::Checkpatch).is_none());
        assert!(started.take(AnalyzerTool::Coccinelle).is_some());
    }
}
