//! Every scanner that reads source, run over every `.c`/`.h` file of the
//! real Linux 6.1.20 subset in ../shared/kernel (177 of them carry
//! non-ASCII text: UTF-8 author names, `©`, comments in other scripts):
//! enclosing functions, definitions, uses, includes, callers and the
//! lock-order walk must take every file without a panic.
//!
//! Regression: issue 14, `cscan.rs:165: start byte index 1 is not a char
//! boundary; it is inside '调'` on a Linux 3.13 tree.
//!
//! Skips with a message when ../shared is absent.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sashiko_lkmm::lockorder::{lock_acquisitions, parse_hierarchy, LockTable};
use sashiko_review::context::{enclosing_functions, functions, slice_lines};
use sashiko_review::cscan::{self, Use};
use sashiko_review::maintainers::Maintainers;
use sashiko_review::related::{self, ChangedFunction};

fn tarball() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/kernel/linux-6.1.20-core.tar.xz");
    path.exists().then_some(path)
}

fn c_files(root: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            c_files(&path, out);
        } else if kind.is_file()
            && path
                .extension()
                .is_some_and(|extension| extension == "c" || extension == "h")
        {
            out.push(path);
        }
    }
}

/// What one file gave, to check the scanners did real work.
#[derive(Default)]
struct Counts {
    functions: usize,
    definitions: usize,
    callers: usize,
    acquisitions: usize,
}

/// Run every scanner over one file; what it found.
fn scan(path: &str, source: &str, table: &LockTable) -> Counts {
    let mut counts = Counts::default();
    let spans = functions(source);
    counts.functions = spans.len();
    let lines: Vec<&str> = source.lines().collect();
    // A one-line change in the middle of every function, as a diff.
    let mut diff = format!("--- a/{path}\n+++ b/{path}\n");
    for span in &spans {
        let middle = span.start + (span.end - span.start) / 2;
        diff.push_str(&format!("@@ -{middle},1 +{middle},1 @@\n+x\n"));
    }
    let enclosing = enclosing_functions(path, source, &diff);
    assert!(enclosing.len() <= spans.len());
    let uses = cscan::uses(lines.iter().copied());
    let definitions = cscan::definitions(source);
    counts.definitions = definitions.len();
    let _ = cscan::includes(source);
    let wanted: BTreeSet<Use> = uses.into_iter().take(60).collect();
    let (found, _, _) = related::definitions_in(path, source, &wanted, 40);
    assert!(found.len() <= definitions.len());
    let changed: Vec<ChangedFunction> = spans
        .iter()
        .take(6)
        .map(|span| ChangedFunction {
            file: path.to_owned(),
            name: span.name.clone(),
            is_static: false,
        })
        .collect();
    counts.callers = related::callers_in(path, source, &changed, 30).len();
    for span in &spans {
        let body = slice_lines(&lines, span.start, span.end);
        counts.acquisitions += lock_acquisitions(&body, span.start, table)
            .acquisitions
            .len();
    }
    // The walker over a whole file too (hunks without an enclosing function).
    let _ = lock_acquisitions(source, 1, table);
    counts
}

#[test]
fn every_scanner_takes_every_c_file_of_the_real_kernel_subset() {
    let Some(tarball) = tarball() else {
        eprintln!("skipped: ../shared/kernel/linux-6.1.20-core.tar.xz is absent");
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let status = std::process::Command::new("tar")
        .arg("-xJf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("tar runs");
    assert!(status.success(), "unpacking {}", tarball.display());
    let root = std::fs::read_dir(dir.path())
        .expect("the unpacked tree")
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.join("MAINTAINERS").exists())
        .unwrap_or_else(|| dir.path().to_owned());
    let table = LockTable::from_toml(include_str!("../../../prompts/checks/lock_order.toml"))
        .expect("the lock table parses");
    let mut files = Vec::new();
    c_files(&root, &mut files);
    files.sort();
    let mut non_ascii = 0;
    let mut total = Counts::default();
    let mut panicked = Vec::new();
    for file in &files {
        let bytes = std::fs::read(file).expect("a file of the unpacked tree");
        let source = String::from_utf8_lossy(&bytes).into_owned();
        if !source.is_ascii() {
            non_ascii += 1;
        }
        let relative = file
            .strip_prefix(&root)
            .unwrap_or(file)
            .to_string_lossy()
            .into_owned();
        match std::panic::catch_unwind(|| scan(&relative, &source, &table)) {
            Ok(counts) => {
                total.functions += counts.functions;
                total.definitions += counts.definitions;
                total.callers += counts.callers;
                total.acquisitions += counts.acquisitions;
            }
            Err(_) => panicked.push(relative),
        }
    }
    eprintln!(
        "{} C files ({non_ascii} with non-ASCII text): {} functions, {} definitions, {} caller snippets, {} lock acquisitions",
        files.len(),
        total.functions,
        total.definitions,
        total.callers,
        total.acquisitions
    );
    assert!(panicked.is_empty(), "scanners panicked on {panicked:?}");
    assert!(files.len() > 7_000, "{} C files", files.len());
    assert!(non_ascii >= 150, "{non_ascii} files with non-ASCII text");
    assert!(total.functions > 50_000 && total.definitions > total.functions);
    assert!(total.acquisitions > 500, "{}", total.acquisitions);

    // The hierarchy comments and MAINTAINERS of the same tree.
    for hierarchy_file in ["mm/rmap.c", "mm/filemap.c"] {
        let source = std::fs::read_to_string(root.join(hierarchy_file)).expect("mm file");
        let (edges, _) = parse_hierarchy(hierarchy_file, &source, &table);
        assert!(!edges.is_empty(), "{hierarchy_file} documents lock order");
    }
    let rmap = std::fs::read_to_string(root.join("mm/rmap.c")).expect("mm/rmap.c");
    let prepare = functions(&rmap)
        .into_iter()
        .find(|span| span.name == "__anon_vma_prepare")
        .expect("__anon_vma_prepare() in mm/rmap.c");
    let lines: Vec<&str> = rmap.lines().collect();
    let locks = lock_acquisitions(
        &slice_lines(&lines, prepare.start, prepare.end),
        prepare.start,
        &table,
    );
    assert!(
        locks
            .locks()
            .iter()
            .any(|lock| lock.contains("page_table_lock")),
        "{:?}",
        locks.locks()
    );
    let maintainers_text =
        std::fs::read_to_string(root.join("MAINTAINERS")).expect("MAINTAINERS of the subset");
    let maintainers = Maintainers::parse(&maintainers_text);
    let routed = maintainers.route(&["mm/rmap.c", "fs/ext4/super.c"], "");
    let names: Vec<&str> = routed.iter().map(|m| m.name.as_str()).collect();
    assert!(
        names.iter().any(|name| name.contains("EXT4")),
        "routed to {names:?}"
    );
}
