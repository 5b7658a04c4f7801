//! GuardDuty restJson1 operations.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::criteria::{compare, field_values, parse_time_ms, Criteria};
use crate::error::AwsError;
use crate::state::{FixtureState, Inner, Operation, RegionAccess, RegionData};
use crate::{admit, json_body, json_reply, region_of};

pub(crate) fn page_token(token: Option<&str>) -> Result<usize, AwsError> {
    match token {
        None | Some("") => Ok(0),
        Some(t) => t
            .strip_prefix("p")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| {
                AwsError::bad_request("The request is rejected because nextToken is invalid.")
            }),
    }
}

pub(crate) fn max_results(v: Option<&Value>, limit: u64, default: u64) -> Result<usize, AwsError> {
    match v.and_then(Value::as_u64) {
        None => Ok(default as usize),
        Some(n) if (1..=limit).contains(&n) => Ok(n as usize),
        Some(n) => Err(AwsError::bad_request(format!(
            "maxResults {n} is out of range 1..={limit}"
        ))),
    }
}

/// The region's data when it has a detector with this id.
pub(crate) fn detector<'a>(
    inner: &'a mut Inner,
    region: &str,
    id: &str,
) -> Result<&'a mut RegionData, AwsError> {
    let data = inner
        .regions
        .get_mut(region)
        .ok_or_else(AwsError::unknown_detector)?;
    match data.access {
        RegionAccess::AccessDenied => Err(AwsError::access_denied()),
        RegionAccess::NoDetector => Err(AwsError::unknown_detector()),
        RegionAccess::Detector if data.detector_id == id => Ok(data),
        RegionAccess::Detector => Err(AwsError::unknown_detector()),
    }
}

fn ids_of(body: &Value, limit: usize) -> Result<Vec<String>, AwsError> {
    let ids: Vec<String> = body
        .get("findingIds")
        .and_then(Value::as_array)
        .ok_or_else(|| AwsError::bad_request("findingIds is required"))?
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    if ids.len() > limit {
        return Err(AwsError::bad_request(format!(
            "findingIds: at most {limit} ids, got {}",
            ids.len()
        )));
    }
    Ok(ids)
}

/// `GET /detector`.
pub(crate) async fn list_detectors(
    State(state): State<FixtureState>,
    headers: HeaderMap,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::ListDetectors).await {
        return e.into_response();
    }
    let inner = state.lock();
    match inner
        .regions
        .get(&region)
        .map(|r| (r.access, r.detector_id.clone()))
    {
        Some((RegionAccess::AccessDenied, _)) => AwsError::access_denied().into_response(),
        Some((RegionAccess::Detector, id)) => json_reply(json!({ "detectorIds": [id] })),
        _ => json_reply(json!({ "detectorIds": [] })),
    }
}

/// `POST /detector/{id}/findings` (ListFindings).
pub(crate) async fn list_findings(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    let admission = match admit(&state, &region, Operation::ListFindings).await {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let result = (|| {
        let body = json_body(&body)?;
        let criteria = Criteria::parse(body.get("findingCriteria"))?;
        let (attribute, descending) = match body.get("sortCriteria") {
            Some(s) if !s.is_null() => (
                s.get("attributeName")
                    .and_then(Value::as_str)
                    .unwrap_or("updatedAt")
                    .to_string(),
                s.get("orderBy").and_then(Value::as_str) == Some("DESC"),
            ),
            _ => ("updatedAt".to_string(), false),
        };
        let max = max_results(body.get("maxResults"), 50, 50)?;
        let offset = page_token(body.get("nextToken").and_then(Value::as_str))?;
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        let key = format!(
            "{}|{attribute}|{descending}",
            body.get("findingCriteria").unwrap_or(&Value::Null)
        );
        let ids = match data.listing_cache.get(&key) {
            Some(ids) => ids.clone(),
            None => {
                let mut matching: Vec<&Value> = data
                    .findings
                    .values()
                    .map(|f| &f.value)
                    .filter(|v| criteria.matches(v))
                    .collect();
                matching.sort_by(|a, b| {
                    let o = compare(a, b, &attribute);
                    if descending {
                        o.reverse()
                    } else {
                        o
                    }
                });
                let ids: Arc<Vec<String>> = Arc::new(
                    matching
                        .iter()
                        .map(|v| {
                            v.get("id")
                                .and_then(Value::as_str)
                                .unwrap_or_default()
                                .to_string()
                        })
                        .collect(),
                );
                data.listing_cache.insert(key, ids.clone());
                ids
            }
        };
        let end = (offset + max).min(ids.len());
        let page = ids.get(offset.min(ids.len())..end).unwrap_or_default();
        let mut reply = json!({ "findingIds": page });
        if end < ids.len() {
            let next = if admission.repeat_next_token && page.len() > 1 {
                // Overlap: the next page starts half-way back into this one.
                end - page.len() / 2
            } else {
                end
            };
            reply["nextToken"] = json!(format!("p{next}"));
        }
        Ok::<_, AwsError>(reply)
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `POST /detector/{id}/findings/get` (GetFindings): the stored bytes go out unchanged.
pub(crate) async fn get_findings(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::GetFindings).await {
        return e.into_response();
    }
    let result = (|| {
        let body = json_body(&body)?;
        let ids = ids_of(&body, 50)?;
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        let mut out = String::from("{\"findings\":[");
        let mut first = true;
        for id in &ids {
            if let Some(f) = data.findings.get(id) {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&f.raw);
            }
        }
        out.push_str("]}");
        Ok::<_, AwsError>(out)
    })();
    match result {
        Ok(text) => ([("content-type", "application/json")], text).into_response(),
        Err(e) => e.into_response(),
    }
}

fn set_archived(
    state: &FixtureState,
    region: &str,
    detector_id: &str,
    body: &Bytes,
    archived: bool,
) -> Result<Value, AwsError> {
    let body = json_body(body)?;
    let ids = ids_of(&body, 50)?;
    let mut inner = state.lock();
    let data = detector(&mut inner, region, detector_id)?;
    for id in &ids {
        data.update(id, |v| {
            if let Some(service) = v.get_mut("service").and_then(Value::as_object_mut) {
                service.insert("archived".into(), Value::Bool(archived));
            } else if let Some(obj) = v.as_object_mut() {
                obj.insert("service".into(), json!({ "archived": archived }));
            }
        });
    }
    Ok(json!({}))
}

/// `POST /detector/{id}/findings/archive`.
pub(crate) async fn archive_findings(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::ArchiveFindings).await {
        return e.into_response();
    }
    match set_archived(&state, &region, &detector_id, &body, true) {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `POST /detector/{id}/findings/unarchive`.
pub(crate) async fn unarchive_findings(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::UnarchiveFindings).await {
        return e.into_response();
    }
    match set_archived(&state, &region, &detector_id, &body, false) {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `POST /detector/{id}/findings/feedback`.
pub(crate) async fn update_findings_feedback(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::UpdateFindingsFeedback).await {
        return e.into_response();
    }
    let result = (|| {
        let body = json_body(&body)?;
        let ids = ids_of(&body, 50)?;
        let feedback = body
            .get("feedback")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if feedback != "USEFUL" && feedback != "NOT_USEFUL" {
            return Err(AwsError::bad_request(
                "feedback must be USEFUL or NOT_USEFUL",
            ));
        }
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        for id in ids {
            if data.findings.contains_key(&id) {
                data.feedback.insert(id, feedback.clone());
            }
        }
        Ok(json!({}))
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `POST /detector/{id}/findings/create` (CreateSampleFindings): one sample per type given
/// (or one `Recon:EC2/PortProbeUnprotectedPort` when none), flagged `additionalInfo.sample`.
pub(crate) async fn create_sample_findings(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::CreateSampleFindings).await {
        return e.into_response();
    }
    let result = (|| {
        let body = json_body(&body)?;
        let mut types: Vec<String> = body
            .get("findingTypes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        if types.is_empty() {
            types.push("Recon:EC2/PortProbeUnprotectedPort".into());
        }
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let account = "123456789012";
        for (i, t) in types.iter().enumerate() {
            let id = format!("sample{:026x}", data.findings.len() + i);
            let detector_id = data.detector_id.clone();
            data.put(json!({
                "schemaVersion": "2.0", "id": id, "type": t, "accountId": account, "region": region,
                "partition": "aws", "severity": 5.0, "title": format!("Sample finding {t}"),
                "description": "Sample finding created by CreateSampleFindings.",
                "arn": format!("arn:aws:guardduty:{region}:{account}:detector/{detector_id}/finding/{id}"),
                "createdAt": now, "updatedAt": now,
                "resource": { "resourceType": "Instance", "instanceDetails": { "instanceId": "i-99999999" } },
                "service": { "archived": false, "count": 1, "detectorId": detector_id,
                             "serviceName": "guardduty", "resourceRole": "TARGET",
                             "additionalInfo": { "sample": true, "type": "default", "value": "{\"sample\":true}" } }
            }));
        }
        Ok::<_, AwsError>(json!({}))
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `POST /detector/{id}/findings/statistics` (GetFindingsStatistics).
pub(crate) async fn get_findings_statistics(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::GetFindingsStatistics).await {
        return e.into_response();
    }
    let result = (|| {
        let body = json_body(&body)?;
        let criteria = Criteria::parse(body.get("findingCriteria"))?;
        let max = max_results(body.get("maxResults"), 100, 25)?;
        let descending = body.get("orderBy").and_then(Value::as_str) != Some("ASC");
        let group_by = body
            .get("groupBy")
            .and_then(Value::as_str)
            .map(str::to_string);
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        let matching: Vec<&Value> = data
            .findings
            .values()
            .map(|f| &f.value)
            .filter(|v| criteria.matches(v))
            .collect();
        statistics(&matching, group_by.as_deref(), descending, max)
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

#[derive(Default)]
struct Group {
    total: u64,
    last_ms: i64,
    severity: f64,
    extra: Vec<String>,
}

fn statistics(
    findings: &[&Value],
    group_by: Option<&str>,
    descending: bool,
    max: usize,
) -> Result<Value, AwsError> {
    let first = |v: &Value, field: &str| {
        field_values(v, field)
            .into_iter()
            .next()
            .unwrap_or_default()
    };
    let severity = |v: &Value| v.get("severity").and_then(Value::as_f64).unwrap_or(0.0);
    let updated = |v: &Value| {
        v.get("updatedAt")
            .and_then(Value::as_str)
            .and_then(parse_time_ms)
            .unwrap_or(0)
    };
    let Some(group_by) = group_by else {
        // Legacy COUNT_BY_SEVERITY: a map from severity (as a string) to count.
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for v in findings {
            *counts.entry(format!("{:?}", severity(v))).or_default() += 1;
        }
        return Ok(json!({ "findingStatistics": { "countBySeverity": counts } }));
    };
    let key_of = |v: &Value| -> Result<(String, Vec<String>), AwsError> {
        Ok(match group_by {
            "ACCOUNT" => (first(v, "accountId"), vec![]),
            "FINDING_TYPE" => (first(v, "type"), vec![]),
            "SEVERITY" => (format!("{:?}", severity(v)), vec![]),
            "DATE" => (
                (updated(v).div_euclid(86_400_000) * 86_400).to_string(),
                vec![],
            ),
            "RESOURCE" => {
                let r = v.get("resource").cloned().unwrap_or_default();
                let id = [
                    "instanceDetails.instanceId",
                    "accessKeyDetails.accessKeyId",
                    "s3BucketDetails.name",
                    "eksClusterDetails.name",
                    "lambdaDetails.functionName",
                    "rdsDbInstanceDetails.dbInstanceIdentifier",
                ]
                .iter()
                .find_map(|p| field_values(&r, p).into_iter().next())
                .unwrap_or_default();
                let account = first(v, "accountId");
                (
                    format!("{account}|{id}"),
                    vec![account, id, first(v, "resource.resourceType")],
                )
            }
            other => {
                return Err(AwsError::bad_request(format!(
                    "groupBy `{other}` is not supported"
                )))
            }
        })
    };
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for v in findings {
        let (key, extra) = key_of(v)?;
        let g = groups.entry(key).or_default();
        g.total += 1;
        g.last_ms = g.last_ms.max(updated(v));
        g.severity = g.severity.max(severity(v));
        g.extra = extra;
    }
    let mut rows: Vec<(String, Group)> = groups.into_iter().collect();
    rows.sort_by(|a, b| {
        let o = a.1.total.cmp(&b.1.total).then_with(|| b.0.cmp(&a.0));
        if descending {
            o.reverse()
        } else {
            o
        }
    });
    rows.truncate(max);
    let seconds = |ms: i64| ms as f64 / 1000.0;
    let (member, list): (&str, Vec<Value>) = match group_by {
        "ACCOUNT" => ("groupedByAccount", rows.iter().map(|(k, g)| json!({"accountId": k, "lastGeneratedAt": seconds(g.last_ms), "totalFindings": g.total})).collect()),
        "FINDING_TYPE" => ("groupedByFindingType", rows.iter().map(|(k, g)| json!({"findingType": k, "lastGeneratedAt": seconds(g.last_ms), "totalFindings": g.total})).collect()),
        "SEVERITY" => ("groupedBySeverity", rows.iter().map(|(_, g)| json!({"severity": g.severity, "lastGeneratedAt": seconds(g.last_ms), "totalFindings": g.total})).collect()),
        "DATE" => ("groupedByDate", rows.iter().map(|(k, g)| json!({"date": k.parse::<i64>().unwrap_or(0), "lastGeneratedAt": seconds(g.last_ms), "severity": g.severity, "totalFindings": g.total})).collect()),
        _ => ("groupedByResource", rows.iter().map(|(_, g)| json!({"accountId": g.extra[0], "resourceId": g.extra[1], "resourceType": g.extra[2], "lastGeneratedAt": seconds(g.last_ms), "totalFindings": g.total})).collect()),
    };
    Ok(json!({ "findingStatistics": { member: list } }))
}

/// `GET /detector/{id}/member` (ListMembers).
pub(crate) async fn list_members(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::ListMembers).await {
        return e.into_response();
    }
    let result = (|| {
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
        let end = (offset + max).min(data.members.len());
        let page = data
            .members
            .get(offset.min(end)..end)
            .unwrap_or_default()
            .to_vec();
        let mut reply = json!({ "members": page });
        if end < data.members.len() {
            reply["nextToken"] = json!(format!("p{end}"));
        }
        Ok::<_, AwsError>(reply)
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `GET /detector/{id}` (GetDetector): the administrator's own detector.
pub(crate) async fn get_detector(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::GetDetector).await {
        return e.into_response();
    }
    let mut inner = state.lock();
    match detector(&mut inner, &region, &detector_id) {
        Ok(data) => json_reply(json!({
            "createdAt": "2024-01-01T00:00:00.000Z",
            "updatedAt": "2024-01-02T00:00:00.000Z",
            "findingPublishingFrequency": "SIX_HOURS",
            "serviceRole": "arn:aws:iam::999999999999:role/aws-service-role/guardduty.amazonaws.com/AWSServiceRoleForAmazonGuardDuty",
            "status": "ENABLED",
            "features": data.detector_features,
            "tags": {}
        })),
        Err(e) => e.into_response(),
    }
}

/// `POST /detector/{id}/member/detector/get` (GetMemberDetectors): 1 to 50 account ids; members
/// with a detector configuration come back in `members`, every other id in
/// `unprocessedAccounts`, as GuardDuty does.
pub(crate) async fn get_member_detectors(
    State(state): State<FixtureState>,
    Path(detector_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, Operation::GetMemberDetectors).await {
        return e.into_response();
    }
    let result = (|| {
        let body = json_body(&body)?;
        let ids: Vec<String> = body
            .get("accountIds")
            .and_then(Value::as_array)
            .ok_or_else(|| AwsError::bad_request("accountIds is required"))?
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        if ids.is_empty() || ids.len() > 50 {
            return Err(AwsError::bad_request(format!(
                "The request is rejected because the accountIds list must hold 1 to 50 account ids, got {}.",
                ids.len()
            )));
        }
        if let Some(bad) = ids
            .iter()
            .find(|id| id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(AwsError::bad_request(format!(
                "The request is rejected because the account id {bad} is not valid."
            )));
        }
        let mut inner = state.lock();
        let data = detector(&mut inner, &region, &detector_id)?;
        let mut members = Vec::new();
        let mut unprocessed = Vec::new();
        for id in &ids {
            let is_member = data
                .members
                .iter()
                .any(|m| m.get("accountId").and_then(Value::as_str) == Some(id));
            match data.member_features.get(id) {
                Some(features) if is_member => members.push(json!({
                    "accountId": id,
                    "features": features,
                })),
                _ => unprocessed.push(json!({
                    "accountId": id,
                    "result": if is_member {
                        "The member account has no detector configuration in this region."
                    } else {
                        "The request is rejected because the given account ID is not associated with a member account of the current account."
                    },
                })),
            }
        }
        // On the wire the `memberDataSourceConfigurations` list is named `members`.
        Ok::<_, AwsError>(json!({
            "members": members,
            "unprocessedAccounts": unprocessed,
        }))
    })();
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}
