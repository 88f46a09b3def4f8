//! Tree context for the reviews `sashiko worker` and `sashiko bot` run:
//! the enclosing functions, related definitions, read-only repository
//! tools pinned to the baseline, mm lock hierarchy and MAINTAINERS that
//! `sashiko review` gives local commits.
//!
//! A git job uses the repository and commits it names. Mail uses the
//! configured `[review] tree`: the series is applied on its base (the
//! `base-commit:` it names when the tree holds that commit, else the head
//! of the configured `base` revision) inside a scratch repository that
//! borrows the tree's objects through git alternates, so the review sees
//! the post-patch tree while the configured tree is never written. Without
//! a tree, or when nothing can be applied, the review runs as before and
//! the notes say what context it lacked.
//!
//! Patch text is untrusted: it is only handed to libgit2's patch parser and
//! applied to trees in the scratch repository; no program is run on it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use git2::{Oid, Repository};
use sashiko_review::context::ContextSnippet;
use sashiko_review::lockorder::LockHierarchySources;
use sashiko_review::maintainers::Maintainers;
use sashiko_review::toolstage::ReviewTools;
use sashiko_review::{PromptSet, ReviewOptions, ReviewSeries};

use crate::inputs::LoadedSeries;

/// The `[review] tree` and `base` settings in force.
#[derive(Clone, Debug)]
pub struct TreeSettings {
    pub tree: PathBuf,
    /// Revision used when the series names no base the tree holds.
    pub base: String,
}

impl TreeSettings {
    pub fn from_settings(review: &crate::settings::ReviewSettings) -> Option<TreeSettings> {
        Some(TreeSettings {
            tree: review.tree.clone()?,
            base: review.base.clone().unwrap_or_else(|| "HEAD".to_owned()),
        })
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

    fn none(summary: String) -> TreeContext {
        TreeContext {
            summary,
            ..TreeContext::default()
        }
    }
}

/// Context for local commits of `repo` (a git job): as `sashiko review`.
pub fn for_git(prompts: &PromptSet, repo: &Path, loaded: &LoadedSeries) -> TreeContext {
    let (context, mut notes) = crate::inputs::git_context(repo, loaded);
    let pins = match crate::inputs::tool_pins(repo, loaded, None) {
        Ok(pins) => pins,
        Err(error) => {
            notes.push(format!("no repository tools: {error:#}"));
            None
        }
    };
    let tools = pins.and_then(|pins| match repo_tools(prompts, repo, pins) {
        Ok(tools) => tools,
        Err(error) => {
            notes.push(format!("no repository tools: {error:#}"));
            None
        }
    });
    TreeContext {
        context,
        tools,
        lock_hierarchy: crate::lock_hierarchy::for_series(Some(repo), &loaded.series),
        maintainers: crate::review_runner::tree_maintainers(repo),
        baseline: pins.map(|pins| pins.baseline.to_string()),
        summary: format!("tree context from {} (the job's commits)", repo.display()),
        notes,
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
            "no tree context from {}: {error:#}",
            settings.tree.display()
        )),
    }
}

fn prepare_mail(
    prompts: &PromptSet,
    settings: &TreeSettings,
    loaded: &LoadedSeries,
    base_commit: Option<&str>,
) -> anyhow::Result<TreeContext> {
    let tree = Repository::open(&settings.tree)
        .with_context(|| format!("opening the tree {}", settings.tree.display()))?;
    let mut notes = Vec::new();
    let (baseline, why) = choose_base(&tree, settings, base_commit, &mut notes)?;
    let baseline_id = baseline.to_string();
    let short = short_id(&baseline_id);
    notes.push(format!("base {short} ({why})"));
    let scratch = tempfile::Builder::new()
        .prefix("sashiko-tree-")
        .tempdir()
        .context("making a scratch repository")?;
    let scratch_repo = borrowing_repository(&tree, scratch.path())?;
    let maintainers = maintainers_at(&scratch_repo, baseline);
    let applied = apply_series(&scratch_repo, baseline, &loaded.series);
    let mut post_patch = None;
    let mut shadow_series = loaded.series.clone();
    match applied {
        Ok(commits) => {
            for (patch, commit) in shadow_series.patches.iter_mut().zip(&commits) {
                patch.commit_id = Some(commit.to_string());
            }
            post_patch = commits.last().copied();
        }
        Err((number, error)) => {
            notes.push(format!(
                "patch {number} does not apply to {short}: {error}; no post-patch context, tools see the base only"
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
        let (context, left_out) = crate::inputs::git_context(scratch.path(), &shadow);
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
            notes.push(format!("no repository tools: {error:#}"));
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
        _scratch: Some(scratch),
    })
}

/// The series' `base-commit:` when the tree holds it, else the head of the
/// configured revision; with the reason.
fn choose_base(
    tree: &Repository,
    settings: &TreeSettings,
    base_commit: Option<&str>,
    notes: &mut Vec<String>,
) -> anyhow::Result<(Oid, String)> {
    if let Some(named) = base_commit {
        // Only a full or abbreviated commit id: the trailer is untrusted
        // text and is never parsed as a revision expression.
        let plausible =
            (7..=64).contains(&named.len()) && named.bytes().all(|b| b.is_ascii_hexdigit());
        let found = plausible
            .then(|| {
                tree.revparse_single(named)
                    .and_then(|o| o.peel_to_commit())
                    .ok()
            })
            .flatten();
        match found {
            Some(commit) => return Ok((commit.id(), "the series' base-commit".to_owned())),
            None => notes.push(format!(
                "base-commit {:?} is not a commit of {}; using {} instead",
                named.chars().take(64).collect::<String>(),
                settings.tree.display(),
                settings.base
            )),
        }
    }
    let head = tree
        .revparse_single(&settings.base)
        .and_then(|object| object.peel_to_commit())
        .with_context(|| {
            format!(
                "the configured base {:?} is not a commit of {}",
                settings.base,
                settings.tree.display()
            )
        })?;
    let why = match base_commit {
        Some(_) => format!("head of {}, the named base being unknown", settings.base),
        None => format!("head of {}; the series names no base-commit", settings.base),
    };
    Ok((head.id(), why))
}

/// A bare repository at `dir` that reads `tree`'s objects through
/// alternates and writes its own objects to `dir` only.
fn borrowing_repository(tree: &Repository, dir: &Path) -> anyhow::Result<Repository> {
    Repository::init_bare(dir)
        .with_context(|| format!("making a scratch repository in {}", dir.display()))?;
    let objects = tree
        .commondir()
        .join("objects")
        .canonicalize()
        .context("finding the tree's object directory")?;
    let info = dir.join("objects").join("info");
    std::fs::create_dir_all(&info).context("making the scratch repository's objects/info")?;
    std::fs::write(info.join("alternates"), format!("{}\n", objects.display()))
        .context("pointing the scratch repository at the tree's objects")?;
    Repository::open_bare(dir).context("opening the scratch repository")
}

/// Applies every patch in order on `base`, committing each (no ref moves);
/// the commit ids, or the number of the first patch that does not apply.
fn apply_series(
    repo: &Repository,
    base: Oid,
    series: &ReviewSeries,
) -> Result<Vec<Oid>, (u32, String)> {
    let fail = |number: u32| move |error: git2::Error| (number, error.message().to_owned());
    let signature = git2::Signature::new("sashiko", "sashiko@invalid", &git2::Time::new(0, 0))
        .map_err(fail(0))?;
    let mut parent = repo.find_commit(base).map_err(fail(0))?;
    let mut commits = Vec::new();
    for patch in &series.patches {
        let number = patch.index;
        let diff = git2::Diff::from_buffer(patch.diff.as_bytes()).map_err(fail(number))?;
        let tree = parent.tree().map_err(fail(number))?;
        let mut index = repo
            .apply_to_tree(&tree, &diff, None)
            .map_err(fail(number))?;
        let tree_id = index.write_tree_to(repo).map_err(fail(number))?;
        let tree = repo.find_tree(tree_id).map_err(fail(number))?;
        let summary = format!("patch {number}");
        let commit = repo
            .commit(None, &signature, &signature, &summary, &tree, &[&parent])
            .map_err(fail(number))?;
        parent = repo.find_commit(commit).map_err(fail(number))?;
        commits.push(commit);
    }
    Ok(commits)
}

/// The MAINTAINERS file of commit `at`, parsed.
fn maintainers_at(repo: &Repository, at: Oid) -> Option<Arc<Maintainers>> {
    let blob = repo
        .find_commit(at)
        .and_then(|commit| commit.tree())
        .and_then(|tree| tree.get_path(Path::new("MAINTAINERS")))
        .and_then(|entry| entry.to_object(repo))
        .and_then(|object| object.peel_to_blob())
        .ok()?;
    let parsed = Maintainers::parse(&String::from_utf8_lossy(blob.content()));
    for diagnostic in &parsed.diagnostics {
        tracing::debug!("MAINTAINERS: {diagnostic}");
    }
    Some(Arc::new(parsed))
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

/// The repository tools some stage of `prompts` asks for, pinned.
pub fn repo_tools(
    prompts: &PromptSet,
    repo: &Path,
    pins: sashiko_tools::Pins,
) -> anyhow::Result<Option<ReviewTools>> {
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
    let tools = sashiko_tools::RepoTools::open(repo, pins, limits)?;
    Ok(Some(ReviewTools {
        executor: Arc::new(tools),
        specs: sashiko_tools::RepoTools::specs(&wanted),
    }))
}

/// The `base-commit:` named in any of a series' raw mails.
pub fn base_commit_of<'a>(raws: impl IntoIterator<Item = &'a [u8]>) -> Option<String> {
    raws.into_iter().find_map(|raw| {
        let parsed = sashiko_mail::parse_message(raw);
        sashiko_mail::trailer::meta_trailers(&parsed.body)
            .into_iter()
            .find(|trailer| trailer.key.eq_ignore_ascii_case("base-commit"))
            .map(|trailer| trailer.value.trim().to_owned())
    })
}

fn short_id(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}
