//! Routing by the reviewed tree's MAINTAINERS file, as get_maintainer.pl
//! applies it: `F:` file patterns (a trailing `/` covers the directory and
//! everything below; `*` and `?` are wildcards within a path), `X:`
//! exclusions, `N:` regular expressions on file names and `K:` regular
//! expressions on the patch text. Matches are ordered most specific first
//! (deepest matching pattern). Pure: parses text it is given.

use regex::Regex;

/// One MAINTAINERS entry.
#[derive(Clone, Debug, Default)]
pub struct Entry {
    pub name: String,
    pub status: Option<String>,
    pub maintainers: Vec<String>,
    /// `R:` lines.
    pub reviewers: Vec<String>,
    pub lists: Vec<String>,
    /// `T:` lines (the entry's git trees).
    pub trees: Vec<String>,
    files: Vec<String>,
    excludes: Vec<String>,
    name_patterns: Vec<Regex>,
    keywords: Vec<Regex>,
}

/// A parsed MAINTAINERS file.
#[derive(Clone, Debug, Default)]
pub struct Maintainers {
    pub entries: Vec<Entry>,
    /// Lines that could not be used (bad regular expressions).
    pub diagnostics: Vec<String>,
}

/// A subsystem the patch touches and how specifically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubsystemMatch {
    pub name: String,
    /// Path depth of the most specific matching pattern (N:/K: count as 0).
    pub depth: usize,
    pub lists: Vec<String>,
    pub maintainers: Vec<String>,
}

impl Maintainers {
    pub fn parse(text: &str) -> Maintainers {
        let mut parsed = Maintainers::default();
        let mut current: Option<Entry> = None;
        for (number, line) in text.lines().enumerate() {
            let tagged = line.as_bytes().get(1) == Some(&b':') && line.len() > 2;
            if tagged {
                let Some(entry) = current.as_mut() else {
                    continue;
                };
                let value = line[2..].trim();
                let value = value.split(" (").next().unwrap_or(value).trim();
                let compile =
                    |pattern: &str, diagnostics: &mut Vec<String>| match Regex::new(pattern) {
                        Ok(regex) => Some(regex),
                        Err(error) => {
                            diagnostics.push(format!(
                                "MAINTAINERS line {}: bad pattern {pattern:?}: {error}",
                                number + 1
                            ));
                            None
                        }
                    };
                match &line[..1] {
                    "F" => entry.files.push(value.to_owned()),
                    "X" => entry.excludes.push(value.to_owned()),
                    "N" => entry
                        .name_patterns
                        .extend(compile(value, &mut parsed.diagnostics)),
                    "K" => entry
                        .keywords
                        .extend(compile(value, &mut parsed.diagnostics)),
                    "M" => entry.maintainers.push(value.to_owned()),
                    "R" => entry.reviewers.push(value.to_owned()),
                    "L" => entry.lists.push(value.to_owned()),
                    "T" => entry.trees.push(value.to_owned()),
                    "S" => entry.status = Some(value.to_owned()),
                    _ => {}
                }
            } else if line.trim().is_empty() {
                parsed
                    .entries
                    .extend(current.take().filter(|entry| !entry.name.is_empty()));
            } else if current.is_none()
                && line
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
            {
                current = Some(Entry {
                    name: line.trim().to_owned(),
                    ..Entry::default()
                });
            }
        }
        parsed
            .entries
            .extend(current.filter(|entry| !entry.name.is_empty()));
        parsed
    }

    /// Entries covering `files` (or matching `patch_text` by keyword), most
    /// specific first.
    pub fn route(&self, files: &[&str], patch_text: &str) -> Vec<SubsystemMatch> {
        let mut matches: Vec<SubsystemMatch> = Vec::new();
        for entry in &self.entries {
            let mut best: Option<usize> = None;
            for file in files {
                if entry
                    .excludes
                    .iter()
                    .any(|pattern| pattern_depth(pattern, file).is_some())
                {
                    continue;
                }
                for pattern in &entry.files {
                    if let Some(depth) = pattern_depth(pattern, file) {
                        best = Some(best.map_or(depth, |old: usize| old.max(depth)));
                    }
                }
                if entry.name_patterns.iter().any(|regex| regex.is_match(file)) {
                    best = Some(best.unwrap_or(0));
                }
            }
            if best.is_none()
                && entry
                    .keywords
                    .iter()
                    .any(|regex| regex.is_match(patch_text))
            {
                best = Some(0);
            }
            if let Some(depth) = best {
                matches.push(SubsystemMatch {
                    name: entry.name.clone(),
                    depth,
                    lists: entry.lists.clone(),
                    maintainers: entry.maintainers.clone(),
                });
            }
        }
        matches.sort_by(|a, b| b.depth.cmp(&a.depth).then_with(|| a.name.cmp(&b.name)));
        matches
    }
}

/// Does `pattern` (an F:/X: value) cover `file`? Returns its depth.
fn pattern_depth(pattern: &str, file: &str) -> Option<usize> {
    let depth = pattern.trim_end_matches('/').matches('/').count() + 1;
    let matched = if pattern.ends_with('/') {
        file.starts_with(pattern)
    } else if pattern.contains(['*', '?']) {
        glob_match(pattern, file)
            || (!pattern.ends_with('*') && file.starts_with(&format!("{pattern}/")))
    } else {
        file == pattern || file.starts_with(&format!("{pattern}/"))
    };
    matched.then_some(depth)
}

/// `*` and `?` do not cross `/`, as in get_maintainer.pl's F: handling
/// of files directly in a directory.
fn glob_match(pattern: &str, text: &str) -> bool {
    fn go(pattern: &[u8], text: &[u8]) -> bool {
        match (pattern.first(), text.first()) {
            (None, None) => true,
            (Some(b'*'), _) => {
                go(&pattern[1..], text)
                    || (text.first().is_some_and(|c| *c != b'/') && go(pattern, &text[1..]))
            }
            (Some(b'?'), Some(c)) if *c != b'/' => go(&pattern[1..], &text[1..]),
            (Some(p), Some(c)) if p == c => go(&pattern[1..], &text[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAINTAINERS: &str = "Descriptions of section entries and preferred order
\tM: Mail patches to: FullName <address@domain>

MEMORY MANAGEMENT
M:\tAndrew Morton <akpm@example.org>
L:\tlinux-mm@kvack.org
S:\tMaintained
F:\tmm/
F:\tinclude/linux/mm.h
X:\tmm/kasan/

MEMORY MANAGEMENT - RMAP
M:\tR Maintainer <r@example.org>
F:\tmm/rmap.c

KASAN
F:\tmm/kasan/

NETWORKING DRIVERS
L:\tnetdev@vger.kernel.org
F:\tdrivers/net/
N:\t^drivers/.*/ethernet/

I2C DRIVERS GLOB
F:\tdrivers/i2c/busses/i2c-*.c

BPF
K:\t\\bbpf_prog\\b
";

    fn names(files: &[&str], text: &str) -> Vec<String> {
        Maintainers::parse(MAINTAINERS)
            .route(files, text)
            .into_iter()
            .map(|m| m.name)
            .collect()
    }

    #[test]
    fn routing_follows_get_maintainer_semantics() {
        let cases: [(&[&str], &str, &[&str]); 7] = [
            (
                &["mm/rmap.c"],
                "",
                &["MEMORY MANAGEMENT - RMAP", "MEMORY MANAGEMENT"],
            ),
            (&["mm/kasan/init.c"], "", &["KASAN"]),
            (&["include/linux/mm.h"], "", &["MEMORY MANAGEMENT"]),
            (&["drivers/i2c/busses/i2c-foo.c"], "", &["I2C DRIVERS GLOB"]),
            (&["drivers/i2c/busses/sub/i2c-foo.c"], "", &[]),
            (&["drivers/scsi/ethernet/x.c"], "", &["NETWORKING DRIVERS"]),
            (&["kernel/x.c"], "+\tstruct bpf_prog *p;", &["BPF"]),
        ];
        for (files, text, expected) in cases {
            assert_eq!(names(files, text), expected, "{files:?}");
        }
    }

    #[test]
    fn entries_keep_lists_and_maintainers() {
        let parsed = Maintainers::parse(MAINTAINERS);
        let mm = parsed.route(&["mm/filemap.c"], "");
        assert_eq!(mm[0].lists, vec!["linux-mm@kvack.org".to_owned()]);
        assert_eq!(
            mm[0].maintainers,
            vec!["Andrew Morton <akpm@example.org>".to_owned()]
        );
        assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    }
}
