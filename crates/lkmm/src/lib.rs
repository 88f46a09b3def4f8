//! Linux-kernel memory model (LKMM) checker: parses C litmus tests and
//! decides them as herd7 does with tools/memory-model, plus a pure check of
//! the mm lock hierarchy.
//!
//! Pure core: no file or network access; callers pass text in and get
//! values out (the only ambient input is the optional deadline the caller
//! sets). It must never guess a verdict: unknown primitives yield
//! `LitmusError::Unsupported`.

pub mod ast;
mod candidates;
mod check;
pub mod error;
mod lexer;
mod locations;
pub mod lockorder;
mod memb;
mod model;
mod outcome;
pub mod parser;
mod prims;
mod rel;
mod thread;

pub use error::{Diagnostic, LitmusError, ParseError};
pub use lockorder::{check_lock_order, LockOrderViolation};
pub use outcome::{Outcome, Verdict};
pub use parser::parse_litmus;

use std::time::Instant;

/// Limits for deciding one test.
#[derive(Debug, Clone)]
pub struct Options {
    /// Give up (with `LitmusError::Timeout`) after this instant.
    pub deadline: Option<Instant>,
    /// Give up after this many candidate executions.
    pub max_candidates: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            deadline: None,
            max_candidates: 50_000_000,
        }
    }
}

/// Parse and decide a litmus test under LKMM.
pub fn check_litmus(source: &str, options: &Options) -> Result<Outcome, LitmusError> {
    let test = parse_litmus(source)?;
    decide(&test, options)
}

/// Decide an already parsed test.
pub fn decide(test: &ast::Litmus, options: &Options) -> Result<Outcome, LitmusError> {
    let checker = check::Checker::new(test, options.deadline, options.max_candidates)?;
    let tally = checker.run()?;
    Ok(Outcome::from_tally(test, tally))
}
