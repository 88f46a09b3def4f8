//! `sashiko serve`: the web view, JSON API, feeds and metrics in one
//! process, bound to 127.0.0.1:8080 unless `--listen` says otherwise, with
//! graceful shutdown on SIGINT/SIGTERM (requests in flight finish, then the
//! database pool is closed). Background work started here: recovery of
//! expired job leases (jobs of a worker that died are handed back); with
//! `--ingest SOURCE...`, the ingest loop (`sashiko_pipeline::ingest_queue`)
//! that reads the sources every `--ingest-every` seconds and queues reviews
//! of new complete series; with `--workers N`, the review worker loop of
//! `sashiko worker` (`sashiko_pipeline::worker`). This command must never listen on a public address
//! unless asked to.

use crate::term::errln;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use std::sync::Arc;

use anyhow::Context;
use sashiko_pipeline::ingest_queue::{self, IngestLoopConfig};
use sashiko_pipeline::worker::run_review_worker;
use sashiko_review::{ReviewOptions, ReviewSettings};
use sashiko_store::{default_worker_id, Store, WorkerConfig};
use sashiko_web::{AppState, WebConfig};
use tokio::sync::watch;

use crate::commands::db::{open_store_with, DbUrlArgs};
use crate::review_setup::{cassette_mode, review_service};
use crate::settings::{FlagSettings, Settings};

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub db: DbUrlArgs,
    /// Create a SQLite database whose directory does not exist yet
    /// (otherwise refused: a mistyped path would serve an empty site).
    #[arg(long)]
    pub create_db: bool,
    /// MAINTAINERS file whose entries (maintainers, lists) are shown on
    /// subsystem pages.
    #[arg(long, value_name = "PATH")]
    pub maintainers: Option<PathBuf>,
    /// Require logging in to read pages and the API.
    #[arg(long)]
    pub private: bool,
    /// Send cookies without the Secure attribute (only for plain HTTP on a
    /// host other than localhost, e.g. a test VM).
    #[arg(long)]
    pub insecure_cookies: bool,
    /// Public base URL for absolute links in feeds.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// Base of links to mail threads.
    #[arg(long, value_name = "URL", default_value = "https://lore.kernel.org/r/")]
    pub lore_base: String,
    /// How long anonymous GET answers of the bug pages and API may be
    /// reused, in milliseconds (0 turns the cache off); a triage in this
    /// process drops the cache at once.
    #[arg(long, default_value_t = 1000)]
    pub cache_ttl_ms: u64,
    /// The most memory the response cache holds, in MiB (the oldest
    /// answers are dropped first).
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub cache_max_mib: usize,
    /// Seconds a client has to send a request's headers before its
    /// connection is closed.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    pub header_timeout_secs: u64,
    /// Header the reverse proxy puts the client's address in (e.g.
    /// X-Forwarded-For, whose last entry is read, or X-Real-IP); believed
    /// only from --trusted-proxy peers. Without it every client behind a
    /// proxy shares the proxy's address for the login throttle.
    #[arg(long, value_name = "HEADER")]
    pub client_address_header: Option<String>,
    /// Address of a reverse proxy whose --client-address-header is
    /// believed; repeatable (default 127.0.0.1 and ::1).
    #[arg(long = "trusted-proxy", value_name = "ADDRESS")]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Failed logins per account and per client before password attempts
    /// have to wait (1 s, doubling, up to --login-max-delay-secs).
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub login_free_failures: u32,
    /// The longest wait between password attempts; the right password is
    /// never refused for longer.
    #[arg(long, default_value_t = 15, value_name = "SECS")]
    pub login_max_delay_secs: u64,
    /// Review workers to run inside this process (the same loop as
    /// `sashiko worker --concurrency N`, with its default settings); 0 runs
    /// none (run `sashiko worker` processes instead).
    #[arg(long, default_value_t = 0)]
    pub workers: usize,
    /// How often to hand back leases of jobs whose worker stopped
    /// heartbeating, in seconds (0 turns it off).
    #[arg(long, default_value_t = 30)]
    pub lease_recovery_secs: u64,
    /// Mail source to follow, as `sashiko ingest` takes it (`mbox:PATH`,
    /// `maildir:PATH`, `public-inbox:GITDIR`, `nntp://HOST/GROUP`);
    /// repeatable. New complete series are queued for review.
    #[arg(long = "ingest", value_name = "SOURCE")]
    pub ingest: Vec<String>,
    /// Seconds between ingest passes.
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub ingest_every: u64,
    /// List name stored with every ingested message (default: its List-Id).
    #[arg(long, value_name = "NAME")]
    pub ingest_list: Option<String>,
    /// On a database serve never ingested into, also queue reviews of the
    /// series already stored (by default only new ones are reviewed).
    #[arg(long)]
    pub review_existing: bool,
    /// Offer login by mail: the From mailbox of login mails (e.g.
    /// "Sashiko <sashiko@example.org>"); needs --public-url, which the
    /// links point to. Accounts need an address (`sashiko user add --email`).
    #[arg(long, value_name = "MAILBOX", requires = "public_url")]
    pub mail_login_from: Option<String>,
    /// SMTP settings (TOML: host, port, security, username, password,
    /// envelope_from) for sending the outbox from this process (login
    /// links; list replies too if `sashiko bot` does not send them). Without
    /// it mail waits in the outbox for `sashiko bot`.
    #[arg(long, value_name = "FILE")]
    pub smtp: Option<PathBuf>,
    /// Database connections of this process (web requests, workers and
    /// ingest share them).
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub db_connections: u32,
}

/// Starts the work that runs next to the web server and returns its
/// tasks: lease recovery, the ingest loop and the review workers, each
/// stopping when `stop` turns true.
fn spawn_background_work(
    store: &Store,
    args: &ServeArgs,
    stop: &watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    if args.lease_recovery_secs > 0 {
        let store = store.clone();
        let mut stop = stop.clone();
        let period = Duration::from_secs(args.lease_recovery_secs);
        tasks.push(tokio::spawn(async move {
            loop {
                match store.recover_expired_leases().await {
                    Ok(0) => {}
                    Ok(recovered) => tracing::info!("handed back {recovered} expired job leases"),
                    Err(error) => tracing::warn!("recovering expired job leases: {error}"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(period) => {}
                    _ = stop.changed() => break,
                }
            }
        }));
    }
    if !args.ingest.is_empty() {
        let config = IngestLoopConfig {
            sources: args.ingest.clone(),
            interval: Duration::from_secs(args.ingest_every.max(1)),
            list: args.ingest_list.clone(),
            review_existing: args.review_existing,
            priority: 0,
            max_attempts: 5,
        };
        tasks.push(tokio::spawn(ingest_queue::run(
            store.clone(),
            config,
            stop.clone(),
        )));
    }
    if args.workers > 0 {
        match review_workers(store, args, stop) {
            Ok(task) => tasks.push(task),
            Err(error) => {
                tracing::error!("the review workers inside serve cannot start: {error:#}")
            }
        }
    }
    tasks
}

/// The review worker loop of `sashiko worker --concurrency N` with its
/// default settings and the configuration's `[review]`, on this process's
/// database pool, stopping after the jobs in hand when `stop` turns true.
fn review_workers(
    store: &Store,
    args: &ServeArgs,
    stop: &watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let settings = Settings::load(&FlagSettings {
        db: args.db.db.clone(),
        ..FlagSettings::default()
    })?;
    let options = ReviewOptions {
        settings: ReviewSettings {
            max_attempts: 2,
            max_output_tokens: settings.llm.max_output_tokens.unwrap_or(4096),
            deterministic_secrets: cassette_mode(),
            ..ReviewSettings::default()
        },
        ..ReviewOptions::default()
    };
    let service = review_service(&settings, store.clone(), options)?;
    let mut config = WorkerConfig::new(default_worker_id());
    config.concurrency = args.workers;
    config.queue.lease = Duration::from_secs(120);
    config.heartbeat_interval = config.queue.lease / 4;
    config.queue.retry_base = Duration::from_secs(30);
    let mut stop = stop.clone();
    let shutdown = async move {
        while !*stop.borrow() {
            if stop.changed().await.is_err() {
                break;
            }
        }
    };
    Ok(tokio::spawn(async move {
        match run_review_worker(Arc::new(service), config, shutdown).await {
            Ok(report) => tracing::info!(
                "review workers: {} completed, {} failed attempts, {} dead, {} abandoned",
                report.completed,
                report.failed,
                report.dead,
                report.lost
            ),
            Err(error) => tracing::error!("the review workers inside serve stopped: {error}"),
        }
    }))
}

/// Sends the outbox over SMTP every few seconds until `stop`.
fn spawn_outbox_sender(
    store: &Store,
    sender: sashiko_report::smtp::SmtpSender,
    stop: &watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let store = store.clone();
    let mut stop = stop.clone();
    tokio::spawn(async move {
        let options = sashiko_report::smtp::DrainOptions::default();
        while !*stop.borrow() {
            match sashiko_report::smtp::drain_outbox(&store, &sender, &options).await {
                Ok(report) if report.sent + report.retried + report.dead > 0 => tracing::info!(
                    "outbox: sent {}, retried {}, dead {}",
                    report.sent,
                    report.retried,
                    report.dead
                ),
                Ok(_) => {}
                Err(error) => tracing::warn!("sending the outbox: {error}"),
            }
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                _ = stop.changed() => {}
            }
        }
    })
}

fn smtp_sender(path: &std::path::Path) -> anyhow::Result<sashiko_report::smtp::SmtpSender> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the SMTP settings {}", path.display()))?;
    let config: sashiko_report::smtp::SmtpConfig = toml::from_str(&text)
        .with_context(|| format!("parsing the SMTP settings {}", path.display()))?;
    sashiko_report::smtp::SmtpSender::new(&config)
        .with_context(|| format!("setting up SMTP from {}", path.display()))
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!("installing the SIGTERM handler: {error}");
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// Refuses a SQLite database in a directory that does not exist: a
/// mistyped `--db` must not quietly become a new, empty site.
fn refuse_missing_database_dir(url: &str) -> anyhow::Result<()> {
    let Some(file) = crate::commands::db::sqlite_file(url) else {
        return Ok(());
    };
    let Some(dir) = file.parent().filter(|dir| !dir.as_os_str().is_empty()) else {
        return Ok(());
    };
    if dir.is_dir() {
        return Ok(());
    }
    let shown = sashiko_store::redact_url(url);
    anyhow::bail!(
        "the database directory {} of {shown} does not exist; create the database with `sashiko db migrate --db {shown}` or pass --create-db",
        dir.display()
    )
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (_, bad_sources) = ingest_queue::parse_sources(&args.ingest);
    if let Some(error) = bad_sources.first() {
        anyhow::bail!("{error}");
    }
    let options = sashiko_store::ConnectOptions {
        max_connections: args.db_connections.max(1),
        ..sashiko_store::ConnectOptions::default()
    };
    if !args.create_db {
        refuse_missing_database_dir(&args.db.resolve()?)?;
    }
    let store = open_store_with(&args.db, &options).await?;
    let config = WebConfig {
        public_read: !args.private,
        secure_cookies: !args.insecure_cookies,
        maintainers_file: args.maintainers.clone(),
        public_url: args.public_url.clone(),
        lore_base: args.lore_base.clone(),
        cache_ttl_ms: args.cache_ttl_ms,
        cache_max_bytes: args.cache_max_mib.saturating_mul(1 << 20),
        header_read_timeout_secs: args.header_timeout_secs,
        client_address_header: args.client_address_header.clone(),
        trusted_proxies: if args.trusted_proxies.is_empty() {
            WebConfig::default().trusted_proxies
        } else {
            args.trusted_proxies.clone()
        },
        login_free_failures: args.login_free_failures,
        login_max_delay_secs: args.login_max_delay_secs,
        mail_login: args
            .mail_login_from
            .as_ref()
            .map(|from| sashiko_web::MailLoginConfig {
                from: from.clone(),
                base_url: args.public_url.clone().unwrap_or_default(),
                token_minutes: 15,
                max_mails: 3,
            }),
        ..WebConfig::default()
    };
    let sender = args.smtp.as_deref().map(smtp_sender).transpose()?;
    let state = AppState::new(store.clone(), config).context("setting up the web view")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let address = listener
        .local_addr()
        .context("reading the listening address")?;
    errln!("sashiko: serving http://{address}/");
    let (stop_sender, stop) = watch::channel(false);
    let mut tasks = spawn_background_work(&store, &args, &stop);
    if let Some(sender) = sender {
        tasks.push(spawn_outbox_sender(&store, sender, &stop));
    }
    sashiko_web::serve(listener, state, async move {
        shutdown_signal().await;
        errln!("sashiko: shutting down; finishing requests in flight");
        let _ = stop_sender.send(true);
    })
    .await
    .context("serving HTTP")?;
    for mut task in tasks {
        // Workers stop after the jobs in hand; past a grace period they are
        // stopped here and their leases expire and are handed back by lease
        // recovery (here or in any other process).
        if tokio::time::timeout(Duration::from_secs(30), &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
