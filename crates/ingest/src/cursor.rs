//! Where each source remembers how far it has read.
//!
//! A cursor is an opaque string owned by one source kind (an mbox byte
//! offset, the maildir file names seen, a git commit id, an NNTP article
//! number), stored under the source's key. Storing a message and then
//! advancing the cursor makes a re-run idempotent and lets a crashed run
//! resume: at worst the messages after the last saved cursor are read again
//! and deduplicated by Message-ID downstream.
//!
//! This module must never interpret cursor strings; only the source that
//! wrote one reads it back.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use async_trait::async_trait;

/// A failure to read or write a cursor.
#[derive(Debug, thiserror::Error)]
pub enum CursorStoreError {
    #[error("cannot read cursor file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cursor file {path} is not a JSON object of strings")]
    Corrupt {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write cursor file {path}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Errors of other implementations (a database, say).
    #[error("cursor store failed for source {source_key}")]
    Backend {
        source_key: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Gets and sets cursors by source key.
#[async_trait]
pub trait CursorStore: Send + Sync {
    /// The cursor saved for `source_key`, if any.
    async fn get(&self, source_key: &str) -> Result<Option<String>, CursorStoreError>;
    /// Saves `cursor` for `source_key`, replacing the previous one. When this
    /// returns, the cursor survives a crash of the process.
    async fn set(&self, source_key: &str, cursor: &str) -> Result<(), CursorStoreError>;
}

/// Cursors kept in memory only (tests, one-shot runs).
#[derive(Debug, Default)]
pub struct MemoryCursorStore {
    cursors: Mutex<BTreeMap<String, String>>,
}

impl MemoryCursorStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of every cursor, for inspection.
    pub fn snapshot(&self) -> BTreeMap<String, String> {
        lock(&self.cursors).clone()
    }
}

#[async_trait]
impl CursorStore for MemoryCursorStore {
    async fn get(&self, source_key: &str) -> Result<Option<String>, CursorStoreError> {
        Ok(lock(&self.cursors).get(source_key).cloned())
    }

    async fn set(&self, source_key: &str, cursor: &str) -> Result<(), CursorStoreError> {
        lock(&self.cursors).insert(source_key.to_owned(), cursor.to_owned());
        Ok(())
    }
}

/// Cursors in a JSON file (`{"source key": "cursor", ...}`), rewritten
/// atomically (temporary file, fsync, rename) on every `set`.
#[derive(Debug)]
pub struct JsonFileCursorStore {
    path: PathBuf,
    cursors: Mutex<BTreeMap<String, String>>,
}

impl JsonFileCursorStore {
    /// Opens `path`, which need not exist yet.
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, CursorStoreError> {
        let path = path.into();
        let cursors = match std::fs::read(&path) {
            Ok(bytes) => {
                serde_json::from_slice(&bytes).map_err(|source| CursorStoreError::Corrupt {
                    path: path.clone(),
                    source,
                })?
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(CursorStoreError::Read { path, source }),
        };
        Ok(Self {
            path,
            cursors: Mutex::new(cursors),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn write(&self, cursors: &BTreeMap<String, String>) -> Result<(), CursorStoreError> {
        let write_error = |source| CursorStoreError::Write {
            path: self.path.clone(),
            source,
        };
        let json = serde_json::to_vec_pretty(cursors).expect("a map of strings serializes");
        let mut temporary = self.path.clone().into_os_string();
        temporary.push(".tmp");
        let temporary = PathBuf::from(temporary);
        let mut file = std::fs::File::create(&temporary).map_err(write_error)?;
        file.write_all(&json).map_err(write_error)?;
        file.sync_all().map_err(write_error)?;
        std::fs::rename(&temporary, &self.path).map_err(write_error)
    }
}

#[async_trait]
impl CursorStore for JsonFileCursorStore {
    async fn get(&self, source_key: &str) -> Result<Option<String>, CursorStoreError> {
        Ok(lock(&self.cursors).get(source_key).cloned())
    }

    async fn set(&self, source_key: &str, cursor: &str) -> Result<(), CursorStoreError> {
        let mut cursors = lock(&self.cursors);
        let previous = cursors.insert(source_key.to_owned(), cursor.to_owned());
        if let Err(error) = self.write(&cursors) {
            match previous {
                Some(previous) => cursors.insert(source_key.to_owned(), previous),
                None => cursors.remove(source_key),
            };
            return Err(error);
        }
        Ok(())
    }
}

/// Locks a cursor map; a panic in another thread while holding the lock
/// leaves the map itself intact, so poisoning is ignored.
fn lock(
    map: &Mutex<BTreeMap<String, String>>,
) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
    map.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn exercise(store: &dyn CursorStore) {
        assert_eq!(store.get("mbox:/a").await.expect("get"), None);
        store.set("mbox:/a", "120").await.expect("set");
        store.set("nntp://h/g", "7").await.expect("set");
        store.set("mbox:/a", "240").await.expect("set");
        assert_eq!(
            store.get("mbox:/a").await.expect("get").as_deref(),
            Some("240")
        );
        assert_eq!(
            store.get("nntp://h/g").await.expect("get").as_deref(),
            Some("7")
        );
    }

    #[tokio::test]
    async fn memory_store_keeps_latest_cursor() {
        let store = MemoryCursorStore::new();
        exercise(&store).await;
        assert_eq!(store.snapshot().len(), 2);
    }

    #[tokio::test]
    async fn json_store_survives_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cursors.json");
        exercise(&JsonFileCursorStore::open(&path).expect("open")).await;
        let reopened = JsonFileCursorStore::open(&path).expect("reopen");
        assert_eq!(
            reopened.get("mbox:/a").await.expect("get").as_deref(),
            Some("240")
        );
        assert_eq!(
            reopened.get("nntp://h/g").await.expect("get").as_deref(),
            Some("7")
        );
    }

    #[test]
    fn json_store_names_corrupt_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cursors.json");
        std::fs::write(&path, b"[1, 2]").expect("write");
        let error = JsonFileCursorStore::open(&path).expect_err("corrupt");
        assert!(error.to_string().contains("cursors.json"), "{error}");
    }
}
