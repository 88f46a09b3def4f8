//! The scratch directory for one Coccinelle run, from git objects: the
//! baseline's semantic patches under `cocci/`, every changed C file as it
//! was (`a/PATH`) and is after the series (`b/PATH`), how its lines moved,
//! and what its changed code calls.

use std::collections::BTreeSet;

use git2::Oid;
use sashiko_review::context::{functions, FunctionSpan};
use sashiko_review::cscan::{uses, Use};

use super::scripts::Script;
use super::select::ChangedCalls;
use super::Stop;
use crate::lines::LineMap;
use crate::snapshot::{self, Region};
use crate::{AnalyzerError, TreeInput};

/// A changed C file, written into the scratch directory.
pub struct PreparedFile {
    pub old_path: Option<String>,
    pub new_path: String,
    /// Relative to the scratch directory: `a/OLD` (absent for a new file)
    /// and `b/NEW`.
    pub scratch_baseline: Option<String>,
    pub scratch_end: String,
    pub map: LineMap,
    pub calls: ChangedCalls,
    /// Bytes of both versions, for sizing jobs.
    pub bytes: usize,
}

/// Everything one run needs, alive as long as the scratch directory.
pub struct Prepared {
    pub scratch: tempfile::TempDir,
    pub scripts: Vec<Script>,
    pub files: Vec<PreparedFile>,
    pub notes: Vec<String>,
}

impl From<AnalyzerError> for Stop {
    fn from(error: AnalyzerError) -> Stop {
        Stop::Failed(error.to_string())
    }
}

/// Read scripts and changed files for `tree` at its baseline and `end`.
/// Unless `whole_files`, the bodies of functions the series does not
/// change are blanked in both versions (line numbers kept): spatch then
/// parses only the changed functions, whose reports are the only ones
/// kept, which makes the costly scripts many times cheaper.
pub async fn prepare(tree: &TreeInput, end: Oid, whole_files: bool) -> Result<Prepared, Stop> {
    let tree = tree.clone();
    tokio::task::spawn_blocking(move || prepare_blocking(&tree, end, whole_files))
        .await
        .map_err(|error| Stop::Failed(format!("preparing the Coccinelle run: {error}")))?
}

fn prepare_blocking(tree: &TreeInput, end: Oid, whole_files: bool) -> Result<Prepared, Stop> {
    let repo = snapshot::open(&tree.repo)?;
    let base_tree = snapshot::tree_of(&repo, tree.baseline)?;
    let end_tree = snapshot::tree_of(&repo, end)?;
    let script_files = snapshot::files_under(&repo, base_tree, "scripts/coccinelle", ".cocci")?;
    if script_files.is_empty() {
        return Err(Stop::Skipped(format!(
            "the tree has no semantic patches under scripts/coccinelle at {}",
            tree.baseline.to_string().get(..12).unwrap_or("")
        )));
    }
    let changed = snapshot::changed_files(&repo, base_tree, end_tree, &[".c"])?;
    if changed.is_empty() {
        return Err(Stop::NotApplicable(
            "the series changes no C file".to_owned(),
        ));
    }
    let scratch = tempfile::Builder::new()
        .prefix("sashiko-coccinelle-")
        .tempdir()
        .map_err(|source| AnalyzerError::Io {
            what: "creating a scratch directory for Coccinelle".to_owned(),
            source,
        })?;
    let mut scripts = Vec::with_capacity(script_files.len());
    for (path, text) in script_files {
        let name = path
            .strip_prefix("scripts/coccinelle/")
            .unwrap_or(&path)
            .to_owned();
        snapshot::write_file(scratch.path(), &format!("cocci/{name}"), &text)?;
        scripts.push(Script::parse(&name, text));
    }
    let mut files = Vec::new();
    let mut notes = Vec::new();
    for file in changed {
        let Some(new_bytes) = snapshot::read_file(&repo, end_tree, &file.new_path)? else {
            continue;
        };
        let old_bytes = match &file.old_path {
            Some(old) => snapshot::read_file(&repo, base_tree, old)?,
            None => None,
        };
        if new_bytes.iter().take(8000).any(|byte| *byte == 0) {
            notes.push(format!("{} is binary, not checked", file.new_path));
            continue;
        }
        let new_text = String::from_utf8_lossy(&new_bytes);
        let (map, regions) = match &old_bytes {
            Some(old) => {
                let regions = snapshot::regions(old, &new_bytes)?;
                (LineMap::new(regions.clone()), regions)
            }
            None => {
                let count = u32::try_from(new_text.lines().count()).unwrap_or(u32::MAX);
                (LineMap::added_file(count), Vec::new())
            }
        };
        let old_text = old_bytes
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let calls = changed_calls(&new_text, &old_text, &map, &regions);
        let (end_version, base_version) = if whole_files {
            (new_text.to_string(), old_text.to_string())
        } else {
            focus_versions(&new_text, &old_text, &map, &regions)
        };
        let scratch_end = format!("b/{}", file.new_path);
        snapshot::write_file(scratch.path(), &scratch_end, end_version.as_bytes())?;
        let scratch_baseline = match (&file.old_path, &old_bytes) {
            (Some(old), Some(_)) => {
                let relative = format!("a/{old}");
                snapshot::write_file(scratch.path(), &relative, base_version.as_bytes())?;
                Some(relative)
            }
            _ => None,
        };
        files.push(PreparedFile {
            bytes: end_version.len() + base_version.len(),
            old_path: file.old_path.filter(|_| old_bytes.is_some()),
            new_path: file.new_path,
            scratch_baseline,
            scratch_end,
            map,
            calls,
        });
    }
    Ok(Prepared {
        scratch,
        scripts,
        files,
        notes,
    })
}

/// Both versions with the bodies of unchanged functions blanked: the end
/// state keeps the functions holding a changed line, the baseline those
/// holding a changed (removed) line and those of the same names.
fn focus_versions(
    new_text: &str,
    old_text: &str,
    map: &LineMap,
    regions: &[Region],
) -> (String, String) {
    let changed_new: BTreeSet<u32> = map.changed_new_lines().collect();
    let mut changed_old = BTreeSet::new();
    for region in regions {
        changed_old.extend(region.old_start..region.old_start + region.old_lines.max(1));
    }
    let new_functions = functions(new_text);
    let kept_names: BTreeSet<&str> = new_functions
        .iter()
        .filter(|span| changed_new.range(span.start..=span.end).next().is_some())
        .map(|span| span.name.as_str())
        .collect();
    let end_version = blank_bodies(new_text, &new_functions, |span| {
        changed_new.range(span.start..=span.end).next().is_some()
    });
    let old_functions = functions(old_text);
    let base_version = blank_bodies(old_text, &old_functions, |span| {
        kept_names.contains(span.name.as_str())
            || changed_old.range(span.start..=span.end).next().is_some()
    });
    (end_version, base_version)
}

/// `text` with the lines inside the bodies of the functions `keep`
/// refuses replaced by empty lines (the `{` and `}` lines stay).
fn blank_bodies(
    text: &str,
    spans: &[FunctionSpan],
    keep: impl Fn(&FunctionSpan) -> bool,
) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    for span in spans.iter().filter(|span| !keep(span)) {
        let first = usize::try_from(span.start)
            .unwrap_or(usize::MAX)
            .saturating_sub(1);
        let last = usize::try_from(span.end).unwrap_or(0).saturating_sub(1);
        let Some(open) = (first..last.min(lines.len())).find(|at| lines[*at].starts_with('{'))
        else {
            continue;
        };
        for line in lines.iter_mut().take(last).skip(open + 1) {
            *line = "";
        }
    }
    lines.join("\n")
}

/// Names called on changed lines (added in the end state, removed from the
/// baseline) and in the end-state functions that contain a change.
fn changed_calls(
    new_text: &str,
    old_text: &str,
    map: &LineMap,
    regions: &[Region],
) -> ChangedCalls {
    let new_lines: Vec<&str> = new_text.lines().collect();
    let old_lines: Vec<&str> = old_text.lines().collect();
    let changed: BTreeSet<u32> = map.changed_new_lines().collect();
    let line_at = |lines: &[&str], number: u32| -> Option<String> {
        usize::try_from(number)
            .ok()
            .and_then(|number| number.checked_sub(1))
            .and_then(|index| lines.get(index))
            .map(|line| (*line).to_owned())
    };
    let mut changed_text: Vec<String> = changed
        .iter()
        .filter_map(|number| line_at(&new_lines, *number))
        .collect();
    for region in regions {
        for number in region.old_start..region.old_start + region.old_lines {
            changed_text.extend(line_at(&old_lines, number));
        }
    }
    let mut function_text = Vec::new();
    for span in functions(new_text) {
        if changed.range(span.start..=span.end).next().is_some() {
            for number in span.start..=span.end {
                function_text.extend(line_at(&new_lines, number));
            }
        }
    }
    ChangedCalls {
        on_changed_lines: called(&changed_text),
        in_changed_functions: called(&function_text),
    }
}

fn called(lines: &[String]) -> BTreeSet<String> {
    uses(lines.iter().map(String::as_str))
        .into_iter()
        .filter_map(|found| match found {
            Use::Call(name) => Some(name),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "static int a(void)\n{\n\tspin_lock(&l);\n\treturn 0;\n}\n\nint b(int x)\n{\n\tkfree(p);\n\treturn x;\n}\n";
    const NEW: &str = "static int a(void)\n{\n\tspin_lock(&l);\n\treturn 0;\n}\n\nint b(int x)\n{\n\tkfree(p);\n\tprintk(\"x\");\n\treturn x;\n}\n";

    #[test]
    fn only_changed_functions_keep_their_bodies_and_lines_keep_their_numbers() {
        let regions = snapshot::regions(OLD.as_bytes(), NEW.as_bytes()).expect("diff");
        let map = LineMap::new(regions.clone());
        let (end, base) = focus_versions(NEW, OLD, &map, &regions);
        assert_eq!(end.lines().count(), NEW.lines().count());
        assert_eq!(base.lines().count(), OLD.lines().count());
        assert_eq!(
            end,
            "static int a(void)\n{\n\n\n}\n\nint b(int x)\n{\n\tkfree(p);\n\tprintk(\"x\");\n\treturn x;\n}\n"
        );
        assert!(base.contains("\tkfree(p);\n\treturn x;") && !base.contains("spin_lock"));
        let calls = changed_calls(NEW, OLD, &map, &regions);
        assert_eq!(
            calls.on_changed_lines.into_iter().collect::<Vec<_>>(),
            vec!["printk"]
        );
        assert_eq!(
            calls.in_changed_functions.into_iter().collect::<Vec<_>>(),
            vec!["kfree", "printk"]
        );
    }
}
