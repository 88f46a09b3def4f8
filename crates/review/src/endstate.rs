//! The series' end state as far as its patches show it, and the
//! deterministic "fixed later in the series" check.
//!
//! Without the tree, a file is known only through the hunks that touch it.
//! Each file is kept as a sequence of lines of known origin: a base line
//! (numbered in the file before the series; its text known once a hunk
//! shows it, else a gap of unseen lines) or a line added by patch `p`.
//! Applying the patches in order moves those identities along, so a line a
//! finding cites after patch `k` can be followed to the end of the series:
//! still there, or removed by patch `j` (and then perhaps re-added with the
//! same text, e.g. when code moves). Pure: values in, values out. The
//! diffs are read by `sashiko_mail::diff`; this module never parses diff
//! syntax itself.

use std::collections::{BTreeMap, VecDeque};

pub use sashiko_mail::diff::FileDiff;
use sashiko_mail::diff::{Hunk, LineKind};

use crate::finding::Finding;
use crate::series::ReviewSeries;

/// Where a line of a file state comes from: its identity while patches
/// move it around.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// Line `n` of the file before the series.
    Base(u32),
    /// Added by patch `patch` at post-patch line `line`.
    Added { patch: u32, line: u32 },
}

/// One entry of a file state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A line whose origin is known, with its text when a hunk showed it.
    Line {
        origin: Origin,
        text: Option<String>,
    },
    /// Base lines `from..to` (`to` exclusive; `None`: to the end of the
    /// file) no hunk has shown yet.
    Gap { from: u32, to: Option<u32> },
}

impl Item {
    fn len(&self) -> Option<u32> {
        match self {
            Item::Line { .. } => Some(1),
            Item::Gap { from, to } => to.map(|to| to.saturating_sub(*from)),
        }
    }
}

/// One file after some patches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileState {
    pub items: Vec<Item>,
    /// Text of lines removed so far, by origin.
    pub removed: BTreeMap<Origin, (String, u32)>,
    /// False once a patch deleted the file.
    pub exists: bool,
    /// The patch that deleted it.
    pub deleted_by: Option<u32>,
}

impl FileState {
    fn base() -> FileState {
        FileState {
            items: vec![Item::Gap { from: 1, to: None }],
            removed: BTreeMap::new(),
            exists: true,
            deleted_by: None,
        }
    }

    fn created() -> FileState {
        FileState {
            items: Vec::new(),
            removed: BTreeMap::new(),
            exists: true,
            deleted_by: None,
        }
    }

    /// Origins and known texts of positions `start..=end` (1-based).
    pub fn at(&self, start: u32, end: u32) -> Vec<(Origin, Option<String>)> {
        let (start, end) = (start.min(end).max(1), start.max(end).max(1));
        let mut out = Vec::new();
        let mut position = 1u32;
        for item in &self.items {
            if position > end {
                break;
            }
            match item {
                Item::Line { origin, text } => {
                    if position >= start {
                        out.push((*origin, text.clone()));
                    }
                    position += 1;
                }
                Item::Gap { from, to } => {
                    let len = to.map_or(u32::MAX - position, |to| to.saturating_sub(*from));
                    let last = position.saturating_add(len);
                    for wanted in start.max(position)..=end.min(last.saturating_sub(1)) {
                        out.push((Origin::Base(from + (wanted - position)), None));
                    }
                    position = last;
                }
            }
        }
        out
    }

    /// Whether a line of this origin is still in the file.
    pub fn contains(&self, origin: Origin) -> bool {
        self.items.iter().any(|item| match (item, origin) {
            (Item::Line { origin: own, .. }, _) => *own == origin,
            (Item::Gap { from, to }, Origin::Base(n)) => n >= *from && to.is_none_or(|to| n < to),
            (Item::Gap { .. }, Origin::Added { .. }) => false,
        })
    }

    /// Whether some known line has this text (trimmed).
    pub fn has_text(&self, wanted: &str) -> bool {
        let wanted = wanted.trim();
        self.items.iter().any(
            |item| matches!(item, Item::Line { text: Some(text), .. } if text.trim() == wanted),
        )
    }

    /// Apply one file's hunks of patch `patch`. Returns a note when the
    /// hunks do not apply to what is known (the state is left as far as
    /// they did).
    fn apply(&mut self, patch: u32, hunks: &[Hunk]) -> Option<String> {
        let mut old: VecDeque<Item> = std::mem::take(&mut self.items).into();
        let mut new = Vec::new();
        let mut consumed = 0u32;
        for hunk in hunks {
            let before = if hunk.old_lines == 0 {
                hunk.old_start
            } else {
                hunk.old_start.saturating_sub(1)
            };
            if before < consumed || !move_positions(&mut old, &mut new, before - consumed) {
                self.items = new.into_iter().chain(old).collect();
                return Some(format!("patch {patch}: a hunk does not apply in order"));
            }
            let past_end = || format!("patch {patch}: a hunk reaches past the end of the file");
            consumed = before;
            let mut new_line = hunk.new_start;
            for line in &hunk.lines {
                let text = line.text.as_str();
                match line.kind {
                    LineKind::Added => {
                        new.push(Item::Line {
                            origin: Origin::Added {
                                patch,
                                line: new_line,
                            },
                            text: Some(text.to_owned()),
                        });
                        new_line = new_line.saturating_add(1);
                    }
                    LineKind::Removed => {
                        let Some(origin) = take_one(&mut old) else {
                            self.items = new;
                            return Some(past_end());
                        };
                        self.removed.insert(origin.0, (text.to_owned(), patch));
                        consumed += 1;
                    }
                    LineKind::NoNewline => {}
                    LineKind::Context => {
                        let Some((origin, _)) = take_one(&mut old) else {
                            self.items = new;
                            return Some(past_end());
                        };
                        new.push(Item::Line {
                            origin,
                            text: Some(text.to_owned()),
                        });
                        consumed += 1;
                        new_line = new_line.saturating_add(1);
                    }
                }
            }
        }
        new.extend(old);
        self.items = new;
        None
    }
}

/// Move `count` positions from the front of `old` to `new`, splitting a gap
/// when needed. False when `old` runs out.
fn move_positions(old: &mut VecDeque<Item>, new: &mut Vec<Item>, mut count: u32) -> bool {
    while count > 0 {
        let Some(front) = old.pop_front() else {
            return false;
        };
        match (front.len(), &front) {
            (Some(len), _) if len <= count => {
                count -= len;
                new.push(front);
            }
            (_, Item::Gap { from, to }) => {
                new.push(Item::Gap {
                    from: *from,
                    to: Some(from + count),
                });
                old.push_front(Item::Gap {
                    from: from + count,
                    to: *to,
                });
                count = 0;
            }
            (_, Item::Line { .. }) => unreachable!("a line has length 1"),
        }
    }
    true
}

/// Take one position from the front of `old`: its origin and known text.
fn take_one(old: &mut VecDeque<Item>) -> Option<(Origin, Option<String>)> {
    match old.pop_front()? {
        Item::Line { origin, text } => Some((origin, text)),
        Item::Gap { from, to } => {
            if to.is_none_or(|to| from + 1 < to) {
                old.push_front(Item::Gap { from: from + 1, to });
            }
            Some((Origin::Base(from), None))
        }
    }
}

/// The file diffs of a unified diff, as the patch model reads them.
pub fn file_diffs(diff: &str) -> Vec<FileDiff> {
    sashiko_mail::diff::parse(diff).0
}

/// Every file the series touches, after each of its patches.
#[derive(Clone, Debug, Default)]
pub struct SeriesStates {
    /// `after[k]` is the state after patch `k` (`after[0]`: before the
    /// series, only files some patch touches). Keyed by the file's path at
    /// that point.
    pub after: Vec<BTreeMap<String, FileState>>,
    /// Patch indexes, in order (`after[i]` follows `indexes[i - 1]`).
    pub indexes: Vec<u32>,
    /// Hunks that did not apply.
    pub notes: Vec<String>,
}

impl SeriesStates {
    pub fn build(series: &ReviewSeries) -> SeriesStates {
        let mut states = SeriesStates::default();
        let mut current: BTreeMap<String, FileState> = BTreeMap::new();
        let mut base: BTreeMap<String, FileState> = BTreeMap::new();
        for patch in &series.patches {
            for file in file_diffs(&patch.diff) {
                let state = match &file.old_path {
                    Some(old) => current.remove(old).unwrap_or_else(|| {
                        base.entry(old.clone()).or_insert_with(FileState::base);
                        FileState::base()
                    }),
                    None => FileState::created(),
                };
                let mut state = state;
                if let Some(note) = state.apply(patch.index, &file.hunks) {
                    states.notes.push(format!("{note} of {}", file.path()));
                }
                match file.new_path {
                    Some(path) => {
                        current.insert(path, state);
                    }
                    None => {
                        state.exists = false;
                        state.deleted_by = Some(patch.index);
                        state.items.clear();
                        if let Some(old) = file.old_path {
                            current.insert(old, state);
                        }
                    }
                }
            }
            states.indexes.push(patch.index);
            states.after.push(current.clone());
        }
        states.after.insert(0, base);
        states
    }

    /// The state after the last patch.
    pub fn end(&self) -> &BTreeMap<String, FileState> {
        self.after.last().expect("built with the base state first")
    }

    /// The state right after patch `index`.
    pub fn after_patch(&self, index: u32) -> Option<&BTreeMap<String, FileState>> {
        let position = self.indexes.iter().position(|i| *i == index)?;
        self.after.get(position + 1)
    }

    /// Where the file at `path` after patch `index` is at the end (it may
    /// have been renamed by a later patch).
    fn end_path(&self, index: u32, path: &str, series: &ReviewSeries) -> String {
        let mut path = path.to_owned();
        for patch in series.patches.iter().filter(|p| p.index > index) {
            for file in file_diffs(&patch.diff) {
                if file.old_path.as_deref() == Some(path.as_str()) {
                    if let Some(new) = file.new_path {
                        path = new;
                    }
                }
            }
        }
        path
    }
}

/// A line worth tracking: blank lines and lone braces say nothing.
pub fn significant(text: Option<&str>) -> bool {
    text.is_none_or(|text| text.chars().any(char::is_alphanumeric))
}

/// What happened to the cited lines of a finding by the end of a series.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CitedFate {
    /// Significant cited lines.
    pub cited: usize,
    /// Of those, how many are gone from the end state (not even re-added
    /// with the same text).
    pub gone: usize,
    /// Patches that removed or changed them.
    pub changed_by: Vec<u32>,
}

impl CitedFate {
    /// At least half of the significant cited lines are gone.
    pub fn mostly_gone(&self) -> bool {
        self.gone > 0 && self.gone * 2 >= self.cited
    }
}

/// Follow the lines `finding` cites (after its patch) to the end state.
/// `None` when nothing is known about them (the file is not in the series).
pub fn cited_fate(
    states: &SeriesStates,
    series: &ReviewSeries,
    finding: &Finding,
) -> Option<CitedFate> {
    let after = states.after_patch(finding.patch_index)?;
    let file = after.get(&finding.file)?;
    let end_path = states.end_path(finding.patch_index, &finding.file, series);
    let end = states.end().get(&end_path);
    let mut cited = file.at(finding.line_start, finding.line_end);
    if cited.iter().any(|(_, text)| significant(text.as_deref())) {
        cited.retain(|(origin, text)| {
            let removed_text = end.and_then(|end| end.removed.get(origin)).map(|r| &r.0);
            significant(text.as_deref().or(removed_text.map(String::as_str)))
        });
    }
    let mut fate = CitedFate {
        cited: cited.len(),
        gone: 0,
        changed_by: Vec::new(),
    };
    for (origin, text) in cited {
        let Some(end) = end.filter(|end| end.exists) else {
            fate.gone += 1;
            let deleted_by = end.and_then(|end| end.deleted_by);
            if let Some(patch) = deleted_by.filter(|p| !fate.changed_by.contains(p)) {
                fate.changed_by.push(patch);
            }
            continue;
        };
        if end.contains(origin) {
            continue;
        }
        let removed = end.removed.get(&origin);
        let text = text.or_else(|| removed.map(|(text, _)| text.clone()));
        if let Some((_, patch)) = removed {
            if !fate.changed_by.contains(patch) {
                fate.changed_by.push(*patch);
            }
        }
        if !text.is_some_and(|text| end.has_text(&text)) {
            fate.gone += 1;
        }
    }
    fate.changed_by.sort_unstable();
    Some(fate)
}

/// Why `finding` is fixed later in its series, if it is; see
/// [`fixed_later_in`]. Without the tree, the end state is what the
/// patches show.
pub fn fixed_later_reason(
    states: &SeriesStates,
    series: &ReviewSeries,
    finding: &Finding,
) -> Option<String> {
    fixed_later_in(states, series, finding, &[])
}

/// Why `finding` is fixed later in its series, if it is: a later patch
/// deletes its file, or a later patch changes the function the finding is
/// in and the series' end state of that function passes the deterministic
/// re-check for the defect the finding names (lock balance, allocation
/// freed on every return). The end-state function is read from
/// `tree_functions` (the enclosing functions of the reviewed tree after the
/// series, when there is a tree), else from what the patches show of it.
/// Where no re-check exists for the defect, or the end-state function is
/// not fully known, the finding stays reported: rewritten or moved lines
/// alone prove nothing.
pub fn fixed_later_in(
    states: &SeriesStates,
    series: &ReviewSeries,
    finding: &Finding,
    tree_functions: &[crate::context::ContextSnippet],
) -> Option<String> {
    let end_path = states.end_path(finding.patch_index, &finding.file, series);
    if let Some(end) = states.end().get(&end_path).filter(|end| !end.exists) {
        let deleted_by = end
            .deleted_by
            .filter(|patch| *patch > finding.patch_index)?;
        return Some(format!(
            "fixed later in the series: patch {deleted_by} deletes {end_path}, where the finding was"
        ));
    }
    let defect = crate::recheck::Defect::of(&finding.problem)?;
    let patch = series.patch(finding.patch_index)?;
    let function = crate::context::diff_function_of(&patch.diff, &finding.file, finding.line_start)
        .or_else(|| {
            crate::context::diff_function_of(&patch.diff, &finding.file, finding.line_end)
        })?;
    let changed_by: Vec<String> = series
        .patches
        .iter()
        .filter(|later| later.index > finding.patch_index)
        .filter(|later| {
            [finding.file.as_str(), end_path.as_str()]
                .iter()
                .any(|path| {
                    crate::context::diff_changed_functions(&later.diff, path).contains(&function)
                })
        })
        .map(|later| format!("patch {}", later.index))
        .collect();
    if changed_by.is_empty() {
        return None;
    }
    let text = end_function_text(states, &end_path, &function, tree_functions)?;
    match crate::recheck::recheck(defect, &finding.problem, &text) {
        crate::recheck::Verdict::Gone(why) => Some(format!(
            "fixed later in the series: {} changes {function}(), and in the series' end state it passes the re-check of {}: {why}",
            changed_by.join(", "),
            defect.check_name()
        )),
        crate::recheck::Verdict::Present(_) | crate::recheck::Verdict::Unknown(_) => None,
    }
}

/// The whole text of function `name` of `path` in the series' end state:
/// from the tree's enclosing functions when one is given, else from the
/// lines the patches show, when they show all of it.
pub fn end_function_text(
    states: &SeriesStates,
    path: &str,
    name: &str,
    tree_functions: &[crate::context::ContextSnippet],
) -> Option<String> {
    for snippet in tree_functions
        .iter()
        .filter(|s| s.kind == crate::context::ContextKind::Enclosing && s.file == path)
    {
        let lines: Vec<&str> = snippet.text.lines().collect();
        if let Some(span) = crate::context::functions(&snippet.text)
            .into_iter()
            .find(|span| span.name == name)
        {
            return Some(crate::context::slice_lines(&lines, span.start, span.end));
        }
    }
    let file = states.end().get(path)?;
    let texts: Vec<Option<&str>> = file
        .items
        .iter()
        .map(|item| match item {
            Item::Line { text, .. } => text.as_deref(),
            Item::Gap { .. } => None,
        })
        .collect();
    let header = texts.iter().position(|text| {
        text.is_some_and(|text| {
            !text.starts_with(char::is_whitespace)
                && !text.trim_end().ends_with(';')
                && crate::context::function_name(text).as_deref() == Some(name)
        })
    })?;
    let mut out = String::new();
    for text in &texts[header..] {
        let text = (*text)?;
        out.push_str(text);
        out.push('\n');
        if text.starts_with('}') {
            return Some(out);
        }
    }
    None
}

#[cfg(test)]
#[path = "endstate_tests.rs"]
mod tests;
