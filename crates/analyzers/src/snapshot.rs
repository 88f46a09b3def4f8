//! Files of the reviewed repository read from git objects and written into
//! a scratch directory for the analyzers: the scripts from the baseline
//! commit, the changed C files as they are before and after the series.
//!
//! The user's work tree is never read or written, and nothing from the
//! series itself is ever run: the scripts come from the baseline, so a
//! patch that edits scripts/checkpatch.pl or a semantic patch cannot choose
//! what runs on it.

use std::path::{Component, Path, PathBuf};

use git2::{Delta, DiffFindOptions, DiffOptions, ObjectType, Oid, Repository, TreeWalkMode};

use crate::AnalyzerError;

/// Open the repository at (or above) `path`.
pub fn open(path: &Path) -> Result<Repository, AnalyzerError> {
    Repository::discover(path).map_err(|error| AnalyzerError::Git {
        what: format!("opening the repository {}", path.display()),
        message: error.message().to_owned(),
    })
}

/// The tree of `commit`.
pub fn tree_of(repo: &Repository, commit: Oid) -> Result<Oid, AnalyzerError> {
    repo.find_commit(commit)
        .and_then(|commit| commit.tree())
        .map(|tree| tree.id())
        .map_err(|error| AnalyzerError::Git {
            what: format!("reading commit {commit}"),
            message: error.message().to_owned(),
        })
}

/// The bytes of the regular file `path` in `tree`, `None` when the tree has
/// no such file (symbolic links and directories count as absent).
pub fn read_file(
    repo: &Repository,
    tree: Oid,
    path: &str,
) -> Result<Option<Vec<u8>>, AnalyzerError> {
    let tree = repo.find_tree(tree).map_err(|error| AnalyzerError::Git {
        what: format!("reading tree {tree}"),
        message: error.message().to_owned(),
    })?;
    let Ok(entry) = tree.get_path(Path::new(path)) else {
        return Ok(None);
    };
    if entry.kind() != Some(ObjectType::Blob) || entry.filemode() == 0o120000 {
        return Ok(None);
    }
    repo.find_blob(entry.id())
        .map(|blob| Some(blob.content().to_vec()))
        .map_err(|error| AnalyzerError::Git {
            what: format!("reading {path}"),
            message: error.message().to_owned(),
        })
}

/// Every regular file under the directory `dir` of `tree` whose name ends
/// with `suffix`, as (path, bytes), sorted by path.
pub fn files_under(
    repo: &Repository,
    tree: Oid,
    dir: &str,
    suffix: &str,
) -> Result<Vec<(String, Vec<u8>)>, AnalyzerError> {
    let git_error = |what: String| {
        move |error: git2::Error| AnalyzerError::Git {
            what,
            message: error.message().to_owned(),
        }
    };
    let root = repo
        .find_tree(tree)
        .map_err(git_error(format!("reading tree {tree}")))?;
    let Ok(entry) = root.get_path(Path::new(dir)) else {
        return Ok(Vec::new());
    };
    if entry.kind() != Some(ObjectType::Tree) {
        return Ok(Vec::new());
    }
    let subtree = repo
        .find_tree(entry.id())
        .map_err(git_error(format!("reading {dir}")))?;
    let mut wanted = Vec::new();
    subtree
        .walk(TreeWalkMode::PreOrder, |parent, entry| {
            let name = entry.name().unwrap_or("");
            if entry.kind() == Some(ObjectType::Blob)
                && entry.filemode() != 0o120000
                && name.ends_with(suffix)
            {
                wanted.push((format!("{dir}/{parent}{name}"), entry.id()));
            }
            git2::TreeWalkResult::Ok
        })
        .map_err(git_error(format!("listing {dir}")))?;
    let mut files = Vec::with_capacity(wanted.len());
    for (path, id) in wanted {
        let blob = repo
            .find_blob(id)
            .map_err(git_error(format!("reading {path}")))?;
        files.push((path, blob.content().to_vec()));
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

/// Write `bytes` to `root/relative`, creating directories. The path must
/// be relative and stay inside `root` (tree paths are untrusted).
pub fn write_file(root: &Path, relative: &str, bytes: &[u8]) -> Result<PathBuf, AnalyzerError> {
    let path = Path::new(relative);
    let safe = !relative.is_empty()
        && path
            .components()
            .all(|component| matches!(component, Component::Normal(_)));
    if !safe {
        return Err(AnalyzerError::UnsafePath(relative.to_owned()));
    }
    let target = root.join(path);
    if let Some(parent) = target.parent() {
        std::fs::create_dir_all(parent).map_err(|source| AnalyzerError::Io {
            what: format!("creating {}", parent.display()),
            source,
        })?;
    }
    std::fs::write(&target, bytes).map_err(|source| AnalyzerError::Io {
        what: format!("writing {}", target.display()),
        source,
    })?;
    Ok(target)
}

/// A file the series changes: its path before (absent when the series
/// adds it) and after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangedFile {
    pub old_path: Option<String>,
    pub new_path: String,
}

/// Files that exist after the series and differ from the baseline, with
/// renames followed, whose post-series path ends with one of `suffixes`.
pub fn changed_files(
    repo: &Repository,
    base_tree: Oid,
    end_tree: Oid,
    suffixes: &[&str],
) -> Result<Vec<ChangedFile>, AnalyzerError> {
    let git_error = |error: git2::Error| AnalyzerError::Git {
        what: format!("comparing trees {base_tree} and {end_tree}"),
        message: error.message().to_owned(),
    };
    let base = repo.find_tree(base_tree).map_err(git_error)?;
    let end = repo.find_tree(end_tree).map_err(git_error)?;
    let mut diff = repo
        .diff_tree_to_tree(Some(&base), Some(&end), Some(&mut DiffOptions::new()))
        .map_err(git_error)?;
    diff.find_similar(Some(DiffFindOptions::new().renames(true)))
        .map_err(git_error)?;
    let mut files = Vec::new();
    for delta in diff.deltas() {
        let Some(new_path) = delta.new_file().path().and_then(Path::to_str) else {
            continue;
        };
        if !suffixes.iter().any(|suffix| new_path.ends_with(suffix)) {
            continue;
        }
        let old_path = match delta.status() {
            Delta::Added => None,
            Delta::Modified | Delta::Renamed | Delta::Copied | Delta::Typechange => delta
                .old_file()
                .path()
                .and_then(Path::to_str)
                .map(str::to_owned),
            _ => continue,
        };
        files.push(ChangedFile {
            old_path,
            new_path: new_path.to_owned(),
        });
    }
    Ok(files)
}

/// One changed region between two versions of a file: lines
/// `old_start..old_start+old_lines` became `new_start..new_start+new_lines`
/// (a count of 0 means a pure insertion or deletion at that position).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
}

/// The changed regions between `old` and `new`, without context lines.
pub fn regions(old: &[u8], new: &[u8]) -> Result<Vec<Region>, AnalyzerError> {
    let mut options = DiffOptions::new();
    options.context_lines(0);
    let patch =
        git2::Patch::from_buffers(old, None, new, None, Some(&mut options)).map_err(|error| {
            AnalyzerError::Git {
                what: "comparing two versions of a file".to_owned(),
                message: error.message().to_owned(),
            }
        })?;
    let mut out = Vec::new();
    for index in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(index).map_err(|error| AnalyzerError::Git {
            what: "reading a hunk".to_owned(),
            message: error.message().to_owned(),
        })?;
        out.push(Region {
            old_start: hunk.old_start(),
            old_lines: hunk.old_lines(),
            new_start: hunk.new_start(),
            new_lines: hunk.new_lines(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "./a"] {
            assert!(
                matches!(
                    write_file(dir.path(), bad, b"x"),
                    Err(AnalyzerError::UnsafePath(_))
                ),
                "{bad:?} accepted"
            );
        }
        let written = write_file(dir.path(), "mm/a.c", b"int x;\n").expect("writes");
        assert_eq!(std::fs::read(written).expect("reads"), b"int x;\n");
    }

    #[test]
    fn regions_name_the_changed_lines_of_both_versions() {
        let old = b"a\nb\nc\nd\n";
        let new = b"a\nB\nB2\nc\nd\ne\n";
        let got = regions(old, new).expect("diffs");
        assert_eq!(
            got,
            vec![
                Region {
                    old_start: 2,
                    old_lines: 1,
                    new_start: 2,
                    new_lines: 2
                },
                Region {
                    old_start: 4,
                    old_lines: 0,
                    new_start: 6,
                    new_lines: 1
                },
            ]
        );
    }
}
