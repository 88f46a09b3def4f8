//! An mbox file as a [`MessageSource`]; the cursor is the byte offset just
//! past the last message handed out.
//!
//! A cursor that no longer points at a `From ` line (the file was replaced
//! or truncated) is reported and reading starts over from the beginning:
//! re-reading is harmless because storing is idempotent, skipping is not.
//! This module must never modify the mbox.

use std::collections::VecDeque;
use std::path::Path;

use async_trait::async_trait;

use crate::error::SourceError;
use crate::mbox::{self, MboxFormat, RawMessage};
use crate::source::{MessageSource, SourceDiagnostic, SourceMessage};

pub struct MboxSource {
    key: String,
    messages: VecDeque<RawMessage>,
    position: u64,
    diagnostics: Vec<SourceDiagnostic>,
}

impl MboxSource {
    /// Reads `path` and splits it from the cursor on; `format` `None`
    /// detects the escaping convention.
    pub fn open(
        key: String,
        path: &Path,
        format: Option<MboxFormat>,
        cursor: Option<&str>,
    ) -> Result<Self, SourceError> {
        let bytes = std::fs::read(path).map_err(|source| SourceError::Read {
            path: path.to_owned(),
            source,
        })?;
        let format = format.unwrap_or_else(|| mbox::detect_format(&bytes));
        let mut diagnostics = Vec::new();
        let start = match cursor {
            None => 0,
            Some(cursor) => match valid_resume_offset(&bytes, cursor) {
                Some(offset) => offset,
                None => {
                    diagnostics.push(SourceDiagnostic {
                        location: key.clone(),
                        message: format!(
                            "saved position {cursor:?} is not the start of a message in this file \
                             (replaced or truncated?); reading it again from the beginning"
                        ),
                    });
                    0
                }
            },
        };
        let split = mbox::split_from(&bytes, start, format);
        diagnostics.extend(split.diagnostics.iter().map(|diagnostic| SourceDiagnostic {
            location: format!("{key} byte {}", diagnostic.offset),
            message: diagnostic.to_string(),
        }));
        Ok(Self {
            key,
            messages: split.messages.into(),
            position: start as u64,
            diagnostics,
        })
    }
}

/// The offset in `cursor` if it is the end of the data or the start of a
/// `From ` line that follows a line ending.
fn valid_resume_offset(bytes: &[u8], cursor: &str) -> Option<usize> {
    let offset: usize = cursor.parse().ok()?;
    if offset == 0 || offset == bytes.len() {
        return Some(offset);
    }
    let at_line_start = bytes.get(offset - 1) == Some(&b'\n');
    let at_from_line = bytes.get(offset..)?.starts_with(b"From ");
    (at_line_start && at_from_line).then_some(offset)
}

#[async_trait]
impl MessageSource for MboxSource {
    fn key(&self) -> &str {
        &self.key
    }

    async fn next_message(&mut self) -> Result<Option<SourceMessage>, SourceError> {
        let Some(message) = self.messages.pop_front() else {
            return Ok(None);
        };
        self.position = message.end_offset;
        Ok(Some(SourceMessage {
            bytes: message.bytes,
            location: format!("byte {}", message.offset),
        }))
    }

    fn cursor(&self) -> String {
        self.position.to_string()
    }

    fn take_diagnostics(&mut self) -> Vec<SourceDiagnostic> {
        std::mem::take(&mut self.diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resume_offsets_are_checked() {
        let data = b"From a\nS: 1\n\nx\n\nFrom b\nS: 2\n\n";
        let cases: &[(&str, Option<usize>)] = &[
            ("0", Some(0)),
            ("16", Some(16)),
            ("29", Some(29)),
            ("17", None),
            ("1000", None),
            ("-1", None),
            ("garbage", None),
        ];
        for (cursor, expected) in cases {
            assert_eq!(
                valid_resume_offset(data, cursor),
                *expected,
                "cursor {cursor}"
            );
        }
    }
}
