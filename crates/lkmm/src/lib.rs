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
mod prune;
mod rel;
mod state;
mod thread;
mod witness;

pub use error::{Diagnostic, LitmusError, ParseError};
pub use lockorder::{check_lock_order, LockOrderViolation};
pub use outcome::{Count, Outcome, Verdict};
pub use parser::parse_litmus;

use std::time::Instant;

/// Limits for deciding one test.
#[derive(Debug, Clone)]
pub struct Options {
    /// Give up (with `LitmusError::Timeout`) after this instant. Counting
    /// gets the first half of the time left; when it does not finish, the
    /// witness search decides the verdict with the rest.
    pub deadline: Option<Instant>,
    /// Candidate executions (and partial candidates checked) enumerated to
    /// count exactly. Past it the verdict and the flags are decided by a
    /// witness search, and non-zero counts are lower bounds (`Count`).
    pub max_candidates: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            deadline: None,
            max_candidates: 1 << 17,
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
    let checker = check::Checker::new(test, options.max_candidates)?;
    // Counting may take half the time left; the rest is the witness
    // search's, so a test is decided even when counting is cut short.
    let start = Instant::now();
    let counting_deadline = options
        .deadline
        .map(|d| start + d.saturating_duration_since(start) / 2);
    match checker.run(check::Goal::Count, counting_deadline) {
        Ok(tally) => Ok(Outcome::from_tally(test, tally, true)),
        // Too many executions to count: decide the verdict and the flags
        // by the witness search (see `witness`), within the deadline.
        Err(LitmusError::Timeout(_)) => {
            let tally = checker.run(check::Goal::Witnesses, options.deadline)?;
            Ok(Outcome::from_tally(test, tally, false))
        }
        Err(e) => Err(e),
    }
}
