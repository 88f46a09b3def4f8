//! Settings of the web view. Plain data; it must never read files or the
//! environment itself (the CLI does that).

use std::net::IpAddr;
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
    /// Failed logins per account name and per client address before
    /// further attempts have to wait (one second, doubling per failure, up
    /// to `login_max_delay_secs`); the right password is never refused for
    /// longer than that.
    pub login_free_failures: u32,
    /// The longest wait between password attempts, in seconds.
    pub login_max_delay_secs: u64,
    /// How long failed logins and login mails are remembered, in seconds.
    pub login_window_secs: u64,
    /// The header a reverse proxy puts the client's address in (e.g.
    /// `X-Forwarded-For`, whose last entry is read, or `X-Real-IP`); read
    /// only on connections from `trusted_proxies`. None: the TCP peer is
    /// the client.
    pub client_address_header: Option<String>,
    /// Peers whose `client_address_header` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// How long anonymous GET answers of the bug pages and API may be
    /// reused, in milliseconds (0 turns the cache off). A triage decision
    /// in this process drops the cache at once.
    pub cache_ttl_ms: u64,
    /// The most bytes the response cache holds (keys and bodies).
    pub cache_max_bytes: usize,
    /// Seconds a client has to send a request's headers; a connection
    /// that has not finished them by then is closed.
    pub header_read_timeout_secs: u64,
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
            login_free_failures: 5,
            login_max_delay_secs: 15,
            login_window_secs: 600,
            client_address_header: None,
            trusted_proxies: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
            session_secs: 7 * 24 * 3600,
            cache_ttl_ms: 1000,
            cache_max_bytes: 64 << 20,
            header_read_timeout_secs: 10,
            mail_login: None,
        }
    }
}
