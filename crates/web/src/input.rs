//! Refuses request paths and query parameters that hold a NUL byte
//! (`%00`), which no stored text can hold (PostgreSQL's TEXT refuses it,
//! so such a value used to reach the database and come back as a 500).
//! The answer is a 400 naming the parameter, as JSON under `/api/` and as
//! a page elsewhere (issue 21, hole 5). This module must never change a
//! request it lets through.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::format::percent_decode;
use crate::WebError;

/// What is wrong with the request's path or query, if anything.
fn unstorable(path: &str, query: Option<&str>) -> Option<String> {
    if percent_decode(path).contains(&0) {
        return Some("the path holds a NUL byte (%00)".to_string());
    }
    for pair in query.unwrap_or_default().split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name_bytes = percent_decode(name);
        let shown_name = String::from_utf8_lossy(&name_bytes).replace('\0', "\\0");
        if name_bytes.contains(&0) {
            return Some(format!(
                "query parameter name {shown_name:?} holds a NUL byte (%00)"
            ));
        }
        if percent_decode(value).contains(&0) {
            return Some(format!(
                "query parameter {shown_name:?} holds a NUL byte (%00), which no value here can"
            ));
        }
    }
    None
}

/// Middleware: a 400 for a path or query parameter with a NUL byte.
pub async fn refuse_unstorable_input(request: Request, next: Next) -> Response {
    let uri = request.uri();
    match unstorable(uri.path(), uri.query()) {
        None => next.run(request).await,
        Some(problem) if uri.path().starts_with("/api/") => {
            ApiError(WebError::BadRequest(problem)).into_response()
        }
        Some(problem) => WebError::BadRequest(problem).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::unstorable;

    #[test]
    fn nul_bytes_anywhere_in_the_path_or_query_are_named() {
        for (path, query, expected) in [
            (
                "/subsystem/mm",
                Some("file=mm%00"),
                Some("query parameter \"file\""),
            ),
            (
                "/api/bugs",
                Some("limit=10&subsystem=%00"),
                Some("query parameter \"subsystem\""),
            ),
            (
                "/search",
                Some("q%00=x"),
                Some("query parameter name \"q\\\\0\""),
            ),
            ("/subsystem/m%00m", None, Some("the path")),
            ("/subsystem/mm", Some("file=mm%2500&sort=file"), None),
            ("/", None, None),
            ("/search", Some("q=%ZZ%0"), None),
        ] {
            let found = unstorable(path, query);
            match expected {
                Some(start) => assert!(
                    found.as_deref().is_some_and(|text| text.starts_with(start)),
                    "{path}?{query:?}: {found:?}"
                ),
                None => assert_eq!(found, None, "{path}?{query:?}"),
            }
        }
    }
}
