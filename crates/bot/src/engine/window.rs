//! Reading new mail from the sources into the store, and the window of
//! stored mail the bot works on: parsed, classified (own, bot, reply,
//! patch) and assembled into series versions.

use std::collections::{BTreeSet, HashMap};

use sashiko_ingest::{open, store_incoming, Origin, SourceSpec, Stored};
use sashiko_mail::{assemble, parse_message, ParsedMessage, Series};

use super::{Bot, BotError, PollReport};
use crate::guard::{classify, Incoming};
use crate::headers::{read_headers, MailHeaders};

/// Cursors of the bot's sources are kept apart from `sashiko ingest`'s.
const CURSOR_PREFIX: &str = "sashiko-bot/source/";
/// Save a source's cursor after this many messages.
const CURSOR_EVERY: u64 = 100;

/// One stored message in the window.
#[derive(Clone, Debug)]
pub struct WindowMessage {
    pub parsed: ParsedMessage,
    pub raw: Vec<u8>,
    pub headers: MailHeaders,
    pub kind: Incoming,
    /// When the bot stored it (epoch milliseconds).
    pub stored_at_ms: i64,
    /// The list it was stored under.
    pub list: String,
}

/// One series version in the window.
#[derive(Clone, Debug)]
pub(crate) struct VersionEntry {
    pub series: Series,
    /// Key shared by every version (root of the previous-version chain).
    pub series_key: String,
    pub list: String,
    /// Latest time one of its messages was stored (epoch milliseconds).
    pub newest_stored_ms: i64,
}

/// The window: messages by position and Message-ID, and series versions.
#[derive(Debug, Default)]
pub(crate) struct Window {
    pub messages: Vec<WindowMessage>,
    pub by_id: HashMap<String, usize>,
    pub versions: Vec<VersionEntry>,
    /// Positions in `messages` of the patch mails given to assembly, by
    /// assembly index.
    pub patch_positions: Vec<usize>,
}

impl Bot {
    /// Reads what is new in every source into the store.
    pub(crate) async fn read_sources(&mut self, report: &mut PollReport) -> Result<(), BotError> {
        for source in self.config.sources.clone() {
            let spec: SourceSpec = match source.spec.parse() {
                Ok(spec) => spec,
                Err(error) => {
                    report
                        .errors
                        .push(format!("source {}: {error}", source.spec));
                    continue;
                }
            };
            let key = format!("{CURSOR_PREFIX}{}", spec.key());
            let cursor = self.store.get_cursor(&key).await?;
            let mut reader = match open(&spec, cursor.as_deref()).await {
                Ok(reader) => reader,
                Err(error) => {
                    report
                        .errors
                        .push(format!("opening source {spec}: {error}"));
                    continue;
                }
            };
            let mut since_save = 0;
            loop {
                let message = match reader.next_message().await {
                    Ok(Some(message)) => message,
                    Ok(None) => break,
                    Err(error) => {
                        report
                            .errors
                            .push(format!("reading source {spec}: {error}"));
                        break;
                    }
                };
                report.messages_read += 1;
                let origin = Origin {
                    source_key: &key,
                    list: source.list.as_deref(),
                };
                let (parsed, stored) = store_incoming(&self.store, origin, &message).await?;
                if source.list.is_none() && parsed.list_id.is_none() {
                    report.errors.push(format!(
                        "{spec} {}: <{}> has no List-Id and the source names no list; stored, never answered",
                        message.location, parsed.message_id
                    ));
                }
                match stored {
                    Stored::New => report.messages_new += 1,
                    Stored::Duplicate => {}
                    Stored::Rejected { reason } => {
                        report.messages_rejected += 1;
                        tracing::warn!(source = %spec, location = %message.location, message = %parsed.message_id, %reason, "message refused by the database; recorded as rejected, reading on");
                        report.errors.push(format!(
                            "{spec} {}: <{}> refused by the database, recorded as rejected: {reason}",
                            message.location, parsed.message_id
                        ));
                    }
                }
                since_save += 1;
                if since_save >= CURSOR_EVERY {
                    self.store.set_cursor(&key, &reader.cursor()).await?;
                    since_save = 0;
                }
            }
            for diagnostic in reader.take_diagnostics() {
                report.errors.push(diagnostic.to_string());
            }
            self.store.set_cursor(&key, &reader.cursor()).await?;
        }
        Ok(())
    }

    /// The stored mail of every followed list within the window.
    pub(crate) async fn load_window(&mut self, now: i64) -> Result<Window, BotError> {
        let policy = self.policy.current().0.clone();
        let mut lists: BTreeSet<String> = policy.lists.keys().cloned().collect();
        lists.extend(self.config.sources.iter().filter_map(|s| s.list.clone()));
        let since_ms = (now - i64::try_from(self.config.window_days).unwrap_or(30) * 86_400) * 1000;
        let mut window = Window::default();
        for list in lists {
            for (raw, stored_at_ms) in self.store.list_messages_since(&list, since_ms).await? {
                let parsed = parse_message(&raw);
                if window.by_id.contains_key(&parsed.message_id) {
                    continue;
                }
                let headers = read_headers(&raw);
                let kind = classify(&policy, &headers, &parsed);
                window
                    .by_id
                    .insert(parsed.message_id.clone(), window.messages.len());
                window.messages.push(WindowMessage {
                    parsed,
                    raw,
                    headers,
                    kind,
                    stored_at_ms,
                    list: list.clone(),
                });
            }
        }
        let patch_positions: Vec<usize> = window
            .messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.kind == Incoming::Patch)
            .map(|(position, _)| position)
            .collect();
        let patches: Vec<ParsedMessage> = patch_positions
            .iter()
            .map(|&p| window.messages[p].parsed.clone())
            .collect();
        let assembly = assemble(&patches);
        // The key every path stores a mailed series under (see
        // `sashiko_ingest::series_key`); the review step resolves it against
        // the store before looking a review up.
        let keys = sashiko_ingest::series_key::series_keys(&assembly.series);
        for (series, series_key) in assembly.series.into_iter().zip(keys) {
            let positions: Vec<usize> = series
                .patch_indices
                .iter()
                .flatten()
                .chain(series.cover_index.iter())
                .map(|&index| patch_positions[index])
                .collect();
            let Some(&first) = positions.first() else {
                continue;
            };
            let newest_stored_ms = positions
                .iter()
                .map(|&p| window.messages[p].stored_at_ms)
                .max()
                .unwrap_or(0);
            let list = window.messages[first].list.clone();
            window.versions.push(VersionEntry {
                series,
                series_key,
                list,
                newest_stored_ms,
            });
        }
        window.patch_positions = patch_positions;
        Ok(window)
    }
}
