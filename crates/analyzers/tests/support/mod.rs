//! A real kernel tree for the analyzer tests and the benchmark: the
//! ../shared kernel subset unpacked once per process into a temporary git
//! repository, and commits made on it through git objects (no work tree
//! changes, so tests can share it).

#![allow(dead_code, reason = "each test binary uses part of the helpers")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use git2::{build::TreeUpdateBuilder, DiffFormat, FileMode, Oid, Repository, Signature};
use sashiko_review::{ReviewPatch, ReviewSeries};

pub const TARBALL: &str = "linux-6.1.20-core.tar.xz";

pub fn tarball() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/kernel")
        .join(TARBALL);
    path.is_file().then_some(path)
}

pub fn skip(test: &str) {
    eprintln!("SKIPPED {test}: ../shared/kernel/{TARBALL} not found next to the repository");
}

/// The unpacked tree with one commit of everything.
pub struct Kernel {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub base: Oid,
}

/// The kernel repository of this process, unpacked on first use.
pub fn kernel() -> Option<&'static Kernel> {
    static KERNEL: OnceLock<Option<Kernel>> = OnceLock::new();
    KERNEL.get_or_init(|| unpack().ok()).as_ref()
}

fn unpack() -> Result<Kernel, String> {
    let tarball = tarball().ok_or("no tarball")?;
    let dir = tempfile::tempdir().map_err(|error| error.to_string())?;
    let status = Command::new("tar")
        .arg("xJf")
        .arg(&tarball)
        .current_dir(dir.path())
        .status()
        .map_err(|error| error.to_string())?;
    if !status.success() {
        return Err(format!("tar failed: {status}"));
    }
    let path = dir.path().join("linux-6.1.20");
    let repo = Repository::init(&path).map_err(|error| error.to_string())?;
    let mut index = repo.index().map_err(|error| error.to_string())?;
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .map_err(|error| error.to_string())?;
    index.write().map_err(|error| error.to_string())?;
    let tree = index.write_tree().map_err(|error| error.to_string())?;
    let tree = repo.find_tree(tree).map_err(|error| error.to_string())?;
    let signature = signature();
    let base = repo
        .commit(
            Some("HEAD"),
            &signature,
            &signature,
            "Linux 6.1.20 (subset)",
            &tree,
            &[],
        )
        .map_err(|error| error.to_string())?;
    Ok(Kernel {
        _dir: dir,
        path,
        base,
    })
}

fn signature() -> Signature<'static> {
    Signature::new(
        "Ann Example",
        "ann@example.org",
        &git2::Time::new(1_700_000_000, 0),
    )
    .expect("a valid signature")
}

/// A file to change and how: the closure gets the parent's text.
pub type Edit<'a> = (&'a str, &'a dyn Fn(&str) -> String);

/// A commit on `parent` whose files are `edit`ed: each closure gets the
/// parent's text of the path and returns the new text.
pub fn commit(kernel: &Kernel, parent: Oid, message: &str, edits: &[Edit<'_>]) -> Oid {
    let repo = Repository::open(&kernel.path).expect("the kernel repository opens");
    let parent = repo.find_commit(parent).expect("the parent commit");
    let parent_tree = parent.tree().expect("its tree");
    let mut update = TreeUpdateBuilder::new();
    for (path, edit) in edits {
        let old = parent_tree
            .get_path(Path::new(path))
            .ok()
            .and_then(|entry| repo.find_blob(entry.id()).ok())
            .map(|blob| String::from_utf8_lossy(blob.content()).into_owned())
            .unwrap_or_default();
        let blob = repo.blob(edit(&old).as_bytes()).expect("blob written");
        update.upsert(path, blob, FileMode::Blob);
    }
    let tree = update
        .create_updated(&repo, &parent_tree)
        .expect("tree written");
    let tree = repo.find_tree(tree).expect("tree");
    let signature = signature();
    repo.commit(None, &signature, &signature, message, &tree, &[&parent])
        .expect("commit written")
}

/// The commits `base..tip` (first parents) as a series, oldest first.
pub fn series(kernel: &Kernel, base: Oid, tip: Oid) -> ReviewSeries {
    let repo = Repository::open(&kernel.path).expect("the kernel repository opens");
    let mut commits = Vec::new();
    let mut at = tip;
    while at != base {
        let commit = repo.find_commit(at).expect("commit");
        commits.push(at);
        at = commit.parent_id(0).expect("a parent");
    }
    commits.reverse();
    let patches = commits
        .iter()
        .enumerate()
        .map(|(index, oid)| {
            let commit = repo.find_commit(*oid).expect("commit");
            let message = commit.message().unwrap_or("");
            let (subject, body) = message.split_once('\n').unwrap_or((message, ""));
            ReviewPatch {
                index: u32::try_from(index + 1).expect("few patches"),
                subject: subject.to_owned(),
                author: "Ann Example <ann@example.org>".to_owned(),
                message_id: None,
                commit_id: Some(oid.to_string()),
                commit_message: body.trim().to_owned(),
                diff: diff_text(&repo, &commit),
            }
        })
        .collect();
    ReviewSeries {
        title: "test series".to_owned(),
        version: 1,
        cover_letter: None,
        patches,
    }
}

fn diff_text(repo: &Repository, commit: &git2::Commit<'_>) -> String {
    let tree = commit.tree().expect("tree");
    let parent = commit
        .parent(0)
        .expect("parent")
        .tree()
        .expect("parent tree");
    let diff = repo
        .diff_tree_to_tree(Some(&parent), Some(&tree), None)
        .expect("diff");
    let mut text = String::new();
    diff.print(DiffFormat::Patch, |_, _, line| {
        let content = String::from_utf8_lossy(line.content());
        match line.origin() {
            '+' | '-' | ' ' => {
                text.push(line.origin());
                text.push_str(&content);
            }
            _ => text.push_str(&content),
        }
        true
    })
    .expect("diff printed");
    text
}

/// Insert `added` after the first line equal to `after` (which must occur
/// exactly once).
pub fn insert_after(text: &str, after: &str, added: &str) -> String {
    assert_eq!(text.matches(after).count(), 1, "{after:?} must occur once");
    text.replacen(after, &format!("{after}{added}"), 1)
}

/// The acceptance patch of issue 16: `__anon_vma_prepare()` returns
/// -EINVAL with mm->page_table_lock held and logs with printk(KERN_ERR).
pub fn rmap_patch(kernel: &Kernel) -> Oid {
    commit(
        kernel,
        kernel.base,
        "mm/rmap: reject a mismatched anon_vma\n\nSigned-off-by: Ann Example <ann@example.org>\n",
        &[("mm/rmap.c", &|text: &str| {
            insert_after(
                text,
                "\tspin_lock(&mm->page_table_lock);\n",
                "\tif (vma->anon_vma && vma->anon_vma != anon_vma) {\n\t\tprintk(KERN_ERR \"anon_vma mismatch\\n\");\n\t\treturn -EINVAL;\n\t}\n",
            )
        })],
    )
}
