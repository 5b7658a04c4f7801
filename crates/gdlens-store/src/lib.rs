//! The store: latest finding per id, every version, triage, ticket links, sync state.
//!
//! [`Store`] is one interface over two backends. The default is embedded SQLite: one file
//! `gdlens.db` (WAL, `synchronous=NORMAL`) under the data directory; writes go through one
//! connection behind a mutex, each call one transaction; reads use a small pool of read
//! connections so they never wait for a long import batch. The other is PostgreSQL
//! ([`Store::open_postgres`]), shared by several server replicas, with a change feed they follow
//! and leases for work only one of them may do. [`Store`] is `Send + Sync`: share it as `Arc<Store>`.

mod codec;
mod coverage;
mod error;
mod facade;
mod model;
pub mod outbox;
mod pg;
mod pg_schema;
mod pg_tls;
mod schema;
mod store;
mod suppression;
#[doc(hidden)]
pub mod testing;

pub use codec::{EncodedFinding, Encoder, TRAIN_SAMPLES};
pub use error::StoreError;
pub use facade::Store;
pub use model::{
    AuditEntry, FindingVersion, Investigation, NewFinding, StoredFinding, SyncStatus, TicketLink,
    Triage, TriageChange, UpsertOutcome, UpsertReport, Watermark,
};
pub use outbox::{
    AttemptResult, Delivery, DeliveryCounts, DeliveryQuery, GroupState, NewDelivery, OutboxEvent,
    TicketRequest,
};
pub use pg::{
    is_postgres_url, redact_url, ChangeEntry, ChangeKind, ChangeListener, Lease, PgStore,
};
pub use store::{SqliteStore, DB_FILE};
pub use suppression::{NewSuppressionRule, SuppressionRuleRow, ORIGIN_GDLENS, ORIGIN_GUARDDUTY};
