//! b4's review checks against our `/api/patchset`: the test re-implements,
//! in Rust, what b4's `_builtin_sashiko` check reads from the answer (the
//! series status, `patches[].message_id/id`, `reviews[].patch_id/status`,
//! `output` decoded as JSON text holding `findings[].severity/problem`) and
//! asserts on the check results b4 would show, plus the finding fields and
//! types of the contract (problem, severity, severity_explanation,
//! preexisting, locations) and `inline_review`. Runs on SQLite and
//! PostgreSQL.

mod common;

use common::seed::{seed, COVER_ID, PATCH1_ID, PATCH2_ID};
use common::{client, spawn_server, TestDb, BACKENDS};
use sashiko_store::{NewPatch, NewSeriesVersion};
use serde_json::Value;

/// One check result as b4 stores it.
#[derive(Debug, PartialEq)]
struct Check {
    status: String,
    summary: String,
    url: String,
    details: Option<Vec<Value>>,
}

fn status_rank(status: &str) -> u8 {
    match status {
        "fail" => 2,
        "warn" => 1,
        _ => 0,
    }
}

/// b4's reading of one review's `output`: JSON text with `findings`.
fn parse_findings(review: &Value) -> Vec<(String, String)> {
    let Some(text) = review
        .get("output")
        .and_then(Value::as_str)
        .filter(|text| !text.is_empty())
    else {
        return Vec::new();
    };
    let Ok(output) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    output
        .get("findings")
        .and_then(Value::as_array)
        .map(|findings| {
            findings
                .iter()
                .filter(|finding| finding.is_object())
                .map(|finding| {
                    let severity = finding
                        .get("severity")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_lowercase();
                    let status = match severity.as_str() {
                        "critical" | "high" => "fail",
                        "medium" => "warn",
                        _ => "pass",
                    };
                    (status.to_string(), severity)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn summarise(findings: &[(String, String)]) -> (String, String) {
    if findings.is_empty() {
        return ("pass".into(), "No findings".into());
    }
    let worst = findings
        .iter()
        .map(|(status, _)| status.as_str())
        .max_by_key(|status| status_rank(status))
        .unwrap_or("pass");
    let parts: Vec<String> = ["critical", "high", "medium", "low"]
        .iter()
        .filter_map(|severity| {
            let n = findings.iter().filter(|(_, s)| s == severity).count();
            (n > 0).then(|| format!("{n} {severity}"))
        })
        .collect();
    (worst.to_string(), parts.join(", "))
}

/// What b4 shows for message `msgid` given the API answer (None for 404).
fn b4_check(data: Option<&Value>, msgid: &str, base: &str) -> Option<Check> {
    let data = data?;
    let status = data["status"].as_str().unwrap_or("");
    let url = format!("{base}/patch/{}", data["id"]);
    let simple = |status: &str, summary: String| {
        Some(Check {
            status: status.into(),
            summary,
            url: url.clone(),
            details: None,
        })
    };
    match status {
        "Pending" | "In Review" | "Applying" => {
            return simple("warn", format!("Review {}", status.to_lowercase()))
        }
        "Failed" | "Failed To Apply" => return simple("fail", status.to_string()),
        "Incomplete" => return simple("warn", "Series incomplete".into()),
        _ => {}
    }
    let reviews = data["reviews"].as_array().cloned().unwrap_or_default();
    let with_details = |findings: Vec<(String, String)>| {
        let (worst, summary) = summarise(&findings);
        let details = (!findings.is_empty()).then(|| {
            findings
                .iter()
                .map(|(s, sev)| serde_json::json!({"status": s, "state": sev}))
                .collect()
        });
        Some(Check {
            status: worst,
            summary,
            url: url.clone(),
            details,
        })
    };
    if data["message_id"].as_str() == Some(msgid) {
        return with_details(reviews.iter().flat_map(parse_findings).collect());
    }
    let patch_id = data["patches"]
        .as_array()?
        .iter()
        .find(|p| p["message_id"].as_str() == Some(msgid))?["id"]
        .as_i64()?;
    match reviews
        .iter()
        .find(|review| review["patch_id"].as_i64() == Some(patch_id))
    {
        Some(review) => match review["status"].as_str().unwrap_or("") {
            "Skipped" => simple(
                "pass",
                review["result"].as_str().unwrap_or("Skipped").to_string(),
            ),
            "Pending" | "In Review" => simple("warn", "Review in progress".into()),
            "Failed" => simple(
                "fail",
                review["result"]
                    .as_str()
                    .unwrap_or("Review failed")
                    .to_string(),
            ),
            _ => with_details(parse_findings(review)),
        },
        None => simple("pass", "No review".into()),
    }
}

async fn fetch(base: &str, msgid: &str) -> Option<Value> {
    let response = client()
        .get(format!("{base}/api/patchset"))
        .query(&[("id", msgid)])
        .send()
        .await
        .expect("GET /api/patchset");
    if response.status() == 404 {
        return None;
    }
    assert_eq!(response.status(), 200, "GET /api/patchset?id={msgid}");
    Some(response.json().await.expect("JSON answer"))
}

#[tokio::test]
async fn b4_reads_our_patchset_answers() {
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let seeded = seed(&db.store).await;
        let server = spawn_server(&db.store, Default::default()).await;
        let base = &server.base;

        // Data-driven: message asked for -> (b4 status, b4 summary).
        let cases = [
            (
                COVER_ID.to_string(),
                Some(("fail", "1 high, 1 medium, 1 low")),
            ),
            (
                format!("<{COVER_ID}>"),
                Some(("fail", "1 high, 1 medium, 1 low")),
            ),
            (PATCH1_ID.to_string(), Some(("fail", "1 high, 1 medium"))),
            (PATCH2_ID.to_string(), Some(("pass", "1 low"))),
            ("unknown@example.org".to_string(), None),
        ];
        for (asked, expected) in cases {
            let data = fetch(base, &asked).await;
            let plain = asked.trim_matches(['<', '>']);
            let check = b4_check(data.as_ref(), plain, base);
            match expected {
                None => assert!(
                    check.is_none(),
                    "{backend:?} {asked}: expected 404, got {check:?}"
                ),
                Some((status, summary)) => {
                    let check =
                        check.unwrap_or_else(|| panic!("{backend:?} {asked}: b4 found no result"));
                    assert_eq!(
                        (check.status.as_str(), check.summary.as_str()),
                        (status, summary),
                        "{backend:?} {asked}"
                    );
                    assert_eq!(check.url, format!("{base}/patch/{}", seeded.version_id));
                    let page = client()
                        .get(&check.url)
                        .send()
                        .await
                        .expect("follow b4's link");
                    assert_eq!(
                        page.status(),
                        303,
                        "b4's /patch/<id> link redirects to the series page"
                    );
                }
            }
        }

        // The field contract of every finding and the inline review.
        let data = fetch(base, PATCH2_ID).await.expect("patchset");
        assert_eq!(data["status"], "Reviewed");
        assert_eq!(data["patches"].as_array().map(Vec::len), Some(2));
        for patch in data["patches"].as_array().expect("patches") {
            assert!(
                patch["id"].is_i64()
                    && patch["message_id"].is_string()
                    && patch["part_index"].is_i64()
            );
        }
        let reviews = data["reviews"].as_array().expect("reviews");
        assert_eq!(reviews.len(), 2, "one review entry per patch");
        for review in reviews {
            let output: Value =
                serde_json::from_str(review["output"].as_str().expect("output is JSON text"))
                    .expect("output decodes");
            for finding in output["findings"].as_array().expect("findings") {
                assert!(finding["problem"].is_string(), "{finding}");
                assert!(["low", "medium", "high", "critical"]
                    .contains(&finding["severity"].as_str().unwrap_or("")));
                assert!(finding["severity_explanation"].is_string());
                assert!(finding["preexisting"].is_boolean());
                let locations = finding["locations"].as_array().expect("locations");
                assert!(!locations.is_empty());
                assert!(locations.iter().all(|l| l["file"].is_string()
                    && l["line_start"].is_i64()
                    && l["line_end"].is_i64()));
            }
            assert!(review["inline_review"].is_string());
        }
        let patch1 = reviews
            .iter()
            .find(|r| r["patch_id"] != seeded.patch2_id)
            .expect("patch 1 review");
        let inline = patch1["inline_review"].as_str().expect("text");
        assert!(
            inline.contains("> +\tkfree(obj);"),
            "inline review quotes the patch line:\n{inline}"
        );
        assert!(inline.contains("[high] use after free"), "{inline}");
        let patch2 = reviews
            .iter()
            .find(|r| r["patch_id"] == seeded.patch2_id)
            .expect("patch 2 review");
        let output: Value =
            serde_json::from_str(patch2["output"].as_str().expect("text")).expect("JSON");
        assert_eq!(output["findings"][0]["preexisting"], true);
        assert_eq!(output["findings"][0]["bug_id"], seeded.hostile_bug);

        // A stored series that has not been reviewed yet.
        db.store
            .upsert_series_version(&NewSeriesVersion {
                series_key: "other/pending".into(),
                title: "[PATCH] pending".into(),
                author: "A <a@example.org>".into(),
                version: 1,
                total: 1,
                cover_message_id: None,
                patches: vec![NewPatch {
                    index: 1,
                    message_id: "pending@example.org".into(),
                    subject: "[PATCH] pending".into(),
                    author: "A".into(),
                    commit_message: "x".into(),
                    diff: String::new(),
                    patch_id: None,
                }],
            })
            .await
            .expect("pending series");
        let pending = fetch(base, "pending@example.org").await;
        let check = b4_check(pending.as_ref(), "pending@example.org", base).expect("a result");
        assert_eq!(
            (check.status.as_str(), check.summary.as_str()),
            ("warn", "Review pending")
        );
        assert_eq!(
            client()
                .get(format!("{base}/api/patchset"))
                .send()
                .await
                .expect("GET")
                .status(),
            400
        );
    }
}
