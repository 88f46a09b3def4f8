//! Review tags from replies: each `Reviewed-by:`/`Acked-by:`/... line of a
//! reply is attached to the patch or cover letter the reply (or the reply it
//! answers, and so on) was written to. Tags on a cover letter apply to every
//! patch of the series.
//!
//! This module must never add a trailer to a patch of another version: the
//! walk stops at the first patch or cover letter it reaches.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::classify::Role;
use super::Series;
use crate::message::{ParsedMessage, Person};
use crate::trailer::Trailer;

/// A review tag given in a reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyTrailer {
    /// The reply that carries the tag.
    pub message_id: String,
    /// The patch (or cover letter) it was given on.
    pub applies_to: String,
    /// Given on the cover letter: applies to every patch.
    pub applies_to_cover: bool,
    pub trailer: Trailer,
    /// Sender of the reply (b4 ignores tags whose sender does not match).
    pub from: Option<Person>,
}

pub(crate) fn attach_reply_trailers(
    messages: &[ParsedMessage],
    roles: &[Role],
    unique: &[bool],
    by_id: &HashMap<&str, usize>,
    series: &mut [Series],
) {
    // Which series each cover and patch belongs to.
    let mut owner: HashMap<usize, (usize, bool)> = HashMap::new();
    for (series_index, one) in series.iter().enumerate() {
        if let Some(cover) = one.cover_index {
            owner.insert(cover, (series_index, true));
        }
        for (_, _, position) in one.patches() {
            owner.insert(position, (series_index, false));
        }
    }
    for (position, message) in messages.iter().enumerate() {
        if !unique[position] || roles[position] != Role::Reply || message.review_trailers.is_empty()
        {
            continue;
        }
        let Some((target, series_index, is_cover)) =
            target_of(messages, roles, by_id, &owner, position)
        else {
            continue;
        };
        for trailer in &message.review_trailers {
            series[series_index].reply_trailers.push(ReplyTrailer {
                message_id: message.message_id.clone(),
                applies_to: messages[target].message_id.clone(),
                applies_to_cover: is_cover,
                trailer: trailer.clone(),
                from: message.from.clone(),
            });
        }
    }
}

/// Walks up from a reply to the first patch or cover letter; returns it with
/// its series, if it belongs to one.
fn target_of(
    messages: &[ParsedMessage],
    roles: &[Role],
    by_id: &HashMap<&str, usize>,
    owner: &HashMap<usize, (usize, bool)>,
    reply: usize,
) -> Option<(usize, usize, bool)> {
    let mut current = reply;
    let mut visited = HashSet::from([reply]);
    loop {
        let parent = *by_id.get(messages[current].parent_id()?)?;
        if !visited.insert(parent) {
            return None;
        }
        if let Some(&(series_index, is_cover)) = owner.get(&parent) {
            return Some((parent, series_index, is_cover));
        }
        if roles[parent] != Role::Reply {
            return None;
        }
        current = parent;
    }
}
