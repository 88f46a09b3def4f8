//! Helpers shared by the unit tests: finding the shared corpus and making
//! throw-away git repositories. Test-only; never compiled into the library.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/corpus` next to the repository (or `$SASHIKO_CORPUS`), or
/// `None` after printing why the calling test is skipped.
pub fn corpus_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("SASHIKO_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"));
    if dir.join("MANIFEST.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "skipping {test}: shared corpus not found at {}",
            dir.display()
        );
        None
    }
}

/// Runs git with `args` in `dir`, panicking with its stderr on failure.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.invalid")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.invalid")
        .output()
        .expect("run git");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Clones the io-uring public-inbox bundle as `into` (a bare mirror).
pub fn clone_io_uring_bundle(corpus: &Path, into: &Path) {
    let bundle = corpus.join("public-inbox/io-uring.0-28250-30749.bundle");
    let parent = into.parent().expect("clone target has a parent");
    std::fs::create_dir_all(parent).expect("create clone parent");
    git(
        parent,
        &[
            "clone",
            "-q",
            "--mirror",
            &bundle.to_string_lossy(),
            &into.to_string_lossy(),
        ],
    );
}
