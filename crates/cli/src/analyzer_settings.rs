//! `[review.analyzers]`: how the reviewed tree's own checkpatch.pl and
//! Coccinelle scripts run, as the configuration file spells it.
//!
//! ```toml
//! [review.analyzers]
//! checkpatch = true          # the tree's scripts/checkpatch.pl
//! checkpatch_path = "/path/to/checkpatch.pl"   # instead of the tree's (also --checkpatch)
//! strict = false             # --strict: CHECK messages become low findings
//! coccinelle = true          # the tree's scripts/coccinelle with spatch
//! jobs = 2                   # spatch processes at once
//! wall_secs = 30             # wall time for all scripts of one review
//! cpu_secs = 60              # CPU time for all scripts of one review
//! script_timeout_secs = 20   # the most one script may take
//! scripts = ["locks/", "free/"]   # only these scripts (default: all relevant)
//! whole_files = false        # give spatch whole files, not the changed functions
//! ```

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use sashiko_pipeline::AnalyzerSettings;

/// The `[review.analyzers]` table; absent keys keep the defaults.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AnalyzerConfig {
    pub checkpatch: Option<bool>,
    pub checkpatch_path: Option<PathBuf>,
    pub strict: Option<bool>,
    pub coccinelle: Option<bool>,
    pub jobs: Option<usize>,
    pub wall_secs: Option<u64>,
    pub cpu_secs: Option<u64>,
    pub script_timeout_secs: Option<u64>,
    #[serde(default)]
    pub scripts: Vec<String>,
    pub whole_files: Option<bool>,
}

impl AnalyzerConfig {
    /// The analyzers' settings: the defaults, this table, then
    /// `--checkpatch PATH` when given.
    pub fn settings(&self, checkpatch_flag: Option<PathBuf>) -> AnalyzerSettings {
        let mut settings = AnalyzerSettings::default();
        let checkpatch = &mut settings.checkpatch;
        checkpatch.enabled = self.checkpatch.unwrap_or(checkpatch.enabled);
        checkpatch.path = checkpatch_flag.or_else(|| self.checkpatch_path.clone());
        checkpatch.strict = self.strict.unwrap_or(checkpatch.strict);
        let coccinelle = &mut settings.coccinelle;
        coccinelle.enabled = self.coccinelle.unwrap_or(coccinelle.enabled);
        coccinelle.jobs = self.jobs.unwrap_or(coccinelle.jobs).max(1);
        if let Some(seconds) = self.wall_secs {
            coccinelle.wall_budget = Duration::from_secs(seconds);
        }
        if let Some(seconds) = self.cpu_secs {
            coccinelle.cpu_budget = Duration::from_secs(seconds);
        }
        if let Some(seconds) = self.script_timeout_secs {
            coccinelle.script_timeout = Duration::from_secs(seconds.max(1));
        }
        coccinelle.scripts = self.scripts.clone();
        coccinelle.whole_files = self.whole_files.unwrap_or(coccinelle.whole_files);
        settings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_overrides_defaults_and_the_flag_overrides_the_table() {
        let config: AnalyzerConfig = toml::from_str(
            "checkpatch_path = \"/a/checkpatch.pl\"\nstrict = true\njobs = 4\nwall_secs = 10\nscripts = [\"locks/\"]\n",
        )
        .expect("parses");
        let settings = config.settings(None);
        assert_eq!(
            settings.checkpatch.path,
            Some(PathBuf::from("/a/checkpatch.pl"))
        );
        assert!(settings.checkpatch.strict && settings.coccinelle.enabled);
        assert_eq!(settings.coccinelle.jobs, 4);
        assert_eq!(settings.coccinelle.wall_budget, Duration::from_secs(10));
        assert_eq!(
            settings.coccinelle.cpu_budget,
            AnalyzerSettings::default().coccinelle.cpu_budget
        );
        assert_eq!(settings.coccinelle.scripts, ["locks/"]);
        let flagged = config.settings(Some(PathBuf::from("/b/checkpatch.pl")));
        assert_eq!(
            flagged.checkpatch.path,
            Some(PathBuf::from("/b/checkpatch.pl"))
        );
        assert_eq!(
            AnalyzerConfig::default().settings(None),
            AnalyzerSettings::default()
        );
        let error = toml::from_str::<AnalyzerConfig>("wall_sec = 3\n").expect_err("typo");
        assert!(error.to_string().contains("wall_sec"), "{error}");
    }
}
