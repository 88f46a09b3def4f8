//! Creating and dropping whole PostgreSQL databases, for `sashiko` test
//! suites and operators setting up a server.
//!
//! Database names are restricted to `[a-z0-9_]` so they can be spliced into
//! `CREATE DATABASE`. This module must never drop a database it was not
//! named explicitly.

use sqlx::Connection;

use crate::error::QueryContext;
use crate::{redact_url, StoreError};

fn check_name(name: &str) -> Result<(), StoreError> {
    let valid = !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'_');
    if valid {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "database name {name:?}: use 1 to 63 characters from a-z, 0-9 and _"
        )))
    }
}

async fn admin_connection(server_url: &str) -> Result<sqlx::PgConnection, StoreError> {
    let url = format!("{}/postgres", server_url.trim_end_matches('/'));
    sqlx::PgConnection::connect(&url)
        .await
        .map_err(|source| StoreError::Connect {
            url: redact_url(&url),
            source,
        })
}

/// Creates database `name` on the server at `server_url` (a URL without a
/// database, e.g. `postgres://postgres@127.0.0.1:5432`); returns its URL.
pub async fn create_postgres_database(server_url: &str, name: &str) -> Result<String, StoreError> {
    check_name(name)?;
    let mut admin = admin_connection(server_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .context(|| format!("creating database {name} on {}", redact_url(server_url)))?;
    let _ = admin.close().await;
    Ok(format!("{}/{name}", server_url.trim_end_matches('/')))
}

/// Drops database `name` on the server at `server_url`, disconnecting its
/// sessions; succeeds when it does not exist.
pub async fn drop_postgres_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    check_name(name)?;
    let mut admin = admin_connection(server_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await
        .context(|| format!("dropping database {name} on {}", redact_url(server_url)))?;
    let _ = admin.close().await;
    Ok(())
}
