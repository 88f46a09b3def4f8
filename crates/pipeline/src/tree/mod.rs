//! Tree context for reviews: the enclosing functions, related definitions,
//! read-only repository tools pinned to the baseline, mm lock hierarchy and
//! MAINTAINERS that `sashiko review` gives local commits, for every path.
//!
//! A git job uses the repository and commits it names ([`for_git`]). Mail
//! uses the configured `[review] tree` ([`for_mail`]): the series is
//! applied on its base (the `base-commit:` it names when the tree holds
//! that commit, else the head of the configured `base` revision) inside a
//! scratch repository that borrows the tree's objects through git
//! alternates ([`apply`]), so the review sees the post-patch tree while
//! the configured tree is never written. Without a tree, or when nothing
//! can be applied, the review runs without that context and the notes say
//! what it lacked.

pub mod apply;
pub mod local;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sashiko_review::context::ContextSnippet;
use sashiko_review::lockorder::LockHierarchySources;
use sashiko_review::maintainers::Maintainers;
use sashiko_review::toolstage::ReviewTools;
use sashiko_review::{PromptSet, ReviewOptions, ReviewSeries};

use crate::error::{Context, ErrorKind, Result};
use crate::inputs::LoadedSeries;

pub use local::{git_context, tool_pins, tree_maintainers};

/// The kernel tree mail is applied to (`[review] tree`) and the revision
/// used when a series names no base the tree holds (`[review] base`).
#[derive(Clone, Debug)]
pub struct TreeSettings {
    pub tree: PathBuf,
    /// Revision used when the series names no base the tree holds.
    pub base: String,
}

impl TreeSettings {
    /// `tree` with `base` (default `HEAD`).
    pub fn new(tree: PathBuf, base: Option<String>) -> TreeSettings {
        TreeSettings {
            tree,
            base: base.unwrap_or_else(|| "HEAD".to_owned()),
        }
    }
}

/// What a review gets from a tree, and what it lacked.
#[derive(Default)]
pub struct TreeContext {
    pub context: Vec<ContextSnippet>,
    pub tools: Option<ReviewTools>,
    pub lock_hierarchy: Option<Arc<LockHierarchySources>>,
    pub maintainers: Option<Arc<Maintainers>>,
    /// The baseline commit, when there is one.
    pub baseline: Option<String>,
    /// One line on what the review was given (or why nothing).
    pub summary: String,
    /// Details: which base and why, what the context search left out.
    pub notes: Vec<String>,
    /// What the tree's analyzers read (repository, baseline, post-patch).
    pub analysis_tree: Option<sashiko_analyzers::TreeInput>,
    /// The tree's analyzers, once started for the series.
    pub analyzers: Option<sashiko_review::analysis::ReviewAnalyzers>,
    /// The scratch repository the tools read; lives as long as the review.
    _scratch: Option<tempfile::TempDir>,
}

impl TreeContext {
    /// `base` with this context, tools, lock hierarchy and MAINTAINERS.
    pub fn review_options(&self, base: &ReviewOptions) -> ReviewOptions {
        ReviewOptions {
            context: self.context.clone(),
            tools: self.tools.clone(),
            lock_hierarchy: self.lock_hierarchy.clone(),
            analyzers: self.analyzers.clone().or_else(|| base.analyzers.clone()),
            maintainers: self
                .maintainers
                .clone()
                .or_else(|| base.maintainers.clone()),
            ..base.clone()
        }
    }

    /// True when the review sees a tree (a baseline commit was found).
    pub fn has_tree(&self) -> bool {
        self.baseline.is_some()
    }

    /// No tree context, and why.
    pub fn none(summary: String) -> TreeContext {
        TreeContext {
            summary,
            ..TreeContext::default()
        }
    }
}

/// Context for local commits of `repo` (a git job): as `sashiko review`.
pub fn for_git(prompts: &PromptSet, repo: &Path, loaded: &LoadedSeries) -> TreeContext {
    let (context, mut notes) = git_context(repo, loaded);
    let pins = match tool_pins(repo, loaded, None) {
        Ok(pins) => pins,
        Err(error) => {
            notes.push(format!("no repository tools: {error}"));
            None
        }
    };
    let tools = pins.and_then(|pins| match repo_tools(prompts, repo, pins) {
        Ok(tools) => tools,
        Err(error) => {
            notes.push(format!("no repository tools: {error}"));
            None
        }
    });
    TreeContext {
        context,
        tools,
        lock_hierarchy: crate::lock_hierarchy::for_series(Some(repo), &loaded.series),
        maintainers: tree_maintainers(repo),
        baseline: pins.map(|pins| pins.baseline.to_string()),
        summary: format!("tree context from {} (the job's commits)", repo.display()),
        notes,
        analysis_tree: crate::analyzers::tree_input(repo, pins),
        analyzers: None,
        _scratch: None,
    }
}

/// Context for a mailed series from the configured tree, applied on its
/// base (`base_commit` when the tree holds it, else `settings.base`).
pub fn for_mail(
    prompts: &PromptSet,
    settings: Option<&TreeSettings>,
    loaded: &LoadedSeries,
    base_commit: Option<&str>,
) -> TreeContext {
    let Some(settings) = settings else {
        return TreeContext::none(
            "no tree context: no [review] tree is configured, so the review had no enclosing functions, definitions, repository tools or lock hierarchy".to_owned(),
        );
    };
    match prepare_mail(prompts, settings, loaded, base_commit) {
        Ok(context) => context,
        Err(error) => TreeContext::none(format!(
            "no tree context from {}: {error}",
            settings.tree.display()
        )),
    }
}

fn prepare_mail(
    prompts: &PromptSet,
    settings: &TreeSettings,
    loaded: &LoadedSeries,
    base_commit: Option<&str>,
) -> Result<TreeContext> {
    let tree = apply::open_tree(&settings.tree)?;
    let mut notes = Vec::new();
    let (baseline, why) = apply::choose_base(&tree, settings, base_commit, &mut notes)?;
    let baseline_id = baseline.to_string();
    let short = short_id(&baseline_id);
    notes.push(format!("base {short} ({why})"));
    let scratch = tempfile::Builder::new()
        .prefix("sashiko-tree-")
        .tempdir()
        .context(ErrorKind::Git, || "making a scratch repository".to_owned())?;
    let scratch_repo = apply::borrowing_repository(&tree, scratch.path())?;
    let maintainers = local::maintainers_at(&scratch_repo, baseline);
    let applied = apply::apply_series(&scratch_repo, baseline, &loaded.series);
    let mut post_patch = None;
    let mut shadow_series = loaded.series.clone();
    match applied {
        Ok(commits) => {
            for (patch, commit) in shadow_series.patches.iter_mut().zip(&commits) {
                patch.commit_id = Some(commit.to_string());
            }
            post_patch = commits.last().copied();
        }
        Err(not_applied) => {
            notes.push(format!(
                "patch {} does not apply to {short}: {}; no post-patch context, tools see the base only",
                not_applied.patch, not_applied.reason
            ));
            // The lock hierarchy is read from the last patch's commit: the
            // base stands in for it.
            if let Some(last) = shadow_series.patches.last_mut() {
                last.commit_id = Some(baseline.to_string());
            }
        }
    }
    let shadow = shadow_loaded(loaded, shadow_series);
    let context = if post_patch.is_some() {
        let (context, left_out) = git_context(scratch.path(), &shadow);
        notes.extend(left_out);
        context
    } else {
        Vec::new()
    };
    let pins = sashiko_tools::Pins {
        baseline,
        post_patch,
    };
    let tools = match repo_tools(prompts, scratch.path(), pins) {
        Ok(tools) => tools,
        Err(error) => {
            notes.push(format!("no repository tools: {error}"));
            None
        }
    };
    let lock_hierarchy = crate::lock_hierarchy::for_series(Some(scratch.path()), &shadow.series);
    let summary = match post_patch {
        Some(_) => format!(
            "tree context from {}: the series applied on {short}",
            settings.tree.display()
        ),
        None => format!(
            "tree context from {}: base {short} only (the series does not apply)",
            settings.tree.display()
        ),
    };
    Ok(TreeContext {
        context,
        tools,
        lock_hierarchy,
        maintainers,
        baseline: Some(baseline.to_string()),
        summary,
        notes,
        analysis_tree: crate::analyzers::tree_input(scratch.path(), Some(pins)),
        analyzers: None,
        _scratch: Some(scratch),
    })
}

fn shadow_loaded(loaded: &LoadedSeries, series: ReviewSeries) -> LoadedSeries {
    LoadedSeries {
        source: loaded.source.clone(),
        series_key: loaded.series_key.clone(),
        cover_message_id: loaded.cover_message_id.clone(),
        series,
        messages: Vec::new(),
        patch_ids: Vec::new(),
        notes: Vec::new(),
    }
}

/// The repository tools some stage of `prompts` asks for, pinned; `None`
/// when no stage asks for any.
pub fn repo_tools(
    prompts: &PromptSet,
    repo: &Path,
    pins: sashiko_tools::Pins,
) -> Result<Option<ReviewTools>> {
    let wanted: Vec<String> = prompts
        .stages
        .iter()
        .flat_map(|stage| stage.tools.iter().cloned())
        .collect();
    if wanted.is_empty() {
        return Ok(None);
    }
    let settings = &prompts.tools;
    let limits = sashiko_tools::ToolLimits {
        max_calls: settings.max_calls,
        max_bytes: settings.max_bytes,
        max_call_bytes: settings.max_call_bytes,
        ..sashiko_tools::ToolLimits::default()
    };
    let tools = sashiko_tools::RepoTools::open(repo, pins, limits)
        .context(ErrorKind::Setup, || {
            format!("opening repository tools on {}", repo.display())
        })?;
    Ok(Some(ReviewTools {
        executor: Arc::new(tools),
        specs: sashiko_tools::RepoTools::specs(&wanted),
    }))
}

fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
