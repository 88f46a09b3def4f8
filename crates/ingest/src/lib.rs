//! Sources of review input: local git ranges, mail archives and list
//! servers. Sources read bytes and hand them on; they never parse patches
//! into series (that is `sashiko-mail`) and never decide what to review.

pub mod git_range;
pub mod mbox;
