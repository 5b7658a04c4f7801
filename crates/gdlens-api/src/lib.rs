//! The GraphQL API on axum: schema, resolvers, caching, auth scopes, metrics, web assets,
//! and the one ingest path that keeps store, index and finding groups in step.
//!
//! ```text
//! import / demo / AWS sync / triage ──► AppState::write (one writer) ──► new Snapshot (ArcSwap)
//!                                                                            │
//! HTTP ──► auth (token / OIDC / proxy → role + ScopeKey) ──► GraphQL ──► AppState::snapshot() + ScopeView
//!                                                             └─► moka caches (bytes) keyed by (query, scope, generation)
//! ```

pub mod adapters;
pub mod auth;
pub mod cache;
pub mod config;
pub mod error;
pub mod export;
mod features_ipc;
#[doc(hidden)]
pub mod fuzzing;
mod guard;
mod http;
pub mod limits;
pub mod live;
pub mod metrics;
mod oidc;
mod persist;
pub mod ports;
pub mod priority;
mod proxy;
pub mod query;
pub mod replica;
pub mod schema;
pub mod scope;
pub mod snapshot;
pub mod state;
pub mod view;
pub mod webhooks;
pub mod writeback;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use auth::{token_sha256_hex, AuthMethod, Caller, Identity, Role};
pub use config::Config;
pub use error::{ApiError, ErrorCode};
pub use http::router;
pub use ports::{FindingStore, IngestRecord};
pub use schema::sdl;
pub use state::{AppState, IngestReport};
pub use writeback::{Feedback, WriteBack, WriteBackError, WriteBackTarget};

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Non-loopback listen address without any authentication.
    #[error(
        "refusing to listen on {0} without authentication: add [[tokens]], [auth.oidc] or \
         [auth.proxy] to the config file (see docs/configuration.md) or listen on 127.0.0.1"
    )]
    NoAuthOnPublicAddress(SocketAddr),
    /// Bind or serve failure.
    #[error("cannot serve on {addr}: {source}")]
    Io {
        /// Address.
        addr: SocketAddr,
        /// Cause.
        source: std::io::Error,
    },
}

/// Checks the listen address against the auth configuration.
pub fn check_listen(state: &AppState, addr: SocketAddr) -> Result<(), ServeError> {
    check_listen_config(&state.config, addr)
}

/// [`check_listen`] before any state exists (the binary calls it before opening the store).
pub fn check_listen_config(config: &Config, addr: SocketAddr) -> Result<(), ServeError> {
    if !config.auth_enabled() {
        if !addr.ip().is_loopback() {
            return Err(ServeError::NoAuthOnPublicAddress(addr));
        }
        tracing::warn!(%addr, "no authentication configured: serving on loopback only");
    }
    Ok(())
}

/// Binds `addr` and serves until `shutdown` resolves, then drains in-flight requests.
pub async fn serve(
    state: Arc<AppState>,
    addr: SocketAddr,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    check_listen(&state, addr)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Io { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %local, "gdlens API listening (GraphQL at /graphql, GraphiQL at /graphiql)");
    serve_on(state, listener, shutdown).await
}

/// Serves on an already-bound listener (tests bind 127.0.0.1:0) until `shutdown` resolves, then
/// stops accepting and drains: in-flight requests finish, idle connections close.
///
/// HTTP/1.1 on hyper with the `[server]` limits: a client has `header_read_timeout_seconds` to
/// send each request head (also while a kept-alive connection waits for its next request), a
/// kept-alive connection idle for `keep_alive_idle_seconds` is closed, and at most
/// `max_connections` connections are served at once; further ones wait, unaccepted, in the
/// listen backlog until one closes.
pub async fn serve_on(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Io {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    let server = &state.config.server;
    let limits = connection::Limits::from(server);
    let max_connections = u32::try_from(server.max_connections.max(1)).unwrap_or(u32::MAX);
    let slots = Arc::new(tokio::sync::Semaphore::new(max_connections as usize));
    let (stop, stopped) = tokio::sync::watch::channel(());
    let app = router(state.clone());
    tokio::pin!(shutdown);
    loop {
        // A slot first, then accept: over the cap, connections wait in the kernel's backlog.
        let slot = tokio::select! {
            biased;
            () = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    connection::on_accept_error(e).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(connection::serve(
            stream,
            peer,
            app.clone(),
            limits,
            stopped.clone(),
            slot,
        ));
    }
    drop(listener); // new connections are refused from here on
    tracing::info!(%addr, "shutting down: draining open connections");
    let _ = stop.send(());
    // Live streams never end on their own: end them so their connections can drain.
    state.live.shutdown();
    // Every connection holds a slot until it has ended.
    let _ = slots.acquire_many(max_connections).await;
    Ok(())
}

/// One connection of [`serve_on`]: hyper's HTTP/1.1 with our timeouts and the idle watchdog.
mod connection {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use hyper_util::rt::{TokioIo, TokioTimer};
    use tokio::sync::{watch, OwnedSemaphorePermit};

    use crate::config::ServerConfig;

    /// Per-connection limits from `[server]`.
    #[derive(Debug, Clone, Copy)]
    pub(super) struct Limits {
        header_read: Duration,
        keep_alive: bool,
        idle: Duration,
    }

    impl From<&ServerConfig> for Limits {
        fn from(server: &ServerConfig) -> Self {
            Limits {
                header_read: Duration::from_secs(server.header_read_timeout_seconds.max(1)),
                keep_alive: server.keep_alive,
                idle: Duration::from_secs(server.keep_alive_idle_seconds.max(1)),
            }
        }
    }

    /// Requests in flight on a connection and when the last one ended (`None`: none yet; the
    /// wait for the first request head is the header-read timeout's business).
    #[derive(Debug, Default)]
    struct Activity(Mutex<(usize, Option<Instant>)>);

    impl Activity {
        fn begin(self: &Arc<Self>) -> Busy {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).0 += 1;
            Busy(self.clone())
        }

        /// How long until the connection has been idle for `idle`; zero once it has, `None`
        /// while a request is in flight or before the first one.
        fn idle_left(&self, idle: Duration) -> Option<Duration> {
            match *self.0.lock().unwrap_or_else(|e| e.into_inner()) {
                (0, Some(end)) => Some(idle.saturating_sub(end.elapsed())),
                _ => None,
            }
        }
    }

    /// A request in flight; dropping it (response head produced, or the request dropped) ends it.
    struct Busy(Arc<Activity>);

    impl Drop for Busy {
        fn drop(&mut self) {
            let mut a = self.0 .0.lock().unwrap_or_else(|e| e.into_inner());
            a.0 -= 1;
            a.1 = Some(Instant::now());
        }
    }

    /// Serves one connection until it closes; `stopped` changing starts a graceful shutdown.
    pub(super) async fn serve(
        stream: tokio::net::TcpStream,
        peer: std::net::SocketAddr,
        app: axum::Router,
        limits: Limits,
        mut stopped: watch::Receiver<()>,
        _slot: OwnedSemaphorePermit,
    ) {
        let activity = Arc::new(Activity::default());
        let service = {
            let activity = activity.clone();
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                let busy = activity.begin();
                // The TCP peer: a trusted proxy's identity headers count only from its address.
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                let call = tower::Service::call(&mut app.clone(), req);
                async move {
                    let response = call.await;
                    drop(busy);
                    response
                }
            })
        };
        let mut http1 = hyper::server::conn::http1::Builder::new();
        http1
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_read)
            .keep_alive(limits.keep_alive);
        // With upgrades: GraphQL subscriptions over WebSocket (`live::ws`).
        let conn = http1
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades();
        tokio::pin!(conn);
        let mut closing = false;
        loop {
            // Re-armed on every wake-up; the watchdog sleeps a full period while a request runs.
            let idle_left = activity.idle_left(limits.idle);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        // Header-read timeouts, resets and malformed requests: routine.
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                _ = stopped.changed(), if !closing => {
                    closing = true;
                    conn.as_mut().graceful_shutdown();
                }
                () = tokio::time::sleep(idle_left.unwrap_or(limits.idle)), if !closing => {
                    if activity.idle_left(limits.idle) == Some(Duration::ZERO) {
                        closing = true;
                        // Idle: hyper closes at once (mid-request it would finish first).
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
    }

    /// Accept errors: per-connection ones are skipped; others (e.g. out of file descriptors)
    /// are logged and the loop pauses a moment instead of spinning.
    pub(super) async fn on_accept_error(e: std::io::Error) {
        use std::io::ErrorKind::*;
        if matches!(
            e.kind(),
            ConnectionRefused | ConnectionAborted | ConnectionReset
        ) {
            return;
        }
        tracing::error!(error = %e, "accept failed; retrying in 1 s");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Helpers shared by the crate's unit tests.
#[cfg(test)]
pub(crate) mod test_support {
    /// `n` generated demo findings (the latest version of each, as the generator emits them).
    pub(crate) fn demo_findings(n: usize) -> Vec<gdlens_domain::Finding> {
        let opts = gdlens_demo::DemoOptions {
            findings: n,
            ..Default::default()
        };
        gdlens_demo::Generator::new(&opts)
            .expect("demo options")
            .map(|d| d.to_record().expect("demo finding").0)
            .collect()
    }
}
