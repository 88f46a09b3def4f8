//! The application: shared state, the route table, middleware (metrics,
//! private reading, security headers) and the server loop with graceful
//! shutdown. It must never bind anything itself: the caller passes the
//! listener, so the address policy (127.0.0.1 by default) lives in the CLI.

use std::future::Future;
use std::sync::Arc;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tera::Tera;

use sashiko_review::maintainers::Maintainers;
use sashiko_store::Store;

use crate::auth::LoginLimiter;
use crate::metrics::Metrics;
use crate::throttle::{PasswordThrottle, ThrottleConfig};
use crate::{
    api, auth, feed, openapi, pages, series_pages, templates, triage, WebConfig, WebError,
};

/// Everything a request handler needs, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub config: WebConfig,
    pub tera: Tera,
    pub metrics: Metrics,
    pub maintainers: Maintainers,
    pub throttle: PasswordThrottle,
    /// Counts login mails per address (every request, not only failures).
    pub mail_limiter: LoginLimiter,
    /// Counts login mails per client address (ten times the above).
    pub mail_client_limiter: LoginLimiter,
    pub cache: crate::cache::ResponseCache,
}

impl AppState {
    /// Builds the state: compiles the embedded templates and reads the
    /// MAINTAINERS file if one is configured.
    pub fn new(store: Store, config: WebConfig) -> Result<AppState, WebError> {
        let maintainers = match &config.maintainers_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| {
                    WebError::BadRequest(format!(
                        "reading the MAINTAINERS file {}: {error}",
                        path.display()
                    ))
                })?;
                let parsed = Maintainers::parse(&text);
                for diagnostic in &parsed.diagnostics {
                    tracing::warn!("{}: {diagnostic}", path.display());
                }
                parsed
            }
            None => Maintainers::default(),
        };
        let throttle = PasswordThrottle::new(ThrottleConfig {
            free_failures: config.login_free_failures,
            max_delay: std::time::Duration::from_secs(config.login_max_delay_secs.max(1)),
            forget_after: std::time::Duration::from_secs(config.login_window_secs),
        });
        let max_mails = config.mail_login.as_ref().map_or(0, |mail| mail.max_mails);
        let mail_limiter = LoginLimiter::new(max_mails, config.login_window_secs);
        let mail_client_limiter =
            LoginLimiter::new(max_mails.saturating_mul(10), config.login_window_secs);
        Ok(AppState {
            inner: Arc::new(Inner {
                store,
                tera: templates::load()?,
                metrics: Metrics::default(),
                maintainers,
                throttle,
                mail_limiter,
                mail_client_limiter,
                cache: crate::cache::ResponseCache::new(
                    std::time::Duration::from_millis(config.cache_ttl_ms),
                    config.cache_max_bytes,
                ),
                config,
            }),
        })
    }

    /// The store this state reads and writes.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }
}

/// The route table of the web view and API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/subsystem/{*name}", get(pages::subsystem))
        .route("/bug/{id}", get(pages::bug))
        .route("/bug/{id}/triage", post(triage::triage))
        .route("/series/{id}", get(series_pages::series))
        .route("/patch/{id}", get(patch_redirect))
        .route("/review/{id}", get(series_pages::review))
        .route("/search", get(pages::search))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/login/mail", post(crate::mail_login::request_link))
        .route(
            "/login/token",
            get(crate::mail_login::confirm_page).post(crate::mail_login::redeem),
        )
        .route("/logout", post(auth::logout))
        .route("/feeds/{*name}", get(feed::subsystem_feed))
        .route("/api/patchset", get(api::patchset))
        .route("/api/subsystems", get(api::subsystems))
        .route("/api/bugs", get(api::bugs))
        .route("/api/bugs/{id}", get(api::bug))
        .route("/api/openapi.json", get(openapi::document))
        .route("/static/sashiko.css", get(stylesheet))
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::metrics))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::cache::serve_cached,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            access_control,
        ))
        .layer(middleware::from_fn(crate::input::refuse_unstorable_input))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` completes, then
/// lets requests in flight finish. Meanwhile the bug counts are compacted
/// every [`COMPACT_EVERY`]. HTTP/1.1 only; a connection that has not sent
/// a request's complete headers within `header_read_timeout_secs` is
/// closed (issue 21, hole 10: slow-header connections held forever).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.inner.store.clone();
    let compaction = tokio::spawn(async move {
        loop {
            match store.compact_bug_counts().await {
                Ok(0) => {}
                Ok(rows) => tracing::debug!("compacted bug_counts into {rows} rows"),
                Err(error) => tracing::warn!("{error}"),
            }
            tokio::time::sleep(COMPACT_EVERY).await;
        }
    });
    let header_timeout =
        std::time::Duration::from_secs(state.inner.config.header_read_timeout_secs.max(1));
    crate::server::serve_http1(listener, router(state), header_timeout, shutdown).await;
    compaction.abort();
    Ok(())
}

/// How often `serve` folds the appended rows of `bug_counts`.
pub const COMPACT_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

async fn patch_redirect(axum::extract::Path(id): axum::extract::Path<i64>) -> Redirect {
    Redirect::to(&format!("/series/{id}"))
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        templates::STYLESHEET,
    )
        .into_response()
}

async fn healthz(State(state): State<AppState>) -> Response {
    match state.inner.store.count(sashiko_store::Table::Bugs).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(error) => {
            tracing::error!("health check: {error}");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// Paths anyone may reach even when reading is private.
fn always_public(path: &str) -> bool {
    matches!(
        path,
        "/login" | "/login/mail" | "/login/token" | "/healthz" | "/metrics" | "/static/sashiko.css"
    )
}

async fn access_control(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_string();
    if !state.inner.config.public_read && !always_public(&path) {
        let user = auth::user_from_headers(&state, request.headers()).await;
        match user {
            Ok(Some(_)) => {}
            Ok(None) if path.starts_with("/api/") => {
                return crate::error::ApiError(WebError::Unauthenticated).into_response()
            }
            Ok(None) => {
                let next_path = crate::format::encode_component(&path);
                return Redirect::to(&format!("/login?next={next_path}")).into_response();
            }
            Err(error) => return error.into_response(),
        }
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

async fn count_requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map_or_else(
        || "unmatched".to_string(),
        |matched| matched.as_str().to_string(),
    );
    let method = request.method().as_str().to_string();
    let response = next.run(request).await;
    state
        .inner
        .metrics
        .count_request(&method, &route, response.status().as_u16());
    response
}
