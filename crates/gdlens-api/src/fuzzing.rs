//! The body of the `graphql_request` fuzz target (`fuzz/fuzz_targets/graphql_request.rs`),
//! shared with the corpus replay test (`tests/fuzz_corpus.rs`). Not part of the API.
//!
//! [`graphql_request`] sends arbitrary bytes through the real [`router`](crate::router) of a
//! server loaded with `tests/graphql/fixtures/findings.ndjson` and the tokens of
//! `tests/graphql/fixtures/config.toml`, as one of several request shapes chosen by the first
//! byte, and panics unless:
//!
//! - the status is not 5xx;
//! - the body is JSON, and every error in it has an `extensions.code` from [`known_codes`];
//! - a scoped caller's response names no account id, and no finding id, outside its scope
//!   (the fixture holds no cross-account references), unless the request itself names it
//!   (aliases, error messages and ticket keys echo the request).
//!
//! Two servers are built once per process: queries go to one that nothing ever writes, so the
//! scope check stays exact; documents holding a mutation go to a second one, where everything a
//! request names is remembered and excused from the check later (stored notes and ticket keys
//! are echoed back to other callers by design).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use gdlens_domain::Scope;
use serde_json::{json, Map, Value};
use tower::ServiceExt;

use crate::adapters::StoreAdapter;
use crate::config::Config;
use crate::error::ErrorCode;
use crate::ports::IngestRecord;
use crate::state::AppState;

/// The fixture directory of the GraphQL end-to-end tests.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/graphql/fixtures");

/// The secrets of the fixture tokens (their SHA-256 is in `config.toml`; tests only).
const SECRETS: [&str; 4] = [
    "admin-secret",
    "triager-111-secret",
    "viewer-222-333-secret",
    "viewer-all-secret",
];

/// Request shapes, chosen by `first byte % SHAPES`.
const SHAPES: u8 = 5;

/// One fixture server.
struct Server {
    router: axum::Router,
    /// Ids (account and finding) some earlier request named; excused from the scope check.
    named_before: Option<Mutex<BTreeSet<String>>>,
}

/// What every request needs, built once.
struct Harness {
    runtime: tokio::runtime::Runtime,
    read_only: Server,
    writable: Server,
    /// `(secret, scope)` of every fixture token.
    tokens: Vec<(&'static str, Scope)>,
    /// Every finding of the fixture: `(finding id, account id)`.
    findings: Vec<(String, String)>,
    /// Every account id of the fixture and the config.
    accounts: BTreeSet<String>,
    /// Cursors and group ids read from the server (admin), for the structured shape.
    cursors: Vec<String>,
    group_ids: Vec<String>,
    types: Vec<String>,
    codes: BTreeSet<&'static str>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(Harness::build)
}

/// Sends `data` through the router as one request and panics if a response breaks an invariant
/// (see the module documentation).
pub fn graphql_request(data: &[u8]) {
    let h = harness();
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let token = usize::from(first / SHAPES) % (SECRETS.len() + 2);
    let graphql_response = (first / SHAPES / 6) % 2 == 1;
    let request = match first % SHAPES {
        0 => Wire::Post("application/json", rest.to_vec()),
        1 => Wire::Post("application/graphql", rest.to_vec()),
        2 => {
            let mut parts = rest.splitn(3, |&b| b == 0);
            let mut query = String::from("query=");
            query.push_str(&percent_encode(parts.next().unwrap_or_default()));
            for (name, part) in ["variables", "operationName"].iter().zip(parts) {
                query.push_str(&format!("&{name}={}", percent_encode(part)));
            }
            Wire::Get(query)
        }
        3 => Wire::Post(
            "application/json",
            structured_body(h, &mut Reader::new(rest))
                .to_string()
                .into_bytes(),
        ),
        _ => match std::str::from_utf8(rest) {
            // The query string as sent, for the extractor's own decoding.
            Ok(q) => Wire::Get(q.to_string()),
            Err(_) => return,
        },
    };
    let (secret, scope) = match h.tokens.get(token) {
        Some((secret, scope)) => (Some(secret.to_string()), scope.clone()),
        None if token == SECRETS.len() => (None, Scope::Accounts(BTreeSet::new())),
        None => (
            Some("not-a-fixture-token".to_string()),
            Scope::Accounts(BTreeSet::new()),
        ),
    };
    let server = if request.has_mutation() {
        &h.writable
    } else {
        &h.read_only
    };
    let named = request.named_texts();
    let Some(http) = request.into_http(secret.as_deref(), graphql_response) else {
        return; // not a valid URI: never reaches the server
    };
    let (status, body) = h.runtime.block_on(async {
        let response = server
            .router
            .clone()
            .oneshot(http)
            .await
            .expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body reads");
        (status, body)
    });
    let text = String::from_utf8_lossy(&body);
    assert!(
        !status.is_server_error(),
        "status {status} for {named:?}: {text}"
    );
    let json: Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("status {status}, body is not JSON ({e}): {text}"));
    check_errors(h, status, &json);
    check_scope(h, server, &scope, &named, &text);
}

/// Every error has a known `extensions.code`.
fn check_errors(h: &Harness, status: StatusCode, json: &Value) {
    let Some(errors) = json.get("errors") else {
        assert!(
            json.get("data").is_some(),
            "status {status}: neither data nor errors: {json}"
        );
        return;
    };
    let errors = errors
        .as_array()
        .unwrap_or_else(|| panic!("errors is not a list: {json}"));
    assert!(!errors.is_empty(), "empty errors list: {json}");
    for e in errors {
        let code = e["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("status {status}: error without a code: {e}"));
        assert!(
            h.codes.contains(code),
            "status {status}: unknown code {code}: {e}"
        );
    }
}

/// The response names nothing outside `scope` that the request (or, on the writable server,
/// an earlier one) did not name.
fn check_scope(h: &Harness, server: &Server, scope: &Scope, named: &str, response: &str) {
    if matches!(scope, Scope::All) {
        if let Some(before) = &server.named_before {
            remember(h, before, named);
        }
        return;
    }
    let excused = |id: &str| {
        named.contains(id)
            || server
                .named_before
                .as_ref()
                .is_some_and(|b| b.lock().unwrap_or_else(|e| e.into_inner()).contains(id))
    };
    for account in &h.accounts {
        if !scope.allows(account) && names(response, account) && !excused(account) {
            panic!("out-of-scope account {account} in a response to {named:?}: {response}");
        }
    }
    for (id, account) in &h.findings {
        if !scope.allows(account) && names(response, id) && !excused(id) {
            panic!("out-of-scope finding {id} ({account}) in a response to {named:?}: {response}");
        }
    }
    if let Some(before) = &server.named_before {
        remember(h, before, named);
    }
}

/// Whether `text` holds `id` as a word of its own: not inside a longer number or name
/// (`0.3333333333333333` holds no account `333333333333`; an ARN or a JSON string does).
fn names(text: &str, id: &str) -> bool {
    let bytes = text.as_bytes();
    let part_of_word = |i: usize| bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.';
    text.match_indices(id).any(|(at, _)| {
        let end = at + id.len();
        (at == 0 || !part_of_word(at - 1)) && (end == bytes.len() || !part_of_word(end))
    })
}

/// Remembers the fixture ids `named` holds.
fn remember(h: &Harness, before: &Mutex<BTreeSet<String>>, named: &str) {
    let ids = h
        .accounts
        .iter()
        .chain(h.findings.iter().map(|(id, _)| id))
        .filter(|id| named.contains(id.as_str()));
    let mut before = before.lock().unwrap_or_else(|e| e.into_inner());
    before.extend(ids.cloned());
}

/// Every `extensions.code` the server may return on `/graphql`: the one [`ErrorCode`] enum.
pub fn known_codes() -> BTreeSet<&'static str> {
    ErrorCode::ALL.iter().map(|c| c.as_str()).collect()
}

impl Harness {
    fn build() -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let dir = Path::new(FIXTURES);
        let config = Config::load(&dir.join("config.toml")).expect("fixture config");
        let ndjson =
            std::fs::read_to_string(dir.join("findings.ndjson")).expect("fixture findings");
        let records: Vec<IngestRecord> = ndjson
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let v: Value = serde_json::from_str(line).expect("fixture line is JSON");
                IngestRecord {
                    finding: gdlens_domain::normalize(&v).expect("fixture line is a finding"),
                    raw: line.to_string(),
                    source: "findings.ndjson".to_string(),
                }
            })
            .collect();
        let findings: Vec<(String, String)> = records
            .iter()
            .map(|r| (r.finding.id.clone(), r.finding.account_id.clone()))
            .collect();
        let mut types: Vec<String> = records
            .iter()
            .map(|r| r.finding.finding_type.clone())
            .collect();
        types.sort();
        types.dedup();
        let mut accounts: BTreeSet<String> = findings.iter().map(|(_, a)| a.clone()).collect();
        accounts.extend(config.accounts.iter().map(|a| a.id.clone()));

        let (read_only, writable, tokens) = runtime.block_on(async {
            let read_only = start(config.clone(), records.clone()).await;
            let writable = start(config.clone(), records).await;
            let tokens = SECRETS
                .iter()
                .map(|s| {
                    let caller = read_only
                        .auth
                        .tokens()
                        .authenticate(Some(&format!("Bearer {s}")))
                        .expect("fixture secret matches config.toml");
                    (*s, (*caller.scope).clone())
                })
                .collect();
            (read_only, writable, tokens)
        });
        let read_only = Server {
            router: crate::router(read_only),
            named_before: None,
        };
        let writable = Server {
            router: crate::router(writable),
            named_before: Some(Mutex::new(BTreeSet::new())),
        };
        let mut harness = Harness {
            runtime,
            read_only,
            writable,
            tokens,
            findings,
            accounts,
            cursors: Vec::new(),
            group_ids: Vec::new(),
            types,
            codes: known_codes(),
        };
        let seen = harness.admin_query(
            "{ findings(first: 3) { pageInfo { endCursor } } \
             g: findingGroups(first: 50) { pageInfo { endCursor } nodes { id parents children } } }",
        );
        harness.cursors = [
            &seen["findings"]["pageInfo"]["endCursor"],
            &seen["g"]["pageInfo"]["endCursor"],
        ]
        .iter()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
        for g in seen["g"]["nodes"].as_array().into_iter().flatten() {
            let ids = std::iter::once(&g["id"])
                .chain(g["parents"].as_array().into_iter().flatten())
                .chain(g["children"].as_array().into_iter().flatten());
            harness
                .group_ids
                .extend(ids.filter_map(|id| id.as_str().map(str::to_string)));
        }
        harness
    }

    /// `data` of an admin query on the read-only server.
    fn admin_query(&self, query: &str) -> Value {
        let http = Wire::Post(
            "application/json",
            json!({ "query": query }).to_string().into_bytes(),
        )
        .into_http(Some(SECRETS[0]), false)
        .expect("valid request");
        let body = self.runtime.block_on(async {
            let response = self.read_only.router.clone().oneshot(http).await.unwrap();
            axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap()
        });
        let json: Value = serde_json::from_slice(&body).expect("JSON");
        assert!(json.get("errors").is_none(), "{json}");
        json["data"].clone()
    }
}

/// A server over an in-memory store loaded with `records` through the one ingest path.
async fn start(config: Config, records: Vec<IngestRecord>) -> Arc<AppState> {
    let store = gdlens_store::Store::open_in_memory().expect("in-memory store");
    let state = Arc::new(AppState::new(
        config,
        Arc::new(StoreAdapter::new(store)),
        gdlens_groups::Correlator::new(Default::default()),
        None,
    ));
    state.build().await.expect("build");
    state.ingest(records).await.expect("ingest");
    state.mark_ready();
    state
}

/// One request as the harness sends it.
enum Wire {
    /// `POST /graphql` with this content type and body.
    Post(&'static str, Vec<u8>),
    /// `GET /graphql?<query string>`.
    Get(String),
}

impl Wire {
    /// Whether the document the server would run holds a mutation (GET refuses them anyway).
    fn has_mutation(&self) -> bool {
        let query = match self {
            Wire::Get(_) => return false,
            Wire::Post("application/graphql", body) => String::from_utf8_lossy(body).into_owned(),
            Wire::Post(_, body) => match serde_json::from_slice::<Value>(body) {
                Ok(v) => match v.get("query").and_then(Value::as_str) {
                    Some(q) => q.to_string(),
                    None => return false,
                },
                Err(_) => return false,
            },
        };
        match async_graphql::parser::parse_query(&query) {
            Ok(doc) => doc
                .operations
                .iter()
                .any(|(_, op)| op.node.ty != async_graphql::parser::types::OperationType::Query),
            // Cannot parse here: cannot run there either; the writable server is the safe side.
            Err(_) => true,
        }
    }

    /// Every reading of the request's text a response could echo: as sent, URL-decoded, and
    /// with JSON / GraphQL escapes undone (twice: a GraphQL string inside a JSON string).
    fn named_texts(&self) -> String {
        let raw = match self {
            Wire::Post(_, body) => String::from_utf8_lossy(body).into_owned(),
            Wire::Get(q) => q.clone(),
        };
        let mut out = raw.clone();
        let mut decoded = raw;
        if matches!(self, Wire::Get(_)) {
            decoded = url_decode(&decoded);
            out.push('\n');
            out.push_str(&decoded);
        }
        for _ in 0..2 {
            decoded = unescape(&decoded);
            out.push('\n');
            out.push_str(&decoded);
        }
        out
    }

    fn into_http(self, secret: Option<&str>, graphql_response: bool) -> Option<Request<Body>> {
        let mut builder = match &self {
            Wire::Post(ct, _) => Request::builder()
                .method(Method::POST)
                .uri("/graphql")
                .header(header::CONTENT_TYPE, *ct),
            Wire::Get(q) => Request::builder()
                .method(Method::GET)
                .uri(format!("/graphql?{q}").parse::<axum::http::Uri>().ok()?),
        };
        if let Some(s) = secret {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {s}"));
        }
        if graphql_response {
            builder = builder.header(header::ACCEPT, "application/graphql-response+json");
        }
        let body = match self {
            Wire::Post(_, body) => Body::from(body),
            Wire::Get(_) => Body::empty(),
        };
        builder.body(body).ok()
    }
}

/// Percent-encodes everything but unreserved characters.
fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded` decoding (`+` is a space), lossy.
fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(
                    std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("x"),
                    16,
                ) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `\uXXXX`, `\u{X…}` and one-character escapes undone, lossily (an over-approximation).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('u') => {
                let hex: String = if chars.peek() == Some(&'{') {
                    chars.next();
                    let h: String = chars.by_ref().take_while(|&c| c != '}').collect();
                    h
                } else {
                    chars.by_ref().take(4).collect()
                };
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&hex),
                }
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Reads decisions off the fuzz bytes; zeros once they run out.
struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n.max(1)
    }

    fn chance(&mut self, in_four: u8) -> bool {
        self.byte() % 4 < in_four
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }

    /// Up to `max` raw bytes as a string (length from one byte).
    fn text(&mut self, max: usize) -> String {
        let n = self.below(max + 1).min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        String::from_utf8_lossy(head).into_owned()
    }
}

/// A GraphQL request (query, variables, operation name) built from the bytes, valid most of the
/// time, so runs reach the resolvers rather than the parser.
fn structured_body(h: &Harness, r: &mut Reader<'_>) -> Value {
    let mutation = r.below(5) == 0;
    let mut vars = Map::new();
    let mut decls = Vec::new();
    let mut roots = Vec::new();
    for i in 0..1 + r.below(3) {
        let field = if mutation {
            mutation_field(h, r, i, &mut vars, &mut decls)
        } else {
            query_field(h, r, i, &mut vars, &mut decls)
        };
        roots.push(format!("r{i}: {field}"));
    }
    let decls = if decls.is_empty() {
        String::new()
    } else {
        format!("({})", decls.join(", "))
    };
    let keyword = if mutation { "mutation" } else { "query" };
    let mut query = format!("{keyword} Q{decls} {{ {} }}", roots.join(" "));
    if r.chance(1) {
        query.push_str(" query Other { viewer { name role accounts } }");
    }
    let operation_name = match r.below(10) {
        0 => Value::String("Other".into()),
        1 => Value::String(r.text(8)),
        2 | 3 => Value::Null,
        _ => Value::String("Q".into()),
    };
    if r.chance(1) {
        // A variable the document does not declare, or a wrong type for one it does.
        vars.insert(r.text(6), fuzz_value(r));
    }
    json!({ "query": query, "variables": vars, "operationName": operation_name })
}

/// Declares `$name: ty` with `value`, or inlines the value, by a byte.
fn arg(
    r: &mut Reader<'_>,
    vars: &mut Map<String, Value>,
    decls: &mut Vec<String>,
    name: String,
    ty: &str,
    value: Value,
) -> String {
    if r.chance(2) {
        decls.push(format!("${name}: {ty}"));
        vars.insert(name.clone(), value);
        format!("${name}")
    } else {
        graphql_literal(&value)
    }
}

/// A JSON value as a GraphQL input literal (strings that name an enum value stay enums).
fn graphql_literal(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) if is_enum_value(s) => s.clone(),
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(graphql_literal)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{k}: {}", graphql_literal(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn is_enum_value(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_')
}

const SEVERITY_LABELS: [&str; 4] = ["LOW", "MEDIUM", "HIGH", "CRITICAL"];
const TRIAGE: [&str; 6] = [
    "NEW",
    "ACKNOWLEDGED",
    "IN_PROGRESS",
    "RESOLVED",
    "FALSE_POSITIVE",
    "SUPPRESSED",
];
const DATES: [&str; 6] = [
    "2026-11-04T02:26:40Z",
    "2026-11-01T00:00:00.000Z",
    "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "-262144-01-01T00:00:00Z",
    "yesterday",
];

/// Page sizes and limits: mostly valid `Int`s, edges of the caps, now and then not an `Int`.
fn int(r: &mut Reader<'_>) -> Value {
    match r.below(16) {
        0 => json!(-1),
        1 => json!(500),
        2 => json!(501),
        3 => json!(i32::MAX),
        4 => json!(i32::MIN),
        5 => number(r),
        n => json!([0, 1, 2, 3, 5, 10, 20, 50, 100, 1000][n - 6]),
    }
}

/// Numbers and near-numbers for severities and weights (and, via [`int`], page sizes).
fn number(r: &mut Reader<'_>) -> Value {
    match r.below(14) {
        0 => json!(0),
        1 => json!(1),
        2 => json!(2),
        3 => json!(5),
        4 => json!(-1),
        5 => json!(100),
        6 => json!(101),
        7 => json!(1000),
        8 => json!(i32::MAX),
        9 => json!(i64::MIN),
        10 => json!(7.5),
        11 => json!(1e300),
        12 => json!(-0.0),
        _ => json!(u64::MAX),
    }
}

/// A finding id: in or out of any scope, unknown, or bytes.
fn finding_id(h: &Harness, r: &mut Reader<'_>) -> String {
    match r.below(8) {
        0 => r.text(12),
        1 => "f9999zzzz".into(),
        _ => h.findings[r.below(h.findings.len())].0.clone(),
    }
}

fn group_id(h: &Harness, r: &mut Reader<'_>) -> String {
    match (r.below(6), h.group_ids.is_empty()) {
        (0, _) | (_, true) => r.text(16),
        _ => h.group_ids[r.below(h.group_ids.len())].clone(),
    }
}

fn account_id(h: &Harness, r: &mut Reader<'_>) -> String {
    let accounts: Vec<&String> = h.accounts.iter().collect();
    match r.below(6) {
        0 => r.text(12),
        1 => "999999999999".into(),
        _ => accounts[r.below(accounts.len())].clone(),
    }
}

fn cursor(h: &Harness, r: &mut Reader<'_>) -> Value {
    match (r.below(5), h.cursors.is_empty()) {
        (0, _) | (_, true) => Value::String(r.text(24)),
        (1, _) => Value::Null,
        _ => Value::String(h.cursors[r.below(h.cursors.len())].clone()),
    }
}

/// Any JSON value: for wrong-typed variables.
fn fuzz_value(r: &mut Reader<'_>) -> Value {
    match r.below(6) {
        0 => Value::Null,
        1 => Value::Bool(r.chance(2)),
        2 => number(r),
        3 => Value::String(r.text(10)),
        4 => json!([r.text(4), 1]),
        _ => json!({ "accountIds": r.text(4) }),
    }
}

/// A `FindingFilter` with a few fields set.
fn filter(h: &Harness, r: &mut Reader<'_>) -> Value {
    let mut f = Map::new();
    for _ in 0..r.below(4) {
        let (key, value) = match r.below(15) {
            0 => (
                "accountIds",
                json!((0..r.below(3) + 1)
                    .map(|_| account_id(h, r))
                    .collect::<Vec<_>>()),
            ),
            1 => (
                "regions",
                json!([r.pick(&["us-east-1", "eu-west-1", "US-EAST-1", ""])]),
            ),
            2 => ("severityMin", number(r)),
            3 => ("severityLabels", json!([r.pick(&SEVERITY_LABELS)])),
            4 => ("types", json!([r.pick(&h.types)])),
            5 => (
                "typePrefix",
                json!(r.pick(&["Recon:", "UnauthorizedAccess", "", "x"])),
            ),
            6 => (
                "resourceTypes",
                json!([r.pick(&["Instance", "AccessKey", "S3Bucket", "EKSCluster"])]),
            ),
            7 => ("resourceKey", json!(r.text(20))),
            8 => ("archived", json!(r.chance(2))),
            9 => ("includeSamples", json!(r.chance(2))),
            10 => ("updatedSince", json!(r.pick(&DATES))),
            11 => ("updatedBefore", json!(r.pick(&DATES))),
            12 => ("triageStatus", json!([r.pick(&TRIAGE)])),
            13 => ("search", json!(r.text(12))),
            _ => ("search", json!(account_id(h, r))),
        };
        f.insert(key.into(), value);
    }
    Value::Object(f)
}

const FINDING_FIELDS: [&str; 24] = [
    "arn",
    "accountId",
    "account { id name criticality owner }",
    "region",
    "type",
    "severity",
    "severityLabel",
    "title description",
    "createdAt updatedAt firstSeen lastSeen",
    "count archived sample",
    "resourceType resourceKey",
    "tactics { id name }",
    "score { value factors { name contribution } }",
    "group { id title }",
    "versions { updatedAt count severity }",
    "triage { findingId status assignee note version updatedAt updatedBy }",
    "ticketLinks { findingId system key url createdAt createdBy }",
    "audit { at actor action detail }",
    "raw",
    "__typename",
    "severity",
    "id",
    "triage { status }",
    "account { name }",
];

const GROUP_FIELDS: [&str; 16] = [
    "title severity severityLabel score",
    "firstSeen lastSeen",
    "accounts",
    "regions",
    "tactics { id name }",
    "findingCount",
    "findings { id accountId arn }",
    "entities { kind value findingIds }",
    "timeline { at findingId tactic { id name } label }",
    "graph { nodes { id kind label } edges { source target } }",
    "source",
    "parents children",
    "investigations { id entityArn status severity state createdAt indicators }",
    "findings { id triage { status } group { id } }",
    "__typename",
    "accounts regions findingCount",
];

const SUMMARY_FIELDS: [&str; 15] = [
    "total",
    "bySeverity { low medium high critical }",
    "accountsAffected resourcesAffected",
    "attackSequences findingGroups",
    "severityTrend { date low medium high critical }",
    "topFindingTypes(limit: LIMIT) { type count maxSeverity accounts lastSeen }",
    "topResources(limit: LIMIT) { resourceKey resourceType accountId count distinctTypes maxSeverity }",
    "topAccounts(limit: LIMIT) { accountId name criticality count bySeverity { low high } }",
    "leastFrequentTypes(limit: LIMIT) { type count }",
    "newTypes { type accountId firstSeen }",
    "change { previousSince previousBefore previousTotal totalDelta }",
    "coverage { regions sync { region detectorId lastSuccessAt lastErrorCode lastError findingsSynced dataAgeSeconds } }",
    "generation",
    "topAccounts(limit: LIMIT) { accountId count }",
    "__typename",
];

/// Some of `fields` (by two bytes of bitmask), `first` always.
fn selection(r: &mut Reader<'_>, first: &str, fields: &[&str]) -> String {
    let mask = u32::from(r.byte()) | u32::from(r.byte()) << 8 | u32::from(r.byte()) << 16;
    let mut out = vec![first.to_string()];
    for (i, f) in fields.iter().enumerate() {
        if mask >> (i % 24) & 1 == 1 {
            out.push(f.to_string());
        }
    }
    format!("{{ {} }}", out.join(" "))
}

fn finding_selection(r: &mut Reader<'_>) -> String {
    selection(r, "id", &FINDING_FIELDS)
}

fn group_selection(r: &mut Reader<'_>) -> String {
    selection(r, "id", &GROUP_FIELDS)
}

fn query_field(
    h: &Harness,
    r: &mut Reader<'_>,
    i: usize,
    vars: &mut Map<String, Value>,
    decls: &mut Vec<String>,
) -> String {
    let mut args = Vec::new();
    let mut opt = |r: &mut Reader<'_>, name: &str, ty: &str, value: Value| {
        if r.chance(2) {
            let a = arg(r, vars, decls, format!("{name}{i}"), ty, value);
            args.push(format!("{name}: {a}"));
        }
    };
    let (field, sel) = match r.below(9) {
        0 | 1 => {
            let f = filter(h, r);
            opt(r, "filter", "FindingFilter", f);
            let order = json!({
                "field": r.pick(&["PRIORITY", "SEVERITY", "UPDATED_AT"]),
                "direction": r.pick(&["ASC", "DESC"]),
            });
            opt(r, "orderBy", "FindingOrder", order);
            let n = int(r);
            opt(r, "first", "Int", n);
            let c = cursor(h, r);
            opt(r, "after", "String", c);
            let w = json!({ "severity": number(r), "rarity": number(r), "group": number(r) });
            opt(r, "weights", "WeightsInput", w);
            let node = finding_selection(r);
            (
                "findings",
                format!(
                    "{{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {node} }} }}"
                ),
            )
        }
        2 => {
            let id = json!(finding_id(h, r));
            let a = arg(r, vars, decls, format!("id{i}"), "ID!", id);
            args.push(format!("id: {a}"));
            ("finding", finding_selection(r))
        }
        3 => {
            let f = filter(h, r);
            opt(r, "filter", "FindingFilter", f);
            let limit = int(r).to_string();
            let sel = selection(r, "total", &SUMMARY_FIELDS).replace("LIMIT", &limit);
            ("summary", sel)
        }
        4 => {
            let f = filter(h, r);
            opt(r, "filter", "FindingFilter", f);
            let n = int(r);
            opt(r, "first", "Int", n);
            let c = cursor(h, r);
            opt(r, "after", "String", c);
            let node = group_selection(r);
            (
                "findingGroups",
                format!("{{ totalCount pageInfo {{ hasNextPage endCursor }} nodes {node} }}"),
            )
        }
        5 => {
            let id = json!(group_id(h, r));
            let a = arg(r, vars, decls, format!("id{i}"), "ID!", id);
            args.push(format!("id: {a}"));
            ("findingGroup", group_selection(r))
        }
        6 => {
            let f = filter(h, r);
            opt(r, "filter", "FindingFilter", f);
            let n = int(r);
            opt(r, "limit", "Int", n);
            ("scoringFeatures", String::new())
        }
        7 => (
            "syncStatus",
            "{ region detectorId lastSuccessAt lastErrorCode lastError findingsSynced dataAgeSeconds }"
                .into(),
        ),
        _ if r.chance(2) => ("accounts", "{ id name criticality owner }".into()),
        _ => ("viewer", "{ name role accounts }".into()),
    };
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    };
    format!("{field}{args} {sel}")
}

fn mutation_field(
    h: &Harness,
    r: &mut Reader<'_>,
    i: usize,
    vars: &mut Map<String, Value>,
    decls: &mut Vec<String>,
) -> String {
    let mut args = Vec::new();
    let targets = |r: &mut Reader<'_>, h: &Harness| {
        json!((0..r.below(3) + 1)
            .map(|_| finding_id(h, r))
            .collect::<Vec<_>>())
    };
    let mut push = |r: &mut Reader<'_>, name: &str, ty: &str, value: Value| {
        let a = arg(r, vars, decls, format!("{name}{i}"), ty, value);
        args.push(format!("{name}: {a}"));
    };
    let by_group = r.chance(1);
    let (field, sel) = match r.below(5) {
        0 | 1 => {
            if by_group {
                let g = json!(group_id(h, r));
                push(r, "groupId", "ID", g);
            } else {
                let t = targets(r, h);
                push(r, "findingIds", "[ID!]", t);
            }
            let status = json!(r.pick(&TRIAGE));
            push(r, "status", "TriageStatus!", status);
            if r.chance(2) {
                let v = int(r);
                push(r, "expectedVersion", "Int", v);
            }
            if r.chance(1) {
                let note = json!(r.text(16));
                push(r, "note", "String", note);
            }
            (
                "setTriage",
                "{ findingId status assignee note version updatedBy }",
            )
        }
        2 => {
            if by_group {
                let g = json!(group_id(h, r));
                push(r, "groupId", "ID", g);
            } else {
                let t = targets(r, h);
                push(r, "findingIds", "[ID!]", t);
            }
            let system = json!(r.pick(&["jira", "", "servicenow"]));
            push(r, "system", "String!", system);
            let key = json!(r.text(10));
            push(r, "key", "String!", key);
            ("linkTicket", "{ findingId system key url createdBy }")
        }
        _ => {
            let t = targets(r, h);
            push(r, "findingIds", "[ID!]!", t);
            let field = r.pick(&["archiveFindings", "unarchiveFindings", "sendFeedback"]);
            if field == "sendFeedback" {
                let f = json!(r.pick(&["USEFUL", "NOT_USEFUL"]));
                push(r, "feedback", "Feedback!", f);
            }
            (field, "{ findingIds }")
        }
    };
    format!("{field}({}) {sel}", args.join(", "))
}
