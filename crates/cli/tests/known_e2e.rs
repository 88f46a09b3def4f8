//! End to end, issue 15 case 2: `/* TODO: item leaks when the ring is
//! full */` in foo_ring_push() hid the leak and also a high
//! memory-ordering finding three lines away, only because both mention
//! "ring"; and the report said only "Known issues not reported again: 2".
//!
//! Rebuilt with scripted answers: the resource stage raises the leak the
//! TODO names, the memory-ordering stage a high ordering finding beside
//! it. The leak is known (listed with its reason in text and JSON, stored
//! as `known` with the reason); the ordering finding is reported.

mod common;

use std::path::Path;

use common::{git, init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use sashiko_store::ReviewId;
use serde_json::json;

const BASE: &str = "#include <linux/slab.h>\n\nstruct foo_ring {\n\tint head;\n\tint count;\n\tstruct foo_item *slots[FOO_RING_SIZE];\n};\n\nint foo_ring_push(struct foo_ring *ring, int value)\n{\n\treturn 0;\n}\n";

/// Lines 11-17 of the patched file.
const PUSH: &str = "\tstruct foo_item *item = kmalloc(sizeof(*item), GFP_KERNEL);\n\t/* TODO: item leaks when the ring is full */\n\tif (ring->count == FOO_RING_SIZE)\n\t\treturn -ENOSPC;\n\titem->value = value;\n\tWRITE_ONCE(ring->slots[ring->head], item);\n\tWRITE_ONCE(ring->head, ring->head + 1);\n";

fn ring_repo(dir: &Path) {
    init_repo(dir);
    std::fs::create_dir_all(dir.join("lib")).expect("mkdir");
    std::fs::write(dir.join("lib/foo_ring.c"), BASE).expect("write");
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "foo_ring: add\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    let patched = BASE.replace("{\n\treturn 0;", &format!("{{\n{PUSH}\treturn 0;"));
    std::fs::write(dir.join("lib/foo_ring.c"), patched).expect("write");
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "foo_ring: store items\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
}

const LEAK: &str = "item allocated with kmalloc() above is leaked when the ring is full";
const ORDERING: &str = "The consumer can see the new ring head before the item pointer stored in the ring slot is visible: publish the head with smp_store_release()";

fn script() -> FakeScript {
    otherwise_silent(
        FakeScript::new()
            .push(
                "resource",
                FakeAnswer::json(json!({"findings": [{
                    "patch_index": 1, "file": "lib/foo_ring.c", "line_start": 11, "line_end": 14,
                    "severity": "medium", "problem": LEAK,
                    "severity_explanation": "memory is lost on every full ring", "preexisting": false
                }]})),
            )
            .push(
                "memory-ordering",
                FakeAnswer::json(json!({"findings": [{
                    "patch_index": 1, "file": "lib/foo_ring.c", "line_start": 16, "line_end": 17,
                    "severity": "high", "problem": ORDERING,
                    "severity_explanation": "a consumer reads an uninitialised slot", "preexisting": false
                }], "litmus_claims": []})),
            ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_todo_hides_only_the_leak_it_names_and_says_so_everywhere() {
    let env = Env::new(ring_repo);
    let fake = FakeLlmServer::start(script()).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "the high ordering finding is reported: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = stdout_json(&output);
    let reported: Vec<(&str, &str)> = document["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["stage"].as_str().unwrap_or(""),
                f["problem"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(reported, vec![("memory-ordering", ORDERING)], "{document}");
    assert_eq!(document["dropped"]["known"], 1);
    let known = document["known"].as_array().expect("known listed");
    assert_eq!(known.len(), 1, "{document}");
    assert_eq!(known[0]["problem"], LEAK);
    assert_eq!(known[0]["stage"], "resource");
    assert_eq!(
        known[0]["reason"],
        "annotated in the code at lib/foo_ring.c:12 in foo_ring_push(), naming the same leak: /* TODO: item leaks when the ring is full */"
    );

    let review = ReviewId(document["review"]["id"].as_i64().expect("id"));
    let store = env.store().await;
    let rows: Vec<(String, Option<String>)> = store
        .review_finding_notes(review)
        .await
        .expect("rows")
        .into_iter()
        .map(|f| (f.notes.status().to_owned(), f.notes.status_reason))
        .collect();
    assert_eq!(
        rows,
        vec![
            ("reported".to_owned(), None),
            (
                "known".to_owned(),
                known[0]["reason"].as_str().map(str::to_owned)
            ),
        ]
    );
    store.close().await;

    fake.set_script(script());
    let text = env.review(Some(&fake.base_url()), &["HEAD~1.."]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains(&format!(
            "Known issues not reported again: 1\n  [1] medium   lib/foo_ring.c:11-14  resource: {LEAK}\n      why: annotated in the code at lib/foo_ring.c:12 in foo_ring_push()"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("memory-ordering: {ORDERING}")),
        "{text}"
    );
}
