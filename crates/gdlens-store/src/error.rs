//! Errors of the store, each with a stable machine code.

use thiserror::Error;

/// Why a store operation failed. Nothing is half-written: every failing call rolls back.
#[derive(Debug, Error)]
pub enum StoreError {
    /// SQLite reported an error (I/O, corruption, lock timeout, constraint).
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A schema migration could not be applied.
    #[error("schema migration failed: {0}")]
    Migration(#[from] rusqlite_migration::Error),
    /// The data directory could not be created or read.
    #[error("data directory {path}: {source}")]
    Io {
        /// The directory or file.
        path: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A triage write named an `expected_version` that is not the stored one; nothing was written.
    #[error("stale triage version for finding {finding_id}: expected {expected}, stored {actual}")]
    StaleVersion {
        /// The first finding whose version differs.
        finding_id: String,
        /// The version the caller expected.
        expected: i64,
        /// The version stored.
        actual: i64,
    },
    /// A finding id that is not stored.
    #[error("unknown finding {0}")]
    UnknownFinding(String),
    /// A stored value could not be encoded or decoded.
    #[error("codec: {0}")]
    Codec(String),
    /// A caller-supplied value is unusable (empty id list, empty ticket key…).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// PostgreSQL reported an error (constraint, syntax, serialization).
    #[error("postgres: {0}")]
    Postgres(#[source] postgres::Error),
    /// PostgreSQL cannot be reached (refused, timed out, connection lost); nothing was written.
    /// Writes fail with this until the database is back; reconnecting is automatic.
    #[error("postgres unreachable: {0}")]
    Unavailable(String),
    /// The store URL is not usable (unknown scheme, unparsable PostgreSQL URL). Never holds the
    /// password: the URL is redacted first.
    #[error("store url: {0}")]
    Url(String),
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        if is_connection_error(&e) {
            // The client's message names only the step ("error performing TLS handshake");
            // the reason (an untrusted certificate, a refused connection) is in its sources.
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                message.push_str(": ");
                message.push_str(&cause.to_string());
                source = cause.source();
            }
            StoreError::Unavailable(message)
        } else {
            StoreError::Postgres(e)
        }
    }
}

impl StoreError {
    /// Stable machine code for logs, CLI JSON and GraphQL `extensions.code`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Sqlite(e) if is_busy(e) => "store_busy",
            Self::Sqlite(_) => "store_sqlite",
            Self::Migration(_) => "store_migration",
            Self::Io { .. } => "store_io",
            Self::StaleVersion { .. } => "stale_version",
            Self::UnknownFinding(_) => "unknown_finding",
            Self::Codec(_) => "store_codec",
            Self::InvalidInput(_) => "invalid_input",
            Self::Postgres(_) => "store_postgres",
            Self::Unavailable(_) => "store_unavailable",
            Self::Url(_) => "store_url",
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Whether a PostgreSQL error means "the database is not there" rather than "this SQL failed":
/// the connection closed or never opened, an I/O error, or a server shutting down / starting up
/// (SQLSTATE class 08 and 57P01–57P03).
fn is_connection_error(e: &postgres::Error) -> bool {
    use std::error::Error as _;
    if e.is_closed() || e.source().is_some_and(|s| s.is::<std::io::Error>()) {
        return true;
    }
    if let Some(code) = e.code() {
        let code = code.code();
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03");
    }
    let text = e.to_string();
    text.starts_with("error connecting")
        || text.starts_with("timeout")
        || text.starts_with("error communicating")
}
