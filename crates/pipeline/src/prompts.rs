//! The prompt set a review runs with: the stage manifest and prompts of a
//! directory, extra subsystem guides (the reviewed tree's
//! `.sashiko/guides`, a `--guides` directory), and the configured token
//! budget on top of the manifest's. `sashiko review`, the worker and the
//! bot load it the same way.

use std::path::{Path, PathBuf};

use sashiko_review::budget_policy::BudgetOverrides;
use sashiko_review::prompts::PromptSource;
use sashiko_review::PromptSet;

use crate::error::{Context, ErrorKind, Result};

/// Where the prompt set comes from and what adjusts it.
#[derive(Clone, Debug)]
pub struct PromptOptions {
    /// The set built into the binary, or a directory holding `stages.toml`.
    pub source: PromptSource,
    /// Guide directories added in order; one without a `guides.toml` is
    /// skipped.
    pub guide_dirs: Vec<PathBuf>,
    /// The configured budget (`[review.budget]`).
    pub budget: BudgetOverrides,
}

/// The loaded set, and notes on which guides were added from where.
pub struct LoadedPrompts {
    pub prompts: PromptSet,
    pub notes: Vec<String>,
}

/// Loads the prompt set `options` describe.
pub fn load_prompts(options: &PromptOptions) -> Result<LoadedPrompts> {
    let mut prompts = PromptSet::load_from(&options.source).context(ErrorKind::Setup, || {
        format!("loading the prompt set from {}", options.source)
    })?;
    let mut notes = Vec::new();
    for dir in &options.guide_dirs {
        if let Some(note) = add_guides(&mut prompts, dir)? {
            notes.push(note);
        }
    }
    prompts.budget.apply(&options.budget);
    Ok(LoadedPrompts { prompts, notes })
}

/// Adds the subsystem guides of `dir` when it has a `guides.toml`; a note
/// saying which, or `None` when there are none.
pub fn add_guides(prompts: &mut PromptSet, dir: &Path) -> Result<Option<String>> {
    if !dir.join("guides.toml").exists() {
        return Ok(None);
    }
    let added = prompts.add_guides_from(dir).context(ErrorKind::Setup, || {
        format!("loading subsystem guides from {}", dir.display())
    })?;
    Ok(Some(format!(
        "guides from {}: {}",
        dir.display(),
        added.join(", ")
    )))
}
