//! The web view's own tables: accounts (`web_users`), sessions
//! (`web_sessions`) and mailed login tokens (`web_login_tokens`). The store
//! keeps what the web crate gives it: password hashes (argon2 PHC strings,
//! made by the caller) and SHA-256 hashes of session and login tokens. A
//! new password ends every session and login token of the account; a
//! disabled account cannot log in and has none (issue 21, hole 9). This
//! module must never see a password or a token in clear.

use serde::Serialize;

use crate::web_queries::{ColumnError, SqlParam, WebRow};
use crate::{Store, StoreError};

/// An account as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WebAccount {
    pub id: i64,
    pub name: String,
    /// `admin` or `maintainer` (the web crate parses it).
    pub role: String,
    /// Subsystems a maintainer looks after.
    pub subsystems: Vec<String>,
}

const ACCOUNT_COLUMNS: &str = "u.id, u.name, u.role, u.subsystems";

impl WebAccount {
    fn decode(row: &WebRow<'_>) -> Result<WebAccount, ColumnError> {
        Ok(WebAccount {
            id: row.int(0)?,
            name: row.text(1)?.to_string(),
            role: row.text(2)?.to_string(),
            subsystems: serde_json::from_str(row.text(3)?).map_err(ColumnError::decode)?,
        })
    }
}

/// An account to create, or whose password, role, subsystems and address
/// to replace.
#[derive(Clone, Debug)]
pub struct NewWebAccount<'a> {
    pub name: &'a str,
    /// An argon2 PHC string.
    pub password_hash: &'a str,
    pub role: &'a str,
    pub subsystems: &'a [String],
    /// Address login links are mailed to.
    pub email: Option<&'a str>,
}

impl Store {
    /// Creates the account, or replaces the password hash, role,
    /// subsystems and address of the account with that name (ending its
    /// sessions and login tokens: whoever held them knew the old
    /// password; a disabled account stays disabled). Returns whether it
    /// was created.
    pub async fn upsert_web_account(
        &self,
        account: &NewWebAccount<'_>,
    ) -> Result<bool, StoreError> {
        let name = SqlParam::Text(account.name.to_string());
        let existed = !self
            .web_typed(
                "looking up an account",
                "SELECT id FROM web_users WHERE name = $1",
                std::slice::from_ref(&name),
                |row| row.int(0),
            )
            .await?
            .is_empty();
        let subsystems = serde_json::to_string(account.subsystems).map_err(|error| {
            StoreError::Invalid(format!("subsystems of {:?}: {error}", account.name))
        })?;
        self.web_execute(
            "storing an account",
            "INSERT INTO web_users (name, password_hash, role, subsystems, email, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, NULLIF($5, ''), {now}, {now}) ON CONFLICT (name) DO UPDATE SET \
             password_hash = excluded.password_hash, role = excluded.role, \
             subsystems = excluded.subsystems, email = excluded.email, updated_at = excluded.updated_at",
            &[
                name,
                SqlParam::Text(account.password_hash.to_string()),
                SqlParam::Text(account.role.to_string()),
                SqlParam::Text(subsystems),
                SqlParam::Text(account.email.unwrap_or_default().to_string()),
            ],
        )
        .await?;
        if existed {
            self.end_web_account_sessions(account.name).await?;
        }
        Ok(!existed)
    }

    /// Ends every session and login token of the account named `name`.
    async fn end_web_account_sessions(&self, name: &str) -> Result<(), StoreError> {
        for (what, table) in [
            ("ending the sessions of an account", "web_sessions"),
            ("ending the login tokens of an account", "web_login_tokens"),
        ] {
            self.web_execute(
                what,
                &format!(
                    "DELETE FROM {table} WHERE user_id IN (SELECT id FROM web_users WHERE name = $1)"
                ),
                &[SqlParam::Text(name.to_string())],
            )
            .await?;
        }
        Ok(())
    }

    /// Disables (or enables again) the account named `name`: a disabled
    /// account cannot log in by password or mail and its sessions and
    /// login tokens are ended. Returns whether the account exists.
    pub async fn set_web_account_disabled(
        &self,
        name: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let changed = self
            .web_execute(
                "disabling or enabling an account",
                if disabled {
                    "UPDATE web_users SET disabled_at = COALESCE(disabled_at, {now}), updated_at = {now} WHERE name = $1"
                } else {
                    "UPDATE web_users SET disabled_at = NULL, updated_at = {now} WHERE name = $1"
                },
                &[SqlParam::Text(name.to_string())],
            )
            .await?;
        if disabled {
            self.end_web_account_sessions(name).await?;
        }
        Ok(changed > 0)
    }

    /// Removes the account named `name` with its sessions and login
    /// tokens (triage history keeps the name it recorded). Returns whether
    /// there was one.
    pub async fn remove_web_account(&self, name: &str) -> Result<bool, StoreError> {
        self.end_web_account_sessions(name).await?;
        Ok(self
            .web_execute(
                "removing an account",
                "DELETE FROM web_users WHERE name = $1",
                &[SqlParam::Text(name.to_string())],
            )
            .await?
            > 0)
    }

    /// The account named `name` with its password hash.
    pub async fn web_account_credentials(
        &self,
        name: &str,
    ) -> Result<Option<(WebAccount, String)>, StoreError> {
        Ok(self
            .web_typed(
                "reading an account to log in",
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, u.password_hash FROM web_users u \
                     WHERE u.name = $1 AND u.disabled_at IS NULL"
                ),
                &[SqlParam::Text(name.to_string())],
                |row| Ok((WebAccount::decode(row)?, row.text(4)?.to_string())),
            )
            .await?
            .into_iter()
            .next())
    }

    /// The id of the account with mail address `address` (as stored,
    /// lowercased), if any.
    pub async fn web_account_id_by_email(&self, address: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .web_typed(
                "looking up an account by mail address",
                "SELECT id FROM web_users WHERE email = $1 AND disabled_at IS NULL",
                &[SqlParam::Text(address.to_string())],
                |row| row.int(0),
            )
            .await?
            .into_iter()
            .next())
    }

    /// The account with row id `id`.
    pub async fn web_account(&self, id: i64) -> Result<Option<WebAccount>, StoreError> {
        Ok(self
            .web_typed(
                "reading an account",
                &format!(
                    "SELECT {ACCOUNT_COLUMNS} FROM web_users u WHERE u.id = $1 AND u.disabled_at IS NULL"
                ),
                &[SqlParam::Int(id)],
                WebAccount::decode,
            )
            .await?
            .into_iter()
            .next())
    }

    /// Opens a session for account `user_id` (expired sessions of anyone
    /// are removed first), known by the SHA-256 of its token, with its own
    /// CSRF token, for `lifetime_ms`.
    pub async fn open_web_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        lifetime_ms: i64,
    ) -> Result<(), StoreError> {
        self.web_execute(
            "removing expired sessions",
            "DELETE FROM web_sessions WHERE expires_at <= {now}",
            &[],
        )
        .await?;
        self.web_execute(
            "opening a session",
            "INSERT INTO web_sessions (token_hash, user_id, csrf_token, created_at, expires_at) \
             VALUES ($1, $2, $3, {now}, {now} + $4)",
            &[
                SqlParam::Text(token_hash.to_string()),
                SqlParam::Int(user_id),
                SqlParam::Text(csrf_token.to_string()),
                SqlParam::Int(lifetime_ms),
            ],
        )
        .await?;
        Ok(())
    }

    /// The account of an unexpired session with the session's CSRF token.
    pub async fn web_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(WebAccount, String)>, StoreError> {
        Ok(self
            .web_typed(
                "reading a session",
                &format!(
                    "SELECT {ACCOUNT_COLUMNS}, s.csrf_token FROM web_sessions s \
                     JOIN web_users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > {{now}} \
                     AND u.disabled_at IS NULL"
                ),
                &[SqlParam::Text(token_hash.to_string())],
                |row| Ok((WebAccount::decode(row)?, row.text(4)?.to_string())),
            )
            .await?
            .into_iter()
            .next())
    }

    /// Ends a session.
    pub async fn close_web_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.web_execute(
            "closing a session",
            "DELETE FROM web_sessions WHERE token_hash = $1",
            &[SqlParam::Text(token_hash.to_string())],
        )
        .await?;
        Ok(())
    }

    /// Stores a login token for account `user_id` (by its SHA-256) valid
    /// for `lifetime_ms`; expired tokens of anyone are removed first.
    pub async fn store_login_token(
        &self,
        token_hash: &str,
        user_id: i64,
        lifetime_ms: i64,
    ) -> Result<(), StoreError> {
        self.web_execute(
            "removing expired login tokens",
            "DELETE FROM web_login_tokens WHERE expires_at <= {now}",
            &[],
        )
        .await?;
        self.web_execute(
            "storing a login token",
            "INSERT INTO web_login_tokens (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, {now}, {now} + $3)",
            &[
                SqlParam::Text(token_hash.to_string()),
                SqlParam::Int(user_id),
                SqlParam::Int(lifetime_ms),
            ],
        )
        .await?;
        Ok(())
    }

    /// Spends a login token: the account id it logs in, if it was valid.
    /// A token works once: the statement that reads it deletes it.
    pub async fn redeem_login_token(&self, token_hash: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .web_typed(
                "using a login token",
                "DELETE FROM web_login_tokens WHERE token_hash = $1 AND expires_at > {now} RETURNING user_id",
                &[SqlParam::Text(token_hash.to_string())],
                |row| row.int(0),
            )
            .await?
            .into_iter()
            .next())
    }
}
