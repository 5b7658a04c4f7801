//! The records the store takes and returns.

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{Finding, TriageStatus};
use serde::{Deserialize, Serialize};

/// One finding to store: normalized plus its original JSON, byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFinding {
    /// The normalized finding.
    pub finding: Finding,
    /// Exact bytes of the finding JSON as received.
    pub raw: String,
    /// Where it came from (file name, `-`, `demo`, `aws:us-east-1`).
    pub source: String,
}

/// What an upsert did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpsertOutcome {
    /// A finding id never seen before.
    Inserted,
    /// A newer `updatedAt` replaced the latest version (the previous one is kept).
    Updated,
    /// Same or older `updatedAt`: the latest version is untouched.
    Unchanged,
}

/// Result of one [`crate::Store::upsert_batch`] call.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpsertReport {
    /// Per record of the batch, in batch order.
    pub outcomes: Vec<UpsertOutcome>,
    /// Records inserted.
    pub inserted: u64,
    /// Records that replaced the latest version.
    pub updated: u64,
    /// Records that changed nothing current.
    pub unchanged: u64,
    /// The latest version of every finding whose latest version changed (one per id), for
    /// updating in-memory indexes.
    pub changed: Vec<Finding>,
    /// The store generation after the batch.
    pub generation: u64,
}

/// A sync watermark: the newest `updatedAt` fully stored for one region/detector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watermark {
    /// AWS region.
    pub region: String,
    /// GuardDuty detector id.
    pub detector_id: String,
    /// Newest `updatedAt` stored (epoch ms).
    pub updated_at_ms: EpochMillis,
}

/// The latest version of a finding with its original JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredFinding {
    /// Normalized (with the local archived state applied).
    pub finding: Finding,
    /// Original JSON of the latest version.
    pub raw: String,
    /// When this id was first stored.
    pub first_imported_at: EpochMillis,
    /// When the latest version was stored.
    pub last_imported_at: EpochMillis,
    /// Source of the latest version.
    pub source: String,
}

/// One stored version of a finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingVersion {
    /// `updatedAt` of that version.
    pub updated_at: EpochMillis,
    /// `service.count` of that version.
    pub count: u64,
    /// Severity of that version.
    pub severity: f64,
    /// Archived flag of that version as received.
    pub archived: bool,
    /// When it was stored.
    pub imported_at: EpochMillis,
    /// Where it came from.
    pub source: String,
    /// Its original JSON.
    pub raw: String,
    /// Whether this is the latest version.
    pub is_latest: bool,
}

/// A triage change applied to several findings at once.
#[derive(Debug, Clone, PartialEq)]
pub struct TriageChange {
    /// New status.
    pub status: TriageStatus,
    /// New assignee: `None` keeps the current one, `Some("")` clears it.
    pub assignee: Option<String>,
    /// New note: `None` keeps the current one, `Some("")` clears it.
    pub note: Option<String>,
}

/// Triage state of one finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Triage {
    /// Finding id.
    pub finding_id: String,
    /// Status.
    pub status: TriageStatus,
    /// Assignee.
    pub assignee: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// Optimistic-concurrency version: 1 after the first change (0 means never triaged).
    pub version: i64,
    /// When last changed.
    pub updated_at: EpochMillis,
    /// Who last changed it.
    pub updated_by: String,
}

/// A link from a finding to a ticket in an external system.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketLink {
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
    /// Who linked it first.
    pub created_by: String,
}

/// One audit trail entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// Finding id.
    pub finding_id: String,
    /// When.
    pub at: EpochMillis,
    /// Who.
    pub actor: String,
    /// What: `triage`, `link_ticket`, `archive`, `unarchive`, or a caller-defined action.
    pub action: String,
    /// Details as JSON.
    pub detail: serde_json::Value,
}

/// Sync state of one region/detector.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// Region.
    pub region: String,
    /// Detector id, if known.
    pub detector_id: Option<String>,
    /// Last attempt (success or not).
    pub last_attempt_at: Option<EpochMillis>,
    /// Last successful sync.
    pub last_success_at: Option<EpochMillis>,
    /// Last error code, snake_case as `gdlens_aws::ErrorCode::as_str` gives it (`access_denied`,
    /// `no_detector`, `throttled`, `unreachable`, …); `None` after a success.
    pub last_error_code: Option<String>,
    /// Last error message.
    pub last_error_message: Option<String>,
    /// Findings read by syncs of this region in total; findings read again in the lag overlap
    /// after a watermark count each time.
    pub findings_synced: u64,
}

impl SyncStatus {
    /// Age of the data at `now`: time since the last success (`None` if never synced).
    pub fn data_age_ms(&self, now: EpochMillis) -> Option<EpochMillis> {
        self.last_success_at.map(|t| (now - t).max(0))
    }
}

/// One Amazon Detective investigation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Investigation {
    /// Behavior graph ARN.
    pub graph_arn: String,
    /// Investigation id.
    pub investigation_id: String,
    /// Investigated entity (IAM role/user ARN).
    pub entity_arn: String,
    /// `IAM_ROLE` / `IAM_USER`.
    pub entity_type: String,
    /// `RUNNING` / `FAILED` / `SUCCESSFUL`.
    pub status: String,
    /// `INFORMATIONAL` … `CRITICAL`.
    pub severity: String,
    /// `ACTIVE` / `ARCHIVED`.
    pub state: String,
    /// Creation time.
    pub created_at: EpochMillis,
    /// Scope start.
    pub scope_start: Option<EpochMillis>,
    /// Scope end.
    pub scope_end: Option<EpochMillis>,
    /// Indicators as JSON text.
    pub indicators_json: String,
    /// GuardDuty finding ids named by RELATED_FINDING indicators.
    #[serde(default)]
    pub related_finding_ids: Vec<String>,
    /// Detective finding-group ids named by RELATED_FINDING_GROUP indicators.
    #[serde(default)]
    pub related_finding_group_ids: Vec<String>,
}
