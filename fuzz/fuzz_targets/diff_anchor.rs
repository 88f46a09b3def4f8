//! Fuzz target: arbitrary text as the diffs of a two-patch series (split
//! at the first NUL byte) and as a finding's place. Anchoring, diff line
//! numbering, the end-state model of the series and the plan's file
//! sections must not panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sashiko_review::anchor::{diff_lines, number_diff_lines, HunkSpan, PatchLines};
use sashiko_review::endstate::{self, SeriesStates};
use sashiko_review::{Finding, ReviewPatch, ReviewSeries, Severity};

fn patch(index: u32, diff: &str) -> ReviewPatch {
    ReviewPatch {
        index,
        subject: format!("patch {index}"),
        author: "a".to_owned(),
        message_id: None,
        commit_id: None,
        commit_message: String::new(),
        diff: diff.to_owned(),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (first, second) = text.split_once('\0').unwrap_or((&text, ""));
    let series = ReviewSeries {
        title: String::new(),
        version: 1,
        cover_letter: None,
        patches: vec![patch(1, first), patch(2, second)],
    };
    for diff in [first, second] {
        let lines = PatchLines::from_diff(diff);
        let files: Vec<String> = lines.files().map(str::to_owned).collect();
        for file in &files {
            let _ = lines.covers(file, 1, u32::MAX);
        }
        for line in diff_lines(diff) {
            let _ = line.content();
        }
        let _ = number_diff_lines(diff);
        for file in endstate::file_diffs(diff) {
            for hunk in &file.hunks {
                let span = HunkSpan::of(hunk);
                assert!(span.start <= span.end);
            }
        }
        let _ = sashiko_review::plan::file_sections(diff);
        let _ = sashiko_review::context::changed_lines(diff, "f.c");
    }
    let states = SeriesStates::build(&series);
    let cited = |file: &str, start: u32, end: u32| Finding {
        patch_index: 1,
        file: file.to_owned(),
        line_start: start,
        line_end: end,
        stage: "fuzz".to_owned(),
        severity: Severity::Low,
        problem: "p".to_owned(),
        severity_explanation: String::new(),
        preexisting: false,
        locations: Vec::new(),
        evidence: Vec::new(),
        suggestion: None,
        consensus: 1,
    };
    let files: Vec<String> = PatchLines::from_diff(first).files().map(str::to_owned).collect();
    let bytes = data.get(..4).unwrap_or(&[1, 0, 1, 0]);
    let start = u32::from(u16::from_le_bytes([bytes[0], bytes[1 % bytes.len()]]));
    let end = start.saturating_add(u32::from(bytes[bytes.len() - 1]));
    for file in files.iter().take(4) {
        let finding = cited(file, start, end);
        let _ = endstate::cited_fate(&states, &series, &finding);
        let _ = endstate::fixed_later_reason(&states, &series, &finding);
    }
    let _ = sashiko_review::context::series_files(&series);
});
