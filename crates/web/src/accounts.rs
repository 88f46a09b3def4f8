//! Web accounts and sessions, kept in the store's `web_users` and
//! `web_sessions` tables. Passwords are hashed with argon2id (PHC strings);
//! a session is a random token given to the browser whose SHA-256 alone is
//! stored, with a per-session CSRF token. This module must never store or
//! log a password or a session token in clear.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;
use rand::RngCore;
use serde::Serialize;
use sha2::{Digest, Sha256};

use sashiko_store::web::{NewWebAccount, WebAccount};
use sashiko_store::Store;

use crate::WebError;

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Triage any bug.
    Admin,
    /// Triage bugs of the account's subsystems.
    Maintainer,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Maintainer => "maintainer",
        }
    }
}

impl std::str::FromStr for Role {
    type Err = WebError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.trim().to_ascii_lowercase().as_str() {
            "admin" => Ok(Role::Admin),
            "maintainer" => Ok(Role::Maintainer),
            other => Err(WebError::BadRequest(format!(
                "unknown role {other:?}: expected admin or maintainer"
            ))),
        }
    }
}

/// A logged-in account.
#[derive(Clone, Debug, Serialize)]
pub struct User {
    /// Row id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Subsystems a maintainer looks after.
    pub subsystems: Vec<String>,
    /// The CSRF token of this session (empty outside a session).
    #[serde(skip)]
    pub csrf_token: String,
}

impl User {
    /// Whether this account may triage bugs of `subsystem`.
    pub fn may_triage(&self, subsystem: &str) -> bool {
        self.role == Role::Admin || self.subsystems.iter().any(|mine| mine == subsystem)
    }
}

/// An account to create or update with [`add_user`].
#[derive(Clone, Debug)]
pub struct NewAccount {
    /// Login name.
    pub name: String,
    /// Password in clear (hashed here, never stored).
    pub password: String,
    /// Role.
    pub role: Role,
    /// Subsystems (for maintainers).
    pub subsystems: Vec<String>,
    /// Address login links are mailed to (none: password login only).
    pub email: Option<String>,
}

/// Hashes a password into an argon2id PHC string.
pub fn hash_password(password: &str) -> Result<String, WebError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| WebError::BadRequest(format!("hashing the password: {error}")))
}

fn password_matches(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random token as 64 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0_u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The SHA-256 of a token, as stored.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Creates the account, or replaces the password, role and subsystems of
/// an account with that name. Returns whether it was created.
pub async fn add_user(store: &Store, account: &NewAccount) -> Result<bool, WebError> {
    let name = account.name.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
        return Err(WebError::BadRequest(format!(
            "account name {name:?}: 1 to 64 characters without spaces"
        )));
    }
    if account.password.chars().count() < 8 {
        return Err(WebError::BadRequest(format!(
            "password of {name:?}: at least 8 characters"
        )));
    }
    if account.role == Role::Maintainer && account.subsystems.is_empty() {
        return Err(WebError::BadRequest(format!(
            "maintainer {name:?}: give at least one --subsystem"
        )));
    }
    let email = account
        .email
        .as_deref()
        .map(|address| address.trim().to_ascii_lowercase());
    if let Some(address) = email.as_deref() {
        if !crate::mail_login::plain_address(address) {
            return Err(WebError::BadRequest(format!(
                "mail address of {name:?}: {address:?} is not local@domain"
            )));
        }
    }
    let hash = hash_password(&account.password)?;
    Ok(store
        .upsert_web_account(&NewWebAccount {
            name,
            password_hash: &hash,
            role: account.role.as_str(),
            subsystems: &account.subsystems,
            email: email.as_deref(),
        })
        .await?)
}

/// The user of a stored account; none (with a warning) for a role this
/// version does not know.
fn user_of(account: WebAccount, csrf_token: String) -> Option<User> {
    match account.role.parse() {
        Ok(role) => Some(User {
            id: account.id,
            name: account.name,
            role,
            subsystems: account.subsystems,
            csrf_token,
        }),
        Err(error) => {
            tracing::warn!("account {:?} cannot log in: {error}", account.name);
            None
        }
    }
}

/// The account named `name` if `password` is its password.
pub async fn check_password(
    store: &Store,
    name: &str,
    password: &str,
) -> Result<Option<User>, WebError> {
    let Some((account, stored)) = store.web_account_credentials(name.trim()).await? else {
        // Spend the same effort as a real check so names cannot be probed by timing.
        let _ = hash_password(password);
        return Ok(None);
    };
    if password_matches(password, &stored) {
        Ok(user_of(account, String::new()))
    } else {
        Ok(None)
    }
}

/// The account with mail address `address` (lowercased), if any.
pub async fn user_id_by_email(store: &Store, address: &str) -> Result<Option<i64>, WebError> {
    Ok(store.web_account_id_by_email(address).await?)
}

/// The account with row id `id`.
pub async fn user_by_id(store: &Store, id: i64) -> Result<Option<User>, WebError> {
    Ok(store
        .web_account(id)
        .await?
        .and_then(|account| user_of(account, String::new())))
}

/// Opens a session for `user`; returns the token for the cookie.
pub async fn create_session(
    store: &Store,
    user: &User,
    lifetime_secs: u64,
) -> Result<String, WebError> {
    let token = random_token();
    let lifetime_ms = i64::try_from(lifetime_secs.saturating_mul(1000)).unwrap_or(i64::MAX / 2);
    store
        .open_web_session(&token_hash(&token), user.id, &random_token(), lifetime_ms)
        .await?;
    Ok(token)
}

/// The user of an unexpired session, with the session's CSRF token.
pub async fn session_user(store: &Store, token: &str) -> Result<Option<User>, WebError> {
    Ok(store
        .web_session(&token_hash(token))
        .await?
        .and_then(|(account, csrf_token)| user_of(account, csrf_token)))
}

/// Ends a session.
pub async fn delete_session(store: &Store, token: &str) -> Result<(), WebError> {
    Ok(store.close_web_session(&token_hash(token)).await?)
}

/// Disables the account `name` (it cannot log in, its sessions end) or
/// enables it again; an error when there is no such account.
pub async fn set_user_disabled(store: &Store, name: &str, disabled: bool) -> Result<(), WebError> {
    if store
        .set_web_account_disabled(name.trim(), disabled)
        .await?
    {
        Ok(())
    } else {
        Err(WebError::NotFound(format!("account {:?}", name.trim())))
    }
}

/// Removes the account `name` and its sessions; an error when there is no
/// such account.
pub async fn remove_user(store: &Store, name: &str) -> Result<(), WebError> {
    if store.remove_web_account(name.trim()).await? {
        Ok(())
    } else {
        Err(WebError::NotFound(format!("account {:?}", name.trim())))
    }
}
