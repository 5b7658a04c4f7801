//! The `summary` query's output: the index's summary widgets plus finding groups and coverage.

use async_graphql::{Object, SimpleObject};
use chrono::{DateTime, Utc};

use std::sync::Arc;

use super::blocking;
use super::types::{dt, FindingGql, SyncStatusGql};
use crate::error::ApiResult;
use crate::limits::RequestBudget;
use crate::snapshot::Snapshot;
use crate::state::now_ms;

/// The cached part of a summary.
#[derive(Debug, Clone)]
pub struct SummaryData {
    /// Widgets from the index (top-N lists computed with the maximum limit).
    pub summary: gdlens_index::Summary,
    /// Finding groups with at least one matching visible member.
    pub finding_groups: u64,
    /// Regions with findings in the caller's scope.
    pub regions: Vec<String>,
}

impl SummaryData {
    /// Estimated heap bytes (the summary cache's weight).
    pub fn memory_bytes(&self) -> usize {
        let s = &self.summary;
        let lists = s.top_finding_types.len()
            + s.top_resources.len()
            + s.top_accounts.len()
            + s.least_frequent_types.len()
            + s.new_types.len();
        512 + s.severity_trend.len() * 64 + lists * 160 + self.regions.len() * 40
    }
}

/// Most top-N entries a client may ask for.
pub const MAX_TOP: usize = 100;

/// Counts per severity label.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SeverityCounts")]
pub struct SeverityCountsGql {
    /// Low.
    pub low: u64,
    /// Medium.
    pub medium: u64,
    /// High.
    pub high: u64,
    /// Critical.
    pub critical: u64,
}

impl From<&gdlens_index::SeverityCounts> for SeverityCountsGql {
    fn from(c: &gdlens_index::SeverityCounts) -> Self {
        SeverityCountsGql {
            low: c.low,
            medium: c.medium,
            high: c.high,
            critical: c.critical,
        }
    }
}

/// One UTC day of the severity trend.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "SeverityTrendPoint")]
pub struct SeverityTrendPointGql {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Low.
    pub low: u64,
    /// Medium.
    pub medium: u64,
    /// High.
    pub high: u64,
    /// Critical.
    pub critical: u64,
}

/// A finding type with its counts.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "FindingTypeStat")]
pub struct FindingTypeStatGql {
    /// Finding type.
    #[graphql(name = "type")]
    pub finding_type: String,
    /// Findings.
    pub count: u64,
    /// Highest severity.
    pub max_severity: f64,
    /// Accounts affected.
    pub accounts: u64,
    /// Last seen.
    pub last_seen: DateTime<Utc>,
}

impl From<&gdlens_index::FindingTypeStat> for FindingTypeStatGql {
    fn from(s: &gdlens_index::FindingTypeStat) -> Self {
        FindingTypeStatGql {
            finding_type: s.finding_type.clone(),
            count: s.count,
            max_severity: s.max_severity,
            accounts: s.accounts,
            last_seen: dt(s.last_seen),
        }
    }
}

/// A resource with many findings.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "ResourceStat")]
pub struct ResourceStatGql {
    /// Resource key.
    pub resource_key: String,
    /// Resource type.
    pub resource_type: String,
    /// Account.
    pub account_id: String,
    /// Findings.
    pub count: u64,
    /// Distinct finding types.
    pub distinct_types: u64,
    /// Highest severity.
    pub max_severity: f64,
}

/// An account with many findings.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "AccountStat")]
pub struct AccountStatGql {
    /// Account id.
    pub account_id: String,
    /// Name.
    pub name: String,
    /// Criticality.
    pub criticality: String,
    /// Findings.
    pub count: u64,
    /// Per severity label.
    pub by_severity: SeverityCountsGql,
}

/// A type seen for the first time in an account during the period.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "NewType")]
pub struct NewTypeGql {
    /// Finding type.
    #[graphql(name = "type")]
    pub finding_type: String,
    /// Account.
    pub account_id: String,
    /// First seen.
    pub first_seen: DateTime<Utc>,
}

/// Change against the previous period of the same length.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "PeriodChange")]
pub struct PeriodChangeGql {
    /// Previous period start.
    pub previous_since: DateTime<Utc>,
    /// Previous period end.
    pub previous_before: DateTime<Utc>,
    /// Findings in the previous period.
    pub previous_total: u64,
    /// Current minus previous.
    pub total_delta: i64,
}

/// Which regions the data covers.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Coverage")]
pub struct CoverageGql {
    /// Regions with findings in scope.
    pub regions: Vec<String>,
    /// Sync status per region (empty without AWS).
    pub sync: Vec<SyncStatusGql>,
}

/// The org-wide summary dashboard.
pub struct SummaryGql {
    /// Cached data.
    pub data: std::sync::Arc<SummaryData>,
    /// Coverage.
    pub coverage: CoverageGql,
    /// What `sla` is computed from (only when asked for).
    pub sla: SlaSource,
}

/// The snapshot, filter and scope of a summary: `Summary.sla` is computed from them on demand,
/// judged at now truncated to the minute.
pub struct SlaSource {
    /// The snapshot the summary was answered from.
    pub snapshot: Arc<Snapshot>,
    /// The normalized filter.
    pub filter: gdlens_domain::FindingFilter,
    /// The caller's scope.
    pub scope: gdlens_domain::Scope,
    /// The request's CPU budget.
    pub budget: Arc<RequestBudget>,
}

/// SLA aging of the summary's findings (targets from `[sla]`; docs/sla-and-hardening.md).
pub struct SlaGql {
    snapshot: Arc<Snapshot>,
    sla: gdlens_index::SlaSummary,
    targets: gdlens_domain::SlaTargets,
}

/// SLA aging of the summary's findings: targets per severity from `[sla]`, counted from
/// `createdAt`; judged at now truncated to the minute.
#[Object(name = "SlaSummary")]
impl SlaGql {
    /// Open findings past their target (open: not archived, not RESOLVED, SUPPRESSED or
    /// FALSE_POSITIVE; target counted from `createdAt`).
    async fn overdue(&self) -> u64 {
        self.sla.overdue
    }
    /// Overdue findings per severity label.
    async fn by_severity(&self) -> SeverityCountsGql {
        (&self.sla.by_severity).into()
    }
    /// Open findings, overdue or not.
    async fn open(&self) -> u64 {
        self.sla.open
    }
    /// The open finding that has waited longest (earliest `createdAt`; ties by id), or null.
    /// Its `createdAt` is when the wait began.
    async fn oldest_open(&self) -> Option<FindingGql> {
        self.sla
            .oldest_open
            .map(|row| FindingGql::new(&self.snapshot, row, None, None))
    }
    /// The instant the answer was judged at (now, truncated to the minute).
    async fn as_of(&self) -> DateTime<Utc> {
        dt(self.sla.as_of)
    }
    /// The targets in force, in hours per severity label.
    async fn target_hours(&self) -> SeverityCountsGql {
        let h = |ms: i64| (ms / 3_600_000).max(0) as u64;
        SeverityCountsGql {
            low: h(self.targets.low_ms),
            medium: h(self.targets.medium_ms),
            high: h(self.targets.high_ms),
            critical: h(self.targets.critical_ms),
        }
    }
}

fn lim(limit: Option<i32>) -> usize {
    limit
        .map(|l| l.clamp(0, MAX_TOP as i32) as usize)
        .unwrap_or(10)
}

/// The summary widgets.
#[Object(name = "Summary")]
impl SummaryGql {
    /// Findings.
    async fn total(&self) -> u64 {
        self.data.summary.total
    }
    /// Per severity label.
    async fn by_severity(&self) -> SeverityCountsGql {
        (&self.data.summary.by_severity).into()
    }
    /// Accounts with findings.
    async fn accounts_affected(&self) -> u64 {
        self.data.summary.accounts_affected
    }
    /// Resources with findings.
    async fn resources_affected(&self) -> u64 {
        self.data.summary.resources_affected
    }
    /// GuardDuty attack-sequence findings.
    async fn attack_sequences(&self) -> u64 {
        self.data.summary.attack_sequences
    }
    /// Finding groups with a matching visible member.
    async fn finding_groups(&self) -> u64 {
        self.data.finding_groups
    }
    /// Per UTC day of `updatedAt`.
    async fn severity_trend(&self) -> Vec<SeverityTrendPointGql> {
        self.data
            .summary
            .severity_trend
            .iter()
            .map(|p| SeverityTrendPointGql {
                date: p.date.clone(),
                low: p.low,
                medium: p.medium,
                high: p.high,
                critical: p.critical,
            })
            .collect()
    }
    /// Most common finding types (limit ≤ 100, default 10).
    async fn top_finding_types(&self, limit: Option<i32>) -> Vec<FindingTypeStatGql> {
        self.data
            .summary
            .top_finding_types
            .iter()
            .take(lim(limit))
            .map(Into::into)
            .collect()
    }
    /// Resources with most findings.
    async fn top_resources(&self, limit: Option<i32>) -> Vec<ResourceStatGql> {
        self.data
            .summary
            .top_resources
            .iter()
            .take(lim(limit))
            .map(|r| ResourceStatGql {
                resource_key: r.resource_key.clone(),
                resource_type: r.resource_type.clone(),
                account_id: r.account_id.clone(),
                count: r.count,
                distinct_types: r.distinct_types,
                max_severity: r.max_severity,
            })
            .collect()
    }
    /// Accounts with most findings.
    async fn top_accounts(&self, limit: Option<i32>) -> Vec<AccountStatGql> {
        self.data
            .summary
            .top_accounts
            .iter()
            .take(lim(limit))
            .map(|a| AccountStatGql {
                account_id: a.account_id.clone(),
                name: a.name.clone(),
                criticality: a.criticality.as_str().to_string(),
                count: a.count,
                by_severity: (&a.by_severity).into(),
            })
            .collect()
    }
    /// Least frequent finding types (High and above, as the console does).
    async fn least_frequent_types(&self, limit: Option<i32>) -> Vec<FindingTypeStatGql> {
        self.data
            .summary
            .least_frequent_types
            .iter()
            .take(lim(limit))
            .map(Into::into)
            .collect()
    }
    /// Types new to an account in the period.
    async fn new_types(&self) -> Vec<NewTypeGql> {
        self.data
            .summary
            .new_types
            .iter()
            .map(|n| NewTypeGql {
                finding_type: n.finding_type.clone(),
                account_id: n.account_id.clone(),
                first_seen: dt(n.first_seen),
            })
            .collect()
    }
    /// Change against the previous period (only with `updatedSince`).
    async fn change(&self) -> Option<PeriodChangeGql> {
        self.data.summary.change.as_ref().map(|c| PeriodChangeGql {
            previous_since: dt(c.previous.since),
            previous_before: dt(c.previous.before),
            previous_total: c.previous_total,
            total_delta: c.total_delta,
        })
    }
    /// Which regions are covered.
    async fn coverage(&self) -> &CoverageGql {
        &self.coverage
    }
    /// Data generation the numbers were computed at.
    async fn generation(&self) -> u64 {
        self.data.summary.generation
    }
    /// SLA aging: overdue findings by severity and the oldest open finding, over the same
    /// filter and scope, judged at now truncated to the minute.
    async fn sla(&self) -> ApiResult<SlaGql> {
        let src = &self.sla;
        let (snapshot, filter, scope) =
            (src.snapshot.clone(), src.filter.clone(), src.scope.clone());
        let now = gdlens_domain::sla::truncate_to_minute(now_ms());
        let sla = blocking(src.budget.clone(), move |_| {
            Ok(snapshot.index.sla(&filter, &scope, now))
        })
        .await?;
        Ok(SlaGql {
            snapshot: src.snapshot.clone(),
            targets: src.snapshot.index.sla_targets(),
            sla,
        })
    }
}
