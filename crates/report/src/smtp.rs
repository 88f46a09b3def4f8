//! Delivering the outbox over SMTP (lettre): claim due mails, send each
//! as the exact bytes stored, mark it sent, or record the failure so the
//! store retries it with backoff or moves it to the dead letters.
//!
//! The sender never renders, changes or re-addresses a mail, and never
//! sends a mail it has not claimed: the outbox's claim (one attempt number
//! per claim) is what keeps two senders from delivering the same mail.
//! A 5xx answer is permanent (dead at once); timeouts, refused
//! connections and 4xx answers are retried.

use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sashiko_store::{OutgoingMail, QueueConfig, Store, StoreError};
use serde::{Deserialize, Serialize};

/// How the connection is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain SMTP (only sensible on loopback).
    None,
    /// STARTTLS required.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Tls,
}

/// Where and how to send.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// Server host name.
    pub host: String,
    /// Server port (25, 587 or 465).
    pub port: u16,
    /// Transport security.
    #[serde(default)]
    pub security: Security,
    /// Login, when the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `username`.
    #[serde(default, skip_serializing)]
    pub password: Option<String>,
    /// The envelope sender (MAIL FROM).
    pub envelope_from: String,
    /// An extra trusted root certificate (PEM), for a relay with a private CA.
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// Seconds to wait on the server before giving up on an attempt.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

fn default_timeout() -> u64 {
    30
}

/// Errors setting up or running the sender.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("setting up SMTP to {host}:{port}: {detail}")]
    Setup {
        host: String,
        port: u16,
        detail: String,
    },
    #[error("the envelope sender {0:?} is not an address")]
    EnvelopeFrom(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An SMTP client for one server.
pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Address,
    /// Whole-transaction limit: lettre's own timeout covers only the
    /// connect on tokio, so a server that stops answering mid-DATA would
    /// otherwise hold the sender for as long as the server likes.
    timeout: Duration,
}

/// What one pass over the outbox did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DrainReport {
    /// Accepted by the server.
    pub sent: u64,
    /// Failed and queued again.
    pub retried: u64,
    /// Failed for good.
    pub dead: u64,
    /// Errors seen, one line per failed attempt.
    pub errors: Vec<String>,
}

/// Whether a failure is worth retrying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// Human-readable reason.
    pub reason: String,
    /// True for answers that will not change (5xx, bad addresses).
    pub permanent: bool,
}

impl SmtpSender {
    /// A sender for `config`.
    pub fn new(config: &SmtpConfig) -> Result<SmtpSender, SendError> {
        let setup = |detail: String| SendError::Setup {
            host: config.host.clone(),
            port: config.port,
            detail,
        };
        let tls = || {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path).map_err(|error| {
                    setup(format!("reading the CA file {}: {error}", path.display()))
                })?;
                let certificate = Certificate::from_pem(&pem)
                    .map_err(|error| setup(format!("the CA file {}: {error}", path.display())))?;
                builder = builder.add_root_certificate(certificate);
            }
            builder
                .build_rustls()
                .map_err(|error| setup(error.to_string()))
        };
        let builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        let builder = match config.security {
            Security::None => builder.tls(Tls::None),
            Security::Starttls => builder.tls(Tls::Required(tls()?)),
            Security::Tls => builder.tls(Tls::Wrapper(tls()?)),
        };
        let builder = match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder.credentials(Credentials::new(user.clone(), password.clone()))
            }
            (Some(user), None) => {
                return Err(setup(format!(
                    "user {user:?} is configured without a password"
                )))
            }
            _ => builder,
        };
        let from: Address = config
            .envelope_from
            .parse()
            .map_err(|_| SendError::EnvelopeFrom(config.envelope_from.clone()))?;
        Ok(SmtpSender {
            transport: builder.build(),
            from,
            timeout: Duration::from_secs(config.timeout_secs.max(1)),
        })
    }

    /// Sends one mail's stored bytes to its recipients.
    pub async fn send(&self, mail: &OutgoingMail) -> Result<(), Failure> {
        let mut to = Vec::new();
        for recipient in &mail.recipients {
            let address: Address = recipient.parse().map_err(|_| Failure {
                reason: format!("recipient {recipient:?} is not an address"),
                permanent: true,
            })?;
            to.push(address);
        }
        let envelope = Envelope::new(Some(self.from.clone()), to).map_err(|error| Failure {
            reason: format!("building the envelope: {error}"),
            permanent: true,
        })?;
        match tokio::time::timeout(self.timeout, self.transport.send_raw(&envelope, &mail.body))
            .await
        {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(Failure {
                permanent: error.is_permanent(),
                reason: error_chain(&error),
            }),
            Err(_) => Err(Failure {
                permanent: false,
                reason: format!(
                    "the server did not finish the transaction within {:?}",
                    self.timeout
                ),
            }),
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Options for [`drain_outbox`].
#[derive(Clone, Debug)]
pub struct DrainOptions {
    /// Mails claimed per round.
    pub batch: u32,
    /// Backoff between attempts of one mail.
    pub retry: QueueConfig,
    /// Stop after this many rounds (each round claims up to `batch`).
    pub max_rounds: u32,
}

impl Default for DrainOptions {
    fn default() -> Self {
        DrainOptions {
            batch: 20,
            retry: QueueConfig {
                retry_base: Duration::from_secs(60),
                retry_max: Duration::from_secs(6 * 3600),
                ..QueueConfig::default()
            },
            max_rounds: 50,
        }
    }
}

/// Sends every due mail once: sent, requeued with backoff, or dead. A
/// server that is down fails the whole round's mails as retryable; none is
/// lost and none is marked sent without the server's 2xx.
pub async fn drain_outbox(
    store: &Store,
    sender: &SmtpSender,
    options: &DrainOptions,
) -> Result<DrainReport, SendError> {
    let mut report = DrainReport::default();
    for _ in 0..options.max_rounds.max(1) {
        let claimed = store.outbox_claim_due(options.batch.max(1)).await?;
        if claimed.is_empty() {
            break;
        }
        for mail in &claimed {
            match sender.send(mail).await {
                Ok(()) => {
                    store.outbox_mark_sent(mail).await?;
                    report.sent += 1;
                    tracing::info!(mail = mail.id.0, key = %mail.idempotency_key, "mail sent");
                }
                Err(failure) => {
                    let state = store
                        .outbox_mark_failed(
                            mail,
                            &failure.reason,
                            failure.permanent,
                            &options.retry,
                        )
                        .await?;
                    report
                        .errors
                        .push(format!("mail {}: {}", mail.id.0, failure.reason));
                    tracing::warn!(mail = mail.id.0, state = %state, reason = %failure.reason, "mail not sent");
                    if state == "dead" {
                        report.dead += 1;
                    } else {
                        report.retried += 1;
                    }
                }
            }
        }
    }
    Ok(report)
}
