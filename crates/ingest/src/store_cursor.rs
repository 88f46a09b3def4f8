//! Cursors kept in the sashiko database (`ingest_cursors`), next to the
//! messages they cover, so one backup or one PostgreSQL server holds both.
//!
//! This module must never interpret cursor strings.

use async_trait::async_trait;
use sashiko_store::Store;

use crate::cursor::{CursorStore, CursorStoreError};

/// A [`CursorStore`] over [`Store::get_cursor`] and [`Store::set_cursor`].
#[derive(Clone, Debug)]
pub struct StoreCursorStore {
    store: Store,
}

impl StoreCursorStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

#[async_trait]
impl CursorStore for StoreCursorStore {
    async fn get(&self, source_key: &str) -> Result<Option<String>, CursorStoreError> {
        self.store
            .get_cursor(source_key)
            .await
            .map_err(|source| CursorStoreError::Backend {
                source_key: source_key.to_owned(),
                source: Box::new(source),
            })
    }

    async fn set(&self, source_key: &str, cursor: &str) -> Result<(), CursorStoreError> {
        self.store
            .set_cursor(source_key, cursor)
            .await
            .map_err(|source| CursorStoreError::Backend {
                source_key: source_key.to_owned(),
                source: Box::new(source),
            })
    }
}
