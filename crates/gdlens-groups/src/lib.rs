//! Finding groups: ATT&CK tactic mapping and correlation of findings into attack stories.
//!
//! Pure (no I/O, no async). Three parts:
//! - [`attack`]: ATT&CK tactics in kill-chain order, the finding type → tactic mapping
//!   ([`tactics_for`], [`tactic_for_type`]) and CTID technique hints ([`techniques_for`]).
//! - [`Correlator`]: entity extraction ([`entity`]), linking within a time window under degree
//!   caps, finding groups with stable ids and lineage, incremental ([`Correlator::add`]).
//! - [`detective`]: which groups a Detective investigation concerns.
//!
//! See `docs/finding-groups.md` for the rules and their numbers.

pub mod attack;
mod correlate;
pub mod detective;
pub mod entity;
mod group;

pub use attack::{tactic_by_name, tactic_for_type, tactics_for, techniques_for, Tactic, TACTICS};
pub use correlate::{CorrelationConfig, Correlator, GroupDelta};
pub use detective::{detective_finding_url, detective_group_url, Investigation};
pub use entity::{EntityKind, Strength};
pub use group::{
    group_score, group_severity, kill_chain_length, restrict_group, type_phrase, FindingGroup,
    GraphEdge, GraphNode, GroupEntity, GroupGraph, GroupMember, GroupSource, TimelineEntry,
};
