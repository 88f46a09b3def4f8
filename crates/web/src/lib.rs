//! The maintainer web view of sashiko: per-subsystem bug lists, bug,
//! series and review pages, triage with accounts and CSRF-protected forms,
//! Atom feeds, the JSON API b4 reads (`GET /api/patchset?id=<msgid>`),
//! an OpenAPI description, `/metrics` and `/healthz`.
//!
//! Pages are rendered on the server with tera and work without JavaScript;
//! no asset is loaded from anywhere else. Every value that came from a mail
//! or a model (patch text, finding text, subjects) is HTML-escaped by the
//! templates' autoescaping and never marked safe, except the rows of the
//! subsystem bug table, which `bug_table` writes with the same escaping. This crate must never
//! change a bug except through the store's state API (which writes the
//! history row), and never accept a change from a request without a
//! logged-in user, the right role and a matching CSRF token.

pub mod accounts;
mod api;
mod app;
mod auth;
mod bug_table;
mod cache;
mod config;
mod error;
mod feed;
mod format;
mod input;
mod mail_facts;
mod mail_login;
mod metrics;
mod openapi;
mod owners;
mod pages;
mod series_pages;
mod server;
mod templates;
mod throttle;
mod triage;
mod versions;

pub use app::{router, serve, AppState};
pub use config::WebConfig;
pub use error::WebError;
pub use mail_login::MailLoginConfig;
