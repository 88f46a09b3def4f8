//! Reading the reviewed tree's mm lock-order comments for the lock-order
//! stage: mm/rmap.c and mm/filemap.c at the series' last commit when the
//! series came from git (the post-patch tree), else from the working tree
//! of the repository (mail reviewed inside a kernel checkout).
//!
//! Only reads: it never writes to the repository, and a tree without the
//! files is a value (no files), not an error. Parsing is the review core's.

use std::path::Path;
use std::sync::Arc;

use sashiko_review::lockorder::{LockHierarchySources, HIERARCHY_FILES};
use sashiko_review::ReviewSeries;

/// The hierarchy files of the tree `series` is reviewed against, or `None`
/// when there is no repository at (or above) `repo` or its commit is
/// unknown there.
pub fn for_series(repo: Option<&Path>, series: &ReviewSeries) -> Option<Arc<LockHierarchySources>> {
    let repository = git2::Repository::discover(repo?).ok()?;
    let last_commit = series
        .patches
        .last()
        .and_then(|patch| patch.commit_id.as_deref());
    let sources = match last_commit {
        Some(commit_id) => {
            let tree = repository
                .revparse_single(commit_id)
                .and_then(|object| object.peel_to_tree())
                .ok()?;
            let files = HIERARCHY_FILES
                .iter()
                .filter_map(|path| {
                    let blob = tree
                        .get_path(Path::new(path))
                        .and_then(|entry| entry.to_object(&repository))
                        .and_then(|object| object.peel_to_blob())
                        .ok()?;
                    Some((
                        (*path).to_owned(),
                        String::from_utf8_lossy(blob.content()).into_owned(),
                    ))
                })
                .collect();
            LockHierarchySources {
                tree: format!("commit {}", commit_id.get(..12).unwrap_or(commit_id)),
                files,
            }
        }
        None => {
            let workdir = repository.workdir()?;
            let files = HIERARCHY_FILES
                .iter()
                .filter_map(|path| {
                    let bytes = std::fs::read(workdir.join(path)).ok()?;
                    Some((
                        (*path).to_owned(),
                        String::from_utf8_lossy(&bytes).into_owned(),
                    ))
                })
                .collect();
            LockHierarchySources {
                tree: format!("the working tree at {}", workdir.display()),
                files,
            }
        }
    };
    Some(Arc::new(sources))
}
