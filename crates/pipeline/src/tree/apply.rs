//! Applying a mailed series in a scratch repository: choosing its base (the
//! `base-commit:` it names when the tree holds it, else the configured
//! revision), a bare repository that borrows the tree's objects through
//! git alternates, and the patches applied one by one as commits there.
//!
//! The configured tree is never written: new objects go to the scratch
//! repository only. Patch text is untrusted: it is only handed to
//! libgit2's patch parser and applied to trees; no program is run on it.

use std::path::Path;

use git2::{Oid, Repository};
use sashiko_review::ReviewSeries;

use crate::error::{Context, ErrorKind, Result};

use super::TreeSettings;

/// The series' `base-commit:` when the tree holds it, else the head of the
/// configured revision; with the reason. What was not usable is noted.
pub(crate) fn choose_base(
    tree: &Repository,
    settings: &TreeSettings,
    base_commit: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<(Oid, String)> {
    if let Some(named) = base_commit {
        if let Some(commit) = named_commit(tree, named) {
            return Ok((commit, "the series' base-commit".to_owned()));
        }
        notes.push(format!(
            "base-commit {:?} is not a commit of {}; using {} instead",
            named.chars().take(64).collect::<String>(),
            settings.tree.display(),
            settings.base
        ));
    }
    let head = tree
        .revparse_single(&settings.base)
        .and_then(|object| object.peel_to_commit())
        .context(ErrorKind::Input, || {
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

/// The commit a `base-commit:` trailer names, when `tree` holds it. Only a
/// full or abbreviated commit id is looked up: the trailer is untrusted
/// text and is never parsed as a revision expression.
pub(crate) fn named_commit(tree: &Repository, named: &str) -> Option<Oid> {
    let plausible = (7..=64).contains(&named.len()) && named.bytes().all(|b| b.is_ascii_hexdigit());
    if !plausible {
        return None;
    }
    tree.revparse_single(named)
        .and_then(|object| object.peel_to_commit())
        .map(|commit| commit.id())
        .ok()
}

/// A bare repository at `dir` that reads `tree`'s objects through
/// alternates and writes its own objects to `dir` only.
pub(crate) fn borrowing_repository(tree: &Repository, dir: &Path) -> Result<Repository> {
    Repository::init_bare(dir).context(ErrorKind::Git, || {
        format!("making a scratch repository in {}", dir.display())
    })?;
    let objects = tree
        .commondir()
        .join("objects")
        .canonicalize()
        .context(ErrorKind::Git, || {
            "finding the tree's object directory".to_owned()
        })?;
    let info = dir.join("objects").join("info");
    std::fs::create_dir_all(&info).context(ErrorKind::Git, || {
        "making the scratch repository's objects/info".to_owned()
    })?;
    std::fs::write(info.join("alternates"), format!("{}\n", objects.display()))
        .context(ErrorKind::Git, || {
            "pointing the scratch repository at the tree's objects".to_owned()
        })?;
    Repository::open_bare(dir).context(ErrorKind::Git, || {
        "opening the scratch repository".to_owned()
    })
}

/// A patch that did not apply: its number and libgit2's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotApplied {
    /// 1-based patch number (0 when the base itself could not be read).
    pub patch: u32,
    pub reason: String,
}

/// Applies every patch in order on `base`, committing each (no ref moves);
/// the commit ids, or the first patch that does not apply.
pub(crate) fn apply_series(
    repo: &Repository,
    base: Oid,
    series: &ReviewSeries,
) -> std::result::Result<Vec<Oid>, NotApplied> {
    let fail = |patch: u32| {
        move |error: git2::Error| NotApplied {
            patch,
            reason: error.message().to_owned(),
        }
    };
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

/// The configured tree, opened for reading.
pub(crate) fn open_tree(path: &Path) -> Result<Repository> {
    Repository::open(path).context(ErrorKind::Git, || {
        format!("opening the tree {}", path.display())
    })
}
