//! One reviewed two-patch series, stored through the store's public API the
//! way `sashiko review` stores one: the series version, a finished review
//! with findings (one confirmed by promotion, two pre-existing that open
//! bugs), and patch text full of HTML and script to check escaping.

use sashiko_store::{
    FindingId, NewFinding, NewPatch, NewReview, NewSeriesVersion, Promotion, ReviewOutcome,
    ReviewStatus, Store,
};
use serde_json::json;

pub const COVER_ID: &str = "cover.1700000000.git.dev@example.org";
pub const PATCH1_ID: &str = "p1.1700000000.git.dev@example.org";
pub const PATCH2_ID: &str = "p2.1700000000.git.dev@example.org";
/// Text that must never reach a page unescaped.
pub const HOSTILE: &str = "<script>document.title='owned'</script>";
pub const HOSTILE_SUBJECT: &str = "net: <script>alert(\"pwn\")</script> & <b>bold</b> handling";

pub struct Seeded {
    pub version_id: i64,
    pub review_id: i64,
    pub patch2_id: i64,
    /// Bug from the high finding, confirmed by promotion (net subsystem).
    pub confirmed_bug: i64,
    /// Open pre-existing bug in mm with a litmus test as evidence.
    pub mm_bug: i64,
    /// Open pre-existing bug in drivers/net whose text is hostile.
    pub hostile_bug: i64,
}

const DIFF1: &str = "diff --git a/mm/slab.c b/mm/slab.c\n--- a/mm/slab.c\n+++ b/mm/slab.c\n@@ -100,4 +100,5 @@ void *cache_alloc(void)\n \tobj = get_obj();\n-\tfree(obj);\n+\tkfree(obj);\n+\treturn obj;\n \tspin_unlock(&lock);\n }\n";
const DIFF2: &str = "diff --git a/drivers/net/dev.c b/drivers/net/dev.c\n--- a/drivers/net/dev.c\n+++ b/drivers/net/dev.c\n@@ -10,3 +10,4 @@ int probe(void)\n \t/* <img src=x onerror=alert(1)> */\n+\tstrcpy(buf, \"<script>alert(2)</script>\");\n \treturn 0;\n }\n";

#[allow(
    clippy::too_many_arguments,
    reason = "test fixture: one argument per field that varies between findings"
)]
fn finding(
    patch_index: u32,
    file: &str,
    line: u32,
    severity: &str,
    problem: &str,
    preexisting: bool,
    evidence: serde_json::Value,
    fingerprint: &str,
) -> NewFinding {
    NewFinding {
        patch_index,
        file: file.to_string(),
        line_start: line,
        line_end: line,
        stage: "resource".to_string(),
        severity: severity.to_string(),
        problem: problem.to_string(),
        severity_explanation: format!("{severity}: the kernel can crash"),
        preexisting,
        locations: json!([{ "file": file, "line_start": line + 2, "line_end": line + 2, "note": "unlock here" }]),
        evidence: Some(evidence),
        model: Some("fake-model".to_string()),
        prompt_set_hash: "prompts-0123".to_string(),
        fingerprint: fingerprint.to_string(),
        subsystem: None,
    }
}

/// Usage as the review path stores it (the metered client's report): 10
/// requests over two stages, 12,000 input tokens of which 2,000 cached.
pub fn usage_report() -> serde_json::Value {
    let stage = |requests: u64, input: u64, cached: u64, output: u64| {
        json!({"requests": requests, "input_tokens": input, "cache_read_tokens": cached,
               "cache_write_tokens": 0, "output_tokens": output, "reasoning_tokens": 0})
    };
    json!({
        "by_stage": {
            "resource": {"usage": stage(6, 6000, 2000, 500), "cost_usd": 0.0071},
            "security": {"usage": stage(4, 4000, 0, 400), "cost_usd": 0.0052}
        },
        "total": stage(10, 10000, 2000, 900),
        "total_cost_usd": 0.0123
    })
}

/// A reviewer's tag given in a reply to patch 1, and a maintainer's given
/// on the cover letter (so on both patches).
pub const REVIEWED_BY: &str = "Reviewed-by: Rev Iewer <rev@example.org>";
pub const ACKED_BY: &str = "Acked-by: Ack Er <ack@example.org>";

/// Stores the mails of the seeded series as ingest would (sent on
/// 2023-11-14 22:13:20 UTC), with two replies carrying review tags.
pub async fn store_thread(store: &Store) {
    let mail = |id: &str, subject: &str, reply_to: Option<&str>, body: &str| {
        let threading = reply_to
            .map(|parent| format!("In-Reply-To: <{parent}>\nReferences: <{parent}>\n"))
            .unwrap_or_default();
        format!(
            "From: Dev Eloper <dev@example.org>\nTo: linux-mm@kvack.org\nSubject: {subject}\n\
             Date: Tue, 14 Nov 2023 22:13:20 +0000\nMessage-ID: <{id}>\n{threading}\n{body}"
        )
    };
    let patch_body = |message: &str, diff: &str| format!("{message}\n---\n{diff}");
    let mails = [
        (
            COVER_ID,
            "[PATCH 0/2] slab and net fixes".to_string(),
            None,
            "Two fixes.\n".to_string(),
        ),
        (
            PATCH1_ID,
            "[PATCH 1/2] mm/slab: free with kfree".to_string(),
            Some(COVER_ID),
            patch_body(
                "mm/slab: free with kfree\n\nSigned-off-by: Dev Eloper <dev@example.org>",
                DIFF1,
            ),
        ),
        (
            PATCH2_ID,
            format!("[PATCH 2/2] {HOSTILE_SUBJECT}"),
            Some(COVER_ID),
            patch_body(
                "net: fix\n\nSigned-off-by: Dev Eloper <dev@example.org>",
                DIFF2,
            ),
        ),
        (
            "r1.1700000000.rev@example.org",
            "Re: [PATCH 1/2] mm/slab: free with kfree".to_string(),
            Some(PATCH1_ID),
            format!("> quoted\n\n{REVIEWED_BY}\n"),
        ),
        (
            "r0.1700000000.ack@example.org",
            "Re: [PATCH 0/2] slab and net fixes".to_string(),
            Some(COVER_ID),
            format!("For the series:\n\n{ACKED_BY}\n"),
        ),
    ];
    for (id, subject, reply_to, body) in mails {
        let raw = mail(id, &subject, reply_to, &body);
        store
            .upsert_message(&sashiko_store::NewMessage {
                message_id: id,
                raw: raw.as_bytes(),
                subject: &subject,
                author: "Dev Eloper <dev@example.org>",
                date: Some("Tue, 14 Nov 2023 22:13:20 +0000".to_string()),
                list: Some("linux-mm@kvack.org"),
                in_reply_to: reply_to,
            })
            .await
            .expect("store a mail of the thread");
    }
}

pub async fn seed(store: &Store) -> Seeded {
    let version = store
        .upsert_series_version(&NewSeriesVersion {
            series_key: "dev@example.org/slab-fixes".to_string(),
            title: "[PATCH 0/2] slab and net fixes".to_string(),
            author: "Dev Eloper <dev@example.org>".to_string(),
            version: 1,
            total: 2,
            cover_message_id: Some(COVER_ID.to_string()),
            patches: vec![
                NewPatch {
                    index: 1,
                    message_id: PATCH1_ID.to_string(),
                    subject: "[PATCH 1/2] mm/slab: free with kfree".to_string(),
                    author: "Dev Eloper <dev@example.org>".to_string(),
                    commit_message:
                        "mm/slab: free with kfree\n\nSigned-off-by: Dev Eloper <dev@example.org>"
                            .to_string(),
                    diff: DIFF1.to_string(),
                    patch_id: None,
                },
                NewPatch {
                    index: 2,
                    message_id: PATCH2_ID.to_string(),
                    subject: format!("[PATCH 2/2] {HOSTILE_SUBJECT}"),
                    author: "Dev Eloper <dev@example.org>".to_string(),
                    commit_message: format!(
                        "{HOSTILE_SUBJECT}\n\n<iframe src=\"http://evil.example\"></iframe>"
                    ),
                    diff: DIFF2.to_string(),
                    patch_id: None,
                },
            ],
        })
        .await
        .expect("store the series");
    let review = store
        .start_review(&NewReview {
            series_version: version,
            provider: Some("openai".to_string()),
            model: Some("fake-model".to_string()),
            prompt_set_hash: "prompts-0123".to_string(),
            guides: vec![],
            runs: 1,
        })
        .await
        .expect("start the review");
    let litmus = "C MP+unlock\n{}\nP0(int *x) { WRITE_ONCE(*x, 1); }\nexists (0:r0=1)";
    let finished = store
        .finish_review_with_ids(
            review,
            &ReviewOutcome {
                status: ReviewStatus::Finished,
                findings: vec![
                    finding(1, "mm/slab.c", 102, "high", "use after free: obj is returned after kfree", false,
                        json!([{ "kind": "quoted_code", "text": "+\tkfree(obj);\n+\treturn obj;" }]), "fp-uaf"),
                    finding(1, "mm/slab.c", 104, "medium", "the lock is released without a barrier", true,
                        json!([{ "kind": "litmus", "test": litmus, "verdict": "Sometimes" }]), "fp-barrier"),
                    finding(2, "drivers/net/dev.c", 11, "low", &format!("strcpy of markup {HOSTILE}"), true,
                        json!([{ "kind": "quoted_code", "text": format!("+\tstrcpy(buf, \"{HOSTILE}\");") }]), "fp-hostile"),
                ],
                usage: usage_report(),
                cost_usd: Some(0.0123),
                skipped_stages: vec![],
                error: None,
                wall_ms: 4200,
            },
        )
        .await
        .expect("finish the review");
    let confirmed = store
        .promote_finding(
            finished.findings[0],
            &Promotion {
                subsystem: Some("net".to_string()),
                actor: "alice".to_string(),
                reason: "confirmed on the list".to_string(),
            },
        )
        .await
        .expect("promote the high finding");
    let bug_of = |finding: FindingId| async move {
        store
            .finding_bug(finding)
            .await
            .expect("finding's bug")
            .expect("linked")
            .0
    };
    let mm_bug = bug_of(finished.findings[1]).await;
    let hostile_bug = bug_of(finished.findings[2]).await;
    let patches = store
        .web_rows(
            "test: patch ids",
            "SELECT id FROM patches WHERE message_id = $1",
            &[sashiko_store::web_queries::SqlParam::Text(
                PATCH2_ID.to_string(),
            )],
        )
        .await
        .expect("patch id");
    Seeded {
        version_id: version.0,
        review_id: review.0,
        patch2_id: patches[0]["id"].as_i64().expect("id"),
        confirmed_bug: confirmed.0,
        mm_bug,
        hostile_bug,
    }
}
