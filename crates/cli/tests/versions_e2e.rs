//! End to end: v1 of a two-patch mail series is reviewed, then v2, where
//! one bug is fixed and one remains. The real binary, the fake
//! OpenAI-compatible server and a real SQLite file: v2's stages get the
//! interdiff in their shared prefix, and the earlier findings come out
//! classified as fixed, still present or new, in the output and the store.

mod common;

use common::{init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_store::ReviewId;
use serde_json::{json, Value};

const V1_LEAK: &str = "diff --git a/lib/a.c b/lib/a.c
index 1111111..2222222 100644
--- a/lib/a.c
+++ b/lib/a.c
@@ -1,7 +1,9 @@
 int f(void)
 {
 	char *buf = kmalloc(16, GFP_KERNEL);
+	if (g())
+		return -EIO;
 	use(buf);
 	kfree(buf);
 	return 0;
 }
";

const V2_NO_LEAK: &str = "diff --git a/lib/a.c b/lib/a.c
index 1111111..3333333 100644
--- a/lib/a.c
+++ b/lib/a.c
@@ -1,7 +1,11 @@
 int f(void)
 {
 	char *buf = kmalloc(16, GFP_KERNEL);
+	if (g()) {
+		kfree(buf);
+		return -EIO;
+	}
 	use(buf);
 	kfree(buf);
 	return 0;
 }
";

const V1_COPY: &str = "diff --git a/lib/b.c b/lib/b.c
index 4444444..5555555 100644
--- a/lib/b.c
+++ b/lib/b.c
@@ -1,5 +1,6 @@
 void h(const char *src, size_t len)
 {
 	char dst[8];
+	memcpy(dst, src, len);
 	consume(dst);
 }
";

const V2_COPY: &str = "diff --git a/lib/b.c b/lib/b.c
index 4444444..6666666 100644
--- a/lib/b.c
+++ b/lib/b.c
@@ -1,5 +1,7 @@
 void h(const char *src, size_t len)
 {
 	char dst[8];
+	/* copy the name */
+	memcpy(dst, src, len);
 	consume(dst);
 }
";

const WORDED: &str =
    "g() returns its own error code; replacing it with -EIO here hides why it failed.";

/// An mbox with a cover letter and two patches threaded under it.
fn mbox(version: u32, diffs: [&str; 2]) -> String {
    let tag = if version == 1 {
        "PATCH".to_owned()
    } else {
        format!("PATCH v{version}")
    };
    let header = |number: u32, subject: &str, reply: bool| {
        let mut text = format!(
            "From mboxrd@z Thu Jan  1 00:00:00 1970\nMessage-ID: <v{version}-{number}@example.org>\n\
             From: Ada Dev <ada@example.org>\nDate: Thu, 2 Jan 2025 10:0{number}:00 +0000\n\
             Subject: [{tag} {number}/2] {subject}\n"
        );
        if reply {
            text.push_str(&format!(
                "In-Reply-To: <v{version}-0@example.org>\nReferences: <v{version}-0@example.org>\n"
            ));
        }
        text.push('\n');
        text
    };
    let mut out = header(0, "lib: two helpers", false);
    out.push_str("Two helpers.\n\n");
    for (number, (subject, diff)) in [("lib: add f", diffs[0]), ("lib: add h", diffs[1])]
        .into_iter()
        .enumerate()
    {
        let number = u32::try_from(number + 1).expect("small");
        out.push_str(&header(number, subject, true));
        out.push_str(&format!(
            "{subject}.\n\nSigned-off-by: Ada Dev <ada@example.org>\n---\n{diff}-- \n2.40.0\n\n"
        ));
    }
    out
}

fn finding(patch: u32, file: &str, line: u32, problem: &str) -> Value {
    json!({
        "patch_index": patch, "file": file, "line_start": line, "line_end": line + 1,
        "severity": "high", "problem": problem,
        "severity_explanation": "scripted", "preexisting": false
    })
}

fn answer(findings: Vec<Value>) -> FakeAnswer {
    FakeAnswer::json(json!({ "findings": findings }))
}

fn by_file(document: &Value) -> Vec<(String, String, Option<i64>)> {
    document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["file"].as_str().expect("file").to_owned(),
                f["carry"].as_str().unwrap_or("none").to_owned(),
                f["earlier_finding_id"].as_i64(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn v2_carries_v1_findings_forward_as_fixed_still_present_and_new() {
    let env = Env::new(init_repo);
    std::fs::write(env.repo().join("v1.mbox"), mbox(1, [V1_LEAK, V1_COPY])).expect("v1");
    std::fs::write(env.repo().join("v2.mbox"), mbox(2, [V2_NO_LEAK, V2_COPY])).expect("v2");
    let v1_script = otherwise_silent(
        FakeScript::new()
            .push(
                "resource",
                answer(vec![finding(1, "lib/a.c", 4, "buf leaks when g() fails")]),
            )
            .push(
                "security",
                answer(vec![finding(
                    2,
                    "lib/b.c",
                    4,
                    "len is not checked against sizeof(dst) before memcpy",
                )]),
            ),
    );
    let fake = FakeLlmServer::start(v1_script).await;
    let first = env.review(Some(&fake.base_url()), &["v1.mbox", "--format", "json"]);
    let v1 = stdout_json(&first);
    assert_eq!(v1["series"]["version"], 1, "{v1}");
    assert!(v1.get("versions").is_none(), "nothing before v1: {v1}");
    assert_eq!(
        by_file(&v1),
        vec![
            ("lib/a.c".to_owned(), "none".to_owned(), None),
            ("lib/b.c".to_owned(), "none".to_owned(), None)
        ]
    );
    let v1_review = ReviewId(v1["review"]["id"].as_i64().expect("id"));
    let store = env.store().await;
    let v1_rows = store.review_finding_notes(v1_review).await.expect("rows");
    store.close().await;
    let v1_ids: Vec<i64> = v1_rows.iter().map(|f| f.id.0).collect();
    assert_eq!(v1_rows.len(), 2);
    let request = fake.requests_for("resource")[0].body.to_string();
    assert!(!request.contains("changes since v1"), "no interdiff on v1");

    // v2: the leak is fixed; the model raises the copy again, in other
    // words, and finds something new.
    fake.set_script(otherwise_silent(
        FakeScript::new()
            .push(
                "security",
                answer(vec![finding(
                    2,
                    "lib/b.c",
                    5,
                    "memcpy copies len bytes into the 8-byte dst",
                )]),
            )
            .push(
                "flow",
                answer(vec![finding(
                    1,
                    "lib/a.c",
                    4,
                    "the error of g() is replaced by -EIO",
                )]),
            )
            .push(
                "report",
                FakeAnswer::json(json!({"comments": [
                    {"id": "R1", "text": WORDED},
                    {"id": "R2", "text": "Looks fine to me."},
                ]})),
            ),
    ));
    let second = env.review(Some(&fake.base_url()), &["v2.mbox", "--format", "json"]);
    let v2 = stdout_json(&second);
    assert_eq!(v2["versions"]["earlier_version"], 1, "{v2}");
    assert_eq!(v2["versions"]["earlier_review_id"], v1_review.0);
    assert_eq!(
        by_file(&v2),
        vec![
            ("lib/a.c".to_owned(), "new".to_owned(), None),
            (
                "lib/b.c".to_owned(),
                "still_present".to_owned(),
                Some(v1_ids[1])
            )
        ]
    );
    // The report stage worded the first comment; the second wording did
    // not match its finding and the finder's text stays.
    assert_eq!(v2["findings"][0]["wording"], WORDED);
    assert!(v2["findings"][1].get("wording").is_none(), "{v2}");
    let report_stage = v2["stages"]
        .as_array()
        .expect("stages")
        .iter()
        .find(|stage| stage["name"] == "report")
        .expect("report stage")
        .clone();
    assert_eq!(report_stage["state"], "ran");
    assert!(
        report_stage["notes"]
            .to_string()
            .contains("R2: wording does not match its finding"),
        "{report_stage}"
    );
    let fixed = v2["versions"]["fixed"].as_array().expect("fixed");
    assert_eq!(fixed.len(), 1, "{v2}");
    assert_eq!(fixed[0]["problem"], "buf leaks when g() fails");
    assert_eq!(fixed[0]["earlier_finding_id"], v1_ids[0]);
    assert_eq!(fixed[0]["carry"], "fixed");
    assert_eq!(
        (
            v2["versions"]["new"].as_u64(),
            v2["versions"]["still_present"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(
        v2["versions"]["interdiff_files"],
        json!(["lib/a.c", "lib/b.c"])
    );
    // The stages saw the interdiff, in the shared prefix.
    for stage in ["resource", "security", "verify"] {
        let request = fake
            .requests_for(stage)
            .last()
            .expect("asked")
            .body
            .to_string();
        assert!(request.contains("changes since v1 of lib/a.c"), "{stage}");
        assert!(request.contains("+\\t\\tkfree(buf);"), "{stage}: {request}");
        assert!(request.contains("+\\t/* copy the name */"), "{stage}");
    }

    // The store keeps all three, with what became of each.
    let v2_review = ReviewId(v2["review"]["id"].as_i64().expect("id"));
    let store = env.store().await;
    assert_eq!(
        store.earlier_review_of(v2_review).await.expect("earlier"),
        Some(v1_review)
    );
    // The interdiff is stored with the review, and it is the text the
    // stages were shown (the web's series page renders this).
    let stored = store
        .review_detail(v2_review.0)
        .await
        .expect("read the review")
        .expect("the review")
        .review
        .interdiff
        .expect("an interdiff stored with the v2 review");
    assert_eq!(stored.earlier_version, 1);
    let files: Vec<&str> = stored.files.iter().map(|f| f.file.as_str()).collect();
    assert_eq!(files, ["lib/a.c", "lib/b.c"]);
    let request = fake
        .requests_for("resource")
        .last()
        .expect("asked")
        .body
        .to_string();
    for file in &stored.files {
        let escaped = serde_json::to_string(&file.text).expect("JSON");
        assert!(
            request.contains(escaped.trim_matches('"')),
            "the stored interdiff of {} is what the stages saw:\n{}\nin\n{request}",
            file.file,
            file.text
        );
    }
    let wordings: Vec<Option<String>> = store
        .review_finding_notes(v2_review)
        .await
        .expect("rows")
        .into_iter()
        .map(|f| f.notes.wording)
        .collect();
    assert_eq!(wordings, vec![Some(WORDED.to_owned()), None, None]);
    let rows: Vec<(String, String, Option<String>, Option<i64>)> = store
        .review_finding_notes(v2_review)
        .await
        .expect("rows")
        .into_iter()
        .map(|f| {
            (
                f.file,
                f.notes.status().to_owned(),
                f.notes.carry,
                f.notes.earlier_finding.map(|id| id.0),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                "lib/a.c".into(),
                "reported".into(),
                Some("new".into()),
                None
            ),
            (
                "lib/b.c".into(),
                "reported".into(),
                Some("still_present".into()),
                Some(v1_ids[1])
            ),
            (
                "lib/a.c".into(),
                "fixed".into(),
                Some("fixed".into()),
                Some(v1_ids[0])
            ),
        ]
    );
    assert_eq!(
        store
            .review_findings(v2_review)
            .await
            .expect("reported")
            .len(),
        2,
        "the fixed one is not in the reply's findings"
    );
    store.close().await;

    // Text output says the same.
    fake.set_script(otherwise_silent(FakeScript::new()));
    let text = env.review(Some(&fake.base_url()), &["v2.mbox"]);
    let text = String::from_utf8_lossy(&text.stdout);
    // This time the model raises nothing and the verify step confirms
    // nothing: the copy is only "not raised again" (issue 15: code alone
    // never says a bug is still there), the leak stays fixed by the
    // re-check.
    assert!(
        text.contains(
            "Since v1 (review 1): 0 new, 0 still present, 1 fixed, 1 not raised again; changed files: lib/a.c, lib/b.c"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "not raised again in v2, not reported: v1 patch 2 lib/b.c:4-5  security: len is not checked against sizeof(dst) before memcpy"
        ),
        "{text}"
    );
    assert!(!text.contains("[still present from v1]"), "{text}");
    assert!(
        !text.contains("---- inline reply"),
        "nothing to reply: {text}"
    );
    assert!(
        text.contains("fixed in v2: v1 patch 1 lib/a.c:4-5  resource: buf leaks when g() fails"),
        "{text}"
    );
}

/// Patch 2 of the same series turns patch 1's leaking return into a jump
/// to the free: written against lib/a.c after V1_LEAK.
const FIX_IN_SERIES: &str = "diff --git a/lib/a.c b/lib/a.c
index 2222222..7777777 100644
--- a/lib/a.c
+++ b/lib/a.c
@@ -3,7 +3,8 @@ int f(void)
 	char *buf = kmalloc(16, GFP_KERNEL);
 	if (g())
-		return -EIO;
+		goto out;
 	use(buf);
+out:
 	kfree(buf);
 	return 0;
 }
";

#[tokio::test(flavor = "multi_thread")]
async fn a_finding_a_later_patch_fixes_is_stored_and_counted_not_reported() {
    let env = Env::new(init_repo);
    std::fs::write(
        env.repo().join("series.mbox"),
        mbox(1, [V1_LEAK, FIX_IN_SERIES]),
    )
    .expect("mbox");
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new().push(
        "resource",
        answer(vec![finding(1, "lib/a.c", 4, "buf leaks when g() fails")]),
    )))
    .await;
    let output = env.review(Some(&fake.base_url()), &["series.mbox", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "nothing reported, exit 0");
    let document = stdout_json(&output);
    assert_eq!(document["findings"], json!([]), "{document}");
    assert_eq!(document["dropped"]["fixed_later"], 1);
    let fixed_later = &document["fixed_later"][0];
    assert_eq!(fixed_later["problem"], "buf leaks when g() fails");
    assert!(
        fixed_later["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("fixed later in the series: patch 2 changes")),
        "{fixed_later}"
    );
    assert!(
        fake.requests_for("report").is_empty(),
        "nothing to word when nothing is reported"
    );
    let review = ReviewId(document["review"]["id"].as_i64().expect("id"));
    let store = env.store().await;
    let rows: Vec<(String, String)> = store
        .review_finding_notes(review)
        .await
        .expect("rows")
        .into_iter()
        .map(|f| (f.file, f.notes.status().to_owned()))
        .collect();
    assert_eq!(rows, vec![("lib/a.c".to_owned(), "fixed_later".to_owned())]);
    assert!(store
        .review_findings(review)
        .await
        .expect("reported")
        .is_empty());
    store.close().await;
    let text = env.review(None, &["series.mbox"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        !text.contains("---- inline reply"),
        "no reply for a fixed-later finding: {text}"
    );
}
