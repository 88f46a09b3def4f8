//! Logging in with a token sent by mail. The login page asks for an
//! address; if an account has it, a random token is stored as its SHA-256
//! with a short lifetime and a link carrying it is queued in the store's
//! outbox (sent by whoever drains it over SMTP: `sashiko serve --smtp` or
//! `sashiko bot`). The link opens a page whose button (a POST, so a mail
//! scanner that fetches links does not spend the token) redeems it once:
//! the token row is deleted in the same statement that reads it.
//!
//! This module must never say whether an address has an account (the
//! answer and the rate limit are the same either way), never store or log
//! a token in clear, and never put request text into a mail header
//! unchecked (addresses are validated; nothing else from the request goes
//! into the mail).

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Form;
use serde::Deserialize;

use sashiko_store::NewMail;

use crate::accounts::{self, User};
use crate::auth::{self, ClientAddress, CurrentUser};
use crate::{AppState, WebError};

/// How mail login is set up.
#[derive(Clone, Debug)]
pub struct MailLoginConfig {
    /// The From mailbox of login mails, e.g. `Sashiko <sashiko@example.org>`.
    pub from: String,
    /// The server's public base URL the link points to. Never taken from
    /// the request's Host header, which the requester chooses.
    pub base_url: String,
    /// Minutes a token stays valid.
    pub token_minutes: u64,
    /// Most login mails per address in the login window (per client
    /// address: ten times as many).
    pub max_mails: u32,
}

/// Whether `address` is a plain `local@domain` address that can go into a
/// header as it is (no spaces, no CR/LF, no quoting or angle brackets).
pub fn plain_address(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    let allowed = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
    !local.is_empty()
        && !domain.is_empty()
        && address.len() <= 254
        && local.chars().all(allowed)
        && domain.contains('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !domain.starts_with(['.', '-'])
        && !domain.ends_with(['.', '-'])
}

/// The domain of the From mailbox (for Message-IDs).
fn from_domain(from: &str) -> &str {
    from.rsplit('@')
        .next()
        .map_or("sashiko.invalid", |rest| rest.trim_end_matches('>').trim())
}

/// The login mail: plain text, fixed wording, the link the only variable.
fn login_mail(config: &MailLoginConfig, to: &str, link: &str) -> Vec<u8> {
    let message_id = format!(
        "login.{}@{}",
        accounts::random_token(),
        from_domain(&config.from)
    );
    let headers = [
        ("From", config.from.replace(['\r', '\n'], " ")),
        ("To", to.to_string()),
        ("Subject", "Your sashiko login link".to_string()),
        ("Date", chrono::Utc::now().to_rfc2822()),
        ("Message-ID", format!("<{message_id}>")),
        ("MIME-Version", "1.0".to_string()),
        ("Content-Type", "text/plain; charset=utf-8".to_string()),
        ("Content-Transfer-Encoding", "8bit".to_string()),
        ("Auto-Submitted", "auto-generated".to_string()),
    ];
    let mut text = String::new();
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    for line in [
        "Someone (hopefully you) asked to log in to sashiko with this address.".to_string(),
        String::new(),
        format!(
            "Open this link to log in; it works once, for {} minutes:",
            config.token_minutes
        ),
        String::new(),
        link.to_string(),
        String::new(),
        "If you did not ask for it, ignore this mail.".to_string(),
    ] {
        text.push_str(&line);
        text.push_str("\r\n");
    }
    text.into_bytes()
}

/// Stores a new token for `user_id` and returns it (in clear, for the link).
async fn create_token(state: &AppState, user_id: i64, minutes: u64) -> Result<String, WebError> {
    let token = accounts::random_token();
    let lifetime_ms = i64::try_from(minutes.saturating_mul(60_000)).unwrap_or(i64::MAX / 2);
    state
        .inner
        .store
        .store_login_token(&accounts::token_hash(&token), user_id, lifetime_ms)
        .await?;
    Ok(token)
}

/// Spends a token: the account it logs in, if it was valid. A token works
/// once: it is deleted by the statement that reads it.
async fn redeem_token(state: &AppState, token: &str) -> Result<Option<User>, WebError> {
    let store = &state.inner.store;
    match store
        .redeem_login_token(&accounts::token_hash(token))
        .await?
    {
        Some(user_id) => accounts::user_by_id(store, user_id).await,
        None => Ok(None),
    }
}

#[derive(Deserialize)]
pub struct MailLoginForm {
    address: String,
    csrf: String,
}

fn config(state: &AppState) -> Result<&MailLoginConfig, WebError> {
    state
        .inner
        .config
        .mail_login
        .as_ref()
        .ok_or_else(|| WebError::NotFound("login by mail (not configured)".into()))
}

fn page(
    state: &AppState,
    context: tera::Context,
    status: StatusCode,
) -> Result<Response, WebError> {
    let html = crate::templates::render(state, "mail_login.html", context, None)?;
    Ok((status, Html(html)).into_response())
}

/// `POST /login/mail`: mails a login link if an account has the address.
pub async fn request_link(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
    Form(form): Form<MailLoginForm>,
) -> Result<Response, WebError> {
    let config = config(&state)?;
    auth::check_login_csrf(&headers, &form.csrf)?;
    let address = form.address.trim().to_ascii_lowercase();
    if !plain_address(&address) {
        return Err(WebError::BadRequest(format!(
            "{:?} is not a mail address (local@domain)",
            form.address.trim()
        )));
    }
    // Every request counts, whether or not the address has an account.
    let address_key = [format!("mail:{address}")];
    let client_key = [format!("mail-ip:{client}")];
    if state.inner.mail_limiter.blocked(&address_key)
        || state.inner.mail_client_limiter.blocked(&client_key)
    {
        tracing::warn!("login mail refused by the rate limit for {client}");
        return Err(WebError::RateLimited(None));
    }
    state.inner.mail_limiter.fail(&address_key);
    state.inner.mail_client_limiter.fail(&client_key);
    if let Some(user_id) = accounts::user_id_by_email(&state.inner.store, &address).await? {
        let token = create_token(&state, user_id, config.token_minutes).await?;
        let link = format!(
            "{}/login/token?t={token}",
            config.base_url.trim_end_matches('/')
        );
        state
            .inner
            .store
            .outbox_enqueue(&NewMail {
                idempotency_key: format!("login-token:{}", accounts::token_hash(&token)),
                review_id: None,
                recipients: vec![address.clone()],
                subject: "Your sashiko login link".to_string(),
                in_reply_to: None,
                body: login_mail(config, &address, &link),
                max_attempts: 3,
            })
            .await?;
        tracing::info!(account = user_id, "login link queued");
    }
    let mut context = tera::Context::new();
    context.insert("sent", &true);
    context.insert("minutes", &config.token_minutes);
    page(&state, context, StatusCode::OK)
}

#[derive(Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    t: String,
}

/// `GET /login/token?t=`: the button that spends the token.
pub async fn confirm_page(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
    Query(query): Query<TokenQuery>,
) -> Result<Response, WebError> {
    config(&state)?;
    let csrf = auth::login_csrf(&headers);
    let mut context = tera::Context::new();
    context.insert("token", &query.t);
    context.insert("csrf", &csrf);
    let html = crate::templates::render(&state, "mail_login.html", context, user.as_ref())?;
    Ok((
        [(header::SET_COOKIE, auth::login_csrf_cookie(&state, &csrf))],
        Html(html),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct TokenForm {
    token: String,
    csrf: String,
}

/// `POST /login/token`: spends the token and opens a session.
pub async fn redeem(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Result<Response, WebError> {
    config(&state)?;
    auth::check_login_csrf(&headers, &form.csrf)?;
    let token = form.token.trim();
    let user = if token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit()) {
        redeem_token(&state, token).await?
    } else {
        None
    };
    match user {
        Some(user) => auth::start_session(&state, &user, "/").await,
        None => {
            let mut context = tera::Context::new();
            context.insert("invalid", &true);
            page(&state, context, StatusCode::UNAUTHORIZED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::plain_address;

    #[test]
    fn only_plain_addresses_go_into_headers() {
        let cases = [
            ("ada@example.org", true),
            ("ada.dev+lists@mail.example.org", true),
            ("ada@localhost", false),
            ("ada", false),
            ("@example.org", false),
            ("ada@example.org\r\nBcc: eve@example.org", false),
            ("Ada <ada@example.org>", false),
            ("ada@exa mple.org", false),
            ("ada@-example.org", false),
            ("\"ada\"@example.org", false),
        ];
        for (address, expected) in cases {
            assert_eq!(plain_address(address), expected, "{address:?}");
        }
    }
}
