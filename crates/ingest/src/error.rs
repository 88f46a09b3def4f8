//! Errors of opening and reading sources.
//!
//! Each variant names the input it was about. Only failures that stop a
//! source are errors; odd messages inside a readable source are
//! diagnostics ([`crate::source::SourceDiagnostic`]) and must never be
//! turned into errors here.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("invalid source {spec:?}: {reason}")]
    InvalidSpec { spec: String, reason: String },

    #[error("{path} is neither a file (mbox), a maildir (cur/, new/) nor a git repository")]
    UnknownKind { path: PathBuf },

    #[error("cannot read {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("cannot read public-inbox git repository {path}")]
    Git {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },

    #[error("NNTP server {server}: {what}")]
    NntpIo {
        server: String,
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("NNTP server {server} answered {response:?} to {command}")]
    NntpResponse {
        server: String,
        command: String,
        response: String,
    },

    #[error("fetching {url} failed")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },

    #[error("fetching {url} failed with HTTP status {status}")]
    HttpStatus { url: String, status: u16 },

    #[error("cannot decompress {url}")]
    Gunzip {
        url: String,
        #[source]
        source: std::io::Error,
    },
}
