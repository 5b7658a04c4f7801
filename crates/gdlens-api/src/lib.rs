//! The GraphQL API on axum: schema, resolvers, caching, auth scopes, metrics, web assets,
//! and the one ingest path that keeps store, index and finding groups in step.
//!
//! ```text
//! import / demo / AWS sync ──► AppState::ingest ──► store ──► index ──► finding groups ──► generation+1
//!                                                                                   │
//! HTTP ──► auth (token → role + account scope) ──► GraphQL ──► moka caches keyed by (query, scope, generation)
//! ```

pub mod adapters;
pub mod auth;
pub mod cache;
pub mod config;
pub mod error;
mod features_ipc;
mod http;
pub mod metrics;
pub mod ports;
pub mod priority;
pub mod query;
pub mod schema;
pub mod state;
pub mod writeback;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use auth::{token_sha256_hex, Caller, Role};
pub use config::Config;
pub use error::{ApiError, ErrorCode};
pub use http::router;
pub use ports::{FindingGroups, FindingStore, IngestRecord};
pub use schema::sdl;
pub use state::{AppState, IngestReport};
pub use writeback::{Feedback, WriteBack, WriteBackError, WriteBackTarget};

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Non-loopback listen address without any API token.
    #[error(
        "refusing to listen on {0} without authentication: add [[tokens]] to the config file \
         (see docs/configuration.md) or listen on 127.0.0.1"
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
    if config.tokens.is_empty() {
        if !addr.ip().is_loopback() {
            return Err(ServeError::NoAuthOnPublicAddress(addr));
        }
        tracing::warn!(%addr, "no API tokens configured: authentication is off, serving on loopback only");
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

/// Serves on an already-bound listener (tests bind 127.0.0.1:0).
pub async fn serve_on(
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Io {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Io { addr, source })
}
