//! What the API needs from the store, as a trait held in `AppState` (`Arc<dyn FindingStore>`):
//! the blocking store behind one seam, so the replica work (a PostgreSQL backend) plugs in a
//! second implementation without touching a resolver. The correlation engine is used directly:
//! it is pure and owned by the write path.

use std::collections::HashMap;

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{Finding, TriageStatus};
use serde::Serialize;

/// A failed store or engine call.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    /// The stored triage version differs from `expected_version`.
    #[error("stale version for finding {finding_id}: expected {expected}, stored {actual}")]
    Stale {
        /// The finding.
        finding_id: String,
        /// What the client sent.
        expected: i64,
        /// What is stored.
        actual: i64,
    },
    /// An id that is not stored.
    #[error("unknown finding {0}")]
    UnknownFinding(String),
    /// The shared store (PostgreSQL) cannot be reached; nothing was written.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// Anything else (SQLite, I/O); logged, never returned to clients.
    #[error("{0}")]
    Internal(String),
}

/// What one change-feed entry says changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Latest version or archived state of the findings.
    Findings,
    /// Their triage.
    Triage,
    /// Nothing the index holds (tickets, investigations): caches move on.
    Other,
}

/// One committed change of the shared store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRecord {
    /// Store generation of the change (increasing in commit order).
    pub generation: u64,
    /// What changed.
    pub kind: ChangeKind,
    /// Findings concerned.
    pub ids: Vec<String>,
    /// Written by this process (already applied here).
    pub own: bool,
}

/// The change feed of a store other processes write too (PostgreSQL): what a replica follows to
/// keep its index and groups current. Blocking calls, like [`FindingStore`].
pub trait ChangeFeed: Send + Sync {
    /// The store's current generation (start following from here before the initial build).
    fn head(&self) -> Result<u64, PortError>;
    /// Changes after `after`, oldest first, at most `limit`.
    fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<ChangeRecord>, PortError>;
    /// Blocks until a change is announced or `timeout` passes; an error when the store is
    /// unreachable (the next call reconnects).
    fn wait(&self, timeout: std::time::Duration) -> Result<(), PortError>;
}

/// One finding to ingest: normalized plus its original JSON, byte for byte.
#[derive(Debug, Clone)]
pub struct IngestRecord {
    /// Normalized finding.
    pub finding: Finding,
    /// Exact bytes of the finding JSON.
    pub raw: String,
    /// Where it came from (file name, `demo`, `aws:us-east-1`).
    pub source: String,
}

/// Triage state of one finding as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TriageRecord {
    /// Finding id.
    pub finding_id: String,
    /// Status.
    pub status: TriageStatus,
    /// Assignee.
    pub assignee: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Optimistic-concurrency version (0 = never triaged).
    pub version: i64,
    /// When last changed.
    pub updated_at: Option<EpochMillis>,
    /// Who last changed it.
    pub updated_by: Option<String>,
}

/// A triage change for several findings, applied atomically.
#[derive(Debug, Clone)]
pub struct TriageChange {
    /// Findings to change.
    pub finding_ids: Vec<String>,
    /// New status.
    pub status: TriageStatus,
    /// New assignee (None keeps the current one).
    pub assignee: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Expected current version of every finding (None = no check).
    pub expected_version: Option<i64>,
    /// Token name.
    pub actor: String,
    /// Now.
    pub at: EpochMillis,
}

/// A link from a finding to a ticket in an external system.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketLinkRecord {
    /// Finding id.
    pub finding_id: String,
    /// Ticket system, e.g. `jira`.
    pub system: String,
    /// Ticket key, e.g. `SEC-42`.
    pub key: String,
    /// Ticket URL.
    pub url: Option<String>,
    /// When first linked.
    pub created_at: EpochMillis,
    /// Who linked it.
    pub created_by: String,
}

/// One audit trail entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Finding id.
    pub finding_id: String,
    /// When.
    pub at: EpochMillis,
    /// Who (token name).
    pub actor: String,
    /// What (`triage`, `link_ticket`, `archive`, …).
    pub action: String,
    /// Details as JSON text.
    pub detail: String,
}

/// One stored version of a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionRecord {
    /// `updatedAt` of that version.
    pub updated_at: EpochMillis,
    /// `service.count` of that version.
    pub count: u64,
    /// Severity of that version.
    pub severity: f64,
}

/// Sync state of one region/detector.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatusRecord {
    /// Region.
    pub region: String,
    /// Detector id, if known.
    pub detector_id: Option<String>,
    /// Last successful sync.
    pub last_success_at: Option<EpochMillis>,
    /// Last error code (`AccessDenied`, `NoDetector`, `Throttled`, `Unreachable`).
    pub last_error_code: Option<String>,
    /// Last error message.
    pub last_error: Option<String>,
    /// Findings synced in total.
    pub findings_synced: u64,
}

/// A Detective investigation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvestigationRecord {
    /// Investigation id.
    pub id: String,
    /// Entity ARN (user or role).
    pub entity_arn: String,
    /// `RUNNING`, `SUCCESSFUL`, `FAILED`.
    pub status: String,
    /// `INFORMATIONAL` … `CRITICAL`.
    pub severity: String,
    /// `ACTIVE` / `ARCHIVED`.
    pub state: String,
    /// When created.
    pub created_at: EpochMillis,
    /// Indicators as JSON text.
    pub indicators_json: String,
    /// Region of the behavior graph (console links).
    pub region: String,
    /// GuardDuty finding ids named by RELATED_FINDING indicators.
    pub related_finding_ids: Vec<String>,
    /// Detective finding-group ids named by RELATED_FINDING_GROUP indicators.
    pub related_finding_group_ids: Vec<String>,
}

/// What the API needs from the embedded store. Blocking calls: the API runs them on the blocking pool.
pub trait FindingStore: Send + Sync {
    /// Calls `f` with the latest version of every finding, streaming (the start-up build never
    /// holds every decoded finding at once).
    fn scan_latest(&self, f: &mut dyn FnMut(Finding)) -> Result<(), PortError>;
    /// Latest normalized version of each known id (details a page needs; unknown ids absent).
    fn findings(&self, ids: &[String]) -> Result<HashMap<String, Finding>, PortError>;
    /// Bumps on every committed change (findings, triage, tickets, archive state): a persisted
    /// start-up snapshot is used only while it is unchanged.
    fn generation(&self) -> Result<u64, PortError>;
    /// Triage status of every triaged finding (to seed the index at start).
    fn all_triage(&self) -> Result<Vec<(String, TriageStatus)>, PortError>;
    /// Detective investigations.
    fn investigations(&self) -> Result<Vec<InvestigationRecord>, PortError>;
    /// Number of stored findings (latest versions).
    fn finding_count(&self) -> Result<u64, PortError>;
    /// Upserts in one transaction; returns the findings whose latest version changed.
    fn upsert(&self, batch: &[IngestRecord]) -> Result<Vec<Finding>, PortError>;
    /// Original JSON of the latest version, by id.
    fn raw(&self, ids: &[String]) -> Result<HashMap<String, String>, PortError>;
    /// Every stored version (oldest first), by id.
    fn versions(&self, ids: &[String]) -> Result<HashMap<String, Vec<VersionRecord>>, PortError>;
    /// Triage records (findings never triaged are absent).
    fn triage(&self, ids: &[String]) -> Result<HashMap<String, TriageRecord>, PortError>;
    /// Applies a triage change atomically (all or none), with the audit entries.
    fn set_triage(&self, change: &TriageChange) -> Result<Vec<TriageRecord>, PortError>;
    /// Links a ticket to findings (idempotent), with audit entries; returns the links.
    fn link_ticket(
        &self,
        ids: &[String],
        system: &str,
        key: &str,
        url: Option<&str>,
        actor: &str,
        at: EpochMillis,
    ) -> Result<Vec<TicketLinkRecord>, PortError>;
    /// Ticket links by finding id.
    fn ticket_links(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<TicketLinkRecord>>, PortError>;
    /// Audit trail by finding id (oldest first).
    fn audit(&self, ids: &[String]) -> Result<HashMap<String, Vec<AuditRecord>>, PortError>;
    /// Records an audit entry per finding (archive, feedback).
    fn append_audit(
        &self,
        ids: &[String],
        actor: &str,
        action: &str,
        detail: &str,
        at: EpochMillis,
    ) -> Result<(), PortError>;
    /// Sync status per region (empty without AWS).
    fn sync_status(&self) -> Result<Vec<SyncStatusRecord>, PortError>;
    /// Size of the database files in bytes.
    fn size_bytes(&self) -> Option<u64>;

    /// Calls `f(finding, raw JSON)` with the latest version of every finding in one streaming
    /// scan; `f` returns `false` to stop. What an NDJSON export from the store reads.
    fn scan_latest_with_raw(
        &self,
        f: &mut dyn FnMut(Finding, &str) -> bool,
    ) -> Result<(), PortError>;

    /// Calls `f(id, raw JSON)` with the latest version of every finding, streaming (no
    /// normalized finding decoded); `f` returns `false` to stop. What a suppression dry run over
    /// the whole history reads.
    fn scan_latest_raw(&self, f: &mut dyn FnMut(&str, &str) -> bool) -> Result<(), PortError>;

    /// GuardDuty coverage per region (accounts × protection plans), as the last sync saw it;
    /// empty when nothing was checked.
    fn coverage(&self) -> Result<Vec<gdlens_domain::coverage::RegionCoverage>, PortError> {
        Ok(Vec::new())
    }

    /// Every suppression rule (gdlens's own and those synced from GuardDuty).
    fn suppression_rules(&self) -> Result<Vec<SuppressionRuleRecord>, PortError> {
        Err(PortError::Internal(
            "this store keeps no suppression rules".into(),
        ))
    }

    /// Creates or replaces (by origin, region and name) a suppression rule.
    fn put_suppression_rule(
        &self,
        _rule: &SuppressionRuleRecord,
        _actor: &str,
        _at: EpochMillis,
    ) -> Result<SuppressionRuleRecord, PortError> {
        Err(PortError::Internal(
            "this store keeps no suppression rules".into(),
        ))
    }

    /// Deletes a suppression rule; whether it existed.
    fn delete_suppression_rule(&self, _id: i64) -> Result<bool, PortError> {
        Err(PortError::Internal(
            "this store keeps no suppression rules".into(),
        ))
    }

    /// The change feed when other processes write to the same store (PostgreSQL); `None` for the
    /// embedded store, which only this process writes.
    fn change_feed(&self) -> Option<std::sync::Arc<dyn ChangeFeed>> {
        None
    }
}

/// A suppression rule as stored (a GuardDuty filter, ours or synced): the store's own row.
pub use gdlens_store::SuppressionRuleRow as SuppressionRuleRecord;

/// One factor of a priority score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactorView {
    /// Factor name (`severity`, `criticality`, `rarity`, …).
    pub name: String,
    /// Points it contributed.
    pub contribution: f64,
}
