//! Splitting an mbox file into raw messages.
//!
//! Understands the two common escaping conventions: *mboxo* (a body line
//! `From ` was written as `>From `) and *mboxrd* (every line matching
//! `^>*From ` got one more `>`), and undoes the escaping of the format it
//! is told. Line endings (LF or CRLF) are kept as found; the blank line a
//! writer puts after each message is removed. Every message carries the byte
//! offsets of its `From ` line and of the end of its entry so a reader can
//! resume after the last message it handled.
//!
//! This module must never parse headers or bodies, never drop bytes silently
//! (odd input becomes a [`MboxDiagnostic`]) and never do IO.

use std::fmt;
use std::str::FromStr;

/// The `From ` line public-inbox and lore write before each message.
const PUBLIC_INBOX_FROM_LINE: &[u8] = b"From mboxrd@z ";

/// How `From ` lines inside message bodies were escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MboxFormat {
    /// Only `From ` was escaped as `>From `; `>From ` is read back as `From `.
    Mboxo,
    /// Every `>*From ` got one more `>`; one `>` is removed when reading.
    Mboxrd,
}

impl MboxFormat {
    /// The name used in source specifications (`mboxo`, `mboxrd`).
    pub fn name(self) -> &'static str {
        match self {
            MboxFormat::Mboxo => "mboxo",
            MboxFormat::Mboxrd => "mboxrd",
        }
    }
}

impl fmt::Display for MboxFormat {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

impl FromStr for MboxFormat {
    type Err = UnknownMboxFormat;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "mboxo" => Ok(MboxFormat::Mboxo),
            "mboxrd" => Ok(MboxFormat::Mboxrd),
            _ => Err(UnknownMboxFormat(text.to_owned())),
        }
    }
}

/// A format name other than `mboxo` or `mboxrd`.
#[derive(Debug, thiserror::Error)]
#[error("unknown mbox format {0:?} (expected mboxo or mboxrd)")]
pub struct UnknownMboxFormat(pub String);

/// Guesses the escaping convention of an mbox.
///
/// A file whose first line is public-inbox's `From mboxrd@z ...` is mboxrd;
/// so is a file with a body line `>>From ` (mboxo writers never add a second
/// `>`, so such a line is rare there, while mboxrd produces it for every
/// quoted `>From `). Anything else is read as mboxo, the older and more
/// common convention of mail clients.
pub fn detect_format(bytes: &[u8]) -> MboxFormat {
    if bytes.starts_with(PUBLIC_INBOX_FROM_LINE) {
        return MboxFormat::Mboxrd;
    }
    let has_double_escape = lines(bytes).any(|line| {
        let gt = line.iter().take_while(|&&byte| byte == b'>').count();
        gt >= 2 && line[gt..].starts_with(b"From ")
    });
    if has_double_escape {
        MboxFormat::Mboxrd
    } else {
        MboxFormat::Mboxo
    }
}

/// One message cut out of an mbox, escaping undone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// Byte offset of the message's `From ` line in the mbox (or of its
    /// first byte when there is no `From ` line before it).
    pub offset: u64,
    /// Byte offset just past this message's entry, including the blank
    /// separator line: where the next `From ` line starts. Resuming at this
    /// offset reads the following messages only.
    pub end_offset: u64,
    /// The `From ` line without its line ending, empty when there was none.
    pub from_line: Vec<u8>,
    /// The message (headers and body) as it was before it was written into
    /// the mbox.
    pub bytes: Vec<u8>,
}

/// Something odd about an mbox that did not stop it from being read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MboxDiagnostic {
    /// Byte offset in the mbox the diagnostic is about.
    pub offset: u64,
    pub kind: MboxDiagnosticKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MboxDiagnosticKind {
    /// The data does not start with a `From ` line; the bytes before the
    /// first one were kept as a message of their own.
    NoLeadingFromLine { kept_bytes: usize },
    /// An entry held nothing but its `From ` line.
    EmptyMessage,
    /// The data did not end with a line ending; the last message was kept
    /// as it was.
    MissingTrailingNewline,
}

impl fmt::Display for MboxDiagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offset = self.offset;
        match &self.kind {
            MboxDiagnosticKind::NoLeadingFromLine { kept_bytes } => write!(
                formatter,
                "mbox does not start with a \"From \" line; kept the first {kept_bytes} bytes as a message"
            ),
            MboxDiagnosticKind::EmptyMessage => {
                write!(formatter, "empty mbox entry at byte {offset}, skipped")
            }
            MboxDiagnosticKind::MissingTrailingNewline => write!(
                formatter,
                "mbox does not end with a newline; kept the last message from byte {offset} as it is"
            ),
        }
    }
}

/// The result of splitting an mbox: the messages in file order plus what
/// was odd about the file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SplitMbox {
    pub messages: Vec<RawMessage>,
    pub diagnostics: Vec<MboxDiagnostic>,
}

/// Splits a whole mbox into messages.
pub fn split(bytes: &[u8], format: MboxFormat) -> SplitMbox {
    split_from(bytes, 0, format)
}

/// Splits the part of an mbox that starts at byte `start` (a value taken
/// from [`RawMessage::end_offset`]); offsets stay relative to the whole
/// data. A `start` past the end yields nothing.
pub fn split_from(bytes: &[u8], start: usize, format: MboxFormat) -> SplitMbox {
    let mut result = SplitMbox::default();
    let Some(data) = bytes.get(start..) else {
        return result;
    };
    let mut starts = entry_starts(data);
    let leading_end = starts.first().copied().unwrap_or(data.len());
    let leading = &data[..leading_end];
    if !leading.iter().all(u8::is_ascii_whitespace) {
        result.diagnostics.push(MboxDiagnostic {
            offset: start as u64,
            kind: MboxDiagnosticKind::NoLeadingFromLine {
                kept_bytes: leading.len(),
            },
        });
        starts.insert(0, 0);
    }
    for (index, &entry_start) in starts.iter().enumerate() {
        let entry_end = starts.get(index + 1).copied().unwrap_or(data.len());
        let entry = &data[entry_start..entry_end];
        let has_from_line = entry.starts_with(b"From ");
        let (from_line, content) = if has_from_line {
            match memchr::memchr(b'\n', entry) {
                Some(newline) => (strip_cr(&entry[..newline]), &entry[newline + 1..]),
                None => (entry, &entry[entry.len()..]),
            }
        } else {
            (&entry[..0], entry)
        };
        let offset = (start + entry_start) as u64;
        let content = strip_separator_line(content);
        if content.is_empty() {
            result.diagnostics.push(MboxDiagnostic {
                offset,
                kind: MboxDiagnosticKind::EmptyMessage,
            });
            continue;
        }
        result.messages.push(RawMessage {
            offset,
            end_offset: (start + entry_end) as u64,
            from_line: from_line.to_vec(),
            bytes: unescape(content, format),
        });
    }
    if !data.is_empty() && !data.ends_with(b"\n") {
        let offset = result.messages.last().map_or(start as u64, |m| m.offset);
        result.diagnostics.push(MboxDiagnostic {
            offset,
            kind: MboxDiagnosticKind::MissingTrailingNewline,
        });
    }
    result
}

/// Offsets of the `From ` lines that begin entries: at the start of the data
/// or right after a blank line. A `From ` line that follows a non-blank line
/// was not escaped by a careless writer; it stays in the body.
fn entry_starts(data: &[u8]) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut line_start = 0;
    let mut previous_blank = true;
    while line_start < data.len() {
        let line_end = memchr::memchr(b'\n', &data[line_start..])
            .map_or(data.len(), |newline| line_start + newline + 1);
        let line = &data[line_start..line_end];
        if previous_blank && line.starts_with(b"From ") {
            starts.push(line_start);
        }
        previous_blank = matches!(line, b"\n" | b"\r\n");
        line_start = line_end;
    }
    starts
}

/// Removes the blank line a writer adds after each message (LF or CRLF).
fn strip_separator_line(content: &[u8]) -> &[u8] {
    if let Some(body) = content.strip_suffix(b"\r\n\r\n") {
        return &content[..body.len() + 2];
    }
    if let Some(body) = content.strip_suffix(b"\n\n") {
        return &content[..body.len() + 1];
    }
    if content == b"\n" || content == b"\r\n" {
        return &content[..0];
    }
    content
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Undoes the `From ` escaping of `format` line by line.
fn unescape(content: &[u8], format: MboxFormat) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len());
    for line in lines(content) {
        let gt = line.iter().take_while(|&&byte| byte == b'>').count();
        let escaped = line[gt..].starts_with(b"From ")
            && match format {
                MboxFormat::Mboxrd => gt >= 1,
                MboxFormat::Mboxo => gt == 1,
            };
        out.extend_from_slice(if escaped { &line[1..] } else { line });
    }
    out
}

/// Lines including their `\n` (the last one may lack it).
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = bytes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\n', rest).map_or(rest.len(), |newline| newline + 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

#[cfg(test)]
#[path = "mbox_tests.rs"]
mod tests;
