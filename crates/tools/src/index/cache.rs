//! Where identifier indexes live and which one a lookup uses.
//!
//! Indexes are files `<tree id>.idx` in one directory (by default
//! `$XDG_CACHE_HOME/sashiko/index`, else `~/.cache/sashiko/index`).
//! They are keyed by tree id alone: objects are content-addressed, so an
//! index is valid in any repository that has its tree. For a tree:
//!
//! 1. its own index, when cached;
//! 2. else the most recently used cached index whose tree this
//!    repository has: when few C files differ ([`OVERLAY_MAX_FILES`]),
//!    those files are scanned at lookup time and overlaid (nothing is
//!    written); when more differ, the index is updated incrementally
//!    (only the differing files are scanned) and stored for this tree;
//! 3. else it is built from scratch and stored.
//!
//! At most [`KEEP_INDEXES`] files are kept; the least recently used go.
//! A file that fails to decode is rebuilt. Writes go to a temporary file
//! renamed into place, so a concurrent reader never sees half an index.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use git2::{Delta, DiffOptions, Oid, Repository};

use super::{format, hashes_of, is_c, name_hash, IdentifierIndex, IndexError};

/// Differing C files up to which a nearby index is overlaid rather than
/// updated and stored.
pub const OVERLAY_MAX_FILES: usize = 400;
/// Index files kept in the cache directory.
pub const KEEP_INDEXES: usize = 3;

/// The default cache directory: `$XDG_CACHE_HOME/sashiko/index`, else
/// `$HOME/.cache/sashiko/index`.
pub fn default_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))?;
    Some(base.join("sashiko").join("index"))
}

/// A C file that differs between two trees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Its path in the old tree, when it was there.
    pub old_path: Option<String>,
    /// Its path and blob in the new tree, when it is there.
    pub new: Option<(String, Oid)>,
}

/// The C files that differ between `old` and `new` (renames are a
/// removal and an addition).
pub fn changed_c_files(repo: &Repository, old: Oid, new: Oid) -> Result<Vec<Change>, String> {
    let tree = |id: Oid| repo.find_tree(id).map_err(|e| e.message().to_owned());
    let (old_tree, new_tree) = (tree(old)?, tree(new)?);
    let mut options = DiffOptions::new();
    options.skip_binary_check(true);
    let diff = repo
        .diff_tree_to_tree(Some(&old_tree), Some(&new_tree), Some(&mut options))
        .map_err(|error| error.message().to_owned())?;
    let path_of = |file: git2::DiffFile<'_>| -> Option<String> {
        let path = file.path()?.to_str()?.to_owned();
        is_c(&path).then_some(path)
    };
    let mut changes = Vec::new();
    for delta in diff.deltas() {
        let old_path = match delta.status() {
            Delta::Added => None,
            _ => path_of(delta.old_file()),
        };
        let new = match delta.status() {
            Delta::Deleted => None,
            _ => path_of(delta.new_file()).map(|path| (path, delta.new_file().id())),
        };
        if old_path.is_some() || new.is_some() {
            changes.push(Change { old_path, new });
        }
    }
    Ok(changes)
}

/// The cache directory of identifier indexes.
#[derive(Clone, Debug)]
pub struct IndexCache {
    pub dir: PathBuf,
    /// Threads used to build or update an index.
    pub threads: usize,
}

/// Lookups of names in one tree: an index of a nearby tree with the
/// files that differ overlaid.
pub struct TreeLookup {
    pub index: IdentifierIndex,
    /// Paths of the index that differ in the looked-up tree.
    hidden: BTreeSet<String>,
    /// Files of the looked-up tree that differ from the index: path,
    /// defined and called name hashes.
    overlay: BTreeMap<String, (BTreeSet<u64>, BTreeSet<u64>)>,
    /// How the index was had, for the review's notes.
    pub how: String,
}

impl TreeLookup {
    fn lookup(&self, name: &str, from_index: Vec<&str>, defined: bool) -> Vec<String> {
        let hash = name_hash(name);
        let mut files: Vec<String> = from_index
            .into_iter()
            .filter(|path| !self.hidden.contains(*path))
            .map(str::to_owned)
            .collect();
        for (path, (defines, calls)) in &self.overlay {
            let names = if defined { defines } else { calls };
            if names.contains(&hash) {
                files.push(path.clone());
            }
        }
        files
    }

    /// Files of the tree that may define `name`.
    pub fn defining_files(&self, name: &str) -> Vec<String> {
        self.lookup(name, self.index.defining_files(name), true)
    }

    /// Files of the tree that may call `name(`.
    pub fn calling_files(&self, name: &str) -> Vec<String> {
        self.lookup(name, self.index.calling_files(name), false)
    }
}

fn io_error(path: &Path, error: std::io::Error) -> IndexError {
    IndexError::Io {
        path: path.display().to_string(),
        detail: error.to_string(),
    }
}

impl IndexCache {
    pub fn new(dir: PathBuf) -> IndexCache {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
        IndexCache { dir, threads }
    }

    fn path_of(&self, tree: Oid) -> PathBuf {
        self.dir.join(format!("{tree}.idx"))
    }

    /// Cached index files, most recently used first.
    fn cached(&self) -> Vec<(Oid, PathBuf)> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut found: Vec<(std::time::SystemTime, Oid, PathBuf)> = entries
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                let stem = path.file_name()?.to_str()?.strip_suffix(".idx")?;
                let tree = Oid::from_str(stem).ok()?;
                let used = entry.metadata().ok()?.modified().ok()?;
                Some((used, tree, path))
            })
            .collect();
        found.sort_by_key(|entry| std::cmp::Reverse(entry.0));
        found
            .into_iter()
            .map(|(_, tree, path)| (tree, path))
            .collect()
    }

    /// Read a stored index, marking it used.
    pub fn load(&self, path: &Path) -> Result<IdentifierIndex, IndexError> {
        let bytes = std::fs::read(path).map_err(|error| io_error(path, error))?;
        let index = format::decode(&bytes).map_err(|detail| IndexError::Format {
            path: path.display().to_string(),
            detail,
        })?;
        if let Ok(file) = std::fs::File::options().append(true).open(path) {
            let _ = file.set_modified(std::time::SystemTime::now());
        }
        Ok(index)
    }

    /// Store `index` (atomically) and drop the least recently used ones.
    pub fn store(&self, index: &IdentifierIndex) -> Result<(), IndexError> {
        std::fs::create_dir_all(&self.dir).map_err(|error| io_error(&self.dir, error))?;
        let path = self.path_of(index.tree);
        let temporary = self
            .dir
            .join(format!(".{}.{}.tmp", index.tree, std::process::id()));
        std::fs::write(&temporary, format::encode(index))
            .map_err(|error| io_error(&temporary, error))?;
        std::fs::rename(&temporary, &path).map_err(|error| io_error(&path, error))?;
        for (_, old) in self.cached().into_iter().skip(KEEP_INDEXES) {
            let _ = std::fs::remove_file(old);
        }
        Ok(())
    }

    /// Makes sure `tree`'s own index is cached, building and storing it
    /// when it is not: for a tree that stays (a configured kernel tree's
    /// base), so that lookups in short-lived trees near it (a series
    /// applied on it in a scratch repository, gone after the review)
    /// overlay the few files that differ instead of building again.
    /// Returns a note when it built one.
    pub fn ensure(&self, repo: &Repository, tree: Oid) -> Result<Option<String>, IndexError> {
        if self.path_of(tree).is_file() {
            return Ok(None);
        }
        let started = Instant::now();
        let index = IdentifierIndex::build(repo, tree, self.threads)?;
        self.store(&index)?;
        Ok(Some(format!(
            "identifier index of base tree {} built ({} files, {:.1} s)",
            short(tree),
            index.file_count(),
            started.elapsed().as_secs_f64()
        )))
    }

    /// Name lookups in `tree` of `repo` (see the module documentation).
    pub fn lookup(&self, repo: &Repository, tree: Oid) -> Result<TreeLookup, IndexError> {
        let started = Instant::now();
        let elapsed = || format!("{:.2} s", started.elapsed().as_secs_f64());
        let mut unusable = Vec::new();
        for (cached_tree, path) in self.cached() {
            if repo.find_tree(cached_tree).is_err() {
                continue;
            }
            let index = match self.load(&path) {
                Ok(index) if index.tree == cached_tree => index,
                Ok(_) | Err(_) => {
                    unusable.push(path.display().to_string());
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
            };
            if cached_tree == tree {
                let how = format!(
                    "identifier index of tree {} ({} files, loaded in {})",
                    short(tree),
                    index.file_count(),
                    elapsed()
                );
                return Ok(self.overlaid(repo, index, Vec::new(), how));
            }
            let changes =
                changed_c_files(repo, cached_tree, tree).map_err(|detail| IndexError::Git {
                    tree: tree.to_string(),
                    detail,
                })?;
            if changes.len() <= OVERLAY_MAX_FILES {
                let how = format!(
                    "identifier index of tree {} with the {} C files that differ in {} scanned ({})",
                    short(cached_tree),
                    changes.len(),
                    short(tree),
                    elapsed()
                );
                return Ok(self.overlaid(repo, index, changes, how));
            }
            let updated = index.update(repo, tree, self.threads)?;
            self.store(&updated)?;
            let how = format!(
                "identifier index of tree {} updated from tree {} ({} C files scanned again, {})",
                short(tree),
                short(cached_tree),
                changes.len(),
                elapsed()
            );
            return Ok(self.overlaid(repo, updated, Vec::new(), how));
        }
        let index = IdentifierIndex::build(repo, tree, self.threads)?;
        self.store(&index)?;
        let mut how = format!(
            "identifier index of tree {} built ({} files, {} s)",
            short(tree),
            index.file_count(),
            format_args!("{:.1}", started.elapsed().as_secs_f64())
        );
        if !unusable.is_empty() {
            how.push_str(&format!(
                "; unusable index files removed: {}",
                unusable.join(", ")
            ));
        }
        Ok(self.overlaid(repo, index, Vec::new(), how))
    }

    fn overlaid(
        &self,
        repo: &Repository,
        index: IdentifierIndex,
        changes: Vec<super::cache::Change>,
        how: String,
    ) -> TreeLookup {
        let mut hidden = BTreeSet::new();
        let mut overlay = BTreeMap::new();
        for change in changes {
            if let Some(old) = change.old_path {
                hidden.insert(old);
            }
            if let Some((path, blob)) = change.new {
                hidden.insert(path.clone());
                let hashes = repo
                    .find_blob(blob)
                    .map(|blob| hashes_of(blob.content()))
                    .unwrap_or_default();
                overlay.insert(
                    path,
                    (
                        hashes.defined.into_iter().collect(),
                        hashes.called.into_iter().collect(),
                    ),
                );
            }
        }
        TreeLookup {
            index,
            hidden,
            overlay,
            how,
        }
    }
}

fn short(tree: Oid) -> String {
    tree.to_string().chars().take(12).collect()
}
