//! `read_file` and `grep` over one tree of the reviewed repository. Every
//! line shown is recorded as a source so findings may cite it.

use git2::{Oid, Repository};
use serde_json::Value;

use sashiko_llm_core::ToolOutput;

use crate::limits::ToolLimits;
use crate::repo_tools::{number_arg, source, string_arg};
use crate::tree;

pub(crate) fn read_file(
    repo: &Repository,
    (tree_id, tree_name): (Oid, &str),
    input: &Value,
    limits: &ToolLimits,
) -> Result<ToolOutput, String> {
    let path = string_arg(input, "path")?;
    let (path, text) = tree::read_text(repo, tree_id, path, limits.max_file_bytes)?;
    let lines: Vec<&str> = text.lines().collect();
    let total = u32::try_from(lines.len()).unwrap_or(u32::MAX);
    let start = number_arg(input, "start_line")?.unwrap_or(1);
    if start > total.max(1) {
        return Err(format!("{path} has only {total} lines"));
    }
    let wanted_end = number_arg(input, "end_line")?.unwrap_or(total).min(total);
    if wanted_end < start {
        return Err("end_line is before start_line".to_owned());
    }
    let end = wanted_end.min(crate::limits::window_end(start, limits.max_read_lines));
    let mut body = String::new();
    let mut shown_end = start.saturating_sub(1);
    for number in start..=end {
        let line = lines[usize::try_from(number - 1).unwrap_or(0)];
        let numbered = format!("{number:>5} {line}\n");
        if body.len() + numbered.len() > limits.max_call_bytes.saturating_sub(200) {
            break;
        }
        body.push_str(&numbered);
        shown_end = number;
    }
    let mut text =
        format!("file: {path} ({tree_name} tree), lines {start}-{shown_end} of {total}\n");
    text.push_str(&body);
    if shown_end < wanted_end {
        text.push_str(&format!(
            "[lines {}-{wanted_end} not shown: ask for them with start_line]\n",
            shown_end + 1
        ));
    }
    let sources = if shown_end >= start {
        vec![source(&path, tree_name, start, shown_end)]
    } else {
        Vec::new()
    };
    Ok(ToolOutput { text, sources })
}

fn searchable(path: &str) -> bool {
    const TEXT: &[&str] = &[
        ".c",
        ".h",
        ".S",
        ".rs",
        ".py",
        ".sh",
        ".rst",
        ".txt",
        ".yaml",
        ".dts",
        ".dtsi",
        "Kconfig",
        "Makefile",
        "MAINTAINERS",
        ".lds",
        ".awk",
        ".pl",
    ];
    TEXT.iter().any(|ending| path.ends_with(ending))
}

pub(crate) fn grep(
    repo: &Repository,
    (tree_id, tree_name): (Oid, &str),
    input: &Value,
    limits: &ToolLimits,
) -> Result<ToolOutput, String> {
    let pattern = string_arg(input, "pattern")?;
    if pattern.is_empty() {
        return Err("the pattern is empty".to_owned());
    }
    let regex = regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|error| format!("the pattern is not a valid regular expression: {error}"))?;
    let path = input.get("path").and_then(Value::as_str);
    let (files, listing_cut) = tree::list(repo, tree_id, path, &searchable, limits.max_grep_files)?;
    let mut matches = Vec::new();
    let mut sources = Vec::new();
    let mut searched = 0usize;
    let mut bytes_read = 0u64;
    let mut body_bytes = 0usize;
    let mut stopped = None;
    'files: for file in &files {
        let Ok(blob) = repo.find_blob(file.blob) else {
            continue;
        };
        let content = blob.content();
        if content.len() > limits.max_file_bytes || content.iter().take(8000).any(|&b| b == 0) {
            continue;
        }
        bytes_read += content.len() as u64;
        if bytes_read > limits.max_grep_bytes {
            stopped = Some(format!(
                "stopped after reading {} bytes",
                limits.max_grep_bytes
            ));
            break;
        }
        searched += 1;
        let text = String::from_utf8_lossy(content);
        for (index, line) in text.lines().enumerate() {
            if !regex.is_match(line) {
                continue;
            }
            let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
            let shown: String = line.chars().take(200).collect();
            let entry = format!("{}:{number}: {shown}\n", file.path);
            if matches.len() >= limits.max_grep_matches
                || body_bytes + entry.len() > limits.max_call_bytes.saturating_sub(300)
            {
                stopped = Some(format!("stopped at {} matches", matches.len()));
                break 'files;
            }
            body_bytes += entry.len();
            matches.push(entry);
            sources.push(source(&file.path, tree_name, number, number));
        }
    }
    let place = path.unwrap_or("the whole tree");
    let mut text = format!(
        "grep {pattern:?} in {place} ({tree_name} tree): {} match(es) in {searched} file(s) searched\n",
        matches.len()
    );
    for entry in &matches {
        text.push_str(entry);
    }
    if let Some(why) = stopped {
        text.push_str(&format!("[search {why}; narrow the pattern or the path]\n"));
    } else if listing_cut {
        text.push_str(&format!(
            "[only the first {} files were searched; narrow the path]\n",
            limits.max_grep_files
        ));
    }
    Ok(ToolOutput { text, sources })
}
