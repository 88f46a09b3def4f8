//! End to end: a patch that drops the smp_wmb() between publishing data
//! and setting a flag. The scripted model states the ordering claim as a
//! litmus test (first unparsable, then corrected after the parse error is
//! sent back); the LKMM checker refutes it and the finding carries the test
//! and the verdict.

mod common;

use std::path::Path;

use common::{git, init_repo, otherwise_silent, stdout_json, Env};
use sashiko_llm_fake::{FakeAnswer, FakeLlmServer, FakeScript};
use serde_json::json;

const BEFORE: &str = "static int data;\nstatic int ready;\n\nvoid publish(int value)\n{\n\tWRITE_ONCE(data, value);\n\tsmp_wmb();\n\tWRITE_ONCE(ready, 1);\n}\n\nint consume(void)\n{\n\tif (!READ_ONCE(ready))\n\t\treturn -EAGAIN;\n\tsmp_rmb();\n\treturn READ_ONCE(data);\n}\n";

fn repo_dropping_a_barrier(dir: &Path) {
    init_repo(dir);
    std::fs::create_dir_all(dir.join("kernel")).expect("mkdir");
    std::fs::write(dir.join("kernel/pub.c"), BEFORE).expect("write");
    git(dir, &["add", "."]);
    git(
        dir,
        &[
            "commit",
            "-q",
            "-m",
            "pub: add\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
    std::fs::write(
        dir.join("kernel/pub.c"),
        BEFORE.replace("\tsmp_wmb();\n", ""),
    )
    .expect("write");
    git(
        dir,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "pub: drop a barrier x86 does not need\n\nSigned-off-by: Ada Dev <ada@example.org>",
        ],
    );
}

const MP_TEST: &str = "C pub-without-wmb\n\n{}\n\nP0(int *data, int *ready)\n{\n\tWRITE_ONCE(*data, 1);\n\tWRITE_ONCE(*ready, 1);\n}\n\nP1(int *data, int *ready)\n{\n\tint r0;\n\tint r1;\n\n\tr0 = READ_ONCE(*ready);\n\tsmp_rmb();\n\tr1 = READ_ONCE(*data);\n}\n\nexists (1:r0=1 /\\ 1:r1=0)\n";

fn claim(litmus: &str) -> serde_json::Value {
    json!({"findings": [], "litmus_claims": [{
        "patch_index": 1, "file": "kernel/pub.c", "line_start": 6, "line_end": 7,
        "claim": "a consumer that sees ready set also sees the new data",
        "litmus": litmus
    }]})
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dropped_barrier_is_refuted_by_the_litmus_checker() {
    let env = Env::new(repo_dropping_a_barrier);
    let script = otherwise_silent(
        FakeScript::new()
            .push(
                "memory-ordering",
                FakeAnswer::json(claim("C broken\n{\nP0(int *x\n")),
            )
            .push("memory-ordering", FakeAnswer::json(claim(MP_TEST))),
    );
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let document = stdout_json(&output);
    let findings = document["findings"].as_array().expect("findings");
    let ordering: Vec<_> = findings
        .iter()
        .filter(|f| f["stage"] == "memory-ordering")
        .collect();
    assert_eq!(ordering.len(), 1, "{findings:#?}");
    let evidence = &ordering[0]["evidence"][0];
    assert_eq!(evidence["kind"], "litmus");
    assert_eq!(evidence["test"], MP_TEST);
    assert!(
        evidence["verdict"]
            .as_str()
            .expect("verdict")
            .starts_with("Sometimes"),
        "{evidence}"
    );
    assert_eq!(ordering[0]["severity"], "high");
    // The unparsable first test went back to the model with the parse error.
    let stage_requests = fake.requests_for("memory-ordering");
    assert_eq!(stage_requests.len(), 2);
    let follow_up = stage_requests[1].body.to_string();
    assert!(follow_up.contains("could not be parsed"), "{follow_up}");
}

/// Issue 15, case 3: the finding says "the litmus test below reaches the
/// bad outcome", so the text output shows that test and the checker's
/// verdict with its counts: the verdict under the finding line, the test
/// under the comment of the inline reply (the mail the bot would send).
#[tokio::test(flavor = "multi_thread")]
async fn text_output_prints_the_litmus_test_and_verdict_under_the_finding() {
    let env = Env::new(repo_dropping_a_barrier);
    let script = otherwise_silent(
        FakeScript::new().push("memory-ordering", FakeAnswer::json(claim(MP_TEST))),
    );
    let fake = FakeLlmServer::start(script).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1.."]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let finding_line = text
        .lines()
        .position(|line| line.contains("memory-ordering: The code relies on this ordering"))
        .unwrap_or_else(|| panic!("no memory-ordering finding in\n{text}"));
    let under = text.lines().nth(finding_line + 1).unwrap_or_default();
    assert!(
        under
            .trim_start()
            .starts_with("LKMM checker verdict: Sometimes (positive 1, negative 3"),
        "verdict with counts under the finding: {under:?}\n{text}"
    );
    let reply = text
        .split_once("---- inline reply to [1/1]")
        .map(|(_, reply)| reply)
        .unwrap_or_else(|| panic!("no inline reply in\n{text}"));
    let comment = reply.find("litmus test below").expect("the comment");
    for line in [
        "    C pub-without-wmb",
        "        WRITE_ONCE(*data, 1);",
        "        r0 = READ_ONCE(*ready);",
        "    exists (1:r0=1 /\\ 1:r1=0)",
        "LKMM checker verdict: Sometimes (positive 1, negative 3",
    ] {
        let at = reply
            .find(line)
            .unwrap_or_else(|| panic!("no {line:?} in the reply:\n{reply}"));
        assert!(at > comment, "{line:?} is under the comment:\n{reply}");
    }
}
