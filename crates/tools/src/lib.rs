//! Read-only access to the reviewed repository, through git objects only.
//!
//! Two users: the model's sandboxed tools ([`RepoTools`]: read_file, grep,
//! git_log, git_show, git_blame, behind `sashiko_llm_core::ToolExecutor`) and
//! the up-front context gathering ([`gather`]) that reads the post-patch
//! tree for the review's context snippets.
//!
//! Architecture invariant: nothing here writes to the repository, runs a
//! subprocess, reads the work tree or follows a path out of the tree;
//! history is never read past the review's baseline. The one thing
//! written is the identifier index cache ([`index`]), outside the tree. The review core (`sashiko-review`) stays
//! IO-free: it gets the executor as a trait object.

pub mod gather;
mod history;
pub mod index;
pub mod limits;
pub mod paths;
mod read;
mod repo_tools;
pub mod specs;
pub mod tree;

pub use limits::ToolLimits;
pub use repo_tools::{Pins, RepoTools, ToolsError, BASELINE, POST_PATCH};
