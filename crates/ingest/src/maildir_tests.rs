use super::*;

fn write(root: &Path, relative: &str, body: &str) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().expect("has parent")).expect("mkdir");
    std::fs::write(path, body).expect("write message");
}

async fn read_all(source: &mut MaildirSource) -> Vec<String> {
    let mut bodies = Vec::new();
    while let Some(message) = source.next_message().await.expect("read") {
        bodies.push(String::from_utf8(message.bytes).expect("utf-8"));
    }
    bodies
}

fn maildir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    write(root, "new/1700000003.M3.host", "three");
    write(root, "cur/1700000001.M1.host:2,S", "one");
    write(root, "cur/1700000002.M2.host:2,", "two");
    write(root, "tmp/1700000000.M0.host", "being delivered");
    write(root, "cur/.hidden", "not mail");
    dir
}

#[tokio::test]
async fn reads_cur_and_new_in_name_order_and_resumes() {
    let dir = maildir();
    let root = dir.path();
    let mut first = MaildirSource::open("k".into(), root, None).expect("open");
    assert_eq!(
        first.next_message().await.expect("read").map(|m| m.bytes),
        Some(b"one".to_vec())
    );
    let cursor = first.cursor();
    assert_eq!(cursor, r#"["1700000001.M1.host"]"#);

    // A client marks message one as seen and moves three to cur/; a new
    // message arrives with an earlier name than three.
    std::fs::rename(
        root.join("cur/1700000001.M1.host:2,S"),
        root.join("cur/1700000001.M1.host:2,RS"),
    )
    .expect("rename");
    std::fs::rename(
        root.join("new/1700000003.M3.host"),
        root.join("cur/1700000003.M3.host:2,S"),
    )
    .expect("rename");
    write(root, "new/1700000000.M9.other", "zero");

    let mut resumed = MaildirSource::open("k".into(), root, Some(&cursor)).expect("open");
    assert_eq!(read_all(&mut resumed).await, ["zero", "two", "three"]);
    let mut again = MaildirSource::open("k".into(), root, Some(&resumed.cursor())).expect("open");
    assert!(read_all(&mut again).await.is_empty());
}

#[tokio::test]
async fn follows_a_message_moved_after_listing() {
    let dir = maildir();
    let root = dir.path();
    let mut source = MaildirSource::open("k".into(), root, None).expect("open");
    std::fs::rename(
        root.join("new/1700000003.M3.host"),
        root.join("cur/1700000003.M3.host:2,S"),
    )
    .expect("rename");
    assert_eq!(read_all(&mut source).await, ["one", "two", "three"]);
    assert!(source.take_diagnostics().is_empty());
}

#[tokio::test]
async fn bad_cursor_and_missing_directories_are_reported() {
    let dir = maildir();
    let mut source = MaildirSource::open("k".into(), dir.path(), Some("42")).expect("open");
    assert_eq!(read_all(&mut source).await.len(), 3);
    let diagnostics = source.take_diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(
        diagnostics[0].message.contains("JSON list"),
        "{}",
        diagnostics[0]
    );

    let empty = tempfile::tempdir().expect("tempdir");
    let error = MaildirSource::open("k".into(), empty.path(), None)
        .err()
        .expect("not a maildir");
    assert!(
        error
            .to_string()
            .contains(&empty.path().display().to_string()),
        "{error}"
    );
}

#[test]
fn unique_names() {
    for (file_name, expected) in [
        ("1.M1.h:2,S", "1.M1.h"),
        ("1.M1.h", "1.M1.h"),
        ("a:b:c", "a"),
    ] {
        assert_eq!(unique_name(file_name), expected);
    }
}
