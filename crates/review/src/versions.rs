//! Reviewing version n+1 of a series that was reviewed before: the
//! interdiff between the two versions' end states (what the author changed
//! since the earlier review, per file, from the patches themselves), and
//! the earlier findings carried forward, each classified by code as
//! `fixed` (its cited code is gone or changed), `still present`
//! (re-anchored to the new version's lines) or, for the new version's own
//! findings, `new`.
//!
//! Both versions are assumed to apply to the same base; when a line both
//! show differs, the interdiff says so in a note. Pure: values in, values
//! out. The caller (the CLI's review runner) finds the earlier version.

use serde::Serialize;

use crate::anchor::diff_lines;
use crate::endstate::{significant, FileState, Item, Origin, SeriesStates};
use crate::finding::Finding;
use crate::series::ReviewSeries;

/// An earlier version of the series and what its finished review found.
#[derive(Clone, Debug)]
pub struct PreviousVersion {
    pub version: u32,
    /// The stored review the findings come from.
    pub review_id: i64,
    pub series: ReviewSeries,
    /// Its open findings (reported, new or still present there), with
    /// their stored row ids.
    pub findings: Vec<(i64, Finding)>,
}

/// How a finding relates to the earlier version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Carry {
    /// Not raised on the earlier version.
    New,
    /// Raised on the earlier version; its code is still there.
    StillPresent,
    /// Raised on the earlier version; a deterministic re-check of this
    /// version's end state shows the defect gone (or its file deleted).
    Fixed,
    /// Raised on the earlier version; this version's review did not raise
    /// it again and nothing confirmed it: listed with the earlier text,
    /// never reported as a finding.
    NotRaisedAgain,
}

impl Carry {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Carry::New => "new",
            Carry::StillPresent => "still_present",
            Carry::Fixed => "fixed",
            Carry::NotRaisedAgain => "not_raised_again",
        }
    }
}

/// A finding's place in the version history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CarriedFinding {
    pub finding: Finding,
    pub carry: Carry,
    /// The earlier finding's stored row id, for still present and fixed.
    pub earlier_id: Option<i64>,
    /// For `fixed` and `still_present`: where it was on the earlier version.
    pub earlier_location: Option<String>,
    /// Why it has its carry state, for people: the re-check that showed it
    /// fixed, what confirmed it still present, why it is only "not raised
    /// again".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The earlier review's findings seen from the new version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CarryForward {
    pub earlier_version: u32,
    pub earlier_review_id: i64,
    /// Earlier findings whose code survives, re-anchored to this version.
    pub still_present: Vec<CarriedFinding>,
    /// Earlier findings whose code is gone.
    pub fixed: Vec<CarriedFinding>,
}

/// Classify the earlier findings against this version's end state.
pub fn carry_forward(previous: &PreviousVersion, series: &ReviewSeries) -> CarryForward {
    let earlier_states = SeriesStates::build(&previous.series);
    let states = SeriesStates::build(series);
    let mut out = CarryForward {
        earlier_version: previous.version,
        earlier_review_id: previous.review_id,
        ..CarryForward::default()
    };
    for (id, earlier) in &previous.findings {
        let location = format!(
            "v{} patch {} {}:{}-{}",
            previous.version,
            earlier.patch_index,
            earlier.file,
            earlier.line_start,
            earlier.line_end
        );
        let cited = cited_texts(&earlier_states, earlier);
        let survives = survives_in(&cited, states.end().get(&earlier.file));
        let carried = |finding: Finding, carry| CarriedFinding {
            finding,
            carry,
            earlier_id: Some(*id),
            earlier_location: Some(location.clone()),
            note: None,
        };
        if survives {
            let moved = reanchor(earlier, &cited, series);
            out.still_present.push(carried(moved, Carry::StillPresent));
        } else {
            out.fixed.push(carried(earlier.clone(), Carry::Fixed));
        }
    }
    out
}

/// The earlier review's findings against this version, before the verify
/// step: which this review raised again, which a deterministic re-check
/// shows fixed, and the rest, which only the verify step can confirm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CarryPlan {
    /// (index into this review's findings, the earlier finding's row id):
    /// this review raised the earlier finding again.
    pub raised_again: Vec<(usize, i64)>,
    /// Fixed: the re-check of this version's end state shows the defect
    /// gone (`note` says which check and why).
    pub fixed: Vec<CarriedFinding>,
    /// Neither raised again nor shown fixed: re-anchored to this version
    /// where its code survives (`carry` is `not_raised_again` until the
    /// verify step confirms it).
    pub unconfirmed: Vec<CarriedFinding>,
}

/// Plan the carry-forward of the earlier review's findings against this
/// version's `findings`. `tree_functions` are the reviewed tree's
/// enclosing functions after this version, when there is a tree.
pub fn plan_carry(
    previous: &PreviousVersion,
    series: &ReviewSeries,
    findings: &[Finding],
    tree_functions: &[crate::context::ContextSnippet],
) -> CarryPlan {
    let states = SeriesStates::build(series);
    let positions = carry_forward(previous, series);
    let mut plan = CarryPlan::default();
    let mut claimed = std::collections::BTreeSet::new();
    let all = positions.still_present.into_iter().chain(positions.fixed);
    for mut carried in all {
        let Some(id) = carried.earlier_id else {
            continue;
        };
        let earlier = previous
            .findings
            .iter()
            .find(|(row, _)| *row == id)
            .map(|(_, finding)| finding)
            .unwrap_or(&carried.finding);
        let again = findings.iter().enumerate().position(|(at, finding)| {
            !claimed.contains(&at)
                && (same_problem(earlier, finding) || same_problem(&carried.finding, finding))
        });
        if let Some(at) = again {
            claimed.insert(at);
            plan.raised_again.push((at, id));
            continue;
        }
        if let Some(why) = fixed_in(previous, earlier, series, &states, tree_functions) {
            carried.finding = earlier.clone();
            carried.carry = Carry::Fixed;
            carried.note = Some(why);
            plan.fixed.push(carried);
            continue;
        }
        carried.carry = Carry::NotRaisedAgain;
        carried.note = Some(format!(
            "v{}'s review did not raise it again and nothing confirmed it",
            series.version
        ));
        plan.unconfirmed.push(carried);
    }
    plan
}

/// Why `earlier` is fixed in this version, when a deterministic re-check
/// of this version's end state shows it: its file is deleted, or the
/// function it was in passes the re-check of its defect.
fn fixed_in(
    previous: &PreviousVersion,
    earlier: &Finding,
    series: &ReviewSeries,
    states: &SeriesStates,
    tree_functions: &[crate::context::ContextSnippet],
) -> Option<String> {
    if states
        .end()
        .get(&earlier.file)
        .is_some_and(|end| !end.exists)
    {
        return Some(format!("v{} deletes {}", series.version, earlier.file));
    }
    let defect = crate::recheck::Defect::of(&earlier.problem)?;
    let patch = previous.series.patch(earlier.patch_index)?;
    let function = crate::context::diff_function_of(&patch.diff, &earlier.file, earlier.line_start)
        .or_else(|| {
            crate::context::diff_function_of(&patch.diff, &earlier.file, earlier.line_end)
        })?;
    let text =
        crate::endstate::end_function_text(states, &earlier.file, &function, tree_functions)?;
    match crate::recheck::recheck(defect, &earlier.problem, &text) {
        crate::recheck::Verdict::Gone(why) => Some(format!(
            "in v{} {function}() passes the re-check of {}: {why}",
            series.version,
            defect.check_name()
        )),
        crate::recheck::Verdict::Present(_) | crate::recheck::Verdict::Unknown(_) => None,
    }
}

/// The cited lines of an earlier finding: origin in its version's base and
/// text where known.
fn cited_texts(states: &SeriesStates, finding: &Finding) -> Vec<(Origin, Option<String>)> {
    let Some(file) = states
        .after_patch(finding.patch_index)
        .and_then(|after| after.get(&finding.file))
    else {
        return Vec::new();
    };
    let end = states.end().get(&finding.file);
    let mut cited: Vec<(Origin, Option<String>)> = file
        .at(finding.line_start, finding.line_end)
        .into_iter()
        .map(|(origin, text)| {
            let text = text.or_else(|| {
                end.and_then(|end| end.removed.get(&origin))
                    .map(|(text, _)| text.clone())
            });
            (origin, text)
        })
        .collect();
    if cited.iter().any(|(_, text)| significant(text.as_deref())) {
        cited.retain(|(_, text)| significant(text.as_deref()));
    }
    cited
}

/// Whether at least half of the cited lines are in `end` (the new
/// version's end state of the file): an unchanged base line, or a line
/// with the same text.
fn survives_in(cited: &[(Origin, Option<String>)], end: Option<&FileState>) -> bool {
    if cited.is_empty() {
        // Nothing known about the cited code: the new version did not
        // touch it either, so it is still there.
        return end.is_none_or(|end| end.exists);
    }
    let Some(end) = end else {
        // The new version does not touch the file: base lines survive,
        // lines the earlier version added do not.
        let kept = cited
            .iter()
            .filter(|(origin, _)| matches!(origin, Origin::Base(_)))
            .count();
        return kept * 2 > cited.len();
    };
    if !end.exists {
        return false;
    }
    let kept = cited
        .iter()
        .filter(|(origin, text)| match (origin, text) {
            (_, Some(text)) if end.has_text(text) => true,
            (Origin::Base(_), _) => end.contains(*origin) && !end.removed.contains_key(origin),
            _ => false,
        })
        .count();
    kept * 2 > cited.len()
}

/// The earlier finding moved to the new version's lines: the patch and
/// post-patch line where the first cited line's text appears (nearest to
/// the old place, the same patch number first); unchanged when no patch
/// of the new version shows it.
fn reanchor(
    earlier: &Finding,
    cited: &[(Origin, Option<String>)],
    series: &ReviewSeries,
) -> Finding {
    let mut moved = earlier.clone();
    let Some(first) = cited.iter().find_map(|(_, text)| text.as_deref()) else {
        return moved;
    };
    let offset = cited
        .iter()
        .position(|(_, text)| text.as_deref() == Some(first))
        .and_then(|at| u32::try_from(at).ok())
        .unwrap_or(0);
    let mut best: Option<(u32, u32, u32)> = None;
    for patch in &series.patches {
        for line in diff_lines(&patch.diff) {
            let Some(number) = line.new_line else {
                continue;
            };
            if line.file != earlier.file || line.content().trim() != first.trim() {
                continue;
            }
            let distance = number.abs_diff(earlier.line_start + offset)
                + if patch.index == earlier.patch_index {
                    0
                } else {
                    10_000
                };
            if best.is_none_or(|(_, _, d)| distance < d) {
                best = Some((patch.index, number, distance));
            }
        }
    }
    if let Some((patch_index, number, _)) = best {
        let span = earlier.line_end.saturating_sub(earlier.line_start);
        moved.patch_index = patch_index;
        moved.line_start = number.saturating_sub(offset).max(1);
        moved.line_end = moved.line_start + span;
    }
    moved
}

/// Whether `finding` (of the new version) is `earlier` raised again:
/// same file, lines within a few of each other, and the same fingerprint,
/// stage or mostly the same words.
pub fn same_problem(earlier: &Finding, finding: &Finding) -> bool {
    const SLACK: u32 = 3;
    let near = earlier.line_start <= finding.line_end.saturating_add(SLACK)
        && finding.line_start <= earlier.line_end.saturating_add(SLACK);
    earlier.file == finding.file
        && (earlier.fingerprint() == finding.fingerprint()
            || (near
                && (earlier.stage == finding.stage
                    || crate::verify::word_overlap(&earlier.problem, &finding.problem) >= 0.5)))
}

/// One file's interdiff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileInterdiff {
    pub file: String,
    /// Unified-diff hunks from the earlier end state to this one.
    pub text: String,
    /// First line of the first hunk in this version's end state.
    pub first_line: u32,
}

/// The interdiff of two versions: per file, what differs between their
/// end states as far as their patches show them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Interdiff {
    pub files: Vec<FileInterdiff>,
    pub notes: Vec<String>,
}

/// One step of the aligned walk over two end states.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Same(Option<String>),
    /// Unseen, unchanged lines.
    Unseen(u32),
    Earlier(String),
    Later(String),
}

pub fn interdiff(earlier: &ReviewSeries, later: &ReviewSeries) -> Interdiff {
    let earlier_states = SeriesStates::build(earlier);
    let later_states = SeriesStates::build(later);
    let mut files: Vec<&String> = earlier_states.end().keys().collect();
    files.extend(later_states.end().keys());
    files.sort();
    files.dedup();
    let mut out = Interdiff::default();
    for file in files {
        let base = |states: &SeriesStates| states.after[0].contains_key(file);
        let in_base = base(&earlier_states) || base(&later_states);
        let initial = if in_base {
            FileState {
                items: vec![Item::Gap { from: 1, to: None }],
                exists: true,
                ..FileState::default()
            }
        } else {
            FileState::default()
        };
        let a = earlier_states.end().get(file).unwrap_or(&initial);
        let b = later_states.end().get(file).unwrap_or(&initial);
        let (steps, mismatch) = align(a, b);
        if mismatch {
            out.notes.push(format!(
                "{file}: the two versions show different text for the same base line; they may apply to different bases"
            ));
        }
        if let Some((text, first_line)) = render_hunks(file, &steps) {
            out.files.push(FileInterdiff {
                file: file.clone(),
                text,
                first_line,
            });
        }
    }
    out
}

/// Entries of an end state: base lines (known or unseen ranges) and added lines.
#[derive(Clone, Debug)]
enum Entry {
    Base(u32, Option<String>),
    BaseRange(u32, Option<u32>),
    Added(String),
}

fn entries(state: &FileState) -> Vec<Entry> {
    state
        .items
        .iter()
        .map(|item| match item {
            Item::Line {
                origin: Origin::Base(n),
                text,
            } => Entry::Base(*n, text.clone()),
            Item::Line { text, .. } => Entry::Added(text.clone().unwrap_or_default()),
            Item::Gap { from, to } => Entry::BaseRange(*from, *to),
        })
        .collect()
}

fn first_base(entry: &Entry) -> Option<u32> {
    match entry {
        Entry::Base(n, _) | Entry::BaseRange(n, _) => Some(*n),
        Entry::Added(_) => None,
    }
}

/// Walk both end states in base order. Base lines one version removed
/// are `Earlier`/`Later` steps (their text from that version's removals);
/// added lines between the same base lines are compared line by line.
fn align(a: &FileState, b: &FileState) -> (Vec<Step>, bool) {
    let (mut xs, mut ys) = (entries(a), entries(b));
    xs.reverse();
    ys.reverse();
    let mut steps = Vec::new();
    let mut mismatch = false;
    let removed_text = |state: &FileState, n: u32| {
        state
            .removed
            .get(&Origin::Base(n))
            .map(|(text, _)| text.clone())
            .unwrap_or_default()
    };
    loop {
        let mut run_a = Vec::new();
        while let Some(Entry::Added(text)) = xs.last() {
            run_a.push(text.clone());
            xs.pop();
        }
        let mut run_b = Vec::new();
        while let Some(Entry::Added(text)) = ys.last() {
            run_b.push(text.clone());
            ys.pop();
        }
        steps.extend(diff_runs(&run_a, &run_b));
        let (na, nb) = (
            xs.last().and_then(first_base),
            ys.last().and_then(first_base),
        );
        match (na, nb) {
            (None, None) => break,
            (Some(n), other) if other.is_none_or(|m| n < m) => {
                // In the earlier end state only: the later version removed it
                // (or the file).
                let entry = xs.pop().expect("peeked");
                match split_front(entry, other) {
                    (Entry::BaseRange(from, to), rest) => {
                        // An unseen tail cannot be listed line by line.
                        if let Some(to) = to {
                            for line in from..to {
                                steps.push(Step::Earlier(removed_text(b, line)));
                            }
                        }
                        xs.extend(rest);
                    }
                    (Entry::Base(n, text), rest) => {
                        steps.push(Step::Earlier(text.unwrap_or_else(|| removed_text(b, n))));
                        xs.extend(rest);
                    }
                    (Entry::Added(_), _) => unreachable!("added entries were taken"),
                }
            }
            (_, Some(m)) if na.is_none_or(|n| m < n) => {
                let entry = ys.pop().expect("peeked");
                match split_front(entry, na) {
                    (Entry::BaseRange(from, to), rest) => {
                        if let Some(to) = to {
                            for line in from..to {
                                steps.push(Step::Later(removed_text(a, line)));
                            }
                        }
                        ys.extend(rest);
                    }
                    (Entry::Base(n, text), rest) => {
                        steps.push(Step::Later(text.unwrap_or_else(|| removed_text(a, n))));
                        ys.extend(rest);
                    }
                    (Entry::Added(_), _) => unreachable!("added entries were taken"),
                }
            }
            _ => {
                // Both at the same base line.
                let x = xs.pop().expect("peeked");
                let y = ys.pop().expect("peeked");
                match (x, y) {
                    (Entry::BaseRange(from, to_a), Entry::BaseRange(_, to_b)) => {
                        let to = match (to_a, to_b) {
                            (Some(p), Some(q)) => Some(p.min(q)),
                            (p, q) => p.or(q),
                        };
                        match to {
                            None => break,
                            Some(to) => {
                                steps.push(Step::Unseen(to - from));
                                if to_a != Some(to) {
                                    xs.push(Entry::BaseRange(to, to_a));
                                }
                                if to_b != Some(to) {
                                    ys.push(Entry::BaseRange(to, to_b));
                                }
                            }
                        }
                    }
                    (x, y) => {
                        let (text_x, rest_x) = one_line(x);
                        let (text_y, rest_y) = one_line(y);
                        if let (Some(p), Some(q)) = (&text_x, &text_y) {
                            mismatch |= p != q;
                        }
                        steps.push(Step::Same(text_x.or(text_y)));
                        xs.extend(rest_x);
                        ys.extend(rest_y);
                    }
                }
            }
        }
    }
    (steps, mismatch)
}

/// Split a base entry into the part before base line `limit` and the rest
/// (pushed back reversed).
fn split_front(entry: Entry, limit: Option<u32>) -> (Entry, Option<Entry>) {
    match (entry, limit) {
        (Entry::BaseRange(from, to), Some(limit)) if to.is_none_or(|to| limit < to) => (
            Entry::BaseRange(from, Some(limit)),
            Some(Entry::BaseRange(limit, to)),
        ),
        (entry, _) => (entry, None),
    }
}

/// The first line of a base entry and the rest of it.
fn one_line(entry: Entry) -> (Option<String>, Option<Entry>) {
    match entry {
        Entry::Base(_, text) => (text, None),
        Entry::BaseRange(from, to) => {
            let rest = to
                .is_none_or(|to| from + 1 < to)
                .then_some(Entry::BaseRange(from + 1, to));
            (None, rest)
        }
        Entry::Added(text) => (Some(text), None),
    }
}

/// Line diff of two runs of added lines (longest common subsequence; runs
/// too long for that are shown as replaced).
fn diff_runs(a: &[String], b: &[String]) -> Vec<Step> {
    const MAX_CELLS: usize = 4_000_000;
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        return a
            .iter()
            .map(|t| Step::Earlier(t.clone()))
            .chain(b.iter().map(|t| Step::Later(t.clone())))
            .collect();
    }
    let mut table = vec![vec![0u32; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i][j] = if a[i] == b[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut steps = Vec::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            steps.push(Step::Same(Some(a[i].clone())));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || table[i + 1][j] >= table[i][j + 1]) {
            // Removals first, as diff(1) writes them.
            steps.push(Step::Earlier(a[i].clone()));
            i += 1;
        } else {
            steps.push(Step::Later(b[j].clone()));
            j += 1;
        }
    }
    steps
}

/// Unified-diff hunks with up to three known lines of context; unseen
/// lines end a hunk's context. `None` when nothing differs.
fn render_hunks(file: &str, steps: &[Step]) -> Option<(String, u32)> {
    const CONTEXT: usize = 3;
    let changed: Vec<usize> = steps
        .iter()
        .enumerate()
        .filter(|(_, step)| matches!(step, Step::Earlier(_) | Step::Later(_)))
        .map(|(at, _)| at)
        .collect();
    if changed.is_empty() {
        return None;
    }
    // Positions (1-based) of each step in both end states.
    let mut positions = Vec::with_capacity(steps.len());
    let (mut old, mut new) = (1u32, 1u32);
    for step in steps {
        positions.push((old, new));
        match step {
            Step::Same(_) => {
                old += 1;
                new += 1;
            }
            Step::Unseen(n) => {
                old += n;
                new += n;
            }
            Step::Earlier(_) => old += 1,
            Step::Later(_) => new += 1,
        }
    }
    let known = |at: usize| matches!(steps[at], Step::Same(Some(_)));
    let mut ranges: Vec<(usize, usize)> = Vec::new();
    for at in changed {
        let mut start = at;
        while start > 0 && at - start < CONTEXT && known(start - 1) {
            start -= 1;
        }
        let mut end = at;
        while end + 1 < steps.len() && end - at < CONTEXT && known(end + 1) {
            end += 1;
        }
        match ranges.last_mut() {
            Some(last) if start <= last.1 + 1 => last.1 = last.1.max(end),
            _ => ranges.push((start, end)),
        }
    }
    let mut text = format!("--- a/{file} (earlier version)\n+++ b/{file} (this version)\n");
    let first_line = positions[ranges[0].0].1;
    for (start, end) in ranges {
        let mut body = String::new();
        let (mut old_count, mut new_count) = (0u32, 0u32);
        for step in &steps[start..=end] {
            match step {
                Step::Same(text) => {
                    body.push_str(&format!(" {}\n", text.as_deref().unwrap_or("")));
                    old_count += 1;
                    new_count += 1;
                }
                Step::Unseen(_) => {}
                Step::Earlier(text) => {
                    body.push_str(&format!("-{text}\n"));
                    old_count += 1;
                }
                Step::Later(text) => {
                    body.push_str(&format!("+{text}\n"));
                    new_count += 1;
                }
            }
        }
        let (old_start, new_start) = positions[start];
        text.push_str(&format!(
            "@@ -{old_start},{old_count} +{new_start},{new_count} @@\n{body}"
        ));
    }
    Some((text, first_line))
}

#[cfg(test)]
#[path = "versions_tests.rs"]
mod tests;
