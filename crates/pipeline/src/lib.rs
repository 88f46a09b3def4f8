//! The application layer of sashiko: everything between the command line
//! (or the bot, or a worker) and the library crates that parse, review and
//! store. The `sashiko` binary, `sashiko serve`'s background work and the
//! list bot call this crate; none of them calls another's command.
//!
//! - [`inputs`]: review inputs (git range, mbox, stdin, Message-ID) to
//!   [`LoadedSeries`]; [`series`]: the one conversion of mail, commits and
//!   stored patches to the reviewer's `ReviewSeries`.
//! - [`review_runner`]: the one path from a series to a stored review;
//!   [`service`]: the same for the worker and the bot, with tree context.
//! - [`tree`]: tree context (enclosing functions, definitions, tools, lock
//!   hierarchy, MAINTAINERS), applying mail in a scratch repository.
//! - [`jobs`]: typed queue jobs ([`ReviewJob`]), lineage and dedup keys;
//!   [`enqueue`], [`priority`]; [`worker`]: the review worker loop;
//!   [`ingest_queue`]: ingest to queue for `serve --ingest`.
//! - [`analyzers`]: the tree's checkpatch.pl and Coccinelle for a review.
//! - [`model`], [`prompts`]: the model and prompt set a process reviews
//!   with, from plain options (settings files and flags are the binary's).
//!
//! Architecture invariant: this crate prints nothing (it returns values,
//! notes and errors, and logs through `tracing`), holds no SQL (the store
//! has typed methods) and parses no command line.

pub mod analyzers;
pub mod enqueue;
pub mod error;
pub mod ingest_queue;
pub mod inputs;
pub mod jobs;
pub mod lock_hierarchy;
pub mod model;
pub mod priority;
pub mod prompts;
pub mod review_runner;
pub mod series;
pub mod service;
pub mod stored_keys;
pub mod tree;
pub mod worker;

pub use error::{ErrorKind, PipelineError};
pub use inputs::{load_inputs, InputOptions, LoadedSeries, MessageToStore};
pub use jobs::{BackgroundJob, ReviewJob};
pub use model::{connect_model, Model};
pub use review_runner::{review_and_store, Reviewed};
pub use sashiko_analyzers::AnalyzerSettings;
pub use service::{ReviewService, TreeSource};
pub use tree::{TreeContext, TreeSettings};
