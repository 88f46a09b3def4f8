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
pub mod fuzzy;
pub mod local;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sashiko_review::context::ContextSnippet;
use sashiko_review::lockorder::LockHierarchySources;
use sashiko_review::maintainers::Maintainers;
use sashiko_review::toolstage::ReviewTools;
use sashiko_review::{PromptSet, ReviewInputs, ReviewOptions, ReviewSeries};

use serde::Serialize;

use crate::error::{Context, ErrorKind, Result};
use crate::inputs::LoadedSeries;

use apply::{short, Applied, BaseKind, NotApplied, PatchMethod};

pub use local::{git_context, tool_pins, tree_maintainers};

/// The kernel tree mail is applied to (`[review] tree`) and the revision
/// used when a series names no base the tree holds (`[review] base`).
#[derive(Clone, Debug)]
pub struct TreeSettings {
    pub tree: PathBuf,
    /// Revision used when the series names no base the tree holds.
    pub base: String,
    /// The base was given for this review (`--base`): it is used even when
    /// the series names a base-commit.
    pub base_given: bool,
}

impl TreeSettings {
    /// `tree` with `base` (default `HEAD`).
    pub fn new(tree: PathBuf, base: Option<String>) -> TreeSettings {
        TreeSettings {
            tree,
            base: base.unwrap_or_else(|| "HEAD".to_owned()),
            base_given: false,
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
    /// How the series met the tree, stored with the review and shown.
    pub application: TreeApplication,
    /// The scratch repository the tools read; lives as long as the review.
    _scratch: Option<tempfile::TempDir>,
}

impl TreeContext {
    /// `base` with this context, tools, lock hierarchy and MAINTAINERS as
    /// the review's inputs; its settings unchanged.
    pub fn review_options(&self, base: &ReviewOptions) -> ReviewOptions {
        let inputs = &base.inputs;
        ReviewOptions {
            inputs: ReviewInputs {
                context: self.context.clone(),
                tools: self.tools.clone(),
                lock_hierarchy: self.lock_hierarchy.clone(),
                analyzers: self.analyzers.clone().or_else(|| inputs.analyzers.clone()),
                maintainers: self
                    .maintainers
                    .clone()
                    .or_else(|| inputs.maintainers.clone()),
                ..inputs.clone()
            },
            settings: base.settings.clone(),
        }
    }

    /// True when the review sees a tree (a baseline commit was found).
    pub fn has_tree(&self) -> bool {
        self.baseline.is_some()
    }

    /// No tree context, and why (`status`: no tree, or not applied).
    pub fn none(status: TreeStatus, summary: String) -> TreeContext {
        TreeContext {
            application: TreeApplication {
                status,
                base: None,
                note: format!("reviewed without tree context: {summary}"),
            },
            summary,
            ..TreeContext::default()
        }
    }
}

/// How a review's series met a tree: stored with the review, shown in the
/// text and JSON output, the web page and the reply footer, so a review
/// without tree context, or with patches placed by fuzz, never passes for
/// one that saw the series applied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TreeApplication {
    pub status: TreeStatus,
    /// The commit the series was applied on (or the commits' parent).
    pub base: Option<String>,
    /// One line for people.
    pub note: String,
}

/// How a series was applied, or why not.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TreeStatus {
    /// Local commits: the tree is the series' own commits.
    Commits,
    /// Applied as is on the `base-commit:` the series names.
    BaseCommit,
    /// Applied as is on the configured base.
    Clean,
    /// Some patch needed a 3-way merge (as `git am -3`).
    ThreeWay,
    /// Some patch applied only with moved hunks or ignored context.
    Fuzzy,
    /// No method applied the series: reviewed without tree context.
    NotApplied,
    /// No tree to apply to: reviewed without tree context.
    #[default]
    NoTree,
}

impl TreeStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TreeStatus::Commits => "commits",
            TreeStatus::BaseCommit => "base_commit",
            TreeStatus::Clean => "clean",
            TreeStatus::ThreeWay => "three_way",
            TreeStatus::Fuzzy => "fuzzy",
            TreeStatus::NotApplied => "not_applied",
            TreeStatus::NoTree => "no_tree",
        }
    }

    /// True when the review saw the series applied to a tree.
    pub fn has_tree_context(self) -> bool {
        !matches!(self, TreeStatus::NotApplied | TreeStatus::NoTree)
    }
}

/// How `applied` went, in one status and line.
pub fn describe_applied(applied: &Applied) -> TreeApplication {
    let base = short(&applied.base.commit);
    let numbers = |wanted: fn(&PatchMethod) -> bool| -> Vec<String> {
        applied
            .methods
            .iter()
            .enumerate()
            .filter(|(_, method)| wanted(method))
            .map(|(at, _)| (at + 1).to_string())
            .collect()
    };
    let three_way = numbers(|m| matches!(m, PatchMethod::ThreeWay));
    let fuzzy = numbers(|m| matches!(m, PatchMethod::Fuzzy(_)));
    let moved = applied
        .methods
        .iter()
        .filter_map(|method| match method {
            PatchMethod::Fuzzy(moved) => Some(*moved),
            _ => None,
        })
        .fold(fuzzy::Moved::default(), fuzzy::Moved::max);
    let mut note = match applied.base.kind {
        BaseKind::SeriesBase => format!("applied on its base-commit {base}"),
        BaseKind::Configured => format!("applied on {base} ({})", applied.base.why),
    };
    if !three_way.is_empty() {
        note.push_str(&format!(
            "; patch {} with a 3-way merge",
            three_way.join(", ")
        ));
    }
    if !fuzzy.is_empty() {
        note.push_str(&format!(
            "; patch {} with fuzz (hunks moved up to {} lines, up to {} context lines ignored): the context may differ from what the author saw",
            fuzzy.join(", "),
            moved.max_offset,
            moved.max_fuzz
        ));
    }
    let status = if !fuzzy.is_empty() {
        TreeStatus::Fuzzy
    } else if !three_way.is_empty() {
        TreeStatus::ThreeWay
    } else if applied.base.kind == BaseKind::SeriesBase {
        TreeStatus::BaseCommit
    } else {
        TreeStatus::Clean
    };
    TreeApplication {
        status,
        base: Some(applied.base.commit.to_string()),
        note,
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
        application: TreeApplication {
            status: TreeStatus::Commits,
            base: pins.map(|pins| pins.baseline.to_string()),
            note: format!("the series' own commits in {}", repo.display()),
        },
        _scratch: None,
    }
}

/// Context for `sashiko review` in `repo`: local commits as they are
/// (tools pinned to `base` when given), mail applied like the worker
/// applies it, on its `base-commit:` when the repository holds it (else
/// HEAD), or on `base` when given.
pub fn for_local(
    prompts: &PromptSet,
    repo: &Path,
    loaded: &LoadedSeries,
    base: Option<&str>,
) -> Result<TreeContext> {
    if loaded.is_git() {
        let mut context = for_git(prompts, repo, loaded);
        context.summary = format!("tree context from {} (the commits)", repo.display());
        if let Some(pins) = base
            .map(|base| tool_pins(repo, loaded, Some(base)))
            .transpose()?
        {
            context.tools = match pins {
                Some(pins) => repo_tools(prompts, repo, pins)?,
                None => None,
            };
            context.analysis_tree = crate::analyzers::tree_input(repo, pins);
        }
        return Ok(context);
    }
    let Some(root) = local::repository_root(repo) else {
        return Ok(TreeContext::none(
            TreeStatus::NoTree,
            format!(
                "no tree context: {} is not in a git repository, so the series could not be applied (run inside a kernel tree or pass --repo)",
                repo.display()
            ),
        ));
    };
    let settings = TreeSettings {
        base_given: base.is_some(),
        ..TreeSettings::new(root, base.map(str::to_owned))
    };
    let base_commit = match base {
        Some(_) => None,
        None => loaded.base_commit(),
    };
    Ok(for_mail(
        prompts,
        Some(&settings),
        loaded,
        base_commit.as_deref(),
    ))
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
            TreeStatus::NoTree,
            "no tree context: no [review] tree is configured, so the review had no enclosing functions, definitions, repository tools or lock hierarchy".to_owned(),
        );
    };
    match prepare_mail(prompts, settings, loaded, base_commit) {
        Ok(context) => context,
        Err(error) => TreeContext::none(
            TreeStatus::NotApplied,
            format!("no tree context from {}: {error}", settings.tree.display()),
        ),
    }
}

fn prepare_mail(
    prompts: &PromptSet,
    settings: &TreeSettings,
    loaded: &LoadedSeries,
    base_commit: Option<&str>,
) -> Result<TreeContext> {
    let tree = apply::open_tree(&settings.tree)?;
    let tree_name = settings.tree.display().to_string();
    let mut notes = Vec::new();
    let candidates = apply::base_candidates(&tree, settings, base_commit, &mut notes)?;
    let scratch = tempfile::Builder::new()
        .prefix("sashiko-tree-")
        .tempdir()
        .context(ErrorKind::Git, || "making a scratch repository".to_owned())?;
    let scratch_repo = apply::borrowing_repository(&tree, scratch.path())?;
    let (applied, failed) = apply::apply_on_candidates(&scratch_repo, &loaded.series, &candidates);
    notes.extend(failed.iter().map(NotApplied::describe));
    let Some(applied) = applied else {
        let reason = failed
            .last()
            .map(NotApplied::describe)
            .unwrap_or_else(|| "no base to apply it to".to_owned());
        let mut context = TreeContext::none(
            TreeStatus::NotApplied,
            format!("no tree context from {tree_name}: the series does not apply ({reason})"),
        );
        context.application.base = failed.last().map(|f| f.base.commit.to_string());
        // Routing to subsystem guides needs no applied series.
        context.maintainers = failed
            .last()
            .and_then(|f| local::maintainers_at(&scratch_repo, f.base.commit));
        context.notes = notes;
        return Ok(context);
    };
    let application = describe_applied(&applied);
    notes.push(format!(
        "base {} ({})",
        short(&applied.base.commit),
        applied.base.why
    ));
    notes.push(application.note.clone());
    let baseline = applied.base.commit;
    notes.extend(ensure_base_index(&tree, baseline));
    let maintainers = local::maintainers_at(&scratch_repo, baseline);
    let mut shadow_series = loaded.series.clone();
    for (patch, commit) in shadow_series.patches.iter_mut().zip(&applied.commits) {
        patch.commit_id = Some(commit.to_string());
    }
    let post_patch = applied.commits.last().copied();
    let shadow = shadow_loaded(loaded, shadow_series);
    let (context, left_out) = git_context(scratch.path(), &shadow);
    notes.extend(left_out);
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
    let summary = format!(
        "tree context from {tree_name}: the series {}",
        application.note
    );
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
        application,
        _scratch: Some(scratch),
    })
}

/// Makes sure the identifier index of the base's tree is cached (built
/// in the configured tree, which stays), so the lookup in the scratch
/// repository's post-patch tree overlays the files the series changed
/// instead of building an index that would be lost with the scratch
/// repository. Returns a note when it built one or could not.
fn ensure_base_index(tree: &git2::Repository, base: git2::Oid) -> Option<String> {
    let dir = sashiko_tools::index::cache::default_dir()?;
    let base_tree = tree.find_commit(base).ok()?.tree_id();
    match sashiko_tools::index::cache::IndexCache::new(dir).ensure(tree, base_tree) {
        Ok(note) => note,
        Err(error) => Some(format!("no identifier index of the base tree: {error}")),
    }
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
