//! Issue 17's hardening view in GraphQL: the most common finding types among the caller's
//! findings, with what to fix (`gdlens_domain::remediation`), the accounts and resources they
//! touch, and the trend around `since`. Computed from the index on the blocking pool; a scoped
//! caller's numbers come from its accounts only (the scope is compiled into the filter).

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::inputs::SeverityLabelGql;
use super::{blocking, budget, caller, filter_of, state, FindingFilterInput};
use crate::error::{ApiError, ApiResult};

/// Default number of finding types.
pub const DEFAULT_HARDENING: usize = 10;
/// Largest `limit` of `hardening`.
pub const MAX_HARDENING: usize = 100;
/// Most resources kept per finding type (`resources(limit)` takes from these).
pub const MAX_HARDENING_RESOURCES: usize = 100;

/// A resource a finding type touched.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "HardeningResource")]
pub struct HardeningResourceGql {
    /// Instance id, access key id, bucket name…
    pub resource_key: String,
    /// e.g. `Instance`, `AccessKey`, `S3Bucket`.
    pub resource_type: String,
    /// The resource's account.
    pub account_id: String,
    /// Findings of this type naming it.
    pub count: u64,
}

/// One finding type of the hardening view.
pub struct HardeningItemGql(gdlens_index::HardeningItem);

/// One finding type of the hardening view: what to fix, where it lands, and its trend.
#[Object(name = "HardeningItem")]
impl HardeningItemGql {
    /// The finding type, e.g. `UnauthorizedAccess:EC2/SSHBruteForce`.
    async fn finding_type(&self) -> &str {
        &self.0.finding_type
    }
    /// What to fix so that findings of this type stop (per threat family; see
    /// docs/sla-and-hardening.md).
    async fn what_to_fix(&self) -> &'static str {
        gdlens_domain::remediation::what_to_fix(&self.0.finding_type)
    }
    /// Matching findings of this type.
    async fn count(&self) -> u64 {
        self.0.count
    }
    /// Highest severity label among them.
    async fn max_severity(&self) -> SeverityLabelGql {
        self.0.max_severity.into()
    }
    /// Affected accounts (sorted ids).
    async fn accounts(&self) -> &[String] {
        &self.0.accounts
    }
    /// Number of affected accounts.
    async fn account_count(&self) -> u64 {
        self.0.accounts.len() as u64
    }
    /// Number of distinct affected resources.
    async fn resource_count(&self) -> u64 {
        self.0.resource_count
    }
    /// The most affected resources, most findings first (limit ≤ 100, default 10).
    async fn resources(&self, limit: Option<i32>) -> Vec<HardeningResourceGql> {
        let n = limit.map_or(10, |l| l.clamp(0, MAX_HARDENING_RESOURCES as i32) as usize);
        self.0
            .resources
            .iter()
            .take(n)
            .map(|r| HardeningResourceGql {
                resource_key: r.resource_key.clone(),
                resource_type: r.resource_type.clone(),
                account_id: r.account_id.clone(),
                count: r.count,
            })
            .collect()
    }
    /// Findings created before `since` (null without `since`).
    async fn before(&self) -> Option<u64> {
        self.0.before
    }
    /// Findings created at or after `since` (null without `since`).
    async fn after(&self) -> Option<u64> {
        self.0.after
    }
}

/// Resolves `hardening(filter, limit, since)`.
pub(crate) async fn run(
    ctx: &Context<'_>,
    filter: Option<FindingFilterInput>,
    limit: Option<i32>,
    since: Option<DateTime<Utc>>,
) -> ApiResult<Vec<HardeningItemGql>> {
    let limit = match limit {
        None => DEFAULT_HARDENING,
        Some(n) if !(0..=MAX_HARDENING as i32).contains(&n) => {
            return Err(ApiError::bad_input(
                "limit",
                format!("{n} is outside 0–{MAX_HARDENING}"),
            ))
        }
        Some(n) => n as usize,
    };
    let f = filter_of(&filter)?;
    let snap = state(ctx).snapshot();
    let scope = caller(ctx).scope.clone();
    let since = since.map(|d| d.timestamp_millis());
    let items = blocking(budget(ctx), move |_| {
        Ok(snap
            .index
            .hardening(&f, &scope, since, limit, MAX_HARDENING_RESOURCES))
    })
    .await?;
    Ok(items.into_iter().map(HardeningItemGql).collect())
}
