//! The shipped prompt set, compiled in by `build.rs` from `prompts/`.
//!
//! This is the set in force unless `--prompts DIR`, `SASHIKO_PROMPTS` or
//! `prompts = "DIR"` in the configuration names another; an installed
//! binary therefore works from any directory with no source tree. Its
//! files and contents are those of `prompts/` at build time, so its hash
//! is the hash of that directory.

include!(concat!(env!("OUT_DIR"), "/embedded_prompts.rs"));
