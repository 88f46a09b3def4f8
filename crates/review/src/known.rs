//! Known issues: a finding whose code carries an annotation naming the
//! same problem at the same place, or whose fingerprint a maintainer
//! marked known, is not reported again. It is kept, stored with the reason
//! and listed (text, JSON, web), so nothing silently disappears.
//!
//! An annotation (a TODO/FIXME/known-issue comment) matches a finding only
//! when all of these hold:
//! - place: the comment is in the function that holds the finding's cited
//!   lines (as far as the diff shows functions), else within a few lines
//!   of them;
//! - problem: the comment names a kind of defect (a leak, a locking
//!   problem, an ordering problem, ...) that the finding's problem names
//!   too, and they share another significant word (what leaks, which
//!   lock);
//! - stage: a high or critical finding is never hidden by a comment about
//!   a kind of defect its stage does not look for (a TODO about a leak
//!   never hides a high memory-ordering finding).
//!
//! Sharing a word such as "ring" is never enough on its own.

use std::collections::BTreeSet;

use crate::anchor::{diff_lines, DiffLine, LineKind};
use crate::finding::{Finding, Severity};
use crate::series::ReviewSeries;

/// Lines around a finding searched for an annotation when the diff does
/// not show which function they are in.
const NEARBY: u32 = 3;

/// Words too common to tie a comment to a problem, and the markers'
/// own words.
const COMMON: &[&str] = &[
    "the", "and", "for", "not", "are", "but", "its", "can", "may", "all", "any", "into", "than",
    "then", "also", "this", "that", "with", "when", "from", "there", "which", "will", "have",
    "should", "could", "here", "todo", "fixme", "xxx", "known", "issue", "hack",
];

/// A kind of defect: its name, the word stems that name it, and the stages
/// that look for it.
struct DefectKind {
    name: &'static str,
    stems: &'static [&'static str],
    stages: &'static [&'static str],
}

/// The kinds of defect an annotation can name. A stem matches a word that
/// starts with it ("leak" matches "leaks", "leaked", "leaking").
const DEFECT_KINDS: [DefectKind; 8] = [
    DefectKind {
        name: "leak",
        stems: &["leak"],
        stages: &["resource", "flow"],
    },
    DefectKind {
        name: "use after free",
        stems: &["use-after-free", "uaf", "freed", "double-free"],
        stages: &["resource", "flow", "security"],
    },
    DefectKind {
        name: "locking",
        stems: &["lock", "unlock", "deadlock", "mutex", "spinlock"],
        stages: &["locking", "lock-order"],
    },
    DefectKind {
        name: "memory ordering",
        stems: &[
            "barrier", "order", "reorder", "smp_", "acquire", "visib", "publish",
        ],
        stages: &["memory-ordering"],
    },
    DefectKind {
        name: "race",
        stems: &["race", "racy", "concurren"],
        stages: &["locking", "memory-ordering"],
    },
    DefectKind {
        name: "bounds",
        stems: &["overflow", "underflow", "bound", "truncat", "out-of-range"],
        stages: &["security", "flow"],
    },
    DefectKind {
        name: "null pointer",
        stems: &["null"],
        stages: &["flow", "security"],
    },
    DefectKind {
        name: "uninitialized",
        stems: &["uninit"],
        stages: &["flow", "security"],
    },
];

/// Why `finding` is a known issue, if it is.
pub fn known_reason(
    finding: &Finding,
    series: &ReviewSeries,
    markers: &[String],
    known_fingerprints: &BTreeSet<String>,
) -> Option<String> {
    if known_fingerprints.contains(&finding.fingerprint()) {
        return Some("marked known by a maintainer".to_owned());
    }
    let patch = series.patch(finding.patch_index)?;
    let lines: Vec<DiffLine<'_>> = diff_lines(&patch.diff)
        .into_iter()
        .filter(|line| line.file == finding.file || line.kind == LineKind::Header)
        .collect();
    let cited_at = lines.iter().position(|line| {
        line.file == finding.file
            && line
                .new_line
                .is_some_and(|n| (finding.line_start..=finding.line_end).contains(&n))
    });
    let finding_function = cited_at.and_then(|at| crate::context::diff_function_at(&lines, at));
    let problem_words = significant_words(&finding.problem);
    let problem_kinds = defect_kinds(&finding.problem);
    lines.iter().enumerate().find_map(|(at, line)| {
        let number = line.new_line.filter(|_| line.file == finding.file)?;
        let text = line.content();
        let lower = text.to_lowercase();
        if !markers.iter().any(|marker| lower.contains(marker.as_str())) {
            return None;
        }
        let same_place = match (
            &finding_function,
            crate::context::diff_function_at(&lines, at),
        ) {
            (Some(theirs), Some(ours)) => *theirs == ours,
            _ => {
                let low = finding.line_start.saturating_sub(NEARBY);
                let high = finding.line_end.saturating_add(NEARBY);
                (low..=high).contains(&number)
            }
        };
        if !same_place {
            return None;
        }
        let kind = defect_kinds(text)
            .into_iter()
            .find(|kind| problem_kinds.iter().any(|k| k.name == kind.name))?;
        let kind_words: BTreeSet<String> = significant_words(text)
            .into_iter()
            .filter(|word| kind.stems.iter().any(|stem| word.starts_with(stem)))
            .collect();
        let shares_object = significant_words(text)
            .intersection(&problem_words)
            .any(|word| !kind_words.contains(word));
        if !shares_object {
            return None;
        }
        if finding.severity >= Severity::High && !kind.stages.contains(&finding.stage.as_str()) {
            return None;
        }
        let place = match &finding_function {
            Some(function) => format!("in {function}()"),
            None => format!("near {}:{}", finding.file, finding.line_start),
        };
        Some(format!(
            "annotated in the code at {}:{number} {place}, naming the same {}: {}",
            finding.file,
            kind.name,
            text.trim()
        ))
    })
}

fn defect_kinds(text: &str) -> Vec<&'static DefectKind> {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '_' && c != '-')
        .filter(|word| !word.is_empty())
        .collect();
    DEFECT_KINDS
        .iter()
        .filter(|kind| {
            kind.stems
                .iter()
                .any(|stem| words.iter().any(|word| word.starts_with(stem)))
        })
        .collect()
}

fn significant_words(text: &str) -> BTreeSet<String> {
    crate::words::content_words(text, COMMON)
        .iter()
        .map(|word| stem(word).to_owned())
        .collect()
}

/// A crude English stem so "leaks", "leaked" and "leaking" meet "leak".
fn stem(word: &str) -> &str {
    for suffix in ["ing", "ed", "es", "s"] {
        if let Some(stripped) = word.strip_suffix(suffix) {
            if stripped.len() >= 3 {
                return stripped;
            }
        }
    }
    word
}

#[cfg(test)]
#[path = "known_tests.rs"]
mod tests;
