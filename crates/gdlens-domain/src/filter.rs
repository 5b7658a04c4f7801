//! The finding filter shared by the findings list, the summary engine and the GraphQL API,
//! and the caller's account scope.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::severity::SeverityLabel;
use crate::time::EpochMillis;

/// Triage state of a finding (local to gdlens; GuardDuty knows nothing of it).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TriageStatus {
    #[default]
    New,
    Acknowledged,
    InProgress,
    Resolved,
    Suppressed,
    FalsePositive,
}

impl TriageStatus {
    /// All statuses in declaration order.
    pub const ALL: [TriageStatus; 6] = [
        Self::New,
        Self::Acknowledged,
        Self::InProgress,
        Self::Resolved,
        Self::Suppressed,
        Self::FalsePositive,
    ];

    /// `NEW`, `ACKNOWLEDGED`, …: the stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "NEW",
            Self::Acknowledged => "ACKNOWLEDGED",
            Self::InProgress => "IN_PROGRESS",
            Self::Resolved => "RESOLVED",
            Self::Suppressed => "SUPPRESSED",
            Self::FalsePositive => "FALSE_POSITIVE",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Closed statuses no longer need attention (scoring damps them).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Self::Resolved | Self::Suppressed | Self::FalsePositive
        )
    }
}

/// Which findings to look at. Every `None` means "no restriction", except `archived`
/// (None → archived findings excluded) and `include_samples` (false → samples excluded).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingFilter {
    pub account_ids: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    /// Minimum numeric severity (inclusive).
    pub severity_min: Option<f64>,
    pub severity_labels: Option<Vec<SeverityLabel>>,
    /// Exact finding types.
    pub types: Option<Vec<String>>,
    /// Finding type prefix, e.g. `UnauthorizedAccess:` or `Recon:EC2/`.
    pub type_prefix: Option<String>,
    pub resource_types: Option<Vec<String>>,
    pub resource_key: Option<String>,
    /// `Some(true)` only archived, `Some(false)` or `None` only active.
    pub archived: Option<bool>,
    #[serde(default)]
    pub include_samples: bool,
    /// `updatedAt >= updated_since` (epoch ms).
    pub updated_since: Option<EpochMillis>,
    /// `updatedAt < updated_before` (epoch ms).
    pub updated_before: Option<EpochMillis>,
    pub triage_status: Option<Vec<TriageStatus>>,
    /// Case-insensitive substring of the type or title.
    pub search: Option<String>,
    /// `Some(true)`: only open findings past their SLA deadline at `as_of`; `Some(false)`: only
    /// the others (closed, archived, or within their target). See [`crate::sla`].
    #[serde(default)]
    pub overdue: Option<bool>,
    /// The instant `overdue` is judged at (epoch ms; the API sets it to now, truncated to the
    /// minute). Ignored without `overdue`; `None` with `overdue` judges at the epoch's end, i.e.
    /// every open finding is overdue.
    #[serde(default)]
    pub as_of: Option<EpochMillis>,
}

impl FindingFilter {
    /// Whether archived findings pass.
    pub fn wants_archived(&self, archived: bool) -> bool {
        archived == self.archived.unwrap_or(false)
    }

    /// A canonical form for cache keys: lists sorted and deduplicated, search lower-cased.
    pub fn normalized(&self) -> Self {
        fn sorted<T: Ord + Clone>(v: &Option<Vec<T>>) -> Option<Vec<T>> {
            v.as_ref().map(|v| {
                let mut v = v.clone();
                v.sort();
                v.dedup();
                v
            })
        }
        FindingFilter {
            account_ids: sorted(&self.account_ids),
            regions: sorted(&self.regions),
            severity_min: self.severity_min,
            severity_labels: sorted(&self.severity_labels),
            types: sorted(&self.types),
            type_prefix: self.type_prefix.clone().filter(|p| !p.is_empty()),
            resource_types: sorted(&self.resource_types),
            resource_key: self.resource_key.clone(),
            archived: Some(self.archived.unwrap_or(false)),
            include_samples: self.include_samples,
            updated_since: self.updated_since,
            updated_before: self.updated_before,
            triage_status: sorted(&self.triage_status),
            search: self
                .search
                .as_ref()
                .map(|s| s.trim().to_lowercase())
                .filter(|s| !s.is_empty()),
            overdue: self.overdue,
            as_of: self.overdue.and(self.as_of),
        }
    }
}

/// The accounts a caller may see. Checked in every resolver, summary and cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scope {
    /// Every account.
    All,
    /// Only these account ids.
    Accounts(BTreeSet<String>),
}

impl Scope {
    /// Whether the caller may see findings of `account_id`.
    pub fn allows(&self, account_id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Accounts(set) => set.contains(account_id),
        }
    }
}
