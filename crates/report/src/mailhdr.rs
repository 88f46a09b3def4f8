//! Header values for outgoing mail: mailboxes, RFC 2047 encoded words for
//! non-ASCII text, folding of long `References`.
//!
//! Pure text in, text out. It must never accept a value carrying CR or LF
//! into a header (header injection): those are replaced by spaces.

use std::fmt;

/// One address with an optional display name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mailbox {
    /// Display name, if any.
    pub name: Option<String>,
    /// The address, `local@domain`.
    pub email: String,
}

impl Mailbox {
    /// A mailbox from parts.
    pub fn new(name: Option<&str>, email: &str) -> Mailbox {
        Mailbox {
            name: name
                .map(|n| n.trim().trim_matches('"').to_owned())
                .filter(|n| !n.is_empty()),
            email: email.trim().to_owned(),
        }
    }

    /// Parses `Name <email>`, `"Name" <email>` or a bare `email`; `None`
    /// when there is no `@`.
    pub fn parse(text: &str) -> Option<Mailbox> {
        let text = text.trim();
        let (name, email) = match (text.rfind('<'), text.rfind('>')) {
            (Some(open), Some(close)) if open < close => {
                (Some(&text[..open]), &text[open + 1..close])
            }
            _ => (None, text),
        };
        email.contains('@').then(|| Mailbox::new(name, email))
    }

    /// The address lowercased, for comparisons.
    pub fn key(&self) -> String {
        self.email.to_ascii_lowercase()
    }

    /// The mailbox as a header value (name encoded or quoted as needed).
    pub fn header_value(&self) -> String {
        let email = sanitize(&self.email);
        match &self.name {
            None => email,
            Some(name) => format!("{} <{email}>", phrase(&sanitize(name))),
        }
    }
}

impl fmt::Display for Mailbox {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            None => formatter.write_str(&self.email),
            Some(name) => write!(formatter, "{name} <{}>", self.email),
        }
    }
}

/// CR and LF become spaces: nothing from input may start a new header.
pub fn sanitize(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

fn phrase(name: &str) -> String {
    if !name.is_ascii() {
        return encoded_word(name);
    }
    let special = name.chars().any(|c| "()<>[]:;@\\,.\"".contains(c));
    if special {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        name.to_owned()
    }
}

/// Unstructured text (Subject): as is when ASCII, else encoded words.
pub fn unstructured(text: &str) -> String {
    let text = sanitize(text);
    if text.is_ascii() {
        text
    } else {
        encoded_word(&text)
    }
}

/// `=?UTF-8?B?...?=` words of at most 45 input bytes each (a word stays
/// under 75 characters), split on character boundaries and joined by
/// folding whitespace.
fn encoded_word(text: &str) -> String {
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in text.chars() {
        if chunk.len() + c.len_utf8() > 45 {
            words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(format!("=?UTF-8?B?{}?=", base64(chunk.as_bytes())));
    }
    words.join("\r\n ")
}

fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (position, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if position <= group.len() {
                out.push(char::from(TABLE[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A list of Message-IDs as a folded header value, `<id>` each.
pub fn message_id_list(ids: &[String]) -> String {
    ids.iter()
        .map(|id| {
            format!(
                "<{}>",
                sanitize(id.trim_start_matches('<').trim_end_matches('>'))
            )
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// Mailboxes as one folded header value.
pub fn mailbox_list(boxes: &[Mailbox]) -> String {
    boxes
        .iter()
        .map(Mailbox::header_value)
        .collect::<Vec<_>>()
        .join(",\r\n ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailboxes_parse_and_render() {
        let cases = [
            (
                "Jens Axboe <axboe@kernel.dk>",
                Some("Jens Axboe <axboe@kernel.dk>"),
            ),
            (
                "\"Axboe, Jens\" <axboe@kernel.dk>",
                Some("\"Axboe, Jens\" <axboe@kernel.dk>"),
            ),
            ("axboe@kernel.dk", Some("axboe@kernel.dk")),
            (
                "Pavel Begunkov <asml.silence@gmail.com>",
                Some("Pavel Begunkov <asml.silence@gmail.com>"),
            ),
            (
                "Jörg R <j@example.org>",
                Some("=?UTF-8?B?SsO2cmcgUg==?= <j@example.org>"),
            ),
            ("Evil\r\nBcc: x@y <a@b>", Some("\"Evil  Bcc: x@y\" <a@b>")),
            ("no address", None),
        ];
        for (input, expected) in cases {
            let rendered = Mailbox::parse(input).map(|m| m.header_value());
            assert_eq!(rendered.as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ];
        for (input, expected) in cases {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }

    #[test]
    fn subjects_are_encoded_only_when_needed() {
        assert_eq!(unstructured("Re: [PATCH] x"), "Re: [PATCH] x");
        let long = "é".repeat(40);
        let encoded = unstructured(&long);
        assert!(
            encoded.lines().all(|line| line.trim_end().len() <= 76),
            "{encoded}"
        );
        assert!(encoded.starts_with("=?UTF-8?B?"));
    }
}
