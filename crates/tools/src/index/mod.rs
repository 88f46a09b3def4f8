//! An identifier index of a whole tree, so that definitions and callers
//! are found anywhere in it, not in the first N files a bounded scan
//! reaches (issue 14: "tree scan stopped after 6000 of 55448 C files").
//!
//! For every `.c`/`.h` file of a tree it records the names the file
//! defines and the names it calls (`sashiko_review::cscan::file_names`),
//! as two posting tables from a 64-bit hash of the name to file ids. A
//! hash collision only costs reading one file too many: the caller scans
//! every file it reads with the real scanners, which check the name.
//!
//! An index belongs to one tree id. [`cache::IndexCache`] keeps built
//! indexes under `$XDG_CACHE_HOME/sashiko/index`, builds one when none
//! is near, and otherwise takes the nearest one it has and either
//! overlays the few files that differ or updates it incrementally.
//!
//! Architecture invariant: the index reads git objects only (never the
//! work tree, never a subprocess); the only thing written is the cache
//! file, never the repository.

pub mod cache;
mod format;

use std::collections::{BTreeSet, HashMap};

use git2::{Oid, Repository};
use sashiko_review::cscan;

use crate::tree;

/// Files larger than this are not indexed (generated register headers).
pub const MAX_INDEXED_FILE_BYTES: usize = 8 << 20;

/// Why an index could not be built, read or written.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("reading the tree {tree} for the identifier index failed: {detail}")]
    Git { tree: String, detail: String },
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
    #[error("{path} is not a usable identifier index: {detail}")]
    Format { path: String, detail: String },
}

/// FNV-1a over the name's bytes: stable across runs and machines, so a
/// stored index stays valid.
pub fn name_hash(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One indexed file; an empty path marks a file removed by an update.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexedFile {
    pub path: String,
    pub blob: Oid,
}

/// Name hash -> file ids, sorted by hash (compressed sparse rows).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Postings {
    hashes: Vec<u64>,
    /// `ids[offsets[i]..offsets[i + 1]]` are the files of `hashes[i]`.
    offsets: Vec<u32>,
    ids: Vec<u32>,
}

impl Postings {
    fn from_pairs(mut pairs: Vec<(u64, u32)>) -> Postings {
        pairs.sort_unstable();
        pairs.dedup();
        let mut postings = Postings {
            hashes: Vec::new(),
            offsets: vec![0],
            ids: Vec::with_capacity(pairs.len()),
        };
        for (hash, id) in pairs {
            if postings.hashes.last() != Some(&hash) {
                if !postings.hashes.is_empty() {
                    postings.offsets.push(postings.ids.len() as u32);
                }
                postings.hashes.push(hash);
            }
            postings.ids.push(id);
        }
        if !postings.hashes.is_empty() {
            postings.offsets.push(postings.ids.len() as u32);
        }
        postings
    }

    fn get(&self, hash: u64) -> &[u32] {
        match self.hashes.binary_search(&hash) {
            Ok(at) => {
                let from = self.offsets[at] as usize;
                let to = self.offsets[at + 1] as usize;
                &self.ids[from..to]
            }
            Err(_) => &[],
        }
    }

    fn pairs(&self) -> impl Iterator<Item = (u64, u32)> + '_ {
        self.hashes.iter().enumerate().flat_map(move |(at, &hash)| {
            let from = self.offsets[at] as usize;
            let to = self.offsets[at + 1] as usize;
            self.ids[from..to].iter().map(move |&id| (hash, id))
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The identifier index of one tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentifierIndex {
    pub tree: Oid,
    pub files: Vec<IndexedFile>,
    pub(crate) defined: Postings,
    pub(crate) called: Postings,
}

/// The name hashes of one file.
#[derive(Default)]
pub(crate) struct FileHashes {
    pub defined: Vec<u64>,
    pub called: Vec<u64>,
}

/// Scan one blob's text for its names (hashed).
pub(crate) fn hashes_of(bytes: &[u8]) -> FileHashes {
    if bytes.len() > MAX_INDEXED_FILE_BYTES || bytes.iter().take(8000).any(|&b| b == 0) {
        return FileHashes::default();
    }
    let text = String::from_utf8_lossy(bytes);
    let names = cscan::file_names(&text);
    FileHashes {
        defined: names.defined.iter().map(|n| name_hash(n)).collect(),
        called: names.called.iter().map(|n| name_hash(n)).collect(),
    }
}

pub(crate) fn is_c(path: &str) -> bool {
    path.ends_with(".c") || path.ends_with(".h")
}

/// (name hash, file id) of the defined names and of the called names.
type Pairs = (Vec<(u64, u32)>, Vec<(u64, u32)>);

/// Scan `files` (id, blob) with `threads` threads, each with its own
/// handle on the repository at `repo_path`.
fn scan_files(
    repo_path: &std::path::Path,
    files: &[(u32, Oid)],
    threads: usize,
) -> Result<Pairs, String> {
    let threads = threads.clamp(1, 16);
    let chunk = files.len().div_ceil(threads).max(1);
    let results: Vec<Result<Pairs, String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let repo =
                        Repository::open(repo_path).map_err(|error| error.message().to_owned())?;
                    let mut defined = Vec::new();
                    let mut called = Vec::new();
                    for &(id, blob) in part {
                        let Ok(blob) = repo.find_blob(blob) else {
                            continue;
                        };
                        let hashes = hashes_of(blob.content());
                        defined.extend(hashes.defined.into_iter().map(|h| (h, id)));
                        called.extend(hashes.called.into_iter().map(|h| (h, id)));
                    }
                    Ok((defined, called))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|_| Err("an index thread panicked".to_owned()))
            })
            .collect()
    });
    let mut defined = Vec::new();
    let mut called = Vec::new();
    for result in results {
        let (d, c) = result?;
        defined.extend(d);
        called.extend(c);
    }
    Ok((defined, called))
}

impl IdentifierIndex {
    /// Index every C file of `tree`, with `threads` threads.
    pub fn build(repo: &Repository, tree: Oid, threads: usize) -> Result<Self, IndexError> {
        let git_error = |detail: String| IndexError::Git {
            tree: tree.to_string(),
            detail,
        };
        let (listed, _) = tree::list(repo, tree, None, &is_c, usize::MAX).map_err(git_error)?;
        let files: Vec<IndexedFile> = listed
            .into_iter()
            .map(|file| IndexedFile {
                path: file.path,
                blob: file.blob,
            })
            .collect();
        let work: Vec<(u32, Oid)> = files
            .iter()
            .enumerate()
            .map(|(id, file)| (id as u32, file.blob))
            .collect();
        let (defined, called) = scan_files(repo.path(), &work, threads).map_err(git_error)?;
        Ok(IdentifierIndex {
            tree,
            files,
            defined: Postings::from_pairs(defined),
            called: Postings::from_pairs(called),
        })
    }

    /// This index moved to `tree`: files that differ are scanned again,
    /// removed ones are dropped; the rest is kept as it is.
    pub fn update(&self, repo: &Repository, tree: Oid, threads: usize) -> Result<Self, IndexError> {
        let git_error = |detail: String| IndexError::Git {
            tree: tree.to_string(),
            detail,
        };
        let changes = cache::changed_c_files(repo, self.tree, tree).map_err(git_error)?;
        let mut files = self.files.clone();
        let ids: HashMap<&str, u32> = self
            .files
            .iter()
            .enumerate()
            .filter(|(_, file)| !file.path.is_empty())
            .map(|(id, file)| (file.path.as_str(), id as u32))
            .collect();
        let mut dropped = BTreeSet::new();
        let mut work = Vec::new();
        for change in &changes {
            if let Some(old) = &change.old_path {
                if let Some(&id) = ids.get(old.as_str()) {
                    dropped.insert(id);
                    files[id as usize].path.clear();
                }
            }
        }
        for change in changes {
            let Some((path, blob)) = change.new else {
                continue;
            };
            let id = match ids.get(path.as_str()) {
                Some(&id) => id,
                None => {
                    files.push(IndexedFile {
                        path: String::new(),
                        blob,
                    });
                    (files.len() - 1) as u32
                }
            };
            files[id as usize] = IndexedFile { path, blob };
            work.push((id, blob));
        }
        let (defined, called) = scan_files(repo.path(), &work, threads).map_err(git_error)?;
        let keep = |postings: &Postings, added: Vec<(u64, u32)>| {
            let mut pairs: Vec<(u64, u32)> = postings
                .pairs()
                .filter(|(_, id)| !dropped.contains(id))
                .collect();
            pairs.extend(added);
            Postings::from_pairs(pairs)
        };
        Ok(IdentifierIndex {
            tree,
            defined: keep(&self.defined, defined),
            called: keep(&self.called, called),
            files,
        })
    }

    fn paths(&self, ids: &[u32]) -> Vec<&str> {
        ids.iter()
            .filter_map(|&id| self.files.get(id as usize))
            .map(|file| file.path.as_str())
            .filter(|path| !path.is_empty())
            .collect()
    }

    /// Files that define something named `name` (or a name with its hash).
    pub fn defining_files(&self, name: &str) -> Vec<&str> {
        self.paths(self.defined.get(name_hash(name)))
    }

    /// Files that call `name(` (or a name with its hash).
    pub fn calling_files(&self, name: &str) -> Vec<&str> {
        self.paths(self.called.get(name_hash(name)))
    }

    /// Indexed files (removed ones not counted).
    pub fn file_count(&self) -> usize {
        self.files
            .iter()
            .filter(|file| !file.path.is_empty())
            .count()
    }

    /// Entries of both posting tables.
    pub fn posting_count(&self) -> usize {
        self.defined.len() + self.called.len()
    }
}

#[cfg(test)]
mod tests;
