//! Detective restJson1 operations (PascalCase members).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{json, Value};

use crate::error::AwsError;
use crate::state::{FixtureState, Inner, Operation, RegionAccess, RegionData};
use crate::{admit, json_body, json_reply, region_of};

fn token(body: &Value) -> Result<usize, AwsError> {
    match body.get("NextToken").and_then(Value::as_str) {
        None | Some("") => Ok(0),
        Some(t) => t
            .strip_prefix("p")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| AwsError::bad_request("NextToken is invalid")),
    }
}

fn page_size(body: &Value) -> usize {
    body.get("MaxResults")
        .and_then(Value::as_u64)
        .unwrap_or(50)
        .clamp(1, 100) as usize
}

fn graph<'a>(inner: &'a Inner, region: &str, body: &Value) -> Result<&'a RegionData, AwsError> {
    let data = inner
        .regions
        .get(region)
        .ok_or_else(|| AwsError::not_found("graph not found"))?;
    if data.access == RegionAccess::AccessDenied {
        return Err(AwsError::access_denied());
    }
    let wanted = body
        .get("GraphArn")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match &data.graph_arn {
        Some(arn) if arn == wanted => Ok(data),
        _ => Err(AwsError::not_found(format!(
            "The graph {wanted} does not exist"
        ))),
    }
}

async fn handle(
    state: FixtureState,
    headers: HeaderMap,
    body: Bytes,
    op: Operation,
    f: impl FnOnce(&Inner, &str, &Value) -> Result<Value, AwsError>,
) -> Response {
    let region = region_of(&state, &headers);
    if let Err(e) = admit(&state, &region, op).await {
        return e.into_response();
    }
    let result = json_body(&body).and_then(|body| {
        let inner = state.lock();
        f(&inner, &region, &body)
    });
    match result {
        Ok(v) => json_reply(v),
        Err(e) => e.into_response(),
    }
}

/// `POST /graphs/list`.
pub(crate) async fn list_graphs(
    State(state): State<FixtureState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        state,
        headers,
        body,
        Operation::ListGraphs,
        |inner, region, _| {
            let data = inner.regions.get(region);
            if data.is_some_and(|d| d.access == RegionAccess::AccessDenied) {
                return Err(AwsError::access_denied());
            }
            let list: Vec<Value> = data
                .and_then(|d| d.graph_arn.clone())
                .map(|arn| json!({ "Arn": arn, "CreatedTime": "2024-01-01T00:00:00Z" }))
                .into_iter()
                .collect();
            Ok(json!({ "GraphList": list }))
        },
    )
    .await
}

/// `POST /investigations/listInvestigations`.
pub(crate) async fn list_investigations(
    State(state): State<FixtureState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, headers, body, Operation::ListInvestigations, |inner, region, body| {
        let data = graph(inner, region, body)?;
        let offset = token(body)?;
        let size = page_size(body);
        let end = (offset + size).min(data.investigations.len());
        let details: Vec<Value> = data.investigations[offset.min(end)..end]
            .iter()
            .map(|i| {
                let s = &i.summary;
                json!({
                    "InvestigationId": s.get("InvestigationId"), "Severity": s.get("Severity"),
                    "Status": s.get("Status"), "State": s.get("State"), "CreatedTime": s.get("CreatedTime"),
                    "EntityArn": s.get("EntityArn"), "EntityType": s.get("EntityType"),
                })
            })
            .collect();
        let mut reply = json!({ "InvestigationDetails": details });
        if end < data.investigations.len() {
            reply["NextToken"] = json!(format!("p{end}"));
        }
        Ok(reply)
    })
    .await
}

fn investigation<'a>(
    data: &'a RegionData,
    body: &Value,
) -> Result<&'a crate::state::StoredInvestigation, AwsError> {
    let id = body
        .get("InvestigationId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    data.investigations
        .iter()
        .find(|i| i.summary.get("InvestigationId").and_then(Value::as_str) == Some(id))
        .ok_or_else(|| AwsError::not_found(format!("investigation {id} not found")))
}

/// `POST /investigations/getInvestigation`.
pub(crate) async fn get_investigation(
    State(state): State<FixtureState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        state,
        headers,
        body,
        Operation::GetInvestigation,
        |inner, region, body| {
            let data = graph(inner, region, body)?;
            let mut summary = investigation(data, body)?.summary.clone();
            summary["GraphArn"] = json!(data.graph_arn);
            Ok(summary)
        },
    )
    .await
}

/// `POST /investigations/listIndicators`.
pub(crate) async fn list_indicators(
    State(state): State<FixtureState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(
        state,
        headers,
        body,
        Operation::ListIndicators,
        |inner, region, body| {
            let data = graph(inner, region, body)?;
            let found = investigation(data, body)?;
            let wanted_type = body.get("IndicatorType").and_then(Value::as_str);
            let all: Vec<&Value> = found
                .indicators
                .iter()
                .filter(|i| {
                    wanted_type.is_none()
                        || i.get("IndicatorType").and_then(Value::as_str) == wanted_type
                })
                .collect();
            let offset = token(body)?;
            let size = page_size(body);
            let end = (offset + size).min(all.len());
            let mut reply = json!({
                "GraphArn": data.graph_arn, "InvestigationId": found.summary.get("InvestigationId"),
                "Indicators": all[offset.min(end)..end],
            });
            if end < all.len() {
                reply["NextToken"] = json!(format!("p{end}"));
            }
            Ok(reply)
        },
    )
    .await
}
