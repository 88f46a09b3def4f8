//! The store's error type.
//!
//! Every variant says what the store was doing and with which input, so the
//! binary can print it as is. It must never carry a database password: URLs
//! are redacted before they are put into an error.

/// An error from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no backend we support.
    #[error("unsupported database URL {url:?}: expected sqlite:PATH or postgres://...")]
    UnsupportedUrl {
        /// The URL, with any password removed.
        url: String,
    },
    /// Preparing the SQLite file's directory failed.
    #[error("creating the directory {path} for the SQLite database: {source}")]
    CreateDir {
        /// The directory.
        path: String,
        /// The underlying IO error.
        source: std::io::Error,
    },
    /// Connecting to the database failed.
    #[error("connecting to {url}: {source}")]
    Connect {
        /// The URL, with any password removed.
        url: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// Applying migrations failed.
    #[error("migrating the {backend} database: {source}")]
    Migrate {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// The migrator's error.
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed.
    #[error("{what}: {source}")]
    Query {
        /// What the store was doing, with the input it was doing it to.
        what: String,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// A row the operation needs does not exist.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// The caller asked for something the data does not allow.
    #[error("{0}")]
    Invalid(String),
}

/// Adds "what was being done" to a driver error.
pub(crate) trait QueryContext<T> {
    /// Wraps the error with a description built only when it occurs.
    fn context(self, what: impl FnOnce() -> String) -> Result<T, StoreError>;
}

impl<T> QueryContext<T> for Result<T, sqlx::Error> {
    fn context(self, what: impl FnOnce() -> String) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query {
            what: what(),
            source,
        })
    }
}

/// Removes the password from a URL such as `postgres://user:secret@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = match rest.find('/') {
        Some(slash) => rest.split_at(slash),
        None => (rest, ""),
    };
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redacts_passwords_only() {
        let cases = [
            ("postgres://u:pw@h:5432/db", "postgres://u:***@h:5432/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("sqlite:/tmp/x.db", "sqlite:/tmp/x.db"),
            ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
        ];
        for (input, expected) in cases {
            assert_eq!(redact_url(input), expected, "input {input}");
        }
    }
}
