//! End to end, issue 15 case 1: v1 of a three-patch series leaked `item`
//! when the ring was full; v2 moved kmalloc() after the space check and
//! the model did not raise the leak again. The v2 review still reported
//! "resource [still present from v1]: item allocated with kmalloc() above
//! is leaked when the ring is full", and its inline reply said so.
//!
//! Rebuilt with scripted answers: v1's stages raise the leak (patch 2), an
//! unchecked head (patch 1) and an ignored return value (patch 3); v2's
//! stages raise nothing. On v2, the leak is fixed (the re-check of v2's
//! foo_ring_push() finds the allocation freed, returned or stored on every
//! return), the unchecked head is still present because the verify step,
//! given the interdiff and the v1 finding, confirms it, and the ignored
//! return value is only "not raised again": listed with its v1 text, never
//! reported or put in the reply. The web's series page for v2 shows both
//! versions and the same carried states.

mod common;

use std::process::{Child, Command, Stdio};

use common::{init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_store::ReviewId;
use serde_json::{json, Value};

const RING: &str = "diff --git a/lib/foo_ring.c b/lib/foo_ring.c
new file mode 100644
index 0000000..1111111
--- /dev/null
+++ b/lib/foo_ring.c
@@ -0,0 +1,13 @@
+#include <linux/slab.h>
+
+struct foo_ring {
+\tunsigned int head;
+\tunsigned int count;
+\tstruct foo_item *slots[FOO_RING_SIZE];
+};
+
+void foo_ring_reset(struct foo_ring *ring, unsigned int head)
+{
+\tring->head = head;
+\tring->count = 0;
+}
";

/// v1 patch 2: lines 14-27; the allocation comes before the space check.
const PUSH_V1: &str = "diff --git a/lib/foo_ring.c b/lib/foo_ring.c
index 1111111..2222222 100644
--- a/lib/foo_ring.c
+++ b/lib/foo_ring.c
@@ -11,3 +11,17 @@ void foo_ring_reset(struct foo_ring *ring, unsigned int head)
 \tring->head = head;
 \tring->count = 0;
 }
+
+int foo_ring_push(struct foo_ring *ring, int value)
+{
+\tstruct foo_item *item = kmalloc(sizeof(*item), GFP_KERNEL);
+
+\tif (!item)
+\t\treturn -ENOMEM;
+\tif (ring->count == FOO_RING_SIZE)
+\t\treturn -ENOSPC;
+\titem->value = value;
+\tring->slots[ring->head++] = item;
+\tring->count++;
+\treturn 0;
+}
";

/// v2 patch 2: the allocation after the check.
const PUSH_V2: &str = "diff --git a/lib/foo_ring.c b/lib/foo_ring.c
index 1111111..3333333 100644
--- a/lib/foo_ring.c
+++ b/lib/foo_ring.c
@@ -11,3 +11,17 @@ void foo_ring_reset(struct foo_ring *ring, unsigned int head)
 \tring->head = head;
 \tring->count = 0;
 }
+
+int foo_ring_push(struct foo_ring *ring, int value)
+{
+\tstruct foo_item *item;
+\tif (ring->count == FOO_RING_SIZE)
+\t\treturn -ENOSPC;
+\titem = kmalloc(sizeof(*item), GFP_KERNEL);
+\tif (!item)
+\t\treturn -ENOMEM;
+\titem->value = value;
+\tring->slots[ring->head++] = item;
+\tring->count++;
+\treturn 0;
+}
";

/// Patch 3 (both versions): lines 28-32.
const NOTIFY: &str = "diff --git a/lib/foo_ring.c b/lib/foo_ring.c
index 2222222..4444444 100644
--- a/lib/foo_ring.c
+++ b/lib/foo_ring.c
@@ -25,3 +25,8 @@ int foo_ring_push(struct foo_ring *ring, int value)
 \tring->count++;
 \treturn 0;
 }
+
+void foo_ring_notify(struct foo_ring *ring)
+{
+\tfoo_ring_kick(ring);
+}
";

const LEAK: &str = "item allocated with kmalloc() above is leaked when the ring is full";
const HEAD: &str = "head is not checked against FOO_RING_SIZE before it indexes slots";
const KICK: &str = "the return value of foo_ring_kick() is ignored";

/// A cover letter and three patches threaded under it.
fn mbox(version: u32, push: &str) -> String {
    let tag = if version == 1 {
        "PATCH".to_owned()
    } else {
        format!("PATCH v{version}")
    };
    let header = |number: u32, subject: &str| {
        let mut text = format!(
            "From mboxrd@z Thu Jan  1 00:00:00 1970\nMessage-ID: <ring-v{version}-{number}@example.org>\n\
             From: Ada Dev <ada@example.org>\nTo: linux-kernel@vger.kernel.org\n\
             Date: Thu, 2 Jan 2025 10:0{number}:00 +0000\nSubject: [{tag} {number}/3] {subject}\n"
        );
        if number > 0 {
            text.push_str(&format!(
                "In-Reply-To: <ring-v{version}-0@example.org>\nReferences: <ring-v{version}-0@example.org>\n"
            ));
        }
        text.push('\n');
        text
    };
    let mut out = header(0, "foo_ring: a ring of items");
    out.push_str("A ring of items.\n\n");
    for (number, (subject, diff)) in [
        ("foo_ring: add the ring", RING),
        ("foo_ring: push items", push),
        ("foo_ring: notify", NOTIFY),
    ]
    .into_iter()
    .enumerate()
    {
        let number = u32::try_from(number + 1).expect("small");
        out.push_str(&header(number, subject));
        out.push_str(&format!(
            "{subject}.\n\nSigned-off-by: Ada Dev <ada@example.org>\n---\n{diff}-- \n2.40.0\n\n"
        ));
    }
    out
}

fn finding(patch: u32, line: u32, severity: &str, problem: &str) -> Value {
    json!({
        "patch_index": patch, "file": "lib/foo_ring.c", "line_start": line, "line_end": line + 1,
        "severity": severity, "problem": problem,
        "severity_explanation": "scripted", "preexisting": false
    })
}

fn answer(findings: Vec<Value>) -> FakeAnswer {
    FakeAnswer::json(json!({ "findings": findings }))
}

fn v1_script() -> FakeScript {
    otherwise_silent(
        FakeScript::new()
            .push("security", answer(vec![finding(1, 11, "medium", HEAD)]))
            .push("resource", answer(vec![finding(2, 21, "high", LEAK)]))
            .push("flow", answer(vec![finding(3, 31, "medium", KICK)])),
    )
}

/// v2: every finder is silent; the verify step confirms the first carried
/// finding (the unchecked head) and says nothing of the second.
fn v2_script() -> FakeScript {
    otherwise_silent(FakeScript::new().push(
        "verify",
        FakeAnswer::json(json!({"decisions": [
            {"id": "F1", "action": "keep", "reason": "v2 still stores head without checking it"}
        ]})),
    ))
}

/// `sashiko serve` on the review's database, web only.
struct Serve {
    child: Child,
    base: String,
}

impl Serve {
    fn start(env: &Env) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sashiko"))
            .args(["serve", "--listen", "127.0.0.1:0", "--cache-ttl-ms", "0"])
            .current_dir(env.repo())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", env.repo().join(".."))
            .env("SASHIKO_CONFIG", env.repo().join("../config.toml"))
            .env("SASHIKO_DB", env.db_url())
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("sashiko serve starts");
        let base = common::served_address(&mut child);
        Serve { child, base }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn v2_never_reports_a_v1_bug_its_review_did_not_raise_or_confirm() {
    let env = Env::new(init_repo);
    std::fs::write(env.repo().join("v1.mbox"), mbox(1, PUSH_V1)).expect("v1");
    std::fs::write(env.repo().join("v2.mbox"), mbox(2, PUSH_V2)).expect("v2");
    let fake = FakeLlmServer::start(v1_script()).await;
    let first = env.review(Some(&fake.base_url()), &["v1.mbox", "--format", "json"]);
    let v1 = stdout_json(&first);
    let v1_problems: Vec<&str> = v1["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["problem"].as_str())
        .collect();
    assert_eq!(v1_problems, [HEAD, LEAK, KICK], "{v1:#}");
    let v1_review = ReviewId(v1["review"]["id"].as_i64().expect("id"));
    let store = env.store().await;
    let v1_ids: Vec<i64> = store
        .review_finding_notes(v1_review)
        .await
        .expect("rows")
        .iter()
        .map(|f| f.id.0)
        .collect();
    store.close().await;

    fake.set_script(v2_script());
    let second = env.review(Some(&fake.base_url()), &["v2.mbox", "--format", "json"]);
    assert_eq!(
        second.status.code(),
        Some(0),
        "only the medium head finding is reported: {}",
        String::from_utf8_lossy(&second.stderr)
    );
    let v2 = stdout_json(&second);
    let reported: Vec<(&str, &str, Option<i64>)> = v2["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["problem"].as_str().unwrap_or(""),
                f["carry"].as_str().unwrap_or(""),
                f["earlier_finding_id"].as_i64(),
            )
        })
        .collect();
    assert_eq!(
        reported,
        vec![(HEAD, "still_present", Some(v1_ids[0]))],
        "{v2:#}"
    );
    let versions = &v2["versions"];
    assert_eq!(versions["earlier_version"], 1);
    let fixed = versions["fixed"].as_array().expect("fixed");
    assert_eq!(fixed.len(), 1, "{versions:#}");
    assert_eq!(fixed[0]["problem"], LEAK);
    assert!(
        fixed[0]["reason"].as_str().is_some_and(|reason| reason.contains(
            "in v2 foo_ring_push() passes the re-check of allocation freed, returned or stored on every return"
        )),
        "{fixed:#?}"
    );
    let not_raised = versions["not_raised_again"]
        .as_array()
        .expect("not_raised_again");
    assert_eq!(not_raised.len(), 1, "{versions:#}");
    assert_eq!(not_raised[0]["problem"], KICK);
    assert_eq!(not_raised[0]["earlier_finding_id"], v1_ids[2]);
    assert_eq!(
        (versions["new"].as_u64(), versions["still_present"].as_u64()),
        (Some(0), Some(1))
    );
    // The verify step was given the interdiff and the v1 findings it was
    // asked to confirm.
    let confirm = fake
        .requests_for("verify")
        .last()
        .expect("a verify request")
        .body
        .to_string();
    assert!(confirm.contains("changes since v1"), "{confirm}");
    assert!(
        confirm.contains(HEAD) && confirm.contains(KICK),
        "{confirm}"
    );
    assert!(!confirm.contains(LEAK), "the fixed one is not asked about");

    let v2_review = ReviewId(v2["review"]["id"].as_i64().expect("id"));
    let store = env.store().await;
    let rows: Vec<(String, String, Option<String>)> = store
        .review_finding_notes(v2_review)
        .await
        .expect("rows")
        .into_iter()
        .map(|f| (f.problem, f.notes.status().to_owned(), f.notes.carry))
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                HEAD.to_owned(),
                "reported".to_owned(),
                Some("still_present".to_owned())
            ),
            (
                LEAK.to_owned(),
                "fixed".to_owned(),
                Some("fixed".to_owned())
            ),
            (
                KICK.to_owned(),
                "not_raised_again".to_owned(),
                Some("not_raised_again".to_owned())
            ),
        ]
    );
    let v2_version = store
        .review_detail(v2_review.0)
        .await
        .expect("read")
        .expect("the review")
        .review
        .series_version_id;
    store.close().await;

    // The text output: the same states, and the reply holds only the
    // confirmed finding.
    fake.set_script(v2_script());
    let text = env.review(Some(&fake.base_url()), &["v2.mbox"]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(
            "Since v1 (review 1): 0 new, 1 still present, 1 fixed, 1 not raised again; changed files: lib/foo_ring.c"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!("[still present from v1]: {HEAD}")),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  not raised again in v2, not reported: v1 patch 3 lib/foo_ring.c:31-32  flow: {KICK}"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "  fixed in v2: v1 patch 2 lib/foo_ring.c:21-22  resource: {LEAK}"
        )),
        "{text}"
    );
    assert!(
        !text.contains(&format!("[still present from v1]: {LEAK}")),
        "{text}"
    );
    let reply = text
        .split_once("---- inline reply")
        .map(|(_, reply)| reply)
        .unwrap_or_else(|| panic!("a reply for the confirmed finding: {text}"));
    assert!(reply.contains(HEAD), "{reply}");
    assert!(
        !reply.contains("leaked") && !reply.contains("foo_ring_kick() is ignored"),
        "the reply never claims a bug v2 fixed or did not raise: {reply}"
    );

    // The web's series page for v2: both versions, and the carried states.
    let serve = Serve::start(&env);
    let page = reqwest::get(format!("{}/series/{v2_version}", serve.base))
        .await
        .expect("GET the series page")
        .text()
        .await
        .expect("body");
    let versions_table = page
        .split("id=\"versions\"")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap_or_else(|| panic!("no versions table: {page}"));
    assert!(
        versions_table.contains(">v1</a>") && versions_table.contains("<strong>v2</strong>"),
        "{versions_table}"
    );
    let v2_row = versions_table
        .split("<strong>v2</strong>")
        .nth(1)
        .and_then(|rest| rest.split("</tr>").next())
        .unwrap_or_default();
    assert!(
        !v2_row.contains("first version"),
        "v2 is not the first version: {versions_table}"
    );
    assert!(
        page.contains("still present from v1"),
        "carried state on the page: {page}"
    );
    let kept = page
        .split("id=\"unreported-3\"")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .unwrap_or_else(|| panic!("no unreported list for patch 3: {page}"));
    assert!(
        kept.contains("Not reported (not raised again)") && kept.contains(KICK),
        "{kept}"
    );
    let fixed_on_page = page
        .split("id=\"unreported-2\"")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .unwrap_or_else(|| panic!("no unreported list for patch 2: {page}"));
    assert!(
        fixed_on_page.contains("Not reported (fixed)") && fixed_on_page.contains("re-check"),
        "{fixed_on_page}"
    );
}
