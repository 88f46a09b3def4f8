//! Builders of store inputs shared by the integration tests.

use sashiko_store::{
    NewFinding, NewPatch, NewReview, NewSeriesVersion, ReviewOutcome, ReviewStatus,
};

pub fn series(key: &str, version: u32, n_patches: u32) -> NewSeriesVersion {
    NewSeriesVersion {
        series_key: key.to_string(),
        title: format!("mm: fix things (v{version})"),
        author: "A U Thor <author@example.org>".to_string(),
        version,
        total: n_patches,
        cover_message_id: Some(format!("cover-{key}-v{version}@example.org")),
        patches: (1..=n_patches)
            .map(|index| NewPatch {
                index,
                message_id: format!("{key}-v{version}-{index}@example.org"),
                subject: format!("[PATCH v{version} {index}/{n_patches}] mm: fix thing {index}"),
                author: "A U Thor <author@example.org>".to_string(),
                commit_message: format!("mm: fix thing {index}\n\nSigned-off-by: A U Thor"),
                diff: format!(
                    "--- a/mm/file{index}.c\n+++ b/mm/file{index}.c\n@@ -1 +1 @@\n-old\n+new\n"
                ),
                patch_id: Some(format!("{index:040}")),
            })
            .collect(),
    }
}

pub fn finding(file: &str, line: u32, preexisting: bool, fingerprint: &str) -> NewFinding {
    NewFinding {
        patch_index: 1,
        file: file.to_string(),
        line_start: line,
        line_end: line + 2,
        stage: "resource".to_string(),
        severity: "high".to_string(),
        problem: format!("leak at {file}:{line}"),
        severity_explanation: "memory is lost on every call".to_string(),
        preexisting,
        locations: serde_json::json!([{ "file": file, "line": line }]),
        evidence: Some(serde_json::json!({ "quote": "kmalloc(...)" })),
        model: Some("fake-model".to_string()),
        prompt_set_hash: "prompts-abc".to_string(),
        fingerprint: fingerprint.to_string(),
        subsystem: None,
    }
}

pub fn review(series_version: sashiko_store::SeriesVersionId) -> NewReview {
    NewReview {
        series_version,
        provider: Some("openai".to_string()),
        model: Some("fake-model".to_string()),
        prompt_set_hash: "prompts-abc".to_string(),
        guides: vec!["mm".to_string()],
        runs: 1,
    }
}

pub fn outcome(status: ReviewStatus, findings: Vec<NewFinding>) -> ReviewOutcome {
    ReviewOutcome {
        status,
        findings,
        usage: serde_json::json!({ "requests": 3, "input_tokens": 1200, "output_tokens": 300 }),
        cost_usd: Some(0.0123),
        skipped_stages: vec!["style".to_string()],
        error: None,
        wall_ms: 4321,
    }
}
