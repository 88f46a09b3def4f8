//! scripts/checkpatch.pl on every patch of the series.
//!
//! The script and the data files it reads next to itself (spelling.txt,
//! const_structs.checkpatch) and the tree's .checkpatch.conf are copied
//! from the baseline commit into a scratch directory, so a patch that edits
//! checkpatch.pl cannot choose what runs, and the user's work tree is not
//! touched. It runs with `--no-tree` (the scratch directory is not a whole
//! kernel tree: the checks that look up other files of the tree, such as
//! MAINTAINERS status and SPDX license lists, are off), `--show-types` so
//! every message names its type, and `--strict` only when asked; HOME is
//! the scratch directory so a personal ~/.checkpatch.conf does not change
//! what the bot and the desk see. GIT_DIR points at the reviewed repository
//! so commit ids cited in a message (`Fixes:`) are checked.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sashiko_review::analysis::{
    AnalyzerMessage, AnalyzerRun, AnalyzerState, AnalyzerTool, MessageLevel,
};
use sashiko_review::{ReviewPatch, ReviewSeries};

use crate::process::{self, Ended, Invocation};
use crate::snapshot;
use crate::{millis, AnalyzerError, CheckpatchSettings, TreeInput};

/// Files checkpatch.pl reads from its own directory, copied with it.
const DATA_FILES: [&str; 2] = ["spelling.txt", "const_structs.checkpatch"];

/// Where the script comes from.
enum Script {
    /// Copied from the baseline into the scratch directory.
    FromTree { commit: String },
    /// `--checkpatch PATH`: the user's own copy, run where it is.
    Given(PathBuf),
}

/// Run checkpatch.pl on the series.
pub async fn run(
    settings: &CheckpatchSettings,
    tree: Option<&TreeInput>,
    series: &ReviewSeries,
) -> AnalyzerRun {
    let started = Instant::now();
    let mut report = match run_inner(settings, tree, series).await {
        Ok(report) => report,
        Err(Outcome::Skipped(reason)) => AnalyzerRun::skipped(AnalyzerTool::Checkpatch, reason),
        Err(Outcome::Failed(reason)) => AnalyzerRun {
            state: AnalyzerState::Failed,
            ..AnalyzerRun::skipped(AnalyzerTool::Checkpatch, reason)
        },
    };
    report.elapsed_ms = millis(started.elapsed());
    report
}

enum Outcome {
    Skipped(String),
    Failed(String),
}

impl From<AnalyzerError> for Outcome {
    fn from(error: AnalyzerError) -> Outcome {
        Outcome::Failed(error.to_string())
    }
}

async fn run_inner(
    settings: &CheckpatchSettings,
    tree: Option<&TreeInput>,
    series: &ReviewSeries,
) -> Result<AnalyzerRun, Outcome> {
    if process::find_program(&settings.perl).is_none() {
        return Err(Outcome::Skipped(format!(
            "perl ({}) is not installed",
            settings.perl.display()
        )));
    }
    let scratch = tempfile::Builder::new()
        .prefix("sashiko-checkpatch-")
        .tempdir()
        .map_err(|source| AnalyzerError::Io {
            what: "creating a scratch directory for checkpatch".to_owned(),
            source,
        })?;
    let script = locate(settings, tree, scratch.path()).await?;
    let (script_path, source) = match &script {
        Script::FromTree { commit } => (
            scratch.path().join("scripts/checkpatch.pl"),
            format!("scripts/checkpatch.pl of the tree at {}", short(commit)),
        ),
        Script::Given(path) => (
            path.clone(),
            format!("checkpatch.pl given with --checkpatch ({})", path.display()),
        ),
    };
    let mut args = vec![
        script_path.display().to_string(),
        "--no-tree".to_owned(),
        "--show-types".to_owned(),
        "--no-color".to_owned(),
    ];
    if settings.strict {
        args.push("--strict".to_owned());
    }
    let mut names = Vec::new();
    for patch in &series.patches {
        let name = format!("{:04}.patch", patch.index);
        snapshot::write_file(
            &scratch.path().join("patches"),
            &name,
            format_patch(patch).as_bytes(),
        )?;
        args.push(format!("patches/{name}"));
        names.push(format!("patch {}", patch.index));
    }
    let mut env = vec![("HOME".to_owned(), scratch.path().display().to_string())];
    if let Some(tree) = tree {
        if let Some(git_dir) = &tree.git_dir {
            env.push(("GIT_DIR".to_owned(), git_dir.display().to_string()));
        }
    }
    let invocation = Invocation {
        program: settings.perl.clone(),
        args,
        cwd: scratch.path().to_path_buf(),
        env,
        timeout: settings.timeout,
    };
    let outcome = process::run(&invocation)
        .await
        .map_err(|error| Outcome::Failed(error.to_string()))?;
    if outcome.ended == Ended::TimedOut {
        return Err(Outcome::Failed(format!(
            "checkpatch.pl did not finish within {} s",
            settings.timeout.as_secs()
        )));
    }
    let parsed = parse_output(&outcome.stdout);
    // checkpatch exits 1 when it reports errors; anything that printed no
    // summary line per patch did not run through.
    if parsed.files.len() != series.patches.len() {
        return Err(Outcome::Failed(format!(
            "checkpatch.pl printed {} summary line(s) for {} patch(es): {}",
            parsed.files.len(),
            series.patches.len(),
            outcome.first_error_line()
        )));
    }
    let mut messages = Vec::new();
    for (patch, file_messages) in series.patches.iter().zip(parsed.files) {
        for message in file_messages {
            if message.level == MessageLevel::Check && !settings.strict {
                continue;
            }
            messages.push(AnalyzerMessage {
                tool: AnalyzerTool::Checkpatch,
                patch_index: patch.index,
                file: message.file,
                line: message.line,
                check: message.kind,
                level: message.level,
                message: message.text,
                output: message.output,
                related_lines: Vec::new(),
                preexisting: false,
            });
        }
    }
    let mut notes = Vec::new();
    if !parsed.unparsed.is_empty() {
        notes.push(format!(
            "{} line(s) of checkpatch output were not understood, first: {}",
            parsed.unparsed.len(),
            parsed.unparsed[0]
        ));
    }
    Ok(AnalyzerRun {
        tool: AnalyzerTool::Checkpatch,
        state: AnalyzerState::Ran,
        reason: None,
        source,
        messages,
        ran: names,
        skipped_for_budget: Vec::new(),
        failed: Vec::new(),
        notes,
        elapsed_ms: 0,
        cpu_ms: millis(outcome.cpu),
    })
}

/// Find the script: `--checkpatch PATH`, else the baseline's copy.
async fn locate(
    settings: &CheckpatchSettings,
    tree: Option<&TreeInput>,
    scratch: &Path,
) -> Result<Script, Outcome> {
    if let Some(path) = &settings.path {
        if !path.is_file() {
            return Err(Outcome::Skipped(format!(
                "--checkpatch {}: no such file",
                path.display()
            )));
        }
        return Ok(Script::Given(path.clone()));
    }
    let Some(tree) = tree else {
        return Err(Outcome::Skipped(
            "no tree to take scripts/checkpatch.pl from and no --checkpatch PATH".to_owned(),
        ));
    };
    let repo_path = tree.repo.clone();
    let baseline = tree.baseline;
    let scratch = scratch.to_path_buf();
    let copied = tokio::task::spawn_blocking(move || -> Result<bool, AnalyzerError> {
        let repo = snapshot::open(&repo_path)?;
        let base_tree = snapshot::tree_of(&repo, baseline)?;
        let Some(script) = snapshot::read_file(&repo, base_tree, "scripts/checkpatch.pl")? else {
            return Ok(false);
        };
        snapshot::write_file(&scratch, "scripts/checkpatch.pl", &script)?;
        for name in DATA_FILES {
            if let Some(bytes) = snapshot::read_file(&repo, base_tree, &format!("scripts/{name}"))?
            {
                snapshot::write_file(&scratch, &format!("scripts/{name}"), &bytes)?;
            }
        }
        if let Some(conf) = snapshot::read_file(&repo, base_tree, ".checkpatch.conf")? {
            snapshot::write_file(&scratch, ".checkpatch.conf", &conf)?;
        }
        Ok(true)
    })
    .await
    .map_err(|error| Outcome::Failed(format!("reading checkpatch.pl from the tree: {error}")))??;
    if copied {
        Ok(Script::FromTree {
            commit: baseline.to_string(),
        })
    } else {
        Err(Outcome::Skipped(format!(
            "the tree has no scripts/checkpatch.pl at {} and no --checkpatch PATH was given",
            short(&baseline.to_string())
        )))
    }
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

/// A patch as `git format-patch` would write it, as checkpatch expects.
pub fn format_patch(patch: &ReviewPatch) -> String {
    let subject = if patch.subject.trim_start().starts_with('[') {
        patch.subject.clone()
    } else {
        format!("[PATCH] {}", patch.subject)
    };
    let commit = patch
        .commit_id
        .as_deref()
        .unwrap_or("0000000000000000000000000000000000000000");
    let body = patch.commit_message.trim();
    let mut text = format!(
        "From {commit} Mon Sep 17 00:00:00 2001\nFrom: {}\nSubject: {subject}\n\n",
        patch.author
    );
    if !body.is_empty() {
        text.push_str(body);
        text.push('\n');
    }
    text.push_str("---\n");
    text.push_str(&patch.diff);
    if !patch.diff.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// One message as checkpatch printed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedMessage {
    pub level: MessageLevel,
    /// The type `--show-types` prints (`PREFER_PR_LEVEL`).
    pub kind: String,
    pub text: String,
    /// Post-patch file and line from the `#N: FILE: path:line:` line;
    /// `None` for messages about the commit message.
    pub file: Option<String>,
    pub line: Option<u32>,
    pub output: String,
}

/// checkpatch's output split per input file (at each `total:` summary).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedOutput {
    pub files: Vec<Vec<ParsedMessage>>,
    /// Lines inside a message block that were not understood.
    pub unparsed: Vec<String>,
}

/// Parse checkpatch's default (non-terse) output with `--show-types`.
pub fn parse_output(stdout: &str) -> ParsedOutput {
    let mut out = ParsedOutput::default();
    let mut current: Vec<ParsedMessage> = Vec::new();
    let mut block: Option<ParsedMessage> = None;
    let mut seen_position = false;
    for line in stdout.lines() {
        if line.starts_with("total: ") {
            current.extend(block.take());
            out.files.push(std::mem::take(&mut current));
            continue;
        }
        if let Some(message) = block.as_mut() {
            if line.trim().is_empty() {
                current.extend(block.take());
                continue;
            }
            message.output.push('\n');
            message.output.push_str(line);
            if let Some(position) = position_line(line) {
                seen_position = true;
                if message.file.is_none() {
                    if let Some((file, number)) = position {
                        message.file = Some(file);
                        message.line = Some(number);
                    }
                }
            } else if !seen_position {
                // A message continued over several lines.
                message.text.push(' ');
                message.text.push_str(line.trim());
            }
            continue;
        }
        if let Some(message) = message_header(line) {
            block = Some(message);
            seen_position = false;
        } else if line.starts_with("#") && line.contains(": FILE: ") {
            out.unparsed.push(line.to_owned());
        }
    }
    current.extend(block.take());
    if !current.is_empty() {
        out.files.push(current);
    }
    out
}

/// `WARNING:TYPE: text` (the type is there with `--show-types`).
fn message_header(line: &str) -> Option<ParsedMessage> {
    let (level, rest) = [
        ("ERROR:", MessageLevel::Error),
        ("WARNING:", MessageLevel::Warning),
        ("CHECK:", MessageLevel::Check),
    ]
    .into_iter()
    .find_map(|(prefix, level)| line.strip_prefix(prefix).map(|rest| (level, rest)))?;
    let (kind, text) = rest.split_once(": ").unwrap_or(("UNKNOWN", rest));
    let kind_ok = !kind.is_empty()
        && kind
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    let (kind, text) = if kind_ok {
        (kind, text)
    } else {
        ("UNKNOWN", rest.trim_start())
    };
    Some(ParsedMessage {
        level,
        kind: kind.to_owned(),
        text: text.trim().to_owned(),
        file: None,
        line: None,
        output: line.to_owned(),
    })
}

/// `#20: FILE: mm/rmap.c:213:` -> `Some(Some(("mm/rmap.c", 213)))`;
/// `#12: ` (a commit-message line) -> `Some(None)`; other lines `None`.
fn position_line(line: &str) -> Option<Option<(String, u32)>> {
    let rest = line.strip_prefix('#')?;
    let (number, rest) = rest.split_once(':')?;
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let Some(place) = rest.strip_prefix(" FILE: ") else {
        return Some(None);
    };
    let place = place
        .trim_end()
        .strip_suffix(':')
        .unwrap_or(place.trim_end());
    let (file, line) = place.rsplit_once(':')?;
    Some(line.parse().ok().map(|line| (file.to_owned(), line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OUTPUT: &str = "WARNING:COMMIT_MESSAGE: Missing commit description - Add an appropriate one

WARNING:PREFER_PR_LEVEL: Prefer [subsystem eg: netdev]_err([subsystem]dev, ... then dev_err(dev, ... then pr_err(...  to printk(KERN_ERR ...
#20: FILE: mm/rmap.c:213:
+\t\tprintk(KERN_ERR \"anon_vma mismatch\\n\");

total: 0 errors, 2 warnings, 10 lines checked

NOTE: For some of the reported defects, checkpatch may be able to
      mechanically convert to the typical style using --fix or --fix-inplace.

patches/0001.patch has style problems, please review.
ERROR:CODE_INDENT: code indent should use tabs where possible
#30: FILE: fs/a b.c:7:
+        x = 1;

CHECK:PARENTHESIS_ALIGNMENT: Alignment should match open parenthesis
#40: FILE: fs/a b.c:9:
+\tfoo(a,
+  b);

total: 1 errors, 0 warnings, 1 checks, 12 lines checked
total: 0 errors, 0 warnings, 3 lines checked
";

    #[test]
    fn output_is_split_per_patch_with_types_files_and_lines() {
        let parsed = parse_output(OUTPUT);
        assert_eq!(parsed.files.len(), 3);
        type Seen<'a> = (MessageLevel, &'a str, Option<&'a str>, Option<u32>);
        let got: Vec<Vec<Seen<'_>>> = parsed
            .files
            .iter()
            .map(|file| {
                file.iter()
                    .map(|m| (m.level, m.kind.as_str(), m.file.as_deref(), m.line))
                    .collect()
            })
            .collect();
        assert_eq!(
            got,
            vec![
                vec![
                    (MessageLevel::Warning, "COMMIT_MESSAGE", None, None),
                    (
                        MessageLevel::Warning,
                        "PREFER_PR_LEVEL",
                        Some("mm/rmap.c"),
                        Some(213)
                    ),
                ],
                vec![
                    (
                        MessageLevel::Error,
                        "CODE_INDENT",
                        Some("fs/a b.c"),
                        Some(7)
                    ),
                    (
                        MessageLevel::Check,
                        "PARENTHESIS_ALIGNMENT",
                        Some("fs/a b.c"),
                        Some(9)
                    ),
                ],
                vec![],
            ]
        );
        let printk = &parsed.files[0][1];
        assert!(printk
            .text
            .starts_with("Prefer [subsystem eg: netdev]_err("));
        assert!(printk.output.contains("#20: FILE: mm/rmap.c:213:"));
        assert!(printk.output.contains("printk(KERN_ERR"));
        assert!(parsed.unparsed.is_empty());
    }

    #[test]
    fn odd_lines_do_not_stop_the_parser() {
        let parsed = parse_output(
            "WARNING: a message without a type\n#3: FILE: x.c:notanumber:\n\ngarbage \u{202e} \u{fffd}\ntotal: 0 errors\n",
        );
        assert_eq!(parsed.files.len(), 1);
        assert_eq!(parsed.files[0][0].kind, "UNKNOWN");
        assert_eq!(parsed.files[0][0].line, None);
    }

    #[test]
    fn patches_are_written_as_format_patch_text() {
        let patch = ReviewPatch {
            index: 1,
            subject: "mm: fix".into(),
            author: "Ann <a@b>".into(),
            message_id: None,
            commit_id: Some("abc".into()),
            commit_message: "Why.\n\nSigned-off-by: Ann <a@b>\n".into(),
            diff: "diff --git a/x b/x\n".into(),
        };
        assert_eq!(
            format_patch(&patch),
            "From abc Mon Sep 17 00:00:00 2001\nFrom: Ann <a@b>\nSubject: [PATCH] mm: fix\n\nWhy.\n\nSigned-off-by: Ann <a@b>\n---\ndiff --git a/x b/x\n"
        );
    }
}
