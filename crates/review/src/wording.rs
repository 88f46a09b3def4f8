//! The report stage: the model words the reply's comments, code decides
//! everything else. Which findings are reported, their severities, the
//! recipients and the quoting are settled before this stage runs; the model
//! is shown the findings and asked for one comment each. A comment is used
//! only if it passes [`check`]: not empty, not too long, not junk (no
//! quoting, fences, trailers, links or addresses), no canary, and about its
//! finding (it shares words with the problem or the cited code). Anything
//! else falls back to the finder's own text, with a note saying why. A
//! failing report stage never fails the review.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use sashiko_llm_core::{chat_structured, LlmClient};
use serde::{Deserialize, Serialize};

use crate::anchor::diff_lines;
use crate::engine::{canary_of, millis, stage_report, StageReport, StageState};
use crate::finding::Finding;
use crate::prompts::{PromptSet, StageDef};
use crate::request::{self, ReviewSecrets};
use crate::series::ReviewSeries;

/// Longest comment accepted, in characters and in lines.
const MAX_CHARS: usize = 700;
const MAX_LINES: usize = 12;

/// What the model sees of one finding to word.
#[derive(Serialize)]
struct ToWord<'a> {
    id: String,
    patch_index: u32,
    file: &'a str,
    line_start: u32,
    line_end: u32,
    severity: &'a str,
    problem: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<&'a str>,
    code: String,
}

#[derive(Deserialize)]
struct ReportAnswer {
    comments: Vec<WireComment>,
}

#[derive(Deserialize)]
struct WireComment {
    id: String,
    text: String,
}

/// The report stage's result.
pub(crate) struct Worded {
    /// Per finding given (same order): the accepted wording.
    pub wordings: Vec<Option<String>>,
    pub report: StageReport,
    /// The answer contained the canary.
    pub leaked: bool,
}

/// What one report request needs.
pub(crate) struct WordingRequest<'a> {
    pub prompts: &'a PromptSet,
    pub stage: &'a StageDef,
    pub series: &'a ReviewSeries,
    pub context: &'a [crate::context::ContextSnippet],
    pub secrets: &'a ReviewSecrets,
    pub max_output_tokens: u32,
}

/// The cited lines of `finding` as they appear in its patch.
pub fn cited_code(series: &ReviewSeries, finding: &Finding) -> String {
    let Some(patch) = series.patch(finding.patch_index) else {
        return String::new();
    };
    diff_lines(&patch.diff)
        .into_iter()
        .filter(|line| line.file == finding.file)
        .filter(|line| {
            line.new_line
                .is_some_and(|n| n >= finding.line_start && n <= finding.line_end)
        })
        .map(|line| format!("{}\n", line.text))
        .collect()
}

/// Ask the report stage to word `findings`; never fails.
pub(crate) async fn run(
    client: &dyn LlmClient,
    request: &WordingRequest<'_>,
    findings: &[&Finding],
) -> Worded {
    let started = Instant::now();
    let views: Vec<ToWord<'_>> = findings
        .iter()
        .enumerate()
        .map(|(number, finding)| ToWord {
            id: format!("R{}", number + 1),
            patch_index: finding.patch_index,
            file: &finding.file,
            line_start: finding.line_start,
            line_end: finding.line_end,
            severity: finding.severity.as_str(),
            problem: &finding.problem,
            suggestion: finding.suggestion.as_deref(),
            code: cited_code(request.series, finding),
        })
        .collect();
    let block = serde_json::to_string_pretty(&views).unwrap_or_default();
    let base = request::RequestBase {
        prompts: request.prompts,
        series: request.series,
        secrets: request.secrets,
        context: request.context,
        max_output_tokens: request.max_output_tokens,
    };
    let chat = request::report_request(&base, request.stage, &block);
    let mut report = stage_report(request.stage, StageState::Ran, None, findings.len());
    let mut worded = vec![None; findings.len()];
    report.attempts = 1;
    let (comments, leaked) = match chat_structured(client, &chat).await {
        Ok(answer) => {
            report.usage += answer.response.usage;
            report.repairs += answer.repairs;
            report.retry_wait_ms += millis(answer.response.retry_wait);
            let leaked = answer.response.text.contains(&canary_of(&chat));
            match serde_json::from_value::<ReportAnswer>(answer.value) {
                Ok(parsed) => (parsed.comments, leaked),
                Err(error) => {
                    report.notes.push(format!(
                        "the answer does not fit the comments shape ({error}); every comment keeps the finder's text"
                    ));
                    (Vec::new(), leaked)
                }
            }
        }
        Err(error) => {
            report.notes.push(format!(
                "no usable answer ({error}); every comment keeps the finder's text"
            ));
            (Vec::new(), false)
        }
    };
    let canary = request.secrets.canary.as_str();
    let mut seen = BTreeMap::new();
    for comment in comments {
        let id = comment.id.trim().to_owned();
        let Some(at) = id
            .strip_prefix('R')
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| n.checked_sub(1))
            .filter(|at| *at < findings.len())
        else {
            report
                .notes
                .push(format!("a comment for unknown finding {id:?} was ignored"));
            continue;
        };
        if seen.insert(at, ()).is_some() {
            report
                .notes
                .push(format!("{id}: a second comment was ignored"));
            continue;
        }
        match check(&comment.text, findings[at], &views[at].code, canary) {
            Ok(text) => worded[at] = Some(text),
            Err(reason) => report
                .notes
                .push(format!("{id}: wording {reason}; the finder's text is used")),
        }
    }
    report.elapsed_ms = millis(started.elapsed());
    Worded {
        wordings: worded,
        report,
        leaked,
    }
}

/// Words too common to tie a comment to its finding.
const COMMON: [&str; 20] = [
    "the", "this", "that", "with", "when", "from", "there", "which", "will", "have", "should",
    "could", "here", "and", "for", "not", "but", "does", "are", "can",
];

fn words(text: &str) -> BTreeSet<String> {
    crate::words::content_words(text, &COMMON)
}

/// The accepted comment text, or why it is refused.
pub fn check(text: &str, finding: &Finding, code: &str, canary: &str) -> Result<String, String> {
    let text = text.trim();
    let lower = text.to_lowercase();
    if text.is_empty() {
        return Err("is empty".into());
    }
    if lower.contains("sashiko-canary") || (!canary.is_empty() && text.contains(canary)) {
        return Err("mentions the canary".into());
    }
    if text.chars().count() > MAX_CHARS || text.lines().count() > MAX_LINES {
        return Err(format!(
            "is too long (at most {MAX_CHARS} characters and {MAX_LINES} lines)"
        ));
    }
    let junk = [
        ("<<<untrusted", "copies a block marker"),
        ("```", "uses a code fence"),
        ("http://", "carries a link"),
        ("https://", "carries a link"),
        ("reviewed-by:", "carries a trailer"),
        ("acked-by:", "carries a trailer"),
        ("tested-by:", "carries a trailer"),
        ("signed-off-by:", "carries a trailer"),
        ("reported-by:", "carries a trailer"),
    ];
    if let Some((_, why)) = junk.iter().find(|(marker, _)| lower.contains(marker)) {
        return Err((*why).into());
    }
    if text.lines().any(|line| line.trim_start().starts_with('>')) {
        return Err("looks like quoted patch text".into());
    }
    if text.split_whitespace().any(|word| {
        word.split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
    }) {
        return Err("carries a mail address".into());
    }
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    if text.split_whitespace().count() < 3 || letters * 2 < text.chars().count() {
        return Err("is not prose".into());
    }
    let about = words(&format!(
        "{} {} {code}",
        finding.problem,
        finding.suggestion.as_deref().unwrap_or("")
    ));
    let shared = words(text).intersection(&about).count();
    if shared < 2 {
        return Err("does not match its finding".into());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;

    fn finding() -> Finding {
        Finding {
            patch_index: 1,
            file: "a.c".into(),
            line_start: 4,
            line_end: 5,
            stage: "resource".into(),
            severity: Severity::High,
            problem: "buf is leaked when g() fails: the early return skips kfree()".into(),
            severity_explanation: String::new(),
            preexisting: false,
            locations: vec![],
            evidence: vec![],
            suggestion: None,
            consensus: 1,
        }
    }

    #[test]
    fn only_wordings_about_their_finding_pass() {
        let code = "+\tif (g())\n+\t\treturn -EIO;\n";
        let canary = "SASHIKO-CANARY-0123";
        let long = "buf leaks here. ".repeat(60);
        let cases: Vec<(&str, Result<(), &str>)> = vec![
            (
                "Does this leak buf when g() fails? The early return skips the kfree() below.",
                Ok(()),
            ),
            ("", Err("is empty")),
            ("  \n ", Err("is empty")),
            (&long, Err("is too long")),
            (
                "buf leaks when g() fails, SASHIKO-CANARY-0123",
                Err("mentions the canary"),
            ),
            (
                "buf leaks when g() fails; sashiko-canary-x",
                Err("mentions the canary"),
            ),
            (
                "Looks good to me, nice cleanup overall.",
                Err("does not match"),
            ),
            (
                "```c\nkfree(buf);\n``` buf leaks when g() fails",
                Err("code fence"),
            ),
            ("> if (g())\nbuf leaks when g() fails", Err("quoted patch")),
            (
                "buf leaks when g() fails, see https://example.org/x",
                Err("link"),
            ),
            (
                "buf leaks when g() fails\nReviewed-by: Bot <b@x.org>",
                Err("trailer"),
            ),
            (
                "buf leaks when g() fails, ask ada@example.org",
                Err("mail address"),
            ),
            ("{}();;;; !!!! ---- ==== buf g()", Err("not prose")),
        ];
        for (text, expected) in cases {
            let got = check(text, &finding(), code, canary);
            match expected {
                Ok(()) => assert_eq!(got.as_deref(), Ok(text.trim()), "{text:?}"),
                Err(part) => assert!(
                    got.as_ref().is_err_and(|reason| reason.contains(part)),
                    "{text:?}: {got:?}"
                ),
            }
        }
    }
}
