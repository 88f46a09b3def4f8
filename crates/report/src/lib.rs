//! Turning a finished review into what people read: a terse text summary,
//! the kernel-style inline reply the list bot would send, and JSON with
//! b4's field names.
//!
//! Architecture invariant: rendering is pure (values in, text out). Sending
//! mail, deciding recipients and whether to send at all live elsewhere and
//! never depend on model output beyond the findings themselves.

pub mod inline;
pub mod json;
pub mod text;
pub mod wrap;
