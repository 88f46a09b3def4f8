//! Atom feed of a subsystem's newest bugs at `/feeds/<subsystem>.atom`.
//! Entries link to bug pages by absolute URL (the configured public URL,
//! else the request's Host). The template escapes every text node; this
//! module must never splice data into XML itself.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tera::Context;

use crate::auth::CurrentUser;
use crate::format::{encode_path, now_ms, rfc3339};
use crate::templates::render;
use crate::{AppState, WebError};

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.inner.config.public_url {
        return url.trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            host.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
        })
        .unwrap_or("localhost");
    format!("http://{host}")
}

pub async fn subsystem_feed(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, WebError> {
    let name = name.strip_suffix(".atom").unwrap_or(&name).to_string();
    let rows = state.inner.store.newest_bugs(&name, 50).await?;
    // The newest bugs are all bugs of any state: none means no such subsystem.
    if rows.is_empty() {
        return Err(WebError::NotFound(format!("subsystem {name:?}")));
    }
    let base = base_url(&state, &headers);
    let updated = rows
        .iter()
        .map(|bug| bug.created_at)
        .max()
        .unwrap_or_else(now_ms);
    let bugs: Vec<serde_json::Value> = rows
        .iter()
        .map(|bug| {
            let id = bug.id;
            json!({
                "entry_id": format!("{base}/bug/{id}"), "url": format!("{base}/bug/{id}"),
                "severity": bug.severity, "title": bug.title, "state": bug.state,
                "file": bug.file, "line_start": bug.line_start, "preexisting": bug.preexisting,
                "published": rfc3339(bug.created_at), "updated": rfc3339(bug.updated_at),
            })
        })
        .collect();
    let mut context = Context::new();
    context.insert("name", &name);
    context.insert(
        "feed_id",
        &format!("{base}/feeds/{}.atom", encode_path(&name)),
    );
    context.insert(
        "self_url",
        &format!("{base}/feeds/{}.atom", encode_path(&name)),
    );
    context.insert(
        "page_url",
        &format!("{base}/subsystem/{}", encode_path(&name)),
    );
    context.insert("updated", &rfc3339(updated));
    context.insert("bugs", &bugs);
    let body = render(&state, "feed.xml", context, user.as_ref())?;
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        body,
    )
        .into_response())
}
