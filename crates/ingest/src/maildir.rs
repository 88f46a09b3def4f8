//! A maildir (`cur/` and `new/`) as a [`MessageSource`].
//!
//! Messages are read in the order of their unique names (the file name
//! before the `:2,FLAGS` info part), which for standard deliveries starts
//! with the delivery time, so the order is stable across runs and across a
//! move from `new/` to `cur/`. The cursor is the set of unique names already
//! handed out, so mail delivered later with an earlier-sorting name is still
//! read. This module must never move, rename or flag files: the maildir may
//! belong to a mail client.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::error::SourceError;
use crate::seen::SeenSet;
use crate::source::{MessageSource, SourceDiagnostic, SourceMessage};

pub struct MaildirSource {
    key: String,
    root: PathBuf,
    pending: VecDeque<(String, PathBuf)>,
    seen: SeenSet,
    diagnostics: Vec<SourceDiagnostic>,
}

impl MaildirSource {
    /// Lists `path/cur` and `path/new`, leaving out the names in `cursor`.
    pub fn open(key: String, path: &Path, cursor: Option<&str>) -> Result<Self, SourceError> {
        let mut diagnostics = Vec::new();
        let seen = SeenSet::from_cursor(cursor).unwrap_or_else(|message| {
            diagnostics.push(SourceDiagnostic {
                location: key.clone(),
                message: format!("{message}; reading every message again"),
            });
            SeenSet::default()
        });
        let mut found = BTreeSet::new();
        let mut any_directory = false;
        for directory in ["cur", "new"] {
            let directory = path.join(directory);
            let entries = match std::fs::read_dir(&directory) {
                Ok(entries) => entries,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(SourceError::Read {
                        path: directory,
                        source,
                    })
                }
            };
            any_directory = true;
            for entry in entries {
                let entry = entry.map_err(|source| SourceError::Read {
                    path: directory.clone(),
                    source,
                })?;
                let file_name = entry.file_name();
                let Some(file_name) = file_name.to_str() else {
                    diagnostics.push(SourceDiagnostic {
                        location: format!("{key} {}", entry.path().display()),
                        message: "file name is not UTF-8; skipped".to_owned(),
                    });
                    continue;
                };
                if file_name.starts_with('.') {
                    continue;
                }
                let unique = unique_name(file_name).to_owned();
                if !seen.contains(&unique) {
                    found.insert((unique, entry.path()));
                }
            }
        }
        if !any_directory {
            return Err(SourceError::UnknownKind {
                path: path.to_owned(),
            });
        }
        Ok(Self {
            key,
            root: path.to_owned(),
            pending: found.into_iter().collect(),
            seen,
            diagnostics,
        })
    }

    /// Reads a message that may have moved between `new/` and `cur/` (or
    /// changed flags) since the directory was listed.
    fn read(&self, unique: &str, listed: &Path) -> std::io::Result<Option<Vec<u8>>> {
        match std::fs::read(listed) {
            Ok(bytes) => return Ok(Some(bytes)),
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            Err(_) => {}
        }
        for directory in ["cur", "new"] {
            let Ok(entries) = std::fs::read_dir(self.root.join(directory)) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_name().to_str().map(unique_name) == Some(unique) {
                    return std::fs::read(entry.path()).map(Some);
                }
            }
        }
        Ok(None)
    }
}

/// The part of a maildir file name before the info separator `:`.
pub fn unique_name(file_name: &str) -> &str {
    file_name
        .split_once(':')
        .map_or(file_name, |(unique, _)| unique)
}

#[async_trait]
impl MessageSource for MaildirSource {
    fn key(&self) -> &str {
        &self.key
    }

    async fn next_message(&mut self) -> Result<Option<SourceMessage>, SourceError> {
        while let Some((unique, listed)) = self.pending.pop_front() {
            let location = listed
                .strip_prefix(&self.root)
                .unwrap_or(&listed)
                .display()
                .to_string();
            match self.read(&unique, &listed) {
                Ok(Some(bytes)) => {
                    self.seen.insert(unique);
                    return Ok(Some(SourceMessage { bytes, location }));
                }
                Ok(None) => self.diagnostics.push(SourceDiagnostic {
                    location: format!("{} {location}", self.key),
                    message: "message vanished before it could be read; it will be looked for again next run".to_owned(),
                }),
                Err(source) => return Err(SourceError::Read { path: listed, source }),
            }
        }
        Ok(None)
    }

    fn cursor(&self) -> String {
        self.seen.to_cursor()
    }

    fn take_diagnostics(&mut self) -> Vec<SourceDiagnostic> {
        std::mem::take(&mut self.diagnostics)
    }
}

#[cfg(test)]
#[path = "maildir_tests.rs"]
mod tests;
