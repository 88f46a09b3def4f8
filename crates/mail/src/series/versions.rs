//! Links versions of one series (v1 → v2 → v3), also across threads: by
//! b4's `change-id:`, else by the same sender and a matching title (of the
//! cover or of any patch).
//!
//! This module must never merge or reorder series; it only sets
//! `previous_version`.

use std::collections::HashSet;

use super::Series;
use crate::message::ParsedMessage;

fn normalize_title(title: &str) -> String {
    let lower = title.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    words.join(" ").trim_end_matches('.').to_owned()
}

/// Reworded titles of one series ("fix foo in bar" → "fix foo in bar
/// and baz"): at least three words and 75% of the words shared.
fn similar_titles(a: &str, b: &str) -> bool {
    let words = |title: &str| -> HashSet<String> {
        normalize_title(title)
            .split(' ')
            .filter(|word| !word.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let (a, b) = (words(a), words(b));
    if a.len() < 3 || b.len() < 3 {
        return false;
    }
    let shared = a.intersection(&b).count();
    shared * 4 >= a.union(&b).count() * 3
}

/// Titles that identify a series: its own and those of its patches.
fn titles(messages: &[ParsedMessage], series: &Series) -> HashSet<String> {
    let mut titles: HashSet<String> = series
        .patches()
        .map(|(_, _, position)| normalize_title(&messages[position].tags.title))
        .filter(|title| !title.is_empty())
        .collect();
    let own = normalize_title(&series.title);
    if !own.is_empty() {
        titles.insert(own);
    }
    titles
}

fn author(series: &Series) -> String {
    series
        .author
        .as_ref()
        .map(|person| person.email.to_ascii_lowercase())
        .unwrap_or_default()
}

pub(crate) fn link_versions(messages: &[ParsedMessage], series: &mut [Series]) {
    let all_titles: Vec<HashSet<String>> = series.iter().map(|one| titles(messages, one)).collect();
    let authors: Vec<String> = series.iter().map(author).collect();
    let mut links: Vec<Option<String>> = vec![None; series.len()];
    for (current, one) in series.iter().enumerate() {
        let mut best: Option<(u32, usize)> = None;
        for (candidate, earlier) in series.iter().enumerate() {
            if candidate == current || earlier.version >= one.version {
                continue;
            }
            let same_change =
                matches!((&one.change_id, &earlier.change_id), (Some(a), Some(b)) if a == b);
            let same_sender_and_title = authors[current] == authors[candidate]
                && !authors[current].is_empty()
                && (!all_titles[current].is_disjoint(&all_titles[candidate])
                    || similar_titles(&one.title, &earlier.title));
            let is_earlier = match (earlier.date, one.date) {
                (Some(before), Some(after)) => before <= after,
                _ => candidate < current,
            };
            if !(same_change || same_sender_and_title) || !is_earlier {
                continue;
            }
            let better = match best {
                None => true,
                Some((best_version, best_index)) => {
                    earlier.version > best_version
                        || (earlier.version == best_version && candidate > best_index)
                }
            };
            if better {
                best = Some((earlier.version, candidate));
            }
        }
        links[current] =
            best.and_then(|(_, candidate)| series[candidate].first_message_id().map(str::to_owned));
    }
    for (one, link) in series.iter_mut().zip(links) {
        one.previous_version = link;
    }
}
