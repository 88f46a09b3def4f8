//! The `lock-order` builtin stage: the acquisition order in the changed
//! functions against the lock hierarchy the reviewed tree documents at the
//! top of mm/rmap.c and mm/filemap.c. Needs no model.
//!
//! Inputs are values: the comment files the caller read from the tree
//! ([`LockHierarchySources`]), the lock table (the stage's `prompt` file,
//! `prompts/checks/lock_order.toml`), the post-patch enclosing functions
//! from the review's context and, where no snippet covers a hunk, the
//! hunk's own lines. A finding is a `locking` finding anchored to the line
//! the patch adds or changes that makes the inversion, with the documented
//! path as evidence. An inversion entirely in unchanged code is reported as
//! pre-existing, and only from a whole enclosing function. Severity: high
//! only when the held lock is held on every path and the hierarchy has no
//! documented exception; medium with an exception (hugetlbfs); low when the
//! lock is held on some paths only. Pure: must never read files.

#[cfg(test)]
mod tests;
mod units;

use std::collections::BTreeSet;

use sashiko_lkmm::lockorder::{
    find_inversions, lock_acquisitions, parse_hierarchy, Ambiguity, CodeSite, Hierarchy,
    HierarchyEdge, Inversion, LockTable,
};

use crate::engine::{ReviewInputs, StageReport, StageState};
use crate::finding::{Evidence, Finding, Location, Severity};
use crate::prompts::StageDef;
use crate::series::ReviewSeries;
use units::{units_for_patch, Changes, Unit};

/// The reviewed tree's lock-order comment files, read by the caller.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockHierarchySources {
    /// Which tree, for messages ("commit 1a2b3c4d", "the working tree").
    pub tree: String,
    /// `(path, text)` of mm/rmap.c and mm/filemap.c, those the tree has.
    pub files: Vec<(String, String)>,
}

/// The files the hierarchy is read from, in the order they are read.
pub const HIERARCHY_FILES: [&str; 2] = ["mm/rmap.c", "mm/filemap.c"];

/// Run the stage; sets `report`'s state, reason and notes.
pub(crate) fn check(
    stage: &StageDef,
    series: &ReviewSeries,
    inputs: &ReviewInputs,
    report: &mut StageReport,
) -> Vec<Finding> {
    let not_applicable = |report: &mut StageReport, reason: String| {
        report.state = StageState::NotApplicable;
        report.reason = Some(reason);
        Vec::new()
    };
    let Some(sources) = inputs.lock_hierarchy.as_deref() else {
        return not_applicable(
            report,
            "no reviewed tree to read the mm lock hierarchy from".to_owned(),
        );
    };
    if sources.files.is_empty() {
        return not_applicable(
            report,
            format!(
                "the reviewed tree ({}) has no {}",
                sources.tree,
                HIERARCHY_FILES.join(" or ")
            ),
        );
    }
    let table = match table_of(stage) {
        Ok(table) => table,
        Err(reason) => {
            report.state = StageState::Skipped;
            report.reason = Some(reason);
            return Vec::new();
        }
    };
    let mut edges = Vec::new();
    for (path, text) in &sources.files {
        let (found, diagnostics) = parse_hierarchy(path, text, &table);
        edges.extend(found);
        report.notes.extend(
            diagnostics
                .iter()
                .map(|d| format!("lock hierarchy ({}): {d}", sources.tree)),
        );
    }
    if edges.is_empty() {
        let files: Vec<&str> = sources.files.iter().map(|(p, _)| p.as_str()).collect();
        return not_applicable(
            report,
            format!(
                "no lock-ordering comment could be read in {} ({})",
                files.join(", "),
                sources.tree
            ),
        );
    }
    let hierarchy = Hierarchy::new(edges);
    let mut findings = Vec::new();
    let mut checked = 0;
    let mut ambiguous = BTreeSet::new();
    for patch in &series.patches {
        let (units, changes) = units_for_patch(patch, &inputs.context);
        for unit in &units {
            let locks = lock_acquisitions(&unit.text, unit.first_line, &table);
            if locks.locks().len() < 2 {
                continue;
            }
            checked += 1;
            let site = CodeSite {
                file: &unit.file,
                function: &unit.function,
            };
            let (inversions, ambiguities) = find_inversions(&hierarchy, &table, &locks, site);
            ambiguous.extend(ambiguities.iter().map(|a| ambiguity_note(unit, a)));
            let unit_changes = changes
                .iter()
                .find(|(file, _)| *file == unit.file)
                .map(|(_, c)| c);
            for inversion in &inversions {
                let Some(place) = anchor(inversion, unit, unit_changes) else {
                    continue;
                };
                let finding = inversion_finding(patch.index, unit, inversion, place, sources);
                let duplicate = findings.iter().any(|f: &Finding| {
                    f.patch_index == finding.patch_index
                        && f.file == finding.file
                        && f.line_start == finding.line_start
                        && f.problem == finding.problem
                });
                if !duplicate {
                    findings.push(finding);
                }
            }
        }
    }
    if checked == 0 {
        return not_applicable(
            report,
            "no changed function takes two locks of the mm hierarchy".to_owned(),
        );
    }
    report.notes.push(format!(
        "checked {checked} changed function(s) against {} documented lock-order edges from {} ({})",
        hierarchy.edges.len(),
        sources
            .files
            .iter()
            .map(|(p, _)| p.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        sources.tree
    ));
    report.notes.extend(ambiguous);
    findings
}

fn table_of(stage: &StageDef) -> Result<LockTable, String> {
    if stage.prompt.trim().is_empty() {
        return Err(format!(
            "stage {} names no lock table (its `prompt` in stages.toml)",
            stage.name
        ));
    }
    LockTable::from_toml(&stage.prompt)
        .map_err(|error| format!("the lock table of stage {}: {error}", stage.name))
}

/// Where the patch made the inversion, and whether it was there before.
struct Place {
    line: u32,
    preexisting: bool,
}

fn anchor(inversion: &Inversion, unit: &Unit, changes: Option<&Changes>) -> Option<Place> {
    let introduced = |line| Place {
        line,
        preexisting: false,
    };
    if let Some(changes) = changes {
        if changes.added.contains(&inversion.line) {
            return Some(introduced(inversion.line));
        }
        if changes.added.contains(&inversion.held.line) {
            return Some(introduced(inversion.held.line));
        }
        if let Some(line) = changes.changed_between(inversion.held.line, inversion.line) {
            return Some(introduced(line));
        }
    }
    unit.whole_function.then_some(Place {
        line: inversion.line,
        preexisting: true,
    })
}

fn chain(path: &[HierarchyEdge]) -> String {
    let mut names: Vec<&str> = path.iter().map(|e| e.outer.as_str()).collect();
    if let Some(last) = path.last() {
        names.push(&last.inner);
    }
    names.join(" -> ")
}

fn inversion_finding(
    patch_index: u32,
    unit: &Unit,
    inversion: &Inversion,
    place: Place,
    sources: &LockHierarchySources,
) -> Finding {
    let held = &inversion.held;
    let (mut severity, explanation) = match (&inversion.exception, held.certain) {
        (None, true) => (
            Severity::High,
            "the held lock is held on every path to this acquisition and the hierarchy documents no exception: an ABBA deadlock against code that follows the documented order".to_owned(),
        ),
        (Some(exception), _) => (
            Severity::Medium,
            format!(
                "the hierarchy documents the reverse order only for \"{}\"; this is a deadlock unless the code here handles only such cases",
                exception.first().and_then(|e| e.scope.as_deref()).unwrap_or("a scoped section")
            ),
        ),
        (None, false) => (
            Severity::Low,
            "the held lock is held on some paths to this acquisition only (taken under a condition or before a join), so the inversion is not certain".to_owned(),
        ),
    };
    if place.preexisting {
        // A bug the patch did not make does not fail the patch's review.
        severity = severity.min(Severity::Medium);
    }
    let mut detail = format!("documented order (outer first), from {}:\n", sources.tree);
    for edge in &inversion.path {
        detail.push_str(&format!("  {}\n", edge.describe()));
    }
    detail.push_str(&format!(
        "held: {} since {}:{} {} ({})\nacquired: {} at {}:{} {}\n",
        held.lock,
        unit.file,
        held.line,
        held.call,
        if held.certain {
            "on every path"
        } else {
            "on some paths only"
        },
        inversion.acquired,
        unit.file,
        inversion.line,
        inversion.call,
    ));
    if let Some(exception) = &inversion.exception {
        detail.push_str("documented exception (reverse order):\n");
        for edge in exception {
            detail.push_str(&format!("  {}\n", edge.describe()));
        }
    }
    let mut locations = vec![Location {
        file: unit.file.clone(),
        line_start: held.line,
        line_end: held.line,
        note: Some(format!("{} taken here: {}", held.lock, held.call)),
    }];
    if place.line != inversion.line {
        locations.push(Location {
            file: unit.file.clone(),
            line_start: inversion.line,
            line_end: inversion.line,
            note: Some(format!(
                "{} taken here: {}",
                inversion.acquired, inversion.call
            )),
        });
    }
    let mut problem = format!(
            "{acquired} is taken while {held_lock} is held ({call} at line {line}, with {held_lock} from line {held_line}), but the mm lock hierarchy orders {acquired} outside {held_lock}: {chain}",
            acquired = inversion.acquired,
            held_lock = held.lock,
            call = inversion.call,
            line = inversion.line,
            held_line = held.line,
            chain = chain(&inversion.path),
    );
    if let Some(exception) = &inversion.exception {
        let first = exception.first();
        problem.push_str(&format!(
            " (the reverse order is documented only for \"{}\", {}:{})",
            first
                .and_then(|e| e.scope.as_deref())
                .unwrap_or("a scoped section"),
            first.map_or("", |e| e.file.as_str()),
            first.map_or(0, |e| e.line),
        ));
    }
    Finding {
        patch_index,
        file: unit.file.clone(),
        line_start: place.line,
        line_end: place.line,
        stage: "lock-order".to_owned(),
        severity,
        problem,
        severity_explanation: explanation,
        preexisting: place.preexisting,
        locations,
        evidence: vec![Evidence::Check {
            name: "lock-order".to_owned(),
            detail,
        }],
        suggestion: Some(format!(
            "Take {} before {}, or take it with a trylock and back off when that fails",
            inversion.acquired, held.lock
        )),
        consensus: 1,
    }
}

fn ambiguity_note(unit: &Unit, ambiguity: &Ambiguity) -> String {
    format!(
        "{}:{}: {} taken under {}: the hierarchy documents both orders ({} / {}); not reported",
        unit.file,
        ambiguity.line,
        ambiguity.acquired,
        ambiguity.held,
        ambiguity
            .forward
            .iter()
            .map(|e| format!("{}:{}", e.file, e.line))
            .collect::<Vec<_>>()
            .join(", "),
        ambiguity
            .backward
            .iter()
            .map(|e| format!("{}:{}", e.file, e.line))
            .collect::<Vec<_>>()
            .join(", "),
    )
}
