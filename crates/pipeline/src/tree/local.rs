//! What a review gets from a git repository it runs in or was handed:
//! context snippets from the post-patch tree, the commits the model's
//! tools are pinned to, and the tree's MAINTAINERS.
//!
//! Only reads the repository (git objects, and MAINTAINERS of a work
//! tree); a repository that is missing or lacks a commit is a value (no
//! context), not an error, except a `--base` that names no commit.

use std::path::Path;
use std::sync::Arc;

use sashiko_review::context::ContextSnippet;
use sashiko_review::maintainers::Maintainers;

use crate::error::{Context, ErrorKind, Result};
use crate::inputs::LoadedSeries;

/// For a series of commits: the context snippets (enclosing functions,
/// definitions the added lines use, callers of changed functions) read
/// from the tree of the series' last commit, the post-patch tree, by
/// `sashiko_tools::gather` within its search bounds. A series without
/// commit ids (mail not applied anywhere) gets none. Returns the snippets
/// and notes about what the search left out.
pub fn git_context(repo: &Path, loaded: &LoadedSeries) -> (Vec<ContextSnippet>, Vec<String>) {
    let Some(last_commit) = loaded
        .series
        .patches
        .last()
        .and_then(|patch| patch.commit_id.clone())
    else {
        return (Vec::new(), Vec::new());
    };
    let Ok(repository) = git2::Repository::discover(repo) else {
        return (Vec::new(), Vec::new());
    };
    let Some(tree) = repository
        .revparse_single(&last_commit)
        .and_then(|object| object.peel_to_tree())
        .ok()
    else {
        return (Vec::new(), Vec::new());
    };
    let gathered = sashiko_tools::gather::gather(
        &repository,
        tree.id(),
        &loaded.series,
        &sashiko_tools::gather::GatherLimits::default(),
    );
    let mut notes = gathered.notes;
    let bytes: usize = gathered.snippets.iter().map(|s| s.text.len()).sum();
    notes.push(format!(
        "context: {} snippet(s), {bytes} bytes, from {} file(s) read ({} bytes)",
        gathered.snippets.len(),
        gathered.files_read,
        gathered.bytes_read
    ));
    (gathered.snippets, notes)
}

/// The commits the review's tools are pinned to: for local commits, the
/// first commit's parent (the baseline) and the last commit (post-patch);
/// with `base` given, that revision and no post-patch tree. `None` when
/// there is no baseline to pin to.
pub fn tool_pins(
    repo: &Path,
    loaded: &LoadedSeries,
    base: Option<&str>,
) -> Result<Option<sashiko_tools::Pins>> {
    let Ok(repository) = git2::Repository::discover(repo) else {
        return Ok(None);
    };
    let commit_of = |spec: &str| {
        repository
            .revparse_single(spec)
            .and_then(|object| object.peel_to_commit())
            .map(|commit| commit.id())
    };
    if let Some(base) = base {
        let baseline = commit_of(base).context(ErrorKind::Input, || {
            format!("--base {base:?} is not a commit of {}", repo.display())
        })?;
        return Ok(Some(sashiko_tools::Pins {
            baseline,
            post_patch: None,
        }));
    }
    let first = loaded
        .series
        .patches
        .first()
        .and_then(|p| p.commit_id.as_deref());
    let last = loaded
        .series
        .patches
        .last()
        .and_then(|p| p.commit_id.as_deref());
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(None);
    };
    let baseline = repository
        .revparse_single(first)
        .and_then(|object| object.peel_to_commit())
        .and_then(|commit| commit.parent(0))
        .map(|parent| parent.id());
    match (baseline, commit_of(last)) {
        (Ok(baseline), Ok(post_patch)) => Ok(Some(sashiko_tools::Pins {
            baseline,
            post_patch: Some(post_patch),
        })),
        _ => Ok(None),
    }
}

/// The top of the repository at (or above) `path`: its work tree, or the
/// repository itself when bare.
pub fn repository_root(path: &Path) -> Option<std::path::PathBuf> {
    let repository = git2::Repository::discover(path).ok()?;
    Some(
        repository
            .workdir()
            .unwrap_or_else(|| repository.path())
            .to_path_buf(),
    )
}

/// The MAINTAINERS file of the work tree of the repository at (or above)
/// `repo`, if any. Its parse diagnostics are in the value for the caller
/// to show.
pub fn tree_maintainers(repo: &Path) -> Option<Arc<Maintainers>> {
    let top = git2::Repository::discover(repo)
        .ok()?
        .workdir()?
        .to_path_buf();
    let text = std::fs::read_to_string(top.join("MAINTAINERS")).ok()?;
    Some(Arc::new(Maintainers::parse(&text)))
}

/// The MAINTAINERS file of commit `at` of `repo`, parsed (its diagnostics
/// go to the debug log).
pub fn maintainers_at(repo: &git2::Repository, at: git2::Oid) -> Option<Arc<Maintainers>> {
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
