//! public-inbox v2 archives as a [`MessageSource`]: one epoch repository
//! (`git/N.git`, one commit per message, the message in blob `m`) or a whole
//! inbox directory whose `git/*.git` epochs are read in number order.
//!
//! Commits are walked oldest first. The cursor is the id of the last commit
//! handed out (`EPOCH:COMMIT` for a whole inbox). Commits without `m`
//! (public-inbox records a removal as a commit holding `d`) are skipped with
//! a diagnostic. This module must never write to the repositories.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use git2::{Oid, Repository, Sort};

use crate::error::SourceError;
use crate::source::{MessageSource, SourceDiagnostic, SourceMessage};

struct Epoch {
    /// The epoch number for a whole inbox, `None` for a lone repository.
    number: Option<u64>,
    path: PathBuf,
    repository: Repository,
}

pub struct PublicInboxSource {
    key: String,
    epochs: Vec<Epoch>,
    pending: VecDeque<(usize, Oid)>,
    last: Option<(usize, Oid)>,
    start_cursor: Option<String>,
    diagnostics: Vec<SourceDiagnostic>,
}

impl PublicInboxSource {
    pub fn open(key: String, path: &Path, cursor: Option<&str>) -> Result<Self, SourceError> {
        let git_error = |path: &Path| {
            let path = path.to_owned();
            move |source| SourceError::Git { path, source }
        };
        let mut epochs = Vec::new();
        if path.join("git").is_dir() && !path.join("objects").is_dir() {
            for (number, epoch_path) in list_epochs(&path.join("git"))? {
                let repository =
                    Repository::open_bare(&epoch_path).map_err(git_error(&epoch_path))?;
                epochs.push(Epoch {
                    number: Some(number),
                    path: epoch_path,
                    repository,
                });
            }
        } else {
            let repository = Repository::open_bare(path)
                .or_else(|_| Repository::open(path))
                .map_err(git_error(path))?;
            epochs.push(Epoch {
                number: None,
                path: path.to_owned(),
                repository,
            });
        }
        let mut source = Self {
            key,
            epochs,
            pending: VecDeque::new(),
            last: None,
            start_cursor: cursor.map(str::to_owned),
            diagnostics: Vec::new(),
        };
        let resume = cursor.and_then(|cursor| source.parse_cursor(cursor));
        for index in 0..source.epochs.len() {
            if resume.is_some_and(|(resume_epoch, _)| index < resume_epoch) {
                continue;
            }
            let hide = resume
                .filter(|(resume_epoch, _)| *resume_epoch == index)
                .map(|(_, oid)| oid);
            let epoch = &source.epochs[index];
            let commits = walk(&epoch.repository, hide).map_err(git_error(&epoch.path))?;
            source
                .pending
                .extend(commits.into_iter().map(|oid| (index, oid)));
        }
        Ok(source)
    }

    /// The epoch index and commit of a saved cursor, or `None` (with a
    /// diagnostic) when it does not name a commit of this archive.
    fn parse_cursor(&mut self, cursor: &str) -> Option<(usize, Oid)> {
        let parsed = match cursor.split_once(':') {
            Some((number, commit)) => number.parse::<u64>().ok().and_then(|number| {
                let index = self
                    .epochs
                    .iter()
                    .position(|epoch| epoch.number == Some(number))?;
                Some((index, commit))
            }),
            None if self.epochs.len() == 1 && self.epochs[0].number.is_none() => Some((0, cursor)),
            None => None,
        };
        let found = parsed.and_then(|(index, commit)| {
            let oid = Oid::from_str(commit).ok()?;
            self.epochs[index].repository.find_commit(oid).ok()?;
            Some((index, oid))
        });
        if found.is_none() {
            self.diagnostics.push(SourceDiagnostic {
                location: self.key.clone(),
                message: format!(
                    "saved position {cursor:?} is not a commit of this archive (re-cloned or rewritten?); \
                     reading every message again"
                ),
            });
        }
        found
    }

    fn message(&self, index: usize, oid: Oid) -> Result<Option<Vec<u8>>, git2::Error> {
        let repository = &self.epochs[index].repository;
        let tree = repository.find_commit(oid)?.tree()?;
        let Some(entry) = tree.get_name("m") else {
            return Ok(None);
        };
        Ok(Some(repository.find_blob(entry.id())?.content().to_vec()))
    }
}

/// `git/N.git` directories of an inbox, by number.
fn list_epochs(git_dir: &Path) -> Result<Vec<(u64, PathBuf)>, SourceError> {
    let entries = std::fs::read_dir(git_dir).map_err(|source| SourceError::Read {
        path: git_dir.to_owned(),
        source,
    })?;
    let mut epochs: Vec<(u64, PathBuf)> = entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let number = name.to_str()?.strip_suffix(".git")?.parse().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    epochs.sort();
    Ok(epochs)
}

/// Commits reachable from HEAD (or `master`), oldest first, leaving out
/// `hide` and its ancestors.
fn walk(repository: &Repository, hide: Option<Oid>) -> Result<Vec<Oid>, git2::Error> {
    let head = match repository.head() {
        Ok(head) => head.peel_to_commit()?.id(),
        Err(_) => repository
            .find_reference("refs/heads/master")?
            .peel_to_commit()?
            .id(),
    };
    let mut revwalk = repository.revwalk()?;
    revwalk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)?;
    revwalk.push(head)?;
    if let Some(hide) = hide {
        revwalk.hide(hide)?;
    }
    revwalk.collect()
}

#[async_trait]
impl MessageSource for PublicInboxSource {
    fn key(&self) -> &str {
        &self.key
    }

    async fn next_message(&mut self) -> Result<Option<SourceMessage>, SourceError> {
        while let Some((index, oid)) = self.pending.pop_front() {
            let epoch = &self.epochs[index];
            let location = match epoch.number {
                Some(number) => format!("epoch {number} commit {oid}"),
                None => format!("commit {oid}"),
            };
            let message = self
                .message(index, oid)
                .map_err(|source| SourceError::Git {
                    path: epoch.path.clone(),
                    source,
                })?;
            self.last = Some((index, oid));
            match message {
                Some(bytes) => return Ok(Some(SourceMessage { bytes, location })),
                None => self.diagnostics.push(SourceDiagnostic {
                    location: format!("{} {location}", self.key),
                    message: "commit holds no message blob `m` (a removal); skipped".to_owned(),
                }),
            }
        }
        Ok(None)
    }

    fn cursor(&self) -> String {
        match self.last {
            Some((index, oid)) => match self.epochs[index].number {
                Some(number) => format!("{number}:{oid}"),
                None => oid.to_string(),
            },
            None => self.start_cursor.clone().unwrap_or_default(),
        }
    }

    fn take_diagnostics(&mut self) -> Vec<SourceDiagnostic> {
        std::mem::take(&mut self.diagnostics)
    }
}

#[cfg(test)]
#[path = "public_inbox_tests.rs"]
mod tests;
