//! Reviewing a series the way the worker and the list bot do: the store,
//! the prompt set, the model, the review settings and the configured tree
//! held once ([`ReviewService`]); per series, tree context for its source
//! (the job's own commits, or mail applied to `[review] tree`), the
//! fingerprints maintainers marked known, then the one review-and-store
//! path.
//!
//! It decides nothing about scheduling or replies: the worker loop and the
//! bot call it and report its outcome their own way.

use std::path::Path;

use sashiko_review::Progress;
use sashiko_review::{PromptSet, ReviewOptions};
use sashiko_store::Store;

use crate::error::Result;
use crate::inputs::LoadedSeries;
use crate::model::Model;
use crate::review_runner::{known_fingerprints, review_and_store, Reviewed};
use crate::tree::{self, TreeContext, TreeSettings};

/// Everything a review needs that does not change from series to series.
pub struct ReviewService {
    pub store: Store,
    pub prompts: PromptSet,
    pub model: Option<Model>,
    /// Settings of every review (attempts, output tokens, ...); per-series
    /// inputs (context, tools, known fingerprints) are filled in here.
    pub options: ReviewOptions,
    /// The tree mail is applied to, if configured.
    pub tree: Option<TreeSettings>,
    /// How the tree's checkpatch.pl and Coccinelle run.
    pub analyzers: sashiko_analyzers::AnalyzerSettings,
}

/// Where a series' tree context comes from.
#[derive(Clone, Copy, Debug)]
pub enum TreeSource<'a> {
    /// Local commits of this repository (a git job).
    Commits { repo: &'a Path },
    /// Mail, applied to the configured tree on the `base-commit:` it names
    /// (else the configured base).
    Mail { base_commit: Option<&'a str> },
}

impl ReviewService {
    /// The tree context for `loaded` from `source`.
    /// The tree context for `loaded` from `source`, with the tree's
    /// analyzers started on it.
    pub fn tree_context(&self, loaded: &LoadedSeries, source: TreeSource<'_>) -> TreeContext {
        let mut context = match source {
            TreeSource::Commits { repo } => tree::for_git(&self.prompts, repo, loaded),
            TreeSource::Mail { base_commit } => {
                tree::for_mail(&self.prompts, self.tree.as_ref(), loaded, base_commit)
            }
        };
        context.analyzers = Some(crate::analyzers::start(
            &self.analyzers,
            context.analysis_tree.clone(),
            &loaded.series,
        ));
        context
    }

    /// Reviews `loaded` with `tree`'s context and stores the review.
    pub async fn review(
        &self,
        loaded: &LoadedSeries,
        tree: &TreeContext,
        progress: Progress<'_>,
    ) -> Result<Reviewed> {
        let mut options = tree.review_options(&self.options);
        options.inputs.known_fingerprints = known_fingerprints(&self.store).await?;
        review_and_store(
            &self.store,
            &self.prompts,
            loaded,
            self.model.as_ref(),
            &options,
            &tree.application,
            progress,
        )
        .await
    }
}
