//! The GuardDuty finding model shared by every gdlens crate.
//!
//! Pure: no I/O, no async, no AWS types. Builds for `wasm32-unknown-unknown`.
//! Everything outside (files, SQLite, AWS, HTTP) lives in the crates around this one.

pub mod account;
pub mod coverage;
pub mod filter;
pub mod finding;
pub mod finding_type;
#[doc(hidden)]
pub mod fuzzing;
pub mod normalize;
pub mod remediation;
pub mod severity;
pub mod sla;
pub mod time;

pub use account::{Account, Criticality};
pub use filter::{FindingFilter, Scope, TriageStatus};
pub use finding::{
    Activity, AttackSequence, Finding, ResourceDetails, ResourceRole, SequenceActor,
    SequenceEndpoint, SequenceIndicator, SequenceResource, SequenceSignal,
};
pub use finding_type::FindingType;
pub use normalize::{normalize, normalize_json, JsonRef, NormalizeError};
pub use severity::SeverityLabel;
pub use sla::SlaTargets;
