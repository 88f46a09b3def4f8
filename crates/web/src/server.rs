//! The accept loop: HTTP/1.1 connections served by hyper with a deadline
//! for each request's headers, the peer address handed to handlers as
//! `ConnectInfo`, and graceful shutdown (stop accepting, let requests in
//! flight finish, close idle connections). axum's own `serve` offers no
//! header deadline, so a client sending a few header bytes and then
//! nothing kept its connection (and a task) forever. This module must
//! never interpret requests: routing is the router's.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::watch;
use tower_service::Service;

/// Serves `app` on `listener` until `shutdown` completes, then waits for
/// the open connections to finish their requests in flight.
pub async fn serve_http1(
    listener: tokio::net::TcpListener,
    app: Router,
    header_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let (closing, closing_seen) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait a little
                    // instead of spinning.
                    tracing::warn!("accepting a connection: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        while connections.try_join_next().is_some() {}
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let mut app = app.clone();
            async move { app.call(request.map(Body::new)).await }
        });
        let builder = builder.clone();
        let mut closing_seen = closing_seen.clone();
        connections.spawn(async move {
            let mut connection = pin!(builder.serve_connection(TokioIo::new(stream), service));
            let finished = tokio::select! {
                finished = connection.as_mut() => finished,
                _ = closing_seen.changed() => {
                    connection.as_mut().graceful_shutdown();
                    connection.as_mut().await
                }
            };
            if let Err(error) = finished {
                tracing::debug!("connection from {peer}: {error}");
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    while connections.join_next().await.is_some() {}
}
