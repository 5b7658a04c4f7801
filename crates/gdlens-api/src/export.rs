//! Export of findings: `GET /export?format=…&filter=…` and `gdlens export` share this module,
//! so the CLI and the server select rows the same way ([`FindingIndex::filter`] with the caller's
//! scope) and write the same bytes (docs/export.md).
//!
//! ```text
//! filter + scope ──► index rows (u32 each) ──► batches of EXPORT_BATCH ids ──► store ──► format ──► chunks
//! ```
//!
//! Only one batch of findings is ever decoded at a time: memory stays flat whatever the count.
//!
//! - `ndjson`: the original GuardDuty JSON of each finding (as stored), one per line.
//! - `csv`: RFC 4180 (CRLF line ends, fields quoted when they hold `,` `"` CR or LF), a header
//!   row with [`CSV_COLUMNS`].
//! - `ocsf`: one OCSF Detection Finding (`class_uid` 2004) per line, mapped as Security Hub maps
//!   GuardDuty findings ([`ocsf_finding`]).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use bytes::Bytes;
use gdlens_domain::{Finding, FindingFilter, Scope, SeverityLabel, TriageStatus};
use gdlens_index::FindingIndex;
use serde_json::{json, Value};

use crate::error::{ApiError, ErrorCode};
use crate::ports::FindingStore;
use crate::state::AppState;

/// Findings read from the store per batch.
const EXPORT_BATCH: usize = 1024;
/// Bytes gathered before a chunk is handed to the sink.
const CHUNK_BYTES: usize = 64 * 1024;
/// The OCSF schema version the `ocsf` format follows.
pub const OCSF_VERSION: &str = "1.1.0";

/// The CSV columns, in order (docs/export.md describes each).
pub const CSV_COLUMNS: [&str; 17] = [
    "id",
    "arn",
    "accountId",
    "region",
    "type",
    "severity",
    "severityLabel",
    "title",
    "resourceType",
    "resourceKey",
    "createdAt",
    "updatedAt",
    "firstSeen",
    "lastSeen",
    "count",
    "archived",
    "triageStatus",
];

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// The original GuardDuty JSON, one finding per line.
    Ndjson,
    /// RFC 4180 CSV with [`CSV_COLUMNS`].
    Csv,
    /// OCSF Detection Finding (2004), one per line.
    Ocsf,
}

impl ExportFormat {
    /// `ndjson`, `csv` or `ocsf`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ndjson" => Some(Self::Ndjson),
            "csv" => Some(Self::Csv),
            "ocsf" => Some(Self::Ocsf),
            _ => None,
        }
    }

    /// The media type of the body.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Ndjson | Self::Ocsf => "application/x-ndjson",
            Self::Csv => "text/csv; charset=utf-8; header=present",
        }
    }

    fn file_name(self) -> &'static str {
        match self {
            Self::Ndjson => "findings.ndjson",
            Self::Csv => "findings.csv",
            Self::Ocsf => "findings.ocsf.ndjson",
        }
    }
}

/// Parses the `filter` JSON (the GraphQL `FindingFilter` input; empty = no filter). Errors name
/// the parameter or the field (`BAD_USER_INPUT`).
pub fn parse_filter_json(text: &str) -> Result<FindingFilter, ApiError> {
    if text.trim().is_empty() {
        return Ok(FindingFilter::default());
    }
    let value: Value = serde_json::from_str(text).map_err(|e| ApiError::bad_input("filter", e))?;
    crate::features_ipc::parse_filter(value)
}

/// Writes every finding of `index` that `filter` selects within `scope`, in `format`, calling
/// `sink` with chunks of about 64 KiB. `sink` returns `false` to stop (the client went away).
/// Returns the number of findings written. The server's path: the index is already in memory.
pub fn export(
    store: &dyn FindingStore,
    index: &FindingIndex,
    scope: &Scope,
    filter: &FindingFilter,
    format: ExportFormat,
    sink: &mut dyn FnMut(Vec<u8>) -> bool,
) -> Result<u64, ApiError> {
    let rows = index.filter(filter, scope);
    let mut out = Output::new(format);
    for batch in rows.chunks(EXPORT_BATCH) {
        out.write_rows(store, index, batch, None, None)?;
        if !out.flush_if_full(sink) {
            return Ok(out.written);
        }
    }
    Ok(out.finish(sink))
}

/// The CLI's path (no server, no index in memory): reads the store's latest findings in batches
/// of [`EXPORT_BATCH`], selects each batch with an index of that batch alone (the same
/// `FindingIndex::filter`, so the same semantics as `GET /export`; every filter field is a test
/// on one finding) and writes it. Memory: one batch, whatever the store holds.
pub fn export_from_store(
    store: &dyn FindingStore,
    scope: &Scope,
    filter: &FindingFilter,
    sla: gdlens_domain::SlaTargets,
    format: ExportFormat,
    sink: &mut dyn FnMut(Vec<u8>) -> bool,
) -> Result<u64, ApiError> {
    let triage: rustc_hash::FxHashMap<String, TriageStatus> = store
        .all_triage()
        .map_err(crate::state::port_error)?
        .into_iter()
        .collect();
    let mut out = Output::new(format);
    let mut batch: Vec<Finding> = Vec::with_capacity(EXPORT_BATCH);
    // NDJSON: the raw JSON of each finding of the batch, read in the same scan (no lookup per id).
    let mut raws: Vec<String> = Vec::new();
    let mut failed: Option<ApiError> = None;
    let mut stopped = false;
    let mut run = |batch: &mut Vec<Finding>,
                   raws: &mut Vec<String>,
                   out: &mut Output|
     -> Result<bool, ApiError> {
        let mut index = FindingIndex::new();
        index.set_sla_targets(sla);
        index.upsert_batch(batch.iter());
        for f in batch.iter() {
            if let Some(&t) = triage.get(&f.id) {
                let _ = index.set_triage(&f.id, t);
            }
        }
        let rows = index.filter(filter, scope);
        let by_id: rustc_hash::FxHashMap<&str, &Finding> =
            batch.iter().map(|f| (f.id.as_str(), f)).collect();
        let raw_by_id: rustc_hash::FxHashMap<&str, &str> = batch
            .iter()
            .zip(raws.iter())
            .map(|(f, raw)| (f.id.as_str(), raw.as_str()))
            .collect();
        let known_raw = (!raws.is_empty()).then_some(&raw_by_id);
        out.write_rows(store, &index, &rows, Some(&by_id), known_raw)?;
        batch.clear();
        raws.clear();
        Ok(out.flush_if_full(sink))
    };
    let mut take = |f: Finding, raw: Option<&str>| -> bool {
        batch.push(f);
        if let Some(raw) = raw {
            raws.push(raw.to_owned());
        }
        if batch.len() == EXPORT_BATCH {
            match run(&mut batch, &mut raws, &mut out) {
                Ok(go_on) => stopped = !go_on,
                Err(e) => failed = Some(e),
            }
        }
        !stopped && failed.is_none()
    };
    if format == ExportFormat::Ndjson {
        store.scan_latest_with_raw(&mut |f, raw| take(f, Some(raw)))
    } else {
        store.scan_latest(&mut |f| {
            take(f, None);
        })
    }
    .map_err(crate::state::port_error)?;
    if let Some(e) = failed {
        return Err(e);
    }
    if stopped {
        return Ok(out.written);
    }
    if !batch.is_empty() {
        run(&mut batch, &mut raws, &mut out)?;
    }
    Ok(out.finish(sink))
}

/// The bytes being gathered for the sink.
struct Output {
    format: ExportFormat,
    buf: Vec<u8>,
    ids: Vec<String>,
    written: u64,
}

impl Output {
    fn new(format: ExportFormat) -> Self {
        let mut buf = Vec::with_capacity(CHUNK_BYTES * 2);
        if format == ExportFormat::Csv {
            write_csv_header(&mut buf);
        }
        Output {
            format,
            buf,
            ids: Vec::with_capacity(EXPORT_BATCH),
            written: 0,
        }
    }

    /// Appends `rows` of `index`; the findings (and for NDJSON their raw JSON) come from
    /// `known` (`known_raw`) when given, else the store.
    fn write_rows(
        &mut self,
        store: &dyn FindingStore,
        index: &FindingIndex,
        rows: &[u32],
        known: Option<&rustc_hash::FxHashMap<&str, &Finding>>,
        known_raw: Option<&rustc_hash::FxHashMap<&str, &str>>,
    ) -> Result<(), ApiError> {
        self.ids.clear();
        self.ids
            .extend(rows.iter().map(|&r| index.id(r).to_owned()));
        if self.ids.is_empty() {
            return Ok(());
        }
        match self.format {
            ExportFormat::Ndjson => {
                let fetched = match known_raw {
                    Some(_) => None,
                    None => Some(store.raw(&self.ids).map_err(crate::state::port_error)?),
                };
                for id in &self.ids {
                    let text = match (known_raw, &fetched) {
                        (Some(k), _) => k.get(id.as_str()).copied(),
                        (None, Some(m)) => m.get(id).map(String::as_str),
                        (None, None) => None,
                    };
                    // A finding deleted since the index was built is skipped.
                    if let Some(text) = text {
                        write_ndjson_line(&mut self.buf, text)?;
                        self.written += 1;
                    }
                }
            }
            ExportFormat::Csv | ExportFormat::Ocsf => {
                let fetched = match known {
                    Some(_) => None,
                    None => Some(
                        store
                            .findings(&self.ids)
                            .map_err(crate::state::port_error)?,
                    ),
                };
                for (id, &row) in self.ids.iter().zip(rows) {
                    let f = match (&fetched, known) {
                        (Some(m), _) => m.get(id),
                        (None, Some(k)) => k.get(id.as_str()).copied(),
                        (None, None) => None,
                    };
                    let Some(f) = f else { continue };
                    let triage = index.triage(row);
                    if self.format == ExportFormat::Csv {
                        write_csv_row(&mut self.buf, f, triage);
                    } else {
                        serde_json::to_writer(&mut self.buf, &OcsfFinding::of(f, triage))
                            .map_err(ApiError::internal)?;
                        self.buf.push(b'\n');
                    }
                    self.written += 1;
                }
            }
        }
        Ok(())
    }

    /// Hands the buffer to the sink once it holds a chunk; `false` when the sink stopped.
    fn flush_if_full(&mut self, sink: &mut dyn FnMut(Vec<u8>) -> bool) -> bool {
        if self.buf.len() < CHUNK_BYTES {
            return true;
        }
        sink(std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(CHUNK_BYTES * 2),
        ))
    }

    /// Hands what is left to the sink; returns the number of findings written.
    fn finish(self, sink: &mut dyn FnMut(Vec<u8>) -> bool) -> u64 {
        if !self.buf.is_empty() {
            sink(self.buf);
        }
        self.written
    }
}

/// One line of NDJSON: the stored JSON as is, re-serialized compactly only if it spans lines.
fn write_ndjson_line(buf: &mut Vec<u8>, text: &str) -> Result<(), ApiError> {
    let text = text.trim();
    if text.contains('\n') || text.contains('\r') {
        let v: Value = serde_json::from_str(text).map_err(ApiError::internal)?;
        serde_json::to_writer(&mut *buf, &v).map_err(ApiError::internal)?;
    } else {
        buf.extend_from_slice(text.as_bytes());
    }
    buf.push(b'\n');
    Ok(())
}

fn write_csv_header(buf: &mut Vec<u8>) {
    for (i, c) in CSV_COLUMNS.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        csv_field(buf, c);
    }
    buf.extend_from_slice(b"\r\n");
}

/// One CSV record for `f` (the columns of [`CSV_COLUMNS`]).
pub(crate) fn write_csv_row(buf: &mut Vec<u8>, f: &Finding, triage: TriageStatus) {
    let fields: [std::borrow::Cow<'_, str>; 17] = [
        f.id.as_str().into(),
        f.arn.as_str().into(),
        f.account_id.as_str().into(),
        f.region.as_str().into(),
        f.finding_type.as_str().into(),
        format!("{}", f.severity).into(),
        severity_label_str(f.severity_label()).into(),
        f.title.as_str().into(),
        f.resource_type.as_str().into(),
        f.resource_key.as_deref().unwrap_or("").into(),
        rfc3339(f.created_at).into(),
        rfc3339(f.updated_at).into(),
        rfc3339(f.first_seen()).into(),
        rfc3339(f.last_seen()).into(),
        f.count.to_string().into(),
        if f.archived { "true" } else { "false" }.into(),
        triage.as_str().into(),
    ];
    for (i, v) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        csv_field(buf, v);
    }
    buf.extend_from_slice(b"\r\n");
}

/// RFC 4180 field: quoted (with `"` doubled) when it holds a comma, a quote, CR or LF.
pub(crate) fn csv_field(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        buf.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                buf.push(b'"');
            }
            buf.push(b);
        }
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn severity_label_str(label: SeverityLabel) -> &'static str {
    match label {
        SeverityLabel::Low => "LOW",
        SeverityLabel::Medium => "MEDIUM",
        SeverityLabel::High => "HIGH",
        SeverityLabel::Critical => "CRITICAL",
    }
}

/// OCSF `severity_id` and `severity` from the GuardDuty score, by GuardDuty's bands (as Security
/// Hub maps them): 9.0–10 Critical (5), 7.0–8.9 High (4), 4.0–6.9 Medium (3), 1.0–3.9 Low (2),
/// below 1 Informational (1).
pub(crate) fn ocsf_severity(severity: f64) -> (u8, &'static str) {
    if severity >= 9.0 {
        (5, "Critical")
    } else if severity >= 7.0 {
        (4, "High")
    } else if severity >= 4.0 {
        (3, "Medium")
    } else if severity >= 1.0 {
        (2, "Low")
    } else {
        (1, "Informational")
    }
}

/// OCSF `status_id` / `status` from gdlens triage and the archived flag (archived findings are
/// Suppressed, as Security Hub shows archived GuardDuty findings).
fn ocsf_status(archived: bool, triage: TriageStatus) -> (u8, &'static str) {
    if archived {
        return (3, "Suppressed");
    }
    match triage {
        TriageStatus::New => (1, "New"),
        TriageStatus::Acknowledged | TriageStatus::InProgress => (2, "In Progress"),
        TriageStatus::Resolved => (4, "Resolved"),
        TriageStatus::Suppressed | TriageStatus::FalsePositive => (3, "Suppressed"),
    }
}

/// One OCSF 1.1 Detection Finding for a GuardDuty finding, following Security Hub's mapping:
/// `metadata.uid` and `finding_info.uid` the finding ARN, `finding_info.types` the GuardDuty
/// type, `cloud` the account and region, `resources` the affected resource, times in epoch ms,
/// the original score kept in `unmapped`. As a JSON value (see [`OcsfFinding`], which the export
/// writes directly).
pub fn ocsf_finding(f: &Finding, triage: TriageStatus) -> Value {
    serde_json::to_value(OcsfFinding::of(f, triage)).unwrap_or(Value::Null)
}

/// [`ocsf_finding`] as borrowed, derived structs: the export serializes each finding straight
/// into its buffer (a `serde_json::Value` tree per finding cost a third of an OCSF export).
#[derive(serde::Serialize)]
pub(crate) struct OcsfFinding<'a> {
    class_uid: u32,
    class_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    activity_id: u32,
    activity_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    time: i64,
    severity_id: u8,
    severity: &'static str,
    status_id: u8,
    status: &'static str,
    count: u64,
    message: &'a str,
    metadata: OcsfMetadata<'a>,
    finding_info: OcsfFindingInfo<'a>,
    cloud: OcsfCloud<'a>,
    resources: [OcsfResource<'a>; 1],
    unmapped: OcsfUnmapped<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidences: Option<[OcsfEvidence<'a>; 1]>,
}

#[derive(serde::Serialize)]
struct OcsfMetadata<'a> {
    version: &'static str,
    uid: &'a str,
    product: OcsfProduct,
    profiles: [&'static str; 1],
}

#[derive(serde::Serialize)]
struct OcsfProduct {
    name: &'static str,
    vendor_name: &'static str,
    uid: String,
}

#[derive(serde::Serialize)]
struct OcsfFindingInfo<'a> {
    uid: &'a str,
    title: &'a str,
    desc: &'a str,
    types: [&'a str; 1],
    created_time: i64,
    modified_time: i64,
    first_seen_time: i64,
    last_seen_time: i64,
    analytic: OcsfAnalytic<'a>,
    product_uid: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct OcsfAnalytic<'a> {
    name: &'a str,
    type_id: u8,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(serde::Serialize)]
struct OcsfCloud<'a> {
    provider: &'static str,
    region: &'a str,
    account: OcsfAccount<'a>,
}

#[derive(serde::Serialize)]
struct OcsfAccount<'a> {
    uid: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    type_id: u8,
}

#[derive(serde::Serialize)]
struct OcsfOwner<'a> {
    account: OcsfAccount<'a>,
}

#[derive(serde::Serialize)]
struct OcsfResource<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    region: &'a str,
    cloud_partition: &'a str,
    owner: OcsfOwner<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    uid: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct OcsfUnmapped<'a> {
    guardduty_severity: f64,
    guardduty_id: &'a str,
    sample: bool,
}

/// The network and API activity of the finding as one OCSF evidence artifact.
#[derive(serde::Serialize)]
struct OcsfEvidence<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    src_endpoint: Option<OcsfEndpoint<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api: Option<OcsfApi<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<OcsfQuery<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actor: Option<OcsfActor<'a>>,
}

#[derive(serde::Serialize)]
struct OcsfEndpoint<'a> {
    ip: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<OcsfLocation<'a>>,
}

#[derive(serde::Serialize)]
struct OcsfLocation<'a> {
    country: &'a str,
}

#[derive(serde::Serialize)]
struct OcsfApi<'a> {
    operation: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    service: Option<OcsfName<'a>>,
}

#[derive(serde::Serialize)]
struct OcsfName<'a> {
    name: &'a str,
}

#[derive(serde::Serialize)]
struct OcsfQuery<'a> {
    hostname: &'a str,
}

#[derive(serde::Serialize)]
struct OcsfActor<'a> {
    user: OcsfName<'a>,
}

impl<'a> OcsfFinding<'a> {
    pub(crate) fn of(f: &'a Finding, triage: TriageStatus) -> Self {
        let (severity_id, severity) = ocsf_severity(f.severity);
        let (status_id, status) = ocsf_status(f.archived, triage);
        let account = || OcsfAccount {
            uid: &f.account_id,
            kind: "AWS Account",
            type_id: 10,
        };
        OcsfFinding {
            class_uid: 2004,
            class_name: "Detection Finding",
            category_uid: 2,
            category_name: "Findings",
            activity_id: 1,
            activity_name: "Create",
            type_uid: 200401,
            type_name: "Detection Finding: Create",
            time: f.updated_at,
            severity_id,
            severity,
            status_id,
            status,
            count: f.count,
            message: &f.title,
            metadata: OcsfMetadata {
                version: OCSF_VERSION,
                uid: &f.arn,
                product: OcsfProduct {
                    name: "GuardDuty",
                    vendor_name: "AWS",
                    uid: format!(
                        "arn:{}:securityhub:{}::product/aws/guardduty",
                        f.partition, f.region
                    ),
                },
                profiles: ["cloud"],
            },
            finding_info: OcsfFindingInfo {
                uid: &f.arn,
                title: &f.title,
                desc: &f.description,
                types: [&f.finding_type],
                created_time: f.created_at,
                modified_time: f.updated_at,
                first_seen_time: f.first_seen(),
                last_seen_time: f.last_seen(),
                analytic: OcsfAnalytic {
                    name: &f.finding_type,
                    type_id: 1,
                    kind: "Rule",
                },
                product_uid: f.detector_id.as_deref(),
            },
            cloud: OcsfCloud {
                provider: "AWS",
                region: &f.region,
                account: account(),
            },
            resources: [OcsfResource {
                kind: &f.resource_type,
                region: &f.region,
                cloud_partition: &f.partition,
                owner: OcsfOwner { account: account() },
                uid: f.resource_key.as_deref(),
            }],
            unmapped: OcsfUnmapped {
                guardduty_severity: f.severity,
                guardduty_id: &f.id,
                sample: f.sample,
            },
            evidences: ocsf_evidence(f).map(|e| [e]),
        }
    }
}

/// The network and API activity of the finding as one OCSF evidence artifact (none when the
/// finding carries no activity).
fn ocsf_evidence(f: &Finding) -> Option<OcsfEvidence<'_>> {
    let a = &f.activity;
    let e = OcsfEvidence {
        src_endpoint: a.remote_ips.first().map(|ip| OcsfEndpoint {
            ip,
            location: a
                .remote_countries
                .first()
                .map(|c| OcsfLocation { country: c }),
        }),
        api: a.api.as_deref().map(|op| OcsfApi {
            operation: op,
            service: a.service_name.as_deref().map(|name| OcsfName { name }),
        }),
        query: a.domain.as_deref().map(|hostname| OcsfQuery { hostname }),
        actor: f.resource.user_name.as_deref().map(|name| OcsfActor {
            user: OcsfName { name },
        }),
    };
    let empty =
        e.src_endpoint.is_none() && e.api.is_none() && e.query.is_none() && e.actor.is_none();
    (!empty).then_some(e)
}

/// The route: `GET /export`.
pub(crate) fn route<S: Clone + Send + Sync + 'static>(state: Arc<AppState>) -> MethodRouter<S> {
    get(export_handler).with_state(state)
}

fn reject(status: StatusCode, error: ApiError) -> Response {
    let body = json!({
        "errors": [{"message": error.message, "extensions": {"code": error.code.as_str()}}]
    });
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response();
    if status == StatusCode::UNAUTHORIZED {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

async fn export_handler(
    State(state): State<Arc<AppState>>,
    crate::auth::Peer(peer): crate::auth::Peer,
    headers: HeaderMap,
    Query(params): Query<Vec<(String, String)>>,
) -> Response {
    // Authenticated exactly as `/graphql` and `/api/scoring-features`.
    let caller = match state.auth.authenticate(&headers, peer).await {
        Ok(c) => c,
        Err(e) => return reject(e.status(), ApiError::new(e.code(), e.to_string())),
    };
    if !caller.role.can_read_findings() {
        return reject(
            StatusCode::FORBIDDEN,
            ApiError::forbidden(format!(
                "token `{}` ({}) cannot read findings",
                caller.name,
                caller.role.as_str()
            )),
        );
    }
    let (format, filter) = match parse_params(&params) {
        Ok(p) => p,
        Err(e) => return reject(StatusCode::BAD_REQUEST, e),
    };
    let snapshot = state.snapshot();
    let scope = caller.scope.clone();
    let store = state.store.clone();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let who = caller.name.clone();
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        let result = export(
            store.as_ref(),
            &snapshot.index,
            &scope,
            &filter,
            format,
            &mut |chunk| tx.blocking_send(Bytes::from(chunk)).is_ok(),
        );
        match result {
            Ok(rows) => tracing::info!(
                token = %who,
                rows,
                ms = started.elapsed().as_millis() as u64,
                "export"
            ),
            // The status line is gone: the body ends early and the client sees a short body.
            Err(e) => tracing::error!(token = %who, error = %e.message, "export failed"),
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| {
        rx.poll_recv(cx).map(|c| c.map(Ok::<_, std::io::Error>))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Ok(v) =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", format.file_name()))
    {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// `format` (required) and `filter` (optional JSON); any other parameter is refused.
fn parse_params(params: &[(String, String)]) -> Result<(ExportFormat, FindingFilter), ApiError> {
    let mut format = None;
    let mut filter = None;
    for (k, v) in params {
        match k.as_str() {
            "format" if format.is_none() => {
                format = Some(ExportFormat::parse(v).ok_or_else(|| {
                    ApiError::bad_input("format", "expected `ndjson`, `csv` or `ocsf`")
                })?)
            }
            "filter" if filter.is_none() => filter = Some(parse_filter_json(v)?),
            "format" | "filter" => return Err(ApiError::bad_input(k, "given twice")),
            _ => {
                return Err(ApiError::new(
                    ErrorCode::BadUserInput,
                    format!("unknown parameter `{k}` (expected `format`, `filter`)"),
                ))
            }
        }
    }
    let format = format
        .ok_or_else(|| ApiError::bad_input("format", "required (`ndjson`, `csv` or `ocsf`)"))?;
    Ok((format, filter.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding() -> Finding {
        Finding {
            id: "f1".into(),
            arn: "arn:aws:guardduty:eu-west-1:111122223333:detector/d/finding/f1".into(),
            account_id: "111122223333".into(),
            region: "eu-west-1".into(),
            partition: "aws".into(),
            finding_type: "Recon:EC2/PortProbeUnprotectedPort".into(),
            severity: 7.5,
            title: "Port 22, \"ssh\"\nprobed".into(),
            description: "d".into(),
            created_at: 1_700_000_000_123,
            updated_at: 1_700_000_360_456,
            count: 3,
            resource_type: "Instance".into(),
            resource_key: Some("i-0abc".into()),
            ..Finding::default()
        }
    }

    fn csv(s: &str) -> String {
        let mut buf = Vec::new();
        csv_field(&mut buf, s);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn csv_fields_are_quoted_as_rfc_4180_says() {
        assert_eq!(csv("plain"), "plain");
        assert_eq!(csv(""), "");
        assert_eq!(csv("a,b"), "\"a,b\"");
        assert_eq!(csv("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv("cr\r"), "\"cr\r\"");
    }

    #[test]
    fn a_csv_row_has_every_column_in_order() {
        let mut buf = Vec::new();
        write_csv_header(&mut buf);
        write_csv_row(&mut buf, &finding(), TriageStatus::InProgress);
        let text = String::from_utf8(buf).unwrap();
        let (header, row) = text.split_once("\r\n").unwrap();
        assert_eq!(header, CSV_COLUMNS.join(","));
        assert!(row.ends_with("\r\n"));
        assert_eq!(
            row,
            "f1,arn:aws:guardduty:eu-west-1:111122223333:detector/d/finding/f1,111122223333,\
             eu-west-1,Recon:EC2/PortProbeUnprotectedPort,7.5,HIGH,\"Port 22, \"\"ssh\"\"\nprobed\",\
             Instance,i-0abc,2023-11-14T22:13:20.123Z,2023-11-14T22:19:20.456Z,\
             2023-11-14T22:13:20.123Z,2023-11-14T22:19:20.456Z,3,false,IN_PROGRESS\r\n"
        );
    }

    #[test]
    fn ocsf_severity_follows_the_guardduty_bands() {
        for (score, id, name) in [
            (0.5, 1, "Informational"),
            (1.0, 2, "Low"),
            (3.9, 2, "Low"),
            (4.0, 3, "Medium"),
            (6.9, 3, "Medium"),
            (7.0, 4, "High"),
            (8.9, 4, "High"),
            (9.0, 5, "Critical"),
            (10.0, 5, "Critical"),
        ] {
            assert_eq!(ocsf_severity(score), (id, name), "{score}");
        }
    }

    #[test]
    fn ocsf_times_are_epoch_milliseconds_and_ids_are_the_arn() {
        let f = finding();
        let o = ocsf_finding(&f, TriageStatus::New);
        assert_eq!(o["time"], 1_700_000_360_456i64);
        assert_eq!(o["finding_info"]["created_time"], 1_700_000_000_123i64);
        assert_eq!(o["finding_info"]["modified_time"], 1_700_000_360_456i64);
        // No event times in the finding: first/last seen fall back to created/updated.
        assert_eq!(o["finding_info"]["first_seen_time"], f.first_seen());
        assert_eq!(o["finding_info"]["last_seen_time"], f.last_seen());
        assert_eq!(o["finding_info"]["uid"], f.arn);
        assert_eq!(o["metadata"]["uid"], f.arn);
        assert_eq!(o["severity_id"], 4);
        assert_eq!(o["status_id"], 1);
        assert_eq!(o["cloud"]["account"]["uid"], "111122223333");
        assert_eq!(o["resources"][0]["uid"], "i-0abc");
        let archived = Finding {
            archived: true,
            ..f
        };
        assert_eq!(ocsf_finding(&archived, TriageStatus::New)["status_id"], 3);
    }

    #[test]
    fn multi_line_json_becomes_one_line() {
        let mut buf = Vec::new();
        write_ndjson_line(&mut buf, "{\n  \"id\": \"a\"\n}\n").unwrap();
        write_ndjson_line(&mut buf, "{\"id\":\"b\"}").unwrap();
        assert_eq!(buf, b"{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
    }

    #[test]
    fn formats_parse_by_their_names_only() {
        assert_eq!(ExportFormat::parse("ndjson"), Some(ExportFormat::Ndjson));
        assert_eq!(ExportFormat::parse("csv"), Some(ExportFormat::Csv));
        assert_eq!(ExportFormat::parse("ocsf"), Some(ExportFormat::Ocsf));
        assert_eq!(ExportFormat::parse("CSV"), None);
        assert!(parse_filter_json("").unwrap() == FindingFilter::default());
        assert!(parse_filter_json("{").is_err());
    }
}
