//! Snapshot tests of rendered reply mails against committed golden files
//! in tests/golden/ (regenerate with SASHIKO_UPDATE_GOLDEN=1 and review the
//! diff like code). Each case also checks the invariants that must hold
//! for every reply whatever the snapshot says.

use std::path::Path;

use sashiko_report::mailhdr::Mailbox;
use sashiko_report::reply::{render_reply, MailKind, PatchMail, ReplyMeta, ReplyTree};
use sashiko_review::{Finding, ReviewPatch, Severity};

const DIFF: &str = "diff --git a/io_uring/net.c b/io_uring/net.c
index 1111111..2222222 100644
--- a/io_uring/net.c
+++ b/io_uring/net.c
@@ -100,14 +100,18 @@ int io_send_setup(struct io_kiocb *req, const struct io_uring_sqe *sqe)
 {
 	struct io_sr_msg *sr = io_kiocb_to_cmd(req, struct io_sr_msg);
 	struct io_async_msghdr *kmsg;
+	void *buf;
 
 	sr->done_io = 0;
 	sr->len = READ_ONCE(sqe->len);
 	sr->flags = READ_ONCE(sqe->ioprio);
+	buf = kmalloc(sr->len, GFP_KERNEL);
+	if (!buf)
+		return -ENOMEM;
 	if (sr->flags & ~SENDMSG_FLAGS)
 		return -EINVAL;
 	sr->msg_flags = READ_ONCE(sqe->msg_flags) | MSG_NOSIGNAL;
 	if (sr->msg_flags & MSG_DONTWAIT)
 		req->flags |= REQ_F_NOWAIT;
 	kmsg = io_msg_alloc_async(req);
 	return 0;
 }
@@ -300,6 +304,7 @@ static int io_send_finish(struct io_kiocb *req)
 	int ret;
 
 	ret = sock_sendmsg(sock, &msg);
+	io_req_set_res(req, ret, 0);
 	if (ret < 0)
 		return ret;
 	return 0;
";

fn finding(
    line_start: u32,
    line_end: u32,
    severity: Severity,
    problem: &str,
    preexisting: bool,
) -> Finding {
    Finding {
        patch_index: 2,
        file: "io_uring/net.c".into(),
        line_start,
        line_end,
        stage: "resource".into(),
        severity,
        problem: problem.into(),
        severity_explanation: String::new(),
        preexisting,
        locations: vec![],
        evidence: vec![],
        suggestion: None,
        consensus: 1,
    }
}

fn patch() -> ReviewPatch {
    ReviewPatch {
        index: 2,
        subject: "io_uring/net: allocate a bounce buffer".into(),
        author: "Ada Dev <ada@example.org>".into(),
        message_id: Some("20250102.2-ada@example.org".into()),
        commit_id: None,
        commit_message: "Why.".into(),
        diff: DIFF.into(),
    }
}

fn mail(author: &str, subject: &str) -> PatchMail {
    PatchMail {
        message_id: "20250102.2-ada@example.org".into(),
        subject: subject.into(),
        references: vec!["20250102.0-ada@example.org".into()],
        author: Mailbox::parse(author).expect("author"),
        date: Some(1_735_812_000),
    }
}

fn meta(missing: Vec<u32>) -> ReplyMeta {
    ReplyMeta {
        review_id: 42,
        model: "fake-model".into(),
        prompt_set: "0123456789abcdef0123".into(),
        web_url: Some("https://sashiko.example/review/42".into()),
        from: Mailbox::parse("Sashiko <sashiko@bot.example>").expect("bot"),
        now: 1_735_815_600,
        missing,
        notes: Vec::new(),
        tree: None,
    }
}

fn check(name: &str, rendered: &[u8]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.eml"));
    if std::env::var_os("SASHIKO_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, rendered).expect("write golden");
    }
    let expected = std::fs::read(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden {}; run with SASHIKO_UPDATE_GOLDEN=1",
            path.display()
        )
    });
    assert_eq!(
        String::from_utf8_lossy(rendered),
        String::from_utf8_lossy(&expected),
        "{name}: rendered mail differs from {}",
        path.display()
    );
}

fn invariants(name: &str, bytes: &[u8]) {
    let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("header and body");
    for header in [
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "Auto-Submitted: auto-generated",
        "In-Reply-To: <20250102.2-ada@example.org>",
        "References: <20250102.0-ada@example.org>\r\n <20250102.2-ada@example.org>",
        "X-Sashiko-Review: sashiko/",
    ] {
        assert!(
            head.contains(header),
            "{name}: missing {header:?} in\n{head}"
        );
    }
    assert!(
        text.split("\r\n")
            .all(|line| !line.contains('\n') && !line.contains('\r')),
        "{name}: CRLF only"
    );
    let lower = body.to_ascii_lowercase();
    for trailer in ["reviewed-by:", "acked-by:", "tested-by:"] {
        assert!(
            !lower.lines().any(|l| l.trim_start().starts_with(trailer)),
            "{name}: approval trailer"
        );
    }
    let mut in_signature = false;
    for line in body.split("\r\n") {
        in_signature |= line == "-- ";
        let quoted = line.starts_with('>');
        if !quoted && !in_signature && !line.contains("://") {
            assert!(
                line.chars().count() <= 75,
                "{name}: prose line over 75 columns: {line:?}"
            );
        }
    }
}

#[test]
fn reply_with_findings_quotes_only_commented_hunks() {
    let leak = finding(108, 112, Severity::High, "Is buf freed anywhere? Every return below the kmalloc() leaks it, including the -EINVAL path right after the allocation, and nothing stores it in sr for a later cleanup.", false);
    let old = finding(
        306,
        306,
        Severity::Medium,
        "A pre-existing problem that belongs in the bug database, not in the reply.",
        true,
    );
    let res = finding(307, 307, Severity::Medium, "io_req_set_res() is now called before the error check, so a failed send records ret and then returns it as well. Is the double report intended?", false);
    let to = [Mailbox::parse("Ada Dev <ada@example.org>").expect("to")];
    let cc = [
        Mailbox::parse("io-uring@vger.kernel.org").expect("cc"),
        Mailbox::parse("Jens Axboe <axboe@kernel.dk>").expect("cc"),
    ];
    let rendered = render_reply(
        &patch(),
        &[&leak, &old, &res],
        &mail(
            "Ada Dev <ada@example.org>",
            "[PATCH v2 2/3] io_uring/net: allocate a bounce buffer",
        ),
        &to,
        &cc,
        &meta(vec![]),
    )
    .expect("renders");
    assert_eq!(rendered.kind, MailKind::Findings);
    assert_eq!(
        rendered.envelope,
        [
            "ada@example.org",
            "axboe@kernel.dk",
            "io-uring@vger.kernel.org"
        ]
    );
    let text = String::from_utf8_lossy(&rendered.bytes);
    assert!(
        !text.contains("pre-existing problem"),
        "pre-existing findings stay out of replies"
    );
    assert!(
        !text.contains(
            "io_send_setup(struct io_kiocb *req, const struct io_uring_sqe *sqe)\r\n>  {"
        ),
        "hunk lines far above the finding are elided"
    );
    invariants("findings", &rendered.bytes);
    check("findings", &rendered.bytes);
}

#[test]
fn clean_reply_with_missing_parts_and_non_ascii_names() {
    let to = [Mailbox::parse("Jörg Rödel <joro@example.org>").expect("to")];
    let rendered = render_reply(
        &patch(),
        &[],
        &mail(
            "Jörg Rödel <joro@example.org>",
            "[PATCH 2/3] io_uring/net: größer buffer",
        ),
        &to,
        &[],
        &meta(vec![3]),
    )
    .expect("renders");
    assert_eq!(rendered.kind, MailKind::Clean);
    invariants("clean", &rendered.bytes);
    let text = String::from_utf8_lossy(&rendered.bytes);
    assert!(
        text.contains("Subject: =?UTF-8?B?"),
        "non-ASCII subject is encoded"
    );
    assert!(
        text.contains("Patch(es) 3 of this series"),
        "missing parts are named"
    );
    check("clean", &rendered.bytes);
}

#[test]
fn rendering_is_stable_for_a_review_and_patch() {
    let to = [Mailbox::parse("ada@example.org").expect("to")];
    let leak = finding(112, 113, Severity::High, "Is buf freed?", false);
    let first = render_reply(
        &patch(),
        &[&leak],
        &mail("ada@example.org", "[PATCH] x"),
        &to,
        &[],
        &meta(vec![]),
    )
    .expect("renders");
    let second = render_reply(
        &patch(),
        &[&leak],
        &mail("ada@example.org", "[PATCH] x"),
        &to,
        &[],
        &meta(vec![]),
    )
    .expect("renders");
    assert_eq!(
        first.message_id, second.message_id,
        "a re-render after a crash keeps the Message-ID"
    );
    assert!(
        render_reply(
            &patch(),
            &[],
            &mail("ada@example.org", "[PATCH] x"),
            &[],
            &[],
            &meta(vec![])
        )
        .is_err(),
        "no recipients is an error"
    );
}

/// The report stage's wordings replace the finders' text of the comments
/// they passed the checks for; a refused wording leaves the finder's text.
/// Findings, quoting, recipients and headers stay exactly as without
/// wordings ("model words, code decides").
#[test]
fn worded_reply_uses_checked_wordings_and_changes_nothing_else() {
    use sashiko_report::inline::Comment;
    use sashiko_report::reply::render_worded;
    use sashiko_review::wording::{check as check_wording, cited_code};

    let leak = finding(108, 112, Severity::High, "Is buf freed anywhere? Every return below the kmalloc() leaks it, including the -EINVAL path right after the allocation, and nothing stores it in sr for a later cleanup.", false);
    let res = finding(307, 307, Severity::Medium, "io_req_set_res() is now called before the error check, so a failed send records ret and then returns it as well. Is the double report intended?", false);
    let series = sashiko_review::ReviewSeries {
        title: "t".into(),
        version: 2,
        cover_letter: None,
        patches: vec![patch()],
    };
    let canary = "SASHIKO-CANARY-00112233445566778899aabbccddeeff";
    let leak_words = check_wording(
        "buf from kmalloc() is leaked on every return below it, starting with the -EINVAL one right after the allocation. Free it on those paths, or keep it in sr so the cleanup frees it.",
        &leak,
        &cited_code(&series, &leak),
        canary,
    )
    .expect("a wording about the leak passes");
    let refused = check_wording(
        &format!("Nice patch overall! {canary}"),
        &res,
        &cited_code(&series, &res),
        canary,
    );
    assert!(refused.is_err(), "{refused:?}");
    let comments = [
        Comment {
            finding: &leak,
            wording: Some(&leak_words),
        },
        Comment {
            finding: &res,
            wording: refused.as_deref().ok(),
        },
    ];
    let to = [Mailbox::parse("Ada Dev <ada@example.org>").expect("to")];
    let cc = [Mailbox::parse("io-uring@vger.kernel.org").expect("cc")];
    let subject = "[PATCH v2 2/3] io_uring/net: allocate a bounce buffer";
    let worded = render_worded(
        &patch(),
        &comments,
        &mail("Ada Dev <ada@example.org>", subject),
        &to,
        &cc,
        &meta(vec![]),
    )
    .expect("renders");
    let plain = render_reply(
        &patch(),
        &[&leak, &res],
        &mail("Ada Dev <ada@example.org>", subject),
        &to,
        &cc,
        &meta(vec![]),
    )
    .expect("renders");
    let text = String::from_utf8_lossy(&worded.bytes);
    assert!(
        text.contains("buf from kmalloc() is leaked on every return"),
        "{text}"
    );
    assert!(!text.contains("Is buf freed anywhere?"), "{text}");
    assert!(text.contains("Is the double report intended?"), "{text}");
    assert!(!text.contains("SASHIKO-CANARY") && !text.contains("Nice patch"));
    let quoted = |bytes: &[u8]| -> Vec<String> {
        String::from_utf8_lossy(bytes)
            .split("\r\n")
            .filter(|line| line.starts_with('>') || line.contains(": "))
            .filter(|line| !line.contains("Is ") && !line.contains("buf from"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        quoted(&worded.bytes),
        quoted(&plain.bytes),
        "only the words differ"
    );
    assert_eq!(
        (
            worded.envelope.clone(),
            worded.message_id.clone(),
            worded.kind
        ),
        (plain.envelope, plain.message_id, plain.kind)
    );
    invariants("findings_worded", &worded.bytes);
    check("findings_worded", &worded.bytes);
}

/// Issue 14, "never a silent difference": a review that saw no tree says
/// so in the reply, above the signature and in it; one applied with fuzz
/// warns that the code around the patch may differ; one applied as is
/// names its base in the signature only.
#[test]
fn the_footer_says_how_the_series_met_the_tree() {
    let to = [Mailbox::parse("ada@example.org").expect("to")];
    let base = "0123456789abcdef0123456789abcdef01234567";
    let render = |status: &str, base: Option<&str>| -> String {
        let meta = ReplyMeta {
            tree: Some(ReplyTree {
                status: status.into(),
                base: base.map(str::to_owned),
            }),
            ..meta(vec![])
        };
        let rendered = render_reply(
            &patch(),
            &[],
            &mail("ada@example.org", "[PATCH 2/3] io_uring/net: x"),
            &to,
            &[],
            &meta,
        )
        .expect("renders");
        invariants(status, &rendered.bytes);
        String::from_utf8(rendered.bytes).expect("utf-8")
    };
    // (status, base, in the body, not in the body)
    type Case<'a> = (&'a str, Option<&'a str>, &'a [&'a str], &'a [&'a str]);
    let cases: [Case<'_>; 5] = [
        (
            "not_applied",
            Some(base),
            &[
                "This series did not apply to the reviewer's tree (last tried on\r\n0123456789ab), so it was reviewed without tree context",
                "\r\n-- \r\n",
                "Tree: none, the series did not apply\r\n",
            ],
            &[base],
        ),
        (
            "no_tree",
            None,
            &[
                "This series was reviewed without tree context (no kernel tree was\r\nconfigured)",
                "Tree: none, no kernel tree was configured\r\n",
            ],
            &["did not apply"],
        ),
        (
            "fuzzy",
            Some(base),
            &[
                "applied to the reviewer's tree only with\r\nfuzz, so the code around them may differ",
                "Tree: applied on 0123456789ab with fuzz\r\n",
            ],
            &["without tree context"],
        ),
        (
            "base_commit",
            Some(base),
            &["Tree: applied on its base-commit 0123456789ab\r\n"],
            &["without tree context", "fuzz"],
        ),
        (
            "three_way",
            Some(base),
            &["Tree: applied on 0123456789ab with a 3-way merge\r\n"],
            &["without tree context", "fuzz"],
        ),
    ];
    for (status, base, present, absent) in cases {
        let text = render(status, base);
        let (_, body) = text.split_once("\r\n\r\n").expect("body");
        for wanted in present {
            assert!(body.contains(wanted), "{status}: {wanted:?} not in\n{body}");
        }
        for unwanted in absent {
            assert!(
                !body.contains(unwanted),
                "{status}: {unwanted:?} in\n{body}"
            );
        }
        // The signature stays last: the tree line sits inside it.
        let signature = body.split("\r\n-- \r\n").nth(1).expect("signature");
        assert!(signature.contains("Tree: "), "{status}: {signature}");
    }
    check(
        "clean_not_applied",
        render("not_applied", Some(base)).as_bytes(),
    );
}

/// Issue 15, case 3: a memory-ordering finding says "the litmus test below
/// reaches the bad outcome"; the mail carries that test (trimmed) and the
/// checker's verdict with its counts under the comment, also when the
/// report stage worded the comment.
#[test]
fn memory_ordering_comment_carries_its_litmus_test_and_verdict() {
    use sashiko_report::inline::Comment;
    use sashiko_report::reply::render_worded;

    let mut ordering = finding(
        108,
        110,
        Severity::High,
        "The code relies on this ordering, which the Linux-kernel memory model does not guarantee: a reader that sees sr->len also sees buf. The litmus test below reaches the bad outcome (reader: Sometimes).",
        false,
    );
    ordering.stage = "memory-ordering".into();
    ordering.evidence = vec![sashiko_review::Evidence::Litmus {
        test: "C net-len-buf\n\n(* written by the memory-ordering stage *)\n{}\n\nP0(int *len, int *buf)\n{\n\tWRITE_ONCE(*buf, 1);\n\tWRITE_ONCE(*len, 1);\n}\n\nP1(int *len, int *buf)\n{\n\tint r0;\n\tint r1;\n\n\tr0 = READ_ONCE(*len);\n\tr1 = READ_ONCE(*buf);\n}\n\nexists (1:r0=1 /\\ 1:r1=0)\n".into(),
        verdict: "Sometimes (positive 1, negative 3, 4 final states)".into(),
    }];
    let to = [Mailbox::parse("Ada Dev <ada@example.org>").expect("to")];
    for wording in [None, Some("Can a reader see sr->len set and buf not yet written? The litmus test below says it can.")] {
        let comments = [Comment {
            finding: &ordering,
            wording,
        }];
        let rendered = render_worded(
            &patch(),
            &comments,
            &mail("Ada Dev <ada@example.org>", "[PATCH 2/3] io_uring/net: x"),
            &to,
            &[],
            &meta(vec![]),
        )
        .expect("renders");
        invariants("litmus", &rendered.bytes);
        let text = String::from_utf8_lossy(&rendered.bytes);
        for expected in [
            "\r\n    C net-len-buf\r\n",
            "\r\n    P1(int *len, int *buf)\r\n",
            "\r\n        r0 = READ_ONCE(*len);\r\n",
            "\r\n    exists (1:r0=1 /\\ 1:r1=0)\r\n",
            "\r\nLKMM checker verdict: Sometimes (positive 1, negative 3, 4 final states)\r\n",
        ] {
            assert!(text.contains(expected), "{wording:?}: no {expected:?} in\n{text}");
        }
        assert!(
            !text.contains("written by the memory-ordering stage"),
            "litmus comments are trimmed: {text}"
        );
        let opening = &wording.unwrap_or("The code relies on")[..16];
        let comment_at = text.find(opening).expect("the comment");
        let test_at = text.find("    C net-len-buf").expect("the test");
        assert!(comment_at < test_at, "the test is under the comment");
    }
}
