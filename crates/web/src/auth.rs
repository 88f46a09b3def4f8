//! Logging in and out, sessions from cookies, CSRF checks and the login
//! rate limit. Session cookies are HttpOnly, SameSite=Strict and (unless
//! configured off) Secure; the login form is protected by a double-submit
//! token, every other form by the session's own token. This module must
//! never reveal whether an account name exists.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use crate::accounts::{self, User};
use crate::{AppState, WebError};

pub const SESSION_COOKIE: &str = "sashiko_session";
pub const LOGIN_CSRF_COOKIE: &str = "sashiko_login_csrf";

/// The value of cookie `name` in the request's Cookie headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_string())
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age_secs: u64) -> HeaderValue {
    let secure = if state.inner.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_secs}{secure}"
    );
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// The logged-in user of a request, if any.
pub async fn user_from_headers(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<User>, WebError> {
    match cookie(headers, SESSION_COOKIE) {
        Some(token) if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) => {
            accounts::session_user(&state.inner.store, &token).await
        }
        _ => Ok(None),
    }
}

/// Extractor: the logged-in user, or none.
pub struct CurrentUser(pub Option<User>);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        user_from_headers(state, &parts.headers)
            .await
            .map(CurrentUser)
    }
}

/// Extractor: the client's IP address as text (`unknown` when the server
/// was not started with connection info).
pub struct ClientAddress(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(
                    || "unknown".to_string(),
                    |ConnectInfo(address)| address.ip().to_string(),
                ),
        ))
    }
}

/// Compares two tokens without stopping at the first difference.
pub fn tokens_match(expected: &str, given: &str) -> bool {
    expected.len() == given.len()
        && !expected.is_empty()
        && expected
            .bytes()
            .zip(given.bytes())
            .fold(0_u8, |difference, (a, b)| difference | (a ^ b))
            == 0
}

/// Counts failed logins per client address and per account name.
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window_secs: u64) -> LoginLimiter {
        LoginLimiter {
            max_failures,
            window: Duration::from_secs(window_secs),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn recent(&self, key: &str, now: Instant) -> usize {
        let Ok(mut failures) = self.failures.lock() else {
            return usize::MAX;
        };
        let window = self.window;
        let entry = failures.entry(key.to_string()).or_default();
        entry.retain(|at| now.duration_since(*at) < window);
        entry.len()
    }

    /// Whether any of `keys` has reached the limit.
    pub fn blocked(&self, keys: &[String]) -> bool {
        let now = Instant::now();
        keys.iter()
            .any(|key| self.recent(key, now) >= self.max_failures as usize)
    }

    /// Records one failure against each of `keys`.
    pub fn fail(&self, keys: &[String]) {
        if let Ok(mut failures) = self.failures.lock() {
            if failures.len() > 100_000 {
                failures.clear();
            }
            for key in keys {
                failures
                    .entry(key.clone())
                    .or_default()
                    .push(Instant::now());
            }
        }
    }
}

/// Only local paths are followed after logging in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_string()
        }
        _ => "/".to_string(),
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

fn render_login(
    state: &AppState,
    csrf: &str,
    next: &str,
    error: Option<&str>,
    user: Option<&User>,
) -> Result<String, WebError> {
    let mut context = tera::Context::new();
    context.insert("csrf", csrf);
    context.insert("next", next);
    context.insert("error", &error);
    context.insert("mail_login", &state.inner.config.mail_login.is_some());
    crate::templates::render(state, "login.html", context, user)
}

pub async fn login_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Result<Response, WebError> {
    let csrf = login_csrf(&headers);
    let page = render_login(
        &state,
        &csrf,
        &safe_next(query.next.as_deref()),
        None,
        user.as_ref(),
    )?;
    Ok((
        [(header::SET_COOKIE, login_csrf_cookie(&state, &csrf))],
        axum::response::Html(page),
    )
        .into_response())
}

/// The login forms' double-submit token: the browser's, or a new one.
pub fn login_csrf(headers: &HeaderMap) -> String {
    cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|token| token.len() == 64)
        .unwrap_or_else(accounts::random_token)
}

/// The cookie carrying [`login_csrf`].
pub fn login_csrf_cookie(state: &AppState, csrf: &str) -> HeaderValue {
    set_cookie(state, LOGIN_CSRF_COOKIE, csrf, 3600)
}

/// Refuses a login form whose token does not match the browser's cookie.
pub fn check_login_csrf(headers: &HeaderMap, given: &str) -> Result<(), WebError> {
    let expected = cookie(headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if tokens_match(&expected, given) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "the login form's CSRF token does not match; reload the login page".into(),
        ))
    }
}

/// Opens a session for `user` and sends the browser to `next` with it.
pub async fn start_session(
    state: &AppState,
    user: &User,
    next: &str,
) -> Result<Response, WebError> {
    let token =
        accounts::create_session(&state.inner.store, user, state.inner.config.session_secs).await?;
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            state,
            SESSION_COOKIE,
            &token,
            state.inner.config.session_secs,
        ),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct LoginForm {
    name: String,
    password: String,
    csrf: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    check_login_csrf(&headers, &form.csrf)?;
    let expected = form.csrf.clone();
    let keys = vec![format!("ip:{client}"), format!("name:{}", form.name.trim())];
    if state.inner.limiter.blocked(&keys) {
        tracing::warn!("login refused by the rate limit for {client}");
        return Err(WebError::RateLimited);
    }
    let next = safe_next(form.next.as_deref());
    match accounts::check_password(&state.inner.store, &form.name, &form.password).await? {
        Some(user) => start_session(&state, &user, &next).await,
        None => {
            state.inner.limiter.fail(&keys);
            let page = render_login(
                &state,
                &expected,
                &next,
                Some("Wrong name or password."),
                None,
            )?;
            Ok((StatusCode::UNAUTHORIZED, axum::response::Html(page)).into_response())
        }
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LogoutForm>,
) -> Result<Response, WebError> {
    let user = user_from_headers(&state, &headers)
        .await?
        .ok_or(WebError::Unauthenticated)?;
    if !tokens_match(&user.csrf_token, &form.csrf) {
        return Err(WebError::Forbidden(
            "the CSRF token does not match this session".into(),
        ));
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        accounts::delete_session(&state.inner.store, &token).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}
