//! The stored mails of a series version's thread for its web page: the
//! cover letter and patches, and the replies to them (and to those
//! replies), as raw bytes for the mail crate to parse (the page reads the
//! mails' Date and the review tags given in replies from them). Read-only.

use crate::web_queries::SqlParam;
use crate::{Store, StoreError};

/// One stored mail, byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThreadMail {
    pub message_id: String,
    pub raw: Vec<u8>,
}

/// Most mails read for one page.
const MAX_THREAD_MAILS: usize = 2000;

impl Store {
    /// The mails `message_ids` and the replies to them, `depth` levels
    /// down, in the order they were stored, at most 2,000 in all.
    pub async fn thread_mails(
        &self,
        message_ids: &[String],
        depth: usize,
    ) -> Result<Vec<ThreadMail>, StoreError> {
        let mut mails = self.mails_where("message_id", message_ids).await?;
        let mut parents: Vec<String> = mails.iter().map(|mail| mail.message_id.clone()).collect();
        for _ in 0..depth {
            if parents.is_empty() || mails.len() >= MAX_THREAD_MAILS {
                break;
            }
            let replies = self.mails_where("in_reply_to", &parents).await?;
            parents = replies
                .iter()
                .filter(|reply| {
                    mails
                        .iter()
                        .all(|known| known.message_id != reply.message_id)
                })
                .map(|reply| reply.message_id.clone())
                .collect();
            mails.extend(
                replies
                    .into_iter()
                    .filter(|reply| parents.contains(&reply.message_id)),
            );
        }
        mails.truncate(MAX_THREAD_MAILS);
        Ok(mails)
    }

    /// The mails whose `column` (`message_id` or `in_reply_to`) is one of
    /// `values`, in the order they were stored.
    async fn mails_where(
        &self,
        column: &'static str,
        values: &[String],
    ) -> Result<Vec<ThreadMail>, StoreError> {
        let mut mails = Vec::new();
        // A few hundred parameters per statement at most.
        for chunk in values.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|at| format!("${at}")).collect();
            let params: Vec<SqlParam> = chunk.iter().cloned().map(SqlParam::Text).collect();
            mails.extend(
                self.web_typed(
                    "reading the mails of a series thread",
                    &format!(
                        "SELECT message_id, raw FROM messages WHERE {column} IN ({}) ORDER BY id LIMIT {}",
                        placeholders.join(", "),
                        MAX_THREAD_MAILS
                    ),
                    &params,
                    |row| {
                        Ok(ThreadMail {
                            message_id: row.text(0)?.to_string(),
                            raw: row.bytes(1)?.to_vec(),
                        })
                    },
                )
                .await?,
            );
        }
        Ok(mails)
    }
}
