//! What the changed lines need explained, and where it is: the names the
//! added lines use (types, functions, macros) and the functions the series
//! changes, then, for any file the caller reads, the snippets defining
//! those names and the functions calling the changed ones. Pure: the caller
//! decides which files to read, in what order and how many.

use std::collections::BTreeSet;

use crate::anchor::{diff_lines, LineKind};
use crate::context::{changed_lines, functions, slice_lines, ContextKind, ContextSnippet};
use crate::cscan::{self, DefKind, Use};
use crate::series::ReviewSeries;

/// Definitions longer than this are left out (with a note).
pub const MAX_DEFINITION_LINES: u32 = 150;
/// A caller longer than this is shown as a window around the call.
pub const MAX_CALLER_LINES: u32 = 80;
const CALLER_WINDOW: u32 = 10;

/// A function whose body the series changes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ChangedFunction {
    pub file: String,
    pub name: String,
    /// `static`: only its own file can call it.
    pub is_static: bool,
}

/// What the changed lines of a series need explained.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub uses: BTreeSet<Use>,
    pub changed_functions: Vec<ChangedFunction>,
}

/// The names the added lines of `series` use and the functions it changes,
/// given the post-patch text of the touched files (`(path, text)`).
pub fn wanted(series: &ReviewSeries, touched: &[(String, String)]) -> Wanted {
    let mut uses = BTreeSet::new();
    for patch in &series.patches {
        let added = diff_lines(&patch.diff)
            .into_iter()
            .filter(|line| line.kind == LineKind::Added)
            .map(|line| line.content());
        uses.extend(cscan::uses(added).into_iter().filter(worth_looking_up));
    }
    let diffs: String = series.patches.iter().map(|p| p.diff.as_str()).collect();
    let mut changed_functions = Vec::new();
    for (file, source) in touched {
        let changed = changed_lines(&diffs, file);
        let lines: Vec<&str> = source.lines().collect();
        for span in functions(source) {
            if changed
                .iter()
                .any(|line| (span.start..=span.end).contains(line))
            {
                let header = slice_lines(&lines, span.start, span.start);
                changed_functions.push(ChangedFunction {
                    file: file.clone(),
                    name: span.name,
                    is_static: header.starts_with("static"),
                });
            }
        }
    }
    changed_functions.sort();
    changed_functions.dedup();
    // The changed functions are shown whole as enclosing functions already.
    uses.retain(|use_| !changed_functions.iter().any(|f| f.name == use_.name()));
    Wanted {
        uses,
        changed_functions,
    }
}

/// Lower-case plain names are mostly locals and members; typedefs end in
/// `_t` by kernel convention, macros and constants are upper case.
fn worth_looking_up(use_: &Use) -> bool {
    match use_ {
        Use::Tag(_) | Use::Call(_) => true,
        Use::Name(name) => name.ends_with("_t") || name.chars().any(|c| c.is_ascii_uppercase()),
    }
}

/// Definitions in `source` of anything in `wanted`: the snippets, the uses
/// they answer, and notes about definitions too long to show.
pub fn definitions_in(
    file: &str,
    source: &str,
    wanted: &BTreeSet<Use>,
    priority: u32,
) -> (Vec<ContextSnippet>, BTreeSet<Use>, Vec<String>) {
    let lines: Vec<&str> = source.lines().collect();
    let mut snippets = Vec::new();
    let mut answered = BTreeSet::new();
    let mut notes = Vec::new();
    for definition in cscan::definitions(source) {
        let matching: Vec<&Use> = wanted.iter().filter(|u| u.matches(&definition)).collect();
        if matching.is_empty() {
            continue;
        }
        answered.extend(matching.into_iter().cloned());
        let length = definition.end - definition.start + 1;
        let what = match definition.kind {
            DefKind::Function => format!("{}()", definition.name),
            kind => format!("{} {}", kind.as_str(), definition.name),
        };
        if length > MAX_DEFINITION_LINES {
            notes.push(format!(
                "{file}: definition of {what} ({length} lines) left out: too long to show"
            ));
            continue;
        }
        snippets.push(ContextSnippet {
            file: file.to_owned(),
            first_line: definition.start,
            label: format!("definition of {what}"),
            text: slice_lines(&lines, definition.start, definition.end),
            kind: ContextKind::Definition,
            priority,
        });
    }
    (snippets, answered, notes)
}

/// Functions in `source` (the file `file`) that call a changed function:
/// the whole caller when short, else a window around the call.
pub fn callers_in(
    file: &str,
    source: &str,
    changed: &[ChangedFunction],
    priority: u32,
) -> Vec<ContextSnippet> {
    let lines: Vec<&str> = source.lines().collect();
    let spans = functions(source);
    let mut seen = BTreeSet::new();
    let mut snippets = Vec::new();
    for callee in changed {
        if callee.is_static && callee.file != file {
            continue;
        }
        let own = (callee.file == file)
            .then(|| spans.iter().find(|span| span.name == callee.name))
            .flatten()
            .map(|span| (span.start, span.end));
        for call in cscan::call_sites(source, &callee.name, own) {
            let Some(caller) = spans.iter().find(|s| (s.start..=s.end).contains(&call)) else {
                continue;
            };
            let (start, end) = if caller.end - caller.start < MAX_CALLER_LINES {
                (caller.start, caller.end)
            } else {
                (
                    call.saturating_sub(CALLER_WINDOW).max(caller.start),
                    (call + CALLER_WINDOW).min(caller.end),
                )
            };
            if !seen.insert((start, end)) {
                continue;
            }
            snippets.push(ContextSnippet {
                file: file.to_owned(),
                first_line: start,
                label: format!("{}() calls {}() (line {call})", caller.name, callee.name),
                text: slice_lines(&lines, start, end),
                kind: ContextKind::Caller,
                priority,
            });
        }
    }
    snippets
}

#[cfg(test)]
mod tests {
    use super::*;

    const DRIVER: &str = "#include <linux/foo.h>\n\nstatic int helper(struct foo *f)\n{\n\treturn foo_ok(f) ? FOO_MAX : 0;\n}\n\nint probe(struct foo *f)\n{\n\treturn helper(f);\n}\n";
    const HEADER: &str = "#define FOO_MAX 16\n#define foo_ok(f) ((f)->count < FOO_MAX)\nstruct foo {\n\tint count;\n};\nstruct unrelated {\n\tint x;\n};\n";

    fn series() -> ReviewSeries {
        let diff = "--- a/drivers/d.c\n+++ b/drivers/d.c\n@@ -4,3 +4,3 @@\n {\n-\treturn 0;\n+\treturn foo_ok(f) ? FOO_MAX : 0;\n }\n";
        crate::context::one_patch_series(diff, "")
    }

    #[test]
    fn wanted_names_and_changed_functions() {
        let wanted = wanted(&series(), &[("drivers/d.c".into(), DRIVER.into())]);
        let names: Vec<&str> = wanted.uses.iter().map(Use::name).collect();
        assert_eq!(names, vec!["foo_ok", "FOO_MAX"], "f is a local");
        assert_eq!(
            wanted.changed_functions,
            vec![ChangedFunction {
                file: "drivers/d.c".into(),
                name: "helper".into(),
                is_static: true
            }]
        );
    }

    #[test]
    fn definitions_and_callers_are_found_where_asked() {
        let wanted = wanted(&series(), &[("drivers/d.c".into(), DRIVER.into())]);
        let (snippets, answered, notes) =
            definitions_in("include/linux/foo.h", HEADER, &wanted.uses, 45);
        let labels: Vec<&str> = snippets.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            vec!["definition of macro FOO_MAX", "definition of macro foo_ok"]
        );
        assert_eq!(answered.len(), 2);
        assert!(notes.is_empty());
        let callers = callers_in("drivers/d.c", DRIVER, &wanted.changed_functions, 40);
        assert_eq!(callers.len(), 1);
        assert_eq!(callers[0].label, "probe() calls helper() (line 10)");
        assert_eq!((callers[0].first_line, callers[0].last_line()), (8, 11));
        // A static function cannot be called from another file.
        assert!(callers_in("drivers/e.c", DRIVER, &wanted.changed_functions, 30).is_empty());
    }
}
