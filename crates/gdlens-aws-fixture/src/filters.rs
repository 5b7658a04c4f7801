//! GuardDuty filters (suppression rules): CreateFilter, UpdateFilter, GetFilter, ListFilters,
//! DeleteFilter, with GuardDuty's errors and limits (100 filters per detector, 50 attributes,
//! 50 values per list; names 3–64 characters). A new finding meets the filters in rank order:
//! the first that matches decides (ARCHIVE archives it at birth, NOOP keeps it). Matching is
//! `gdlens-suppress`'s evaluator, the one gdlens's dry runs use.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use gdlens_suppress::{FindingCriteria, MAX_FILTERS_PER_REGION};
use serde_json::{json, Value};

use crate::error::AwsError;
use crate::guardduty::{detector, max_results, page_token};
use crate::state::{FixtureState, Operation};
use crate::{admit, json_body, json_reply, region_of};

/// One stored filter.
#[derive(Debug, Clone)]
pub(crate) struct StoredFilter {
    pub name: String,
    pub description: Option<String>,
    pub action: String,
    pub rank: i64,
    pub criteria: FindingCriteria,
}

impl StoredFilter {
    fn to_json(&self) -> Value {
        let mut v = json!({
            "name": self.name, "action": self.action, "rank": self.rank,
            "findingCriteria": self.criteria.to_json(), "tags": {}
        });
        if let Some(d) = &self.description {
            v["description"] = json!(d);
        }
        v
    }
}

/// Whether the filters archive a new finding: the first matching filter by rank (then name)
/// decides.
pub(crate) fn archives(filters: &BTreeMap<String, StoredFilter>, finding: &Value) -> bool {
    let mut ordered: Vec<&StoredFilter> = filters.values().collect();
    ordered.sort_by(|a, b| a.rank.cmp(&b.rank).then_with(|| a.name.cmp(&b.name)));
    ordered
        .into_iter()
        .find(|f| f.criteria.matches(finding))
        .is_some_and(|f| f.action == "ARCHIVE")
}

fn valid_name(name: &str) -> Result<(), AwsError> {
    if name.len() < 3
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(AwsError::bad_request(format!(
            "The request is rejected because the filter name `{name}` is invalid: 3 to 64 letters, digits, '-', '_' or '.'"
        )));
    }
    Ok(())
}

fn criteria_of(body: &Value) -> Result<FindingCriteria, AwsError> {
    let raw = body
        .get("findingCriteria")
        .ok_or_else(|| AwsError::bad_request("findingCriteria is required"))?;
    FindingCriteria::parse(raw).map_err(|e| {
        AwsError::bad_request(format!(
            "The request is rejected because findingCriteria is invalid: {e}"
        ))
    })
}

fn action_of(body: &Value, default: Option<&str>) -> Result<String, AwsError> {
    match body.get("action").and_then(Value::as_str).or(default) {
        Some(a @ ("ARCHIVE" | "NOOP")) => Ok(a.to_string()),
        Some(other) => Err(AwsError::bad_request(format!(
            "action must be ARCHIVE or NOOP, not {other}"
        ))),
        None => Ok("NOOP".into()),
    }
}

fn rank_of(body: &Value, default: i64) -> Result<i64, AwsError> {
    match body.get("rank") {
        None | Some(Value::Null) => Ok(default),
        Some(v) => match v.as_i64() {
            Some(r) if (1..=100).contains(&r) => Ok(r),
            _ => Err(AwsError::bad_request(
                "rank must be an integer from 1 to 100",
            )),
        },
    }
}

fn description_of(body: &Value) -> Result<Option<String>, AwsError> {
    match body.get("description").and_then(Value::as_str) {
        Some(d) if d.chars().count() > 512 => Err(AwsError::bad_request(
            "description is longer than 512 characters",
        )),
        other => Ok(other.map(str::to_string)),
    }
}

fn unknown(name: &str) -> AwsError {
    AwsError::bad_request(format!(
        "The request is rejected because the input filter name {name} does not exist"
    ))
}

/// `POST /detector/{id}/filter`.
pub(crate) async fn create_filter(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::CreateFilter).await {
        return e.into_response();
    }
    let result: Result<Value, AwsError> = (|| {
        let body = json_body(&body)?;
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| AwsError::bad_request("name is required"))?
            .to_string();
        valid_name(&name)?;
        let filter = StoredFilter {
            criteria: criteria_of(&body)?,
            action: action_of(&body, None)?,
            description: description_of(&body)?,
            rank: 0,
            name: name.clone(),
        };
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        if data.filters.contains_key(&name) {
            return Err(AwsError::bad_request(format!(
                "The request is rejected because a filter named {name} already exists"
            )));
        }
        if data.filters.len() >= MAX_FILTERS_PER_REGION {
            return Err(AwsError::bad_request(format!(
                "The request is rejected because the detector already has {MAX_FILTERS_PER_REGION} filters, the limit"
            )));
        }
        let rank = rank_of(&body, data.filters.len() as i64 + 1)?;
        data.filters
            .insert(name.clone(), StoredFilter { rank, ..filter });
        Ok(json!({ "name": name }))
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `POST /detector/{id}/filter/{name}`.
pub(crate) async fn update_filter(
    State(state): State<FixtureState>,
    Path((detector_id, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::UpdateFilter).await {
        return e.into_response();
    }
    let result: Result<Value, AwsError> = (|| {
        let body = json_body(&body)?;
        let criteria = match body.get("findingCriteria") {
            Some(_) => Some(criteria_of(&body)?),
            None => None,
        };
        let description = description_of(&body)?;
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        let f = data.filters.get_mut(&name).ok_or_else(|| unknown(&name))?;
        let action = action_of(&body, Some(&f.action))?;
        let rank = rank_of(&body, f.rank)?;
        if let Some(c) = criteria {
            f.criteria = c;
        }
        if description.is_some() {
            f.description = description;
        }
        f.action = action;
        f.rank = rank;
        Ok(json!({ "name": name }))
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `GET /detector/{id}/filter/{name}`.
pub(crate) async fn get_filter(
    State(state): State<FixtureState>,
    Path((detector_id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::GetFilter).await {
        return e.into_response();
    }
    let result: Result<Value, AwsError> = (|| {
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        let f = data.filters.get(&name).ok_or_else(|| unknown(&name))?;
        Ok(f.to_json())
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `GET /detector/{id}/filter` (names, `maxResults` ≤ 50, `nextToken`).
pub(crate) async fn list_filters(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::ListFilters).await {
        return e.into_response();
    }
    let result: Result<Value, AwsError> = (|| {
        let max = max_results(
            query
                .get("maxResults")
                .and_then(|m| m.parse::<u64>().ok())
                .map(Value::from)
                .as_ref(),
            50,
            50,
        )?;
        let offset = page_token(query.get("nextToken").map(String::as_str))?;
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        let names: Vec<&String> = data.filters.keys().collect();
        let end = (offset + max).min(names.len());
        let page: Vec<&String> = names.get(offset.min(end)..end).unwrap_or_default().to_vec();
        let mut reply = json!({ "filterNames": page });
        if end < names.len() {
            reply["nextToken"] = json!(format!("p{end}"));
        }
        Ok(reply)
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /detector/{id}/filter/{name}`.
pub(crate) async fn delete_filter(
    State(state): State<FixtureState>,
    Path((detector_id, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::DeleteFilter).await {
        return e.into_response();
    }
    let result: Result<Value, AwsError> = (|| {
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        data.filters.remove(&name).ok_or_else(|| unknown(&name))?;
        Ok(json!({}))
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}
