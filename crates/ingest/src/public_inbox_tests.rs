use super::*;
use crate::mbox::{self, MboxFormat};
use crate::test_support::{clone_io_uring_bundle, corpus_dir, git};

async fn read_all(source: &mut PublicInboxSource) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    while let Some(message) = source.next_message().await.expect("read") {
        messages.push(message.bytes);
    }
    messages
}

/// The bundle holds the io-uring slice: the same 2,500 messages, byte for
/// byte and in the same order, as the mbox; resuming half-way yields the
/// rest.
#[tokio::test]
async fn io_uring_bundle_matches_mbox_slice() {
    let Some(corpus) = corpus_dir("io_uring_bundle_matches_mbox_slice") else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let epoch = dir.path().join("inbox/git/0.git");
    clone_io_uring_bundle(&corpus, &epoch);
    let mbox_bytes =
        std::fs::read(corpus.join("lists/io-uring-28250-30749.mbox")).expect("read slice");
    let expected: Vec<Vec<u8>> = mbox::split(&mbox_bytes, MboxFormat::Mboxrd)
        .messages
        .into_iter()
        .map(|message| message.bytes)
        .collect();

    let mut source = PublicInboxSource::open("k".into(), &epoch, None).expect("open epoch");
    assert_eq!(read_all(&mut source).await, expected);

    let mut first_half = PublicInboxSource::open("k".into(), &epoch, None).expect("open epoch");
    let mut got = Vec::new();
    for _ in 0..1234 {
        got.push(
            first_half
                .next_message()
                .await
                .expect("read")
                .expect("message")
                .bytes,
        );
    }
    let cursor = first_half.cursor();
    let mut rest = PublicInboxSource::open("k".into(), &epoch, Some(&cursor)).expect("resume");
    got.extend(read_all(&mut rest).await);
    assert_eq!(got, expected);

    // The same epoch opened as a v2 inbox directory.
    let inbox = dir.path().join("inbox");
    let mut whole = PublicInboxSource::open("k".into(), &inbox, None).expect("open inbox");
    assert_eq!(read_all(&mut whole).await.len(), expected.len());
    assert!(whole.cursor().starts_with("0:"), "{}", whole.cursor());
}

/// A removal commit (tree with `d`, no `m`) is skipped with a diagnostic,
/// a later message is still read, and an unknown cursor starts over.
#[tokio::test]
async fn removal_commits_and_unknown_cursors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let work = dir.path().join("work");
    std::fs::create_dir(&work).expect("mkdir");
    git(&work, &["init", "-q", "-b", "master"]);
    for (add, remove) in [("m", None), ("d", Some("m")), ("m", Some("d"))] {
        if let Some(remove) = remove {
            git(&work, &["rm", "-q", remove]);
        }
        std::fs::write(work.join(add), format!("Subject: {add}\n\n")).expect("write");
        git(&work, &["add", add]);
        git(&work, &["commit", "-q", "-m", add]);
    }
    let mut source = PublicInboxSource::open("k".into(), &work, None).expect("open");
    assert_eq!(read_all(&mut source).await.len(), 2);
    let diagnostics = source.take_diagnostics();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert!(
        diagnostics[0].message.contains("no message blob"),
        "{}",
        diagnostics[0]
    );

    let unknown = "0123456789012345678901234567890123456789";
    let mut again = PublicInboxSource::open("k".into(), &work, Some(unknown)).expect("open");
    assert_eq!(read_all(&mut again).await.len(), 2);
    assert!(again.take_diagnostics()[0].message.contains("not a commit"));
}
