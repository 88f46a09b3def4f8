//! Sources against real servers on 127.0.0.1: public-inbox-nntpd and
//! public-inbox-httpd serving the io-uring slice of the shared corpus.
//! Skipped, with a message, when the corpus or public-inbox is missing.

mod support;

use std::collections::{BTreeMap, BTreeSet};

use sashiko_ingest::mbox::{self, MboxFormat};
use sashiko_ingest::{open, MessageSource, SourceError, SourceSpec};
use support::{corpus_file, PublicInbox, IO_URING_GROUP, IO_URING_MBOX};

async fn read_all(source: &mut dyn MessageSource) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    while let Some(message) = source.next_message().await.expect("read message") {
        messages.push(message.bytes);
    }
    messages
}

fn message_id(raw: &[u8]) -> String {
    sashiko_mail::parse_message(raw).message_id
}

/// Message-ID -> bytes of the first copy, for the io-uring mbox slice.
fn mbox_messages(test: &str) -> Option<BTreeMap<String, Vec<u8>>> {
    let bytes = std::fs::read(corpus_file(test, IO_URING_MBOX)?).expect("read slice");
    let mut by_id = BTreeMap::new();
    for message in mbox::split(&bytes, MboxFormat::Mboxrd).messages {
        by_id
            .entry(message_id(&message.bytes))
            .or_insert(message.bytes);
    }
    Some(by_id)
}

/// Splits a message at its first blank line into header and body.
fn split_header(message: &[u8]) -> (&[u8], &[u8]) {
    let header_end = message
        .windows(2)
        .position(|pair| pair == b"\n\n")
        .map_or(message.len(), |end| end + 1);
    message.split_at(header_end)
}

/// The header unfolded, whitespace runs collapsed, one field per entry.
fn normalized_fields(header: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(header)
        .replace("\n ", " ")
        .replace("\n\t", " ");
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// An article compared with its archived message: public-inbox-nntpd adds
/// `Xref`, `Newsgroups` and `Path` and rewrites a folded `Message-Id` onto
/// one line; everything else, the body byte for byte, must be the same.
fn same_as_archived(article: &[u8], archived: &[u8]) -> bool {
    let (article_header, article_body) = split_header(article);
    let (archived_header, archived_body) = split_header(archived);
    let added = ["Xref: ", "Newsgroups: ", "Path: "];
    let article_fields: Vec<String> = normalized_fields(article_header)
        .into_iter()
        .filter(|field| !added.iter().any(|prefix| field.starts_with(prefix)))
        .collect();
    article_body == archived_body && article_fields == normalized_fields(archived_header)
}

#[tokio::test]
async fn nntp_group_holds_the_mbox_messages_and_resumes() {
    let test = "nntp_group_holds_the_mbox_messages_and_resumes";
    let Some(mut inbox) = PublicInbox::io_uring(test) else {
        return;
    };
    let Some(expected) = mbox_messages(test) else {
        return;
    };
    let port = inbox.start_nntpd();
    let spec: SourceSpec = format!("nntp://127.0.0.1:{port}/{IO_URING_GROUP}")
        .parse()
        .expect("spec");

    let mut first = open(&spec, None).await.expect("open group");
    let mut articles = Vec::new();
    for _ in 0..1000 {
        articles.push(
            first
                .next_message()
                .await
                .expect("read")
                .expect("article")
                .bytes,
        );
    }
    let cursor = first.cursor();
    let mut rest = open(&spec, Some(&cursor)).await.expect("resume group");
    articles.extend(read_all(rest.as_mut()).await);
    assert!(rest.take_diagnostics().is_empty());

    let mut got = BTreeMap::new();
    for article in &articles {
        let previous = got.insert(message_id(article), article.clone());
        assert!(
            previous.is_none(),
            "article handed out twice: {}",
            message_id(article)
        );
    }
    let got_ids: BTreeSet<&String> = got.keys().collect();
    let expected_ids: BTreeSet<&String> = expected.keys().collect();
    assert_eq!(got_ids, expected_ids);
    let differing: Vec<&String> = got
        .iter()
        .filter(|(id, bytes)| !same_as_archived(bytes, &expected[*id]))
        .map(|(id, _)| id)
        .collect();
    assert!(
        differing.is_empty(),
        "{} articles differ from the archive, e.g. {:?}",
        differing.len(),
        &differing[..differing.len().min(3)]
    );
    eprintln!(
        "{test}: {} articles, {} distinct Message-IDs in the mbox",
        articles.len(),
        expected.len()
    );

    let mut after_end = open(&spec, Some(&rest.cursor()))
        .await
        .expect("open at end");
    assert!(after_end.next_message().await.expect("read").is_none());
}

#[tokio::test]
async fn lore_thread_from_public_inbox_httpd() {
    let test = "lore_thread_from_public_inbox_httpd";
    let Some(mut inbox) = PublicInbox::io_uring(test) else {
        return;
    };
    let Some(expected) = mbox_messages(test) else {
        return;
    };
    let port = inbox.start_httpd();
    let base = format!("http://127.0.0.1:{port}");
    // Threads rooted at cover letters of the slice, checked against the
    // mbox: the root and every message whose References name it.
    let parsed: Vec<sashiko_mail::ParsedMessage> = expected
        .values()
        .map(|raw| sashiko_mail::parse_message(raw))
        .collect();
    let roots: Vec<&sashiko_mail::ParsedMessage> = parsed
        .iter()
        .filter(|message| {
            message.tags.index == Some(0) && message.references.is_empty() && !message.tags.is_reply
        })
        .take(5)
        .collect();
    assert_eq!(roots.len(), 5, "the slice has cover letters");
    for root in roots {
        let in_thread: BTreeSet<&str> = parsed
            .iter()
            .filter(|message| {
                message.message_id == root.message_id
                    || message.references.contains(&root.message_id)
            })
            .map(|message| message.message_id.as_str())
            .collect();
        let spec: SourceSpec = format!("lore:{base}/io-uring/{}", root.message_id)
            .parse()
            .expect("spec");
        let mut source = open(&spec, None).await.expect("fetch thread");
        let fetched = read_all(source.as_mut()).await;
        let fetched_ids: BTreeSet<String> = fetched.iter().map(|raw| message_id(raw)).collect();
        for id in &in_thread {
            assert!(
                fetched_ids.contains(*id),
                "thread of <{}> lacks <{id}>",
                root.message_id
            );
        }
        for raw in &fetched {
            assert_eq!(
                Some(raw),
                expected.get(&message_id(raw)),
                "bytes of <{}>",
                message_id(raw)
            );
        }
        let mut again = open(&spec, Some(&source.cursor()))
            .await
            .expect("fetch again");
        assert!(
            again.next_message().await.expect("read").is_none(),
            "nothing new in <{}>",
            root.message_id
        );
    }

    let missing: SourceSpec = format!("lore:{base}/io-uring/no-such-message@example.invalid")
        .parse()
        .expect("spec");
    match open(&missing, None).await {
        Err(SourceError::HttpStatus { url, status }) => {
            assert_eq!(status, 404);
            assert!(
                url.contains("no-such-message@example.invalid/t.mbox.gz"),
                "{url}"
            );
        }
        Err(other) => panic!("expected HTTP 404, got {other}"),
        Ok(_) => panic!("expected HTTP 404 for an unknown Message-ID"),
    }
}
