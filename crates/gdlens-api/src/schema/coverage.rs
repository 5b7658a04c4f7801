//! Issue 17's coverage matrix in GraphQL: per account × region, whether GuardDuty watches the
//! account, its relationship to the delegated administrator and which protection plans run, with
//! the gaps computed (`gdlens_domain::coverage`), gaps first. A scoped caller sees only its
//! accounts' rows and totals; region errors and detector details are for whole-org callers.

use std::collections::{BTreeMap, BTreeSet};

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};
use gdlens_domain::coverage::{
    CoverageAccount, CoverageCell, CoverageMatrix, CoverageState, GapKind, RegionCoverage,
};
use gdlens_domain::time::EpochMillis;
use gdlens_domain::Scope;

use super::types::dt;
use super::{caller, state};
use crate::error::{ApiError, ApiResult};

/// Most account ids or regions a filter may name.
pub const MAX_FILTER_VALUES: usize = 500;

/// How well an account × region is covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "CoverageState")]
pub enum CoverageStateGql {
    /// Watched, every checked protection plan on.
    Covered,
    /// Watched, some protection plans off.
    Partial,
    /// Not watched: no detector in the region, not a member, or a member not enabled.
    NotEnabled,
}

impl From<CoverageState> for CoverageStateGql {
    fn from(s: CoverageState) -> Self {
        match s {
            CoverageState::Covered => Self::Covered,
            CoverageState::Partial => Self::Partial,
            CoverageState::NotEnabled => Self::NotEnabled,
        }
    }
}

/// Why a cell is not fully covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "CoverageGapKind")]
pub enum GapKindGql {
    /// The delegated administrator has no detector in the region.
    NoDetector,
    /// The account is not a member in the region.
    NotMember,
    /// A member not enabled (invited, disabled, removed…) or whose detector was not reported.
    NotEnabled,
    /// A protection plan is off (`plan` names it).
    PlanOff,
}

impl From<GapKind> for GapKindGql {
    fn from(k: GapKind) -> Self {
        match k {
            GapKind::NoDetector => Self::NoDetector,
            GapKind::NotMember => Self::NotMember,
            GapKind::NotEnabled => Self::NotEnabled,
            GapKind::PlanOff => Self::PlanOff,
        }
    }
}

/// Which cells to return.
#[derive(Debug, Clone, Default, InputObject)]
#[graphql(name = "CoverageFilter")]
pub struct CoverageFilterInput {
    /// Only these accounts (within the caller's scope).
    pub account_ids: Option<Vec<String>>,
    /// Only these regions.
    pub regions: Option<Vec<String>>,
    /// Only accounts with at least one gap.
    pub gaps_only: Option<bool>,
}

/// One gap of a cell.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CoverageGap")]
pub struct GapGql {
    /// What kind of gap.
    pub kind: GapKindGql,
    /// The plan that is off (`PLAN_OFF` only), e.g. `RUNTIME_MONITORING`.
    pub plan: Option<String>,
}

/// A detector feature (protection plan or data source) and its status.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CoverageFeature")]
pub struct FeatureGql {
    /// GuardDuty's name, e.g. `S3_DATA_EVENTS`.
    pub name: String,
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    /// Additional configuration (e.g. `EKS_ADDON_MANAGEMENT` under runtime monitoring), as
    /// `NAME=STATUS`.
    pub additional: Vec<String>,
}

/// A plan and the cells where it is off.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CoveragePlanGaps")]
pub struct PlanGapsGql {
    /// The plan.
    pub plan: String,
    /// Account × region cells with it off.
    pub cells: u64,
}

/// Totals over the matrix the caller sees.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CoverageTotals")]
pub struct TotalsGql {
    /// Accounts.
    pub accounts: u64,
    /// Regions.
    pub regions: u64,
    /// Account × region cells.
    pub cells: u64,
    /// Cells fully covered.
    pub covered: u64,
    /// Cells with some plans off.
    pub partial: u64,
    /// Cells not enabled.
    pub not_enabled: u64,
    /// Cells with each plan off (plans off nowhere left out).
    pub gaps_by_plan: Vec<PlanGapsGql>,
}

/// A region of the matrix and its last check.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CoverageRegion")]
pub struct RegionGql {
    /// Region.
    pub region: String,
    /// When coverage was last checked.
    pub checked_at: DateTime<Utc>,
    /// Last successful findings sync of the region (null without one).
    pub last_sync_at: Option<DateTime<Utc>>,
    /// Stable code of the last coverage error (`no_detector`, `access_denied`, `throttled`…).
    pub error_code: Option<String>,
    /// Its message (whole-org callers only).
    pub error: Option<String>,
}

/// One account × region.
pub struct CellGql {
    cell: CoverageCell,
    last_sync_at: Option<EpochMillis>,
}

/// One account × region: covered, partial or not enabled, and why.
#[Object(name = "CoverageCell")]
impl CellGql {
    /// Region.
    async fn region(&self) -> &str {
        &self.cell.region
    }
    /// Covered, partial or not enabled.
    async fn state(&self) -> CoverageStateGql {
        self.cell.state.into()
    }
    /// Whether GuardDuty reported a detector for the account here.
    async fn detector_present(&self) -> bool {
        self.cell.row.as_ref().is_some_and(|r| r.detector_present)
    }
    /// Relationship to the delegated administrator (`Enabled`, `Invited`, `Disabled`,
    /// `Removed`…); null for the administrator itself and for accounts that are not members.
    async fn relationship_status(&self) -> Option<&str> {
        self.cell
            .row
            .as_ref()
            .and_then(|r| r.relationship_status.as_deref())
    }
    /// Checked protection plans that are on.
    async fn plans_enabled(&self) -> Vec<&'static str> {
        self.cell
            .row
            .as_ref()
            .map(|r| r.plans_on())
            .unwrap_or_default()
    }
    /// Checked protection plans that are off.
    async fn plans_disabled(&self) -> Vec<&'static str> {
        self.cell
            .row
            .as_ref()
            .map(|r| r.plans_off())
            .unwrap_or_default()
    }
    /// Every feature GuardDuty reported, as it reported it.
    async fn features(&self) -> Vec<FeatureGql> {
        self.cell
            .row
            .iter()
            .flat_map(|r| &r.features)
            .map(|f| FeatureGql {
                name: f.name.clone(),
                status: f.status.clone(),
                additional: f
                    .additional
                    .iter()
                    .map(|a| format!("{}={}", a.name, a.status))
                    .collect(),
            })
            .collect()
    }
    /// What is missing here.
    async fn gaps(&self) -> Vec<GapGql> {
        self.cell
            .gaps
            .iter()
            .map(|g| GapGql {
                kind: g.kind.into(),
                plan: g.plan.clone(),
            })
            .collect()
    }
    /// When this account × region was checked (null without a row).
    async fn checked_at(&self) -> Option<DateTime<Utc>> {
        self.cell.row.as_ref().map(|r| dt(r.checked_at))
    }
    /// Last successful findings sync of the region.
    async fn last_sync_at(&self) -> Option<DateTime<Utc>> {
        self.last_sync_at.map(dt)
    }
}

/// One account's row of the matrix.
pub struct AccountGql {
    account: CoverageAccount,
    last_sync: BTreeMap<String, EpochMillis>,
}

/// One account's row: its cells per region, in the matrix's region order.
#[Object(name = "CoverageAccount")]
impl AccountGql {
    /// Account id.
    async fn account_id(&self) -> &str {
        &self.account.account_id
    }
    /// Name, where the organization's account config knows it.
    async fn name(&self) -> Option<&str> {
        self.account.name.as_deref()
    }
    /// Criticality (`unknown` when not configured).
    async fn criticality(&self) -> &'static str {
        self.account.criticality.as_str()
    }
    /// Whether it is the delegated administrator's account.
    async fn administrator(&self) -> bool {
        self.account.administrator
    }
    /// Gaps over every region.
    async fn gap_count(&self) -> u64 {
        self.account.gap_count() as u64
    }
    /// One cell per region.
    async fn cells(&self) -> Vec<CellGql> {
        self.account
            .cells
            .iter()
            .map(|c| CellGql {
                cell: c.clone(),
                last_sync_at: self.last_sync.get(&c.region).copied(),
            })
            .collect()
    }
}

/// The coverage matrix: accounts × regions, gaps first.
pub struct MatrixGql {
    matrix: CoverageMatrix,
    last_sync: BTreeMap<String, EpochMillis>,
    whole_org: bool,
}

/// Accounts × regions: detector, relationship and protection plans per cell, gaps first.
#[Object(name = "CoverageMatrix")]
impl MatrixGql {
    /// The regions checked, by name.
    async fn regions(&self) -> Vec<RegionGql> {
        self.matrix
            .regions
            .iter()
            .map(|r| RegionGql {
                region: r.region.clone(),
                checked_at: dt(r.checked_at),
                last_sync_at: self.last_sync.get(&r.region).copied().map(dt),
                error_code: r.error_code.clone(),
                error: r.error_message.clone().filter(|_| self.whole_org),
            })
            .collect()
    }
    /// Accounts, most not-enabled cells first, then most gaps, then highest criticality.
    async fn accounts(&self) -> Vec<AccountGql> {
        self.matrix
            .accounts
            .iter()
            .map(|a| AccountGql {
                account: a.clone(),
                last_sync: self.last_sync.clone(),
            })
            .collect()
    }
    /// Totals over what the caller sees.
    async fn totals(&self) -> TotalsGql {
        let t = &self.matrix.totals;
        TotalsGql {
            accounts: t.accounts as u64,
            regions: t.regions as u64,
            cells: t.cells as u64,
            covered: t.covered as u64,
            partial: t.partial as u64,
            not_enabled: t.not_enabled as u64,
            gaps_by_plan: t
                .plans_off
                .iter()
                .map(|(plan, n)| PlanGapsGql {
                    plan: plan.clone(),
                    cells: *n as u64,
                })
                .collect(),
        }
    }
}

fn limited(argument: &str, list: &Option<Vec<String>>) -> ApiResult<Option<BTreeSet<String>>> {
    match list {
        Some(l) if l.len() > MAX_FILTER_VALUES => Err(ApiError::bad_input(
            argument,
            format!("at most {MAX_FILTER_VALUES} values, got {}", l.len()),
        )),
        Some(l) => Ok(Some(l.iter().cloned().collect())),
        None => Ok(None),
    }
}

/// Resolves `coverageMatrix(filter)`.
pub(crate) async fn run(
    ctx: &Context<'_>,
    filter: Option<CoverageFilterInput>,
) -> ApiResult<MatrixGql> {
    let filter = filter.unwrap_or_default();
    let accounts_wanted = limited("filter.accountIds", &filter.account_ids)?;
    let regions_wanted = limited("filter.regions", &filter.regions)?;
    let st = state(ctx);
    let scope = caller(ctx).scope.clone();
    let known = st.snapshot().accounts.clone();
    let (coverage, statuses) = st
        .with_store(|s| Ok((s.coverage()?, s.sync_status()?)))
        .await?;
    let mut last_sync: BTreeMap<String, EpochMillis> = BTreeMap::new();
    for s in statuses {
        if let Some(t) = s.last_success_at {
            let e = last_sync.entry(s.region).or_insert(t);
            *e = (*e).max(t);
        }
    }
    let coverage: Vec<RegionCoverage> = coverage
        .into_iter()
        .filter(|r| {
            regions_wanted
                .as_ref()
                .is_none_or(|w| w.contains(&r.region))
        })
        .collect();
    // The caller's scope, narrowed to the accounts asked for.
    let scope = match accounts_wanted {
        None => (*scope).clone(),
        Some(wanted) => Scope::Accounts(wanted.into_iter().filter(|a| scope.allows(a)).collect()),
    };
    let mut matrix = CoverageMatrix::build(&coverage, &known, &scope);
    if filter.gaps_only == Some(true) {
        matrix.accounts.retain(|a| a.gap_count() > 0);
    }
    Ok(MatrixGql {
        matrix,
        last_sync,
        whole_org: matches!(*caller(ctx).scope, Scope::All),
    })
}
