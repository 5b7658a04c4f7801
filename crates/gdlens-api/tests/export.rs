//! `GET /export` through the real router: every format, only the caller's accounts, refused
//! without a token, stable codes for bad parameters, and each OCSF record valid against the
//! vendored Detection Finding schema (tests/fixtures/ocsf/detection_finding.schema.json).

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};

async fn get_export(
    s: &TestServer,
    token: Option<&str>,
    query: &[(&str, &str)],
) -> (u16, String, String) {
    let mut req = s.client.get(s.url("/export")).query(query);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

fn lines(body: &str) -> Vec<Value> {
    body.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn error_code(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap();
    (
        v["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap()
            .to_owned(),
        v["errors"][0]["message"].as_str().unwrap().to_owned(),
    )
}

/// Ids the GraphQL API lists for the token and filter (the same selection as the export).
async fn graphql_ids(s: &TestServer, token: &str, filter: &Value) -> BTreeSet<String> {
    let data = s
        .data(
            token,
            "query($f: FindingFilter) { findings(filter: $f, first: 500) { totalCount nodes { id } } }",
            json!({"f": filter}),
        )
        .await;
    data["findings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn ndjson_is_the_original_guardduty_json_of_what_graphql_lists() {
    let s = TestServer::start().await;
    let (status, ct, body) = get_export(&s, Some(VIEWER_ALL), &[("format", "ndjson")]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(ct, "application/x-ndjson");
    let exported = lines(&body);
    let originals = fixture_json("findings.ndjson");
    for f in &exported {
        assert!(originals.contains(f), "not an original record: {f}");
    }
    let ids: BTreeSet<String> = exported
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), exported.len());
    assert_eq!(ids, graphql_ids(&s, VIEWER_ALL, &json!(null)).await);

    // A filter selects as GraphQL does.
    let filter = json!({"severityMin": 7.0});
    let (status, _, body) = get_export(
        &s,
        Some(VIEWER_ALL),
        &[("format", "ndjson"), ("filter", &filter.to_string())],
    )
    .await;
    assert_eq!(status, 200);
    let ids: BTreeSet<String> = lines(&body)
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!ids.is_empty());
    assert_eq!(ids, graphql_ids(&s, VIEWER_ALL, &filter).await);
}

#[tokio::test]
async fn a_scoped_token_exports_only_its_accounts_in_every_format() {
    let s = TestServer::start().await;
    let all = json!({"accountIds": ["111111111111", "222222222222", "333333333333"]}).to_string();
    let (_, _, admin) = get_export(&s, Some(ADMIN), &[("format", "ndjson")]).await;
    let admin_rows = lines(&admin).len();
    for (token, allowed) in [
        (VIEWER_222_333, vec!["222222222222", "333333333333"]),
        (TRIAGER_111, vec!["111111111111"]),
    ] {
        let allowed: BTreeSet<&str> = allowed.into_iter().collect();
        let q = |format| [("format", format), ("filter", all.as_str())];
        let (status, _, body) = get_export(&s, Some(token), &q("ndjson")).await;
        assert_eq!(status, 200);
        let rows = lines(&body);
        assert!(!rows.is_empty() && rows.len() < admin_rows, "{token}");
        for r in &rows {
            assert!(
                allowed.contains(r["accountId"].as_str().unwrap()),
                "{token}"
            );
        }
        let (status, _, body) = get_export(&s, Some(token), &q("ocsf")).await;
        assert_eq!(status, 200);
        let ocsf = lines(&body);
        assert_eq!(ocsf.len(), rows.len());
        for r in &ocsf {
            assert!(allowed.contains(r["cloud"]["account"]["uid"].as_str().unwrap()));
        }
        let (status, ct, body) = get_export(&s, Some(token), &q("csv")).await;
        assert_eq!(status, 200);
        assert!(ct.starts_with("text/csv"), "{ct}");
        let mut records = body.split("\r\n").filter(|l| !l.is_empty());
        assert!(records
            .next()
            .unwrap()
            .starts_with("id,arn,accountId,region,"));
        // Fixture titles and ids hold no commas or quotes: the third field is the account.
        let accounts: Vec<&str> = records.map(|r| r.split(',').nth(2).unwrap()).collect();
        assert_eq!(accounts.len(), rows.len());
        assert!(accounts.iter().all(|a| allowed.contains(a)), "{token}");
    }
}

#[tokio::test]
async fn refused_without_a_token_and_bad_parameters_carry_stable_codes() {
    let s = TestServer::start().await;
    let (status, _, body) = get_export(&s, None, &[("format", "ndjson")]).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_code(&body).0, "UNAUTHENTICATED");
    let (status, _, body) = get_export(&s, Some("not-a-token"), &[("format", "ndjson")]).await;
    assert_eq!(status, 401, "{body}");

    for (query, needle) in [
        (
            vec![("format", "ndjson"), ("filter", "{not json")],
            "`filter`",
        ),
        (vec![("format", "ndjson"), ("filter", "[1]")], "`filter`"),
        (
            vec![("format", "ndjson"), ("filter", r#"{"severityMn": 7}"#)],
            "filter.severityMn",
        ),
        (
            vec![("format", "ndjson"), ("filter", r#"{"severityMin": "x"}"#)],
            "filter.severityMin",
        ),
        (vec![("format", "xml")], "`format`"),
        (vec![], "`format`"),
        (vec![("format", "csv"), ("limit", "3")], "`limit`"),
    ] {
        let (status, _, body) = get_export(&s, Some(ADMIN), &query).await;
        assert_eq!(status, 400, "{query:?}: {body}");
        let (code, message) = error_code(&body);
        assert_eq!(code, "BAD_USER_INPUT", "{query:?}");
        assert!(message.contains(needle), "{query:?}: {message}");
    }
}

#[tokio::test]
async fn ocsf_records_are_valid_detection_findings() {
    let s = TestServer::start().await;
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            repo_root().join("tests/fixtures/ocsf/detection_finding.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (status, _, body) = get_export(&s, Some(ADMIN), &[("format", "ocsf")]).await;
    assert_eq!(status, 200);
    let records = lines(&body);
    assert!(!records.is_empty());
    let originals = fixture_json("findings.ndjson");
    for r in &records {
        let mut errors = Vec::new();
        validate(&schema, r, "$", &mut errors);
        assert!(errors.is_empty(), "{errors:?}\n{r}");
        assert_eq!(r["class_uid"], 2004);
        assert_eq!(r["type_uid"], 200401);
        // The GuardDuty fields, as Security Hub maps them.
        let arn = r["finding_info"]["uid"].as_str().unwrap();
        let original = originals.iter().find(|o| o["arn"] == arn).unwrap();
        assert_eq!(r["metadata"]["product"]["name"], "GuardDuty");
        assert_eq!(r["finding_info"]["types"][0], original["type"]);
        assert_eq!(r["finding_info"]["title"], original["title"]);
        assert_eq!(r["cloud"]["region"], original["region"]);
        assert_eq!(r["unmapped"]["guardduty_severity"], original["severity"]);
    }
}

/// A JSON Schema subset: `type` (one or a list), `required`, `properties`, `items`, `enum`,
/// `const`, `minimum`. Enough for the vendored OCSF class schema; anything else is ignored.
fn validate(schema: &Value, v: &Value, path: &str, errors: &mut Vec<String>) {
    if let Some(c) = schema.get("const") {
        if c != v {
            errors.push(format!("{path}: {v} is not {c}"));
        }
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        if !e.contains(v) {
            errors.push(format!("{path}: {v} not in {e:?}"));
        }
    }
    if let Some(t) = schema.get("type") {
        let types: Vec<&str> = match t {
            Value::String(s) => vec![s.as_str()],
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        let ok = types.iter().any(|t| match *t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            _ => false,
        });
        if !ok {
            errors.push(format!("{path}: {v} is not {t}"));
        }
    }
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if v.as_f64().is_some_and(|n| n < min) {
            errors.push(format!("{path}: {v} < {min}"));
        }
    }
    if let (Some(req), Some(obj)) = (
        schema.get("required").and_then(Value::as_array),
        v.as_object(),
    ) {
        for r in req {
            if !obj.contains_key(r.as_str().unwrap()) {
                errors.push(format!("{path}: missing {r}"));
            }
        }
    }
    if let (Some(props), Some(obj)) = (
        schema.get("properties").and_then(Value::as_object),
        v.as_object(),
    ) {
        for (k, sub) in props {
            if let Some(x) = obj.get(k) {
                validate(sub, x, &format!("{path}.{k}"), errors);
            }
        }
    }
    if let (Some(items), Some(arr)) = (schema.get("items"), v.as_array()) {
        for (i, x) in arr.iter().enumerate() {
            validate(items, x, &format!("{path}[{i}]"), errors);
        }
    }
}

#[test]
fn the_validator_catches_what_it_claims() {
    let schema = json!({"type": "object", "required": ["a"], "properties": {
        "a": {"const": 1}, "b": {"enum": [1, 2]}, "c": {"type": "integer", "minimum": 0},
        "d": {"type": "array", "items": {"type": "string"}}}});
    let mut errors = Vec::new();
    validate(
        &schema,
        &json!({"a": 1, "b": 2, "c": 3, "d": ["x"]}),
        "$",
        &mut errors,
    );
    assert!(errors.is_empty(), "{errors:?}");
    validate(
        &schema,
        &json!({"b": 3, "c": -1, "d": [1]}),
        "$",
        &mut errors,
    );
    assert_eq!(errors.len(), 4, "{errors:?}");
}

/// `gdlens export` (per-batch selection straight from the store) selects what `GET /export`
/// selects (the server's index), for filters over every kind of field.
#[tokio::test]
async fn the_cli_path_selects_what_the_server_selects() {
    use gdlens_api::export::{export_from_store, parse_filter_json, ExportFormat};
    let s = TestServer::start().await;
    for filter in [
        "",
        r#"{"severityMin": 7}"#,
        r#"{"archived": true}"#,
        r#"{"includeSamples": true}"#,
        r#"{"typePrefix": "Recon"}"#,
        r#"{"search": "Port"}"#,
        r#"{"triageStatus": ["NEW"]}"#,
        r#"{"severityLabels": ["HIGH", "CRITICAL"], "regions": ["us-east-1"]}"#,
    ] {
        let (status, _, body) = get_export(
            &s,
            Some(VIEWER_ALL),
            &[("format", "ndjson"), ("filter", filter)],
        )
        .await;
        assert_eq!(status, 200, "{filter}: {body}");
        let mut server: Vec<&str> = body.lines().collect();
        server.sort_unstable();
        let parsed = parse_filter_json(filter).unwrap();
        let mut out = Vec::new();
        let n = export_from_store(
            s.state.store.as_ref(),
            &gdlens_domain::Scope::All,
            &parsed,
            gdlens_domain::SlaTargets::default(),
            ExportFormat::Ndjson,
            &mut |chunk| {
                out.extend_from_slice(&chunk);
                true
            },
        )
        .unwrap();
        let text = String::from_utf8(out).unwrap();
        let mut cli: Vec<&str> = text.lines().collect();
        cli.sort_unstable();
        assert_eq!(n as usize, cli.len());
        assert_eq!(cli, server, "{filter}");
    }
}
