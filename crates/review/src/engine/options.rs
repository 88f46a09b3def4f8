//! What a review is asked to do: the knobs and the inputs besides the
//! series itself.

use std::collections::BTreeSet;
use std::sync::Arc;

use crate::maintainers::Maintainers;

/// Knobs of one review.
#[derive(Clone, Debug)]
pub struct ReviewOptions {
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
    /// Fingerprints maintainers marked known: not reported again.
    pub known_fingerprints: BTreeSet<String>,
    /// The reviewed tree's MAINTAINERS, for routing subsystem guides.
    pub maintainers: Option<Arc<Maintainers>>,
    /// Source snippets from the post-patch tree (enclosing functions,
    /// definitions, callers); the manifest's `[context]` and each stage's
    /// `context` list choose which a request gets, within its budget.
    pub context: Vec<crate::context::ContextSnippet>,
    /// Repository tools, offered to stages whose manifest entry lists them.
    pub tools: Option<crate::toolstage::ReviewTools>,
    /// Derive the nonce and canary from the series instead of at random,
    /// so recorded transcripts replay exactly (cassette mode only).
    pub deterministic_secrets: bool,
    /// The reviewed tree's mm lock-order comments, for the lock-order stage.
    pub lock_hierarchy: Option<Arc<crate::lockorder::LockHierarchySources>>,
    /// The earlier version of this series and its finished review, when
    /// there is one: the stages get the interdiff as focus, and its
    /// findings are carried forward.
    pub previous: Option<Arc<crate::versions::PreviousVersion>>,
    /// The reviewed tree's analyzers (checkpatch.pl, Coccinelle), for the
    /// `checkpatch` and `coccinelle` builtin stages.
    pub analyzers: Option<crate::analysis::ReviewAnalyzers>,
}

impl Default for ReviewOptions {
    fn default() -> Self {
        ReviewOptions {
            max_attempts: 2,
            concurrency: 4,
            max_output_tokens: 4096,
            runs: 1,
            min_consensus: 1,
            known_fingerprints: BTreeSet::new(),
            maintainers: None,
            context: Vec::new(),
            tools: None,
            deterministic_secrets: false,
            lock_hierarchy: None,
            previous: None,
            analyzers: None,
        }
    }
}
