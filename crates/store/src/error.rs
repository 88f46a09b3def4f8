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

impl StoreError {
    /// True when the database refused the input itself (a value it cannot
    /// keep, a constraint, a size limit), not because it is unreachable or
    /// broken: retrying the same input will fail the same way, so ingest
    /// records it as refused and moves on instead of stalling.
    pub fn refuses_input(&self) -> bool {
        let StoreError::Query { source, .. } = self else {
            return false;
        };
        match source {
            sqlx::Error::Encode(_) => true,
            sqlx::Error::Database(error) => error.code().is_some_and(|code| refusal_code(&code)),
            _ => false,
        }
    }
}

/// PostgreSQL SQLSTATE classes 22 (data exception: NUL in text, bad
/// encoding, value too long), 23 (integrity constraint) and 54 (program
/// limit: an index row too large); SQLite primary result codes 18
/// (TOOBIG), 19 (CONSTRAINT), 20 (MISMATCH) and 25 (RANGE), given as
/// extended codes whose low byte is the primary code.
fn refusal_code(code: &str) -> bool {
    // A SQLSTATE has exactly five characters; SQLite's extended codes stay
    // below 10000.
    if code.len() == 5 {
        return code.starts_with("22") || code.starts_with("23") || code.starts_with("54");
    }
    code.parse::<u32>()
        .is_ok_and(|sqlite| matches!(sqlite & 0xff, 18 | 19 | 20 | 25))
}

/// The one redaction of URLs and DSNs (see `sashiko-safetext`), kept under
/// this name for the store's callers.
pub use sashiko_safetext::redact_url;

#[cfg(test)]
mod tests {
    use super::{redact_url, refusal_code};

    #[test]
    fn redacts_passwords() {
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

    #[test]
    fn refusals_are_told_from_outages() {
        let cases = [
            ("22021", true),
            ("54000", true),
            ("23505", true),
            ("08006", false),
            ("57P01", false),
            ("18", true),
            ("2067", true),
            ("5", false),
            ("261", false),
        ];
        for (code, expected) in cases {
            assert_eq!(refusal_code(code), expected, "{code}");
        }
    }
}
