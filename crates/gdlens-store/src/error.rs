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
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}
