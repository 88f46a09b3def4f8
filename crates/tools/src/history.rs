//! `git_log`, `git_show` and `git_blame`, confined to the review's
//! baseline and its ancestors: the walk starts at the baseline, `git_show`
//! only accepts commits the caller checked, and blame stops at the
//! baseline. Blame lines are baseline lines and are recorded as such.

use std::fmt::Write as _;
use std::path::Path;

use git2::{BlameOptions, Commit, DiffFormat, DiffOptions, Oid, Repository};
use serde_json::Value;

use sashiko_llm_core::ToolOutput;

use crate::limits::ToolLimits;
use crate::paths::normalise;
use crate::repo_tools::{number_arg, source, string_arg, BASELINE};

/// `YYYY-MM-DD` of a Unix time (UTC); a time chrono cannot represent is
/// written `@SECONDS`, never a wrong date.
pub fn date(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || format!("@{seconds}"),
        |time| time.format("%Y-%m-%d").to_string(),
    )
}

fn short(id: Oid) -> String {
    id.to_string()[..12].to_owned()
}

fn line_of(commit: &Commit<'_>) -> String {
    format!(
        "{} {} {}: {}",
        short(commit.id()),
        date(commit.time().seconds()),
        commit.author().name().unwrap_or("?"),
        commit.summary().unwrap_or("")
    )
}

/// Does `commit` change `path` compared with its first parent?
fn changes_path(commit: &Commit<'_>, path: &str) -> bool {
    let entry_id = |c: &Commit<'_>| {
        c.tree()
            .ok()
            .and_then(|tree| tree.get_path(Path::new(path)).ok().map(|e| e.id()))
    };
    let mine = entry_id(commit);
    match commit.parent(0) {
        Ok(parent) => entry_id(&parent) != mine,
        Err(_) => mine.is_some(),
    }
}

pub(crate) fn git_log(
    repo: &Repository,
    baseline: Oid,
    input: &Value,
    limits: &ToolLimits,
) -> Result<ToolOutput, String> {
    let path = input
        .get("path")
        .and_then(Value::as_str)
        .map(normalise)
        .transpose()?;
    let max_count = number_arg(input, "max_count")?.unwrap_or(10).min(30) as usize;
    let mut walk = repo
        .revwalk()
        .map_err(|error| format!("walking history failed: {}", error.message()))?;
    walk.push(baseline)
        .map_err(|error| format!("walking history failed: {}", error.message()))?;
    walk.simplify_first_parent()
        .map_err(|error| format!("walking history failed: {}", error.message()))?;
    let mut lines = Vec::new();
    let mut examined = 0;
    for id in walk {
        let Ok(id) = id else { break };
        examined += 1;
        if examined > limits.max_log_walk || lines.len() >= max_count {
            break;
        }
        let Ok(commit) = repo.find_commit(id) else {
            continue;
        };
        if path
            .as_deref()
            .is_none_or(|path| changes_path(&commit, path))
        {
            lines.push(line_of(&commit));
        }
    }
    let mut text = format!(
        "commits up to the baseline{}, newest first (first-parent history):\n",
        path.as_deref()
            .map(|p| format!(" changing {p}"))
            .unwrap_or_default()
    );
    for line in &lines {
        text.push_str(line);
        text.push('\n');
    }
    if examined > limits.max_log_walk {
        let _ = writeln!(
            text,
            "[stopped after examining {} commits]",
            limits.max_log_walk
        );
    }
    Ok(ToolOutput {
        text,
        sources: Vec::new(),
    })
}

pub(crate) fn git_show(
    repo: &Repository,
    commit: Oid,
    input: &Value,
    limits: &ToolLimits,
) -> Result<ToolOutput, String> {
    let commit = repo
        .find_commit(commit)
        .map_err(|error| format!("reading the commit failed: {}", error.message()))?;
    let path = input
        .get("path")
        .and_then(Value::as_str)
        .map(normalise)
        .transpose()?;
    let mut text = format!(
        "commit {}\nAuthor: {}\nDate: {}\n\n{}\n",
        commit.id(),
        commit.author().name().unwrap_or("?"),
        date(commit.time().seconds()),
        commit.message().unwrap_or("").trim_end()
    );
    let tree = commit
        .tree()
        .map_err(|error| format!("reading the commit's tree failed: {}", error.message()))?;
    let parent_tree = commit.parent(0).ok().and_then(|parent| parent.tree().ok());
    let mut options = DiffOptions::new();
    if let Some(path) = &path {
        options.pathspec(path).disable_pathspec_match(true);
    }
    let diff = repo
        .diff_tree_to_tree(parent_tree.as_ref(), Some(&tree), Some(&mut options))
        .map_err(|error| format!("diffing the commit failed: {}", error.message()))?;
    text.push('\n');
    let budget = limits.max_call_bytes;
    let _ = diff.print(DiffFormat::Patch, |_, _, line| {
        if text.len() > budget {
            return false;
        }
        let origin = line.origin();
        if matches!(origin, '+' | '-' | ' ') {
            text.push(origin);
        }
        text.push_str(&String::from_utf8_lossy(line.content()));
        true
    });
    Ok(ToolOutput {
        text,
        sources: Vec::new(),
    })
}

pub(crate) fn git_blame(
    repo: &Repository,
    baseline: Oid,
    input: &Value,
    limits: &ToolLimits,
) -> Result<ToolOutput, String> {
    let path = normalise(string_arg(input, "path")?)?;
    let start = number_arg(input, "start_line")?.unwrap_or(1);
    let end = number_arg(input, "end_line")?.unwrap_or(start);
    if end < start {
        return Err("end_line is before start_line".to_owned());
    }
    let end = end.min(crate::limits::window_end(
        start,
        limits.max_read_lines.min(120),
    ));
    let tree = repo
        .find_commit(baseline)
        .and_then(|commit| commit.tree())
        .map_err(|error| format!("reading the baseline failed: {}", error.message()))?;
    let (path, text) = crate::tree::read_text(repo, tree.id(), &path, limits.max_file_bytes)?;
    let lines: Vec<&str> = text.lines().collect();
    let total = u32::try_from(lines.len()).unwrap_or(u32::MAX);
    if start > total {
        return Err(format!("{path} has only {total} lines in the baseline"));
    }
    let end = end.min(total);
    let mut options = BlameOptions::new();
    options
        .newest_commit(baseline)
        .min_line(start as usize)
        .max_line(end as usize);
    let blame = repo
        .blame_file(Path::new(&path), Some(&mut options))
        .map_err(|error| format!("blame of {path} failed: {}", error.message()))?;
    let mut out = format!("blame of {path} ({BASELINE} tree), lines {start}-{end}:\n");
    for number in start..=end {
        let Some(hunk) = blame.get_line(number as usize) else {
            continue;
        };
        let signature = hunk.final_signature();
        let _ = writeln!(
            out,
            "{} ({} {}) {number:>5} {}",
            short(hunk.final_commit_id()),
            signature.name().unwrap_or("?"),
            date(signature.when().seconds()),
            lines
                .get(usize::try_from(number - 1).unwrap_or(usize::MAX))
                .unwrap_or(&"")
        );
    }
    Ok(ToolOutput {
        text: out,
        sources: vec![source(&path, BASELINE, start, end)],
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates() {
        let cases = [
            (0, "1970-01-01"),
            (1_735_812_000, "2025-01-02"),
            (951_782_400, "2000-02-29"),
            (-1, "1969-12-31"),
            (i64::MIN, "@-9223372036854775808"),
        ];
        for (seconds, expected) in cases {
            assert_eq!(super::date(seconds), expected);
        }
    }
}
