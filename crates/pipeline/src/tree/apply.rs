//! Applying a mailed series in a scratch repository, the way a maintainer
//! would with `git am`: on the `base-commit:` it names when the tree holds
//! that commit; else on the configured base, each patch exactly, else with
//! a 3-way merge (what `git am -3` does: the blob ids of the patch's
//! `index` lines name the files the author changed; when the object store
//! holds them, the patch is applied to them and the result merged into the
//! base), else with offsets and fuzz as `patch` does ([`super::fuzzy`]).
//! Which one worked, per patch, is returned so the review can say so.
//!
//! The scratch repository is bare and borrows the tree's objects through
//! git alternates: the configured tree is never written. Patch text is
//! untrusted: it is only parsed (libgit2's patch parser, `sashiko-mail`'s
//! diff model) and applied to trees; no program is run on it.

use std::path::Path;

use git2::{FileMode, ObjectType, Oid, Repository, Tree};
use sashiko_mail::diff::{FileChange, FileDiff};
use sashiko_review::ReviewSeries;

use crate::error::{Context, ErrorKind, Result};

use super::fuzzy::{apply_hunks, Moved};
use super::TreeSettings;

/// Where a base commit came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BaseKind {
    /// The `base-commit:` the series names.
    SeriesBase,
    /// The configured (or `--base`) revision.
    Configured,
}

/// A commit to try applying the series on, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseCandidate {
    pub commit: Oid,
    pub kind: BaseKind,
    /// For people: "the series' base-commit", "HEAD; the series names no
    /// base-commit".
    pub why: String,
}

/// How one patch was applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchMethod {
    /// As it is, on the tree the previous patch left.
    Exact,
    /// Applied to the files it was written against and merged in.
    ThreeWay,
    /// With its hunks moved or some context ignored.
    Fuzzy(Moved),
}

/// The series applied: on which base, the commit of each patch, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub base: BaseCandidate,
    pub commits: Vec<Oid>,
    /// By patch position.
    pub methods: Vec<PatchMethod>,
}

/// Why the series could not be applied on one base.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotApplied {
    pub base: BaseCandidate,
    /// 1-based number of the first patch that did not apply (0: the base
    /// itself could not be read).
    pub patch: u32,
    /// What each method said, in the order tried.
    pub reasons: Vec<String>,
}

impl NotApplied {
    /// One line: the patch, the base and every method's reason.
    pub fn describe(&self) -> String {
        format!(
            "patch {} does not apply to {} ({}): {}",
            self.patch,
            short(&self.base.commit),
            self.base.why,
            self.reasons.join("; ")
        )
    }
}

/// The series' `base-commit:` when the tree holds it, then the configured
/// revision (unless `base_commit` is the same commit). Notes say what was
/// not usable. An unknown configured revision is an error only when there
/// is no other candidate.
pub fn base_candidates(
    tree: &Repository,
    settings: &TreeSettings,
    base_commit: Option<&str>,
    notes: &mut Vec<String>,
) -> Result<Vec<BaseCandidate>> {
    let configured = settings.base.as_str();
    let tree_name = settings.tree.display().to_string();
    let mut candidates = Vec::new();
    if let Some(named) = base_commit {
        match named_commit(tree, named) {
            Some(commit) => candidates.push(BaseCandidate {
                commit,
                kind: BaseKind::SeriesBase,
                why: "the series' base-commit".to_owned(),
            }),
            None => notes.push(format!(
                "base-commit {:?} is not a commit of {tree_name}; using {configured} instead",
                named.chars().take(64).collect::<String>(),
            )),
        }
    }
    let head = tree
        .revparse_single(configured)
        .and_then(|object| object.peel_to_commit());
    match head {
        Ok(head) => {
            if !candidates.iter().any(|c| c.commit == head.id()) {
                let why = match base_commit {
                    _ if settings.base_given => format!("{configured}, given with --base"),
                    Some(_) if candidates.is_empty() => {
                        format!("head of {configured}, the named base being unknown")
                    }
                    Some(_) => format!("head of {configured}"),
                    None => format!("head of {configured}; the series names no base-commit"),
                };
                candidates.push(BaseCandidate {
                    commit: head.id(),
                    kind: BaseKind::Configured,
                    why,
                });
            }
        }
        Err(error) if candidates.is_empty() => {
            return Err(error).context(ErrorKind::Input, || {
                format!("the configured base {configured:?} is not a commit of {tree_name}")
            });
        }
        Err(error) => notes.push(format!(
            "the configured base {configured:?} is not a commit of {tree_name}: {}",
            error.message()
        )),
    }
    Ok(candidates)
}

/// The commit a `base-commit:` trailer names, when `tree` holds it. Only a
/// full or abbreviated commit id is looked up: the trailer is untrusted
/// text and is never parsed as a revision expression.
pub fn named_commit(tree: &Repository, named: &str) -> Option<Oid> {
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
pub fn borrowing_repository(tree: &Repository, dir: &Path) -> Result<Repository> {
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

/// The configured tree, opened for reading.
pub fn open_tree(path: &Path) -> Result<Repository> {
    Repository::open(path).context(ErrorKind::Git, || {
        format!("opening the tree {}", path.display())
    })
}

/// Applies the series on the first candidate it applies to: on the
/// series' own base exactly, on a configured base exactly, else 3-way,
/// else fuzzily, patch by patch. Every candidate that failed is returned
/// too, for the notes.
pub fn apply_on_candidates(
    repo: &Repository,
    series: &ReviewSeries,
    candidates: &[BaseCandidate],
) -> (Option<Applied>, Vec<NotApplied>) {
    let mut failed = Vec::new();
    for candidate in candidates {
        let methods: &[Method] = match candidate.kind {
            BaseKind::SeriesBase => &[Method::Exact],
            BaseKind::Configured => &[Method::Exact, Method::ThreeWay, Method::Fuzzy],
        };
        match apply_series(repo, candidate, series, methods) {
            Ok(applied) => return (Some(applied), failed),
            Err(not_applied) => failed.push(not_applied),
        }
    }
    (None, failed)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Exact,
    ThreeWay,
    Fuzzy,
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::Exact => "as is",
            Method::ThreeWay => "3-way",
            Method::Fuzzy => "with fuzz",
        }
    }
}

/// Applies every patch in order on `base`, committing each (no ref
/// moves), trying `methods` in order for each patch.
fn apply_series(
    repo: &Repository,
    base: &BaseCandidate,
    series: &ReviewSeries,
    methods: &[Method],
) -> std::result::Result<Applied, NotApplied> {
    let not_applied = |patch: u32, reasons: Vec<String>| NotApplied {
        base: base.clone(),
        patch,
        reasons,
    };
    let signature = git2::Signature::new("sashiko", "sashiko@invalid", &git2::Time::new(0, 0))
        .map_err(|error| not_applied(0, vec![error.message().to_owned()]))?;
    let mut parent = repo
        .find_commit(base.commit)
        .map_err(|error| not_applied(0, vec![error.message().to_owned()]))?;
    let mut commits = Vec::new();
    let mut used = Vec::new();
    for patch in &series.patches {
        let number = patch.index;
        let parent_tree = parent
            .tree()
            .map_err(|error| not_applied(number, vec![error.message().to_owned()]))?;
        let mut reasons = Vec::new();
        let mut result = None;
        for method in methods {
            let attempt = match method {
                Method::Exact => exact(repo, &parent_tree, &patch.diff),
                Method::ThreeWay => three_way(repo, &parent_tree, &patch.diff),
                Method::Fuzzy => fuzzy(repo, &parent_tree, &patch.diff),
            };
            match attempt {
                Ok(found) => {
                    result = Some(found);
                    break;
                }
                Err(reason) => reasons.push(format!("{}: {reason}", method.name())),
            }
        }
        let Some((tree_id, method)) = result else {
            return Err(not_applied(number, reasons));
        };
        let commit = repo
            .find_tree(tree_id)
            .and_then(|tree| {
                let summary = format!("patch {number}");
                repo.commit(None, &signature, &signature, &summary, &tree, &[&parent])
            })
            .and_then(|id| repo.find_commit(id))
            .map_err(|error| not_applied(number, vec![error.message().to_owned()]))?;
        commits.push(commit.id());
        used.push(method);
        parent = commit;
    }
    Ok(Applied {
        base: base.clone(),
        commits,
        methods: used,
    })
}

/// The patch applied as it is.
fn exact(
    repo: &Repository,
    tree: &Tree<'_>,
    diff_text: &str,
) -> std::result::Result<(Oid, PatchMethod), String> {
    let diff = git2::Diff::from_buffer(diff_text.as_bytes()).map_err(message)?;
    let mut index = repo.apply_to_tree(tree, &diff, None).map_err(message)?;
    let id = index.write_tree_to(repo).map_err(message)?;
    Ok((id, PatchMethod::Exact))
}

/// What `git am -3` does: a tree of the files as the author had them (the
/// blobs the `index` lines name), the patch applied to it, and the result
/// merged into `ours` with that tree as the common ancestor.
fn three_way(
    repo: &Repository,
    ours: &Tree<'_>,
    diff_text: &str,
) -> std::result::Result<(Oid, PatchMethod), String> {
    let (files, _) = sashiko_mail::diff::parse(diff_text);
    if files.is_empty() {
        return Err("no file diffs".to_owned());
    }
    let lines: Vec<&str> = diff_text.lines().collect();
    let empty = repo
        .treebuilder(None)
        .and_then(|builder| builder.write())
        .and_then(|id| repo.find_tree(id))
        .map_err(message)?;
    let mut ancestor = git2::build::TreeUpdateBuilder::new();
    for file in &files {
        if file.change == FileChange::Added {
            continue;
        }
        let (Some(old_path), Some((old_blob, mode))) = (&file.old_path, index_line(&lines, file))
        else {
            return Err(format!(
                "{}: no index line naming the original blob",
                file.path()
            ));
        };
        let blob = repo
            .find_object_by_prefix(&old_blob, Some(ObjectType::Blob))
            .map_err(|_| format!("the original {old_blob} of {old_path} is not in the tree"))?;
        ancestor.upsert(old_path.as_str(), blob.id(), mode);
    }
    let ancestor = ancestor
        .create_updated(repo, &empty)
        .and_then(|id| repo.find_tree(id))
        .map_err(message)?;
    let diff = git2::Diff::from_buffer(diff_text.as_bytes()).map_err(message)?;
    let theirs = repo
        .apply_to_tree(&ancestor, &diff, None)
        .and_then(|mut index| index.write_tree_to(repo))
        .and_then(|id| repo.find_tree(id))
        .map_err(|error| {
            format!(
                "does not apply to its own original files: {}",
                message(error)
            )
        })?;
    let mut options = git2::MergeOptions::new();
    // Renames between the ancestor and a whole tree would be looked for
    // among every file of the tree; the patch names its own renames.
    options.find_renames(false);
    let mut merged = repo
        .merge_trees(&ancestor, ours, &theirs, Some(&options))
        .map_err(message)?;
    if merged.has_conflicts() {
        let paths: Vec<String> = merged
            .conflicts()
            .map_err(message)?
            .filter_map(|conflict| conflict.ok())
            .filter_map(|conflict| conflict.our.or(conflict.their).or(conflict.ancestor))
            .map(|entry| String::from_utf8_lossy(&entry.path).into_owned())
            .collect();
        return Err(format!("conflicts in {}", paths.join(", ")));
    }
    let id = merged.write_tree_to(repo).map_err(message)?;
    Ok((id, PatchMethod::ThreeWay))
}

/// The abbreviated original blob id and mode of `file` from its `index`
/// line (`index abc123..def456 100644`), read from the lines of its
/// header.
fn index_line(lines: &[&str], file: &FileDiff) -> Option<(String, FileMode)> {
    let header = lines.get(file.header_line..)?;
    let line = header
        .iter()
        .skip(1)
        .take_while(|line| !line.starts_with("diff --git ") && !line.starts_with("@@"))
        .find_map(|line| line.strip_prefix("index "))?;
    let mut parts = line.split_whitespace();
    let ids = parts.next()?;
    let (old, _) = ids.split_once("..")?;
    let valid = (4..=64).contains(&old.len()) && old.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid || old.bytes().all(|b| b == b'0') {
        return None;
    }
    let mode = parts
        .next()
        .or(file.old_mode.as_deref())
        .map_or(FileMode::Blob, file_mode);
    Some((old.to_owned(), mode))
}

fn file_mode(text: &str) -> FileMode {
    match text.trim() {
        "100755" => FileMode::BlobExecutable,
        "120000" => FileMode::Link,
        _ => FileMode::Blob,
    }
}

/// The patch applied file by file with offsets and fuzz.
fn fuzzy(
    repo: &Repository,
    tree: &Tree<'_>,
    diff_text: &str,
) -> std::result::Result<(Oid, PatchMethod), String> {
    let (files, _) = sashiko_mail::diff::parse(diff_text);
    if files.is_empty() {
        return Err("no file diffs".to_owned());
    }
    let mut update = git2::build::TreeUpdateBuilder::new();
    let mut moved = Moved::default();
    for file in &files {
        if file.is_binary {
            return Err(format!("{}: a binary patch", file.path()));
        }
        let existing = |path: &str| {
            tree.get_path(Path::new(path))
                .ok()
                .filter(|entry| entry.kind() == Some(ObjectType::Blob))
        };
        let (text, mode) = match (file.change, &file.old_path) {
            (FileChange::Added, _) | (_, None) => {
                if existing(file.path()).is_some() {
                    return Err(format!("{} already exists", file.path()));
                }
                (Vec::new(), FileMode::Blob)
            }
            (_, Some(old_path)) => {
                let entry =
                    existing(old_path).ok_or_else(|| format!("{old_path} does not exist"))?;
                let blob = repo.find_blob(entry.id()).map_err(message)?;
                let mode = if entry.filemode() == i32::from(FileMode::BlobExecutable) {
                    FileMode::BlobExecutable
                } else {
                    FileMode::Blob
                };
                (blob.content().to_vec(), mode)
            }
        };
        if file.change == FileChange::Deleted {
            if let Some(old_path) = &file.old_path {
                update.remove(old_path.as_str());
            }
            continue;
        }
        let (patched, file_moved) =
            apply_hunks(&text, &file.hunks).map_err(|error| format!("{}: {error}", file.path()))?;
        moved = moved.max(file_moved);
        let blob = repo.blob(&patched).map_err(message)?;
        let mode = file.new_mode.as_deref().map_or(mode, file_mode);
        if let (FileChange::Renamed, Some(old_path)) = (file.change, &file.old_path) {
            update.remove(old_path.as_str());
        }
        update.upsert(file.path(), blob, mode);
    }
    let id = update.create_updated(repo, tree).map_err(message)?;
    Ok((id, PatchMethod::Fuzzy(moved)))
}

fn message(error: git2::Error) -> String {
    error.message().to_owned()
}

/// The first 12 digits of a commit id.
pub fn short(id: &Oid) -> String {
    let text = id.to_string();
    text.get(..12).unwrap_or(&text).to_owned()
}

#[cfg(test)]
#[path = "apply_tests.rs"]
mod tests;
