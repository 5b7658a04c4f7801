//! The embedded SQLite store: latest finding per id, every version, triage, ticket links, sync state.
//!
//! One file `gdlens.db` (WAL, `synchronous=NORMAL`) under the data directory. Writes go through one
//! connection behind a mutex, each call one transaction; reads use a small pool of read connections
//! so they never wait for a long import batch. [`Store`] is `Send + Sync`: share it as `Arc<Store>`.

mod codec;
mod error;
mod model;
mod schema;
mod store;

pub use codec::{EncodedFinding, Encoder, TRAIN_SAMPLES};
pub use error::StoreError;
pub use model::{
    AuditEntry, FindingVersion, Investigation, NewFinding, StoredFinding, SyncStatus, TicketLink,
    Triage, TriageChange, UpsertOutcome, UpsertReport, Watermark,
};
pub use store::{Store, DB_FILE};
