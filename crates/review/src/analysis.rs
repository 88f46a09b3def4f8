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
use crate::context::{ContextKind, ContextSnippet};
use crate::engine::StageState;
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

    /// The tools' output as the model sees it, one text per analyzer.
    pub fn evidence_text(&self) -> String {
        self.runs.iter().map(AnalyzerRun::evidence_text).collect()
    }
}

impl AnalyzerRun {
    /// What it ran and reported, as the model sees it (inside an untrusted
    /// block: messages quote the patch).
    pub fn evidence_text(&self) -> String {
        let mut text = format!("{}\n", self.summary());
        if self.state == AnalyzerState::Ran && self.messages.is_empty() {
            text.push_str("- no reports on the changed lines\n");
        }
        for message in &self.messages {
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
        text
    }
}

/// Runs one analyzer on a series. Implemented by `sashiko-analyzers` over
/// a tree with the series applied; the engine calls it once per tool and
/// review (checkpatch before the finder stages, Coccinelle alongside them).
#[async_trait::async_trait]
pub trait AnalyzerSource: Send + Sync {
    async fn run(&self, tool: AnalyzerTool, series: &ReviewSeries) -> AnalyzerRun;
}

/// What a `checkpatch` or `coccinelle` builtin stage did with its
/// analyzer's run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuiltinOutcome {
    pub state: StageState,
    pub reason: Option<String>,
    pub notes: Vec<String>,
    pub elapsed_ms: u64,
    /// Findings made from the analyzer's messages: candidates for the
    /// verify stage, like the model's.
    pub candidates: Vec<Finding>,
    /// Findings of sashiko's own checkpatch rules, when they ran because
    /// the tree's checkpatch.pl could not.
    pub fallback: Vec<Finding>,
}

/// The stage's outcome from `run` (`None`: the review has no analyzers,
/// e.g. mail reviewed without a tree). A checkpatch stage whose tool did
/// not run is `skipped` and runs sashiko's own rules instead, saying so;
/// a coccinelle stage whose tool did not run is `skipped` with the reason.
pub fn builtin_stage(
    tool: AnalyzerTool,
    run: Option<&AnalyzerRun>,
    series: &ReviewSeries,
) -> BuiltinOutcome {
    let mut outcome = BuiltinOutcome {
        state: StageState::Ran,
        reason: None,
        notes: Vec::new(),
        elapsed_ms: run.map_or(0, |run| run.elapsed_ms),
        candidates: Vec::new(),
        fallback: Vec::new(),
    };
    let not_run = match run {
        None => Some(match tool {
            AnalyzerTool::Checkpatch => {
                "no kernel tree to take scripts/checkpatch.pl from and no --checkpatch PATH"
                    .to_owned()
            }
            AnalyzerTool::Coccinelle => "no kernel tree with the series applied".to_owned(),
        }),
        Some(run) => match run.state {
            AnalyzerState::Ran => None,
            AnalyzerState::NotApplicable => {
                outcome.state = StageState::NotApplicable;
                outcome.reason = run.reason.clone();
                return outcome;
            }
            AnalyzerState::Skipped => Some(run.reason.clone().unwrap_or_default()),
            AnalyzerState::Failed => Some(format!(
                "{} failed: {}",
                run.tool,
                run.reason.as_deref().unwrap_or("no reason given")
            )),
        },
    };
    match (not_run, run) {
        (Some(reason), _) => {
            outcome.state = StageState::Skipped;
            outcome.reason = Some(if tool == AnalyzerTool::Checkpatch {
                outcome.fallback = crate::prescan::checkpatch(series);
                format!("{reason}; sashiko's own checkpatch-like rules ran instead (trailing whitespace, space before tab, DOS line endings, missing Signed-off-by)")
            } else {
                reason
            });
        }
        (None, Some(run)) => {
            let (found, notes) = findings(run, series);
            outcome.notes.push(run.summary());
            outcome.notes.extend(run.notes.iter().cloned());
            outcome.notes.extend(notes);
            outcome.candidates = found;
        }
        (None, None) => {}
    }
    outcome
}

/// The analyzers' output for the shared prefix: one snippet per analyzer
/// that ran.
pub fn evidence_snippets(runs: &[&AnalyzerRun]) -> Vec<ContextSnippet> {
    runs.iter()
        .filter(|run| run.state == AnalyzerState::Ran)
        .map(|run| ContextSnippet {
            file: String::new(),
            first_line: 1,
            label: format!("{} output", run.tool),
            text: run.evidence_text(),
            kind: ContextKind::Analyzers,
            priority: crate::context::priority::ANALYZERS,
        })
        .collect()
}

/// Is `stage` one whose findings come from the tree's analyzers?
pub fn is_analyzer_stage(stage: &str) -> bool {
    matches!(stage, "checkpatch" | "coccinelle")
}

/// The analyzers a review is handed (a trait object, like its model).
#[derive(Clone)]
pub struct ReviewAnalyzers(pub std::sync::Arc<dyn AnalyzerSource>);

impl fmt::Debug for ReviewAnalyzers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReviewAnalyzers")
    }
}

impl ReviewAnalyzers {
    /// Both tools' runs on `series`, at once.
    pub async fn run_all(&self, series: &ReviewSeries) -> AnalyzerReports {
        let (checkpatch, coccinelle) = futures::join!(
            self.0.run(AnalyzerTool::Checkpatch, series),
            self.0.run(AnalyzerTool::Coccinelle, series)
        );
        AnalyzerReports {
            runs: vec![checkpatch, coccinelle],
        }
    }
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
        assert!(evidence_snippets(&[&reports.runs[0]]).is_empty());
    }

    #[test]
    fn builtin_stages_say_what_ran_and_fall_back_only_for_checkpatch() {
        let unsigned = series(DIFF);
        let ran = AnalyzerRun {
            state: AnalyzerState::Ran,
            reason: None,
            source: "scripts/checkpatch.pl of the tree at abc".into(),
            messages: vec![message(Some("mm/a.c"), Some(11), MessageLevel::Warning)],
            ..AnalyzerRun::skipped(AnalyzerTool::Checkpatch, "")
        };
        let outcome = builtin_stage(AnalyzerTool::Checkpatch, Some(&ran), &unsigned);
        assert_eq!(outcome.state, StageState::Ran);
        assert_eq!(outcome.candidates.len(), 1);
        assert!(outcome.fallback.is_empty());
        assert!(outcome.notes[0].starts_with("scripts/checkpatch.pl of the tree at abc ran"));

        let missing = AnalyzerRun::skipped(
            AnalyzerTool::Checkpatch,
            "the tree has no scripts/checkpatch.pl",
        );
        let failed = AnalyzerRun {
            state: AnalyzerState::Failed,
            ..AnalyzerRun::skipped(AnalyzerTool::Coccinelle, "spatch crashed")
        };
        let nothing = AnalyzerRun {
            state: AnalyzerState::NotApplicable,
            ..AnalyzerRun::skipped(AnalyzerTool::Coccinelle, "the series changes no C file")
        };
        type Case<'a> = (
            AnalyzerTool,
            Option<&'a AnalyzerRun>,
            StageState,
            &'a str,
            usize,
        );
        let cases: [Case<'_>; 5] = [
            (AnalyzerTool::Checkpatch, None, StageState::Skipped, "no kernel tree to take scripts/checkpatch.pl from and no --checkpatch PATH; sashiko's own checkpatch-like rules ran instead", 1),
            (AnalyzerTool::Checkpatch, Some(&missing), StageState::Skipped, "the tree has no scripts/checkpatch.pl; sashiko's own", 1),
            (AnalyzerTool::Coccinelle, None, StageState::Skipped, "no kernel tree with the series applied", 0),
            (AnalyzerTool::Coccinelle, Some(&failed), StageState::Skipped, "Coccinelle failed: spatch crashed", 0),
            (AnalyzerTool::Coccinelle, Some(&nothing), StageState::NotApplicable, "the series changes no C file", 0),
        ];
        for (tool, run, state, reason, fallback) in cases {
            let outcome = builtin_stage(tool, run, &unsigned);
            assert_eq!(outcome.state, state, "{tool} {run:?}");
            assert!(
                outcome
                    .reason
                    .as_deref()
                    .is_some_and(|text| text.starts_with(reason)),
                "{:?}",
                outcome.reason
            );
            // The fallback rules find the missing Signed-off-by.
            assert_eq!(outcome.fallback.len(), fallback);
            assert!(outcome.candidates.is_empty());
        }
    }
}
