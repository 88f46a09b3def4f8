//! Checks of the shipped prompt set against real data, so that what the
//! prompts promise can be measured rather than assumed:
//!
//! - [`coverage`]: every complete series of the mailing-list slices in
//!   `../shared/corpus` is routed through the real MAINTAINERS of the kernel
//!   tree in `../shared/kernel`, exactly as a review routes it
//!   ([`sashiko_review::route_guides`]), and the subsystem guides
//!   that apply are counted;
//! - [`budgets`]: each model stage's fixed request cost (system prompt,
//!   stage prompt, schema, tool descriptions and the largest guide's
//!   section for it) against the stage's token budget, leaving room for a
//!   typical series of the slices.
//!
//! Used by the `promptcheck` command and by this crate's tests. It only
//! reads: `../shared` is never written, and nothing here talks to a model.

pub mod budgets;
pub mod coverage;
pub mod shared;

/// Why a check could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("cannot extract {member} from {tarball}: {detail}")]
    Extract {
        tarball: std::path::PathBuf,
        member: String,
        detail: String,
    },
    #[error(transparent)]
    Prompts(#[from] sashiko_review::prompts::PromptError),
}
