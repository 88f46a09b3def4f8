//! Triage: a logged-in maintainer of the bug's subsystem (or an admin)
//! confirms a bug, marks it invalid, fixed (with the fixing commit), known
//! or a duplicate of another bug, or reopens it, always with a reason. The
//! change goes through the store's state API, which records it in the
//! bug's history. This module must never change anything for a request
//! without a session, the right role and the session's CSRF token.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use sashiko_store::{BugId, BugState, StateChange};

use crate::auth::{tokens_match, CurrentUser};
use crate::{AppState, WebError};

#[derive(Deserialize, Debug)]
pub struct TriageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    commit: String,
    #[serde(default)]
    duplicate_of: String,
}

/// What a triage form asks for, checked.
#[derive(Debug, PartialEq, Eq)]
pub struct Decision {
    pub to: BugState,
    pub reason: String,
    pub duplicate_of: Option<i64>,
}

/// Checks a triage form's fields (not who sends it).
pub fn decide(
    action: &str,
    reason: &str,
    commit: &str,
    duplicate_of: &str,
) -> Result<Decision, WebError> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(WebError::BadRequest(
            "give a reason for the decision".into(),
        ));
    }
    if reason.chars().count() > 4000 {
        return Err(WebError::BadRequest(
            "the reason is longer than 4000 characters".into(),
        ));
    }
    let to = match action {
        "confirm" => BugState::Confirmed,
        "invalid" => BugState::Invalid,
        "fixed" => BugState::Fixed,
        "known" | "todo" => BugState::Known,
        "duplicate" => BugState::Duplicate,
        "reopen" => BugState::Open,
        other => {
            return Err(WebError::BadRequest(format!(
                "unknown triage action {other:?}"
            )))
        }
    };
    let commit = commit.trim();
    let reason = if to == BugState::Fixed {
        if !(7..=40).contains(&commit.len()) || !commit.bytes().all(|byte| byte.is_ascii_hexdigit())
        {
            return Err(WebError::BadRequest(format!(
                "fixed needs the fixing commit as 7 to 40 hex digits, not {commit:?}"
            )));
        }
        format!("fixed by commit {}: {reason}", commit.to_ascii_lowercase())
    } else {
        reason.to_string()
    };
    let duplicate_of = if to == BugState::Duplicate {
        Some(
            duplicate_of
                .trim()
                .trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| {
                    WebError::BadRequest(format!(
                        "duplicate needs the other bug's id, not {duplicate_of:?}"
                    ))
                })?,
        )
    } else {
        None
    };
    Ok(Decision {
        to,
        reason,
        duplicate_of,
    })
}

pub async fn triage(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<TriageForm>,
) -> Result<Response, WebError> {
    let user = user.ok_or(WebError::Unauthenticated)?;
    if !tokens_match(&user.csrf_token, &form.csrf) {
        return Err(WebError::Forbidden(
            "the form's CSRF token does not match this session; reload the page".into(),
        ));
    }
    let store = &state.inner.store;
    let bug = store
        .bug(BugId(id))
        .await?
        .ok_or_else(|| WebError::NotFound(format!("bug {id}")))?;
    if !user.may_triage(&bug.subsystem) {
        return Err(WebError::Forbidden(format!(
            "{} does not maintain {}",
            user.name, bug.subsystem
        )));
    }
    let decision = decide(&form.action, &form.reason, &form.commit, &form.duplicate_of)?;
    if let Some(other) = decision.duplicate_of {
        if store.bug(BugId(other)).await?.is_none() {
            return Err(WebError::BadRequest(format!(
                "bug {id} cannot duplicate bug {other}: no such bug"
            )));
        }
    }
    store
        .set_bug_state(
            BugId(id),
            &StateChange {
                to: decision.to,
                actor: user.name.clone(),
                reason: decision.reason,
                duplicate_of: decision.duplicate_of.map(BugId),
            },
        )
        .await?;
    state.inner.cache.invalidate();
    tracing::info!("{} set bug {id} to {}", user.name, decision.to);
    Ok(Redirect::to(&format!("/bug/{id}#history")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_are_checked() {
        let cases: [(&str, &str, &str, &str, Option<BugState>); 9] = [
            ("confirm", "real", "", "", Some(BugState::Confirmed)),
            ("invalid", "not a bug", "", "", Some(BugState::Invalid)),
            ("fixed", "fixed", "deadbeef12", "", Some(BugState::Fixed)),
            ("fixed", "fixed", "", "", None),
            ("fixed", "fixed", "xyz1234", "", None),
            ("known", "todo", "", "", Some(BugState::Known)),
            ("duplicate", "same", "", "#12", Some(BugState::Duplicate)),
            ("duplicate", "same", "", "twelve", None),
            ("confirm", "   ", "", "", None),
        ];
        for (action, reason, commit, duplicate, expected) in cases {
            let got = decide(action, reason, commit, duplicate)
                .ok()
                .map(|decision| decision.to);
            assert_eq!(
                got, expected,
                "{action} {reason:?} {commit:?} {duplicate:?}"
            );
        }
        let fixed = decide("fixed", "see stable", "DEADBEEF12", "").expect("valid");
        assert_eq!(fixed.reason, "fixed by commit deadbeef12: see stable");
        assert_eq!(
            decide("duplicate", "x", "", "12")
                .expect("valid")
                .duplicate_of,
            Some(12)
        );
    }
}
