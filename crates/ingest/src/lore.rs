//! A lore (public-inbox HTTP) thread fetched by Message-ID as a
//! [`MessageSource`]: `GET BASE/LIST/MSGID/t.mbox.gz`, gunzipped and split
//! as mboxrd.
//!
//! A thread has no stable order as it grows (public-inbox sorts it by
//! date), so the cursor is the set of SHA-256 digests of the messages
//! already handed out; a later run hands out only replies that arrived
//! since. This module must never send anything but the one GET.

use std::collections::VecDeque;
use std::io::Read;
use std::time::Duration;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::error::SourceError;
use crate::mbox::{self, MboxFormat, RawMessage};
use crate::seen::SeenSet;
use crate::source::{MessageSource, SourceDiagnostic, SourceMessage};

const HTTP_TIMEOUT: Duration = Duration::from_secs(120);

/// The URL of the thread mbox of `message_id` in `list` at `base`.
pub fn thread_url(base: &str, list: &str, message_id: &str) -> String {
    format!(
        "{}/{list}/{}/t.mbox.gz",
        base.trim_end_matches('/'),
        escape_message_id(message_id)
    )
}

/// Percent-escapes a Message-ID for a URL path segment the way
/// public-inbox links to it (RFC 3986 unreserved and sub-delims, `:` and
/// `@` stay).
pub fn escape_message_id(message_id: &str) -> String {
    let mut escaped = String::with_capacity(message_id.len());
    for byte in message_id.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@".contains(&byte) {
            escaped.push(char::from(byte));
        } else {
            escaped.push_str(&format!("%{byte:02X}"));
        }
    }
    escaped
}

/// Fetches the thread mbox of `message_id` and returns its bytes,
/// gunzipped.
pub async fn fetch_thread(
    base: &str,
    list: &str,
    message_id: &str,
) -> Result<Vec<u8>, SourceError> {
    let url = thread_url(base, list, message_id);
    // Errors name the URL with any userinfo or token redacted, and the
    // transport's error without its copy of the URL.
    let shown = sashiko_safetext::redact_url(&url);
    let http_error = |source: reqwest::Error| SourceError::Http {
        url: shown.clone(),
        source: source.without_url(),
    };
    let client = reqwest::Client::builder()
        .timeout(HTTP_TIMEOUT)
        .user_agent(concat!("sashiko/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(http_error)?;
    let response = client.get(&url).send().await.map_err(http_error)?;
    let status = response.status();
    if !status.is_success() {
        return Err(SourceError::HttpStatus {
            url: shown,
            status: status.as_u16(),
        });
    }
    let body = response.bytes().await.map_err(http_error)?;
    gunzip_if_needed(&body).map_err(|source| SourceError::Gunzip { url: shown, source })
}

/// Gunzips `body` when it starts with the gzip magic; a body some proxy
/// already decoded is returned as it is.
fn gunzip_if_needed(body: &[u8]) -> std::io::Result<Vec<u8>> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok(body.to_vec());
    }
    let mut out = Vec::with_capacity(body.len() * 4);
    flate2::read::MultiGzDecoder::new(body).read_to_end(&mut out)?;
    Ok(out)
}

pub struct LoreSource {
    key: String,
    pending: VecDeque<RawMessage>,
    seen: SeenSet,
    diagnostics: Vec<SourceDiagnostic>,
}

impl LoreSource {
    pub async fn open(
        key: String,
        base: &str,
        list: &str,
        message_id: &str,
        cursor: Option<&str>,
    ) -> Result<Self, SourceError> {
        let mut diagnostics = Vec::new();
        let seen = SeenSet::from_cursor(cursor).unwrap_or_else(|message| {
            diagnostics.push(SourceDiagnostic {
                location: key.clone(),
                message: format!("{message}; handing out the whole thread again"),
            });
            SeenSet::default()
        });
        let thread = fetch_thread(base, list, message_id).await?;
        let split = mbox::split(&thread, MboxFormat::Mboxrd);
        diagnostics.extend(split.diagnostics.iter().map(|diagnostic| SourceDiagnostic {
            location: format!("{key} byte {}", diagnostic.offset),
            message: diagnostic.to_string(),
        }));
        let pending = split
            .messages
            .into_iter()
            .filter(|message| !seen.contains(&digest(&message.bytes)))
            .collect();
        Ok(Self {
            key,
            pending,
            seen,
            diagnostics,
        })
    }
}

fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[async_trait]
impl MessageSource for LoreSource {
    fn key(&self) -> &str {
        &self.key
    }

    async fn next_message(&mut self) -> Result<Option<SourceMessage>, SourceError> {
        let Some(message) = self.pending.pop_front() else {
            return Ok(None);
        };
        self.seen.insert(digest(&message.bytes));
        Ok(Some(SourceMessage {
            bytes: message.bytes,
            location: format!("thread byte {}", message.offset),
        }))
    }

    fn cursor(&self) -> String {
        self.seen.to_cursor()
    }

    fn take_diagnostics(&mut self) -> Vec<SourceDiagnostic> {
        std::mem::take(&mut self.diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_escape_message_ids() {
        let cases = [
            (
                "20250218224229.837848-1-kbusch@meta.com",
                "20250218224229.837848-1-kbusch@meta.com",
            ),
            ("a/b%c d?e#f", "a%2Fb%25c%20d%3Fe%23f"),
            ("Z7Vc0gWj-NNxqLME@fedora", "Z7Vc0gWj-NNxqLME@fedora"),
        ];
        for (message_id, escaped) in cases {
            assert_eq!(escape_message_id(message_id), escaped);
        }
        assert_eq!(
            thread_url("http://127.0.0.1:8080/", "io-uring", "a/b@c"),
            "http://127.0.0.1:8080/io-uring/a%2Fb@c/t.mbox.gz"
        );
    }

    #[test]
    fn gunzips_only_gzip() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(b"From x\n\n").expect("compress");
        let compressed = encoder.finish().expect("finish");
        assert_eq!(
            gunzip_if_needed(&compressed).expect("gunzip"),
            b"From x\n\n"
        );
        assert_eq!(gunzip_if_needed(b"From y\n").expect("plain"), b"From y\n");
        assert!(gunzip_if_needed(&[0x1f, 0x8b, 0, 1, 2]).is_err());
    }
}
