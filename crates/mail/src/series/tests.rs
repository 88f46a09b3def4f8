use super::*;
use crate::message::parse_message;

/// Builds a mail from a compact description.
fn mail(
    id: &str,
    from: &str,
    date: &str,
    subject: &str,
    parent: Option<&str>,
    body: &str,
) -> ParsedMessage {
    let mut raw = format!("Message-ID: <{id}>\nFrom: {from}\nDate: {date}\nSubject: {subject}\n");
    if let Some(parent) = parent {
        raw.push_str(&format!(
            "In-Reply-To: <{parent}>\nReferences: <{parent}>\n"
        ));
    }
    raw.push('\n');
    raw.push_str(body);
    parse_message(raw.as_bytes())
}

const AUTHOR: &str = "A U Thor <author@example.org>";
const DIFF: &str = "msg\n\nSigned-off-by: A U Thor <author@example.org>\n---\n x | 1 +\n\ndiff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1,2 @@\n a\n+b\n";

fn date(minute: u32) -> String {
    format!("Mon, 1 Jan 2024 10:{minute:02}:00 +0000")
}

fn ids(series: &Series) -> Vec<Option<&str>> {
    series
        .patch_message_ids
        .iter()
        .map(Option::as_deref)
        .collect()
}

#[test]
fn cover_and_chained_patches_with_trailers() {
    let messages = vec![
        mail(
            "c@x",
            AUTHOR,
            &date(0),
            "[PATCH v2 0/3] thing",
            None,
            "cover\n",
        ),
        mail(
            "p1@x",
            AUTHOR,
            &date(1),
            "[PATCH v2 1/3] one",
            Some("c@x"),
            DIFF,
        ),
        mail(
            "p2@x",
            AUTHOR,
            &date(2),
            "[PATCH v2 2/3] two",
            Some("p1@x"),
            DIFF,
        ),
        mail(
            "p3@x",
            AUTHOR,
            &date(3),
            "[PATCH v2 3/3] three",
            Some("p2@x"),
            DIFF,
        ),
        mail(
            "r1@x",
            "R <r@example.org>",
            &date(4),
            "Re: [PATCH v2 0/3] thing",
            Some("c@x"),
            "Reviewed-by: R <r@example.org>\n",
        ),
        mail(
            "r2@x",
            "S <s@example.org>",
            &date(5),
            "Re: [PATCH v2 2/3] two",
            Some("p2@x"),
            "> quoted\nAcked-by: S <s@example.org>\n",
        ),
        mail(
            "r3@x",
            "T <t@example.org>",
            &date(6),
            "Re: [PATCH v2 2/3] two",
            Some("r2@x"),
            "Tested-by: T <t@example.org>\n",
        ),
    ];
    let assembly = assemble(&messages);
    assert_eq!(assembly.series.len(), 1, "{:#?}", assembly.series);
    let series = &assembly.series[0];
    assert_eq!(series.version, 2);
    assert_eq!(series.cover_message_id.as_deref(), Some("c@x"));
    assert_eq!(ids(series), [Some("p1@x"), Some("p2@x"), Some("p3@x")]);
    let lines: Vec<String> = series
        .trailers_for("p2@x")
        .iter()
        .map(Trailer::line)
        .collect();
    assert_eq!(
        lines,
        [
            "Signed-off-by: A U Thor <author@example.org>",
            "Reviewed-by: R <r@example.org>",
            "Acked-by: S <s@example.org>",
            "Tested-by: T <t@example.org>",
        ]
    );
    assert_eq!(series.trailers_for("p1@x").len(), 2);
}

#[test]
fn missing_duplicate_and_duplicate_delivery() {
    let messages = vec![
        mail(
            "c@x",
            AUTHOR,
            &date(0),
            "[PATCH 0/3] thing",
            None,
            "cover\n",
        ),
        mail(
            "p2@x",
            AUTHOR,
            &date(2),
            "[PATCH 2/3] two",
            Some("c@x"),
            DIFF,
        ),
        mail(
            "p2@x",
            AUTHOR,
            &date(2),
            "[PATCH 2/3] two",
            Some("c@x"),
            DIFF,
        ),
        mail(
            "p3@x",
            AUTHOR,
            &date(3),
            "[PATCH 3/3] three",
            Some("c@x"),
            DIFF,
        ),
        mail(
            "p3b@x",
            AUTHOR,
            &date(4),
            "[PATCH 3/3] three again",
            Some("c@x"),
            DIFF,
        ),
    ];
    let assembly = assemble(&messages);
    assert_eq!(assembly.series.len(), 1);
    let series = &assembly.series[0];
    assert_eq!(ids(series), [None, Some("p2@x"), Some("p3@x")]);
    assert_eq!(series.missing_numbers, [1]);
    assert_eq!(series.duplicate_numbers.get(&3).map(Vec::len), Some(2));
    let kinds: Vec<DiagnosticKind> = assembly.diagnostics.iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&DiagnosticKind::DuplicateMessageId));
    assert!(kinds.contains(&DiagnosticKind::MissingPatches));
    assert!(kinds.contains(&DiagnosticKind::DuplicatePatchNumber));
}

#[test]
fn partial_reroll_and_versions_in_one_thread() {
    let messages = vec![
        mail(
            "c@x",
            AUTHOR,
            &date(0),
            "[PATCHSET RFC 0/3] big",
            None,
            "cover\n",
        ),
        mail(
            "p1@x",
            AUTHOR,
            &date(1),
            "[PATCH 1/3] one",
            Some("c@x"),
            DIFF,
        ),
        mail(
            "p2@x",
            AUTHOR,
            &date(2),
            "[PATCH 2/3] two",
            Some("c@x"),
            DIFF,
        ),
        mail(
            "p3@x",
            AUTHOR,
            &date(3),
            "[PATCH 3/3] three",
            Some("c@x"),
            DIFF,
        ),
        mail(
            "p2v2@x",
            AUTHOR,
            &date(9),
            "[PATCH v2 2/3] two",
            Some("p2@x"),
            DIFF,
        ),
    ];
    let assembly = assemble(&messages);
    assert_eq!(assembly.series.len(), 2, "{:#?}", assembly.series);
    let (v1, v2) = (&assembly.series[0], &assembly.series[1]);
    assert!(v1.rfc && v1.is_complete() && v1.cover_message_id.is_some());
    assert_eq!((v2.version, v2.cover_message_id.as_deref()), (2, None));
    assert_eq!(ids(v2), [None, Some("p2v2@x"), None]);
    assert_eq!(v2.previous_version.as_deref(), Some("c@x"));
}

#[test]
fn unthreaded_parts_and_unprefixed_cover() {
    let messages = vec![
        mail(
            "c@x",
            AUTHOR,
            &date(0),
            "[PATCH v2 0/2] spread",
            None,
            "cover\n",
        ),
        mail("p1@x", AUTHOR, &date(1), "[PATCH v2 1/2] one", None, DIFF),
        mail("p2@x", AUTHOR, &date(2), "[PATCH v2 2/2] two", None, DIFF),
        mail(
            "u@y",
            AUTHOR,
            &date(30),
            "improve things v2",
            None,
            "cover text\n",
        ),
        mail(
            "u1@y",
            AUTHOR,
            &date(31),
            "[PATCH 1/2] a",
            Some("u@y"),
            DIFF,
        ),
        mail(
            "u2@y",
            AUTHOR,
            &date(32),
            "[PATCH 2/2] b",
            Some("u@y"),
            DIFF,
        ),
        mail(
            "other@z",
            "O <o@example.org>",
            &date(33),
            "[PATCH 1/2] foreign",
            None,
            DIFF,
        ),
    ];
    let assembly = assemble(&messages);
    let summary: Vec<(Option<&str>, Vec<Option<&str>>)> = assembly
        .series
        .iter()
        .map(|s| (s.cover_message_id.as_deref(), ids(s)))
        .collect();
    assert_eq!(
        summary,
        [
            (Some("c@x"), vec![Some("p1@x"), Some("p2@x")]),
            (Some("u@y"), vec![Some("u1@y"), Some("u2@y")]),
            (None, vec![Some("other@z"), None]),
        ]
    );
}

#[test]
fn pull_requests_and_discussions_are_not_series() {
    let messages = vec![
        mail(
            "pull@x",
            AUTHOR,
            &date(0),
            "[GIT PULL 1/2] Kbuild",
            None,
            "please pull\n",
        ),
        mail(
            "talk@x",
            AUTHOR,
            &date(1),
            "[MAINTAINERS SUMMIT] topic",
            None,
            "let us talk\n",
        ),
        mail(
            "re@x",
            AUTHOR,
            &date(2),
            "Re: [MAINTAINERS SUMMIT] topic",
            Some("talk@x"),
            "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
        ),
    ];
    let assembly = assemble(&messages);
    assert!(assembly.series.is_empty(), "{:#?}", assembly.series);
    assert_eq!(assembly.pull_requests, ["pull@x"]);
}

#[test]
fn versions_link_across_threads_by_title_and_change_id() {
    let messages = vec![
        mail(
            "a1@x",
            AUTHOR,
            &date(0),
            "[PATCH] kbuild: fix it",
            None,
            DIFF,
        ),
        mail(
            "a2@x",
            AUTHOR,
            &date(10),
            "[PATCH] [v2] kbuild: fix it",
            None,
            DIFF,
        ),
        mail(
            "a3@x",
            AUTHOR,
            &date(20),
            "[PATCH v3] kbuild: fix  it",
            None,
            DIFF,
        ),
        mail(
            "b1@x",
            "Other <o@example.org>",
            &date(21),
            "[PATCH v4] kbuild: fix it",
            None,
            DIFF,
        ),
        mail(
            "c1@x",
            "B4 <b4@example.org>",
            &date(22),
            "[PATCH 0/1] one",
            None,
            "cover\n---\nchange-id: 20240101-abc\n",
        ),
        mail(
            "c1p@x",
            "B4 <b4@example.org>",
            &date(22),
            "[PATCH 1/1] one",
            Some("c1@x"),
            DIFF,
        ),
        mail(
            "c2@x",
            "B4 <b4-new@example.org>",
            &date(40),
            "[PATCH v2 0/1] renamed",
            None,
            "cover\n---\nchange-id: 20240101-abc\n",
        ),
        mail(
            "c2p@x",
            "B4 <b4-new@example.org>",
            &date(40),
            "[PATCH v2 1/1] renamed",
            Some("c2@x"),
            DIFF,
        ),
    ];
    let assembly = assemble(&messages);
    let links: Vec<(&str, Option<&str>)> = assembly
        .series
        .iter()
        .map(|s| {
            (
                s.first_message_id().unwrap_or(""),
                s.previous_version.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        links,
        [
            ("a1@x", None),
            ("a2@x", Some("a1@x")),
            ("a3@x", Some("a2@x")),
            ("b1@x", None),
            ("c1@x", None),
            ("c2@x", Some("c1@x")),
        ]
    );
}

#[test]
fn reworded_titles_link_versions_of_the_same_sender() {
    let messages = vec![
        mail(
            "r1@x",
            AUTHOR,
            &date(0),
            "[PATCH] ext4: fix the journal replay race",
            None,
            DIFF,
        ),
        mail(
            "r2@x",
            AUTHOR,
            &date(5),
            "[PATCH v2] ext4: fix the journal replay race again",
            None,
            DIFF,
        ),
        mail(
            "r3@x",
            AUTHOR,
            &date(9),
            "[PATCH v3] mm: something else entirely",
            None,
            DIFF,
        ),
    ];
    let assembly = assemble(&messages);
    let links: Vec<Option<&str>> = assembly
        .series
        .iter()
        .map(|s| s.previous_version.as_deref())
        .collect();
    assert_eq!(links, [None, Some("r1@x"), None]);
}

#[test]
fn number_ranges_collapse_runs() {
    let all: Vec<u32> = (1..=642).collect();
    let cases: [(&[u32], &str); 6] = [
        (&[], ""),
        (&[4], "4"),
        (&[1, 2, 3, 5, 7, 8], "1-3, 5, 7-8"),
        (&[8, 7, 1, 1], "1, 7-8"),
        (&all, "1-642"),
        (&[u32::MAX - 1, u32::MAX], "4294967294-4294967295"),
    ];
    for (numbers, expected) in cases {
        assert_eq!(super::number_ranges(numbers), expected, "{numbers:?}");
    }
}
