use super::*;

/// Splits `input` and compares the message bytes and diagnostic kinds.
fn check(input: &str, format: MboxFormat, expected: &[&str], expected_diagnostics: usize) {
    let split = split(input.as_bytes(), format);
    let got: Vec<String> = split
        .messages
        .iter()
        .map(|message| String::from_utf8_lossy(&message.bytes).into_owned())
        .collect();
    assert_eq!(got, expected, "messages of {input:?} read as {format}");
    assert_eq!(
        split.diagnostics.len(),
        expected_diagnostics,
        "diagnostics of {input:?}: {:?}",
        split.diagnostics
    );
}

#[test]
fn splits_and_unescapes() {
    let cases: &[(&str, MboxFormat, &[&str], usize)] = &[
        (
            "From a\nSubject: 1\n\nbody\n\nFrom b\nSubject: 2\n\nx\n\n",
            MboxFormat::Mboxrd,
            &["Subject: 1\n\nbody\n", "Subject: 2\n\nx\n"],
            0,
        ),
        // mboxrd removes one '>' from any >*From line.
        (
            "From a\nS: 1\n\n>From me\n>>From you\n>>>From them\n> From no\n\n",
            MboxFormat::Mboxrd,
            &["S: 1\n\nFrom me\n>From you\n>>From them\n> From no\n"],
            0,
        ),
        // mboxo removes the '>' only from exactly ">From ".
        (
            "From a\nS: 1\n\n>From me\n>>From you\n\n",
            MboxFormat::Mboxo,
            &["S: 1\n\nFrom me\n>>From you\n"],
            0,
        ),
        // CRLF line endings are kept, the CRLF separator line is removed.
        (
            "From a\r\nS: 1\r\n\r\n>From x\r\n\r\nFrom b\r\nS: 2\r\n\r\ny\r\n\r\n",
            MboxFormat::Mboxrd,
            &["S: 1\r\n\r\nFrom x\r\n", "S: 2\r\n\r\ny\r\n"],
            0,
        ),
        // No trailing newline: the last message is kept as is.
        (
            "From a\nS: 1\n\nbody",
            MboxFormat::Mboxrd,
            &["S: 1\n\nbody"],
            1,
        ),
        // No blank separator after the last message.
        (
            "From a\nS: 1\n\nbody\n",
            MboxFormat::Mboxrd,
            &["S: 1\n\nbody\n"],
            0,
        ),
        // A message that ends with a blank line keeps it.
        (
            "From a\nS: 1\n\nbody\n\n\nFrom b\nS: 2\n\n",
            MboxFormat::Mboxrd,
            &["S: 1\n\nbody\n\n", "S: 2\n"],
            0,
        ),
        // Leading bytes that are not a From line become a message + diagnostic.
        (
            "Subject: raw\n\nhello\n\nFrom b\nS: 2\n\nx\n",
            MboxFormat::Mboxo,
            &["Subject: raw\n\nhello\n", "S: 2\n\nx\n"],
            1,
        ),
        // Leading blank lines are not a message.
        (
            "\n\nFrom b\nS: 2\n\nx\n",
            MboxFormat::Mboxo,
            &["S: 2\n\nx\n"],
            0,
        ),
        // An unescaped From line right after a text line stays in the body.
        (
            "From a\nS: 1\n\nsee\nFrom here on\n\n",
            MboxFormat::Mboxo,
            &["S: 1\n\nsee\nFrom here on\n"],
            0,
        ),
        // An entry with only its From line is skipped with a diagnostic.
        (
            "From a\n\nFrom b\nS: 2\n\n",
            MboxFormat::Mboxrd,
            &["S: 2\n"],
            1,
        ),
        ("", MboxFormat::Mboxrd, &[], 0),
    ];
    for (input, format, expected, diagnostics) in cases {
        check(input, *format, expected, *diagnostics);
    }
}

#[test]
fn offsets_allow_resuming() {
    let input = b"From a\nS: 1\n\nx\n\nFrom b\nS: 2\n\ny\n\nFrom c\nS: 3\n\nz\n\n";
    let whole = split(input, MboxFormat::Mboxrd);
    assert_eq!(whole.messages.len(), 3);
    assert_eq!(whole.messages[0].offset, 0);
    assert_eq!(whole.messages[0].from_line, b"From a");
    for pair in whole.messages.windows(2) {
        assert_eq!(pair[0].end_offset, pair[1].offset);
        assert!(input[pair[1].offset as usize..].starts_with(b"From "));
    }
    assert_eq!(whole.messages[2].end_offset, input.len() as u64);
    let resumed = split_from(
        input,
        whole.messages[0].end_offset as usize,
        MboxFormat::Mboxrd,
    );
    assert_eq!(resumed.messages, whole.messages[1..]);
    assert!(split_from(input, input.len() + 10, MboxFormat::Mboxrd)
        .messages
        .is_empty());
}

#[test]
fn detects_format() {
    let cases: &[(&str, MboxFormat)] = &[
        (
            "From mboxrd@z Thu Jan  1 00:00:00 1970\nS: 1\n\n",
            MboxFormat::Mboxrd,
        ),
        ("From a@b Mon Jan 1\nS: 1\n\n>>From x\n", MboxFormat::Mboxrd),
        ("From a@b Mon Jan 1\nS: 1\n\n>From x\n", MboxFormat::Mboxo),
    ];
    for (input, expected) in cases {
        assert_eq!(detect_format(input.as_bytes()), *expected, "{input:?}");
    }
    assert_eq!(
        "MBOXRD".parse::<MboxFormat>().ok(),
        Some(MboxFormat::Mboxrd)
    );
    assert!("mboxcl2".parse::<MboxFormat>().is_err());
}

/// The shared corpus is written by public-inbox as mboxrd: every list slice
/// splits into the message count its manifest records, and the escaped
/// `>From ` lines come back unescaped.
#[test]
fn corpus_slices_split_into_manifest_counts() {
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let manifest = corpus.join("MANIFEST.json");
    let Ok(manifest) = std::fs::read_to_string(&manifest) else {
        eprintln!(
            "skipping: {} not found (shared corpus absent)",
            manifest.display()
        );
        return;
    };
    let cases = [
        ("lists/io-uring-28250-30749.mbox", 2500),
        ("lists/ksummit-02115-03114.mbox", 1000),
        ("lists/linux-block-04000-06499.mbox", 2500),
        ("lists/linux-ext4-19250-21749.mbox", 2500),
        ("lists/linux-kbuild-14500-16999.mbox", 2500),
    ];
    for (file, count) in cases {
        assert!(manifest.contains(file), "{file} is listed in MANIFEST.json");
        let bytes = std::fs::read(corpus.join(file)).expect("read corpus slice");
        assert_eq!(detect_format(&bytes), MboxFormat::Mboxrd, "{file}");
        let split = split(&bytes, MboxFormat::Mboxrd);
        assert_eq!(split.messages.len(), count, "{file}");
        assert!(
            split.diagnostics.is_empty(),
            "{file}: {:?}",
            split.diagnostics
        );
        let escaped_lines = bytes
            .split(|&byte| byte == b'\n')
            .filter(|line| line.starts_with(b">From "))
            .count();
        let unescaped_lines: usize = split
            .messages
            .iter()
            .map(|message| {
                message
                    .bytes
                    .split(|&byte| byte == b'\n')
                    .filter(|line| line.starts_with(b"From "))
                    .count()
            })
            .sum();
        assert_eq!(escaped_lines, unescaped_lines, "{file}");
    }
}
