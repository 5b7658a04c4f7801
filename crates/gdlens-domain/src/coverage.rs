//! GuardDuty coverage: per account × region, whether a detector watches the account and which
//! protection plans it runs — what the console's "protection plans coverage" shows — and the
//! gaps that follow from it. Pure: the sync fills [`RegionCoverage`], every surface reads it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::account::{Account, Criticality};
use crate::filter::Scope;
use crate::time::EpochMillis;

/// The protection plans gdlens checks, as GuardDuty names them (the foundational sources,
/// CloudTrail, DNS and VPC flow logs, come with every detector). Runtime monitoring counts as on
/// when either `RUNTIME_MONITORING` or the older `EKS_RUNTIME_MONITORING` is enabled.
pub const PLANS: [&str; 6] = [
    "S3_DATA_EVENTS",
    "EKS_AUDIT_LOGS",
    "EBS_MALWARE_PROTECTION",
    "RDS_LOGIN_EVENTS",
    "RUNTIME_MONITORING",
    "LAMBDA_NETWORK_LOGS",
];

/// One feature of a detector (GuardDuty `features[]`): its name, `ENABLED` or `DISABLED`, and
/// its additional configuration (e.g. `EKS_ADDON_MANAGEMENT` under runtime monitoring).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageFeature {
    pub name: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional: Vec<CoverageFeature>,
}

impl CoverageFeature {
    /// A feature with no additional configuration.
    pub fn new(name: &str, status: &str) -> Self {
        Self {
            name: name.to_string(),
            status: status.to_string(),
            additional: Vec::new(),
        }
    }

    /// Whether GuardDuty reports it `ENABLED`.
    pub fn enabled(&self) -> bool {
        self.status.eq_ignore_ascii_case("ENABLED")
    }
}

/// Coverage of one account in one region, as the delegated administrator sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageRow {
    pub region: String,
    pub account_id: String,
    /// The delegated administrator's own account (no relationship status).
    pub administrator: bool,
    /// ListMembers `relationshipStatus` (`Enabled`, `Invited`, `Disabled`, `Removed`, …).
    pub relationship_status: Option<String>,
    /// Whether a detector configuration was returned for the account (GetDetector for the
    /// administrator, GetMemberDetectors for a member).
    pub detector_present: bool,
    pub features: Vec<CoverageFeature>,
    /// When the sync read it (epoch ms).
    pub checked_at: EpochMillis,
}

/// The coverage of one region as last checked: its rows, and the last error of the coverage
/// calls (which never fail the findings sync).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegionCoverage {
    pub region: String,
    pub checked_at: EpochMillis,
    /// Stable code of the last failure (`no_detector`, `access_denied`, `throttled`, …).
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub rows: Vec<CoverageRow>,
}

/// How well one account × region is covered, at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CoverageState {
    /// No detector watches the account here (not a member, not enabled, no detector).
    NotEnabled,
    /// Watched, with some protection plans off.
    Partial,
    /// Watched, every checked plan on.
    Covered,
}

impl CoverageState {
    /// Lower-case name (CLI and JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotEnabled => "not_enabled",
            Self::Partial => "partial",
            Self::Covered => "covered",
        }
    }
}

/// Why a cell is not fully covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GapKind {
    /// The administrator has no detector in the region, so nothing there is watched.
    NoDetector,
    /// The account is not a member of the administrator in this region.
    NotMember,
    /// A member whose relationship is not `Enabled` (invited, disabled, removed…), or whose
    /// detector GuardDuty did not report.
    NotEnabled,
    /// A protection plan is off.
    PlanOff,
}

impl GapKind {
    /// Lower-case name (CLI and JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoDetector => "no_detector",
            Self::NotMember => "not_member",
            Self::NotEnabled => "not_enabled",
            Self::PlanOff => "plan_off",
        }
    }
}

/// One gap of a cell: its kind, and the plan that is off for [`GapKind::PlanOff`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageGap {
    pub kind: GapKind,
    pub plan: Option<String>,
}

impl CoverageGap {
    fn of(kind: GapKind) -> Self {
        Self { kind, plan: None }
    }
}

impl CoverageRow {
    /// Whether the row's account is watched at all: the administrator with a detector, or a
    /// member whose relationship is `Enabled` and whose detector GuardDuty reported.
    pub fn enabled(&self) -> bool {
        self.detector_present
            && (self.administrator
                || self
                    .relationship_status
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("Enabled")))
    }

    /// A plan's status: `Some(true)` on, `Some(false)` off, `None` not reported.
    pub fn plan_enabled(&self, plan: &str) -> Option<bool> {
        let named = |name: &str| self.features.iter().find(|f| f.name == name);
        if plan == "RUNTIME_MONITORING" {
            let (new, old) = (named("RUNTIME_MONITORING"), named("EKS_RUNTIME_MONITORING"));
            return match (new, old) {
                (None, None) => None,
                _ => Some(
                    new.is_some_and(CoverageFeature::enabled)
                        || old.is_some_and(CoverageFeature::enabled),
                ),
            };
        }
        named(plan).map(CoverageFeature::enabled)
    }

    /// The plans of [`PLANS`] reported on, in a detector that is enabled (none otherwise).
    pub fn plans_on(&self) -> Vec<&'static str> {
        PLANS
            .into_iter()
            .filter(|p| self.enabled() && self.plan_enabled(p) == Some(true))
            .collect()
    }

    /// The plans of [`PLANS`] reported off.
    pub fn plans_off(&self) -> Vec<&'static str> {
        PLANS
            .into_iter()
            .filter(|p| self.plan_enabled(p) == Some(false))
            .collect()
    }

    /// The cell's gaps: not enabled, or each plan off.
    pub fn gaps(&self) -> Vec<CoverageGap> {
        if !self.enabled() {
            return vec![CoverageGap::of(GapKind::NotEnabled)];
        }
        self.plans_off()
            .into_iter()
            .map(|p| CoverageGap {
                kind: GapKind::PlanOff,
                plan: Some(p.to_string()),
            })
            .collect()
    }

    /// Covered, partial or not enabled.
    pub fn state(&self) -> CoverageState {
        if !self.enabled() {
            CoverageState::NotEnabled
        } else if self.plans_off().is_empty() {
            CoverageState::Covered
        } else {
            CoverageState::Partial
        }
    }
}

/// The gap of an account × region with no row: the region has no detector at all, or the
/// account is not a member there.
pub fn missing_row_gap(region: &RegionCoverage) -> CoverageGap {
    if region.error_code.as_deref() == Some("no_detector") {
        CoverageGap::of(GapKind::NoDetector)
    } else {
        CoverageGap::of(GapKind::NotMember)
    }
}

/// One account × region of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageCell {
    pub region: String,
    pub state: CoverageState,
    /// The stored row (`None`: the account is not a member there, or the region has no detector).
    pub row: Option<CoverageRow>,
    pub gaps: Vec<CoverageGap>,
}

/// One account's row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageAccount {
    pub account_id: String,
    pub name: Option<String>,
    pub criticality: Criticality,
    /// The delegated administrator's account.
    pub administrator: bool,
    /// One cell per region of the matrix, in its order.
    pub cells: Vec<CoverageCell>,
}

impl CoverageAccount {
    /// Cells not enabled.
    pub fn not_enabled(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| c.state == CoverageState::NotEnabled)
            .count()
    }

    /// Gaps over every cell.
    pub fn gap_count(&self) -> usize {
        self.cells.iter().map(|c| c.gaps.len()).sum()
    }
}

/// Totals of a matrix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageTotals {
    pub accounts: usize,
    pub regions: usize,
    /// Account × region cells.
    pub cells: usize,
    pub covered: usize,
    pub partial: usize,
    pub not_enabled: usize,
    /// Cells with each plan off, in [`PLANS`] order (plans off nowhere left out).
    pub plans_off: Vec<(String, usize)>,
}

/// The coverage matrix a caller sees: accounts × regions, gaps first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CoverageMatrix {
    /// The regions checked, by name, with their last check.
    pub regions: Vec<RegionCoverage>,
    pub accounts: Vec<CoverageAccount>,
    pub totals: CoverageTotals,
}

impl CoverageMatrix {
    /// Builds the matrix of `coverage` for `scope`: every account with a row somewhere or named
    /// in `accounts` (the organization as configured), if in scope; rows of other accounts never
    /// show, and the regions keep no rows. Accounts sort by not-enabled cells, then gaps, then
    /// criticality (highest first), then id.
    pub fn build(
        coverage: &[RegionCoverage],
        accounts: &BTreeMap<String, Account>,
        scope: &Scope,
    ) -> CoverageMatrix {
        let mut regions: Vec<RegionCoverage> = coverage
            .iter()
            .map(|r| RegionCoverage {
                rows: Vec::new(),
                ..r.clone()
            })
            .collect();
        regions.sort_by(|a, b| a.region.cmp(&b.region));
        if regions.is_empty() {
            return CoverageMatrix {
                regions,
                accounts: Vec::new(),
                totals: CoverageTotals::default(),
            };
        }
        let rows: BTreeMap<(&str, &str), &CoverageRow> = coverage
            .iter()
            .flat_map(|r| &r.rows)
            .filter(|r| scope.allows(&r.account_id))
            .map(|r| ((r.account_id.as_str(), r.region.as_str()), r))
            .collect();
        let ids: BTreeSet<&str> = rows
            .keys()
            .map(|(a, _)| *a)
            .chain(accounts.keys().map(String::as_str))
            .filter(|a| scope.allows(a))
            .collect();
        let by_region: BTreeMap<&str, &RegionCoverage> =
            coverage.iter().map(|r| (r.region.as_str(), r)).collect();
        let mut list: Vec<CoverageAccount> = ids
            .into_iter()
            .map(|id| {
                let cells: Vec<CoverageCell> = regions
                    .iter()
                    .map(|region| match rows.get(&(id, region.region.as_str())) {
                        Some(row) => CoverageCell {
                            region: region.region.clone(),
                            state: row.state(),
                            row: Some((*row).clone()),
                            gaps: row.gaps(),
                        },
                        None => CoverageCell {
                            region: region.region.clone(),
                            state: CoverageState::NotEnabled,
                            row: None,
                            gaps: vec![missing_row_gap(by_region[region.region.as_str()])],
                        },
                    })
                    .collect();
                let account = accounts.get(id);
                CoverageAccount {
                    account_id: id.to_string(),
                    name: account.map(|a| a.name.clone()),
                    criticality: account.map(|a| a.criticality).unwrap_or_default(),
                    administrator: cells
                        .iter()
                        .any(|c| c.row.as_ref().is_some_and(|r| r.administrator)),
                    cells,
                }
            })
            .collect();
        list.sort_by(|a, b| {
            b.not_enabled()
                .cmp(&a.not_enabled())
                .then(b.gap_count().cmp(&a.gap_count()))
                .then(b.criticality.cmp(&a.criticality))
                .then(a.account_id.cmp(&b.account_id))
        });
        let cells: Vec<&CoverageCell> = list.iter().flat_map(|a| &a.cells).collect();
        let count = |s| cells.iter().filter(|c| c.state == s).count();
        let plans_off = PLANS
            .iter()
            .map(|p| {
                let n = cells
                    .iter()
                    .filter(|c| c.gaps.iter().any(|g| g.plan.as_deref() == Some(*p)))
                    .count();
                (p.to_string(), n)
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        CoverageMatrix {
            totals: CoverageTotals {
                accounts: list.len(),
                regions: regions.len(),
                cells: cells.len(),
                covered: count(CoverageState::Covered),
                partial: count(CoverageState::Partial),
                not_enabled: count(CoverageState::NotEnabled),
                plans_off,
            },
            regions,
            accounts: list,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(relationship: &str, features: Vec<CoverageFeature>) -> CoverageRow {
        CoverageRow {
            region: "us-east-1".into(),
            account_id: "111122223333".into(),
            administrator: false,
            relationship_status: Some(relationship.into()),
            detector_present: true,
            features,
            checked_at: 1,
        }
    }

    fn all(status: &str) -> Vec<CoverageFeature> {
        PLANS
            .iter()
            .map(|p| CoverageFeature::new(p, status))
            .collect()
    }

    #[test]
    fn states_and_gaps() {
        assert_eq!(
            row("Enabled", all("ENABLED")).state(),
            CoverageState::Covered
        );
        let mut partial = all("ENABLED");
        partial[4].status = "DISABLED".into();
        let r = row("Enabled", partial);
        assert_eq!(r.state(), CoverageState::Partial);
        assert_eq!(
            r.gaps(),
            vec![CoverageGap {
                kind: GapKind::PlanOff,
                plan: Some("RUNTIME_MONITORING".into())
            }]
        );
        let invited = row("Invited", all("ENABLED"));
        assert_eq!(invited.state(), CoverageState::NotEnabled);
        assert_eq!(invited.gaps()[0].kind, GapKind::NotEnabled);
    }

    #[test]
    fn the_matrix_shows_only_the_scope_and_sorts_gaps_first() {
        let mut partial = row("Enabled", all("ENABLED"));
        partial.account_id = "444455556666".into();
        partial.features[0].status = "DISABLED".into();
        let east = RegionCoverage {
            region: "us-east-1".into(),
            checked_at: 1,
            error_code: None,
            error_message: None,
            rows: vec![row("Enabled", all("ENABLED")), partial],
        };
        let west = RegionCoverage {
            region: "eu-west-1".into(),
            checked_at: 1,
            error_code: Some("no_detector".into()),
            error_message: None,
            rows: vec![],
        };
        let coverage = [east, west];
        let m = CoverageMatrix::build(&coverage, &BTreeMap::new(), &Scope::All);
        assert_eq!(
            m.regions
                .iter()
                .map(|r| r.region.as_str())
                .collect::<Vec<_>>(),
            ["eu-west-1", "us-east-1"]
        );
        assert!(m.regions.iter().all(|r| r.rows.is_empty()));
        assert_eq!(m.accounts[0].account_id, "444455556666", "more gaps first");
        assert_eq!(m.accounts[0].cells[0].gaps[0].kind, GapKind::NoDetector);
        assert_eq!(m.totals.cells, 4);
        assert_eq!(
            (m.totals.covered, m.totals.partial, m.totals.not_enabled),
            (1, 1, 2)
        );
        assert_eq!(m.totals.plans_off, vec![("S3_DATA_EVENTS".to_string(), 1)]);

        let scope = Scope::Accounts(["111122223333".to_string()].into());
        let m = CoverageMatrix::build(&coverage, &BTreeMap::new(), &scope);
        assert_eq!(m.accounts.len(), 1);
        assert_eq!(m.accounts[0].account_id, "111122223333");
        assert!(m.totals.plans_off.is_empty());
    }

    #[test]
    fn either_runtime_monitoring_feature_counts() {
        let mut f = all("ENABLED");
        f[4] = CoverageFeature::new("EKS_RUNTIME_MONITORING", "ENABLED");
        f.push(CoverageFeature::new("RUNTIME_MONITORING", "DISABLED"));
        assert_eq!(
            row("Enabled", f).plan_enabled("RUNTIME_MONITORING"),
            Some(true)
        );
        assert_eq!(row("Enabled", vec![]).plan_enabled("S3_DATA_EVENTS"), None);
    }
}
