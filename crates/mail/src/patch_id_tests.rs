use super::*;
use std::path::Path;
use std::process::Command;

fn git(repo: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.org",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("git prints UTF-8 here")
}

fn git_with_stdin(repo: &Path, args: &[&str], input: &str) -> String {
    use std::io::Write;
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("git runs");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(input.as_bytes())
        .expect("write to git");
    let output = child.wait_with_output().expect("git finishes");
    String::from_utf8(output.stdout).expect("git prints UTF-8 here")
}

/// Each step edits the work tree; the commit it makes becomes one patch.
type Step = fn(&Path);

fn write(repo: &Path, name: &str, content: &[u8]) {
    let path = repo.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("create dir");
    }
    std::fs::write(path, content).expect("write file");
}

#[test]
fn matches_git_patch_id_stable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    let base: String = (1..=40).map(|n| format!("line {n}\n")).collect();
    write(repo, "a.c", base.as_bytes());
    write(repo, "dir/b.c", b"int b;\n");
    write(repo, "c.sh", b"echo c\n");
    write(repo, "old name.txt", base.as_bytes());
    write(repo, "blob.bin", &[0, 1, 2, 3, 255]);
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", "base"]);

    let steps: &[(&str, Step)] = &[
        ("edit two hunks", |r| {
            let text: String = (1..=40)
                .map(|n| match n {
                    3 => "line three\n".to_owned(),
                    30 => "line  30 changed\n\tx\n".to_owned(),
                    n => format!("line {n}\n"),
                })
                .collect();
            write(r, "a.c", text.as_bytes());
        }),
        ("add and delete files", |r| {
            write(r, "new/file.h", b"#define X 1\n");
            std::fs::remove_file(r.join("dir/b.c")).expect("remove");
        }),
        ("mode change", |r| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(r.join("c.sh"), std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }),
        ("rename with edit", |r| {
            let mut text = std::fs::read_to_string(r.join("old name.txt")).expect("read");
            text.push_str("appended\n");
            std::fs::remove_file(r.join("old name.txt")).expect("remove");
            write(r, "new name.txt", text.as_bytes());
        }),
        ("binary change", |r| {
            write(r, "blob.bin", &[9, 8, 7, 0, 255, 254])
        }),
        ("no newline at end", |r| write(r, "dir2/n.c", b"no newline")),
    ];
    for (name, step) in steps {
        step(repo);
        git(repo, &["add", "-A"]);
        git(repo, &["commit", "-q", "-m", name]);
        let patch = git(repo, &["format-patch", "-1", "--stdout", "-M", "--binary"]);
        let expected = git_with_stdin(repo, &["patch-id", "--stable"], &patch);
        let expected = expected
            .split_whitespace()
            .next()
            .expect("git printed a patch-id");
        assert_eq!(
            stable_patch_id(&patch).as_deref(),
            Some(expected),
            "step {name:?}:\n{patch}"
        );
    }
}

#[test]
fn no_diff_no_patch_id() {
    assert_eq!(
        stable_patch_id("just a cover letter\n---\n a | 1 +\n"),
        None
    );
}

#[test]
fn whitespace_and_file_order_do_not_matter() {
    let one = "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a b\n+a  c\ndiff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -5 +5 @@\n-y\n+z\n";
    let two = "diff --git a/y b/y\n--- a/y\n+++ b/y\n@@ -9 +9 @@\n-y\n+z\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -2 +2 @@\n-ab\n+a c\n";
    assert_eq!(stable_patch_id(one), stable_patch_id(two));
    assert!(stable_patch_id(one).is_some());
}
