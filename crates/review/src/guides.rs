//! Subsystem guides: stage-specific rules maintainers own, routed by the
//! MAINTAINERS entries a series touches (most specific first), then by
//! path prefixes: those route files no entry names a guide for, such as
//! the user-space projects the kernel lists also carry (liburing,
//! e2fsprogs) or a tree without a MAINTAINERS file.
//!
//! Guides are data (`prompts/guides/` or a directory in the reviewed tree
//! or in config); the reviewer only selects and splits them.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::maintainers::SubsystemMatch;
use crate::prompts::PromptError;

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuideEntry {
    name: String,
    file: String,
    #[serde(default)]
    subsystems: Vec<String>,
    #[serde(default)]
    paths: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GuideIndex {
    #[serde(default)]
    guide: Vec<GuideEntry>,
}

/// One guide, split into sections by stage (`all` applies to every stage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Guide {
    pub name: String,
    pub subsystems: Vec<String>,
    pub paths: Vec<String>,
    pub sections: BTreeMap<String, String>,
}

/// Parse a guides index and read the files it names with `read`
/// (relative path -> text), so the prompt set can hash them.
pub fn parse_guides(
    index_text: &str,
    index_path: &Path,
    mut read: impl FnMut(&str) -> Result<String, PromptError>,
) -> Result<Vec<Guide>, PromptError> {
    let index: GuideIndex = toml::from_str(index_text).map_err(|error| PromptError::Manifest {
        path: index_path.to_path_buf(),
        detail: error.to_string(),
    })?;
    let mut guides = Vec::new();
    for entry in index.guide {
        let text = read(&entry.file)?;
        guides.push(Guide {
            name: entry.name,
            subsystems: entry.subsystems,
            paths: entry.paths,
            sections: split_sections(&text),
        });
    }
    Ok(guides)
}

/// `## stage` headed sections of a Markdown guide.
pub fn split_sections(text: &str) -> BTreeMap<String, String> {
    let mut sections: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            current = Some(heading.trim().to_lowercase());
            continue;
        }
        if let Some(stage) = &current {
            let section = sections.entry(stage.clone()).or_default();
            section.push_str(line);
            section.push('\n');
        }
    }
    sections.retain(|_, text| !text.trim().is_empty());
    sections
}

/// Replace guides with the same name and add new ones (maintainer
/// overrides from the tree or config win).
pub fn merge_overrides(base: &mut Vec<Guide>, overrides: Vec<Guide>) {
    for guide in overrides {
        match base.iter_mut().find(|existing| existing.name == guide.name) {
            Some(existing) => *existing = guide,
            None => base.push(guide),
        }
    }
}

/// The guides that apply: those naming a matched MAINTAINERS entry, most
/// specific entry first, then those with a path prefix of a changed file.
pub fn select<'a>(
    guides: &'a [Guide],
    matches: &[SubsystemMatch],
    files: &[&str],
) -> Vec<&'a Guide> {
    let mut selected: Vec<&Guide> = Vec::new();
    for subsystem in matches {
        for guide in guides {
            let names_it = guide
                .subsystems
                .iter()
                .any(|name| name.eq_ignore_ascii_case(&subsystem.name));
            if names_it && !selected.iter().any(|chosen| chosen.name == guide.name) {
                selected.push(guide);
            }
        }
    }
    for guide in guides {
        let by_path = files.iter().any(|file| {
            guide
                .paths
                .iter()
                .any(|pattern| path_applies(pattern, file))
        });
        if by_path && !selected.iter().any(|chosen| chosen.name == guide.name) {
            selected.push(guide);
        }
    }
    selected
}

/// A guide path is a prefix (`fs/ext4/`), or a glob when it has `*` or
/// `?` (`**/Makefile*`: `*` within a segment, `**` across segments).
fn path_applies(pattern: &str, file: &str) -> bool {
    if pattern.contains(['*', '?']) {
        crate::budget_policy::glob_match(pattern, file)
    } else {
        file.starts_with(pattern)
    }
}

/// The guidance text for `stage` from the selected guides.
pub fn for_stage(selected: &[&Guide], stage: &str) -> String {
    let mut text = String::new();
    for guide in selected {
        for key in [stage, "all"] {
            if let Some(section) = guide.sections.get(key) {
                text.push_str(&format!(
                    "From the {} guide:\n{}\n",
                    guide.name,
                    section.trim_end()
                ));
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guide(name: &str, subsystems: &[&str], paths: &[&str]) -> Guide {
        Guide {
            name: name.into(),
            subsystems: subsystems.iter().map(|s| s.to_string()).collect(),
            paths: paths.iter().map(|s| s.to_string()).collect(),
            sections: split_sections("## locking\n- take RTNL\n## all\n- be terse\n## style\n"),
        }
    }

    fn matched(name: &str, depth: usize) -> SubsystemMatch {
        SubsystemMatch {
            name: name.into(),
            depth,
            lists: vec![],
            maintainers: vec![],
        }
    }

    #[test]
    fn selection_takes_maintainers_entries_then_paths() {
        let guides = vec![
            guide("net", &["NETWORKING DRIVERS"], &["drivers/net/"]),
            guide("mm", &["MEMORY MANAGEMENT"], &["mm/"]),
        ];
        let by_entry = select(
            &guides,
            &[
                matched("MEMORY MANAGEMENT", 1),
                matched("NETWORKING DRIVERS", 2),
            ],
            &[],
        );
        assert_eq!(
            by_entry.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["mm", "net"]
        );
        let by_path = select(&guides, &[], &["drivers/net/e1000.c"]);
        assert_eq!(
            by_path.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["net"]
        );
        // A path prefix routes a file whatever MAINTAINERS says about it,
        // after the guides the entries name.
        let both = select(
            &guides,
            &[matched("MEMORY MANAGEMENT", 1)],
            &["mm/x.c", "drivers/net/x.c"],
        );
        assert_eq!(
            both.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
            ["mm", "net"]
        );
        assert!(select(&guides, &[matched("SCSI", 1)], &["drivers/scsi/x.c"]).is_empty());
        let build = [guide("kbuild", &[], &["**/Makefile*", "scripts/"])];
        for (file, applies) in [
            ("Makefile", true),
            ("arch/x86/boot/Makefile", true),
            ("tools/scripts/Makefile.include", true),
            ("scripts/kallsyms.c", true),
            ("arch/x86/Kconfig", false),
        ] {
            assert_eq!(!select(&build, &[], &[file]).is_empty(), applies, "{file}");
        }
    }

    #[test]
    fn sections_split_by_stage_and_overrides_replace_by_name() {
        let mut guides = vec![guide("net", &[], &[])];
        let text = for_stage(&guides.iter().collect::<Vec<_>>(), "locking");
        assert_eq!(
            text,
            "From the net guide:\n- take RTNL\nFrom the net guide:\n- be terse\n"
        );
        assert!(
            !guides[0].sections.contains_key("style"),
            "empty sections are dropped"
        );
        let mut replacement = guide("net", &[], &[]);
        replacement.sections = split_sections("## locking\n- maintainer override\n");
        merge_overrides(&mut guides, vec![replacement, guide("new", &[], &[])]);
        assert_eq!(guides.len(), 2);
        assert!(for_stage(&[&guides[0]], "locking").contains("maintainer override"));
    }
}
