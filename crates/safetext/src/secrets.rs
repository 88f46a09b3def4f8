//! Redaction of secrets in URLs, database DSNs and free text that may
//! quote them (error messages, log lines, stored failure reasons).
//!
//! What counts as a secret: the password of a URL's userinfo (and the
//! whole userinfo of a web URL, where a bare user name is often a token),
//! the value of a query or DSN parameter whose name says it is a secret
//! (`password`, `token`, `key`, `api_key`, `secret`, `sig`, ...), and the
//! same parameters written as libpq `key=value` words. Everything else is
//! kept, so a redacted URL still says which host and database was meant.
//!
//! This module must never grow a second definition of a secret: callers
//! use [`redact_url`] for a value that is a URL or DSN and [`redact_text`]
//! for text that may contain one.

/// What a secret is replaced with.
pub const REDACTED: &str = "***";

/// Schemes whose bare user name (without password) is a database role,
/// kept because it helps to read "role does not exist" errors.
const DATABASE_SCHEMES: &[&str] = &[
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "sqlite",
    "mongodb",
    "redis",
];

/// Parameter names that are secrets whatever their value.
const SECRET_NAMES: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "key",
    "apikey",
    "auth",
    "sig",
    "signature",
    "credential",
    "credentials",
    "sslpassword",
];

/// Name endings that make a parameter a secret (`access_token`,
/// `api_key`, `client_secret`, `X-Amz-Signature`, `db_password`).
const SECRET_SUFFIXES: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "_key",
    "-key",
    "apikey",
    "signature",
    "credential",
];

fn is_secret_name(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    !name.is_empty()
        && (SECRET_NAMES.contains(&name.as_str())
            || SECRET_SUFFIXES.iter().any(|suffix| name.ends_with(suffix)))
}

/// `url` with its secrets replaced by [`REDACTED`]. Accepts URLs
/// (`postgres://user:pw@host/db`, `https://tok@host/v1?key=...`), `sqlite:`
/// paths and libpq keyword DSNs (`host=h password=pw dbname=d`); anything
/// else comes back with only its secret-named `key=value` words redacted.
pub fn redact_url(url: &str) -> String {
    let Some(separator) = url.find("://") else {
        return redact_parameters(url);
    };
    let scheme = &url[..separator];
    let rest = &url[separator + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let mut tail = &rest[authority_end..];
    let mut out = String::with_capacity(url.len());
    out.push_str(scheme);
    out.push_str("://");
    match authority.rfind('@') {
        Some(at) => {
            out.push_str(&redact_userinfo(scheme, &authority[..at]));
            out.push_str(&authority[at..]);
        }
        None => match broken_password(authority, tail) {
            // `user:pa/ss@host`: a password with a raw `/` ends the
            // authority early; everything up to the `@` is the password.
            Some((user, consumed)) => {
                out.push_str(user);
                out.push(':');
                out.push_str(REDACTED);
                tail = &tail[consumed..];
            }
            None => out.push_str(authority),
        },
    }
    out.push_str(&redact_parameters(tail));
    out
}

fn redact_userinfo(scheme: &str, userinfo: &str) -> String {
    match userinfo.split_once(':') {
        Some((user, _password)) => format!("{user}:{REDACTED}"),
        None if userinfo.is_empty() => String::new(),
        None if DATABASE_SCHEMES.contains(&scheme.to_ascii_lowercase().as_str()) => {
            userinfo.to_owned()
        }
        None => REDACTED.to_owned(),
    }
}

/// For an authority `user:xxx` whose `xxx` is not a port, and a tail with
/// an `@` before the next `/`: the user and how much of `tail` belongs to
/// the password.
fn broken_password<'a>(authority: &'a str, tail: &str) -> Option<(&'a str, usize)> {
    let (user, after) = authority.split_once(':')?;
    if after.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let end = tail.find(['?', '#']).unwrap_or(tail.len());
    let at = tail[..end].find('@')?;
    Some((user, at))
}

/// Redacts the values of secret-named `name=value` parameters, whether
/// they are query parameters (`?a=1&token=x`) or libpq words
/// (`password='a b' host=h`).
fn redact_parameters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let (before, after) = rest.split_at(eq);
        let name_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        let name = &before[name_start..];
        out.push_str(before);
        out.push('=');
        let after = &after[1..];
        if !is_secret_name(name) {
            rest = after;
            continue;
        }
        let value_len = value_length(after);
        out.push_str(REDACTED);
        rest = &after[value_len..];
    }
    out.push_str(rest);
    out
}

/// Length of a parameter value at the start of `text`: a quoted value up
/// to its closing quote, else up to a separator.
fn value_length(text: &str) -> usize {
    let mut chars = text.char_indices();
    match chars.next() {
        Some((_, quote @ ('\'' | '"'))) => {
            let mut escaped = false;
            for (index, c) in chars {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == quote {
                    return index + c.len_utf8();
                }
            }
            text.len()
        }
        _ => text
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '&' | ';' | ',' | '#' | ')' | '"' | '\'' | '>')
            })
            .unwrap_or(text.len()),
    }
}

/// `text` with every URL in it passed through [`redact_url`] and every
/// secret-named `name=value` word redacted: for error messages, log lines
/// and stored failure reasons that may quote a URL or DSN.
pub fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(separator) = rest.find("://") {
        let scheme_start = rest[..separator]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')))
            .map_or(0, |i| i + 1);
        let url_end = rest[separator..]
            .find(|c: char| {
                c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`' | ')' | ']' | '}')
            })
            .map_or(rest.len(), |i| separator + i);
        out.push_str(&redact_parameters(&rest[..scheme_start]));
        out.push_str(&redact_url(&rest[scheme_start..url_end]));
        rest = &rest[url_end..];
    }
    out.push_str(&redact_parameters(rest));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(function: fn(&str) -> String, cases: &[(&str, &str)]) {
        for (input, expected) in cases {
            assert_eq!(function(input), *expected, "input {input:?}");
        }
    }

    #[test]
    fn urls_and_dsns() {
        check(
            redact_url,
            &[
                ("postgres://u:pw@h:5432/db", "postgres://u:***@h:5432/db"),
                ("postgres://u@h/db", "postgres://u@h/db"),
                ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
                ("postgres://u:p/ss@h/db", "postgres://u:***@h/db"),
                ("postgres://h:5432/db", "postgres://h:5432/db"),
                ("sqlite:/tmp/x.db", "sqlite:/tmp/x.db"),
                (
                    "postgres://h/db?sslmode=require&password=pw",
                    "postgres://h/db?sslmode=require&password=***",
                ),
                (
                    "https://user:pass@llm.example/v1",
                    "https://user:***@llm.example/v1",
                ),
                (
                    "https://ghp_abc123@llm.example/v1",
                    "https://***@llm.example/v1",
                ),
                (
                    "https://g.example/v1beta/models/m:generate?key=AIzaSECRET&alt=sse",
                    "https://g.example/v1beta/models/m:generate?key=***&alt=sse",
                ),
                (
                    "https://h/cb#access_token=abc&state=1",
                    "https://h/cb#access_token=***&state=1",
                ),
                (
                    "host=db user=sashiko password='a b\\'c' dbname=x",
                    "host=db user=sashiko password=*** dbname=x",
                ),
                (
                    "host=db sslpassword=x port=5",
                    "host=db sslpassword=*** port=5",
                ),
                (
                    "https://lore.kernel.org/r/20250219.1@gmail.com/",
                    "https://lore.kernel.org/r/20250219.1@gmail.com/",
                ),
                ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
                ("", ""),
            ],
        );
    }

    #[test]
    fn urls_inside_text() {
        check(
            redact_text,
            &[
                (
                    "openai model m at http://u:p@127.0.0.1:9/v1: request failed: error sending request for url (http://u:p@127.0.0.1:9/v1/chat/completions)",
                    "openai model m at http://u:***@127.0.0.1:9/v1: request failed: error sending request for url (http://u:***@127.0.0.1:9/v1/chat/completions)",
                ),
                (
                    "connecting to \"postgres://a:b@h/db\" failed; retry with password=hunter2",
                    "connecting to \"postgres://a:***@h/db\" failed; retry with password=***",
                ),
                ("no secrets here: a=b, x = y", "no secrets here: a=b, x = y"),
                ("ünïcode https://u:p@h/ö and more", "ünïcode https://u:***@h/ö and more"),
                ("://odd", "://odd"),
            ],
        );
    }

    #[test]
    fn redaction_is_idempotent() {
        for input in [
            "postgres://u:pw@h/db?token=x",
            "https://t@h/?key=k host=h password=p",
        ] {
            let once = redact_text(input);
            assert_eq!(redact_text(&once), once, "{input}");
            assert!(!once.contains("pw") && !once.contains("=k") && !once.contains("=p "));
        }
    }
}
