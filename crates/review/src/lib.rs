//! The staged reviewer: runs the stages of a prompt set over a patch
//! series and returns anchored, verified findings.
//!
//! Architecture invariant: this crate performs no IO of its own except
//! loading a prompt directory on request ([`prompts::PromptSet::load`]) and
//! talking to a model through the [`sashiko_llm_core::LlmClient`] trait object it
//! is given. Patch text is untrusted: it reaches the model only inside
//! nonce-delimited blocks, and the model's answer is parsed as data.

pub mod analysis;
pub mod anchor;
pub mod finding;
pub mod prescan;
pub mod prompts;
pub mod series;

pub use finding::{Evidence, Finding, Location, Severity};
pub use prompts::{PromptSet, StageDef, StageKind};
pub use series::{ReviewPatch, ReviewSeries};
pub mod engine;
pub mod request;
pub mod verify;
pub mod wire;

pub use engine::{
    run_review, ReviewError, ReviewInputs, ReviewOptions, ReviewOutput, ReviewSettings,
    StageReport, StageState, VersionReport,
};
pub mod budget_policy;
pub mod context;
pub mod cscan;
pub mod endstate;
pub mod grounding;
pub mod guides;
pub mod known;
pub mod lockorder;
pub mod maintainers;
pub mod ordering;
pub mod plan;
pub mod related;
pub mod staging;
pub mod toolstage;
pub mod versions;
pub mod wording;
pub mod words;
