//! The staged reviewer: runs the stages of a prompt set over a patch
//! series and returns anchored, verified findings.
//!
//! Architecture invariant: this crate performs no IO of its own except
//! loading a prompt directory on request ([`prompts::PromptSet::load`]) and
//! talking to a model through the [`sashiko_llm_core::LlmClient`] trait object it
//! is given. Patch text is untrusted: it reaches the model only inside
//! nonce-delimited blocks, and the model's answer is parsed as data.

// The API other crates use: the engine's entry point and result types,
// the prompt set, the series and finding model at the root; the modules
// below for the parts the pipeline, web, tools, promptcheck and eval
// build on, and the scanners the fuzz targets and text-boundary tests
// drive directly. Everything else is private to the engine.
pub mod analysis;
pub mod anchor;
pub mod budget_policy;
pub mod context;
pub mod cscan;
pub mod endstate;
pub mod guides;
pub mod lockorder;
pub mod maintainers;
pub mod plan;
pub mod prescan;
pub mod prompts;
mod recheck;
pub mod related;
pub mod request;
pub mod toolstage;
pub mod versions;
pub mod wording;
pub mod words;

mod engine;
mod finding;
mod grounding;
mod known;
mod ordering;
mod series;
mod staging;
mod verify;
mod wire;

pub use engine::{
    not_applicable_reason, route_guides, run_review, DroppedFinding, GuideRouting, Progress,
    ReviewError, ReviewInputs, ReviewOptions, ReviewOutput, ReviewSettings, StageReport,
    StageState, VersionReport,
};
pub use finding::{Evidence, Finding, Location, Severity};
pub use prompts::{PromptSet, StageDef, StageKind};
pub use series::{ReviewPatch, ReviewSeries};
