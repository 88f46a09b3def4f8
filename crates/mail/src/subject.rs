//! Subject lines of patch mail: reply markers, bracketed tags and the title.
//!
//! Understands what kernel lists really carry: `[PATCH v3 02/11]`,
//! `[PATCH 1/5] [v2]`, `[PATCHSET v2 0/3]`, `[PATCH][next][V2]`,
//! `[RFC PATCH]`, `[Resend PATCH]`, tree tags (`net-next`, `e2fsprogs`),
//! `[GIT PULL]` and reply prefixes `Re:`, `AW:`, `答复:`, `回复:`. It must never
//! fail: any string yields a [`SubjectTags`], possibly with no tags at all.

use serde::Serialize;

/// Everything the subject says about a mail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SubjectTags {
    /// The subject began with a reply or forward marker (`Re:`, `AW:`, `答复:`, `Fwd:`).
    pub is_reply: bool,
    /// A `PATCH`, `PATCHSET` or `PATCHES` keyword was present.
    pub has_patch_keyword: bool,
    /// `[GIT PULL]`, `[PULL]` and the like: a pull request, never a patch.
    pub is_pull_request: bool,
    pub rfc: bool,
    pub resend: bool,
    /// The version stated in the tags (`v3`, `V2`, `PATCHv4`); `None` when not stated.
    pub version: Option<u32>,
    /// `n` of `n/N`.
    pub index: Option<u32>,
    /// `N` of `n/N`.
    pub total: Option<u32>,
    /// Other tokens inside brackets, such as `net-next` or `e2fsprogs`.
    pub tree_tags: Vec<String>,
    /// All leading bracket groups joined by single spaces, without the brackets.
    pub prefix: String,
    /// The subject after reply markers and bracket groups.
    pub title: String,
}

impl SubjectTags {
    /// The version, 1 when the subject states none.
    pub fn version_or_default(&self) -> u32 {
        self.version.unwrap_or(1)
    }
}

/// Parses a decoded subject line.
pub fn parse_subject(subject: &str) -> SubjectTags {
    let mut tags = SubjectTags::default();
    let mut rest = collapse_whitespace(subject);
    let mut prefix_groups: Vec<String> = Vec::new();
    loop {
        let trimmed = rest.trim_start();
        // After a bracket group only a plain "Re:" counts ("[EXT] Re: ..."):
        // "fw:" there is more likely a subsystem than a forward marker.
        let marker = strip_reply_marker(trimmed).filter(|_| {
            prefix_groups.is_empty()
                || trimmed
                    .get(..2)
                    .is_some_and(|two| two.eq_ignore_ascii_case("re"))
        });
        if let Some(after) = marker {
            tags.is_reply = true;
            rest = after.to_owned();
            continue;
        }
        if let Some(stripped) = trimmed.strip_prefix('[') {
            if let Some(close) = stripped.find(']') {
                let inner = &stripped[..close];
                // A reply marker inside brackets ("[EXT] Re:") is allowed to follow.
                read_group(inner, &mut tags);
                let inner = inner.trim();
                if !inner.is_empty() {
                    prefix_groups.push(inner.to_owned());
                }
                rest = stripped[close + 1..].to_owned();
                continue;
            }
        }
        rest = trimmed.to_owned();
        break;
    }
    // "[PATCH net-next v3 00/23][pull request]" is a patch series.
    if tags.has_patch_keyword {
        tags.is_pull_request = false;
    }
    tags.prefix = prefix_groups.join(" ");
    tags.title = rest.trim().to_owned();
    tags
}

/// Reply and forward markers, compared case-insensitively; `:` may be ASCII
/// or full-width.
const REPLY_MARKERS: &[&str] = &[
    "re", "aw", "sv", "vs", "odp", "antw", "r", "fw", "fwd", "答复", "回复", "回覆", "答覆", "转发",
];

fn strip_reply_marker(text: &str) -> Option<&str> {
    let colon = text.find([':', '：'])?;
    let word = text[..colon].trim_end();
    // "Re[2]" and "Re^2" count as "Re".
    let word = word.split(['[', '^']).next().unwrap_or(word);
    if word.is_empty() || word.len() > 8 {
        return None;
    }
    let is_marker = REPLY_MARKERS
        .iter()
        .any(|marker| marker.eq_ignore_ascii_case(word));
    if !is_marker {
        return None;
    }
    let colon_len = text[colon..].chars().next().map_or(1, char::len_utf8);
    Some(&text[colon + colon_len..])
}

fn collapse_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = false;
    for ch in text.chars() {
        if ch.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(ch);
            last_space = false;
        }
    }
    out
}

fn read_group(inner: &str, tags: &mut SubjectTags) {
    let tokens: Vec<&str> = inner
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|token| !token.is_empty())
        .collect();
    let mut position = 0;
    while position < tokens.len() {
        let token = tokens[position];
        let upper = token.to_ascii_uppercase();
        if upper == "GIT"
            && tokens
                .get(position + 1)
                .is_some_and(|next| next.eq_ignore_ascii_case("PULL"))
        {
            tags.is_pull_request = true;
            position += 2;
            continue;
        }
        position += 1;
        if read_keyword(&upper, tags) {
            continue;
        }
        if let Some(version) = parse_version(token) {
            tags.version = Some(version);
            continue;
        }
        if let Some((index, total)) = parse_counter(token) {
            tags.index = Some(index);
            tags.total = Some(total);
            continue;
        }
        tags.tree_tags.push(token.to_owned());
    }
}

/// Keywords, possibly glued to a version (`PATCHv2`, `RFC-v3`).
fn read_keyword(upper: &str, tags: &mut SubjectTags) -> bool {
    for keyword in [
        "PATCHSET", "PATCHES", "PATCH", "RFC", "RESEND", "PULL", "GIT-PULL",
    ] {
        let Some(after) = upper.strip_prefix(keyword) else {
            continue;
        };
        let glued_version = if after.is_empty() {
            None
        } else {
            match parse_version(after.trim_start_matches(['-', '_'])) {
                Some(version) => Some(version),
                None => continue,
            }
        };
        match keyword {
            "PATCHSET" | "PATCHES" | "PATCH" => tags.has_patch_keyword = true,
            "RFC" => tags.rfc = true,
            "RESEND" => tags.resend = true,
            _ => tags.is_pull_request = true,
        }
        if glued_version.is_some() {
            tags.version = glued_version;
        }
        return true;
    }
    false
}

/// `v3`, `V3`, `v3.1` (minor ignored).
fn parse_version(token: &str) -> Option<u32> {
    let digits = token.strip_prefix(['v', 'V'])?;
    let major = digits.split('.').next()?;
    if major.is_empty() || !major.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    major.parse().ok()
}

/// `02/11`.
fn parse_counter(token: &str) -> Option<(u32, u32)> {
    let (index, total) = token.split_once('/')?;
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(index) || !all_digits(total) {
        return None;
    }
    Some((index.parse().ok()?, total.parse().ok()?))
}

#[cfg(test)]
#[path = "subject_tests.rs"]
mod tests;
