//! A local GuardDuty/Detective-compatible HTTP server for tests and trying sync without AWS.
//!
//! It speaks restJson1 as the real services do, so the real `aws-sdk-guardduty` and
//! `aws-sdk-detective` clients can be pointed at it with `endpoint_url`. One endpoint serves
//! every region: the region is read from the SigV4 credential scope in the `Authorization`
//! header (`Credential=AKID/20240101/us-east-1/guardduty/aws4_request`), else from a regional
//! `Host` (`guardduty.us-east-1.amazonaws.com`), else the default region.
//!
//! No AWS SDK dependency: the fixture must not share code with the client it tests.

mod criteria;
mod detective;
mod error;
mod filters;
mod guardduty;
mod state;

use std::net::SocketAddr;
use std::path::Path;

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::Value;

pub use error::AwsError;
pub use state::{
    default_features, FaultKind, FaultRule, FixtureBuilder, FixtureState, Operation, RegionAccess,
};

/// Alias kept for the builder-style entry point `FixtureServer::builder()`.
pub type FixtureServer = FixtureState;

/// The axum router serving GuardDuty and Detective.
pub fn router(state: FixtureState) -> Router {
    Router::new()
        .route("/detector", get(guardduty::list_detectors))
        .route("/detector/{id}/findings", post(guardduty::list_findings))
        .route("/detector/{id}/findings/get", post(guardduty::get_findings))
        .route(
            "/detector/{id}/findings/statistics",
            post(guardduty::get_findings_statistics),
        )
        .route(
            "/detector/{id}/findings/archive",
            post(guardduty::archive_findings),
        )
        .route(
            "/detector/{id}/findings/unarchive",
            post(guardduty::unarchive_findings),
        )
        .route(
            "/detector/{id}/findings/feedback",
            post(guardduty::update_findings_feedback),
        )
        .route(
            "/detector/{id}/findings/create",
            post(guardduty::create_sample_findings),
        )
        .route("/detector/{id}", get(guardduty::get_detector))
        .route("/detector/{id}/member", get(guardduty::list_members))
        .route(
            "/detector/{id}/member/detector/get",
            post(guardduty::get_member_detectors),
        )
        .route(
            "/detector/{id}/filter",
            post(filters::create_filter).get(filters::list_filters),
        )
        .route(
            "/detector/{id}/filter/{name}",
            get(filters::get_filter)
                .post(filters::update_filter)
                .delete(filters::delete_filter),
        )
        .route("/graphs/list", post(detective::list_graphs))
        .route(
            "/investigations/listInvestigations",
            post(detective::list_investigations),
        )
        .route(
            "/investigations/getInvestigation",
            post(detective::get_investigation),
        )
        .route(
            "/investigations/listIndicators",
            post(detective::list_indicators),
        )
        .with_state(state)
}

/// Serves the fixture on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, state: FixtureState) -> std::io::Result<()> {
    axum::serve(listener, router(state)).await
}

/// A fixture running on a background task.
#[derive(Debug)]
pub struct RunningFixture {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state, to inspect counters and change data.
    pub state: FixtureState,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl RunningFixture {
    /// `http://127.0.0.1:PORT`: the endpoint URL for both SDK clients.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningFixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Binds 127.0.0.1 on a free port and serves `state` on a background task.
pub async fn spawn(state: FixtureState) -> std::io::Result<RunningFixture> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(serve(listener, state.clone()));
    Ok(RunningFixture { addr, state, task })
}

/// Reads the region the request was signed for.
pub(crate) fn region_of(state: &FixtureState, headers: &HeaderMap) -> String {
    if let Some(region) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(region_from_authorization)
    {
        return region.to_string();
    }
    if let Some(region) = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .and_then(region_from_host)
    {
        return region.to_string();
    }
    state.lock().default_region.clone()
}

/// `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/guardduty/aws4_request, …` → `us-east-1`.
fn region_from_authorization(auth: &str) -> Option<&str> {
    let scope = auth.split("Credential=").nth(1)?;
    let scope = scope.split([',', ' ']).next()?;
    let mut parts = scope.split('/');
    let _key = parts.next()?;
    let _date = parts.next()?;
    parts.next().filter(|r| !r.is_empty())
}

/// `guardduty.us-east-1.amazonaws.com` → `us-east-1`.
fn region_from_host(host: &str) -> Option<&str> {
    let mut parts = host.split('.');
    let service = parts.next()?;
    let region = parts.next()?;
    ((service == "guardduty" || service == "api") && region.contains('-')).then_some(region)
}

/// Counts the request, applies faults and latency.
pub(crate) async fn admit(
    state: &FixtureState,
    region: &str,
    op: Operation,
) -> Result<state::Admission, AwsError> {
    let mut admission = state.admit(region, op);
    if !admission.delay.is_zero() {
        tokio::time::sleep(admission.delay).await;
    }
    match admission.error.take() {
        Some(e) => {
            tracing::debug!(
                region,
                operation = op.as_str(),
                code = e.code,
                "fixture fault"
            );
            Err(e)
        }
        None => Ok(admission),
    }
}

pub(crate) fn json_body(body: &[u8]) -> Result<Value, AwsError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(body)
        .map_err(|e| AwsError::bad_request(format!("request body is not JSON: {e}")))
}

pub(crate) fn json_reply(v: Value) -> Response {
    ([("content-type", "application/json")], v.to_string()).into_response()
}

/// Why a findings file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: not a finding JSON object: {message}")]
    Json {
        path: String,
        line: usize,
        message: String,
    },
}

impl LoadError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "fixture_file_unreadable",
            Self::Json { .. } => "fixture_file_invalid",
        }
    }
}

/// Reads findings, keeping each finding's exact bytes: NDJSON (one finding per line), a JSON
/// array, or the GetFindings document `{"findings":[…]}`.
pub fn load_findings(path: &Path) -> Result<Vec<String>, LoadError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: shown.clone(),
        source,
    })?;
    let trimmed = text.trim_start();
    let invalid = |line: usize, message: String| LoadError::Json {
        path: shown.clone(),
        line,
        message,
    };
    if trimmed.starts_with('[')
        || (trimmed.starts_with('{') && trimmed.contains("\"findings\"") && !is_ndjson(&text))
    {
        #[derive(serde::Deserialize)]
        struct Doc<'a> {
            #[serde(borrow)]
            findings: Vec<&'a serde_json::value::RawValue>,
        }
        let raws: Vec<&serde_json::value::RawValue> = if trimmed.starts_with('[') {
            serde_json::from_str(&text).map_err(|e| invalid(e.line(), e.to_string()))?
        } else {
            serde_json::from_str::<Doc>(&text)
                .map_err(|e| invalid(e.line(), e.to_string()))?
                .findings
        };
        return Ok(raws.into_iter().map(|r| r.get().to_string()).collect());
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line).map_err(|e| invalid(i + 1, e.to_string()))?;
        if !v.is_object() || v.get("id").is_none() {
            return Err(invalid(i + 1, "expected an object with an `id`".into()));
        }
        out.push(line.to_string());
    }
    Ok(out)
}

fn is_ndjson(text: &str) -> bool {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .nth(1)
        .is_some()
        && text
            .lines()
            .next()
            .is_some_and(|l| serde_json::from_str::<Value>(l).is_ok())
}

/// The `region` member of a finding (or the region named in its ARN).
pub fn region_of_finding(raw: &str) -> Option<String> {
    let v: Value = serde_json::from_str(raw).ok()?;
    if let Some(r) = v.get("region").and_then(Value::as_str) {
        return Some(r.to_string());
    }
    v.get("arn")
        .and_then(Value::as_str)
        .and_then(|a| a.split(':').nth(3))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_comes_from_the_sigv4_scope() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/guardduty/aws4_request, SignedHeaders=host, Signature=abc";
        assert_eq!(region_from_authorization(auth), Some("eu-west-1"));
        assert_eq!(region_from_authorization("Bearer x"), None);
        assert_eq!(
            region_from_host("guardduty.ap-south-1.amazonaws.com"),
            Some("ap-south-1")
        );
        assert_eq!(region_from_host("127.0.0.1:8080"), None);
    }
}
