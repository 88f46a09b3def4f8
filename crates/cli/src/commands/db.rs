//! `sashiko db migrate|status|rejects`: create or upgrade the database
//! schema, show which migrations are applied, list the messages the
//! database refused at ingest (with the reason).
//!
//! Also home of [`open_store`], which the other store-backed subcommands
//! (jobs, bugs, enqueue, worker) use to resolve `--db` / `SASHIKO_DB` /
//! the configuration file / the XDG default the same way `review` does.
//! This module must never drop or rewrite data; the one write `db status`
//! makes is the queue's own recovery (expired job leases handed back,
//! reviews without a live runner marked interrupted).

use crate::term::{jsonln, outln};
use std::process::ExitCode;

use anyhow::Context;
use sashiko_store::{redact_url, MigrationState, Store, Table};

use crate::commands::review::OutputFormat;
use crate::settings::{FlagSettings, Settings};

#[derive(clap::Args, Debug)]
pub struct DbArgs {
    #[command(subcommand)]
    pub action: DbAction,
}

#[derive(clap::Subcommand, Debug)]
pub enum DbAction {
    /// Apply every migration not yet applied, creating the database (and,
    /// for SQLite, its directory) when it does not exist.
    Migrate(DbUrlArgs),
    /// Show the backend, the migrations and their state, row counts and
    /// reviews by status. Cleans up on the way: jobs whose lease expired
    /// are handed back and reviews whose runner is gone (no heartbeat
    /// within their lease, or their job attempt lost the job) are marked
    /// interrupted.
    Status {
        #[command(flatten)]
        db: DbUrlArgs,
        /// Output: text for people, or json (one document on standard output).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// List the messages ingest recorded as refused by the database (NUL
    /// where the backend cannot keep it, a Message-ID too long to index,
    /// ...), newest first, with where they came from and why.
    Rejects {
        #[command(flatten)]
        db: DbUrlArgs,
        /// Show at most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Output: text for people, or json (one document on standard output).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
}

/// `--db URL`, shared by every store-backed subcommand.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DbUrlArgs {
    /// Database URL: `sqlite:PATH` or `postgres://USER@HOST/DB` (default:
    /// $SASHIKO_DB, the configuration file, then
    /// sqlite:$XDG_DATA_HOME/sashiko/sashiko.db).
    #[arg(long)]
    pub db: Option<String>,
}

impl DbUrlArgs {
    /// The URL in force.
    pub fn resolve(&self) -> anyhow::Result<String> {
        let settings = Settings::load(&FlagSettings {
            db: self.db.clone(),
            ..FlagSettings::default()
        })?;
        Ok(settings.db)
    }
}

/// The file a `sqlite:` URL names; `None` for other backends and for
/// in-memory databases.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    let in_memory = path.is_empty() || path == ":memory:" || url.contains("mode=memory");
    (!in_memory).then(|| std::path::PathBuf::from(path))
}

/// Connects to the database in force and applies pending migrations.
pub async fn open_store(db: &DbUrlArgs) -> anyhow::Result<Store> {
    open_store_with(db, &sashiko_store::ConnectOptions::default()).await
}

/// [`open_store`] with explicit pool settings.
pub async fn open_store_with(
    db: &DbUrlArgs,
    options: &sashiko_store::ConnectOptions,
) -> anyhow::Result<Store> {
    let url = db.resolve()?;
    let store = Store::connect_with(&url, options)
        .await
        .with_context(|| format!("opening the database {}", redact_url(&url)))?;
    store
        .migrate()
        .await
        .with_context(|| format!("migrating the database {}", redact_url(&url)))?;
    Ok(store)
}

pub async fn run(args: DbArgs) -> anyhow::Result<ExitCode> {
    match args.action {
        DbAction::Migrate(db) => {
            let url = db.resolve()?;
            let store = Store::connect(&url)
                .await
                .with_context(|| format!("opening the database {}", redact_url(&url)))?;
            let before = pending(&store).await?;
            store
                .migrate()
                .await
                .with_context(|| format!("migrating the database {}", redact_url(&url)))?;
            let latest = store
                .migration_status()
                .await?
                .last()
                .map(|row| row.version);
            outln!(
                "{}: applied {before} migration(s); schema version {}",
                redact_url(&url),
                latest.map_or_else(|| "none".to_string(), |version| version.to_string())
            );
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        DbAction::Status { db, format } => status(&db, format).await,
        DbAction::Rejects { db, limit, format } => rejects(&db, limit, format).await,
    }
}

async fn rejects(db: &DbUrlArgs, limit: i64, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let store = open_store(db).await?;
    let rejects = store.ingest_rejects(limit.max(0)).await?;
    store.close().await;
    match format {
        OutputFormat::Json => jsonln!("{}", serde_json::to_string_pretty(&rejects)?),
        OutputFormat::Text => {
            if rejects.is_empty() {
                outln!("no refused messages");
            }
            for reject in &rejects {
                let id = reject.message_id.as_deref().unwrap_or("?");
                let id: String = if id.chars().count() > 80 {
                    format!(
                        "{}... ({} chars)",
                        id.chars().take(60).collect::<String>(),
                        id.chars().count()
                    )
                } else {
                    id.to_owned()
                };
                outln!(
                    "{} {} {} <{id}> {} bytes\n  {}",
                    reject.id,
                    reject.source,
                    reject.location,
                    reject.size,
                    reject.reason.chars().take(300).collect::<String>()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn pending(store: &Store) -> anyhow::Result<usize> {
    let rows = store.migration_status().await?;
    Ok(rows
        .iter()
        .filter(|row| row.state == MigrationState::Pending)
        .count())
}

const COUNTED: [Table; 9] = [
    Table::Messages,
    Table::SeriesVersions,
    Table::Patches,
    Table::Reviews,
    Table::Findings,
    Table::Bugs,
    Table::Jobs,
    Table::Outbox,
    Table::IngestRejects,
];

async fn status(db: &DbUrlArgs, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let url = db.resolve()?;
    let store = Store::connect(&url)
        .await
        .with_context(|| format!("opening the database {}", redact_url(&url)))?;
    let migrations = store.migration_status().await?;
    let migrated = migrations
        .iter()
        .all(|row| row.state != MigrationState::Pending);
    let mut counts = Vec::new();
    let mut recovered = sashiko_store::Recovered::default();
    let mut reviews = sashiko_store::ReviewCounts::default();
    if migrated {
        recovered = store.recover().await?;
        for table in COUNTED {
            counts.push((table.name(), store.count(table).await?));
        }
        reviews = store.review_counts().await?;
    }
    match format {
        OutputFormat::Json => {
            let document = serde_json::json!({
                "url": redact_url(&url),
                "backend": store.backend().name(),
                "migrations": migrations,
                "up_to_date": migrated,
                "rows": counts.iter().map(|(name, count)| (name.to_string(), serde_json::Value::from(*count))).collect::<serde_json::Map<_, _>>(),
                "reviews": reviews.by_status.iter().map(|(status, count)| (status.clone(), serde_json::Value::from(*count))).collect::<serde_json::Map<_, _>>(),
                "recovered": recovered,
            });
            jsonln!("{}", serde_json::to_string_pretty(&document)?);
        }
        OutputFormat::Text => {
            outln!(
                "database: {} ({})",
                redact_url(&url),
                store.backend().name()
            );
            for row in &migrations {
                let state = match row.state {
                    MigrationState::Applied => "applied",
                    MigrationState::Pending => "PENDING",
                    MigrationState::Unknown => "UNKNOWN (applied by a newer sashiko)",
                };
                outln!("  {} {:<24} {state}", row.version, row.description);
            }
            if migrated {
                let rows: Vec<String> = counts
                    .iter()
                    .map(|(name, count)| format!("{name} {count}"))
                    .collect();
                outln!("rows: {}", rows.join(", "));
                let by_status: Vec<String> = reviews
                    .by_status
                    .iter()
                    .map(|(status, count)| format!("{status} {count}"))
                    .collect();
                if !by_status.is_empty() {
                    outln!("reviews: {}", by_status.join(", "));
                }
                if recovered != sashiko_store::Recovered::default() {
                    outln!(
                        "cleaned up: {} job(s) with expired leases handed back, {} completed from the review                          their worker had stored, {} review(s) without a live runner marked interrupted",
                        recovered.jobs, recovered.completed, recovered.reviews
                    );
                }
            } else {
                outln!("run `sashiko db migrate` to apply the pending migrations");
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::sqlite_file;
    use std::path::PathBuf;

    #[test]
    fn sqlite_files_of_urls() {
        let cases = [
            ("sqlite:/srv/x.db", Some("/srv/x.db")),
            ("sqlite:///srv/x.db", Some("/srv/x.db")),
            ("sqlite:rel/x.db?mode=rwc", Some("rel/x.db")),
            ("sqlite::memory:", None),
            ("sqlite:file:x?mode=memory", None),
            ("postgres://u@127.0.0.1/test", None),
        ];
        for (url, expected) in cases {
            assert_eq!(sqlite_file(url), expected.map(PathBuf::from), "{url}");
        }
    }
}
