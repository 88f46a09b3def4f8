//! Sources of review input: local git ranges, mail archives and list
//! servers. Sources read bytes and hand them on; they never parse patches
//! into series (that is `sashiko-mail`) and never decide what to review.
//!
//! Mail sources ([`source::open`] on a [`source::SourceSpec`]): mbox,
//! maildir, public-inbox git epochs, NNTP and lore threads. Each keeps a
//! cursor in a [`cursor::CursorStore`] so that re-running is idempotent and
//! a crash resumes where the last saved cursor points.

pub mod cursor;
pub mod error;
pub mod git_range;
pub mod intake;
pub mod lore;
pub mod maildir;
pub mod mbox;
pub mod mbox_source;
pub mod nntp;
pub mod pipeline;
pub mod public_inbox;
mod seen;
pub mod series_key;
pub mod source;
pub mod store_cursor;

#[cfg(test)]
mod test_support;

pub use cursor::{CursorStore, CursorStoreError, JsonFileCursorStore, MemoryCursorStore};
pub use error::SourceError;
pub use intake::{store_incoming, Origin, Stored};
pub use pipeline::{
    ingest, ingest_with_progress, IngestCounts, IngestError, IngestOptions, IngestReport,
    IngestStep,
};
pub use source::{open, MessageSource, SourceDiagnostic, SourceMessage, SourceSpec};
pub use store_cursor::StoreCursorStore;
