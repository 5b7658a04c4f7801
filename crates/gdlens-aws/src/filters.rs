//! Suppression rules applied through the delegated administrator: GuardDuty filters created or
//! updated (`CreateFilter` / `UpdateFilter`), deleted (`DeleteFilter`) in every configured
//! region, and synced back (`ListFilters` + `GetFilter`) into the store. Every change is logged
//! on the `audit` target with the actor.

use std::collections::HashMap;

use aws_sdk_guardduty::types::{
    Condition, FilterAction as SdkAction, FindingCriteria as SdkCriteria,
};
use gdlens_store::{NewSuppressionRule, Store, ORIGIN_GUARDDUTY};
use gdlens_suppress::criteria::Operator;
use gdlens_suppress::{FilterAction, FindingCriteria, SuppressionRule};
use serde_json::{Map, Value};

use crate::error::{AwsError, ErrorCode};
use crate::source::AwsSource;

/// What applying a rule did in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FilterChange {
    /// A new filter.
    Created,
    /// The filter of that name was replaced.
    Updated,
    /// The filter was deleted.
    Deleted,
}

/// One region's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionFilterReport {
    /// Region.
    pub region: String,
    /// What happened, or why not.
    pub result: Result<FilterChange, AwsError>,
}

/// A filter read from GuardDuty.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncedFilter {
    /// Region.
    pub region: String,
    /// Detector.
    pub detector_id: String,
    /// The filter.
    pub rule: SuppressionRule,
}

fn bad(message: String) -> AwsError {
    AwsError::new(ErrorCode::BadRequest, message)
}

/// Our criteria in the SDK's types. GuardDuty compares numbers as longs: a fractional bound is
/// refused here rather than silently rounded.
pub fn to_sdk_criteria(criteria: &FindingCriteria) -> Result<SdkCriteria, AwsError> {
    let mut criterion = HashMap::new();
    for c in criteria.conditions() {
        let mut b = Condition::builder();
        for op in &c.operators {
            let long = |x: f64| {
                if x.fract() == 0.0 {
                    Ok(x as i64)
                } else {
                    Err(bad(format!(
                        "{}: GuardDuty compares whole numbers, not {x}",
                        c.attribute
                    )))
                }
            };
            b = match op {
                Operator::Equals(v) => b.set_equals(Some(v.clone())),
                Operator::NotEquals(v) => b.set_not_equals(Some(v.clone())),
                Operator::Matches(v) => b.set_matches(Some(v.clone())),
                Operator::NotMatches(v) => b.set_not_matches(Some(v.clone())),
                Operator::GreaterThan(x) => b.greater_than(long(*x)?),
                Operator::GreaterThanOrEqual(x) => b.greater_than_or_equal(long(*x)?),
                Operator::LessThan(x) => b.less_than(long(*x)?),
                Operator::LessThanOrEqual(x) => b.less_than_or_equal(long(*x)?),
            };
        }
        criterion.insert(c.attribute.clone(), b.build());
    }
    Ok(SdkCriteria::builder()
        .set_criterion(Some(criterion))
        .build())
}

/// The SDK's criteria as GuardDuty JSON (older `eq`/`gt`… read as the current names: filters
/// made long ago still come back with them, so the deprecated accessors are read on purpose).
#[allow(deprecated)]
pub fn from_sdk_criteria(criteria: Option<&SdkCriteria>) -> Value {
    let mut out = Map::new();
    for (field, c) in criteria.and_then(|c| c.criterion()).into_iter().flatten() {
        let mut ops = Map::new();
        let list = |v: &[String], legacy: &[String]| {
            let v = if v.is_empty() { legacy } else { v };
            (!v.is_empty()).then(|| Value::from(v.to_vec()))
        };
        if let Some(v) = list(c.equals(), c.eq()) {
            ops.insert("equals".into(), v);
        }
        if let Some(v) = list(c.not_equals(), c.neq()) {
            ops.insert("notEquals".into(), v);
        }
        if let Some(v) = list(c.matches(), &[]) {
            ops.insert("matches".into(), v);
        }
        if let Some(v) = list(c.not_matches(), &[]) {
            ops.insert("notMatches".into(), v);
        }
        let num = |a: Option<i64>, b: Option<i32>| a.or(b.map(i64::from)).map(Value::from);
        if let Some(v) = num(c.greater_than(), c.gt()) {
            ops.insert("greaterThan".into(), v);
        }
        if let Some(v) = num(c.greater_than_or_equal(), c.gte()) {
            ops.insert("greaterThanOrEqual".into(), v);
        }
        if let Some(v) = num(c.less_than(), c.lt()) {
            ops.insert("lessThan".into(), v);
        }
        if let Some(v) = num(c.less_than_or_equal(), c.lte()) {
            ops.insert("lessThanOrEqual".into(), v);
        }
        out.insert(field.clone(), Value::Object(ops));
    }
    serde_json::json!({ "criterion": out })
}

impl AwsSource {
    /// Creates the rule's filter in `region`, or updates the filter of that name.
    pub async fn apply_filter(
        &self,
        region: &str,
        rule: &SuppressionRule,
        actor: &str,
    ) -> Result<FilterChange, AwsError> {
        rule.validate()
            .map_err(|e| bad(format!("{}: {e}", e.code())))?;
        let criteria = to_sdk_criteria(&rule.criteria)?;
        let action = match rule.action {
            FilterAction::Archive => SdkAction::Archive,
            FilterAction::Noop => SdkAction::Noop,
        };
        let detector = self.detector_id(region).await?;
        let exists = self
            .filter_names(region, &detector)
            .await?
            .contains(&rule.name);
        let client = self.guardduty(region);
        let change = if exists {
            self.call("UpdateFilter", region, || {
                client
                    .update_filter()
                    .detector_id(&detector)
                    .filter_name(&rule.name)
                    .action(action.clone())
                    .rank(rule.rank as i32)
                    .set_description(rule.description.clone())
                    .finding_criteria(criteria.clone())
                    .send()
            })
            .await?;
            FilterChange::Updated
        } else {
            self.call("CreateFilter", region, || {
                client
                    .create_filter()
                    .detector_id(&detector)
                    .name(&rule.name)
                    .action(action.clone())
                    .rank(rule.rank as i32)
                    .set_description(rule.description.clone())
                    .finding_criteria(criteria.clone())
                    .send()
            })
            .await?;
            FilterChange::Created
        };
        tracing::info!(target: "audit", actor, region, detector = %detector, filter = %rule.name,
                       change = ?change, "GuardDuty filter applied");
        Ok(change)
    }

    /// [`AwsSource::apply_filter`] in every configured region (one report per region).
    pub async fn apply_filter_everywhere(
        &self,
        rule: &SuppressionRule,
        actor: &str,
    ) -> Vec<RegionFilterReport> {
        let mut out = Vec::new();
        for region in self.config().regions.clone() {
            let result = self.apply_filter(&region, rule, actor).await;
            out.push(RegionFilterReport { region, result });
        }
        out
    }

    /// Deletes the filter `name` in every configured region.
    pub async fn delete_filter_everywhere(
        &self,
        name: &str,
        actor: &str,
    ) -> Vec<RegionFilterReport> {
        let mut out = Vec::new();
        for region in self.config().regions.clone() {
            let result = async {
                let detector = self.detector_id(&region).await?;
                let client = self.guardduty(&region);
                self.call("DeleteFilter", &region, || {
                    client
                        .delete_filter()
                        .detector_id(&detector)
                        .filter_name(name)
                        .send()
                })
                .await?;
                tracing::info!(target: "audit", actor, region = %region, detector = %detector,
                               filter = name, "GuardDuty filter deleted");
                Ok(FilterChange::Deleted)
            }
            .await;
            out.push(RegionFilterReport { region, result });
        }
        out
    }

    async fn filter_names(&self, region: &str, detector: &str) -> Result<Vec<String>, AwsError> {
        let client = self.guardduty(region);
        let mut names = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .call("ListFilters", region, || {
                    client
                        .list_filters()
                        .detector_id(detector)
                        .max_results(50)
                        .set_next_token(token.clone())
                        .send()
                })
                .await?;
            names.extend(out.filter_names().iter().cloned());
            match out.next_token().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        Ok(names)
    }

    /// Every filter of `region`'s detector (`ListFilters`, then `GetFilter` for each).
    pub async fn list_filters(&self, region: &str) -> Result<Vec<SyncedFilter>, AwsError> {
        let detector = self.detector_id(region).await?;
        let client = self.guardduty(region);
        let mut out = Vec::new();
        for name in self.filter_names(region, &detector).await? {
            let f = self
                .call("GetFilter", region, || {
                    client
                        .get_filter()
                        .detector_id(&detector)
                        .filter_name(&name)
                        .send()
                })
                .await?;
            let json = from_sdk_criteria(f.finding_criteria());
            let criteria = FindingCriteria::parse(&json).map_err(|e| {
                AwsError::new(
                    ErrorCode::InvalidResponse,
                    format!(
                        "GetFilter {name}: criteria gdlens cannot read ({})",
                        e.code()
                    ),
                )
            })?;
            out.push(SyncedFilter {
                region: region.to_string(),
                detector_id: detector.clone(),
                rule: SuppressionRule {
                    name: f.name().unwrap_or(&name).to_string(),
                    description: f.description().map(str::to_string),
                    action: if f.action().map(|a| a.as_str()) == Some("ARCHIVE") {
                        FilterAction::Archive
                    } else {
                        FilterAction::Noop
                    },
                    rank: f.rank().unwrap_or(1).max(0) as u32,
                    criteria,
                },
            });
        }
        Ok(out)
    }

    /// Syncs every configured region's filters into the store (each region replaced whole, in
    /// one transaction); a failed region keeps what was stored. Returns filters per region.
    pub async fn sync_filters(&self, store: &Store) -> Vec<(String, Result<usize, AwsError>)> {
        let mut out = Vec::new();
        for region in self.config().regions.clone() {
            let result = match self.list_filters(&region).await {
                Ok(filters) => {
                    let rows: Vec<NewSuppressionRule> = filters
                        .iter()
                        .map(|f| NewSuppressionRule {
                            name: f.rule.name.clone(),
                            description: f.rule.description.clone(),
                            origin: ORIGIN_GUARDDUTY.into(),
                            region: region.clone(),
                            detector_id: Some(f.detector_id.clone()),
                            action: f.rule.action.as_str().into(),
                            rank: f.rule.rank,
                            criteria: f.rule.criteria.to_json().to_string(),
                        })
                        .collect();
                    let now = chrono::Utc::now().timestamp_millis();
                    store
                        .replace_synced_rules(&region, &rows, now)
                        .map(|()| rows.len())
                        .map_err(|e| {
                            AwsError::new(ErrorCode::Store, format!("store: {}", e.code()))
                        })
                }
                Err(e) => Err(e),
            };
            out.push((region, result));
        }
        out
    }
}
