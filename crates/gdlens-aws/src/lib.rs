//! AWS sync through the GuardDuty delegated administrator, Detective investigations, write-back.
//!
//! The only crate with AWS SDK types. [`AwsSource`] holds the SDK clients (one credential chain,
//! one global request-rate limiter, one retry policy); [`AwsSource::sync`] brings findings into a
//! [`SyncSink`] (the store), [`AwsSource::sync_investigations`] brings Detective investigations,
//! and [`AwsSource::archive_findings`] and friends write decisions back.

pub mod config;
mod coverage;
pub mod detective;
pub mod error;
pub mod filters;
pub mod sink;
pub mod source;
mod store_sink;
pub mod sync;
pub mod transport;
pub mod writeback;

pub use config::{AwsConfig, ConfigError};
pub use detective::DetectiveRegionReport;
pub use error::{AwsError, ErrorCode};
pub use filters::{FilterChange, RegionFilterReport, SyncedFilter};
pub use sink::{
    BatchOutcome, Committed, Investigation, MemberAccount, MemorySink, RegionSyncStatus, SinkError,
    SyncSink, SyncedFinding,
};
pub use source::AwsSource;
pub use sync::{CommitHook, RegionReport, SyncReport};
pub use writeback::{Feedback, FindingRef, WriteBackReport};
