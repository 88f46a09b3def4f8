//! The common shape of every mail source and the `SOURCE` syntax of the
//! command line.
//!
//! A source hands out raw messages one at a time, in a stable order, and can
//! say at any point how far it has got (its cursor, an opaque string only the
//! same kind of source reads back). Opening a source with a saved cursor
//! skips what was already handed out.
//!
//! Sources must never parse messages beyond what they need to find message
//! boundaries, and never write anywhere: storing is the caller's job.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use async_trait::async_trait;

use crate::error::SourceError;
use crate::mbox::MboxFormat;

/// One message as a source delivered it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceMessage {
    /// The message as stored by the archive (LF line endings where the
    /// transport mandates CRLF, as NNTP does).
    pub bytes: Vec<u8>,
    /// Where it came from inside the source, for messages to humans
    /// (`byte 1234`, `cur/1700000000.M1.host`, `commit 1a2b...`, `article 17`).
    pub location: String,
}

/// Something odd that a source noticed and worked around.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceDiagnostic {
    /// The source key and the location inside it.
    pub location: String,
    pub message: String,
}

impl fmt::Display for SourceDiagnostic {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.location, self.message)
    }
}

/// A stream of raw messages with a resumable position.
#[async_trait]
pub trait MessageSource: Send {
    /// The key under which this source's cursor is stored.
    fn key(&self) -> &str;

    /// The next message, or `None` at the end.
    async fn next_message(&mut self) -> Result<Option<SourceMessage>, SourceError>;

    /// The cursor that, given to [`open`], resumes right after the last
    /// message returned by [`MessageSource::next_message`].
    fn cursor(&self) -> String;

    /// Diagnostics gathered since the last call.
    fn take_diagnostics(&mut self) -> Vec<SourceDiagnostic>;
}

/// A parsed `SOURCE` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceSpec {
    /// `mbox:PATH`, `mboxrd:PATH`, `mboxo:PATH`; `format` is `None` when
    /// it is to be detected.
    Mbox {
        path: PathBuf,
        format: Option<MboxFormat>,
    },
    /// `maildir:PATH`.
    Maildir { path: PathBuf },
    /// `public-inbox:GITDIR`: one v2 epoch repository (`git/N.git`) or a v2
    /// inbox directory holding `git/*.git`.
    PublicInbox { path: PathBuf },
    /// `nntp://HOST[:PORT]/GROUP`.
    Nntp {
        host: String,
        port: u16,
        group: String,
    },
    /// `lore:BASE/LIST/MSGID`, or `lore:MSGID` for `https://lore.kernel.org/all`.
    Lore {
        base: String,
        list: String,
        message_id: String,
    },
}

/// The archive lore.kernel.org, used by `lore:MSGID`.
pub const DEFAULT_LORE_BASE: &str = "https://lore.kernel.org";

impl SourceSpec {
    /// The key a cursor is stored under: the canonical spelling of the
    /// source (absolute paths where the path exists).
    pub fn key(&self) -> String {
        match self {
            SourceSpec::Mbox { path, .. } => format!("mbox:{}", absolute(path).display()),
            SourceSpec::Maildir { path } => format!("maildir:{}", absolute(path).display()),
            SourceSpec::PublicInbox { path } => {
                format!("public-inbox:{}", absolute(path).display())
            }
            SourceSpec::Nntp { host, port, group } => format!("nntp://{host}:{port}/{group}"),
            SourceSpec::Lore {
                base,
                list,
                message_id,
            } => format!("lore:{base}/{list}/{message_id}"),
        }
    }
}

impl fmt::Display for SourceSpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.key())
    }
}

impl FromStr for SourceSpec {
    type Err = SourceError;

    fn from_str(spec: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| SourceError::InvalidSpec {
            spec: spec.to_owned(),
            reason: reason.to_owned(),
        };
        if let Some(rest) = spec.strip_prefix("nntp://") {
            let (authority, group) = rest
                .split_once('/')
                .ok_or_else(|| invalid("expected nntp://HOST[:PORT]/GROUP"))?;
            let group = group.trim_end_matches('/');
            if group.is_empty() || group.contains('/') {
                return Err(invalid("expected one newsgroup name after the host"));
            }
            let (host, port) = split_host_port(authority).ok_or_else(|| invalid("bad port"))?;
            if host.is_empty() {
                return Err(invalid("missing host"));
            }
            return Ok(SourceSpec::Nntp {
                host,
                port,
                group: group.to_owned(),
            });
        }
        if let Some(rest) = spec.strip_prefix("lore:") {
            return parse_lore(rest).ok_or_else(|| {
                invalid(
                    "expected lore:BASE/LIST/MSGID (BASE with http:// or https://) or lore:MSGID",
                )
            });
        }
        let non_empty = |path: &str| {
            if path.is_empty() {
                Err(invalid("empty path"))
            } else {
                Ok(PathBuf::from(path))
            }
        };
        let prefixed: [(&str, Option<MboxFormat>); 3] = [
            ("mbox:", None),
            ("mboxrd:", Some(MboxFormat::Mboxrd)),
            ("mboxo:", Some(MboxFormat::Mboxo)),
        ];
        for (prefix, format) in prefixed {
            if let Some(path) = spec.strip_prefix(prefix) {
                let path = non_empty(path)?;
                return Ok(SourceSpec::Mbox { path, format });
            }
        }
        if let Some(path) = spec.strip_prefix("maildir:") {
            return Ok(SourceSpec::Maildir {
                path: non_empty(path)?,
            });
        }
        if let Some(path) = spec.strip_prefix("public-inbox:") {
            return Ok(SourceSpec::PublicInbox {
                path: non_empty(path)?,
            });
        }
        detect_path(&non_empty(spec)?)
    }
}

/// A bare path: a directory with `cur/` or `new/` is a maildir, one that
/// looks like a git repository or v2 inbox is public-inbox, a file is an mbox.
fn detect_path(path: &Path) -> Result<SourceSpec, SourceError> {
    let metadata = std::fs::metadata(path).map_err(|source| SourceError::Read {
        path: path.to_owned(),
        source,
    })?;
    if metadata.is_file() {
        return Ok(SourceSpec::Mbox {
            path: path.to_owned(),
            format: None,
        });
    }
    if path.join("cur").is_dir() || path.join("new").is_dir() {
        return Ok(SourceSpec::Maildir {
            path: path.to_owned(),
        });
    }
    if path.join("objects").is_dir() || path.join("git").is_dir() {
        return Ok(SourceSpec::PublicInbox {
            path: path.to_owned(),
        });
    }
    Err(SourceError::UnknownKind {
        path: path.to_owned(),
    })
}

fn split_host_port(authority: &str) -> Option<(String, u16)> {
    const NNTP_PORT: u16 = 119;
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after.strip_prefix(':') {
            Some(port) => port.parse().ok()?,
            None if after.is_empty() => NNTP_PORT,
            None => return None,
        };
        return Some((host.to_owned(), port));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => Some((host.to_owned(), port.parse().ok()?)),
        None => Some((authority.to_owned(), NNTP_PORT)),
    }
}

fn parse_lore(rest: &str) -> Option<SourceSpec> {
    let rest = rest.trim_end_matches('/');
    if !rest.starts_with("http://") && !rest.starts_with("https://") {
        let message_id = strip_angle_brackets(rest);
        return (!message_id.is_empty() && !message_id.contains('/')).then(|| SourceSpec::Lore {
            base: DEFAULT_LORE_BASE.to_owned(),
            list: "all".to_owned(),
            message_id: message_id.to_owned(),
        });
    }
    let scheme_end = rest.find("://")? + 3;
    let (without_id, message_id) = rest.rsplit_once('/')?;
    let (base, list) = without_id.rsplit_once('/')?;
    if base.len() <= scheme_end || list.is_empty() || message_id.is_empty() {
        return None;
    }
    let message_id = percent_decode(message_id)?;
    let message_id = strip_angle_brackets(&message_id).to_owned();
    Some(SourceSpec::Lore {
        base: base.to_owned(),
        list: list.to_owned(),
        message_id,
    })
}

fn strip_angle_brackets(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('<')
        .and_then(|inner| inner.strip_suffix('>'))
        .unwrap_or(text)
}

/// Decodes `%XX` escapes (a Message-ID copied from a lore URL).
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            out.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn absolute(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

/// Opens the source `spec` describes, resuming after `cursor` when given.
pub async fn open(
    spec: &SourceSpec,
    cursor: Option<&str>,
) -> Result<Box<dyn MessageSource>, SourceError> {
    let key = spec.key();
    Ok(match spec {
        SourceSpec::Mbox { path, format } => Box::new(crate::mbox_source::MboxSource::open(
            key, path, *format, cursor,
        )?),
        SourceSpec::Maildir { path } => {
            Box::new(crate::maildir::MaildirSource::open(key, path, cursor)?)
        }
        SourceSpec::PublicInbox { path } => Box::new(crate::public_inbox::PublicInboxSource::open(
            key, path, cursor,
        )?),
        SourceSpec::Nntp { host, port, group } => {
            Box::new(crate::nntp::NntpSource::open(key, host, *port, group, cursor).await?)
        }
        SourceSpec::Lore {
            base,
            list,
            message_id,
        } => Box::new(crate::lore::LoreSource::open(key, base, list, message_id, cursor).await?),
    })
}

#[cfg(test)]
#[path = "source_tests.rs"]
mod tests;
