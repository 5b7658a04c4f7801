//! Where a sync commits what it fetched. The store implements [`SyncSink`]; the trait keeps the
//! sync engine testable and lets the server hook its in-memory index onto each commit.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use gdlens_domain::coverage::RegionCoverage;
use gdlens_domain::time::EpochMillis;
use gdlens_domain::Finding;
use serde::{Deserialize, Serialize};

/// One fetched finding: normalized, plus the exact bytes GuardDuty sent for it.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedFinding {
    pub finding: Finding,
    pub raw: String,
}

/// What one committed batch changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// The result of one commit: counts plus the latest version of every finding that changed
/// (what an in-memory index needs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Committed {
    pub outcome: BatchOutcome,
    pub changed: Vec<Finding>,
}

/// A member account seen through ListMembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberAccount {
    pub account_id: String,
    pub email: Option<String>,
    pub relationship_status: Option<String>,
    /// The delegated administrator's account id (`administratorId`, or the older `masterId`).
    #[serde(default)]
    pub administrator_id: Option<String>,
    pub region: String,
}

/// Sync state of one region, as recorded after each run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionSyncStatus {
    pub region: String,
    pub detector_id: Option<String>,
    /// When this run finished (epoch ms).
    pub attempted_at: EpochMillis,
    /// Set when the run succeeded.
    pub succeeded_at: Option<EpochMillis>,
    /// Stable code of the failure (`access_denied`, `no_detector`, `throttled`, …).
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// Findings fetched by this run.
    pub fetched: u64,
}

/// A Detective investigation with its indicators (raw PascalCase JSON, as Detective sent them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Investigation {
    pub region: String,
    pub graph_arn: String,
    pub investigation_id: String,
    pub entity_arn: Option<String>,
    pub entity_type: Option<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub state: Option<String>,
    pub created_at: Option<EpochMillis>,
    pub scope_start: Option<EpochMillis>,
    pub scope_end: Option<EpochMillis>,
    pub indicators: Vec<serde_json::Value>,
    /// ARNs of GuardDuty findings named by RELATED_FINDING indicators: the link to our findings.
    pub related_finding_arns: Vec<String>,
    /// Detective finding-group ids named by RELATED_FINDING_GROUP indicators.
    pub related_finding_group_ids: Vec<String>,
}

/// A storage failure, with the store's own stable code.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct SinkError {
    pub code: String,
    pub message: String,
}

/// The persistence a sync needs. Every method is blocking (SQLite); the sync calls them on the
/// blocking pool.
pub trait SyncSink: Send + Sync {
    /// The saved watermark of a region: the greatest `updatedAt` committed (epoch ms).
    fn watermark(&self, region: &str, detector_id: &str) -> Result<Option<EpochMillis>, SinkError>;
    /// Commits findings and (when given) the detector's new watermark in ONE transaction.
    fn commit(
        &self,
        region: &str,
        detector_id: &str,
        findings: &[SyncedFinding],
        watermark: Option<EpochMillis>,
    ) -> Result<Committed, SinkError>;
    /// Records how a region's run went.
    fn set_sync_status(&self, status: &RegionSyncStatus) -> Result<(), SinkError>;
    /// Records member accounts (default: ignored).
    fn record_members(&self, _members: &[MemberAccount]) -> Result<(), SinkError> {
        Ok(())
    }
    /// Replaces the coverage of one region (default: ignored).
    fn replace_coverage(&self, _coverage: &RegionCoverage) -> Result<(), SinkError> {
        Ok(())
    }
    /// Replaces the Detective investigations of `regions` with `investigations` (those of other
    /// regions stay as they are), atomically.
    fn replace_investigations(
        &self,
        regions: &[String],
        investigations: &[Investigation],
    ) -> Result<(), SinkError>;
}

/// An in-memory [`SyncSink`] with the store's version semantics (newer `updatedAt` replaces and
/// keeps the old version, older or equal never overwrites). For tests and dry runs.
#[derive(Debug, Default)]
pub struct MemorySink {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    latest: BTreeMap<String, SyncedFinding>,
    versions: HashMap<String, u32>,
    watermarks: HashMap<String, EpochMillis>,
    statuses: BTreeMap<String, RegionSyncStatus>,
    investigations: BTreeMap<String, Vec<Investigation>>,
    members: Vec<MemberAccount>,
    coverage: BTreeMap<String, RegionCoverage>,
    commits: u64,
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The latest version of every finding.
    pub fn latest(&self) -> Vec<SyncedFinding> {
        self.lock().latest.values().cloned().collect()
    }

    /// The latest version of one finding.
    pub fn get(&self, id: &str) -> Option<SyncedFinding> {
        self.lock().latest.get(id).cloned()
    }

    /// How many versions of a finding were stored.
    pub fn version_count(&self, id: &str) -> u32 {
        self.lock().versions.get(id).copied().unwrap_or(0)
    }

    /// Recorded status of a region.
    pub fn status(&self, region: &str) -> Option<RegionSyncStatus> {
        self.lock().statuses.get(region).cloned()
    }

    /// Stored investigations of a region.
    pub fn investigations(&self, region: &str) -> Vec<Investigation> {
        self.lock()
            .investigations
            .get(region)
            .cloned()
            .unwrap_or_default()
    }

    /// Recorded member accounts.
    pub fn members(&self) -> Vec<MemberAccount> {
        self.lock().members.clone()
    }

    /// Recorded coverage of a region.
    pub fn coverage(&self, region: &str) -> Option<RegionCoverage> {
        self.lock().coverage.get(region).cloned()
    }

    /// Number of committed batches.
    pub fn commits(&self) -> u64 {
        self.lock().commits
    }
}

impl SyncSink for MemorySink {
    fn watermark(&self, region: &str, detector_id: &str) -> Result<Option<EpochMillis>, SinkError> {
        Ok(self
            .lock()
            .watermarks
            .get(&format!("{region}/{detector_id}"))
            .copied())
    }

    fn commit(
        &self,
        region: &str,
        detector_id: &str,
        findings: &[SyncedFinding],
        watermark: Option<EpochMillis>,
    ) -> Result<Committed, SinkError> {
        let mut inner = self.lock();
        let mut outcome = BatchOutcome::default();
        let mut changed = Vec::new();
        for f in findings {
            match inner.latest.get(&f.finding.id) {
                None => {
                    outcome.inserted += 1;
                    changed.push(f.finding.clone());
                    inner.latest.insert(f.finding.id.clone(), f.clone());
                    inner.versions.insert(f.finding.id.clone(), 1);
                }
                Some(old) if f.finding.updated_at > old.finding.updated_at => {
                    outcome.updated += 1;
                    changed.push(f.finding.clone());
                    inner.latest.insert(f.finding.id.clone(), f.clone());
                    *inner.versions.entry(f.finding.id.clone()).or_default() += 1;
                }
                Some(_) => outcome.unchanged += 1,
            }
        }
        if let Some(watermark) = watermark {
            let key = format!("{region}/{detector_id}");
            let w = inner.watermarks.entry(key).or_insert(watermark);
            *w = (*w).max(watermark);
        }
        inner.commits += 1;
        Ok(Committed { outcome, changed })
    }

    fn set_sync_status(&self, status: &RegionSyncStatus) -> Result<(), SinkError> {
        self.lock()
            .statuses
            .insert(status.region.clone(), status.clone());
        Ok(())
    }

    fn record_members(&self, members: &[MemberAccount]) -> Result<(), SinkError> {
        let mut inner = self.lock();
        for m in members {
            if !inner.members.contains(m) {
                inner.members.push(m.clone());
            }
        }
        Ok(())
    }

    fn replace_coverage(&self, coverage: &RegionCoverage) -> Result<(), SinkError> {
        self.lock()
            .coverage
            .insert(coverage.region.clone(), coverage.clone());
        Ok(())
    }

    fn replace_investigations(
        &self,
        regions: &[String],
        investigations: &[Investigation],
    ) -> Result<(), SinkError> {
        let mut inner = self.lock();
        for r in regions {
            let of_region = investigations
                .iter()
                .filter(|i| &i.region == r)
                .cloned()
                .collect();
            inner.investigations.insert(r.clone(), of_region);
        }
        Ok(())
    }
}
