//! What a review is given besides the prompt set and the series: settings
//! (how hard to try: attempts, runs, budgets, flags), the same for every
//! series a process reviews, and inputs (what is known about this series:
//! its tree's context, tools, MAINTAINERS, analyzers, the earlier version),
//! which change from series to series.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::analysis::ReviewAnalyzers;
use crate::context::ContextSnippet;
use crate::lockorder::LockHierarchySources;
use crate::maintainers::Maintainers;
use crate::toolstage::ReviewTools;
use crate::versions::PreviousVersion;

/// Settings and inputs of one review.
#[derive(Clone, Debug, Default)]
pub struct ReviewOptions {
    pub settings: ReviewSettings,
    pub inputs: ReviewInputs,
}

/// How a review runs; nothing here depends on the series.
#[derive(Clone, Debug)]
pub struct ReviewSettings {
    /// Attempts per stage when the answer is not valid for its schema
    /// (each attempt already includes one repair round).
    pub max_attempts: u32,
    /// Finder stages in flight at once.
    pub concurrency: usize,
    pub max_output_tokens: u32,
    /// Times the finder stages run; findings are merged by similarity with
    /// a consensus count.
    pub runs: u32,
    /// Findings raised in fewer runs than this are dropped (and counted).
    pub min_consensus: u32,
    /// Derive the nonce and canary from the series instead of at random,
    /// so recorded transcripts replay exactly (cassette mode only).
    pub deterministic_secrets: bool,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            max_attempts: 2,
            concurrency: 4,
            max_output_tokens: 4096,
            runs: 1,
            min_consensus: 1,
            deterministic_secrets: false,
        }
    }
}

/// What is known about the reviewed series and its tree.
#[derive(Clone, Debug, Default)]
pub struct ReviewInputs {
    /// Fingerprints maintainers marked known: not reported again.
    pub known_fingerprints: BTreeSet<String>,
    /// The reviewed tree's MAINTAINERS, for routing subsystem guides.
    pub maintainers: Option<Arc<Maintainers>>,
    /// Source snippets from the post-patch tree (enclosing functions,
    /// definitions, callers); the manifest's `[context]` and each stage's
    /// `context` list choose which a request gets, within its budget.
    pub context: Vec<ContextSnippet>,
    /// Repository tools, offered to stages whose manifest entry lists them.
    pub tools: Option<ReviewTools>,
    /// The reviewed tree's mm lock-order comments, for the lock-order stage.
    pub lock_hierarchy: Option<Arc<LockHierarchySources>>,
    /// The earlier version of this series and its finished review, when
    /// there is one: the stages get the interdiff as focus, and its
    /// findings are carried forward.
    pub previous: Option<Arc<PreviousVersion>>,
    /// The reviewed tree's analyzers (checkpatch.pl, Coccinelle), for the
    /// `checkpatch` and `coccinelle` builtin stages.
    pub analyzers: Option<ReviewAnalyzers>,
}
