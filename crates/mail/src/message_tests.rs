use super::*;

#[test]
fn headers_body_diff_and_trailers() {
    let raw = b"From: =?UTF-8?Q?N=C3=ADcolas_Prado?= <nfraprado@collabora.com>\n\
Date: Mon, 12 Feb 2024 16:50:50 -0500\n\
Subject: [PATCH v4 1/4] firmware: coreboot:\n Generate modalias\n\
Message-ID: <20240212-x-v4-1-d14@collabora.com>\n\
In-Reply-To: <20240212-x-v4-0-d14@collabora.com>\n\
References: <20240212-x-v4-0-d14@collabora.com>\n\
List-Id: <linux-kbuild.vger.kernel.org>\n\
Content-Type: text/plain; charset=\"utf-8\"\n\
\n\
Generate a modalias.\n\
\n\
Signed-off-by: N P <nfraprado@collabora.com>\n\
---\n\
\x20a.c | 1 +\n\
\n\
diff --git a/a.c b/a.c\n\
--- a/a.c\n\
+++ b/a.c\n\
@@ -1 +1,2 @@\n\
\x20x\n\
+y\n\
\n\
-- \n\
2.43.0\n";
    let message = parse_message(raw);
    assert_eq!(message.message_id, "20240212-x-v4-1-d14@collabora.com");
    assert_eq!(
        message.in_reply_to.as_deref(),
        Some("20240212-x-v4-0-d14@collabora.com")
    );
    assert_eq!(message.references, ["20240212-x-v4-0-d14@collabora.com"]);
    assert_eq!(
        message.list_id.as_deref(),
        Some("linux-kbuild.vger.kernel.org")
    );
    assert_eq!(
        message.subject,
        "[PATCH v4 1/4] firmware: coreboot: Generate modalias"
    );
    assert_eq!(
        (message.tags.version, message.tags.index, message.tags.total),
        (Some(4), Some(1), Some(4))
    );
    let from = message.from.as_ref().expect("From parsed");
    assert_eq!(from.display(), "Nícolas Prado <nfraprado@collabora.com>");
    assert_eq!(message.date, Some(1_707_774_650));
    assert_eq!(
        message.commit_message,
        "Generate a modalias.\n\nSigned-off-by: N P <nfraprado@collabora.com>"
    );
    assert!(message.diff.starts_with("diff --git a/a.c b/a.c\n"));
    assert_eq!(message.trailers.len(), 1);
    assert!(message.patch_id.is_some());
    assert!(message.diagnostics.is_empty(), "{:?}", message.diagnostics);
    let (files, _) = message.files();
    assert_eq!(files[0].hunks[0].lines[1].new_line, Some(2));
}

/// Each charset and transfer encoding of the corpus: (content-type charset,
/// transfer encoding, encoded body, expected decoded text, diagnostics expected).
#[test]
fn charsets_and_transfer_encodings() {
    type Case<'a> = (&'a str, &'a str, &'a [u8], &'a str, &'a [DiagnosticKind]);
    let cases: &[Case<'_>] = &[
        ("gbk", "8bit", b"\xc4\xe3\xba\xc3 diff\n", "你好 diff", &[]),
        ("gb2312", "base64", b"xOO6ww==\n", "你好", &[]),
        ("big5", "8bit", b"\xa4\xa4\xa4\xe5\n", "中文", &[]),
        (
            "iso-2022-jp",
            "7bit",
            b"\x1b$B$3$s$K$A$O\x1b(B\n",
            "こんにちは",
            &[],
        ),
        ("utf-7", "7bit", b"Hi +AKM-1\n", "Hi £1", &[]),
        (
            "iso-8859-1",
            "quoted-printable",
            b"caf=E9 =\nok\n",
            "café ok",
            &[],
        ),
        ("utf8", "quoted-printable", b"a=C3=A9\n", "aé", &[]),
        (
            "y",
            "8bit",
            b"plain ascii\n",
            "plain ascii",
            &[DiagnosticKind::UnknownCharset],
        ),
        (
            "unknown-8bit",
            "8bit",
            b"bad \xff byte\n",
            "bad \u{fffd} byte",
            &[
                DiagnosticKind::UnknownCharset,
                DiagnosticKind::UndecodableBytes,
            ],
        ),
    ];
    for (charset, encoding, body, expected, kinds) in cases {
        let mut raw = format!(
            "Message-ID: <m@x>\nFrom: a <a@b.c>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nSubject: s\n\
             Content-Type: text/plain; charset=\"{charset}\"\nContent-Transfer-Encoding: {encoding}\n\n"
        )
        .into_bytes();
        raw.extend_from_slice(body);
        let message = parse_message(&raw);
        assert_eq!(message.body.trim_end(), *expected, "charset {charset}");
        let found: Vec<DiagnosticKind> = message.diagnostics.iter().map(|d| d.kind).collect();
        assert_eq!(found, *kinds, "diagnostics for charset {charset}");
    }
}

#[test]
fn patch_in_a_text_x_patch_attachment() {
    let raw = b"Message-ID: <att@x>\nFrom: a <a@b.c>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\
Subject: [PATCH]fix it\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"XX\"\n\n\
--XX\nContent-Type: text/plain; charset=utf-8\n\nPlease apply.\n\n\
--XX\nContent-Type: text/x-patch; name=\"fix.patch\"\nContent-Disposition: attachment; filename=\"fix.patch\"\n\
Content-Transfer-Encoding: base64\n\n\
ZGlmZiAtLWdpdCBhL3ggYi94Ci0tLSBhL3gKKysrIGIveApAQCAtMSArMSBAQAotYQorYgo=\n--XX--\n";
    let message = parse_message(raw);
    assert_eq!(message.commit_message, "Please apply.");
    assert_eq!(
        message.diff,
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"
    );
    assert!(message.tags.has_patch_keyword);
}

#[test]
fn garbage_never_panics_and_keeps_an_id() {
    for raw in [
        &b""[..],
        b"\xff\xfe\x00",
        b"Subject: x\n\nno id",
        b"From: <\nSubject: [PATCH 1/\n",
    ] {
        let message = parse_message(raw);
        assert!(!message.message_id.is_empty());
        assert!(!message.diagnostics.is_empty());
    }
}

#[test]
fn parsing_on_threads_gives_the_one_thread_result_in_order() {
    let raws: Vec<Vec<u8>> = (0..23)
        .map(|n| {
            format!(
                "From: A <a@example.org>\nMessage-ID: <m{n}@example.org>\nSubject: [PATCH {}/23] x\n\n{}\n",
                n + 1,
                "body line\n".repeat(n * 7)
            )
            .into_bytes()
        })
        .collect();
    let one: Vec<ParsedMessage> = raws.iter().map(|raw| parse_message(raw)).collect();
    for threads in [0, 1, 2, 3, 8, 64] {
        assert_eq!(parse_messages(&raws, threads), one, "{threads} threads");
    }
    let none: [&[u8]; 0] = [];
    assert!(parse_messages(&none, 4).is_empty());
}
