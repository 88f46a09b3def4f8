//! How many input tokens a stage request may use: a default per stage, a
//! cap per subsystem (MAINTAINERS entry name), and critical paths or
//! subsystems that always get the full budget. Declared in the stage
//! manifest (`[budget]`) and adjustable from the user configuration.
//!
//! Pure: decisions from the series' changed files and the subsystems it
//! routes to, never from the model's output.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

fn default_tokens() -> u64 {
    32_000
}

fn full_tokens() -> u64 {
    120_000
}

/// The budget policy of a prompt set.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetPolicy {
    /// Input tokens of one stage request (system, series, context,
    /// instructions), unless a stage or a subsystem says otherwise.
    #[serde(default = "default_tokens")]
    pub default_tokens: u64,
    /// The full budget, given to critical paths whatever else applies.
    #[serde(default = "full_tokens")]
    pub max_tokens: u64,
    /// Caps by MAINTAINERS entry name; the smallest cap of the subsystems
    /// a series touches applies.
    #[serde(default)]
    pub subsystems: BTreeMap<String, u64>,
    /// Path globs (`mm/**`, `kernel/locking/*.c`): a series changing a
    /// matching file gets `max_tokens`.
    #[serde(default)]
    pub critical_paths: Vec<String>,
    /// MAINTAINERS entry names whose series get `max_tokens`.
    #[serde(default)]
    pub critical_subsystems: Vec<String>,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        BudgetPolicy {
            default_tokens: default_tokens(),
            max_tokens: full_tokens(),
            subsystems: BTreeMap::new(),
            critical_paths: Vec::new(),
            critical_subsystems: Vec::new(),
        }
    }
}

/// Overrides from the user configuration (`[review.budget]`): set fields
/// replace the manifest's, maps and lists are added to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetOverrides {
    pub default_tokens: Option<u64>,
    pub max_tokens: Option<u64>,
    #[serde(default)]
    pub subsystems: BTreeMap<String, u64>,
    #[serde(default)]
    pub critical_paths: Vec<String>,
    #[serde(default)]
    pub critical_subsystems: Vec<String>,
}

/// The budget a series gets, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedBudget {
    pub tokens: u64,
    pub reason: String,
}

impl BudgetPolicy {
    pub fn apply(&mut self, overrides: &BudgetOverrides) {
        if let Some(tokens) = overrides.default_tokens {
            self.default_tokens = tokens;
        }
        if let Some(tokens) = overrides.max_tokens {
            self.max_tokens = tokens;
        }
        self.subsystems.extend(overrides.subsystems.clone());
        self.critical_paths
            .extend(overrides.critical_paths.iter().cloned());
        self.critical_subsystems
            .extend(overrides.critical_subsystems.iter().cloned());
    }

    /// The budget of a stage (its own `budget_tokens`, if any) for a series
    /// changing `files` and routed to `subsystems`.
    pub fn resolve(
        &self,
        stage_tokens: Option<u64>,
        files: &[&str],
        subsystems: &[String],
    ) -> ResolvedBudget {
        if let Some(file) = files.iter().find(|file| {
            self.critical_paths
                .iter()
                .any(|glob| glob_match(glob, file))
        }) {
            return ResolvedBudget {
                tokens: self.max_tokens,
                reason: format!("full budget: {file} is a critical path"),
            };
        }
        if let Some(name) = subsystems.iter().find(|name| {
            self.critical_subsystems
                .iter()
                .any(|critical| critical.eq_ignore_ascii_case(name))
        }) {
            return ResolvedBudget {
                tokens: self.max_tokens,
                reason: format!("full budget: {name} is a critical subsystem"),
            };
        }
        let base = stage_tokens.unwrap_or(self.default_tokens);
        let cap = subsystems
            .iter()
            .filter_map(|name| {
                self.subsystems
                    .iter()
                    .find(|(entry, _)| entry.eq_ignore_ascii_case(name))
                    .map(|(entry, cap)| (entry, *cap))
            })
            .min_by_key(|(_, cap)| *cap);
        match cap {
            Some((entry, cap)) if cap < base => ResolvedBudget {
                tokens: cap,
                reason: format!("capped for {entry}"),
            },
            _ => ResolvedBudget {
                tokens: base,
                reason: "default budget".to_owned(),
            },
        }
    }
}

/// `*` matches within one path segment, `**` any number of segments, `?`
/// one character; a pattern ending in `/` matches everything below it.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    if let Some(prefix) = pattern.strip_suffix('/') {
        return path.starts_with(&format!("{prefix}/"));
    }
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    match_segments(&pattern, &path)
}

fn match_segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_segments(rest, &path[skip..])),
        Some((first, rest)) => path.split_first().is_some_and(|(segment, tail)| {
            match_segment(first.as_bytes(), segment.as_bytes()) && match_segments(rest, tail)
        }),
    }
}

fn match_segment(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| match_segment(rest, &text[skip..])),
        Some((b'?', rest)) => !text.is_empty() && match_segment(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && match_segment(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        let cases = [
            ("mm/**", "mm/slub.c", true),
            ("mm/**", "mm/damon/core.c", true),
            ("mm/**", "mmx/a.c", false),
            ("kernel/locking/*.c", "kernel/locking/mutex.c", true),
            ("kernel/locking/*.c", "kernel/locking/sub/x.c", false),
            ("drivers/net/", "drivers/net/e1000/x.c", true),
            ("**/*.h", "include/linux/foo.h", true),
            ("fs/ext?/inode.c", "fs/ext4/inode.c", true),
            ("fs/ext?/inode.c", "fs/ext44/inode.c", false),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(glob_match(pattern, path), expected, "{pattern} vs {path}");
        }
    }

    fn check(
        policy: &BudgetPolicy,
        stage: Option<u64>,
        files: &[&str],
        subsystems: &[&str],
        expected: (u64, &str),
    ) {
        let subsystems: Vec<String> = subsystems.iter().map(|s| s.to_string()).collect();
        let resolved = policy.resolve(stage, files, &subsystems);
        assert_eq!(
            (resolved.tokens, resolved.reason.as_str()),
            expected,
            "{files:?} {subsystems:?}"
        );
    }

    #[test]
    fn critical_paths_win_then_the_smallest_cap() {
        let mut policy = BudgetPolicy::default();
        policy.apply(&BudgetOverrides {
            default_tokens: Some(30_000),
            max_tokens: Some(100_000),
            subsystems: BTreeMap::from([
                ("DOCUMENTATION".to_owned(), 8_000),
                ("NETWORKING DRIVERS".to_owned(), 20_000),
            ]),
            critical_paths: vec!["mm/**".into()],
            critical_subsystems: vec!["LOCKING PRIMITIVES".into()],
        });
        check(
            &policy,
            None,
            &["drivers/a.c"],
            &[],
            (30_000, "default budget"),
        );
        check(
            &policy,
            Some(40_000),
            &["drivers/a.c"],
            &[],
            (40_000, "default budget"),
        );
        check(
            &policy,
            None,
            &["drivers/a.c"],
            &["networking drivers", "DOCUMENTATION"],
            (8_000, "capped for DOCUMENTATION"),
        );
        check(
            &policy,
            None,
            &["Documentation/x.rst", "mm/slub.c"],
            &["DOCUMENTATION"],
            (100_000, "full budget: mm/slub.c is a critical path"),
        );
        check(
            &policy,
            None,
            &["kernel/locking/mutex.c"],
            &["LOCKING PRIMITIVES"],
            (
                100_000,
                "full budget: LOCKING PRIMITIVES is a critical subsystem",
            ),
        );
    }
}
