//! The hardening view: the most common finding types among a filter's findings, with the
//! accounts and resources they touch and their trend around a date (findings created before vs
//! at or after `since`), so a team can see what to fix first and whether fixing it worked.

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{FindingFilter, Scope, SeverityLabel};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;

use crate::index::{FindingIndex, NO_KEY};
use crate::query::RowPredicate;

/// A resource a finding type touched, with how many of the type's findings name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HardeningResource {
    pub resource_key: String,
    pub resource_type: String,
    pub account_id: String,
    pub count: u64,
}

/// One finding type of the hardening view.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HardeningItem {
    pub finding_type: String,
    /// Matching findings of this type.
    pub count: u64,
    /// Highest severity label among them.
    pub max_severity: SeverityLabel,
    /// Affected account ids, sorted.
    pub accounts: Vec<String>,
    /// Distinct resources (findings without a resource key name none).
    pub resource_count: u64,
    /// The most affected resources: most findings first, then key, account and type.
    pub resources: Vec<HardeningResource>,
    /// Findings created before `since` (`None` without `since`).
    pub before: Option<u64>,
    /// Findings created at or after `since` (`None` without `since`).
    pub after: Option<u64>,
}

#[derive(Default)]
struct TypeAcc {
    count: u64,
    max_label: u8,
    accounts: FxHashSet<u32>,
    resources: FxHashMap<u32, u64>,
    before: u64,
}

impl FindingIndex {
    /// The `limit` most common finding types among the findings matching `filter` within
    /// `scope` (most findings first, ties by type), each with at most `resource_limit` resources.
    pub fn hardening(
        &self,
        filter: &FindingFilter,
        scope: &Scope,
        since: Option<EpochMillis>,
        limit: usize,
        resource_limit: usize,
    ) -> Vec<HardeningItem> {
        let p = RowPredicate::compile(self, filter, scope, None);
        let mut by_type: FxHashMap<u32, TypeAcc> = FxHashMap::default();
        if !p.impossible {
            for row in 0..self.len() {
                if !p.in_time_range(self.updated_at[row]) || !p.matches_except_time(self, row) {
                    continue;
                }
                let acc = by_type.entry(self.finding_type[row]).or_default();
                acc.count += 1;
                acc.max_label = acc.max_label.max(self.label[row]);
                acc.accounts.insert(self.account[row]);
                let resource = self.resource[row];
                if self.resources[resource as usize].key != NO_KEY {
                    *acc.resources.entry(resource).or_default() += 1;
                }
                if since.is_some_and(|s| self.created_at[row] < s) {
                    acc.before += 1;
                }
            }
        }
        let mut types: Vec<(u32, TypeAcc)> = by_type.into_iter().collect();
        types.sort_by(|a, b| {
            b.1.count
                .cmp(&a.1.count)
                .then_with(|| self.types.get(a.0).cmp(self.types.get(b.0)))
        });
        types.truncate(limit);
        types
            .into_iter()
            .map(|(t, acc)| {
                let mut accounts: Vec<String> = acc
                    .accounts
                    .iter()
                    .map(|&a| self.accounts.get(a).to_string())
                    .collect();
                accounts.sort();
                let mut resources: Vec<HardeningResource> = acc
                    .resources
                    .iter()
                    .map(|(&r, &count)| {
                        let e = &self.resources[r as usize];
                        HardeningResource {
                            resource_key: self.resource_keys.get(e.key).to_string(),
                            resource_type: self.resource_types.get(e.resource_type).to_string(),
                            account_id: self.accounts.get(e.account).to_string(),
                            count,
                        }
                    })
                    .collect();
                resources.sort_by(|a, b| {
                    b.count
                        .cmp(&a.count)
                        .then_with(|| a.resource_key.cmp(&b.resource_key))
                        .then_with(|| a.account_id.cmp(&b.account_id))
                        .then_with(|| a.resource_type.cmp(&b.resource_type))
                });
                let resource_count = resources.len() as u64;
                resources.truncate(resource_limit);
                HardeningItem {
                    finding_type: self.types.get(t).to_string(),
                    count: acc.count,
                    max_severity: SeverityLabel::ALL[acc.max_label as usize],
                    accounts,
                    resource_count,
                    resources,
                    before: since.map(|_| acc.before),
                    after: since.map(|_| acc.count - acc.before),
                }
            })
            .collect()
    }
}
