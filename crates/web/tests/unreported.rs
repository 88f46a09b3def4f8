//! Findings a review keeps but does not report are listed on the review
//! and series pages with their status and reason, on both backends (issue
//! 15: a TODO hid findings that JSON, store and web did not list).

mod common;

use common::seed::seed;
use common::{client, spawn_server, TestDb, BACKENDS};
use sashiko_store::{
    FindingNotes, NewFinding, NewReview, OutcomeNotes, ReviewOutcome, ReviewStatus,
};
use sashiko_web::WebConfig;

async fn get(base: &str, path: &str) -> (u16, String) {
    let response = client()
        .get(format!("{base}{path}"))
        .send()
        .await
        .unwrap_or_else(|error| panic!("GET {path}: {error}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

fn new_finding(line: u32, stage: &str, severity: &str, problem: &str) -> NewFinding {
    NewFinding {
        patch_index: 1,
        file: "mm/slab.c".to_string(),
        line_start: line,
        line_end: line + 1,
        stage: stage.to_string(),
        severity: severity.to_string(),
        problem: problem.to_string(),
        severity_explanation: "scripted".to_string(),
        preexisting: false,
        locations: serde_json::json!([]),
        evidence: None,
        model: Some("fake-model".to_string()),
        prompt_set_hash: "prompts-0123".to_string(),
        fingerprint: format!("fp-{stage}-{line}"),
        subsystem: None,
    }
}

const KNOWN_REASON: &str = "annotated in the code at mm/slab.c:101 in cache_alloc(), naming the same leak: /* TODO: obj leaks when the cache is full */";

#[tokio::test]
async fn known_findings_are_listed_with_their_reason() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let seeded = seed(&db.store).await;
        let review = db
            .store
            .start_review(&NewReview {
                series_version: sashiko_store::SeriesVersionId(seeded.version_id),
                provider: Some("openai".to_string()),
                model: Some("fake-model".to_string()),
                prompt_set_hash: "prompts-0123".to_string(),
                guides: vec![],
                runs: 1,
            })
            .await
            .expect("start a review");
        let known = new_finding(
            102,
            "resource",
            "medium",
            "obj leaks when the cache is full",
        );
        db.store
            .finish_review_noted(
                review,
                &ReviewOutcome {
                    status: ReviewStatus::Finished,
                    findings: vec![new_finding(
                        104,
                        "memory-ordering",
                        "high",
                        "the cache slot is published before obj is visible",
                    )],
                    usage: serde_json::json!({}),
                    cost_usd: None,
                    skipped_stages: vec![],
                    error: None,
                    wall_ms: 10,
                },
                &OutcomeNotes {
                    unreported: vec![(
                        known,
                        FindingNotes {
                            status: Some("known".to_string()),
                            status_reason: Some(KNOWN_REASON.to_string()),
                            ..FindingNotes::default()
                        },
                    )],
                    ..OutcomeNotes::default()
                },
            )
            .await
            .expect("finish the review");
        let unreported = db
            .store
            .unreported_findings(review.0)
            .await
            .expect("read the unreported findings");
        assert_eq!(unreported.len(), 1, "{backend:?}");
        assert_eq!(
            (
                unreported[0].status.as_str(),
                unreported[0].status_reason.as_deref()
            ),
            ("known", Some(KNOWN_REASON)),
            "{backend:?}"
        );
        let server = spawn_server(&db.store, WebConfig::default()).await;
        let escaped_reason = KNOWN_REASON.replace('/', "&#x2F;");
        let (status, page) = get(&server.base, &format!("/review/{}", review.0)).await;
        assert_eq!(status, 200, "{backend:?}: {page}");
        let section = page
            .split("id=\"unreported\"")
            .nth(1)
            .unwrap_or_else(|| panic!("{backend:?}: no unreported section in {page}"));
        assert!(
            section.contains("Not reported (known): ")
                && section.contains(&escaped_reason)
                && section.contains("obj leaks when the cache is full"),
            "{backend:?}: {section}"
        );
        let reported = page.split("id=\"unreported\"").next().unwrap_or_default();
        assert!(
            reported.contains("the cache slot is published") && !reported.contains("obj leaks"),
            "{backend:?}: the known finding is not among the reported ones"
        );
        let (status, series_page) =
            get(&server.base, &format!("/series/{}", seeded.version_id)).await;
        assert_eq!(status, 200, "{backend:?}");
        let kept = series_page
            .split("id=\"unreported-1\"")
            .nth(1)
            .and_then(|rest| rest.split("</details>").next())
            .unwrap_or_else(|| panic!("{backend:?}: no unreported list on {series_page}"));
        assert!(
            kept.contains("Not reported (known): ") && kept.contains(&escaped_reason),
            "{backend:?}: {kept}"
        );
    }
}
