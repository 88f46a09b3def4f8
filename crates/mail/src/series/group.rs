//! Groups patches into series: by thread first (each patch walks up to its
//! cover letter or to the first patch it chains from), then mails of one
//! series sent as separate threads are joined by sender, version and size.
//!
//! This module must never look at replies or trailers; it only decides which
//! patch belongs with which cover and number.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::classify::Role;
use crate::message::ParsedMessage;

/// Patches and cover of one series before it is turned into a `Series`.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub version: u32,
    pub total: u32,
    pub cover: Option<usize>,
    /// (number, position in the input) in input order.
    pub patches: Vec<(u32, usize)>,
    /// The anchor is a mail of the input that answers nothing: the series
    /// was not threaded to anything and may be joined with its other parts.
    unthreaded: bool,
}

impl Group {
    /// Input position of the earliest mail, for ordering.
    pub(crate) fn first_position(&self) -> usize {
        self.cover
            .into_iter()
            .chain(self.patches.iter().map(|&(_, position)| position))
            .min()
            .unwrap_or(usize::MAX)
    }

    fn numbers(&self) -> HashSet<u32> {
        self.patches.iter().map(|&(number, _)| number).collect()
    }
}

struct Context<'a> {
    messages: &'a [ParsedMessage],
    roles: &'a [Role],
    by_id: &'a HashMap<&'a str, usize>,
}

/// Where a patch's chain of parents ends.
struct Walk {
    anchor: String,
    cover: Option<usize>,
    unthreaded: bool,
}

impl Context<'_> {
    fn total_of(&self, position: usize) -> u32 {
        self.messages[position].tags.total.unwrap_or(1).max(1)
    }

    fn versions_compatible(&self, a: usize, b: usize) -> bool {
        match (self.messages[a].tags.version, self.messages[b].tags.version) {
            (Some(x), Some(y)) => x == y,
            _ => true,
        }
    }

    /// Follows In-Reply-To from `patch` through earlier patches of the same
    /// series up to its cover letter.
    fn walk(&self, patch: usize) -> Walk {
        let total = self.total_of(patch);
        let author = self.messages[patch].author_email();
        let mut current = patch;
        let mut visited = HashSet::from([patch]);
        loop {
            let Some(parent_id) = self.messages[current].parent_id() else {
                return Walk {
                    anchor: self.messages[current].message_id.clone(),
                    cover: None,
                    unthreaded: total > 1,
                };
            };
            let Some(&parent) = self.by_id.get(parent_id) else {
                return Walk {
                    anchor: parent_id.to_owned(),
                    cover: None,
                    unthreaded: false,
                };
            };
            // Siblings that answer the same mail belong together even when
            // that mail is not their cover (a v2 posted under the v1 cover).
            let stop = Walk {
                anchor: self.messages[parent].message_id.clone(),
                cover: None,
                unthreaded: false,
            };
            if !visited.insert(parent) {
                return stop;
            }
            let parent_message = &self.messages[parent];
            match self.roles[parent] {
                // A cover announcing another count ("[PATCHSET v4 0/7]" over
                // "[PATCH n/5]") is still the cover of the patches answering it.
                Role::Cover if self.versions_compatible(patch, parent) => {
                    return Walk {
                        anchor: parent_message.message_id.clone(),
                        cover: Some(parent),
                        unthreaded: false,
                    };
                }
                Role::UnprefixedCover if total > 1 => {
                    return Walk {
                        anchor: parent_message.message_id.clone(),
                        cover: Some(parent),
                        unthreaded: false,
                    };
                }
                Role::Patch
                    if total > 1
                        && self.total_of(parent) == total
                        && self.versions_compatible(patch, parent)
                        && parent_message.author_email() == author =>
                {
                    current = parent;
                }
                _ => return stop,
            }
        }
    }
}

/// Groups the patches (positions with role `Patch`) into series.
pub(crate) fn group_patches(
    messages: &[ParsedMessage],
    roles: &[Role],
    unique: &[bool],
    by_id: &HashMap<&str, usize>,
) -> Vec<Group> {
    let context = Context {
        messages,
        roles,
        by_id,
    };
    // Key: anchor, version, total, and the patch itself for single patches.
    let mut groups: BTreeMap<(String, u32, u32, usize), Group> = BTreeMap::new();
    let mut covers_used: HashSet<usize> = HashSet::new();
    for position in 0..messages.len() {
        if !unique[position] || roles[position] != Role::Patch {
            continue;
        }
        let tags = &messages[position].tags;
        let total = context.total_of(position);
        let walk = context.walk(position);
        let cover_version = walk.cover.and_then(|cover| messages[cover].tags.version);
        let version = tags.version.or(cover_version).unwrap_or(1);
        // The cover belongs to this group only if it is of the same version.
        // A cover without prefix states no version and fits any.
        let cover = walk.cover.filter(|&cover| {
            roles[cover] == Role::UnprefixedCover
                || messages[cover].tags.version.unwrap_or(1) == version
        });
        let single_key = if total == 1 && cover.is_none() {
            position
        } else {
            usize::MAX
        };
        // The anchor is the message the patches hang from: the cover, the
        // first patch of a chain, or a parent that is not in the input.
        let key = (walk.anchor, version, total, single_key);
        let group = groups.entry(key).or_insert_with(|| Group {
            version,
            total,
            cover,
            patches: Vec::new(),
            unthreaded: walk.unthreaded,
        });
        group.patches.push((tags.index.unwrap_or(1), position));
        if let Some(cover) = cover {
            covers_used.insert(cover);
        }
    }
    let mut groups: Vec<Group> = groups.into_values().collect();
    // Under one cover, a group whose total matches the cover's keeps it;
    // groups of another total keep it only when no group matches.
    let covers_matched: HashSet<usize> = groups
        .iter()
        .filter_map(|group| {
            group
                .cover
                .filter(|&cover| context.total_of(cover) == group.total)
        })
        .collect();
    for group in &mut groups {
        if let Some(cover) = group.cover {
            if context.total_of(cover) != group.total && covers_matched.contains(&cover) {
                group.cover = None;
            }
        }
    }
    // Covers that no patch reached become groups of their own, to be joined
    // with unthreaded patches or reported with every part missing.
    for position in 0..messages.len() {
        if unique[position] && roles[position] == Role::Cover && !covers_used.contains(&position) {
            let tags = &messages[position].tags;
            groups.push(Group {
                version: tags.version.unwrap_or(1),
                total: context.total_of(position),
                cover: Some(position),
                patches: Vec::new(),
                unthreaded: false,
            });
        }
    }
    join_unthreaded(&context, groups)
}

/// Largest distance in time between parts of one series sent unthreaded.
const UNTHREADED_WINDOW_SECONDS: i64 = 2 * 60 * 60;

fn group_date(context: &Context<'_>, group: &Group) -> Option<i64> {
    let position = group.first_position();
    context
        .messages
        .get(position)
        .and_then(|message| message.date)
}

fn group_author(context: &Context<'_>, group: &Group) -> String {
    let position = group.cover.unwrap_or_else(|| group.first_position());
    context
        .messages
        .get(position)
        .map(ParsedMessage::author_email)
        .unwrap_or_default()
}

/// Joins groups of patches that were sent as threads of their own into the
/// series they belong to (same sender, total, compatible version, disjoint
/// numbers, sent within a short time of each other).
fn join_unthreaded(context: &Context<'_>, mut groups: Vec<Group>) -> Vec<Group> {
    groups.sort_by_key(Group::first_position);
    let mut merged_into: Vec<Option<usize>> = vec![None; groups.len()];
    for source in 0..groups.len() {
        if !groups[source].unthreaded || groups[source].cover.is_some() || groups[source].total < 2
        {
            continue;
        }
        let Some(source_date) = group_date(context, &groups[source]) else {
            continue;
        };
        let source_author = group_author(context, &groups[source]);
        let source_numbers = groups[source].numbers();
        let explicit_version = groups[source]
            .patches
            .iter()
            .any(|&(_, position)| context.messages[position].tags.version.is_some());
        let mut best: Option<(i64, usize)> = None;
        for target in 0..groups.len() {
            if target == source || merged_into[target].is_some() {
                continue;
            }
            let candidate = &groups[target];
            let same_version = candidate.version == groups[source].version
                || (!explicit_version && groups[source].version == 1);
            if candidate.total != groups[source].total
                || !same_version
                || !(candidate.unthreaded || candidate.cover.is_some())
                || group_author(context, candidate) != source_author
                || !candidate.numbers().is_disjoint(&source_numbers)
            {
                continue;
            }
            let Some(target_date) = group_date(context, candidate) else {
                continue;
            };
            let distance = (target_date - source_date).abs();
            if distance <= UNTHREADED_WINDOW_SECONDS
                && best.is_none_or(|(best_distance, _)| distance < best_distance)
            {
                best = Some((distance, target));
            }
        }
        if let Some((_, target)) = best {
            let moved = std::mem::take(&mut groups[source].patches);
            let target_group = &mut groups[target];
            target_group.patches.extend(moved);
            target_group.patches.sort_by_key(|&(_, position)| position);
            if target_group.cover.is_some() {
                target_group.unthreaded = false;
            }
            merged_into[source] = Some(target);
        }
    }
    groups
        .into_iter()
        .zip(merged_into)
        .filter(|(_, merged)| merged.is_none())
        .map(|(group, _)| group)
        .collect()
}
