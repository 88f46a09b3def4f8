//! Storing one message a source handed out: the single path from source
//! bytes to the store, used by `sashiko ingest`, `serve --ingest` and the
//! list bot, so a bad message is handled the same way everywhere.
//!
//! A message is stored (idempotent on its Message-ID; the store cleans the
//! characters its text columns refuse), or, when the database still
//! refuses it for what it contains, recorded as rejected with the reason
//! and its raw bytes ([`sashiko_store::NewReject`]). Either way the caller
//! may move its cursor past it: one bad message never stalls a source.
//! Only an unusable database is an error, and then nothing moves.

use sashiko_mail::{parse_message, ParsedMessage};
use sashiko_store::{NewMessage, NewReject, Store, StoreError};

use crate::source::SourceMessage;

/// What happened to one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Stored now.
    New,
    /// A message with its Message-ID was stored before.
    Duplicate,
    /// The database refused it; recorded in `ingest_rejects`.
    Rejected {
        /// The database's reason.
        reason: String,
    },
}

/// Where a message came from and which list it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Origin<'a> {
    /// The source's cursor key.
    pub source_key: &'a str,
    /// The list to store it under; `None` uses the message's List-Id.
    pub list: Option<&'a str>,
}

/// Parses and stores `message`; returns the parsed message and what
/// happened. `Err` only when the database is unusable.
pub async fn store_incoming(
    store: &Store,
    origin: Origin<'_>,
    message: &SourceMessage,
) -> Result<(ParsedMessage, Stored), StoreError> {
    let parsed = parse_message(&message.bytes);
    let author = parsed
        .from
        .as_ref()
        .map(|person| person.display())
        .unwrap_or_default();
    let new = NewMessage {
        message_id: &parsed.message_id,
        raw: &message.bytes,
        subject: &parsed.subject,
        author: &author,
        date: parsed.date.map(crate::pipeline::rfc3339_utc),
        list: origin.list.or(parsed.list_id.as_deref()),
        in_reply_to: parsed.parent_id(),
    };
    let stored = match store.upsert_message(&new).await {
        Ok(key) if key.inserted => Stored::New,
        Ok(_) => Stored::Duplicate,
        Err(error) if error.refuses_input() => {
            // The database's own words; what was being stored (the whole
            // Message-ID, which may be the problem) is in the row already.
            let reason = match &error {
                StoreError::Query { source, .. } => source.to_string(),
                other => other.to_string(),
            };
            store
                .record_ingest_reject(&NewReject {
                    source: origin.source_key,
                    location: &message.location,
                    message_id: Some(&parsed.message_id),
                    reason: &reason,
                    raw: &message.bytes,
                })
                .await?;
            Stored::Rejected { reason }
        }
        Err(error) => return Err(error),
    };
    Ok((parsed, stored))
}
