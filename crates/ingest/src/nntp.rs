//! A small NNTP reader client (RFC 3977) on tokio and a newsgroup as a
//! [`MessageSource`].
//!
//! Speaks only what reading an archive needs: the greeting, `MODE READER`,
//! `GROUP`, `OVER` (falling back to `XOVER`), `ARTICLE` and `QUIT`, with
//! dot-unstuffing of multi-line responses. Articles arrive with CRLF line
//! endings as the protocol requires; they are handed on with LF endings,
//! the form archives store. The cursor is the number of the last article
//! handed out. This module must never post and never authenticate.

use std::collections::VecDeque;
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;

use crate::error::SourceError;
use crate::source::{MessageSource, SourceDiagnostic, SourceMessage};

/// How long one response may take before the server is given up on.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(120);
/// Article numbers asked for per `OVER` command.
const OVERVIEW_CHUNK: u64 = 1000;

/// What `GROUP` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GroupInfo {
    pub count: u64,
    pub low: u64,
    pub high: u64,
}

/// One line of `OVER` output (the fields a reader needs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overview {
    pub number: u64,
    pub subject: String,
    pub from: String,
    pub date: String,
    pub message_id: String,
    pub references: String,
}

/// A connection to an NNTP server.
pub struct NntpClient {
    stream: BufStream<TcpStream>,
    server: String,
    use_xover: bool,
}

impl NntpClient {
    /// Connects and reads the greeting (200 or 201), then asks for reader
    /// mode (servers that do not know `MODE READER` are fine too).
    pub async fn connect(host: &str, port: u16) -> Result<Self, SourceError> {
        let server = format!("{host}:{port}");
        let stream = timed(&server, "connecting", TcpStream::connect((host, port))).await?;
        let mut client = Self {
            stream: BufStream::new(stream),
            server,
            use_xover: false,
        };
        let (code, text) = client.read_status("connecting").await?;
        if code != 200 && code != 201 {
            return Err(client.unexpected("connecting", code, &text));
        }
        client.command("MODE READER").await?;
        Ok(client)
    }

    /// Selects `group`.
    pub async fn group(&mut self, group: &str) -> Result<GroupInfo, SourceError> {
        let command = format!("GROUP {group}");
        let (code, text) = self.command(&command).await?;
        if code != 211 {
            return Err(self.unexpected(&command, code, &text));
        }
        let mut numbers = text.split_whitespace().skip(1).map(str::parse::<u64>);
        match (numbers.next(), numbers.next(), numbers.next()) {
            (Some(Ok(count)), Some(Ok(low)), Some(Ok(high))) => Ok(GroupInfo { count, low, high }),
            _ => Err(self.unexpected(&command, code, &text)),
        }
    }

    /// Overview lines for articles `low..=high` of the current group.
    pub async fn over(&mut self, low: u64, high: u64) -> Result<Vec<Overview>, SourceError> {
        let verb = if self.use_xover { "XOVER" } else { "OVER" };
        let mut command = format!("{verb} {low}-{high}");
        let (mut code, mut text) = self.command(&command).await?;
        if !self.use_xover && (code == 500 || code == 501) {
            self.use_xover = true;
            command = format!("XOVER {low}-{high}");
            (code, text) = self.command(&command).await?;
        }
        match code {
            224 => {}
            // No articles in that range.
            423 | 420 => return Ok(Vec::new()),
            _ => return Err(self.unexpected(&command, code, &text)),
        }
        let body = self.read_multiline(&command).await?;
        Ok(String::from_utf8_lossy(&body)
            .lines()
            .filter_map(parse_overview)
            .collect())
    }

    /// Article `number` (headers and body, LF endings), or `None` when the
    /// server has no such article (423).
    pub async fn article(&mut self, number: u64) -> Result<Option<Vec<u8>>, SourceError> {
        let command = format!("ARTICLE {number}");
        let (code, text) = self.command(&command).await?;
        match code {
            220 => self.read_multiline(&command).await.map(Some),
            423 | 430 => Ok(None),
            _ => Err(self.unexpected(&command, code, &text)),
        }
    }

    /// Says goodbye; errors are ignored since the connection is done.
    pub async fn quit(mut self) {
        let _ = self.command("QUIT").await;
    }

    async fn command(&mut self, command: &str) -> Result<(u16, String), SourceError> {
        let line = format!("{command}\r\n");
        let server = self.server.clone();
        timed(&server, command, async {
            self.stream.write_all(line.as_bytes()).await?;
            self.stream.flush().await
        })
        .await?;
        self.read_status(command).await
    }

    async fn read_status(&mut self, command: &str) -> Result<(u16, String), SourceError> {
        let mut line = Vec::new();
        let server = self.server.clone();
        let read = timed(&server, command, self.stream.read_until(b'\n', &mut line)).await?;
        if read == 0 {
            return Err(self.closed(command));
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        match text.get(..3).and_then(|code| code.parse::<u16>().ok()) {
            Some(code) => Ok((code, text)),
            None => Err(self.unexpected(command, 0, &text)),
        }
    }

    /// Reads a multi-line data block up to the lone `.`, undoing dot-stuffing
    /// and turning CRLF into LF.
    async fn read_multiline(&mut self, command: &str) -> Result<Vec<u8>, SourceError> {
        let mut data = Vec::new();
        let mut line = Vec::new();
        let server = self.server.clone();
        loop {
            line.clear();
            let read = timed(&server, command, self.stream.read_until(b'\n', &mut line)).await?;
            if read == 0 {
                return Err(self.closed(command));
            }
            if line == b".\r\n" || line == b".\n" {
                return Ok(data);
            }
            let content = line.strip_prefix(b".").unwrap_or(&line);
            match content.strip_suffix(b"\r\n") {
                Some(without_crlf) => {
                    data.extend_from_slice(without_crlf);
                    data.push(b'\n');
                }
                None => data.extend_from_slice(content),
            }
        }
    }

    fn unexpected(&self, command: &str, _code: u16, text: &str) -> SourceError {
        SourceError::NntpResponse {
            server: self.server.clone(),
            command: command.to_owned(),
            response: text.to_owned(),
        }
    }

    fn closed(&self, command: &str) -> SourceError {
        SourceError::NntpIo {
            server: self.server.clone(),
            what: format!("connection closed while waiting for the answer to {command}"),
            source: std::io::ErrorKind::UnexpectedEof.into(),
        }
    }
}

/// Runs an IO step with [`RESPONSE_TIMEOUT`], naming server and command in
/// the error.
async fn timed<T>(
    server: &str,
    command: &str,
    step: impl std::future::Future<Output = std::io::Result<T>>,
) -> Result<T, SourceError> {
    let error = |source| SourceError::NntpIo {
        server: server.to_owned(),
        what: format!("sending or reading {command}"),
        source,
    };
    match tokio::time::timeout(RESPONSE_TIMEOUT, step).await {
        Ok(result) => result.map_err(error),
        Err(_) => Err(error(std::io::ErrorKind::TimedOut.into())),
    }
}

/// Parses one tab-separated overview line; `None` for a malformed one.
pub fn parse_overview(line: &str) -> Option<Overview> {
    let mut fields = line.split('\t');
    let number = fields.next()?.trim().parse().ok()?;
    let mut next = || fields.next().unwrap_or("").to_owned();
    Some(Overview {
        number,
        subject: next(),
        from: next(),
        date: next(),
        message_id: next(),
        references: next(),
    })
}

/// A newsgroup read article by article from the cursor on.
pub struct NntpSource {
    key: String,
    client: NntpClient,
    group: GroupInfo,
    /// First article number not yet listed with `OVER`.
    next_to_list: u64,
    pending: VecDeque<u64>,
    last_number: u64,
    diagnostics: Vec<SourceDiagnostic>,
}

impl NntpSource {
    pub async fn open(
        key: String,
        host: &str,
        port: u16,
        group_name: &str,
        cursor: Option<&str>,
    ) -> Result<Self, SourceError> {
        let mut client = NntpClient::connect(host, port).await?;
        let group = client.group(group_name).await?;
        let mut diagnostics = Vec::new();
        let last_number = match cursor.map(str::parse::<u64>) {
            None => 0,
            Some(Ok(number)) => number,
            Some(Err(_)) => {
                diagnostics.push(SourceDiagnostic {
                    location: key.clone(),
                    message: format!(
                        "saved position {:?} is not an article number; reading the group from its first article",
                        cursor.unwrap_or_default()
                    ),
                });
                0
            }
        };
        Ok(Self {
            key,
            client,
            group,
            next_to_list: group.low.max(last_number + 1),
            pending: VecDeque::new(),
            last_number,
            diagnostics,
        })
    }

    /// What `GROUP` reported when the source was opened.
    pub fn group_info(&self) -> GroupInfo {
        self.group
    }
}

#[async_trait]
impl MessageSource for NntpSource {
    fn key(&self) -> &str {
        &self.key
    }

    async fn next_message(&mut self) -> Result<Option<SourceMessage>, SourceError> {
        loop {
            while self.pending.is_empty() && self.next_to_list <= self.group.high {
                let low = self.next_to_list;
                let high = self.group.high.min(low + OVERVIEW_CHUNK - 1);
                let overview = self.client.over(low, high).await?;
                self.pending
                    .extend(overview.iter().map(|entry| entry.number));
                self.next_to_list = high + 1;
            }
            let Some(number) = self.pending.pop_front() else {
                return Ok(None);
            };
            let article = self.client.article(number).await?;
            self.last_number = number;
            match article {
                Some(bytes) => {
                    return Ok(Some(SourceMessage {
                        bytes,
                        location: format!("article {number}"),
                    }))
                }
                None => self.diagnostics.push(SourceDiagnostic {
                    location: format!("{} article {number}", self.key),
                    message: "listed by OVER but the server has no such article; skipped"
                        .to_owned(),
                }),
            }
        }
    }

    fn cursor(&self) -> String {
        self.last_number.to_string()
    }

    fn take_diagnostics(&mut self) -> Vec<SourceDiagnostic> {
        std::mem::take(&mut self.diagnostics)
    }
}

#[cfg(test)]
#[path = "nntp_tests.rs"]
mod tests;
