//! `POST /api/scoring-features` through the real router: the Arrow IPC stream carries exactly
//! what GraphQL `scoringFeatures` returns for the same filter and token (every column, every
//! row, compared as the JSON text of each value), only the caller's accounts, and the errors
//! carry stable codes.
//!
//! `GDLENS_WRITE_IPC_FIXTURE=1 cargo test -p gdlens-api --test features_ipc` also rewrites
//! tests/wasm/fixtures/scoring-features.{arrow,json} (the Node parity test's input).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt32Type, UInt8Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use common::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

const FEATURES_QUERY: &str =
    "query($f: FindingFilter, $l: Int) { scoringFeatures(filter: $f, limit: $l) }";

/// The GraphQL payload with every number kept as the server's JSON text.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Payload {
    ids: Vec<String>,
    features: BTreeMap<String, Vec<Box<RawValue>>>,
    codes: BTreeMap<String, Vec<Box<RawValue>>>,
    dictionaries: BTreeMap<String, Vec<String>>,
    severity_labels: Vec<String>,
    now_ms: i64,
    generation: u64,
    default_weights: Value,
}

/// The feature columns and their Arrow types (the scoring crate's `FeatureColumns`).
const FEATURES: [(&str, DataType); 12] = [
    ("severity", DataType::Float64),
    ("criticality", DataType::UInt8),
    ("typeCount", DataType::UInt32),
    ("ageHours", DataType::Float64),
    ("count", DataType::UInt32),
    ("resourceFindings", DataType::UInt32),
    ("resourceDistinctTypes", DataType::UInt32),
    ("groupTactics", DataType::UInt8),
    ("groupSeverity", DataType::Float64),
    ("archived", DataType::UInt8),
    ("triage", DataType::UInt8),
    ("sample", DataType::UInt8),
];

/// Code columns and the JSON dictionary naming their strings.
const CODES: [(&str, &str); 5] = [
    ("account", "accounts"),
    ("region", "regions"),
    ("findingType", "types"),
    ("title", "titles"),
    ("resourceType", "resourceTypes"),
];

async fn graphql_payload(s: &TestServer, token: &str, filter: &Value, limit: &Value) -> Payload {
    graphql_response(s, token, filter, limit).await.0
}

/// The payload and the whole response body as sent.
async fn graphql_response(
    s: &TestServer,
    token: &str,
    filter: &Value,
    limit: &Value,
) -> (Payload, String) {
    let resp = s
        .client
        .post(s.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({"query": FEATURES_QUERY, "variables": {"f": filter, "l": limit}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let text = resp.text().await.unwrap();
    #[derive(Deserialize)]
    struct Body {
        data: Data,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Data {
        scoring_features: Payload,
    }
    let payload = serde_json::from_str::<Body>(&text)
        .unwrap_or_else(|e| panic!("{e}: {text}"))
        .data
        .scoring_features;
    (payload, text)
}

/// POSTs to the IPC endpoint; returns (status, headers, body).
async fn post_ipc(
    s: &TestServer,
    token: Option<&str>,
    body: &Value,
    accept_encoding: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = s.client.post(s.url("/api/scoring-features")).json(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(e) = accept_encoding {
        req = req.header("accept-encoding", e);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

/// Decodes the stream: its schema metadata and its one record batch.
fn decode(bytes: &[u8]) -> (BTreeMap<String, String>, RecordBatch) {
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(bytes), None)
        .expect("an Arrow IPC stream");
    let metadata = reader.schema().metadata().clone().into_iter().collect();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    assert_eq!(batches.len(), 1, "one record batch");
    (metadata, batches.into_iter().next().unwrap())
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a ArrayRef {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// Each value as serde_json writes it (so equal text = equal number; +inf is `null` in JSON).
fn texts(col: &ArrayRef) -> Vec<String> {
    assert_eq!(col.null_count(), 0);
    let text = |v: Value| v.to_string();
    match col.data_type() {
        DataType::Float64 => col
            .as_primitive::<Float64Type>()
            .values()
            .iter()
            .map(|v| text(json!(v)))
            .collect(),
        DataType::UInt32 => col
            .as_primitive::<UInt32Type>()
            .values()
            .iter()
            .map(|v| text(json!(v)))
            .collect(),
        DataType::UInt8 => col
            .as_primitive::<UInt8Type>()
            .values()
            .iter()
            .map(|v| text(json!(v)))
            .collect(),
        other => panic!("unexpected type {other}"),
    }
}

fn raw_texts(col: &[Box<RawValue>]) -> Vec<String> {
    col.iter().map(|v| v.get().to_string()).collect()
}

fn strings(col: &ArrayRef) -> Vec<String> {
    col.as_string::<i32>()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect()
}

/// Asserts the IPC stream holds exactly the GraphQL payload.
fn assert_same(bytes: &[u8], p: &Payload) {
    let (metadata, batch) = decode(bytes);
    let n = p.ids.len();
    assert_eq!(batch.num_rows(), n);
    assert_eq!(strings(column(&batch, "id")), p.ids, "ids");
    for (name, ty) in FEATURES {
        let col = column(&batch, name);
        assert_eq!(col.data_type(), &ty, "type of {name}");
        assert_eq!(texts(col), raw_texts(&p.features[name]), "feature {name}");
    }
    for (name, dict) in CODES {
        let col = column(&batch, name);
        assert_eq!(
            col.data_type(),
            &DataType::Dictionary(Box::new(DataType::UInt32), Box::new(DataType::Utf8)),
            "type of {name}"
        );
        let d = col.as_dictionary::<UInt32Type>();
        let keys: ArrayRef = std::sync::Arc::new(d.keys().clone());
        assert_eq!(texts(&keys), raw_texts(&p.codes[name]), "codes of {name}");
        assert_eq!(
            strings(d.values()),
            p.dictionaries[dict],
            "dictionary {dict}"
        );
    }
    let updated = column(&batch, "updatedAt");
    assert_eq!(
        texts(updated),
        raw_texts(&p.codes["updatedAt"]),
        "updatedAt"
    );
    let labels = column(&batch, "severityLabel").as_dictionary::<UInt8Type>();
    let label_strings = strings(labels.values());
    let decoded: Vec<String> = labels
        .keys()
        .values()
        .iter()
        .map(|k| label_strings[*k as usize].clone())
        .collect();
    assert_eq!(decoded, p.severity_labels, "severity labels");
    assert_eq!(batch.num_columns(), 1 + FEATURES.len() + CODES.len() + 2);

    assert_eq!(metadata["nowMs"], p.now_ms.to_string());
    assert_eq!(metadata["generation"], p.generation.to_string());
    assert_eq!(
        serde_json::from_str::<Value>(&metadata["defaultWeights"]).unwrap(),
        p.default_weights
    );
    assert_eq!(metadata["gdlens.format"], "1");
}

#[tokio::test]
async fn the_stream_equals_graphql_scoring_features() {
    let s = TestServer::start().await;
    let cases = [
        (json!(null), json!(null)),
        (json!({}), json!(100000)),
        (json!({"severityLabels": ["HIGH", "CRITICAL"]}), json!(null)),
        (
            json!({"regions": ["us-east-1"], "includeSamples": true}),
            json!(null),
        ),
        (json!({"archived": true}), json!(null)),
        // The 7 best by default score, sent in id order.
        (json!(null), json!(7)),
        (json!(null), json!(0)),
        (json!({"search": "no finding has this"}), json!(null)),
    ];
    for (filter, limit) in cases {
        let p = graphql_payload(&s, ADMIN, &filter, &limit).await;
        let (status, headers, bytes) = post_ipc(
            &s,
            Some(ADMIN),
            &json!({"filter": filter, "limit": limit}),
            None,
        )
        .await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
        assert_eq!(
            headers["content-type"],
            "application/vnd.apache.arrow.stream"
        );
        assert!(headers.get("content-encoding").is_none());
        assert_same(&bytes, &p);
        if limit == json!(7) {
            assert_eq!(p.ids.len(), 7);
        }
    }
    // No body at all: no filter, the default limit.
    let p = graphql_payload(&s, ADMIN, &json!(null), &json!(null)).await;
    let resp = s
        .client
        .post(s.url("/api/scoring-features"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_same(&resp.bytes().await.unwrap(), &p);
    assert!(!p.ids.is_empty());
}

#[tokio::test]
async fn a_scoped_token_gets_only_its_accounts() {
    let s = TestServer::start().await;
    for (token, allowed) in [
        (VIEWER_222_333, vec!["222222222222", "333333333333"]),
        (TRIAGER_111, vec!["111111111111"]),
    ] {
        let allowed: BTreeSet<&str> = allowed.into_iter().collect();
        // Asking for every account does not widen the scope.
        let filter = json!({"accountIds": ["111111111111", "222222222222", "333333333333"]});
        let p = graphql_payload(&s, token, &filter, &json!(null)).await;
        let (status, _, bytes) = post_ipc(&s, Some(token), &json!({"filter": filter}), None).await;
        assert_eq!(status, 200);
        assert_same(&bytes, &p);
        let (_, batch) = decode(&bytes);
        let account = column(&batch, "account").as_dictionary::<UInt32Type>();
        let names = strings(account.values());
        assert!(batch.num_rows() > 0);
        for k in account.keys().values() {
            assert!(allowed.contains(names[*k as usize].as_str()), "{token}");
        }
        let admin = graphql_payload(&s, ADMIN, &json!(null), &json!(null)).await;
        assert!(batch.num_rows() < admin.ids.len());
    }
}

#[tokio::test]
async fn errors_carry_stable_codes() {
    let s = TestServer::start().await;
    let code = |body: &[u8]| -> String {
        let v: Value = serde_json::from_slice(body).unwrap();
        v["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let message = |body: &[u8]| -> String {
        let v: Value = serde_json::from_slice(body).unwrap();
        v["errors"][0]["message"].as_str().unwrap().to_string()
    };

    for token in [None, Some("not-a-token")] {
        let (status, headers, body) = post_ipc(&s, token, &json!({}), None).await;
        assert_eq!(status, 401);
        assert_eq!(code(&body), "UNAUTHENTICATED");
        assert_eq!(headers["www-authenticate"], "Bearer");
    }

    let (status, _, body) = post_ipc(&s, Some(ADMIN), &json!({"limit": 100_001}), None).await;
    assert_eq!(status, 400);
    assert_eq!(code(&body), "PAGE_TOO_LARGE");

    for (filter, field) in [
        (
            json!({"severityLabels": ["SEVERE"]}),
            "filter.severityLabels",
        ),
        (json!({"severityMin": 11}), "filter.severityMin"),
        (json!({"updatedSince": "yesterday"}), "filter.updatedSince"),
        (json!({"acountIds": ["111111111111"]}), "filter.acountIds"),
        (json!(["not", "an", "object"]), "filter"),
    ] {
        let (status, _, body) = post_ipc(&s, Some(ADMIN), &json!({"filter": filter}), None).await;
        assert_eq!(status, 400, "{filter}");
        assert_eq!(code(&body), "BAD_USER_INPUT", "{filter}");
        assert!(message(&body).contains(field), "{}", message(&body));
    }
    let (status, _, body) = post_ipc(&s, Some(ADMIN), &json!({"limt": 5}), None).await;
    assert_eq!((status, code(&body).as_str()), (400, "BAD_USER_INPUT"));
    assert!(message(&body).contains("limt"));

    let resp = s
        .client
        .post(s.url("/api/scoring-features"))
        .bearer_auth(ADMIN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(code(&resp.bytes().await.unwrap()), "BAD_USER_INPUT");

    let resp = s
        .client
        .get(s.url("/api/scoring-features"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 405);
}

#[tokio::test]
async fn compressed_when_the_client_accepts_it() {
    let s = TestServer::start().await;
    let (_, _, plain) = post_ipc(&s, Some(ADMIN), &json!({}), None).await;
    let (status, headers, gz) = post_ipc(&s, Some(ADMIN), &json!({}), Some("gzip")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-encoding"], "gzip");
    assert_eq!(
        headers["content-type"],
        "application/vnd.apache.arrow.stream"
    );
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    // zstd when accepted too (as browsers send), smaller than gzip.
    let (status, headers, zst) =
        post_ipc(&s, Some(ADMIN), &json!({}), Some("gzip, deflate, br, zstd")).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-encoding"], "zstd");
    assert_eq!(zstd::decode_all(&zst[..]).unwrap(), plain);
}

/// Writes the Node parity test's fixture: the stream and the GraphQL JSON of the same data.
#[tokio::test]
async fn write_the_node_fixture_when_asked() {
    if std::env::var_os("GDLENS_WRITE_IPC_FIXTURE").is_none() {
        return;
    }
    let s = TestServer::start().await;
    let filter = json!({"includeSamples": true});
    let (status, _, bytes) = post_ipc(&s, Some(ADMIN), &json!({"filter": filter}), None).await;
    assert_eq!(status, 200);
    let (payload, body) = graphql_response(&s, ADMIN, &filter, &json!(null)).await;
    assert_same(&bytes, &payload);
    let dir = repo_root().join("tests/wasm/fixtures");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("scoring-features.arrow"), &bytes).unwrap();
    // The GraphQL response body as sent (numbers as the server wrote them).
    std::fs::write(dir.join("scoring-features.json"), body + "\n").unwrap();
}
