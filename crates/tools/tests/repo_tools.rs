//! The repository tools against a real git repository made here: what
//! they show, what they refuse (path escapes, option-looking arguments,
//! revisions after the baseline), and their per-review budget.

use std::path::Path;
use std::process::Command;

use git2::Oid;
use sashiko_llm_core::ToolExecutor;
use sashiko_tools::{Pins, RepoTools, ToolLimits};
use serde_json::{json, Value};

fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_DATE", "2025-01-02T10:00:00+00:00")
        .env("GIT_COMMITTER_DATE", "2025-01-02T10:00:00+00:00")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {output:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn commit(dir: &Path, message: &str) -> Oid {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
    Oid::from_str(&git(dir, &["rev-parse", "HEAD"])).expect("commit id")
}

struct Repo {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
    old: Oid,
    baseline: Oid,
    patched: Oid,
    later_fix: Oid,
}

/// old -> baseline -> patched (the series) -> later fix (must stay unseen).
fn repo() -> Repo {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    git(&path, &["init", "-q", "-b", "main"]);
    git(&path, &["config", "user.name", "Ada Dev"]);
    git(&path, &["config", "user.email", "ada@example.org"]);
    std::fs::create_dir_all(path.join("lib")).expect("mkdir");
    std::fs::create_dir_all(path.join("include/linux")).expect("mkdir");
    std::fs::write(
        path.join("lib/util.c"),
        "int util(int x)\n{\n\treturn x;\n}\n",
    )
    .expect("write");
    let old = commit(&path, "lib: add util");
    std::fs::write(
        path.join("lib/util.c"),
        "int util(int x)\n{\n\tint *p = 0;\n\treturn x + *p;\n}\n",
    )
    .expect("write");
    std::fs::write(path.join("include/linux/util.h"), "int util(int x);\n").expect("write");
    std::os::unix::fs::symlink("util.h", path.join("include/linux/alias.h")).expect("symlink");
    std::os::unix::fs::symlink("../../../etc/passwd", path.join("include/escape.h"))
        .expect("symlink");
    std::os::unix::fs::symlink("/etc/passwd", path.join("include/absolute.h")).expect("symlink");
    let baseline = commit(&path, "lib: make util worse");
    std::fs::write(
        path.join("lib/new.c"),
        "int caller(void)\n{\n\treturn util(1);\n}\n",
    )
    .expect("write");
    let patched = commit(&path, "lib: call util");
    std::fs::write(
        path.join("lib/util.c"),
        "int util(int x)\n{\n\treturn x;\n}\n",
    )
    .expect("write");
    let later_fix = commit(&path, "lib: fix the NULL dereference in util");
    Repo {
        _dir: dir,
        path,
        old,
        baseline,
        patched,
        later_fix,
    }
}

fn tools(repo: &Repo, limits: ToolLimits) -> RepoTools {
    RepoTools::open(
        &repo.path,
        Pins {
            baseline: repo.baseline,
            post_patch: Some(repo.patched),
        },
        limits,
    )
    .expect("tools open")
}

enum Expect<'a> {
    Shows(&'a [&'a str]),
    Hides(&'a [&'a str]),
    Refused(&'a str),
}

async fn check(tools: &RepoTools, name: &str, input: Value, expect: Expect<'_>) {
    let result = tools.call_with_sources(name, &input).await;
    match (result, expect) {
        (Ok(output), Expect::Shows(parts)) => {
            for part in parts {
                assert!(
                    output.text.contains(part),
                    "{name} {input}: {part:?} not in\n{}",
                    output.text
                );
            }
        }
        (Ok(output), Expect::Hides(parts)) => {
            for part in parts {
                assert!(
                    !output.text.contains(part),
                    "{name} {input}: {part:?} leaked in\n{}",
                    output.text
                );
            }
        }
        (Err(error), Expect::Refused(why)) => {
            assert!(
                error.contains(why),
                "{name} {input}: {error:?} does not say {why:?}"
            )
        }
        (Ok(output), Expect::Refused(why)) => {
            panic!("{name} {input}: not refused ({why}): {}", output.text)
        }
        (Err(error), _) => panic!("{name} {input}: refused: {error}"),
    }
}

#[tokio::test]
async fn tools_show_the_trees_and_history_up_to_the_baseline_only() {
    let repo = repo();
    let tools = tools(&repo, ToolLimits::default());
    let short = |id: Oid| id.to_string()[..12].to_owned();
    let (old, patched, fix) = (short(repo.old), short(repo.patched), short(repo.later_fix));
    check(
        &tools,
        "read_file",
        json!({"path": "lib/util.c"}),
        Expect::Shows(&["post-patch tree", "    4 \treturn x + *p;"]),
    )
    .await;
    check(
        &tools,
        "read_file",
        json!({"path": "lib/new.c", "tree": "baseline"}),
        Expect::Refused("no file"),
    )
    .await;
    check(
        &tools,
        "read_file",
        json!({"path": "./lib//new.c", "start_line": 3, "end_line": 3}),
        Expect::Shows(&["lines 3-3 of 4", "return util(1);"]),
    )
    .await;
    check(
        &tools,
        "read_file",
        json!({"path": "include/linux/alias.h"}),
        Expect::Shows(&["include/linux/util.h", "int util(int x);"]),
    )
    .await;
    check(
        &tools,
        "grep",
        json!({"pattern": "util\\(", "path": "lib"}),
        Expect::Shows(&["lib/new.c:3:", "lib/util.c:1:", "2 match(es)"]),
    )
    .await;
    check(
        &tools,
        "git_log",
        json!({}),
        Expect::Shows(&["lib: make util worse", "lib: add util"]),
    )
    .await;
    check(
        &tools,
        "git_log",
        json!({}),
        Expect::Hides(&["lib: call util", "fix the NULL"]),
    )
    .await;
    check(
        &tools,
        "git_show",
        json!({"rev": old}),
        Expect::Shows(&["lib: add util", "+int util(int x)"]),
    )
    .await;
    check(
        &tools,
        "git_show",
        json!({"rev": "baseline", "path": "lib/util.c"}),
        Expect::Shows(&["+\tint *p = 0;"]),
    )
    .await;
    check(
        &tools,
        "git_blame",
        json!({"path": "lib/util.c", "start_line": 3, "end_line": 4}),
        Expect::Shows(&["baseline tree", "int *p = 0;"]),
    )
    .await;
    // Issue 21 item 12: line numbers at the top of u32 overflowed the
    // window arithmetic (a panic in a debug build) before being refused.
    check(
        &tools,
        "git_blame",
        json!({"path": "lib/util.c", "start_line": u32::MAX}),
        Expect::Refused("has only 5 lines"),
    )
    .await;
    check(
        &tools,
        "git_blame",
        json!({"path": "lib/util.c", "start_line": 2, "end_line": u32::MAX}),
        Expect::Shows(&["lines 2-5:", "int *p = 0;"]),
    )
    .await;
    check(
        &tools,
        "read_file",
        json!({"path": "lib/util.c", "start_line": u32::MAX}),
        Expect::Refused("has only 5 lines"),
    )
    .await;
    // Refusals: escapes, options, revisions past the baseline.
    check(
        &tools,
        "read_file",
        json!({"path": "../etc/passwd"}),
        Expect::Refused("uses `..`"),
    )
    .await;
    check(
        &tools,
        "read_file",
        json!({"path": "/etc/passwd"}),
        Expect::Refused("is absolute"),
    )
    .await;
    check(
        &tools,
        "read_file",
        json!({"path": "include/escape.h"}),
        Expect::Refused("leaves the tree"),
    )
    .await;
    check(
        &tools,
        "read_file",
        json!({"path": "include/absolute.h"}),
        Expect::Refused("outside the tree"),
    )
    .await;
    check(
        &tools,
        "read_file",
        json!({"path": "--output=/tmp/x"}),
        Expect::Refused("command-line option"),
    )
    .await;
    check(
        &tools,
        "grep",
        json!({"pattern": "x", "path": "-e"}),
        Expect::Refused("command-line option"),
    )
    .await;
    check(
        &tools,
        "git_show",
        json!({"rev": "--format=%H"}),
        Expect::Refused("command-line option"),
    )
    .await;
    check(
        &tools,
        "git_show",
        json!({"rev": "HEAD"}),
        Expect::Refused("not a commit id"),
    )
    .await;
    check(
        &tools,
        "git_show",
        json!({"rev": fix}),
        Expect::Refused("not the review's baseline or one of its ancestors"),
    )
    .await;
    check(
        &tools,
        "git_show",
        json!({"rev": patched}),
        Expect::Refused("not the review's baseline"),
    )
    .await;
    check(
        &tools,
        "git_blame",
        json!({"path": "lib/new.c", "start_line": 1, "end_line": 1}),
        Expect::Refused("no file"),
    )
    .await;
    check(
        &tools,
        "grep",
        json!({"pattern": "("}),
        Expect::Refused("not a valid regular expression"),
    )
    .await;
}

#[tokio::test]
async fn read_and_grep_record_the_lines_they_show() {
    let repo = repo();
    let tools = tools(&repo, ToolLimits::default());
    let read = tools
        .call_with_sources("read_file", &json!({"path": "lib/util.c", "start_line": 2}))
        .await
        .expect("read");
    let spans: Vec<(String, String, u32, u32)> = read
        .sources
        .iter()
        .map(|s| (s.file.clone(), s.tree.clone(), s.start, s.end))
        .collect();
    assert_eq!(
        spans,
        vec![("lib/util.c".into(), "post-patch".into(), 2, 5)]
    );
    let grep = tools
        .call_with_sources("grep", &json!({"pattern": "return", "tree": "baseline"}))
        .await
        .expect("grep");
    let lines: Vec<(String, u32)> = grep
        .sources
        .iter()
        .map(|s| (s.file.clone(), s.start))
        .collect();
    assert_eq!(lines, vec![("lib/util.c".into(), 4)]);
}

#[tokio::test]
async fn the_per_review_budget_refuses_calls_beyond_it() {
    let repo = repo();
    let tools = tools(
        &repo,
        ToolLimits {
            max_calls: 2,
            ..ToolLimits::default()
        },
    );
    for _ in 0..2 {
        check(&tools, "git_log", json!({}), Expect::Shows(&["add util"])).await;
    }
    check(
        &tools,
        "git_log",
        json!({}),
        Expect::Refused("tool budget of this review is used up"),
    )
    .await;
    assert_eq!(tools.spent().0, 3);
}
