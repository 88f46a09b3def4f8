//! Building the application layer's [`ReviewService`] from the settings in
//! force, for the commands that review in the background (`worker`,
//! `serve --workers`, `bot`): one place, so none of them calls another's
//! command to get it.

use crate::term::errln;
use sashiko_pipeline::prompts::load_prompts;
use sashiko_pipeline::{connect_model, ReviewService};
use sashiko_review::ReviewOptions;
use sashiko_store::Store;

use crate::settings::Settings;

/// The service: the prompt set (with the configured tree's own guides,
/// `.sashiko/guides`, and the configured budget), the model, `options` and
/// the configured tree.
pub fn review_service(
    settings: &Settings,
    store: Store,
    options: ReviewOptions,
) -> anyhow::Result<ReviewService> {
    let tree = settings.tree_settings();
    let guide_dirs = tree
        .iter()
        .map(|tree| tree.tree.join(".sashiko/guides"))
        .collect();
    let loaded = load_prompts(&settings.prompt_options(guide_dirs))?;
    for note in &loaded.notes {
        errln!("sashiko: note: {note}");
    }
    let model = connect_model(settings.llm.provider_config()?.as_ref())?;
    Ok(ReviewService {
        store,
        prompts: loaded.prompts,
        model,
        options,
        analyzers: settings.review.analyzers.settings(None),
        tree,
    })
}

/// True when recorded transcripts are replayed or recorded
/// (`SASHIKO_LLM_CASSETTE`): the review's secrets are then derived from
/// the series so recordings replay.
pub fn cassette_mode() -> bool {
    std::env::var_os("SASHIKO_LLM_CASSETTE").is_some_and(|v| !v.is_empty())
}
