//! Typed queries of the web view (`crates/web`): every page, feed and API
//! answer reads its rows through a method here, and the web crate holds no
//! SQL. Rows are structs read by column position ([`Store::web_typed`]);
//! a column that is missing or of another type is an error naming the
//! query, never a zero or an empty string on a page.
//!
//! Nothing here changes a bug (that goes through [`Store::set_bug_state`],
//! which writes the history row); the only writes are the web view's own
//! accounts, sessions and login tokens, and the compaction of
//! `bug_counts`.

mod accounts;
mod bug_list;
mod counts;
mod mail;
mod series;
mod usage;

pub use accounts::{NewWebAccount, WebAccount};
pub use bug_list::{
    BugListFilter, BugSort, Cursor, ListedBug, ListedBugPage, NEEDS_ACTION, SEVERITIES,
};
pub use counts::{KeyCount, OpenCount, SubsystemCounts};
pub use mail::ThreadMail;
pub use series::{
    BugSighting, FindingEvidence, FindingLocation, FoundBug, FoundSeries, PatchRow, PatchText,
    ReviewDetail, ReviewRow, SeriesVersionRow, VersionPatches, WebFinding,
};
pub use usage::{ReviewUsage, StageUsage, TokenUsage};
