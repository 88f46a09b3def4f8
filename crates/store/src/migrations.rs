//! Schema migrations, embedded at build time from `migrations/{sqlite,postgres}`.
//!
//! Files are named `<timestamp>_<description>.sql` and applied in order by
//! sqlx's migrator, which records them in `_sqlx_migrations`. This module
//! must never edit an applied migration: changes are new files, written
//! expand-then-contract, in both directories with the same timestamp.

use std::borrow::Cow;

use sqlx::migrate::{Migration, MigrationType, Migrator};

use crate::error::QueryContext;
use crate::{on_pool, BackendKind, Store, StoreError};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_migrations.rs"));
}

/// The embedded migration files of `backend`: (file name, SQL).
pub fn embedded_files(backend: BackendKind) -> &'static [(&'static str, &'static str)] {
    match backend {
        BackendKind::Sqlite => embedded::SQLITE,
        BackendKind::Postgres => embedded::POSTGRES,
    }
}

fn migrator(backend: BackendKind) -> Migrator {
    let migrations: Vec<Migration> = embedded_files(backend)
        .iter()
        .map(|(file, sql)| {
            let stem = file.trim_end_matches(".sql");
            let (version, description) = stem.split_once('_').unwrap_or((stem, ""));
            // build.rs only embeds files named like migrations; a bad name is
            // a build-time mistake caught by the tests.
            let version: i64 = version.parse().unwrap_or(0);
            Migration::new(
                version,
                Cow::Owned(description.replace('_', " ")),
                MigrationType::Simple,
                Cow::Borrowed(*sql),
                false,
            )
        })
        .collect();
    Migrator {
        migrations: Cow::Owned(migrations),
        ..Migrator::DEFAULT
    }
}

/// Whether one migration has been applied.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MigrationState {
    /// Recorded in the database.
    Applied,
    /// Embedded in this binary but not applied yet.
    Pending,
    /// Recorded in the database but unknown to this binary (a newer binary ran).
    Unknown,
}

/// One row of `sashiko db status`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MigrationStatus {
    /// The timestamp version.
    pub version: i64,
    /// The description from the file name.
    pub description: String,
    /// Applied, pending or unknown.
    pub state: MigrationState,
}

impl Store {
    /// Applies every embedded migration not yet applied, then redacts
    /// failure reasons older versions stored with secrets in them (once).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let backend = self.backend();
        let migrator = migrator(backend);
        on_pool!(self, pool => migrator.run(pool).await).map_err(|source| StoreError::Migrate {
            backend: backend.name(),
            source,
        })?;
        self.redact_stored_errors().await?;
        Ok(())
    }

    /// Lists the embedded migrations and whether each is applied, plus any
    /// applied migration this binary does not know.
    pub async fn migration_status(&self) -> Result<Vec<MigrationStatus>, StoreError> {
        let backend = self.backend();
        let exists_sql = match backend {
            BackendKind::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            BackendKind::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_name = '_sqlx_migrations'"
            }
        };
        let exists: i64 =
            on_pool!(self, pool => sqlx::query_scalar(exists_sql).fetch_one(pool).await)
                .context(|| "looking for the migrations table".to_string())?;
        let applied: Vec<(i64, String)> = if exists > 0 {
            let sql =
                "SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version";
            on_pool!(self, pool => sqlx::query_as(sql).fetch_all(pool).await)
                .context(|| "reading applied migrations".to_string())?
        } else {
            Vec::new()
        };
        let mut rows: Vec<MigrationStatus> = migrator(backend)
            .iter()
            .map(|migration| MigrationStatus {
                version: migration.version,
                description: migration.description.to_string(),
                state: if applied
                    .iter()
                    .any(|(version, _)| *version == migration.version)
                {
                    MigrationState::Applied
                } else {
                    MigrationState::Pending
                },
            })
            .collect();
        for (version, description) in applied {
            if !rows.iter().any(|row| row.version == version) {
                rows.push(MigrationStatus {
                    version,
                    description,
                    state: MigrationState::Unknown,
                });
            }
        }
        rows.sort_by_key(|row| row.version);
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_backends_embed_the_same_migration_names() {
        let names = |backend| -> Vec<&str> {
            embedded_files(backend)
                .iter()
                .map(|(name, _)| *name)
                .collect()
        };
        let sqlite = names(BackendKind::Sqlite);
        assert!(!sqlite.is_empty(), "no SQLite migrations embedded");
        assert_eq!(sqlite, names(BackendKind::Postgres));
        for name in sqlite {
            let stem = name.trim_end_matches(".sql");
            let (version, description) =
                stem.split_once('_').expect("name has VERSION_DESCRIPTION");
            assert_eq!(
                version.len(),
                14,
                "{name}: version is a YYYYMMDDHHMMSS timestamp"
            );
            assert!(version.parse::<i64>().is_ok(), "{name}: version is numeric");
            assert!(!description.is_empty(), "{name}: has a description");
        }
    }
}
