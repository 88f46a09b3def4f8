//! Settings of the web view. Plain data; it must never read files or the
//! environment itself (the CLI does that).

use std::path::PathBuf;

/// How the web view behaves.
#[derive(Clone, Debug)]
pub struct WebConfig {
    /// Whether pages and the API can be read without logging in.
    pub public_read: bool,
    /// Whether cookies carry the `Secure` attribute (leave on unless the
    /// server is reached over plain HTTP on a host other than localhost).
    pub secure_cookies: bool,
    /// The MAINTAINERS file whose entries are shown on subsystem pages.
    pub maintainers_file: Option<PathBuf>,
    /// The server's public base URL (e.g. `https://sashiko.example.org`),
    /// used for absolute links in feeds; when none, the request's Host.
    pub public_url: Option<String>,
    /// Base of links to mail threads, e.g. `https://lore.kernel.org/r/`.
    pub lore_base: String,
    /// Most failed logins per client address and per account name in
    /// `login_window_secs` before logins are refused.
    pub login_max_failures: u32,
    /// The window of the login rate limit, in seconds.
    pub login_window_secs: u64,
    /// How long anonymous GET answers of the bug pages and API may be
    /// reused, in milliseconds (0 turns the cache off). A triage decision
    /// in this process drops the cache at once.
    pub cache_ttl_ms: u64,
    /// How long a session lasts, in seconds.
    pub session_secs: u64,
    /// Login by mailed token; none offers password login only.
    pub mail_login: Option<crate::mail_login::MailLoginConfig>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            public_read: true,
            secure_cookies: true,
            maintainers_file: None,
            public_url: None,
            lore_base: "https://lore.kernel.org/r/".to_string(),
            login_max_failures: 5,
            login_window_secs: 600,
            session_secs: 7 * 24 * 3600,
            cache_ttl_ms: 1000,
            mail_login: None,
        }
    }
}
