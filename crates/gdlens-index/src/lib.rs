//! In-memory columnar index over the latest findings: filters, summary widgets, ordering,
//! and the feature columns the scoring crate ranks with.
//!
//! One row per finding id, holding the latest version only (the store keeps the history). Strings
//! are dictionary-encoded into dense `u32` codes, so every predicate and every aggregation runs on
//! integers: a query resolves its strings to code sets once, then scans plain arrays.
//!
//! Built from the store's `scan_latest` ([`FindingIndex::build`]), kept current with
//! [`FindingIndex::upsert`] after each committed batch; [`FindingIndex::generation`] changes with
//! every change so caches can key on it. No I/O, no async.

mod cells;
mod dictionary;
mod features;
#[doc(hidden)]
pub mod fuzzing;
mod hardening;
mod index;
mod order;
pub mod persist;
mod query;
mod sla;
mod summary;

pub use cells::Cells;
pub use dictionary::Dictionary;
pub use features::{Coded, CodedColumn, GroupInfo, ScopeCounts};
pub use hardening::{HardeningItem, HardeningResource};
pub use index::{FindingIndex, IndexError, UpsertOutcome};
pub use order::{f64_order_key, OrderDirection, OrderField};
pub use query::{CompiledFilter, Precomputed, SearchHits};
pub use sla::SlaSummary;
pub use summary::{
    AccountStat, FindingTypeStat, NewType, Period, PeriodChange, ResourceStat, SeverityCounts,
    SeverityDelta, SeverityTrendPoint, Summary, SummaryOptions,
};
