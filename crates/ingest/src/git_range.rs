//! Commits of a local git repository as a patch series, the way
//! `git format-patch` would write them.
//!
//! Accepted specs: `A..B`, `A..` (= `A..HEAD`), `A...B` (the commits of `B`
//! since its merge base with `A`), or a single revision (that one commit).
//! Merge commits are skipped with a note, since format-patch skips them too.
//! This module only reads the repository; it never changes refs or files.

use std::path::Path;

use git2::{DiffFormat, DiffOptions, EmailCreateOptions, Oid, Repository, Sort};

/// Why a range could not be turned into patches. libgit2's own message is
/// quoted once, without its class and code numbers.
#[derive(Debug, thiserror::Error)]
pub enum GitRangeError {
    #[error("cannot open git repository at {path}: {}", git.message())]
    Open { path: String, git: git2::Error },
    #[error("cannot resolve revision range {spec:?} in {path}: {}", git.message())]
    Resolve {
        spec: String,
        path: String,
        git: git2::Error,
    },
    #[error("revision range {spec:?} selects no commits")]
    Empty { spec: String },
    #[error("cannot read commit {commit} while formatting {spec:?}: {source}")]
    Commit {
        spec: String,
        commit: String,
        source: git2::Error,
    },
}

/// One commit formatted as a patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormattedCommit {
    pub commit_id: String,
    /// First line of the commit message.
    pub summary: String,
    /// `Name <email>` of the author.
    pub author: String,
    /// Author date, RFC 2822.
    pub date: String,
    /// The message after the summary line (body and trailers), trimmed.
    pub body: String,
    /// The unified diff against the first parent (or the empty tree).
    pub diff: String,
    /// The whole mail as `git format-patch` writes it (`From <sha> ...`
    /// line, headers, message, `---`, diffstat, diff).
    pub mbox: String,
}

/// The commits a spec selects, oldest first, plus notes about what was
/// skipped (merges).
#[derive(Clone, Debug, Default)]
pub struct FormattedRange {
    pub commits: Vec<FormattedCommit>,
    pub notes: Vec<String>,
}

/// Resolve `spec` in the repository at (or above) `repo_path` and format
/// every selected non-merge commit.
pub fn format_range(repo_path: &Path, spec: &str) -> Result<FormattedRange, GitRangeError> {
    let repo = Repository::discover(repo_path).map_err(|git| GitRangeError::Open {
        path: repo_path.display().to_string(),
        git,
    })?;
    let path_text = repo_path.display().to_string();
    let resolve_error = |git| GitRangeError::Resolve {
        spec: spec.to_owned(),
        path: path_text.clone(),
        git,
    };
    let oids = select_commits(&repo, spec).map_err(resolve_error)?;
    let mut range = FormattedRange::default();
    let total = oids.iter().filter(|oid| !is_merge(&repo, **oid)).count();
    let mut number = 0;
    for oid in oids {
        if is_merge(&repo, oid) {
            range.notes.push(format!("skipped merge commit {oid}"));
            continue;
        }
        number += 1;
        let formatted =
            format_commit(&repo, oid, number, total).map_err(|source| GitRangeError::Commit {
                spec: spec.to_owned(),
                commit: oid.to_string(),
                source,
            })?;
        range.commits.push(formatted);
    }
    if range.commits.is_empty() {
        return Err(GitRangeError::Empty {
            spec: spec.to_owned(),
        });
    }
    Ok(range)
}

fn is_merge(repo: &Repository, oid: Oid) -> bool {
    repo.find_commit(oid)
        .map(|commit| commit.parent_count() > 1)
        .unwrap_or(false)
}

fn select_commits(repo: &Repository, spec: &str) -> Result<Vec<Oid>, git2::Error> {
    let mut walk = repo.revwalk()?;
    walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    if let Some((from, to)) = spec.split_once("...") {
        let to_oid = resolve_commit(repo, if to.is_empty() { "HEAD" } else { to })?;
        let from_oid = resolve_commit(repo, if from.is_empty() { "HEAD" } else { from })?;
        let base = repo.merge_base(from_oid, to_oid)?;
        walk.push(to_oid)?;
        walk.hide(base)?;
    } else if let Some((from, to)) = spec.split_once("..") {
        let to_oid = resolve_commit(repo, if to.is_empty() { "HEAD" } else { to })?;
        let from_oid = resolve_commit(repo, if from.is_empty() { "HEAD" } else { from })?;
        walk.push(to_oid)?;
        walk.hide(from_oid)?;
    } else {
        return Ok(vec![resolve_commit(repo, spec)?]);
    }
    walk.collect()
}

fn resolve_commit(repo: &Repository, revision: &str) -> Result<Oid, git2::Error> {
    Ok(repo.revparse_single(revision)?.peel_to_commit()?.id())
}

fn format_commit(
    repo: &Repository,
    oid: Oid,
    number: usize,
    total: usize,
) -> Result<FormattedCommit, git2::Error> {
    let commit = repo.find_commit(oid)?;
    let tree = commit.tree()?;
    let parent_tree = match commit.parent_count() {
        0 => None,
        _ => Some(commit.parent(0)?.tree()?),
    };
    let mut diff_options = DiffOptions::new();
    diff_options.context_lines(3);
    let mut diff =
        repo.diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut diff_options))?;
    let mut find_options = git2::DiffFindOptions::new();
    find_options.renames(true);
    diff.find_similar(Some(&mut find_options))?;
    let diff_text = diff_to_text(&diff)?;

    let mut email_options = EmailCreateOptions::new();
    email_options.subject_prefix("PATCH");
    let email = git2::Email::from_diff(
        &diff,
        number,
        total,
        &commit.id(),
        commit.summary().unwrap_or(""),
        commit.body().unwrap_or(""),
        &commit.author(),
        &mut email_options,
    )?;
    let mbox = String::from_utf8_lossy(email.as_slice()).into_owned();

    let author = commit.author();
    let author_text = format!(
        "{} <{}>",
        author.name().unwrap_or("unknown"),
        author.email().unwrap_or("unknown")
    );
    Ok(FormattedCommit {
        commit_id: oid.to_string(),
        summary: commit.summary().unwrap_or("").to_owned(),
        author: author_text,
        date: rfc2822(&author.when()),
        body: commit.body().unwrap_or("").trim().to_owned(),
        diff: diff_text,
        mbox,
    })
}

fn diff_to_text(diff: &git2::Diff<'_>) -> Result<String, git2::Error> {
    let mut text = Vec::new();
    diff.print(DiffFormat::Patch, |_delta, _hunk, line| {
        match line.origin() {
            '+' | '-' | ' ' => text.push(line.origin() as u8),
            _ => {}
        }
        text.extend_from_slice(line.content());
        true
    })?;
    Ok(String::from_utf8_lossy(&text).into_owned())
}

/// A commit time as an RFC 2822 date in that time's own UTC offset, as
/// `git format-patch` writes it.
fn rfc2822(time: &git2::Time) -> String {
    let offset = chrono::FixedOffset::east_opt(time.offset_minutes() * 60)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).expect("zero offset is valid"));
    chrono::DateTime::from_timestamp(time.seconds(), 0)
        .unwrap_or_default()
        .with_timezone(&offset)
        .format("%a, %-d %b %Y %H:%M:%S %z")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let output = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_DATE", "2024-03-01T12:00:00+01:00")
            .env("GIT_COMMITTER_DATE", "2024-03-01T12:00:00+01:00")
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}: {output:?}");
        String::from_utf8(output.stdout).expect("utf-8")
    }

    fn repo_with_commits(n: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        git(dir.path(), &["init", "-q", "-b", "main"]);
        git(dir.path(), &["config", "user.name", "Ada Dev"]);
        git(dir.path(), &["config", "user.email", "ada@example.org"]);
        for i in 0..n {
            let text: String = (0..=i).map(|line| format!("int v{line};\n")).collect();
            std::fs::write(dir.path().join("a.c"), text).expect("write");
            git(dir.path(), &["add", "a.c"]);
            git(
                dir.path(),
                &[
                    "commit",
                    "-q",
                    "-m",
                    &format!(
                        "a: step {i}\n\nBody {i}.\n\nSigned-off-by: Ada Dev <ada@example.org>"
                    ),
                ],
            );
        }
        dir
    }

    #[test]
    fn ranges_select_the_same_commits_as_git() {
        let dir = repo_with_commits(5);
        for spec in ["HEAD~3..", "HEAD~3..HEAD", "HEAD~4...HEAD", "HEAD~1"] {
            let range = format_range(dir.path(), spec).expect("range resolves");
            let expected: Vec<String> = if spec.contains("..") {
                git(dir.path(), &["rev-list", "--reverse", spec])
                    .lines()
                    .map(str::to_owned)
                    .collect()
            } else {
                vec![git(dir.path(), &["rev-parse", spec]).trim().to_owned()]
            };
            let got: Vec<String> = range.commits.iter().map(|c| c.commit_id.clone()).collect();
            assert_eq!(got, expected, "spec {spec}");
        }
    }

    #[test]
    fn diff_and_message_match_git_format_patch() {
        let dir = repo_with_commits(3);
        let range = format_range(dir.path(), "HEAD~1..").expect("range resolves");
        let commit = &range.commits[0];
        assert_eq!(commit.summary, "a: step 2");
        assert_eq!(commit.author, "Ada Dev <ada@example.org>");
        assert!(commit
            .body
            .ends_with("Signed-off-by: Ada Dev <ada@example.org>"));
        assert_eq!(commit.date, "Fri, 1 Mar 2024 12:00:00 +0100");
        let git_patch = git(dir.path(), &["format-patch", "--stdout", "HEAD~1.."]);
        let git_diff = &git_patch[git_patch.find("diff --git").expect("diff")..];
        assert!(
            git_diff.starts_with(&commit.diff),
            "ours:\n{}\ngit:\n{git_diff}",
            commit.diff
        );
        assert!(
            commit.mbox.contains("Subject: [PATCH] a: step 2"),
            "{}",
            commit.mbox
        );
        assert!(commit.mbox.contains("+int v2;"));
    }

    #[test]
    fn empty_and_unknown_ranges_are_errors_naming_the_spec() {
        let dir = repo_with_commits(2);
        let empty = format_range(dir.path(), "HEAD..HEAD").expect_err("empty");
        assert!(empty.to_string().contains("HEAD..HEAD"), "{empty}");
        let unknown = format_range(dir.path(), "nosuchbranch..").expect_err("unknown");
        assert!(unknown.to_string().contains("nosuchbranch"), "{unknown}");
    }
}
