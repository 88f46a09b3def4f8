//! Logging in and out, sessions from cookies, CSRF checks and the login
//! throttle (`throttle`). Session cookies are HttpOnly, SameSite=Strict and (unless
//! configured off) Secure; the login form is protected by a double-submit
//! token, every other form by the session's own token. This module must
//! never reveal whether an account name exists.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
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
/// A browser that logged in before (see `throttle`).
pub const DEVICE_COOKIE: &str = "sashiko_device";

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

/// Extractor: the client's IP address as text: the TCP peer, or, when the
/// peer is a trusted proxy and `client_address_header` is configured, the
/// address that header names (the last entry of a list, the one the proxy
/// added); `unknown` when the server was not started with connection info.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(ClientAddress("unknown".to_string()));
        };
        let config = &state.inner.config;
        let forwarded = config
            .client_address_header
            .as_deref()
            .filter(|_| config.trusted_proxies.contains(&peer.ip()))
            .and_then(|name| forwarded_address(&parts.headers, name));
        Ok(ClientAddress(forwarded.unwrap_or(peer.ip()).to_string()))
    }
}

/// The address in the last value of header `name` (the last entry of a
/// comma-separated list), if it is one.
fn forwarded_address(headers: &HeaderMap, name: &str) -> Option<IpAddr> {
    let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    let last = value.rsplit(',').next()?.trim();
    match last.parse::<IpAddr>() {
        Ok(address) => Some(address),
        Err(_) => {
            tracing::warn!(
                "the {name} header's last entry {last:?} is not an IP address; using the peer"
            );
            None
        }
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

/// Counts events per key in a sliding window (login mails per address
/// and per client); refuses once a key reaches the limit.
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

/// Only paths of this site are followed after logging in (issue 21, hole
/// 7): `/` followed by anything but `/` or a backslash, printable ASCII only (so
/// it is always a valid Location header and holds no tab or newline a
/// browser would drop), and the same once percent-decoded (no `%2F%2F`,
/// `%5C` or `%09` left for something downstream to decode). Anything else
/// becomes `/`.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    next.filter(|path| local_path(path))
        .map_or_else(|| "/".to_string(), str::to_string)
}

fn local_path(path: &str) -> bool {
    if !path.bytes().all(|byte| (0x21..=0x7e).contains(&byte)) {
        return false;
    }
    let mut text = path.to_string();
    // Decoding twice catches `%252F`; a path needing more is refused.
    for _ in 0..3 {
        let starts_locally = text.starts_with('/') && !text[1..].starts_with(['/', '\\']);
        if !starts_locally || text.chars().any(|c| c == '\\' || c.is_control()) {
            return false;
        }
        let decoded = String::from_utf8_lossy(&crate::format::percent_decode(&text)).into_owned();
        if decoded == text {
            return true;
        }
        text = decoded;
    }
    false
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

/// The keys a password attempt for `name` is throttled under: the client
/// address, and the account name unless this browser logged in to that
/// account before (then its device, so guesses elsewhere do not hold the
/// owner up).
fn throttle_keys(state: &AppState, headers: &HeaderMap, client: &str, name: &str) -> Vec<String> {
    let device = cookie(headers, DEVICE_COOKIE)
        .filter(|token| token.len() == 64)
        .map(|token| accounts::token_hash(&token))
        .filter(|hash| state.inner.throttle.device_knows(hash, name));
    vec![
        format!("ip:{client}"),
        match device {
            Some(hash) => format!("device:{hash}"),
            None => format!("name:{name}"),
        },
    ]
}

pub async fn login(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, WebError> {
    check_login_csrf(&headers, &form.csrf)?;
    let expected = form.csrf.clone();
    let name = form.name.trim();
    let keys = throttle_keys(&state, &headers, &client, name);
    if let Some(wait) = state.inner.throttle.wait(&keys) {
        tracing::warn!("login for {name:?} from {client} must wait {wait:?}");
        return Err(WebError::RateLimited(Some(wait.as_secs() + 1)));
    }
    let next = safe_next(form.next.as_deref());
    match accounts::check_password(&state.inner.store, name, &form.password).await? {
        Some(user) => {
            state.inner.throttle.forget(&keys);
            let mut response = start_session(&state, &user, &next).await?;
            let device = cookie(&headers, DEVICE_COOKIE)
                .filter(|token| token.len() == 64)
                .unwrap_or_else(accounts::random_token);
            state
                .inner
                .throttle
                .trust_device(accounts::token_hash(&device), &user.name);
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(&state, DEVICE_COOKIE, &device, 365 * 24 * 3600),
            );
            Ok(response)
        }
        None => {
            state.inner.throttle.fail(&keys);
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
