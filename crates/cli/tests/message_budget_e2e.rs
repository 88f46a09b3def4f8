//! Issue 21 item 3: commit messages escaped the token budget. A commit
//! with a 50 MB message made each of 8 stage requests 53 MB although the
//! plan said 118,255 tokens. The real binary reviews such a commit against
//! the fake model; every request must stay within the stage budget, and
//! the review must say the message was shortened.

mod common;

use std::path::Path;

use common::{git, init_repo, otherwise_silent, Env};
use sashiko_llm_fake::{FakeLlmServer, FakeScript};

const MESSAGE_BYTES: usize = 50 << 20;

fn huge_message_repo(dir: &Path) {
    init_repo(dir);
    std::fs::write(dir.join("util.c"), "int util(int x)\n{\n\treturn x;\n}\n").expect("write");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "util: add"]);
    std::fs::write(
        dir.join("util.c"),
        "int util(int x)\n{\n\treturn x + 1;\n}\n",
    )
    .expect("write");
    let line = "This line repeats until the commit message is fifty megabytes long.\n";
    let mut message = String::from("util: add one\n\n");
    while message.len() < MESSAGE_BYTES {
        message.push_str(line);
    }
    message.push_str("\nSigned-off-by: Ada Dev <ada@example.org>\n");
    let file = dir.join("../message.txt");
    std::fs::write(&file, message).expect("write the message");
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-F", "../message.txt"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fifty_megabyte_commit_message_stays_within_the_budget() {
    let env = Env::new(huge_message_repo);
    let fake = FakeLlmServer::start(otherwise_silent(FakeScript::new())).await;
    let output = env.review(Some(&fake.base_url()), &["HEAD~1..", "--format", "json"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    let requests = fake.requests();
    assert!(requests.len() >= 5, "{} requests", requests.len());
    let sizes: Vec<usize> = requests.iter().map(|r| r.body.to_string().len()).collect();
    let total_bytes: usize = sizes.iter().sum();
    let counter = sashiko_llm::tokens::TokenCounter::uncalibrated();
    let total_tokens: u64 = requests
        .iter()
        .map(|r| counter.text(&r.body.to_string()))
        .sum();
    eprintln!(
        "50 MB commit message: {} requests, {total_bytes} bytes and {total_tokens} tokens sent in all, largest request {} bytes",
        requests.len(),
        sizes.iter().max().copied().unwrap_or(0)
    );
    // The default stage budget is 32,000 tokens: no request comes near
    // the message's size.
    for (request, size) in requests.iter().zip(&sizes) {
        assert!(*size < 400_000, "stage {} sent {size} bytes", request.stage);
    }
    assert!(total_tokens < 400_000, "{total_tokens} tokens in all");
    assert!(
        stderr.contains("patch 1's commit message (") && stderr.contains("shortened to its first"),
        "the review says the message was shortened; stderr: {stderr}"
    );
    fake.stop().await;
}
