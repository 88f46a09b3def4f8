//! The pages, feed, API lists and metrics over real HTTP on both backends:
//! everything renders, hostile patch and finding text comes out escaped,
//! the subsystem filters and sorts select the right bugs, MAINTAINERS
//! entries are shown, the Atom feed parses as XML with escaped text, the
//! bug list pages with keyset pagination and `/metrics` counts.

mod common;

use common::seed::{seed, HOSTILE, HOSTILE_SUBJECT};
use common::{client, spawn_server, TestDb, BACKENDS};
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

/// Escaped the way the templates escape (&, <, >, ", ', /).
fn html_escaped(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('/', "&#x2F;")
}

fn assert_escaped(path: &str, body: &str) {
    for raw in ["<script", "<iframe", "<img", "<b>bold"] {
        assert!(!body.contains(raw), "{path} contains raw {raw:?}");
    }
}

#[tokio::test]
async fn pages_render_escaped_and_filter() {
    let maintainers = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(
        maintainers.path(),
        "MEMORY MANAGEMENT\nM:\tAndrew Morton <akpm@linux-foundation.org>\nL:\tlinux-mm@kvack.org\nS:\tMaintained\nF:\tmm/\n",
    )
    .expect("write MAINTAINERS");
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let seeded = seed(&db.store).await;
        let config = WebConfig {
            maintainers_file: Some(maintainers.path().to_path_buf()),
            ..WebConfig::default()
        };
        let server = spawn_server(&db.store, config).await;
        let base = &server.base;

        // Every page renders and never shows hostile text raw.
        let pages = [
            "/".to_string(),
            "/subsystem/mm".to_string(),
            "/subsystem/drivers/net".to_string(),
            "/subsystem/drivers/net?view=all&sort=severity".to_string(),
            format!("/bug/{}", seeded.hostile_bug),
            format!("/bug/{}", seeded.mm_bug),
            format!("/series/{}", seeded.version_id),
            format!("/review/{}", seeded.review_id),
            "/search?q=strcpy".to_string(),
            "/search?q=%3Cscript%3E".to_string(),
            "/login".to_string(),
        ];
        for path in &pages {
            let (status, body) = get(base, path).await;
            assert_eq!(status, 200, "{backend:?} {path}: {body}");
            assert_escaped(path, &body);
        }
        let (_, bug) = get(base, &format!("/bug/{}", seeded.hostile_bug)).await;
        assert!(
            bug.contains("&lt;script&gt;document.title=&#x27;owned&#x27;&lt;&#x2F;script&gt;"),
            "finding text shown escaped"
        );
        let (_, series) = get(base, &format!("/series/{}", seeded.version_id)).await;
        assert!(series.contains("&lt;iframe"), "patch text shown escaped");
        assert!(
            series.contains(&html_escaped(HOSTILE_SUBJECT)),
            "subject escaped"
        );
        assert!(
            series.contains("$0.0123") && series.contains("12000"),
            "usage and cost shown"
        );
        let (_, mm_bug) = get(base, &format!("/bug/{}", seeded.mm_bug)).await;
        assert!(
            mm_bug.contains("verdict: <strong>Sometimes</strong>")
                && mm_bug.contains("C MP+unlock"),
            "litmus evidence and verdict"
        );
        assert!(
            mm_bug.contains(&html_escaped(
                "https://lore.kernel.org/r/p1.1700000000.git.dev%40example.org"
            )),
            "lore link"
        );
        let (_, mm) = get(base, "/subsystem/mm").await;
        assert!(
            mm.contains("Andrew Morton") && mm.contains("linux-mm@kvack.org"),
            "MAINTAINERS entry shown"
        );
        let (status, _) = get(base, "/subsystem/no-such-subsystem").await;
        assert_eq!(status, 404);
        let (status, _) = get(base, "/bug/999999").await;
        assert_eq!(status, 404);

        // Filters: (query, bug ids expected in the table).
        let confirmed = seeded.confirmed_bug;
        let cases: Vec<(&str, &str, Vec<i64>)> = vec![
            ("mm", "", vec![seeded.mm_bug]),
            ("mm", "?severity=medium", vec![seeded.mm_bug]),
            ("mm", "?severity=high", vec![]),
            ("mm", "?preexisting=no", vec![]),
            ("mm", "?preexisting=yes&age=1", vec![seeded.mm_bug]),
            ("mm", "?file=mm%2Fsl", vec![seeded.mm_bug]),
            ("mm", "?file=mm%2Fpage", vec![]),
            ("mm", "?view=fixed", vec![]),
            ("net", "", vec![confirmed]),
            ("net", "?view=open", vec![]),
            ("net", "?view=confirmed&preexisting=no", vec![confirmed]),
        ];
        for (subsystem, query, expected) in cases {
            let (status, body) = get(base, &format!("/subsystem/{subsystem}{query}")).await;
            assert_eq!(status, 200);
            let shown: Vec<i64> = body
                .split("<tr class=\"bug-row\"")
                .skip(1)
                .filter_map(|row| {
                    row.split("href=\"/bug/")
                        .nth(1)?
                        .split('"')
                        .next()?
                        .parse()
                        .ok()
                })
                .collect();
            assert_eq!(shown, expected, "{backend:?} /subsystem/{subsystem}{query}");
        }

        // Atom feed: XML with escaped text.
        let (status, feed) = get(base, "/feeds/drivers/net.atom").await;
        assert_eq!(status, 200);
        assert!(
            feed.starts_with("<?xml")
                && feed.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">")
        );
        assert_eq!(feed.matches("<entry>").count(), 1);
        assert!(!feed.contains(HOSTILE) && feed.contains("&lt;script&gt;"));
        assert!(feed.contains(&format!("&#x2F;bug&#x2F;{}</id>", seeded.hostile_bug)));

        // JSON lists with keyset pagination.
        let page: serde_json::Value = client()
            .get(format!("{base}/api/bugs?limit=2"))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(page["bugs"].as_array().map(Vec::len), Some(2));
        let next = page["next"].as_str().expect("a next page").to_string();
        let rest: serde_json::Value = client()
            .get(format!("{base}{next}"))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(rest["bugs"].as_array().map(Vec::len), Some(1));
        assert!(rest["next"].is_null());
        let mm: serde_json::Value = client()
            .get(format!("{base}/api/bugs?subsystem=mm&state=open"))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(mm["bugs"][0]["id"], seeded.mm_bug);
        let bad = client()
            .get(format!("{base}/api/bugs?state=bogus"))
            .send()
            .await
            .expect("GET");
        assert_eq!(bad.status(), 400);
        let subsystems: serde_json::Value = client()
            .get(format!("{base}/api/subsystems"))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        let names: Vec<&str> = subsystems
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        assert_eq!(names, ["drivers/net", "mm", "net"]);
        let detail: serde_json::Value = client()
            .get(format!("{base}/api/bugs/{}", seeded.mm_bug))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(detail["findings"][0]["severity"], "medium");
        let openapi: serde_json::Value = client()
            .get(format!("{base}/api/openapi.json"))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON");
        assert_eq!(openapi["openapi"], "3.1.0");

        // Health and metrics.
        assert_eq!(get(base, "/healthz").await, (200, "ok\n".to_string()));
        let (_, metrics) = get(base, "/metrics").await;
        for line in [
            "sashiko_bugs{state=\"open\"} 2",
            "sashiko_bugs{state=\"confirmed\"} 1",
            "sashiko_queue_depth 0",
            "route=\"/bug/{id}\",status=\"200\"",
        ] {
            assert!(
                metrics.contains(line),
                "{backend:?} metrics lack {line}:\n{metrics}"
            );
        }
    }
}

/// A series reviewed again after its finished review, the new attempt
/// failing (the model server was down) and a third one interrupted (its
/// worker was killed): the series page still shows the finished review's
/// findings and says which review they come from.
#[tokio::test]
async fn series_page_shows_the_newest_finished_review_over_later_failed_ones() {
    use sashiko_store::{NewReview, ReviewOutcome, ReviewStatus, SeriesVersionId};
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let seeded = seed(&db.store).await;
        let again = |note: &'static str| {
            let store = db.store.clone();
            async move {
                let review = store
                    .start_review(&NewReview {
                        series_version: SeriesVersionId(seeded.version_id),
                        provider: Some("openai".to_string()),
                        model: Some("fake-model".to_string()),
                        prompt_set_hash: "prompts-0123".to_string(),
                        guides: vec![],
                        runs: 1,
                    })
                    .await
                    .unwrap_or_else(|error| panic!("start the {note} review: {error}"));
                review.0
            }
        };
        let failed = again("failed").await;
        db.store
            .finish_review(
                sashiko_store::ReviewId(failed),
                &ReviewOutcome {
                    status: ReviewStatus::Failed,
                    findings: vec![],
                    usage: serde_json::json!({}),
                    cost_usd: None,
                    skipped_stages: vec![],
                    error: Some("connection refused".to_string()),
                    wall_ms: 10,
                },
            )
            .await
            .expect("fail the second review");
        let interrupted = again("interrupted").await;
        db.store
            .web_rows(
                "test: interrupt the third review as lease recovery does",
                "UPDATE reviews SET status = 'interrupted', error = 'interrupted: killed', finished_at = {now} WHERE id = $1",
                &[sashiko_store::web_queries::SqlParam::Int(interrupted)],
            )
            .await
            .expect("interrupt the third review");
        let server = spawn_server(&db.store, WebConfig::default()).await;
        let (status, page) = get(&server.base, &format!("/series/{}", seeded.version_id)).await;
        assert_eq!(status, 200, "{backend:?}: {page}");
        let shown = page
            .split("id=\"shown-review\"")
            .nth(1)
            .and_then(|rest| rest.split("</p>").next())
            .unwrap_or_else(|| panic!("{backend:?}: no shown-review line in {page}"));
        assert!(
            shown.contains(&format!(
                ">{}</a> (finished), the newest that ran to the end",
                seeded.review_id
            )),
            "{backend:?}: {shown}"
        );
        let findings = page
            .split("<h2>Findings per patch</h2>")
            .nth(1)
            .unwrap_or("");
        assert!(
            findings.contains("use after free: obj is returned after kfree"),
            "{backend:?}: the finished review's findings are shown"
        );
        assert!(
            page.contains(&format!("/review/{failed}"))
                && page.contains(&format!("/review/{interrupted}")),
            "{backend:?}: every review is listed"
        );
    }
}

/// A v2 whose review was given an interdiff: the series page shows that
/// stored text (what the model saw) and names the review, instead of
/// computing one.
#[tokio::test]
async fn series_page_shows_the_interdiff_the_review_was_given() {
    use sashiko_store::{
        InterdiffFile, NewPatch, NewReview, NewSeriesVersion, OutcomeNotes, ReviewOutcome,
        ReviewStatus, StoredInterdiff,
    };
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let seeded = seed(&db.store).await;
        let diff = "diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -100,4 +100,5 @@ void *cache_alloc(void)\n \tobj = get_obj();\n-\tfree(obj);\n+\tkmem_cache_free(cache, obj);\n+\treturn obj;\n \tspin_unlock(&lock);\n }\n";
        let v2 = db
            .store
            .upsert_series_version(&NewSeriesVersion {
                series_key: "dev@example.org/slab-fixes".to_string(),
                title: "[PATCH v2 0/1] slab fixes".to_string(),
                author: "Dev Eloper <dev@example.org>".to_string(),
                version: 2,
                total: 1,
                cover_message_id: None,
                patches: vec![NewPatch {
                    index: 1,
                    message_id: "v2-p1.1700000000.git.dev@example.org".to_string(),
                    subject: "[PATCH v2 1/1] mm/slab: free with kfree".to_string(),
                    author: "Dev Eloper <dev@example.org>".to_string(),
                    commit_message: "mm/slab: free with kfree".to_string(),
                    diff: diff.to_string(),
                    patch_id: None,
                }],
            })
            .await
            .expect("store v2");
        let review = db
            .store
            .start_review(&NewReview {
                series_version: v2,
                provider: Some("openai".to_string()),
                model: Some("fake-model".to_string()),
                prompt_set_hash: "prompts-0123".to_string(),
                guides: vec![],
                runs: 1,
            })
            .await
            .expect("start the v2 review");
        let shown = "--- a/mm/slab.c (earlier version)\n+++ b/mm/slab.c (this version)\n@@ -101,1 +101,1 @@\n-\tkfree(obj);\n+\tkmem_cache_free(cache, obj);\n";
        db.store
            .finish_review_noted(
                review,
                &ReviewOutcome {
                    status: ReviewStatus::Finished,
                    findings: vec![],
                    usage: serde_json::json!({}),
                    cost_usd: None,
                    skipped_stages: vec![],
                    error: None,
                    wall_ms: 10,
                },
                &OutcomeNotes {
                    earlier_review: Some(sashiko_store::ReviewId(seeded.review_id)),
                    interdiff: Some(StoredInterdiff {
                        earlier_version: 1,
                        files: vec![InterdiffFile {
                            file: "mm/slab.c".to_string(),
                            first_line: 101,
                            text: shown.to_string(),
                        }],
                        notes: vec!["mm/slab.c: a note the reviewer made".to_string()],
                    }),
                    ..OutcomeNotes::default()
                },
            )
            .await
            .expect("finish the v2 review");
        let server = spawn_server(&db.store, WebConfig::default()).await;
        let (status, page) = get(&server.base, &format!("/series/{}", v2.0)).await;
        assert_eq!(status, 200, "{backend:?}: {page}");
        let details = page
            .split("id=\"interdiff-v2\"")
            .nth(1)
            .and_then(|rest| rest.split("</details>").next())
            .unwrap_or_else(|| panic!("{backend:?}: no interdiff in {page}"));
        assert!(
            details.contains(&format!(
                "as review <a href=\"/review/{}\">{}</a> was shown it",
                review.0, review.0
            )),
            "{backend:?}: {details}"
        );
        assert!(
            details.contains("(earlier version)")
                && details.contains("-\tkfree(obj);\n+\tkmem_cache_free(cache, obj);")
                && details.contains("a note the reviewer made"),
            "{backend:?}: the stored text is shown: {details}"
        );
        // The first version has no previous one: no interdiff.
        let (_, v1_page) = get(&server.base, &format!("/series/{}", seeded.version_id)).await;
        assert!(!v1_page.contains("class=\"interdiff\""), "{backend:?}");
    }
}

/// Issue 14, "never a silent difference": a review whose series did not
/// apply says so on its review page and on the series page that shows
/// its findings; one applied on its base-commit names the base.
#[tokio::test]
async fn review_and_series_pages_say_how_the_series_met_the_tree() {
    use sashiko_store::{ReviewId, ReviewTree};
    for backend in BACKENDS {
        let db = TestDb::new(backend).await;
        let seeded = seed(&db.store).await;
        let server = spawn_server(&db.store, WebConfig::default()).await;
        let review_page = format!("/review/{}", seeded.review_id);
        let series_page = format!("/series/{}", seeded.version_id);
        let cases = [
            (
                ReviewTree {
                    status: "not_applied".into(),
                    base: Some("0123456789abcdef".into()),
                    note: "reviewed without tree context: the series does not apply (patch 1 does not apply to 0123456789ab)".into(),
                },
                "class=\"error\"><strong>No tree context.</strong> reviewed without tree context: the series does not apply",
                "class=\"error\">Tree: <strong>this review had no tree context.</strong> reviewed without tree context",
            ),
            (
                ReviewTree {
                    status: "base_commit".into(),
                    base: Some("0123456789abcdef".into()),
                    note: "applied on its base-commit 0123456789ab".into(),
                },
                "id=\"review-tree\">applied on its base-commit 0123456789ab</dd>",
                "id=\"shown-review-tree\">Tree: applied on its base-commit 0123456789ab</p>",
            ),
        ];
        for (tree, on_review, on_series) in cases {
            db.store
                .set_review_tree(ReviewId(seeded.review_id), &tree)
                .await
                .expect("record the tree");
            let (status, page) = get(&server.base, &review_page).await;
            assert_eq!(status, 200, "{backend:?}: {page}");
            assert!(
                page.contains(on_review),
                "{backend:?} {}: {page}",
                tree.status
            );
            let (status, page) = get(&server.base, &series_page).await;
            assert_eq!(status, 200, "{backend:?}: {page}");
            assert!(
                page.contains(on_series),
                "{backend:?} {}: {page}",
                tree.status
            );
        }
    }
}
