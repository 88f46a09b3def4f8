//! `sashiko config`: print the effective configuration as TOML, secrets
//! redacted, so users can see what a review would use.

use crate::term::{out, outln};
use std::process::ExitCode;

use crate::settings::{FlagSettings, Settings};

#[derive(clap::Args, Debug)]
pub struct ConfigArgs {}

pub async fn run(_args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let settings = Settings::load(&FlagSettings::default())?;
    match &settings.config_file {
        Some(path) => outln!("# configuration file: {}", path.display()),
        None => {
            outln!("# no configuration file (looked for $XDG_CONFIG_HOME/sashiko/config.toml)")
        }
    }
    let source = settings.prompt_source();
    match sashiko_review::PromptSet::load_from(&source) {
        Ok(set) => outln!(
            "# prompt set in force: {source} ({} {}, hash {})",
            set.name,
            set.version,
            set.hash
        ),
        Err(error) => outln!("# prompt set in force: {source}, which does not load: {error}"),
    }
    out!("{}", toml::to_string(&settings)?);
    if !settings.llm_configured() {
        outln!(
            "# no model configured: set SASHIKO_LLM_PROVIDER and SASHIKO_LLM_MODEL (see README)"
        );
    }
    Ok(ExitCode::SUCCESS)
}
