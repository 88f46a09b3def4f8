//! Series assembly: from a set of parsed mails to patch series as a
//! maintainer sees them.
//!
//! Handles cover letters (also without a `[PATCH]` prefix), missing parts,
//! the same Message-ID delivered twice, partial re-rolls, patches chained to
//! each other, series split over several threads, review trailers from
//! replies (cover-letter trailers apply to every patch) and links between
//! versions of a series. Pure: never does IO and never drops a mail without
//! a diagnostic.

mod classify;
mod group;
mod replies;
mod versions;

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use crate::diagnostic::{Diagnostic, DiagnosticKind};
use crate::message::{ParsedMessage, Person};
use crate::trailer::Trailer;

pub use replies::ReplyTrailer;

/// One version of one patch series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Series {
    pub version: u32,
    /// Number of patches the series announces (1 for a single patch).
    pub total: u32,
    pub cover_message_id: Option<String>,
    /// Position of the cover in the input slice.
    pub cover_index: Option<usize>,
    /// Index n-1 holds patch n; `None` where the patch is missing.
    pub patch_message_ids: Vec<Option<String>>,
    /// Positions in the input slice, parallel to `patch_message_ids`.
    pub patch_indices: Vec<Option<usize>>,
    pub missing_numbers: Vec<u32>,
    /// Numbers sent more than once, with every mail that claims them.
    pub duplicate_numbers: BTreeMap<u32, Vec<String>>,
    pub rfc: bool,
    pub resend: bool,
    /// Subject of the cover (or first patch) without tags.
    pub title: String,
    /// Bracket prefix of the cover (or first patch), such as `PATCH v2 0/3`.
    pub subject_prefix: String,
    pub author: Option<Person>,
    /// Date of the cover (or first patch), seconds since the epoch.
    pub date: Option<i64>,
    /// In-body trailers per patch message-id.
    pub in_body_trailers: BTreeMap<String, Vec<Trailer>>,
    /// Review tags collected from replies.
    pub reply_trailers: Vec<ReplyTrailer>,
    /// `change-id:` of b4-sent series.
    pub change_id: Option<String>,
    pub base_commit: Option<String>,
    /// First message-id (cover, else first patch) of the previous version.
    pub previous_version: Option<String>,
}

impl Series {
    /// The cover's id, else the first patch present.
    pub fn first_message_id(&self) -> Option<&str> {
        self.cover_message_id.as_deref().or_else(|| {
            self.patch_message_ids
                .iter()
                .flatten()
                .next()
                .map(String::as_str)
        })
    }

    /// Whether every announced patch is present.
    pub fn is_complete(&self) -> bool {
        self.missing_numbers.is_empty()
    }

    /// Present patches in order: (number, message-id, position in the input).
    pub fn patches(&self) -> impl Iterator<Item = (u32, &str, usize)> + '_ {
        self.patch_message_ids
            .iter()
            .zip(&self.patch_indices)
            .enumerate()
            .filter_map(|(slot, (id, index))| Some((slot as u32 + 1, id.as_deref()?, (*index)?)))
    }

    /// All trailers for a patch: its own, then those given on it in
    /// replies, then those given on the cover letter.
    pub fn trailers_for(&self, patch_message_id: &str) -> Vec<Trailer> {
        let mut all: Vec<Trailer> = self
            .in_body_trailers
            .get(patch_message_id)
            .cloned()
            .unwrap_or_default();
        for reply in &self.reply_trailers {
            let applies = reply.applies_to == patch_message_id || reply.applies_to_cover;
            if applies && !all.contains(&reply.trailer) {
                all.push(reply.trailer.clone());
            }
        }
        all
    }
}

/// The result of [`assemble`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Assembly {
    /// In the order of their first mail in the input.
    pub series: Vec<Series>,
    /// Message-ids of pull requests (`[GIT PULL]`), which are not series.
    pub pull_requests: Vec<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Groups `messages` (in archive order) into series.
pub fn assemble(messages: &[ParsedMessage]) -> Assembly {
    let mut assembly = Assembly::default();
    let mut by_id: HashMap<&str, usize> = HashMap::with_capacity(messages.len());
    let mut unique = vec![true; messages.len()];
    for (position, message) in messages.iter().enumerate() {
        if by_id.contains_key(message.message_id.as_str()) {
            unique[position] = false;
            assembly.diagnostics.push(
                Diagnostic::info(
                    DiagnosticKind::DuplicateMessageId,
                    format!(
                        "Message-ID delivered again (mail #{}), first copy kept",
                        position + 1
                    ),
                )
                .for_message(&message.message_id),
            );
        } else {
            by_id.insert(&message.message_id, position);
        }
    }
    let roles = classify::classify(messages, &unique, &by_id);
    for (position, message) in messages.iter().enumerate() {
        if unique[position] && roles[position] == classify::Role::PullRequest {
            assembly.pull_requests.push(message.message_id.clone());
        }
    }
    let mut groups = group::group_patches(messages, &roles, &unique, &by_id);
    groups.sort_by_key(group::Group::first_position);
    assembly.series = groups
        .iter()
        .map(|group| build_series(messages, group, &mut assembly.diagnostics))
        .collect();
    replies::attach_reply_trailers(messages, &roles, &unique, &by_id, &mut assembly.series);
    versions::link_versions(messages, &mut assembly.series);
    assembly
}

fn build_series(
    messages: &[ParsedMessage],
    group: &group::Group,
    diagnostics: &mut Vec<Diagnostic>,
) -> Series {
    let total = group.total.max(1);
    // Patches numbered past the total ("[PATCH 4/3]", an afterthought) are
    // kept after the announced ones.
    let highest = group
        .patches
        .iter()
        .map(|&(number, _)| number)
        .max()
        .unwrap_or(0);
    let mut patch_indices: Vec<Option<usize>> = vec![None; total.max(highest) as usize];
    let mut duplicate_numbers: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut extra: Vec<usize> = Vec::new();
    for &(number, position) in &group.patches {
        if number == 0 {
            extra.push(position);
            continue;
        }
        let slot = &mut patch_indices[number as usize - 1];
        match slot {
            None => *slot = Some(position),
            Some(first) => {
                let entry = duplicate_numbers
                    .entry(number)
                    .or_insert_with(|| vec![messages[*first].message_id.clone()]);
                entry.push(messages[position].message_id.clone());
            }
        }
    }
    let patch_message_ids: Vec<Option<String>> = patch_indices
        .iter()
        .map(|index| index.map(|position| messages[position].message_id.clone()))
        .collect();
    let missing_numbers: Vec<u32> = patch_indices
        .iter()
        .enumerate()
        .filter(|(slot, index)| index.is_none() && (*slot as u32) < total)
        .map(|(slot, _)| slot as u32 + 1)
        .collect();
    let present: Vec<usize> = patch_indices.iter().flatten().copied().collect();
    let headline = group
        .cover
        .or_else(|| present.first().copied())
        .or_else(|| extra.first().copied());
    let headline_message = headline.map(|position| &messages[position]);
    let members = group
        .cover
        .iter()
        .chain(present.iter())
        .map(|&position| &messages[position]);
    let (rfc, resend) = members.fold((false, false), |(rfc, resend), message| {
        (rfc || message.tags.rfc, resend || message.tags.resend)
    });
    let in_body_trailers = present
        .iter()
        .map(|&position| {
            (
                messages[position].message_id.clone(),
                messages[position].trailers.clone(),
            )
        })
        .collect();
    let meta = |key: &str| {
        group
            .cover
            .iter()
            .chain(present.iter())
            .find_map(|&position| messages[position].meta(key).map(str::to_owned))
    };
    let series = Series {
        version: group.version,
        total,
        cover_message_id: group
            .cover
            .map(|position| messages[position].message_id.clone()),
        cover_index: group.cover,
        patch_message_ids,
        patch_indices,
        missing_numbers,
        duplicate_numbers,
        rfc,
        resend,
        title: headline_message
            .map(|m| m.tags.title.clone())
            .unwrap_or_default(),
        subject_prefix: headline_message
            .map(|m| m.tags.prefix.clone())
            .unwrap_or_default(),
        author: headline_message.and_then(|m| m.from.clone()),
        date: headline_message.and_then(|m| m.date),
        in_body_trailers,
        reply_trailers: Vec::new(),
        change_id: meta("change-id"),
        base_commit: meta("base-commit"),
        previous_version: None,
    };
    report_series_problems(&series, &extra, messages, diagnostics);
    series
}

/// Patch numbers as ranges: `[1, 2, 3, 5, 7, 8]` reads `1-3, 5, 7-8`, so
/// a series missing 642 of 642 parts says `1-642`, not every number.
pub fn number_ranges(numbers: &[u32]) -> String {
    let mut sorted = numbers.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut at = 0;
    while at < sorted.len() {
        let start = sorted[at];
        let mut end = start;
        while at + 1 < sorted.len() && sorted[at + 1] == end.saturating_add(1) {
            at += 1;
            end = sorted[at];
        }
        parts.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        at += 1;
    }
    parts.join(", ")
}

fn report_series_problems(
    series: &Series,
    extra: &[usize],
    messages: &[ParsedMessage],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let first = series.first_message_id().unwrap_or_default().to_owned();
    if !series.missing_numbers.is_empty() {
        diagnostics.push(
            Diagnostic::info(
                DiagnosticKind::MissingPatches,
                format!(
                    "series v{} \"{}\" lacks patch(es) {} of {}",
                    series.version,
                    series.title,
                    number_ranges(&series.missing_numbers),
                    series.total
                ),
            )
            .for_message(&first),
        );
    }
    for (number, ids) in &series.duplicate_numbers {
        diagnostics.push(
            Diagnostic::warning(
                DiagnosticKind::DuplicatePatchNumber,
                format!(
                    "patch {number}/{} sent {} times: {}; the first is used",
                    series.total,
                    ids.len(),
                    ids.join(", ")
                ),
            )
            .for_message(&first),
        );
    }
    for (_, id, position) in series.patches() {
        if !messages[position].has_diff() {
            diagnostics.push(
                Diagnostic::info(
                    DiagnosticKind::PatchWithoutDiff,
                    "patch of a series holds no diff (nothing to apply or review)",
                )
                .for_message(id),
            );
        }
    }
    for &position in extra {
        diagnostics.push(
            Diagnostic::warning(
                DiagnosticKind::DuplicatePatchNumber,
                format!(
                    "patch numbered 0 in a series of {} left out of the series",
                    series.total
                ),
            )
            .for_message(&messages[position].message_id),
        );
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
