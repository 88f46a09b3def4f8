//! What a series page says about its mails, read from the stored mails by
//! the mail crate (the parser and series assembly ingest uses): the date
//! the series was sent (the cover's, else the first patch's `Date:`), each
//! patch's title without its `[PATCH ...]` tags, and each patch's
//! trailers: its own, those given on it in replies and those given on the
//! cover letter (`Series::trailers_for`, as b4 collects them). When the
//! mails are not stored (a series stored without them), the trailers are
//! those of the stored commit message and the date is unknown; nothing is
//! guessed. Pure apart from its input: it never reads the store itself.

use std::collections::BTreeMap;

use serde::Serialize;

use sashiko_mail::trailer::{commit_trailers, Trailer};
use sashiko_mail::{assemble, parse_message, parse_subject};
use sashiko_store::web::{PatchRow, ThreadMail};

/// Trailers a series page lists: people's tags (`*-by`) and `Fixes:`.
fn shown(trailer: &Trailer) -> bool {
    trailer.key.to_ascii_lowercase().ends_with("-by") || trailer.is("Fixes")
}

/// The title of a subject, without reply markers and bracketed tags.
pub fn title(subject: &str) -> String {
    let tags = parse_subject(subject);
    if tags.title.is_empty() {
        subject.to_string()
    } else {
        tags.title
    }
}

/// What the stored mails say about one series version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MailFacts {
    /// Seconds since the epoch from the `Date:` of the cover (else the
    /// first patch), when its mail is stored and has one.
    pub sent: Option<i64>,
    /// `Key: value` trailer lines per patch Message-ID.
    pub trailers: BTreeMap<String, Vec<String>>,
}

/// Reads the facts of a series version whose patches are `patches` and
/// cover letter `cover`, from `mails` (its thread as stored).
pub fn read(patches: &[PatchRow], cover: Option<&str>, mails: &[ThreadMail]) -> MailFacts {
    let parsed: Vec<_> = mails.iter().map(|mail| parse_message(&mail.raw)).collect();
    let assembly = assemble(&parsed);
    let ours = assembly.series.iter().find(|series| {
        patches.iter().any(|patch| {
            series
                .patch_message_ids
                .iter()
                .flatten()
                .any(|id| *id == patch.message_id)
        })
    });
    let first = cover.or_else(|| patches.first().map(|patch| patch.message_id.as_str()));
    let sent = first.and_then(|id| {
        parsed
            .iter()
            .find(|message| message.message_id == id)
            .and_then(|message| message.date)
    });
    let trailers = patches
        .iter()
        .map(|patch| {
            let all = match ours {
                Some(series) => series.trailers_for(&patch.message_id),
                None => patch
                    .text
                    .as_ref()
                    .map(|text| commit_trailers(&text.commit_message))
                    .unwrap_or_default(),
            };
            let lines = all
                .iter()
                .filter(|trailer| shown(trailer))
                .map(Trailer::line)
                .collect();
            (patch.message_id.clone(), lines)
        })
        .collect();
    MailFacts { sent, trailers }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sashiko_store::web::PatchText;

    fn mail(id: &str, subject: &str, reply_to: Option<&str>, body: &str) -> ThreadMail {
        let threading = reply_to
            .map(|parent| format!("In-Reply-To: <{parent}>\nReferences: <{parent}>\n"))
            .unwrap_or_default();
        let raw = format!(
            "From: Dev Eloper <dev@example.org>\nTo: linux-mm@kvack.org\nSubject: {subject}\n\
             Date: Tue, 14 Nov 2023 22:13:20 +0000\nMessage-ID: <{id}>\n{threading}\n{body}"
        );
        ThreadMail {
            message_id: id.to_string(),
            raw: raw.into_bytes(),
        }
    }

    fn patch(index: i64, id: &str, commit_message: &str) -> PatchRow {
        PatchRow {
            id: index,
            patch_index: index,
            message_id: id.to_string(),
            subject: format!("[PATCH {index}/2] mm: patch {index}"),
            author: "Dev Eloper <dev@example.org>".to_string(),
            text: Some(PatchText {
                commit_message: commit_message.to_string(),
                diff: String::new(),
            }),
        }
    }

    const DIFF: &str = "---\n mm/a.c | 1 +\n\ndiff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1 +1,2 @@\n x\n+y\n";

    #[test]
    fn trailers_come_from_the_patch_its_replies_and_the_cover() {
        let mails = [
            mail("c@x", "[PATCH 0/2] mm: two", None, "Two patches.\n"),
            mail(
                "p1@x",
                "[PATCH 1/2] mm: patch 1",
                Some("c@x"),
                &format!("Body.\n\nSigned-off-by: Dev Eloper <dev@example.org>\n{DIFF}"),
            ),
            mail(
                "p2@x",
                "[PATCH 2/2] mm: patch 2",
                Some("c@x"),
                &format!("Body.\n\nSigned-off-by: Dev Eloper <dev@example.org>\n{DIFF}"),
            ),
            mail(
                "r1@x",
                "Re: [PATCH 1/2] mm: patch 1",
                Some("p1@x"),
                "> quoted\n\nReviewed-by: Rev Iewer <rev@example.org>\n",
            ),
            mail(
                "r0@x",
                "Re: [PATCH 0/2] mm: two",
                Some("c@x"),
                "For the series:\n\nAcked-by: Ack Er <ack@example.org>\n",
            ),
        ];
        let patches = [
            patch(
                1,
                "p1@x",
                "mm: patch 1\n\nSigned-off-by: Dev Eloper <dev@example.org>",
            ),
            patch(
                2,
                "p2@x",
                "mm: patch 2\n\nSigned-off-by: Dev Eloper <dev@example.org>",
            ),
        ];
        let facts = read(&patches, Some("c@x"), &mails);
        assert_eq!(facts.sent, Some(1_700_000_000));
        assert_eq!(
            facts.trailers["p1@x"],
            [
                "Signed-off-by: Dev Eloper <dev@example.org>",
                "Reviewed-by: Rev Iewer <rev@example.org>",
                "Acked-by: Ack Er <ack@example.org>"
            ]
        );
        assert_eq!(
            facts.trailers["p2@x"],
            [
                "Signed-off-by: Dev Eloper <dev@example.org>",
                "Acked-by: Ack Er <ack@example.org>"
            ]
        );
        // Without the mails: the stored commit message's trailers, no date.
        let bare = read(&patches, Some("c@x"), &[]);
        assert_eq!(bare.sent, None);
        assert_eq!(
            bare.trailers["p1@x"],
            ["Signed-off-by: Dev Eloper <dev@example.org>"]
        );
    }

    #[test]
    fn titles_lose_their_tags() {
        for (subject, expected) in [
            ("[PATCH v2 1/5] mm: fix", "mm: fix"),
            ("[RFC][PATCH] net: x", "net: x"),
            ("mm: plain", "mm: plain"),
            ("[PATCH 0/2]", "[PATCH 0/2]"),
        ] {
            assert_eq!(title(subject), expected, "{subject}");
        }
    }
}
