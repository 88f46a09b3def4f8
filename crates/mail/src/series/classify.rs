//! Decides what each mail is in a series: a patch, a cover letter, a reply,
//! a pull request or something else.
//!
//! Only the subject tags, the presence of a diff and the threading are used.
//! This module must never group mails; grouping is `group.rs`'s job.

use std::collections::HashMap;

use crate::message::ParsedMessage;

/// The part a mail plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Patch,
    Cover,
    /// A cover letter without a `[PATCH 0/N]` prefix, recognised because
    /// patches answer it.
    UnprefixedCover,
    Reply,
    PullRequest,
    Other,
}

/// Role of one mail from its own content.
fn role_of(message: &ParsedMessage) -> Role {
    let tags = &message.tags;
    if tags.is_reply {
        return Role::Reply;
    }
    if tags.is_pull_request {
        return Role::PullRequest;
    }
    let patch_like = tags.has_patch_keyword
        || ((tags.rfc || tags.resend) && (tags.index.is_some() || message.has_diff()));
    if tags.index == Some(0) && patch_like {
        return Role::Cover;
    }
    if patch_like || (message.has_diff() && !message.subject.trim().is_empty()) {
        return Role::Patch;
    }
    Role::Other
}

/// Roles of all mails (`None` for later copies of a duplicated Message-ID).
pub(crate) fn classify(
    messages: &[ParsedMessage],
    unique: &[bool],
    by_id: &HashMap<&str, usize>,
) -> Vec<Role> {
    let mut roles: Vec<Role> = messages.iter().map(role_of).collect();
    // A mail without diff that patches answer is their cover letter, also
    // without a `[PATCH 0/N]` prefix ("improve use_mm v2", "[PATCHSET v2] x").
    for (position, message) in messages.iter().enumerate() {
        if !unique[position]
            || roles[position] != Role::Patch
            || message.tags.index.unwrap_or(1) == 0
        {
            continue;
        }
        let Some(&parent) = message.parent_id().and_then(|id| by_id.get(id)) else {
            continue;
        };
        let parent_message = &messages[parent];
        if matches!(roles[parent], Role::Other | Role::Patch)
            && !parent_message.has_diff()
            && parent_message
                .parent_id()
                .is_none_or(|grandparent| !by_id.contains_key(grandparent))
            && parent_message.author_email() == message.author_email()
        {
            roles[parent] = Role::UnprefixedCover;
        }
    }
    roles
}
