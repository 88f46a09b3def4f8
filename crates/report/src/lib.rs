//! Turning a finished review into what people read: a terse text summary,
//! the kernel-style inline reply the list bot would send, and JSON with
//! b4's field names.
//!
//! Also the edges that deliver a rendered reply: SMTP sending through the
//! store's outbox ([`smtp`]) and patchwork checks ([`patchwork`]).
//!
//! Architecture invariant: rendering is pure (values in, text out).
//! Deciding recipients and whether to send at all live in the bot's policy
//! and never depend on model output beyond the findings themselves; the
//! sender only delivers what the outbox holds.

pub mod inline;
pub mod json;
pub mod litmus;
pub mod mailhdr;
pub mod patchwork;
pub mod reply;
pub mod smtp;
pub mod text;
pub mod wrap;
