//! Job priority from the `[queue]` configuration: a series that touches a
//! critical subsystem (a MAINTAINERS entry, routed like the reviewer routes
//! guides) or a critical path gets the critical priority, others 0; an
//! explicit `--priority` wins over both.
//!
//! Pure: it takes the settings (the `[queue]` table, [`QueueSettings`]),
//! the tree's MAINTAINERS and the series, and never reads files or the
//! store.

use sashiko_review::anchor::PatchLines;
use sashiko_review::maintainers::Maintainers;
use sashiko_review::ReviewSeries;

use serde::{Deserialize, Serialize};

/// The `[queue]` table of the configuration: which series run first.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct QueueSettings {
    /// MAINTAINERS entry names (e.g. `MEMORY MANAGEMENT`) whose series run
    /// first, routed through the MAINTAINERS of the `--repo` tree.
    #[serde(default)]
    pub critical_subsystems: Vec<String>,
    /// File patterns with MAINTAINERS `F:` semantics (`mm/` is the tree
    /// below; `*` and `?` stay within a directory) whose series run first.
    #[serde(default)]
    pub critical_paths: Vec<String>,
    /// Priority of a critical series (default 10; others get 0).
    pub critical_priority: Option<i32>,
}

/// Priority of a critical series when the configuration names none.
pub const DEFAULT_CRITICAL_PRIORITY: i32 = 10;

/// The configured rules, ready to rank series.
pub struct CriticalRules {
    subsystems: Vec<String>,
    /// `critical_paths` as one synthetic MAINTAINERS entry, so paths match
    /// exactly like `F:` lines do.
    paths: Maintainers,
    priority: i32,
}

/// A series' priority and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priority {
    pub value: i32,
    /// What made it critical (or that it was given), for the user.
    pub reason: Option<String>,
}

impl CriticalRules {
    pub fn new(settings: &QueueSettings) -> CriticalRules {
        let mut entry = String::from("CRITICAL PATHS\n");
        for path in &settings.critical_paths {
            entry.push_str(&format!("F:\t{}\n", path.trim()));
        }
        CriticalRules {
            subsystems: settings
                .critical_subsystems
                .iter()
                .map(|name| name.trim().to_string())
                .filter(|name| !name.is_empty())
                .collect(),
            paths: Maintainers::parse(&entry),
            priority: settings
                .critical_priority
                .unwrap_or(DEFAULT_CRITICAL_PRIORITY),
        }
    }

    /// True when critical subsystems are configured (they need MAINTAINERS).
    pub fn names_subsystems(&self) -> bool {
        !self.subsystems.is_empty()
    }

    /// Configured subsystem names that are no entry of `maintainers`.
    pub fn unknown_subsystems(&self, maintainers: &Maintainers) -> Vec<String> {
        self.subsystems
            .iter()
            .filter(|name| {
                !maintainers
                    .entries
                    .iter()
                    .any(|entry| entry.name.eq_ignore_ascii_case(name))
            })
            .cloned()
            .collect()
    }

    /// The priority of `series`: `explicit` when given, else the critical
    /// priority when it touches a critical path or subsystem, else 0.
    pub fn priority(
        &self,
        series: &ReviewSeries,
        maintainers: Option<&Maintainers>,
        explicit: Option<i32>,
    ) -> Priority {
        if let Some(value) = explicit {
            return Priority {
                value,
                reason: Some("given with --priority".to_string()),
            };
        }
        let lines: Vec<PatchLines> = series
            .patches
            .iter()
            .map(|patch| PatchLines::from_diff(&patch.diff))
            .collect();
        let files: Vec<&str> = lines.iter().flat_map(PatchLines::files).collect();
        let reason = self
            .critical_path(&files)
            .or_else(|| self.critical_subsystem(series, &files, maintainers?));
        match reason {
            Some(reason) => Priority {
                value: self.priority,
                reason: Some(reason),
            },
            None => Priority {
                value: 0,
                reason: None,
            },
        }
    }

    fn critical_path(&self, files: &[&str]) -> Option<String> {
        files.iter().find_map(|file| {
            (!self.paths.route(&[file], "").is_empty())
                .then(|| format!("touches {file}, a critical path"))
        })
    }

    fn critical_subsystem(
        &self,
        series: &ReviewSeries,
        files: &[&str],
        maintainers: &Maintainers,
    ) -> Option<String> {
        if self.subsystems.is_empty() {
            return None;
        }
        // Routed like the reviewer routes guides: files, then keywords.
        let text: String = series
            .patches
            .iter()
            .map(|patch| patch.diff.as_str())
            .collect();
        maintainers
            .route(files, &text)
            .into_iter()
            .find(|matched| {
                self.subsystems
                    .iter()
                    .any(|name| name.eq_ignore_ascii_case(&matched.name))
            })
            .map(|matched| format!("in {}, a critical subsystem", matched.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sashiko_review::ReviewPatch;

    const MAINTAINERS: &str = "MEMORY MANAGEMENT\nF:\tmm/\nF:\tinclude/linux/mm.h\n\n\
                               READ-COPY UPDATE (RCU)\nF:\tkernel/rcu/\n\n\
                               NETWORKING DRIVERS\nF:\tdrivers/net/\nX:\tdrivers/net/wireless/\n\n";

    fn series_touching(files: &[&str]) -> ReviewSeries {
        let diff: String = files
            .iter()
            .map(|file| format!("--- a/{file}\n+++ b/{file}\n@@ -1 +1 @@\n-a\n+b\n"))
            .collect();
        ReviewSeries {
            title: "test".to_string(),
            version: 1,
            cover_letter: None,
            patches: vec![ReviewPatch {
                index: 1,
                subject: "test".to_string(),
                author: "A <a@example.org>".to_string(),
                message_id: None,
                commit_id: None,
                commit_message: String::new(),
                diff,
            }],
        }
    }

    fn check(
        subsystems: &[&str],
        paths: &[&str],
        files: &[&str],
        explicit: Option<i32>,
        expected: i32,
    ) {
        let settings = QueueSettings {
            critical_subsystems: subsystems.iter().map(|s| s.to_string()).collect(),
            critical_paths: paths.iter().map(|s| s.to_string()).collect(),
            critical_priority: None,
        };
        let rules = CriticalRules::new(&settings);
        let maintainers = Maintainers::parse(MAINTAINERS);
        let got = rules.priority(&series_touching(files), Some(&maintainers), explicit);
        assert_eq!(
            got.value, expected,
            "subsystems {subsystems:?} paths {paths:?} files {files:?} explicit {explicit:?}: {got:?}"
        );
        assert_eq!(got.reason.is_some(), expected != 0 || explicit.is_some());
    }

    #[test]
    fn critical_series_rank_first_and_explicit_priority_wins() {
        let mm = ["MEMORY MANAGEMENT"];
        check(&mm, &[], &["mm/slub.c"], None, 10);
        check(&mm, &[], &["include/linux/mm.h"], None, 10);
        check(&["memory management"], &[], &["mm/slub.c"], None, 10);
        check(&mm, &[], &["drivers/net/e1000.c"], None, 0);
        check(&mm, &[], &["drivers/net/e1000.c", "mm/slub.c"], None, 10);
        check(
            &["NETWORKING DRIVERS"],
            &[],
            &["drivers/net/wireless/x.c"],
            None,
            0,
        );
        check(&[], &["kernel/rcu/"], &["kernel/rcu/tree.c"], None, 10);
        check(&[], &["kernel/rcu/*.h"], &["kernel/rcu/tree.c"], None, 0);
        check(&[], &["kernel/rcu/*.c"], &["kernel/rcu/tree.c"], None, 10);
        check(
            &[],
            &["kernel/rcu/*.c"],
            &["kernel/rcu/sub/tree.c"],
            None,
            0,
        );
        check(
            &[],
            &["kernel/locking"],
            &["kernel/locking/mutex.c"],
            None,
            10,
        );
        check(&[], &[], &["mm/slub.c"], None, 0);
        check(&mm, &[], &["mm/slub.c"], Some(0), 0);
        check(&[], &[], &["drivers/x.c"], Some(50), 50);
        check(&[], &[], &["drivers/x.c"], Some(-5), -5);
    }

    #[test]
    fn without_maintainers_only_paths_count_and_unknown_names_are_reported() {
        let settings = QueueSettings {
            critical_subsystems: vec!["MEMORY MANAGEMENT".to_string(), "MM TYPO".to_string()],
            critical_paths: vec!["kernel/rcu/".to_string()],
            critical_priority: Some(7),
        };
        let rules = CriticalRules::new(&settings);
        let mm = series_touching(&["mm/slub.c"]);
        assert_eq!(rules.priority(&mm, None, None).value, 0);
        let rcu = series_touching(&["kernel/rcu/tree.c"]);
        assert_eq!(rules.priority(&rcu, None, None).value, 7);
        assert_eq!(
            rules.unknown_subsystems(&Maintainers::parse(MAINTAINERS)),
            ["MM TYPO"]
        );
    }
}
