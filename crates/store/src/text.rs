//! Text as the database can keep it.
//!
//! PostgreSQL's TEXT refuses the NUL character (SQLite keeps it), and mail
//! is untrusted: one NUL in a subject, a commit message or a diff made the
//! whole insert fail. Every text column derived from mail goes through
//! [`storable_text`] on both backends, so the two store the same thing and
//! lookups by a cleaned key find what was stored. The raw message bytes
//! are never cleaned: they go to BYTEA/BLOB as received.

use std::borrow::Cow;

/// What a NUL becomes: U+FFFD, the replacement character, so the text
/// shows that something was there.
const NUL_REPLACEMENT: char = '\u{fffd}';

/// `text` with the characters PostgreSQL's TEXT refuses (NUL) replaced by
/// U+FFFD; borrowed when there is none.
pub fn storable_text(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', &NUL_REPLACEMENT.to_string()))
    } else {
        Cow::Borrowed(text)
    }
}

/// A failure reason as it is stored (`reviews.error`, `jobs.last_error`,
/// `outbox.last_error`): secrets in URLs and DSNs redacted, since these
/// columns are shown on the web and printed by the CLI, and cleaned like
/// any other text.
pub(crate) fn stored_error(text: &str) -> String {
    storable_text(&sashiko_safetext::redact_text(text)).into_owned()
}

/// [`storable_text`] of an optional text.
pub(crate) fn storable_opt(text: Option<&str>) -> Option<Cow<'_, str>> {
    text.map(storable_text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_replaced_and_clean_text_borrowed() {
        let cases = [
            ("clean ünïcode", "clean ünïcode"),
            ("a\0b", "a\u{fffd}b"),
            ("\0\0", "\u{fffd}\u{fffd}"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(storable_text(input), expected, "{input:?}");
        }
        assert!(matches!(storable_text("x"), Cow::Borrowed(_)));
    }
}
