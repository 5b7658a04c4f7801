//! `POST /api/scoring-features`: the columns of GraphQL `scoringFeatures` as one Arrow IPC
//! stream, so the findings view loads 100,000 findings without building or parsing JSON and
//! hands the column buffers to the WASM `Ranker` as they arrive.
//!
//! ```text
//! JSON body {filter, limit} ──► auth + scope ──► blocking pool: feature_rows ──► encode ──► Arrow IPC stream
//! ```
//!
//! One record batch, rows in finding id order (as `features_json`, so row order breaks score
//! ties by id as the server does). Columns, in this order (see docs/scoring.md):
//!
//! | column | Arrow type |
//! |---|---|
//! | `id` | Utf8 |
//! | the twelve `FeatureColumns` (`severity` … `sample`) | Float64 / UInt8 / UInt32, as in the scoring crate |
//! | `account`, `region`, `findingType`, `title`, `resourceType` | Dictionary(UInt32, Utf8) |
//! | `updatedAt` | Float64, epoch milliseconds |
//! | `severityLabel` | Dictionary(UInt8, Utf8) |
//!
//! Schema metadata: `nowMs`, `generation`, `defaultWeights` (JSON), `gdlens.format` (`1`).

use std::sync::Arc;
use std::time::Instant;

use arrow_array::types::{UInt32Type, UInt8Type};
use arrow_array::{
    ArrayRef, DictionaryArray, Float64Array, RecordBatch, StringArray, UInt32Array, UInt8Array,
};
use arrow_buffer::{Buffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use async_graphql::InputType;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, MethodRouter};
use gdlens_domain::{FindingFilter, Scope};
use gdlens_index::CodedColumn;
use gdlens_scoring::{FeatureColumns, Weights};
use tower_http::compression::{CompressionLayer, CompressionLevel};

use crate::error::{ApiError, ErrorCode};
use crate::schema::{FindingFilterInput, MAX_FEATURES};
use crate::snapshot::Snapshot;
use crate::state::AppState;
use crate::view::ScopeView;

/// The media type of an Arrow IPC stream.
pub const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";

/// Version of the column layout, in the schema metadata as `gdlens.format`.
const FORMAT_VERSION: &str = "1";

/// The `FindingFilter` input fields (GraphQL names). async-graphql ignores unknown fields when
/// parsing an input object; here a typo must fail, so the names are checked against this list
/// (and the list against the SDL by a test).
const FILTER_FIELDS: [&str; 15] = [
    "accountIds",
    "regions",
    "severityMin",
    "severityLabels",
    "types",
    "typePrefix",
    "resourceTypes",
    "resourceKey",
    "archived",
    "includeSamples",
    "updatedSince",
    "updatedBefore",
    "triageStatus",
    "search",
    "overdue",
];

/// The route: `POST` only, zstd or gzip when the client accepts it. Generic over the router's state
/// so it plugs into `http::router` with one `.route` line.
pub(crate) fn route<S: Clone + Send + Sync + 'static>(state: Arc<AppState>) -> MethodRouter<S> {
    // Fastest (zstd 1, gzip 1): unique titles and random ids dominate the bytes; higher levels
    // cost several times the CPU for a few percent fewer bytes (BENCHMARKS.md, issue 13).
    post(scoring_features)
        .with_state(state)
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
}

/// A rejected request: status, stable code, message (GraphQL's error shape, so clients share
/// one parser).
#[derive(Debug)]
struct Rejection {
    status: StatusCode,
    error: ApiError,
}

impl Rejection {
    /// An error from the serving core (internal: detail already logged).
    fn from_api(error: ApiError) -> Self {
        Rejection {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            error,
        }
    }

    fn bad_request(error: ApiError) -> Self {
        Rejection {
            status: StatusCode::BAD_REQUEST,
            error,
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "errors": [{"message": self.error.message, "extensions": {"code": self.error.code.as_str()}}]
        });
        let mut resp = (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

async fn scoring_features(
    State(state): State<Arc<AppState>>,
    crate::auth::Peer(peer): crate::auth::Peer,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Authenticated exactly as `/graphql` (http::execute).
    let caller = match state.auth.authenticate(&headers, peer).await {
        Ok(c) => c,
        Err(e) => {
            return Rejection {
                status: e.status(),
                error: ApiError::new(e.code(), e.to_string()),
            }
            .into_response()
        }
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !(content_type.is_empty() || content_type.starts_with("application/json")) {
        return Rejection {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            error: ApiError::new(
                ErrorCode::BadUserInput,
                "Content-Type must be application/json",
            ),
        }
        .into_response();
    }
    if !caller.role.can_read_findings() {
        return Rejection {
            status: StatusCode::FORBIDDEN,
            error: ApiError::forbidden(format!(
                "token `{}` ({}) cannot read findings",
                caller.name,
                caller.role.as_str()
            )),
        }
        .into_response();
    }
    let (filter, limit) = match parse_request(&body) {
        Ok(r) => r,
        Err(e) => return Rejection::bad_request(e).into_response(),
    };
    let started = Instant::now();
    let snapshot = state.snapshot();
    let view = match state.scope_view(&snapshot, &caller).await {
        Ok(v) => v,
        Err(e) => return Rejection::from_api(e).into_response(),
    };
    let scope = caller.scope.clone();
    let job = tokio::task::spawn_blocking(move || {
        let rows = feature_rows(&snapshot, &view, &scope, &filter, limit);
        let n = rows.len();
        encode(rows).map(|bytes| (bytes, n))
    });
    let (bytes, n) = match job.await {
        Ok(Ok(done)) => done,
        Ok(Err(e)) => return internal(e),
        Err(e) => return internal(e),
    };
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::debug!(
        rows = n,
        bytes = bytes.len(),
        ms,
        "scoring features as Arrow IPC"
    );
    let mut resp = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(ARROW_STREAM))],
        bytes,
    )
        .into_response();
    // Server time of the build + encode, for the browser's devtools and the benchmark.
    if let Ok(v) = HeaderValue::from_str(&format!("features;dur={ms:.1}")) {
        resp.headers_mut().insert("server-timing", v);
    }
    resp
}

fn internal(detail: impl std::fmt::Display) -> Response {
    Rejection {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error: ApiError::internal(detail),
    }
    .into_response()
}

/// Body → (domain filter, limit). Empty body = no filter, the default limit.
fn parse_request(body: &[u8]) -> Result<(FindingFilter, usize), ApiError> {
    let value: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::Value::Object(Default::default())
    } else {
        serde_json::from_slice(body).map_err(|e| ApiError::bad_input("body", e))?
    };
    let serde_json::Value::Object(mut fields) = value else {
        return Err(ApiError::bad_input("body", "expected a JSON object"));
    };
    let filter = parse_filter(fields.remove("filter").unwrap_or_default())?;
    let limit = parse_limit(fields.remove("limit").unwrap_or_default())?;
    if let Some(name) = fields.keys().next() {
        return Err(ApiError::bad_input(
            name,
            "unknown field (expected `filter`, `limit`)",
        ));
    }
    Ok((filter, limit))
}

/// Same rule as GraphQL `scoringFeatures(limit:)`: default and maximum [`MAX_FEATURES`].
fn parse_limit(value: serde_json::Value) -> Result<usize, ApiError> {
    if value.is_null() {
        return Ok(MAX_FEATURES);
    }
    let Some(n) = value.as_i64() else {
        return Err(ApiError::bad_input("limit", "expected an integer"));
    };
    if n < 0 || n as u64 > MAX_FEATURES as u64 {
        return Err(ApiError::new(
            ErrorCode::PageTooLarge,
            format!("argument `limit`: at most {MAX_FEATURES}"),
        ));
    }
    Ok(n as usize)
}

/// The filter as GraphQL parses `FindingFilter` (same names, enums as strings, dates as
/// RFC 3339), then the resolvers' validation. Errors name the field.
pub(crate) fn parse_filter(value: serde_json::Value) -> Result<FindingFilter, ApiError> {
    let fields = match value {
        serde_json::Value::Null => return Ok(FindingFilter::default()),
        serde_json::Value::Object(fields) => fields,
        _ => return Err(ApiError::bad_input("filter", "expected a JSON object")),
    };
    let mut input = serde_json::Map::new();
    for (name, v) in fields {
        if !FILTER_FIELDS.contains(&name.as_str()) {
            return Err(ApiError::bad_input(
                &format!("filter.{name}"),
                "unknown field",
            ));
        }
        // One field at a time, so a type error names its field.
        let one = serde_json::Value::Object([(name.clone(), v.clone())].into_iter().collect());
        graphql_filter(one).map_err(|e| ApiError::bad_input(&format!("filter.{name}"), e))?;
        input.insert(name, v);
    }
    graphql_filter(serde_json::Value::Object(input))
        .map_err(|e| ApiError::bad_input("filter", e))?
        .to_domain()
}

fn graphql_filter(value: serde_json::Value) -> Result<FindingFilterInput, String> {
    let value = async_graphql::Value::from_json(value).map_err(|e| e.to_string())?;
    FindingFilterInput::parse(Some(value))
        .map_err(|e| e.into_server_error(Default::default()).message)
}

/// Concatenated UTF-8 with offsets: the layout of an Arrow Utf8 column, filled row by row.
#[derive(Debug, Default)]
pub(crate) struct Strings {
    offsets: Vec<i32>,
    bytes: Vec<u8>,
}

impl Strings {
    fn with_capacity(n: usize) -> Self {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        Strings {
            offsets,
            bytes: Vec::with_capacity(n * 32),
        }
    }

    fn push(&mut self, s: &str) {
        self.bytes.extend_from_slice(s.as_bytes());
        // Past 2 GiB the offset saturates and `encode` rejects the column (never at 100,000 rows).
        self.offsets
            .push(i32::try_from(self.bytes.len()).unwrap_or(i32::MAX));
    }

    fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    fn into_array(self) -> Result<StringArray, ArrowError> {
        if self
            .offsets
            .last()
            .is_some_and(|o| *o as usize != self.bytes.len())
        {
            return Err(ArrowError::ComputeError("string column above 2 GiB".into()));
        }
        StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(self.offsets)),
            Buffer::from_vec(self.bytes),
            None,
        )
    }
}

/// A dictionary-coded string column: codes by row, strings in first-seen order (as the JSON
/// `dictionaries`, so the codes equal the JSON `codes`).
#[derive(Debug, Default)]
pub(crate) struct Coded {
    keys: Vec<u32>,
    values: Strings,
}

impl Coded {
    /// The index's column for `rows` (codes remapped, no string hashed).
    fn of(index: &gdlens_index::FindingIndex, rows: &[u32], column: CodedColumn) -> Self {
        let coded = index.coded(rows, column);
        let mut values = Strings::with_capacity(coded.values.len());
        for v in coded.values {
            values.push(v);
        }
        Coded {
            keys: coded.codes,
            values,
        }
    }

    fn into_array(self) -> Result<DictionaryArray<UInt32Type>, ArrowError> {
        DictionaryArray::try_new(
            UInt32Array::from(self.keys),
            Arc::new(self.values.into_array()?),
        )
    }
}

/// Everything one response holds, copied out under the index lock; the rest is encoding.
#[derive(Debug)]
pub(crate) struct FeatureRows {
    /// Data generation the features were computed at.
    generation: u64,
    /// Now (epoch ms) of the `ageHours` column.
    now_ms: i64,
    ids: Strings,
    features: FeatureColumns,
    account: Coded,
    region: Coded,
    finding_type: Coded,
    title: Coded,
    resource_type: Coded,
    updated_at: Vec<f64>,
    /// Index into `SeverityLabel::ALL`.
    severity_label: Vec<u8>,
}

impl FeatureRows {
    fn len(&self) -> usize {
        self.ids.len()
    }
}

/// The one place that reads the server's data: the rows `scoringFeatures(filter, limit)`
/// returns for `scope`, with the same selection (the `limit` best by default score, ties by
/// id) and the same order (by id), copied out so the lock is released before encoding.
fn feature_rows(
    snapshot: &Snapshot,
    view: &ScopeView,
    scope: &Scope,
    filter: &FindingFilter,
    limit: usize,
) -> FeatureRows {
    let index = &snapshot.index;
    let rows = view.top_rows(index, filter, scope, limit);
    // Rows in id order (as `features_json`): sorted by the ids' first 16 bytes, whole ids only
    // where those tie.
    let rows = index.order_by_key(rows.into_iter(), |_| 0);
    let n = rows.len();
    let mut ids = Strings::with_capacity(n);
    let columns = view.feature_columns(index, &rows);
    let mut updated_at = Vec::with_capacity(n);
    let mut severity_label = Vec::with_capacity(n);
    for &r in &rows {
        ids.push(index.id(r));
        updated_at.push(index.updated_at(r) as f64);
        severity_label.push(index.severity_label(r) as u8);
    }
    FeatureRows {
        generation: view.generation,
        now_ms: view.now_ms,
        ids,
        features: columns,
        account: Coded::of(index, &rows, CodedColumn::Account),
        region: Coded::of(index, &rows, CodedColumn::Region),
        finding_type: Coded::of(index, &rows, CodedColumn::FindingType),
        title: Coded::of(index, &rows, CodedColumn::Title),
        resource_type: Coded::of(index, &rows, CodedColumn::ResourceType),
        updated_at,
        severity_label,
    }
}

/// The Arrow schema of the stream (see the module documentation).
fn schema(generation: u64, now_ms: i64) -> Schema {
    let utf8_dict = |key: DataType| DataType::Dictionary(Box::new(key), Box::new(DataType::Utf8));
    let fields = vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("severity", DataType::Float64, false),
        Field::new("criticality", DataType::UInt8, false),
        Field::new("typeCount", DataType::UInt32, false),
        Field::new("ageHours", DataType::Float64, false),
        Field::new("count", DataType::UInt32, false),
        Field::new("resourceFindings", DataType::UInt32, false),
        Field::new("resourceDistinctTypes", DataType::UInt32, false),
        Field::new("groupTactics", DataType::UInt8, false),
        Field::new("groupSeverity", DataType::Float64, false),
        Field::new("archived", DataType::UInt8, false),
        Field::new("triage", DataType::UInt8, false),
        Field::new("sample", DataType::UInt8, false),
        Field::new("account", utf8_dict(DataType::UInt32), false),
        Field::new("region", utf8_dict(DataType::UInt32), false),
        Field::new("findingType", utf8_dict(DataType::UInt32), false),
        Field::new("title", utf8_dict(DataType::UInt32), false),
        Field::new("resourceType", utf8_dict(DataType::UInt32), false),
        Field::new("updatedAt", DataType::Float64, false),
        Field::new("severityLabel", utf8_dict(DataType::UInt8), false),
    ];
    let weights = serde_json::to_string(&Weights::default()).unwrap_or_default();
    let metadata = [
        ("gdlens.format".to_string(), FORMAT_VERSION.to_string()),
        ("nowMs".to_string(), now_ms.to_string()),
        ("generation".to_string(), generation.to_string()),
        ("defaultWeights".to_string(), weights),
    ]
    .into_iter()
    .collect();
    Schema::new(fields).with_metadata(metadata)
}

/// The rows as an Arrow IPC stream: schema, dictionaries, one record batch.
fn encode(rows: FeatureRows) -> Result<Bytes, ArrowError> {
    let schema = Arc::new(schema(rows.generation, rows.now_ms));
    let f = rows.features;
    let labels: Vec<&str> = gdlens_domain::SeverityLabel::ALL
        .iter()
        .map(|l| l.as_str())
        .collect();
    let severity_label = DictionaryArray::<UInt8Type>::try_new(
        UInt8Array::from(rows.severity_label),
        Arc::new(StringArray::from(labels)),
    )?;
    let columns: Vec<ArrayRef> = vec![
        Arc::new(rows.ids.into_array()?),
        Arc::new(Float64Array::from(f.severity)),
        Arc::new(UInt8Array::from(f.criticality)),
        Arc::new(UInt32Array::from(f.type_count)),
        Arc::new(Float64Array::from(f.age_hours)),
        Arc::new(UInt32Array::from(f.count)),
        Arc::new(UInt32Array::from(f.resource_findings)),
        Arc::new(UInt32Array::from(f.resource_distinct_types)),
        Arc::new(UInt8Array::from(f.group_tactics)),
        Arc::new(Float64Array::from(f.group_severity)),
        Arc::new(UInt8Array::from(f.archived)),
        Arc::new(UInt8Array::from(f.triage)),
        Arc::new(UInt8Array::from(f.sample)),
        Arc::new(rows.account.into_array()?),
        Arc::new(rows.region.into_array()?),
        Arc::new(rows.finding_type.into_array()?),
        Arc::new(rows.title.into_array()?),
        Arc::new(rows.resource_type.into_array()?),
        Arc::new(Float64Array::from(rows.updated_at)),
        Arc::new(severity_label),
    ];
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    let mut out = Vec::with_capacity(batch.get_array_memory_size() + 4096);
    let mut writer = arrow_ipc::writer::StreamWriter::try_new(&mut out, &schema)?;
    writer.write(&batch)?;
    writer.finish()?;
    drop(writer);
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_fields_are_the_graphql_finding_filter_fields() {
        let sdl = crate::schema::sdl();
        let start = sdl
            .find("input FindingFilter {")
            .expect("FindingFilter in the SDL");
        let block = &sdl[start..];
        let block = &block[..block.find('}').expect("end of FindingFilter")];
        // Field lines are the ones outside `"""` description blocks.
        let mut in_description = false;
        let mut names: Vec<&str> = Vec::new();
        for line in block.lines().skip(1).map(str::trim) {
            if line.starts_with("\"\"\"") {
                in_description = !(in_description || line.len() > 3 && line.ends_with("\"\"\""));
            } else if !in_description && !line.is_empty() {
                names.extend(line.split(':').next());
            }
        }
        names.sort_unstable();
        let mut want = FILTER_FIELDS.to_vec();
        want.sort_unstable();
        assert_eq!(names, want);
    }

    #[test]
    fn limit_follows_the_graphql_rule() {
        assert_eq!(parse_limit(serde_json::Value::Null).unwrap(), MAX_FEATURES);
        assert_eq!(parse_limit(serde_json::json!(0)).unwrap(), 0);
        assert_eq!(parse_limit(serde_json::json!(100_000)).unwrap(), 100_000);
        let too_large = parse_limit(serde_json::json!(100_001)).unwrap_err();
        assert_eq!(too_large.code, ErrorCode::PageTooLarge);
        assert_eq!(
            parse_limit(serde_json::json!(1.5)).unwrap_err().code,
            ErrorCode::BadUserInput
        );
    }

    #[test]
    fn filter_errors_name_the_field() {
        let err = parse_filter(serde_json::json!({"severityLabels": ["SEVERE"]})).unwrap_err();
        assert_eq!(err.code, ErrorCode::BadUserInput);
        assert!(
            err.message.contains("filter.severityLabels"),
            "{}",
            err.message
        );
        let err = parse_filter(serde_json::json!({"severityMin": 11})).unwrap_err();
        assert!(
            err.message.contains("filter.severityMin"),
            "{}",
            err.message
        );
        let err = parse_filter(serde_json::json!({"acountIds": []})).unwrap_err();
        assert!(err.message.contains("filter.acountIds"), "{}", err.message);
        assert!(parse_filter(
            serde_json::json!({"severityLabels": ["HIGH"], "regions": ["us-east-1"]})
        )
        .is_ok());
    }
}
