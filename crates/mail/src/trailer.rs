//! Trailers: `Key: value` lines such as `Signed-off-by:`, `Fixes:` or
//! `base-commit:`.
//!
//! Two places carry trailers. A patch or cover letter has them in its message
//! part (before the first `---`); a reply carries review tags (`Reviewed-by:`,
//! `Acked-by:` ...) in its own, unquoted lines. Series metadata
//! (`base-commit:`, `change-id:`, `prerequisite-*:`) usually sits after the
//! diffstat and is read from the whole body. This module only reads text; it
//! must never decide whom a trailer applies to (series assembly does).

use serde::Serialize;

/// One trailer line, key spelled as the sender wrote it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Trailer {
    pub key: String,
    pub value: String,
}

impl Trailer {
    /// The line as `Key: value`.
    pub fn line(&self) -> String {
        format!("{}: {}", self.key, self.value)
    }

    /// Whether the key is `name`, compared case-insensitively.
    pub fn is(&self, name: &str) -> bool {
        self.key.eq_ignore_ascii_case(name)
    }

    /// A person's tag given in review (`Reviewed-by`, `Acked-by`, `Tested-by`,
    /// `Reported-by`, `Suggested-by`): the ones collected from replies.
    pub fn is_review_tag(&self) -> bool {
        REVIEW_KEYS.iter().any(|key| self.is(key))
    }
}

/// Keys collected from replies.
pub const REVIEW_KEYS: &[&str] = &[
    "Reviewed-by",
    "Acked-by",
    "Tested-by",
    "Reported-by",
    "Suggested-by",
];

/// Keys recognised in a commit message besides any `*-by` key.
const OTHER_COMMIT_KEYS: &[&str] = &["Fixes", "Closes", "Link", "Cc", "Message-ID", "Bug"];

/// Keys of series metadata written by `git format-patch --base` and b4.
const META_KEYS: &[&str] = &["base-commit", "change-id"];

/// Splits `Key: value`, requiring a key made of letters, digits and `-`.
fn split_key_value(line: &str) -> Option<(&str, &str)> {
    let bytes = line.as_bytes();
    if !bytes.first()?.is_ascii_alphabetic() {
        return None;
    }
    // The key is short and made of letters, digits and '-': stop at the
    // first other byte instead of searching the whole line for ':'.
    let colon = bytes
        .iter()
        .take(41)
        .position(|&b| !(b.is_ascii_alphanumeric() || b == b'-'))?;
    if bytes[colon] != b':' {
        return None;
    }
    let key = &line[..colon];
    let value = line[colon + 1..].trim();
    if value.is_empty() || !line[colon + 1..].starts_with([' ', '\t']) {
        return None;
    }
    Some((key, value))
}

fn is_commit_key(key: &str) -> bool {
    ends_with_ignore_case(key, "-by")
        || OTHER_COMMIT_KEYS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(key))
}

fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    text.len() > suffix.len()
        && text.as_bytes()[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix.as_bytes())
}

fn is_meta_key(key: &str) -> bool {
    META_KEYS
        .iter()
        .any(|known| known.eq_ignore_ascii_case(key))
        || key
            .get(..13)
            .is_some_and(|start| start.eq_ignore_ascii_case("prerequisite-"))
}

/// Trailer lines of a commit message or cover letter text (the part before
/// the first `---`). Every line that looks like a trailer counts, wherever
/// it stands, as long as it is not quoted with `>`. Indented lines count
/// too: a commit pasted from `git show` indents its trailers.
pub fn commit_trailers(message_part: &str) -> Vec<Trailer> {
    message_part
        .lines()
        .filter_map(|line| {
            let (key, value) = split_key_value(line.trim_start())?;
            is_commit_key(key).then(|| Trailer {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        })
        .collect()
}

/// Review tags given in a reply: unquoted lines whose key is one of
/// [`REVIEW_KEYS`] and whose value names an address. Stops at the
/// signature separator (`-- `).
pub fn reply_trailers(body: &str) -> Vec<Trailer> {
    let mut found = Vec::new();
    for line in body.lines() {
        if line == "-- " {
            break;
        }
        let Some((key, value)) = split_key_value(line) else {
            continue;
        };
        if !value.contains('@') {
            continue;
        }
        let trailer = Trailer {
            key: key.to_owned(),
            value: value.to_owned(),
        };
        if trailer.is_review_tag() {
            found.push(trailer);
        }
    }
    found
}

/// Series metadata (`base-commit:`, `change-id:`, `prerequisite-*:`) found
/// anywhere in the body. Lines of a diff hunk start with ` `, `+` or `-`, so
/// they are never mistaken for these.
pub fn meta_trailers(body: &str) -> Vec<Trailer> {
    let mut starts: Vec<usize> = ["base-commit:", "change-id:", "prerequisite-"]
        .iter()
        .flat_map(|marker| crate::diff::line_starts(body, marker))
        .collect();
    starts.sort_unstable();
    starts
        .into_iter()
        .filter_map(|start| {
            let line = body[start..].lines().next()?;
            let (key, value) = split_key_value(line)?;
            is_meta_key(key).then(|| Trailer {
                key: key.to_owned(),
                value: value.to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(trailers: &[Trailer]) -> Vec<String> {
        trailers.iter().map(Trailer::line).collect()
    }

    #[test]
    fn commit_trailers_of_a_commit_message() {
        let text = "mm: fix\n\nSome text: with colon\nLink: https://x/y\n\
                    Fixes: 9fd13751abf5f (\"io_uring: x\")\nCc: stable@vger.kernel.org # 6.1\n\
                    Reported-by: A <a@b.c>\nCo-developed-by: B <b@c.d>\nSigned-off-by: C <c@d.e>\n\
                    > Acked-by: quoted <q@q.q>\nhttp://not-a-trailer\n";
        assert_eq!(
            lines(&commit_trailers(text)),
            [
                "Link: https://x/y",
                "Fixes: 9fd13751abf5f (\"io_uring: x\")",
                "Cc: stable@vger.kernel.org # 6.1",
                "Reported-by: A <a@b.c>",
                "Co-developed-by: B <b@c.d>",
                "Signed-off-by: C <c@d.e>",
            ]
        );
    }

    #[test]
    fn reply_trailers_skip_quotes_signatures_and_prose() {
        let body = "On Mon, X wrote:\n> Signed-off-by: Author <a@a.a>\n> Reviewed-by: Q <q@q.q>\n\n\
                    Looks good.\n\nReviewed-by: Christoph Hellwig <hch@lst.de>\n\
                    Acked-by: Greg Kroah-Hartman <gregkh@linuxfoundation.org> [usb]\n\
                    Tested-by: soon\nSigned-off-by: Not A Review <n@n.n>\n-- \nAcked-by: sig <s@s.s>\n";
        assert_eq!(
            lines(&reply_trailers(body)),
            [
                "Reviewed-by: Christoph Hellwig <hch@lst.de>",
                "Acked-by: Greg Kroah-Hartman <gregkh@linuxfoundation.org> [usb]",
            ]
        );
    }

    #[test]
    fn meta_trailers_anywhere_in_the_body() {
        let body =
            "cover\n---\n a | 1 +\n---\nbase-commit: 0123abcd\nchange-id: 20240212-coreboot-abc\n\
                    prerequisite-patch-id: ffff\n+base-commit: in a hunk\n";
        assert_eq!(
            lines(&meta_trailers(body)),
            [
                "base-commit: 0123abcd",
                "change-id: 20240212-coreboot-abc",
                "prerequisite-patch-id: ffff",
            ]
        );
    }
}
