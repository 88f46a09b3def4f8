//! The page templates, embedded in the binary with `include_str!` and
//! compiled once. Autoescaping is on for every `.html` and `.xml`
//! template; templates must never use the `safe` filter on data (the one
//! `safe` inserts the bug table rows `bug_table` escaped itself).

use tera::{Context, Tera};

use crate::accounts::User;
use crate::{AppState, WebError};

/// The one stylesheet, served at `/static/sashiko.css`.
pub const STYLESHEET: &str = include_str!("../templates/sashiko.css");

const TEMPLATES: [(&str, &str); 11] = [
    ("base.html", include_str!("../templates/base.html")),
    ("index.html", include_str!("../templates/index.html")),
    (
        "subsystem.html",
        include_str!("../templates/subsystem.html"),
    ),
    ("bug.html", include_str!("../templates/bug.html")),
    ("series.html", include_str!("../templates/series.html")),
    ("review.html", include_str!("../templates/review.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("login.html", include_str!("../templates/login.html")),
    (
        "mail_login.html",
        include_str!("../templates/mail_login.html"),
    ),
    ("findings.html", include_str!("../templates/findings.html")),
    ("feed.xml", include_str!("../templates/feed.xml")),
];

/// Compiles the embedded templates.
pub fn load() -> Result<Tera, WebError> {
    let mut tera = Tera::default();
    tera.add_raw_templates(TEMPLATES.to_vec())
        .map_err(|error| WebError::Template {
            template: "(embedded templates)".to_string(),
            message: describe(&error),
        })?;
    tera.autoescape_on(vec![".html", ".xml"]);
    Ok(tera)
}

fn describe(error: &tera::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

/// Renders `template` with `context` plus what every page shows (the
/// logged-in user and the CSRF token of the session).
pub fn render(
    state: &AppState,
    template: &str,
    mut context: Context,
    user: Option<&User>,
) -> Result<String, WebError> {
    context.insert("user", &user);
    context.insert("session_csrf", &user.map(|user| user.csrf_token.as_str()));
    context.insert("public_read", &state.inner.config.public_read);
    state
        .inner
        .tera
        .render(template, &context)
        .map_err(|error| WebError::Template {
            template: template.to_string(),
            message: describe(&error),
        })
}
