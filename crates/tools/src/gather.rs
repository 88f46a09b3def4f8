//! Up-front context for a review, read from the post-patch tree: the
//! enclosing functions of every change, the definitions of the types,
//! functions and macros the added lines use, and the callers of changed
//! functions. The search is bounded and ordered: the touched files, then
//! the headers they include, then a scan of the tree (the touched
//! directories first, then `include/`, then the rest) up to a file and
//! byte limit. What the bound left unresolved is said in a note.
//!
//! The scanning is `sashiko_review::{context, related}` (pure); this module
//! only decides which blobs to read.

use std::collections::{BTreeMap, BTreeSet};

use git2::{Oid, Repository};

use sashiko_review::context::{enclosing_functions, priority, ContextSnippet};
use sashiko_review::cscan::{self, Use};
use sashiko_review::related::{self, ChangedFunction};
use sashiko_review::ReviewSeries;

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
        scan_tree(
            &mut g,
            &touched_paths,
            &read_already,
            &mut wanted,
            &exported,
            &mut callers,
        );
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
    let dirs: BTreeSet<&str> = touched
        .iter()
        .filter_map(|path| path.rsplit_once('/').map(|(dir, _)| dir))
        .collect();
    let rank = |path: &str| {
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
    };
    files.sort_by_cached_key(|file| (rank(&file.path), file.path.clone()));
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
        let priority = if file.path.starts_with("include/") {
            priority::DEFINITION_IN_INCLUDED_HEADER.min(priority::DEFINITION_ELSEWHERE + 5)
        } else {
            priority::DEFINITION_ELSEWHERE
        };
        g.definitions(&file.path, &content, wanted, priority);
        if want_callers {
            *callers += g.callers(&file.path, &content, exported, priority::CALLER_ELSEWHERE);
        }
    }
    g.out.files_read += scanned;
    g.out.bytes_read += bytes;
}
