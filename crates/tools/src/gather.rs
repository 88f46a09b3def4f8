//! Up-front context for a review, read from the post-patch tree: the
//! enclosing functions of every change, the definitions of the types,
//! functions and macros the added lines use, and the callers of changed
//! functions. The search is ordered: the touched files, then the headers
//! they include, then the whole tree through its identifier index
//! ([`crate::index`]): every file that defines a wanted name or calls a
//! changed function, nearest first (the touched directories, then
//! `include/`, then the rest). Without an index (no cache directory, or
//! it cannot be built) a bounded scan of the tree in the same order
//! stands in, and says where it stopped. What stays unresolved is said
//! in a note.
//!
//! The scanning is `sashiko_review::{context, related}` (pure); this module
//! only decides which blobs to read.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use git2::{Oid, Repository};

use sashiko_review::context::{enclosing_functions, priority, ContextSnippet};
use sashiko_review::cscan::{self, Use};
use sashiko_review::related::{self, ChangedFunction};
use sashiko_review::ReviewSeries;

use crate::index::cache::{IndexCache, TreeLookup};
use crate::tree;

/// Bounds of one gathering.
#[derive(Clone, Debug)]
pub struct GatherLimits {
    pub max_touched_files: usize,
    pub max_headers: usize,
    /// Files the tree scan reads at most.
    pub max_scan_files: usize,
    /// Bytes the tree scan reads at most.
    pub max_scan_bytes: u64,
    /// Callers shown at most.
    pub max_callers: usize,
    /// Bytes of snippets gathered at most (the token budget trims later).
    pub max_snippet_bytes: usize,
    pub max_file_bytes: usize,
    /// Where identifier indexes are cached; `None`: no index, the bounded
    /// scan instead.
    pub index_dir: Option<PathBuf>,
    /// Files read through the index at most (definitions and callers).
    pub max_index_reads: usize,
    /// Files read through the index for one name at most.
    pub max_files_per_name: usize,
}

impl Default for GatherLimits {
    fn default() -> Self {
        GatherLimits {
            max_touched_files: 40,
            max_headers: 40,
            max_scan_files: 6_000,
            max_scan_bytes: 48 << 20,
            max_callers: 12,
            max_snippet_bytes: 400_000,
            max_file_bytes: 2 << 20,
            index_dir: crate::index::cache::default_dir(),
            max_index_reads: 400,
            max_files_per_name: 6,
        }
    }
}

/// What was gathered and how far the search went.
#[derive(Clone, Debug, Default)]
pub struct Gathered {
    pub snippets: Vec<ContextSnippet>,
    pub notes: Vec<String>,
    pub files_read: usize,
    pub bytes_read: u64,
}

fn is_c(path: &str) -> bool {
    path.ends_with(".c") || path.ends_with(".h")
}

struct Gatherer<'a> {
    repo: &'a Repository,
    tree: Oid,
    limits: &'a GatherLimits,
    out: Gathered,
    seen_snippets: BTreeSet<(String, u32)>,
    snippet_bytes: usize,
}

impl Gatherer<'_> {
    fn read(&mut self, path: &str) -> Option<String> {
        let (_, text) =
            tree::read_text(self.repo, self.tree, path, self.limits.max_file_bytes).ok()?;
        self.out.files_read += 1;
        self.out.bytes_read += text.len() as u64;
        Some(text)
    }

    fn keep(&mut self, snippets: Vec<ContextSnippet>) {
        for snippet in snippets {
            if !self
                .seen_snippets
                .insert((snippet.file.clone(), snippet.first_line))
            {
                continue;
            }
            if self.snippet_bytes + snippet.text.len() > self.limits.max_snippet_bytes {
                self.out.notes.push(format!(
                    "{} in {} left out: gathered context is limited to {} bytes",
                    snippet.label, snippet.file, self.limits.max_snippet_bytes
                ));
                continue;
            }
            self.snippet_bytes += snippet.text.len();
            self.out.snippets.push(snippet);
        }
    }

    fn definitions(&mut self, file: &str, source: &str, wanted: &mut BTreeSet<Use>, priority: u32) {
        if wanted.is_empty() {
            return;
        }
        let (snippets, answered, notes) = related::definitions_in(file, source, wanted, priority);
        wanted.retain(|use_| !answered.contains(use_));
        self.out.notes.extend(notes);
        self.keep(snippets);
    }

    fn callers(
        &mut self,
        file: &str,
        source: &str,
        changed: &[ChangedFunction],
        priority: u32,
    ) -> usize {
        let snippets = related::callers_in(file, source, changed, priority);
        let found = snippets.len();
        self.keep(snippets);
        found
    }
}

/// Resolve an `#include` of `from` to a tree path.
fn include_path(from: &str, include: &cscan::Include) -> String {
    if include.system {
        format!("include/{}", include.path)
    } else {
        match from.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{}", include.path),
            None => include.path.clone(),
        }
    }
}

/// Gather the context of `series` from the tree `post_patch_tree`.
pub fn gather(
    repo: &Repository,
    post_patch_tree: Oid,
    series: &ReviewSeries,
    limits: &GatherLimits,
) -> Gathered {
    let mut g = Gatherer {
        repo,
        tree: post_patch_tree,
        limits,
        out: Gathered::default(),
        seen_snippets: BTreeSet::new(),
        snippet_bytes: 0,
    };
    let diffs: String = series.patches.iter().map(|p| p.diff.as_str()).collect();
    let mut touched_paths: Vec<String> = sashiko_review::context::series_files(series)
        .into_iter()
        .filter(|file| is_c(file))
        .collect();
    if touched_paths.len() > limits.max_touched_files {
        g.out.notes.push(format!(
            "context read from the first {} of {} changed C files only",
            limits.max_touched_files,
            touched_paths.len()
        ));
        touched_paths.truncate(limits.max_touched_files);
    }
    let mut touched: Vec<(String, String)> = Vec::new();
    for path in &touched_paths {
        if let Some(text) = g.read(path) {
            touched.push((path.clone(), text));
        }
    }
    for (path, text) in &touched {
        g.keep(enclosing_functions(path, text, &diffs));
    }
    let wanted_all = related::wanted(series, &touched);
    let mut wanted = wanted_all.uses.clone();
    let changed = wanted_all.changed_functions;
    let mut callers = 0;
    for (path, text) in &touched {
        g.definitions(
            path,
            text,
            &mut wanted,
            priority::DEFINITION_IN_TOUCHED_FILE,
        );
        callers += g.callers(path, text, &changed, priority::CALLER_IN_TOUCHED_FILE);
    }
    // Headers the touched files include, each once.
    let mut headers: Vec<String> = Vec::new();
    for (path, text) in &touched {
        for include in cscan::includes(text) {
            let header = include_path(path, &include);
            if !headers.contains(&header) && !touched_paths.contains(&header) {
                headers.push(header);
            }
        }
    }
    if headers.len() > limits.max_headers {
        g.out.notes.push(format!(
            "only the first {} of {} included headers were read",
            limits.max_headers,
            headers.len()
        ));
        headers.truncate(limits.max_headers);
    }
    let mut read_already: BTreeSet<String> = touched_paths.iter().cloned().collect();
    for header in &headers {
        if wanted.is_empty() {
            break;
        }
        read_already.insert(header.clone());
        if let Some(text) = g.read(header) {
            g.definitions(
                header,
                &text,
                &mut wanted,
                priority::DEFINITION_IN_INCLUDED_HEADER,
            );
        }
    }
    let exported: Vec<ChangedFunction> = changed.iter().filter(|f| !f.is_static).cloned().collect();
    if !wanted.is_empty() || !exported.is_empty() {
        let lookup = limits
            .index_dir
            .as_ref()
            .map(|dir| IndexCache::new(dir.clone()).lookup(repo, post_patch_tree));
        match lookup {
            Some(Ok(lookup)) => {
                g.out.notes.push(lookup.how.clone());
                let search = Search {
                    touched: &touched_paths,
                    read_already: &read_already,
                    exported: &exported,
                };
                indexed(&mut g, &lookup, &search, &mut wanted, &mut callers);
            }
            other => {
                if let Some(Err(error)) = other {
                    g.out.notes.push(format!(
                        "no identifier index ({error}): a bounded scan of the tree instead"
                    ));
                }
                scan_tree(
                    &mut g,
                    &touched_paths,
                    &read_already,
                    &mut wanted,
                    &exported,
                    &mut callers,
                );
            }
        }
    }
    if !wanted.is_empty() {
        let names: Vec<&str> = wanted.iter().map(Use::name).take(20).collect();
        g.out.notes.push(format!(
            "no definition found within the search bound for: {}{}",
            names.join(", "),
            if wanted.len() > 20 { ", ..." } else { "" }
        ));
    }
    g.out
}

fn touched_dirs(touched: &[String]) -> BTreeSet<&str> {
    touched
        .iter()
        .filter_map(|path| path.rsplit_once('/').map(|(dir, _)| dir))
        .collect()
}

/// How near `path` is to the touched directories: 0 in one of them, 1
/// under `include/`, 2 beside one of them, 3 elsewhere.
fn rank(dirs: &BTreeSet<&str>, path: &str) -> u8 {
    let dir = path.rsplit_once('/').map_or("", |(dir, _)| dir);
    if dirs.contains(dir) {
        0
    } else if path.starts_with("include/") {
        1
    } else if dirs
        .iter()
        .any(|d| path.starts_with(&format!("{}/", d.rsplit_once('/').map_or(*d, |(up, _)| up))))
    {
        2
    } else {
        3
    }
}

fn definition_priority(path: &str) -> u32 {
    if path.starts_with("include/") {
        priority::DEFINITION_IN_INCLUDED_HEADER.min(priority::DEFINITION_ELSEWHERE + 5)
    } else {
        priority::DEFINITION_ELSEWHERE
    }
}

/// What the whole-tree search starts from.
struct Search<'a> {
    touched: &'a [String],
    read_already: &'a BTreeSet<String>,
    exported: &'a [ChangedFunction],
}

/// Definitions and callers anywhere in the tree, through its index: for
/// each wanted name the files defining it, nearest first, until it is
/// answered; for each exported changed function the files calling it,
/// nearest first, each function with its share of the callers shown.
fn indexed(
    g: &mut Gatherer<'_>,
    lookup: &TreeLookup,
    search: &Search<'_>,
    wanted: &mut BTreeSet<Use>,
    callers: &mut usize,
) {
    let dirs = touched_dirs(search.touched);
    let mut texts: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut scanned_for_definitions: BTreeSet<String> = search.read_already.clone();
    let mut reads = 0usize;
    let mut capped = false;
    let names: Vec<Use> = wanted.iter().cloned().collect();
    for use_ in names {
        if !wanted.contains(&use_) {
            continue;
        }
        let mut files = lookup.defining_files(use_.name());
        files.retain(|path| !scanned_for_definitions.contains(path));
        files.sort_by_cached_key(|path| (rank(&dirs, path), path.clone()));
        for path in files.into_iter().take(g.limits.max_files_per_name) {
            if reads >= g.limits.max_index_reads {
                capped = true;
                break;
            }
            reads += 1;
            scanned_for_definitions.insert(path.clone());
            let text = g.read(&path);
            if let Some(text) = &text {
                g.definitions(&path, text, wanted, definition_priority(&path));
            }
            texts.insert(path, text);
            if !wanted.contains(&use_) {
                break;
            }
        }
    }
    let share = g
        .limits
        .max_callers
        .div_ceil(search.exported.len().max(1))
        .max(2);
    for function in search.exported {
        let mut files = lookup.calling_files(&function.name);
        files.retain(|path| !search.touched.contains(path));
        files.sort_by_cached_key(|path| (rank(&dirs, path), path.clone()));
        let mut found = 0;
        for path in files {
            if found >= share || *callers >= g.limits.max_callers {
                break;
            }
            if reads >= g.limits.max_index_reads {
                capped = true;
                break;
            }
            let text = match texts.get(&path) {
                Some(text) => text.clone(),
                None => {
                    reads += 1;
                    let text = g.read(&path);
                    texts.insert(path.clone(), text.clone());
                    text
                }
            };
            if let Some(text) = text {
                let snippets = related::callers_in(
                    &path,
                    &text,
                    std::slice::from_ref(function),
                    priority::CALLER_ELSEWHERE,
                );
                found += snippets.len();
                *callers += snippets.len();
                g.keep(snippets);
            }
        }
    }
    if capped {
        g.out.notes.push(format!(
            "index lookups stopped after reading {} files: definitions and callers beyond them are not shown",
            g.limits.max_index_reads
        ));
    }
}

/// The bounded scan of the rest of the tree, nearest directories first.
fn scan_tree(
    g: &mut Gatherer<'_>,
    touched: &[String],
    read_already: &BTreeSet<String>,
    wanted: &mut BTreeSet<Use>,
    exported: &[ChangedFunction],
    callers: &mut usize,
) {
    let Ok((mut files, _)) = tree::list(g.repo, g.tree, None, &is_c, usize::MAX) else {
        return;
    };
    files.retain(|file| !read_already.contains(&file.path));
    let dirs = touched_dirs(touched);
    files.sort_by_cached_key(|file| (rank(&dirs, &file.path), file.path.clone()));
    let mut scanned = 0usize;
    let mut bytes = 0u64;
    let mut by_name: BTreeMap<String, ()> = BTreeMap::new();
    for use_ in wanted.iter() {
        by_name.insert(use_.name().to_owned(), ());
    }
    for function in exported {
        by_name.insert(function.name.clone(), ());
    }
    let total = files.len();
    for file in files {
        let want_callers = *callers < g.limits.max_callers && !exported.is_empty();
        if wanted.is_empty() && !want_callers {
            break;
        }
        if scanned >= g.limits.max_scan_files || bytes >= g.limits.max_scan_bytes {
            g.out.notes.push(format!(
                "tree scan stopped after {scanned} of {total} C files ({bytes} bytes): definitions and callers beyond it are not shown"
            ));
            return;
        }
        let Ok(blob) = g.repo.find_blob(file.blob) else {
            continue;
        };
        scanned += 1;
        bytes += blob.size() as u64;
        let content = String::from_utf8_lossy(blob.content());
        if !by_name.keys().any(|name| content.contains(name.as_str())) {
            continue;
        }
        let content = content.into_owned();
        g.definitions(
            &file.path,
            &content,
            wanted,
            definition_priority(&file.path),
        );
        if want_callers {
            *callers += g.callers(&file.path, &content, exported, priority::CALLER_ELSEWHERE);
        }
    }
    g.out.files_read += scanned;
    g.out.bytes_read += bytes;
}
