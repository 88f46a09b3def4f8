use super::*;

fn parse(spec: &str) -> SourceSpec {
    spec.parse()
        .unwrap_or_else(|error| panic!("{spec}: {error}"))
}

#[test]
fn parses_explicit_sources() {
    let cases: Vec<(&str, SourceSpec)> = vec![
        (
            "mbox:/a/b.mbox",
            SourceSpec::Mbox {
                path: "/a/b.mbox".into(),
                format: None,
            },
        ),
        (
            "mboxrd:x.mbox",
            SourceSpec::Mbox {
                path: "x.mbox".into(),
                format: Some(MboxFormat::Mboxrd),
            },
        ),
        (
            "mboxo:x",
            SourceSpec::Mbox {
                path: "x".into(),
                format: Some(MboxFormat::Mboxo),
            },
        ),
        (
            "maildir:~/Mail/lkml",
            SourceSpec::Maildir {
                path: "~/Mail/lkml".into(),
            },
        ),
        (
            "public-inbox:/srv/io-uring/git/0.git",
            SourceSpec::PublicInbox {
                path: "/srv/io-uring/git/0.git".into(),
            },
        ),
        (
            "nntp://127.0.0.1:1190/org.kernel.vger.io-uring",
            SourceSpec::Nntp {
                host: "127.0.0.1".into(),
                port: 1190,
                group: "org.kernel.vger.io-uring".into(),
            },
        ),
        (
            "nntp://nntp.lore.kernel.org/org.kernel.vger.io-uring/",
            SourceSpec::Nntp {
                host: "nntp.lore.kernel.org".into(),
                port: 119,
                group: "org.kernel.vger.io-uring".into(),
            },
        ),
        (
            "nntp://[::1]:563/g",
            SourceSpec::Nntp {
                host: "::1".into(),
                port: 563,
                group: "g".into(),
            },
        ),
        (
            "lore:https://lore.kernel.org/io-uring/20250218224229.837848-1-kbusch@meta.com/",
            SourceSpec::Lore {
                base: "https://lore.kernel.org".into(),
                list: "io-uring".into(),
                message_id: "20250218224229.837848-1-kbusch@meta.com".into(),
            },
        ),
        (
            "lore:http://127.0.0.1:8080/pi/all/%3Ca%2Fb@c%3E",
            SourceSpec::Lore {
                base: "http://127.0.0.1:8080/pi".into(),
                list: "all".into(),
                message_id: "a/b@c".into(),
            },
        ),
        (
            "lore:<Z7Vc0gWj-NNxqLME@fedora>",
            SourceSpec::Lore {
                base: DEFAULT_LORE_BASE.into(),
                list: "all".into(),
                message_id: "Z7Vc0gWj-NNxqLME@fedora".into(),
            },
        ),
    ];
    for (spec, expected) in cases {
        assert_eq!(parse(spec), expected, "{spec}");
    }
}

#[test]
fn rejects_bad_sources_naming_them() {
    for spec in [
        "nntp://host",
        "nntp://host:port/g",
        "nntp:///g",
        "nntp://h/a/b",
        "lore:http://host/only-list",
        "lore:",
        "mbox:",
        "/definitely/not/here",
    ] {
        let error = spec.parse::<SourceSpec>().expect_err(spec);
        let text = error.to_string();
        assert!(
            text.contains(
                spec.trim_start_matches("lore:")
                    .split('/')
                    .next()
                    .unwrap_or(spec)
            ),
            "{spec}: {text}"
        );
    }
}

#[test]
fn detects_bare_paths() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    std::fs::write(root.join("a.mbox"), b"From x\n\n").expect("write");
    std::fs::create_dir_all(root.join("md/cur")).expect("mkdir");
    std::fs::create_dir_all(root.join("epoch.git/objects")).expect("mkdir");
    std::fs::create_dir_all(root.join("inbox/git")).expect("mkdir");
    std::fs::create_dir_all(root.join("plain")).expect("mkdir");
    let path = |name: &str| root.join(name).to_string_lossy().into_owned();
    assert!(matches!(
        parse(&path("a.mbox")),
        SourceSpec::Mbox { format: None, .. }
    ));
    assert!(matches!(parse(&path("md")), SourceSpec::Maildir { .. }));
    assert!(matches!(
        parse(&path("epoch.git")),
        SourceSpec::PublicInbox { .. }
    ));
    assert!(matches!(
        parse(&path("inbox")),
        SourceSpec::PublicInbox { .. }
    ));
    let error = path("plain")
        .parse::<SourceSpec>()
        .expect_err("plain directory");
    assert!(error.to_string().contains("plain"), "{error}");
}

#[test]
fn keys_are_canonical() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.mbox"), b"").expect("write");
    let relative = SourceSpec::Mbox {
        path: dir.path().join("./a.mbox"),
        format: None,
    };
    let canonical = std::fs::canonicalize(dir.path().join("a.mbox")).expect("canonicalize");
    assert_eq!(relative.key(), format!("mbox:{}", canonical.display()));
    assert_eq!(parse("nntp://h/g").key(), "nntp://h:119/g");
}
