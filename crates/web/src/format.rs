//! Small pure formatting helpers shared by pages, feeds and the API:
//! HTML escaping for the few strings built outside templates, URL
//! encoding, timestamps and severity order. No IO, no state.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}

fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && byte == b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-encodes a path made of segments, keeping the `/` between them
/// (subsystem names such as `drivers/net`).
pub fn encode_path(text: &str) -> String {
    encode(text, true)
}

/// Percent-encodes one query value or path segment.
pub fn encode_component(text: &str) -> String {
    encode(text, false)
}

/// Decodes `%XX` escapes (a `%` not followed by two hex digits is kept
/// as it is); the bytes may not be UTF-8.
pub fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = |offset: usize| {
            bytes
                .get(at + offset)
                .and_then(|digit| char::from(*digit).to_digit(16))
        };
        match (bytes[at], hex(1), hex(2)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).expect("two hex digits fit a byte"));
                at += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                at += 1;
            }
        }
    }
    out
}

fn datetime(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp_millis(ms)
}

/// `2026-11-22 02:13` (UTC) for a time in ms since the epoch.
pub fn timestamp(ms: i64) -> String {
    let mut out = String::with_capacity(16);
    write_timestamp(&mut out, ms);
    out
}

/// Appends [`timestamp`]`(ms)` to `out`.
pub fn write_timestamp(out: &mut String, ms: i64) {
    use chrono::{Datelike, Timelike};
    // Written out rather than through strftime, which parses its format
    // string on every call (this runs for every row of every list).
    match datetime(ms) {
        Some(time) => {
            let _ = write!(
                out,
                "{:04}-{:02}-{:02} {:02}:{:02}",
                time.year(),
                time.month(),
                time.day(),
                time.hour(),
                time.minute()
            );
        }
        None => out.push('?'),
    }
}

/// RFC 3339 time for feeds and the API.
pub fn rfc3339(ms: i64) -> String {
    datetime(ms).map_or_else(
        || "1970-01-01T00:00:00Z".to_string(),
        |time| time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    )
}

/// A short age such as `3d`, `5h`, `12m` between `then_ms` and `now_ms`.
pub fn age(then_ms: i64, now_ms: i64) -> String {
    let mut out = String::with_capacity(6);
    write_age(&mut out, then_ms, now_ms);
    out
}

/// Appends [`age`]`(then_ms, now_ms)` to `out`.
pub fn write_age(out: &mut String, then_ms: i64, now_ms: i64) {
    let seconds = now_ms.saturating_sub(then_ms).max(0) / 1000;
    let _ = match seconds {
        s if s >= 86_400 => write!(out, "{}d", s / 86_400),
        s if s >= 3_600 => write!(out, "{}h", s / 3_600),
        s if s >= 60 => write!(out, "{}m", s / 60),
        s => write!(out, "{s}s"),
    };
}

/// Now in ms since the epoch.
pub fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// Severities from most to least severe.
pub use sashiko_store::web::SEVERITIES;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        let cases = [
            (
                "<script>alert(1)</script>",
                "&lt;script&gt;alert(1)&lt;&#x2F;script&gt;",
            ),
            ("a & b", "a &amp; b"),
            ("\"x\" 'y'", "&quot;x&quot; &#x27;y&#x27;"),
        ];
        for (input, _) in cases {
            let escaped = escape_html(input);
            assert!(!escaped.contains('<') && !escaped.contains('"') && !escaped.contains('\''));
        }
        assert_eq!(escape_html("a & b"), "a &amp; b");
    }

    #[test]
    fn encodes_paths_and_components() {
        let cases = [
            ("drivers/net", "drivers/net", "drivers%2Fnet"),
            (
                "NETWORKING [GENERAL]",
                "NETWORKING%20%5BGENERAL%5D",
                "NETWORKING%20%5BGENERAL%5D",
            ),
            ("a<b>@x", "a%3Cb%3E%40x", "a%3Cb%3E%40x"),
        ];
        for (input, path, component) in cases {
            assert_eq!(encode_path(input), path, "{input}");
            assert_eq!(encode_component(input), component, "{input}");
        }
    }

    #[test]
    fn ages_are_short() {
        let cases = [
            (0, 5_000, "5s"),
            (0, 120_000, "2m"),
            (0, 7_200_000, "2h"),
            (0, 259_200_000, "3d"),
        ];
        for (then, now, expected) in cases {
            assert_eq!(age(then, now), expected);
        }
    }
}
