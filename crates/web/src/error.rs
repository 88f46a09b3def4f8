//! The one error type at the HTTP edge. It turns store and template errors
//! into a status code and a short page or JSON body; it must never put a
//! database URL, a password or a stack trace into a response.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answering one request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// Nothing with that name or id.
    #[error("{0} not found")]
    NotFound(String),
    /// The request itself is wrong.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Logging in is required.
    #[error("log in to do this")]
    Unauthenticated,
    /// Logged in, but not allowed (role, subsystem or CSRF token).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// Too many attempts; the seconds to wait, when known.
    #[error("{}", rate_limited_text(*.0))]
    RateLimited(Option<u64>),
    /// A stored value this version cannot read.
    #[error("unreadable stored data: {0}")]
    Unreadable(String),
    /// The database failed.
    #[error("database: {0}")]
    Store(#[from] sashiko_store::StoreError),
    /// A template failed to render.
    #[error("rendering {template}: {message}")]
    Template {
        /// The template's name.
        template: String,
        /// What went wrong.
        message: String,
    },
}

impl WebError {
    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthenticated => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            WebError::Store(sashiko_store::StoreError::NotFound { .. }) => StatusCode::NOT_FOUND,
            WebError::Store(sashiko_store::StoreError::Invalid(_)) => StatusCode::BAD_REQUEST,
            WebError::Store(_) | WebError::Template { .. } | WebError::Unreadable(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

fn rate_limited_text(retry_after_secs: Option<u64>) -> String {
    match retry_after_secs {
        Some(secs) => format!("too many attempts; try again in {secs} s"),
        None => "too many attempts; try again later".to_string(),
    }
}

impl WebError {
    /// The `Retry-After` header of this error, if it has one.
    fn retry_after(&self) -> Option<(axum::http::HeaderName, String)> {
        match self {
            WebError::RateLimited(Some(secs)) => {
                Some((axum::http::header::RETRY_AFTER, secs.to_string()))
            }
            _ => None,
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after();
        let status = self.status();
        if status.is_server_error() {
            tracing::error!("answering a request: {self}");
        }
        let text = match &self {
            WebError::Store(sashiko_store::StoreError::Query { .. }) => {
                "internal error while reading the database".to_string()
            }
            other => other.to_string(),
        };
        let body = format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{code}</title></head>\
             <body><h1>{code}</h1><p>{message}</p><p><a href=\"/\">Subsystems</a> · \
             <a href=\"/login\">Log in</a></p></body></html>",
            code = status,
            message = crate::format::escape_html(&text),
        );
        let mut response = (
            status,
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            body,
        )
            .into_response();
        add_retry_after(&mut response, retry_after);
        response
    }
}

/// An error answered as JSON (`{"error": "..."}`) for the API.
#[derive(Debug)]
pub struct ApiError(pub WebError);

impl From<WebError> for ApiError {
    fn from(error: WebError) -> Self {
        ApiError(error)
    }
}

impl From<sashiko_store::StoreError> for ApiError {
    fn from(error: sashiko_store::StoreError) -> Self {
        ApiError(WebError::Store(error))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if status.is_server_error() {
            tracing::error!("answering an API request: {}", self.0);
        }
        let message = match &self.0 {
            WebError::Store(sashiko_store::StoreError::Query { .. }) => {
                "internal error while reading the database".to_string()
            }
            other => other.to_string(),
        };
        let retry_after = self.0.retry_after();
        let mut response =
            (status, axum::Json(serde_json::json!({ "error": message }))).into_response();
        add_retry_after(&mut response, retry_after);
        response
    }
}

fn add_retry_after(response: &mut Response, header: Option<(axum::http::HeaderName, String)>) {
    if let Some((name, value)) = header {
        if let Ok(value) = axum::http::HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    }
}
