//! GraphQL input types and enums mirrored from the domain.

use async_graphql::{Enum, InputObject};
use chrono::{DateTime, Utc};
use gdlens_domain::FindingFilter;

use crate::error::{ApiError, ApiResult};
use crate::query::{OrderDirection, OrderField};

/// GuardDuty severity label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[graphql(name = "SeverityLabel")]
pub enum SeverityLabelGql {
    /// 1.0–3.9.
    Low,
    /// 4.0–6.9.
    Medium,
    /// 7.0–8.9.
    High,
    /// 9.0–10.0.
    Critical,
}

impl From<SeverityLabelGql> for gdlens_domain::SeverityLabel {
    fn from(l: SeverityLabelGql) -> Self {
        match l {
            SeverityLabelGql::Low => Self::Low,
            SeverityLabelGql::Medium => Self::Medium,
            SeverityLabelGql::High => Self::High,
            SeverityLabelGql::Critical => Self::Critical,
        }
    }
}

impl From<gdlens_domain::SeverityLabel> for SeverityLabelGql {
    fn from(l: gdlens_domain::SeverityLabel) -> Self {
        use gdlens_domain::SeverityLabel as S;
        match l {
            S::Low => Self::Low,
            S::Medium => Self::Medium,
            S::High => Self::High,
            S::Critical => Self::Critical,
        }
    }
}

/// Triage status (local to gdlens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, serde::Serialize)]
#[graphql(name = "TriageStatus")]
pub enum TriageStatusGql {
    /// Not looked at.
    New,
    /// Seen.
    Acknowledged,
    /// Being worked on.
    InProgress,
    /// Done.
    Resolved,
    /// Deliberately ignored.
    Suppressed,
    /// Not a real threat.
    FalsePositive,
}

impl From<TriageStatusGql> for gdlens_domain::TriageStatus {
    fn from(t: TriageStatusGql) -> Self {
        use gdlens_domain::TriageStatus as T;
        match t {
            TriageStatusGql::New => T::New,
            TriageStatusGql::Acknowledged => T::Acknowledged,
            TriageStatusGql::InProgress => T::InProgress,
            TriageStatusGql::Resolved => T::Resolved,
            TriageStatusGql::Suppressed => T::Suppressed,
            TriageStatusGql::FalsePositive => T::FalsePositive,
        }
    }
}

impl From<gdlens_domain::TriageStatus> for TriageStatusGql {
    fn from(t: gdlens_domain::TriageStatus) -> Self {
        use gdlens_domain::TriageStatus as T;
        match t {
            T::New => Self::New,
            T::Acknowledged => Self::Acknowledged,
            T::InProgress => Self::InProgress,
            T::Resolved => Self::Resolved,
            T::Suppressed => Self::Suppressed,
            T::FalsePositive => Self::FalsePositive,
        }
    }
}

/// Which findings to look at (shared by findings, summary and finding groups).
#[derive(Debug, Clone, Default, InputObject, serde::Serialize)]
#[graphql(name = "FindingFilter")]
pub struct FindingFilterInput {
    /// Only these accounts (intersected with the caller's scope).
    pub account_ids: Option<Vec<String>>,
    /// Only these regions.
    pub regions: Option<Vec<String>>,
    /// Minimum numeric severity (inclusive).
    pub severity_min: Option<f64>,
    /// Only these labels.
    pub severity_labels: Option<Vec<SeverityLabelGql>>,
    /// Exact finding types.
    pub types: Option<Vec<String>>,
    /// Finding type prefix, e.g. `Recon:EC2/`.
    pub type_prefix: Option<String>,
    /// Resource types, e.g. `Instance`.
    pub resource_types: Option<Vec<String>>,
    /// One resource key (instance id, access key id, bucket…).
    pub resource_key: Option<String>,
    /// true: only archived; false or absent: only active.
    pub archived: Option<bool>,
    /// Include sample findings (default false).
    pub include_samples: Option<bool>,
    /// `updatedAt >= updatedSince`.
    pub updated_since: Option<DateTime<Utc>>,
    /// `updatedAt < updatedBefore`.
    pub updated_before: Option<DateTime<Utc>>,
    /// Only these triage states.
    pub triage_status: Option<Vec<TriageStatusGql>>,
    /// Case-insensitive substring of the type or title.
    pub search: Option<String>,
    /// true: only open findings past their SLA target (`[sla]`, from `createdAt`; open = not
    /// archived, not RESOLVED / SUPPRESSED / FALSE_POSITIVE); false: only the others. Judged at
    /// now, truncated to the minute.
    pub overdue: Option<bool>,
}

impl FindingFilterInput {
    /// The normalized domain filter, validated.
    pub fn to_domain(&self) -> ApiResult<FindingFilter> {
        if let Some(s) = self.severity_min {
            if !s.is_finite() || !(0.0..=10.0).contains(&s) {
                return Err(ApiError::bad_input(
                    "filter.severityMin",
                    format!("{s} is outside 0–10"),
                ));
            }
        }
        if let (Some(a), Some(b)) = (self.updated_since, self.updated_before) {
            if a > b {
                return Err(ApiError::bad_input(
                    "filter.updatedSince",
                    "is after updatedBefore",
                ));
            }
        }
        if self.search.as_ref().is_some_and(|s| s.len() > 256) {
            return Err(ApiError::bad_input(
                "filter.search",
                "longer than 256 characters",
            ));
        }
        let f = FindingFilter {
            account_ids: self.account_ids.clone(),
            regions: self.regions.clone(),
            severity_min: self.severity_min,
            severity_labels: self
                .severity_labels
                .as_ref()
                .map(|v| v.iter().map(|l| (*l).into()).collect()),
            types: self.types.clone(),
            type_prefix: self.type_prefix.clone(),
            resource_types: self.resource_types.clone(),
            resource_key: self.resource_key.clone(),
            archived: self.archived,
            include_samples: self.include_samples.unwrap_or(false),
            updated_since: self.updated_since.map(|d| d.timestamp_millis()),
            updated_before: self.updated_before.map(|d| d.timestamp_millis()),
            triage_status: self
                .triage_status
                .as_ref()
                .map(|v| v.iter().map(|t| (*t).into()).collect()),
            search: self.search.clone(),
            overdue: self.overdue,
            as_of: self
                .overdue
                .map(|_| gdlens_domain::sla::truncate_to_minute(crate::state::now_ms())),
        };
        Ok(f.normalized())
    }
}

/// Sort order of the findings list.
#[derive(Debug, Clone, Copy, InputObject, serde::Serialize)]
#[graphql(name = "FindingOrder")]
pub struct FindingOrderInput {
    /// Field (default PRIORITY).
    #[graphql(default_with = "OrderField::Priority")]
    pub field: OrderField,
    /// Direction (default DESC).
    #[graphql(default_with = "OrderDirection::Desc")]
    pub direction: OrderDirection,
}

impl Default for FindingOrderInput {
    fn default() -> Self {
        FindingOrderInput {
            field: OrderField::Priority,
            direction: OrderDirection::Desc,
        }
    }
}

/// Scoring weights; absent fields keep their default.
#[derive(Debug, Clone, Default, InputObject, serde::Serialize)]
pub struct WeightsInput {
    /// Numeric severity.
    pub severity: Option<f64>,
    /// Account criticality.
    pub criticality: Option<f64>,
    /// Rarity of the finding type in scope.
    pub rarity: Option<f64>,
    /// Recency of last sighting.
    pub recency: Option<f64>,
    /// Occurrence count.
    pub count: Option<f64>,
    /// Resource exposure (findings / distinct types on the resource).
    pub exposure: Option<f64>,
    /// Finding-group membership.
    pub group: Option<f64>,
}

impl WeightsInput {
    /// Named overrides (`name`, value), validated.
    pub fn overrides(&self) -> ApiResult<Vec<(&'static str, f64)>> {
        let all = [
            ("severity", self.severity),
            ("criticality", self.criticality),
            ("rarity", self.rarity),
            ("recency", self.recency),
            ("count", self.count),
            ("exposure", self.exposure),
            ("group", self.group),
        ];
        let mut out = Vec::new();
        for (name, v) in all {
            if let Some(v) = v {
                if !v.is_finite() || !(0.0..=100.0).contains(&v) {
                    return Err(ApiError::bad_input(
                        &format!("weights.{name}"),
                        format!("{v} is outside 0–100"),
                    ));
                }
                out.push((name, v));
            }
        }
        Ok(out)
    }
}

/// `USEFUL` / `NOT_USEFUL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "Feedback")]
pub enum FeedbackGql {
    /// Useful.
    Useful,
    /// Not useful.
    NotUseful,
}
