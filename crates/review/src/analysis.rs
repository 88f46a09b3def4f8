//! What the reviewed tree's own analyzers (scripts/checkpatch.pl and
//! Coccinelle's scripts/coccinelle) said about a series, as typed reports,
//! and how those reports become findings.
//!
//! The runners live in `sashiko-analyzers` (they start perl and spatch in
//! scratch directories); this module runs nothing. The engine is handed an
//! [`AnalyzerSource`] trait object, like the `LlmClient` it talks to, and
//! only converts what it returns. Tool output quotes patch text and tree
//! source, so it is untrusted: it reaches the model only inside
//! nonce-delimited blocks.

use std::fmt;

use serde::Serialize;

use crate::anchor::{diff_lines, LineKind, PatchLines};
use crate::finding::{Evidence, Finding, Location, Severity};
use crate::series::{ReviewPatch, ReviewSeries};

/// Which analyzer produced a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AnalyzerTool {
    Checkpatch,
    Coccinelle,
}

impl AnalyzerTool {
    /// The builtin stage name in the manifest (`builtin = "..."`).
    pub fn builtin_name(self) -> &'static str {
        match self {
            AnalyzerTool::Checkpatch => "checkpatch",
            AnalyzerTool::Coccinelle => "coccinelle",
        }
    }

    /// How a reader knows the tool: "checkpatch", "Coccinelle".
    pub fn display_name(self) -> &'static str {
        match self {
            AnalyzerTool::Checkpatch => "checkpatch",
            AnalyzerTool::Coccinelle => "Coccinelle",
        }
    }
}

impl fmt::Display for AnalyzerTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// The level the tool gave a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageLevel {
    /// checkpatch `ERROR`, or a Coccinelle report that says `ERROR`.
    Error,
    /// checkpatch `WARNING`, or a Coccinelle report that says `WARNING`.
    Warning,
    /// checkpatch `CHECK` (only with `--strict`).
    Check,
    /// A Coccinelle report without a level, from a script whose kind of
    /// bug (locks, frees, NULL, iterators) is a correctness problem.
    Bug,
    /// A Coccinelle report without a level from any other script.
    Note,
}

impl MessageLevel {
    /// Severity of a finding made from a message at this level.
    pub fn severity(self) -> Severity {
        match self {
            MessageLevel::Error | MessageLevel::Bug => Severity::Medium,
            MessageLevel::Warning | MessageLevel::Check | MessageLevel::Note => Severity::Low,
        }
    }
}

/// One message of an analyzer, attributed to a patch of the series.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnalyzerMessage {
    pub tool: AnalyzerTool,
    /// 1-based index of the patch the message is about.
    pub patch_index: u32,
    /// Post-patch path, or `None` for a message about the commit message.
    pub file: Option<String>,
    /// Line in the post-patch numbering of that patch.
    pub line: Option<u32>,
    /// The check: checkpatch's type (`PREFER_PR_LEVEL`) or the semantic
    /// patch under scripts/coccinelle (`locks/mini_lock.cocci`).
    pub check: String,
    pub level: MessageLevel,
    /// The tool's own words.
    pub message: String,
    /// The tool's output lines for this message, verbatim.
    pub output: String,
    /// Other lines of the same file the message names ("preceding lock on
    /// line 211"), in the same numbering as `line`.
    pub related_lines: Vec<u32>,
    /// True when the tool reported the same thing before the series: a
    /// pre-existing bug candidate, never blamed on the patch.
    pub preexisting: bool,
}

/// Whether an analyzer ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnalyzerState {
    /// It ran (possibly only part of its scripts, see the notes).
    Ran,
    /// It could not run (no tool installed, no scripts in the tree, no
    /// tree with the series applied); `reason` says which.
    Skipped,
    /// There was nothing for it to look at (no changed C file).
    NotApplicable,
    /// It was started but did not produce usable output.
    Failed,
}

/// What one analyzer did for a review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AnalyzerRun {
    pub tool: AnalyzerTool,
    pub state: AnalyzerState,
    /// Why it was skipped or failed.
    pub reason: Option<String>,
    /// What ran: "scripts/checkpatch.pl of the tree at 1a2b3c4d", a path
    /// given with `--checkpatch`, "spatch 1.1.1 with scripts/coccinelle of
    /// the tree at ...".
    pub source: String,
    pub messages: Vec<AnalyzerMessage>,
    /// Scripts (Coccinelle) or patches (checkpatch) that ran.
    pub ran: Vec<String>,
    /// Scripts that were relevant but did not fit the time budget.
    pub skipped_for_budget: Vec<String>,
    /// Scripts or patches the tool failed on, with the first line of why.
    pub failed: Vec<(String, String)>,
    /// Anything else worth saying (messages dropped as pre-existing or far
    /// from the change, output lines that did not parse).
    pub notes: Vec<String>,
    pub elapsed_ms: u64,
    /// CPU time of the tool's processes.
    pub cpu_ms: u64,
}

impl AnalyzerRun {
    /// A run that did not happen, and why.
    pub fn skipped(tool: AnalyzerTool, reason: impl Into<String>) -> AnalyzerRun {
        AnalyzerRun {
            tool,
            state: AnalyzerState::Skipped,
            reason: Some(reason.into()),
            source: String::new(),
            messages: Vec::new(),
            ran: Vec::new(),
            skipped_for_budget: Vec::new(),
            failed: Vec::new(),
            notes: Vec::new(),
            elapsed_ms: 0,
            cpu_ms: 0,
        }
    }

    /// One line on what ran, what the budget left out and how long it took.
    pub fn summary(&self) -> String {
        let mut text = match self.state {
            AnalyzerState::Ran => format!("{} ran", self.source),
            AnalyzerState::NotApplicable => format!(
                "{} not applicable: {}",
                self.tool,
                self.reason.as_deref().unwrap_or("nothing to check")
            ),
            AnalyzerState::Skipped => format!(
                "{} skipped: {}",
                self.tool,
                self.reason.as_deref().unwrap_or("no reason given")
            ),
            AnalyzerState::Failed => format!(
                "{} failed: {}",
                self.tool,
                self.reason.as_deref().unwrap_or("no reason given")
            ),
        };
        if matches!(
            self.state,
            AnalyzerState::Skipped | AnalyzerState::NotApplicable
        ) {
            return text;
        }
        if self.tool == AnalyzerTool::Coccinelle {
            text.push_str(&format!(
                "; {} script(s) ran: {}",
                self.ran.len(),
                self.ran.join(", ")
            ));
            if !self.skipped_for_budget.is_empty() {
                text.push_str(&format!(
                    "; {} skipped for the time budget: {}",
                    self.skipped_for_budget.len(),
                    self.skipped_for_budget.join(", ")
                ));
            }
        }
        if !self.failed.is_empty() {
            let failed: Vec<String> = self
                .failed
                .iter()
                .map(|(what, why)| format!("{what} ({why})"))
                .collect();
            text.push_str(&format!("; could not run {}", failed.join(", ")));
        }
        text.push_str(&format!(
            "; {:.1} s wall, {:.1} s CPU",
            self.elapsed_ms as f64 / 1000.0,
            self.cpu_ms as f64 / 1000.0
        ));
        text
    }
}

/// Everything the analyzers said about one series.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AnalyzerReports {
    pub runs: Vec<AnalyzerRun>,
}

impl AnalyzerReports {
    pub fn run(&self, tool: AnalyzerTool) -> Option<&AnalyzerRun> {
        self.runs.iter().find(|run| run.tool == tool)
    }

    /// The tools' output as the model sees it: one text per analyzer that
    /// ran, to be placed in an untrusted block (it quotes the patch).
    pub fn evidence_text(&self) -> String {
        let mut text = String::new();
        for run in &self.runs {
            text.push_str(&format!("{}\n", run.summary()));
            for message in &run.messages {
                let place = match (&message.file, message.line) {
                    (Some(file), Some(line)) => format!("{file}:{line}"),
                    (Some(file), None) => file.clone(),
                    _ => "commit message".to_owned(),
                };
                let preexisting = if message.preexisting {
                    " (also reported before the series: pre-existing)"
                } else {
                    ""
                };
                text.push_str(&format!(
                    "- patch {}, {place}: {} ({}) {}{preexisting}\n",
                    message.patch_index, message.tool, message.check, message.message
                ));
            }
        }
        text
    }
}

/// Produces the analyzer reports of a series. Implemented by
/// `sashiko-analyzers` over a tree with the series applied; the engine
/// awaits it once per review.
#[async_trait::async_trait]
pub trait AnalyzerSource: Send + Sync {
    async fn reports(&self, series: &ReviewSeries) -> AnalyzerReports;
}

/// Findings made from one analyzer's messages, plus notes on messages that
/// could not be anchored to the patch they name.
pub fn findings(run: &AnalyzerRun, series: &ReviewSeries) -> (Vec<Finding>, Vec<String>) {
    let mut found = Vec::new();
    let mut notes = Vec::new();
    for message in &run.messages {
        let Some(patch) = series.patch(message.patch_index) else {
            notes.push(format!(
                "{} message for patch {} which the series does not have: {}",
                message.tool, message.patch_index, message.message
            ));
            continue;
        };
        match anchor(message, patch) {
            Some((file, line)) => found.push(finding(message, patch, file, line)),
            None => notes.push(format!(
                "{} ({}) at {}:{} is outside the lines patch {} changes: {}",
                message.tool,
                message.check,
                message.file.as_deref().unwrap_or("?"),
                message.line.unwrap_or(0),
                patch.index,
                message.message
            )),
        }
    }
    (found, notes)
}

/// Where a message's finding goes: the line it names when the patch's
/// hunks cover it; a commit-message message goes to the patch's first
/// added line, like the other commit-message checks.
fn anchor(message: &AnalyzerMessage, patch: &ReviewPatch) -> Option<(String, u32)> {
    match (&message.file, message.line) {
        (Some(file), Some(line)) => PatchLines::from_diff(&patch.diff)
            .covers(file, line, line)
            .then(|| (file.clone(), line)),
        (Some(file), None) => first_added_line(patch, Some(file)),
        (None, _) => first_added_line(patch, None),
    }
}

fn first_added_line(patch: &ReviewPatch, file: Option<&str>) -> Option<(String, u32)> {
    let lines = diff_lines(&patch.diff);
    lines
        .iter()
        .filter(|line| file.is_none_or(|file| line.file == file))
        .find_map(|line| match line.kind {
            LineKind::Added => Some((line.file.to_owned(), line.new_line?)),
            _ => None,
        })
        .or_else(|| {
            lines.iter().find_map(|line| {
                (line.kind == LineKind::Context && file.is_none_or(|file| line.file == file))
                    .then(|| Some((line.file.to_owned(), line.new_line?)))
                    .flatten()
            })
        })
}

fn finding(message: &AnalyzerMessage, patch: &ReviewPatch, file: String, line: u32) -> Finding {
    let place = if message.file.is_some() {
        String::new()
    } else {
        " about the commit message".to_owned()
    };
    Finding {
        patch_index: patch.index,
        file: file.clone(),
        line_start: line,
        line_end: line,
        stage: message.tool.builtin_name().to_owned(),
        severity: message.level.severity(),
        problem: format!(
            "{} ({}) reports{place}: {}",
            message.tool, message.check, message.message
        ),
        severity_explanation: severity_explanation(message),
        preexisting: message.preexisting,
        locations: message
            .related_lines
            .iter()
            .filter(|related| **related != line)
            .map(|related| Location {
                file: file.clone(),
                line_start: *related,
                line_end: *related,
                note: Some(format!("named by {}", message.tool)),
            })
            .collect(),
        evidence: vec![Evidence::Check {
            name: format!("{} {}", message.tool, message.check),
            detail: message.output.clone(),
        }],
        suggestion: None,
        consensus: 1,
    }
}

fn severity_explanation(message: &AnalyzerMessage) -> String {
    let level = match message.level {
        MessageLevel::Error => "an ERROR",
        MessageLevel::Warning => "a WARNING",
        MessageLevel::Check => "a CHECK (--strict)",
        MessageLevel::Bug => "a report of a likely bug",
        MessageLevel::Note => "a report",
    };
    let when = if message.preexisting {
        "; it was reported before the series too, so it is a pre-existing bug candidate"
    } else {
        "; it is new with the series"
    };
    format!(
        "{} gives {level} ({}){when}",
        message.tool,
        message.level.severity()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(diff: &str) -> ReviewSeries {
        ReviewSeries {
            title: "t".into(),
            version: 1,
            cover_letter: None,
            patches: vec![ReviewPatch {
                index: 1,
                subject: "mm: x".into(),
                author: "A <a@b>".into(),
                message_id: None,
                commit_id: None,
                commit_message: "Body.".into(),
                diff: diff.into(),
            }],
        }
    }

    fn message(file: Option<&str>, line: Option<u32>, level: MessageLevel) -> AnalyzerMessage {
        AnalyzerMessage {
            tool: AnalyzerTool::Checkpatch,
            patch_index: 1,
            file: file.map(str::to_owned),
            line,
            check: "PREFER_PR_LEVEL".into(),
            level,
            message: "Prefer pr_err(... to printk(KERN_ERR ...".into(),
            output: "WARNING:PREFER_PR_LEVEL: Prefer ...".into(),
            related_lines: vec![],
            preexisting: false,
        }
    }

    const DIFF: &str = "diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -10,3 +10,4 @@ f\n a\n+\tprintk(KERN_ERR \"x\");\n b\n c\n";

    #[test]
    fn messages_become_anchored_findings_or_notes() {
        type Case = (
            Option<&'static str>,
            Option<u32>,
            MessageLevel,
            Option<(&'static str, u32, Severity)>,
        );
        let cases: [Case; 5] = [
            (
                Some("mm/a.c"),
                Some(11),
                MessageLevel::Warning,
                Some(("mm/a.c", 11, Severity::Low)),
            ),
            (
                Some("mm/a.c"),
                Some(11),
                MessageLevel::Error,
                Some(("mm/a.c", 11, Severity::Medium)),
            ),
            // Commit-message messages go to the first added line.
            (
                None,
                None,
                MessageLevel::Warning,
                Some(("mm/a.c", 11, Severity::Low)),
            ),
            // A line no hunk covers is not blamed on the patch.
            (Some("mm/a.c"), Some(40), MessageLevel::Error, None),
            (Some("mm/b.c"), Some(11), MessageLevel::Error, None),
        ];
        for (file, line, level, expected) in cases {
            let run = AnalyzerRun {
                messages: vec![message(file, line, level)],
                ..AnalyzerRun::skipped(AnalyzerTool::Checkpatch, "")
            };
            let (found, notes) = findings(&run, &series(DIFF));
            let got = found
                .first()
                .map(|f| (f.file.as_str(), f.line_start, f.severity));
            assert_eq!(got, expected, "{file:?}:{line:?}");
            assert_eq!(notes.len(), usize::from(expected.is_none()));
            if let Some(found) = found.first() {
                assert!(found
                    .problem
                    .starts_with("checkpatch (PREFER_PR_LEVEL) reports"));
                assert_eq!(found.stage, "checkpatch");
                assert!(
                    matches!(&found.evidence[0], Evidence::Check { name, .. } if name == "checkpatch PREFER_PR_LEVEL")
                );
            }
        }
    }

    #[test]
    fn coccinelle_findings_name_the_script_and_the_related_lines() {
        let mut cocci = message(Some("mm/a.c"), Some(11), MessageLevel::Bug);
        cocci.tool = AnalyzerTool::Coccinelle;
        cocci.check = "locks/mini_lock.cocci".into();
        cocci.message = "preceding lock on line 10".into();
        cocci.related_lines = vec![10];
        let run = AnalyzerRun {
            messages: vec![cocci],
            ..AnalyzerRun::skipped(AnalyzerTool::Coccinelle, "")
        };
        let (found, _) = findings(&run, &series(DIFF));
        assert_eq!(
            found[0].problem,
            "Coccinelle (locks/mini_lock.cocci) reports: preceding lock on line 10"
        );
        assert_eq!(found[0].severity, Severity::Medium);
        assert_eq!(found[0].locations[0].line_start, 10);
        assert_eq!(found[0].stage, "coccinelle");
    }

    #[test]
    fn a_skipped_run_says_why_and_never_that_it_passed() {
        let run = AnalyzerRun::skipped(AnalyzerTool::Coccinelle, "spatch is not installed");
        assert_eq!(run.summary(), "Coccinelle skipped: spatch is not installed");
        let reports = AnalyzerReports { runs: vec![run] };
        assert!(reports
            .evidence_text()
            .contains("skipped: spatch is not installed"));
    }
}
