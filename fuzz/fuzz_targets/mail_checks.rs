//! Fuzz target: arbitrary text as a commit message and diff (split at the
//! first NUL byte). The injection pre-scan, the checkpatch-style rules and
//! the report stage's wording check must not panic on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sashiko_review::prompts::PrescanRules;
use sashiko_review::{Finding, ReviewPatch, ReviewSeries, Severity};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (message, diff) = text.split_once('\0').unwrap_or(("", &text));
    let series = ReviewSeries {
        title: message.lines().next().unwrap_or("").to_owned(),
        version: 1,
        cover_letter: Some(message.to_owned()),
        patches: vec![ReviewPatch {
            index: 1,
            subject: message.lines().next().unwrap_or("").to_owned(),
            author: "a".to_owned(),
            message_id: None,
            commit_id: None,
            commit_message: message.to_owned(),
            diff: diff.to_owned(),
        }],
    };
    let rules = PrescanRules {
        reviewer_phrases: vec!["ignore previous instructions".to_owned(), "é reviewer".to_owned()],
        known_markers: vec!["todo".to_owned(), "fixme".to_owned()],
    };
    let _ = sashiko_review::prescan::prescan(&series, &rules);
    let _ = sashiko_review::prescan::checkpatch(&series);
    let finding = Finding {
        patch_index: 1,
        file: "f.c".to_owned(),
        line_start: 1,
        line_end: 3,
        stage: "fuzz".to_owned(),
        severity: Severity::Medium,
        problem: message.to_owned(),
        severity_explanation: String::new(),
        preexisting: false,
        locations: Vec::new(),
        evidence: Vec::new(),
        suggestion: None,
        consensus: 1,
    };
    let code = sashiko_review::wording::cited_code(&series, &finding);
    let _ = sashiko_review::wording::check(diff, &finding, &code, "canary-1234");
    let _ = sashiko_review::words::content_words(&text, &["the", "a"]);
});
