//! The one key of a mailed series, shared by every path that stores one:
//! `sashiko ingest` and serve's ingest loops, the list bot, and `sashiko
//! review` / `enqueue` / `worker` on mail input. All versions of a series
//! share it, so the web view shows them on one series and the bot finds a
//! review by (key, version) whoever made it.
//!
//! The key is the first Message-ID (cover letter, else the first patch
//! present) of the oldest version reachable through `previous_version` in
//! the assembled mail, with no prefix. Git input keeps its own `git:` keys.
//! A path that sees one version alone (an mbox holding only v2) cannot
//! know v1's Message-ID, so before storing it asks the store with
//! [`stored_series_key`] whether that version is already stored under some
//! key, and uses that one.
//!
//! Pure except [`stored_series_key`], which only reads.

use std::collections::{BTreeSet, HashMap};

use sashiko_mail::Series;
use sashiko_store::{Store, StoreError};

/// Keys of `series` (one assembly), in order. A second series claiming a
/// (key, version) already taken (a resend of the same version) keeps its
/// own first Message-ID as key, so no two versions merge.
pub fn series_keys(series: &[Series]) -> Vec<String> {
    let by_first_id: HashMap<&str, &Series> = series
        .iter()
        .filter_map(|one| Some((one.first_message_id()?, one)))
        .collect();
    let mut taken: BTreeSet<(String, u32)> = BTreeSet::new();
    series
        .iter()
        .map(|one| {
            let own = one.first_message_id().unwrap_or(&one.title).to_owned();
            let mut root = one;
            // Bounded: a cycle in previous_version cannot loop forever.
            for _ in 0..series.len() {
                match root
                    .previous_version
                    .as_deref()
                    .and_then(|id| by_first_id.get(id))
                {
                    Some(previous) if !std::ptr::eq(*previous, root) => root = previous,
                    _ => break,
                }
            }
            let mut key = root.first_message_id().unwrap_or(&own).to_owned();
            if !taken.insert((key.clone(), one.version)) {
                key = own;
                taken.insert((key.clone(), one.version));
            }
            key
        })
        .collect()
}

/// The key of the stored series holding version `version` with the patch
/// mail `first_patch_message_id`, if one is stored (the oldest such series
/// when an older database holds duplicates). A Message-ID names one mail,
/// so a stored version with that patch and number is the same version.
pub async fn stored_series_key(
    store: &Store,
    version: u32,
    first_patch_message_id: &str,
) -> Result<Option<String>, StoreError> {
    store
        .stored_series_key(version, first_patch_message_id)
        .await
}

/// `computed` unless the store already holds this version under another
/// key (see [`stored_series_key`]).
pub async fn resolve_series_key(
    store: &Store,
    computed: &str,
    version: u32,
    first_patch_message_id: Option<&str>,
) -> Result<String, StoreError> {
    let Some(message_id) = first_patch_message_id.filter(|id| !id.is_empty()) else {
        return Ok(computed.to_owned());
    };
    Ok(stored_series_key(store, version, message_id)
        .await?
        .unwrap_or_else(|| computed.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::series_keys;
    use sashiko_mail::{assemble, parse_message};

    fn mail(message_id: &str, subject: &str, in_reply_to: Option<&str>) -> Vec<u8> {
        let threading = in_reply_to
            .map(|parent| format!("In-Reply-To: <{parent}>\nReferences: <{parent}>\n"))
            .unwrap_or_default();
        format!(
            "From: Ada Dev <ada@example.org>\nSubject: {subject}\nMessage-ID: <{message_id}>\n\
             {threading}Date: Mon, 1 Sep 2025 10:00:00 +0000\n\nChange.\n\n\
             Signed-off-by: Ada Dev <ada@example.org>\n---\n\
             diff --git a/mm/a.c b/mm/a.c\n--- a/mm/a.c\n+++ b/mm/a.c\n@@ -1,2 +1,3 @@\n int a;\n+int b;\n int c;\n"
        )
        .into_bytes()
    }

    #[test]
    fn every_version_gets_the_first_message_id_of_the_oldest_one() {
        type Mails<'a> = &'a [(&'a str, &'a str)];
        let cases: [(Mails, &[&str]); 3] = [
            (&[("a1@x", "[PATCH] mm: frob")], &["a1@x"]),
            (
                &[
                    ("a1@x", "[PATCH] mm: frob"),
                    ("a2@x", "[PATCH v2] mm: frob"),
                    ("a3@x", "[PATCH v3] mm: frob"),
                ],
                &["a1@x", "a1@x", "a1@x"],
            ),
            // v2 alone: its own first Message-ID (the store lookup links it).
            (&[("a2@x", "[PATCH v2] mm: frob")], &["a2@x"]),
        ];
        for (mails, expected) in cases {
            let parsed: Vec<_> = mails
                .iter()
                .map(|(id, subject)| parse_message(&mail(id, subject, None)))
                .collect();
            let assembly = assemble(&parsed);
            let mut keys = series_keys(&assembly.series);
            keys.sort();
            assert_eq!(keys, expected, "{mails:?}");
        }
    }

    #[test]
    fn a_resend_of_the_same_version_keeps_its_own_key() {
        let parsed: Vec<_> = [
            ("a1@x", "[PATCH] mm: frob"),
            ("r1@x", "[PATCH RESEND] mm: frob"),
        ]
        .iter()
        .map(|(id, subject)| parse_message(&mail(id, subject, None)))
        .collect();
        let assembly = assemble(&parsed);
        let mut keys = series_keys(&assembly.series);
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), assembly.series.len(), "{keys:?}");
    }
}
