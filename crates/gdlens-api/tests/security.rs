//! The multi-tenant attack suite, file-driven: every `tests/security/cases/<case>/case.toml`
//! describes a server (config fixture, or a config that must be refused at load), an ordered list
//! of requests sent over real TCP as named callers, and what each answer must and must not hold.
//! See `tests/security/README.md` for the format. Adding a case needs no recompiling.
//!
//! `SECURITY_CASE=<substring>` runs only the matching cases.

mod common;
mod hardening_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{repo_root, TestServer, ADMIN, TRIAGER_111, VIEWER_222_333, VIEWER_ALL};
use gdlens_api::Config;
use hardening_support::{closed_within, raw, Raw, METRICS};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// One `case.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    /// What the case attacks and which defence stops it.
    description: String,
    /// Config file, relative to the case directory (default: the GraphQL fixture config).
    config: Option<String>,
    /// Findings fixture under `tests/graphql/fixtures/` (default `findings.ndjson`).
    findings: Option<String>,
    /// The case documents a known weakness: it runs, but a failure is reported, not fatal (and a
    /// pass fails, so the marker is removed once the gap is closed).
    known_gap: Option<String>,
    /// The config must be refused at load.
    load_error: Option<LoadError>,
    /// An NDJSON import through `gdlens-import` instead of HTTP requests.
    import: Option<ImportCase>,
    /// Requests, in order, against one fresh server.
    #[serde(default, rename = "request")]
    requests: Vec<Step>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadError {
    /// `ConfigError::code()`.
    code: String,
    /// Substrings of the message (the config file's name is always required as well).
    #[serde(default)]
    contains: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportCase {
    /// NDJSON file, relative to the case directory.
    file: String,
    /// A generated line longer than the importer's line cap, inserted as this 1-based line.
    long_line: Option<LongLine>,
    /// Ids of the findings that must be imported, in order.
    records: Vec<String>,
    /// Expected rejects, in order.
    rejects: Vec<ExpectedReject>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LongLine {
    at: usize,
    bytes: usize,
}

#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct ExpectedReject {
    line: u64,
    code: String,
}

/// One request.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    /// Shown in failures.
    name: Option<String>,
    /// Caller: `admin`, `triager-111`, `viewer-222-333`, `viewer-all`, `metrics` or `none`.
    #[serde(rename = "as", default = "none")]
    caller: String,
    /// A literal bearer token instead of a named caller.
    token: Option<String>,
    #[serde(default = "post")]
    method: String,
    #[serde(default = "graphql")]
    path: String,
    /// GraphQL document (sent as JSON `{query, variables}` unless `body` is given).
    query: Option<String>,
    /// Builds the document: `{ <template with {i} = 1..=count, joined by spaces> }`.
    repeat: Option<Repeat>,
    /// Variables as JSON text.
    variables: Option<String>,
    /// A literal body.
    body: Option<String>,
    /// Pads the JSON body with an extra member until it has this many bytes.
    pad_body_to: Option<usize>,
    /// `Content-Type` (default `application/json` on POST; `""` sends none).
    content_type: Option<String>,
    /// Extra headers; `{addr}` is replaced by the server's address. `Host` defaults to it.
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// Send these bytes and nothing more; the server must close the connection.
    partial: Option<String>,
    #[serde(default)]
    expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Repeat {
    template: String,
    count: usize,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: Option<u16>,
    /// `errors[0].extensions.code`.
    code: Option<String>,
    /// No `errors` member at all.
    #[serde(default)]
    no_errors: bool,
    /// No `data` member, or `data: null` (refused before execution).
    #[serde(default)]
    no_data: bool,
    /// JSON text: a subset the body must match (objects by key, arrays element-wise).
    json: Option<String>,
    /// JSON pointers that must hold `null`.
    #[serde(default)]
    null: Vec<String>,
    /// JSON pointer → number of items of the array there.
    #[serde(default)]
    lengths: BTreeMap<String, usize>,
    /// Substrings of the raw body.
    #[serde(default)]
    contains: Vec<String>,
    /// Substrings that must not occur in the raw body.
    #[serde(default)]
    not_contains: Vec<String>,
    /// Saves values: name → JSON pointer.
    #[serde(default)]
    save: BTreeMap<String, String>,
    /// JSON pointer → saved name: must be equal.
    #[serde(default)]
    same_as: BTreeMap<String, String>,
    /// JSON pointer → saved name: must differ.
    #[serde(default)]
    differs_from: BTreeMap<String, String>,
    /// For `partial`: the server closes the connection within this many seconds.
    closed_within_seconds: Option<u64>,
}

fn none() -> String {
    "none".into()
}
fn post() -> String {
    "POST".into()
}
fn graphql() -> String {
    "/graphql".into()
}

fn secret(caller: &str) -> Result<Option<&'static str>, String> {
    Ok(match caller {
        "admin" => Some(ADMIN),
        "triager-111" => Some(TRIAGER_111),
        "viewer-222-333" => Some(VIEWER_222_333),
        "viewer-all" => Some(VIEWER_ALL),
        "metrics" => Some(METRICS),
        "none" => None,
        other => return Err(format!("unknown caller `{other}`")),
    })
}

#[tokio::test]
async fn security_cases() {
    let root = repo_root().join("tests/security/cases");
    let only = std::env::var("SECURITY_CASE").ok();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").is_file())
        .filter(|p| {
            only.as_deref()
                .is_none_or(|o| p.file_name().unwrap().to_string_lossy().contains(o))
        })
        .collect();
    dirs.sort();
    if only.is_none() {
        assert!(dirs.len() >= 20, "cases missing under {}", root.display());
    }
    let mut failures = Vec::new();
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(dir.join("case.toml")).unwrap();
        let case: Case = match toml::from_str(&text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: bad case.toml: {e}"));
                continue;
            }
        };
        let result = run_case(dir, &case).await;
        match (&case.known_gap, result) {
            (None, Ok(())) => eprintln!("ok      {name}"),
            (None, Err(e)) => failures.push(format!("{name} ({}):\n    {e}", case.description)),
            (Some(gap), Err(e)) => eprintln!("GAP     {name}: {gap}\n    {e}"),
            (Some(gap), Ok(())) => failures.push(format!(
                "{name}: passes but is marked known_gap ({gap}): remove the marker"
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} security case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn run_case(dir: &Path, case: &Case) -> Result<(), String> {
    let config_path = match &case.config {
        Some(p) => dir.join(p),
        None => common::fixture("config.toml"),
    };
    if let Some(import) = &case.import {
        return run_import(dir, import);
    }
    let loaded = Config::load(&config_path);
    if let Some(want) = &case.load_error {
        let err = match loaded {
            Ok(_) => return Err("the config was accepted; it must be refused".into()),
            Err(e) => e,
        };
        let msg = err.to_string();
        if err.code() != want.code {
            return Err(format!("code {} (want {}): {msg}", err.code(), want.code));
        }
        let file = config_path.file_name().unwrap().to_string_lossy();
        for s in want.contains.iter().map(String::as_str).chain([&*file]) {
            if !msg.contains(s) {
                return Err(format!("message lacks `{s}`: {msg}"));
            }
        }
        return Ok(());
    }
    let mut config = loaded.map_err(|e| format!("config refused: {e}"))?;
    config.server.web_dir = Some("/nonexistent".into());
    let findings = case.findings.as_deref().unwrap_or("findings.ndjson");
    let server = TestServer::start_in(tempfile::tempdir().unwrap(), config, None, findings).await;
    let mut saved: BTreeMap<String, Value> = BTreeMap::new();
    for (i, step) in case.requests.iter().enumerate() {
        let label = format!(
            "request {} ({} as {})",
            i + 1,
            step.name.as_deref().unwrap_or(&step.path),
            step.caller
        );
        run_step(&server, step, &mut saved)
            .await
            .map_err(|e| format!("{label}: {e}"))?;
    }
    Ok(())
}

async fn run_step(
    server: &TestServer,
    step: &Step,
    saved: &mut BTreeMap<String, Value>,
) -> Result<(), String> {
    let addr = server.addr.to_string();
    if let Some(bytes) = &step.partial {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(bytes.replace("{addr}", &addr).as_bytes())
            .await
            .unwrap();
        let within = Duration::from_secs(step.expect.closed_within_seconds.unwrap_or(15));
        return if closed_within(&mut s, within).await {
            Ok(())
        } else {
            Err(format!("connection still open after {within:?}"))
        };
    }
    let token = match &step.token {
        Some(t) => Some(t.as_str()),
        None => secret(&step.caller)?,
    };
    let query = match (&step.query, &step.repeat) {
        (Some(q), None) => Some(q.clone()),
        (None, Some(r)) => {
            let parts: Vec<String> = (1..=r.count)
                .map(|i| r.template.replace("{i}", &i.to_string()))
                .collect();
            Some(format!("{{ {} }}", parts.join(" ")))
        }
        (None, None) => None,
        (Some(_), Some(_)) => return Err("give `query` or `repeat`, not both".into()),
    };
    let variables: Value = match &step.variables {
        Some(v) => serde_json::from_str(v).map_err(|e| format!("variables: {e}"))?,
        None => Value::Null,
    };
    let mut body = match (&step.body, &query) {
        (Some(b), _) => b.clone(),
        (None, Some(q)) if step.method == "POST" => {
            json!({"query": q, "variables": variables}).to_string()
        }
        _ => String::new(),
    };
    let mut path = step.path.replace("{addr}", &addr);
    if step.method == "GET" {
        if let Some(q) = &query {
            path = format!("{path}?query={}", percent_encode(q));
        }
    }
    if let Some(size) = step.pad_body_to {
        let mut v: Value = serde_json::from_str(&body).map_err(|e| format!("pad: {e}"))?;
        let missing = size.saturating_sub(body.len() + r#","pad":"""#.len());
        v["pad"] = Value::String("x".repeat(missing));
        body = v.to_string();
    }
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers: Vec<(String, String)> = Vec::new();
    if !step.headers.keys().any(|k| k.eq_ignore_ascii_case("host")) {
        headers.push(("Host".into(), addr.clone()));
    }
    for (k, v) in &step.headers {
        headers.push((k.clone(), v.replace("{addr}", &addr)));
    }
    if let Some(a) = &auth {
        headers.push(("Authorization".into(), a.clone()));
    }
    let ct = match &step.content_type {
        Some(ct) => ct.clone(),
        None if step.method == "POST" => "application/json".into(),
        None => String::new(),
    };
    if !ct.is_empty() {
        headers.push(("Content-Type".into(), ct));
    }
    let h: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let response = raw(server.addr, &step.method, &path, &h, &body).await;
    check(&step.expect, &response, saved)
}

fn check(expect: &Expect, r: &Raw, saved: &mut BTreeMap<String, Value>) -> Result<(), String> {
    let shown = || {
        let b = &r.body;
        if b.len() > 1500 {
            format!("{}… ({} bytes)", &b[..1500], b.len())
        } else {
            b.clone()
        }
    };
    if let Some(status) = expect.status {
        if r.status != status {
            return Err(format!("status {} (want {status}): {}", r.status, shown()));
        }
    }
    for s in &expect.contains {
        if !r.body.contains(s.as_str()) {
            return Err(format!("body lacks `{s}`: {}", shown()));
        }
    }
    for s in &expect.not_contains {
        if r.body.contains(s.as_str()) {
            return Err(format!("body contains `{s}`: {}", shown()));
        }
    }
    let needs_json = expect.code.is_some()
        || expect.no_errors
        || expect.no_data
        || expect.json.is_some()
        || !expect.null.is_empty()
        || !expect.lengths.is_empty()
        || !expect.save.is_empty()
        || !expect.same_as.is_empty()
        || !expect.differs_from.is_empty();
    if !needs_json {
        return Ok(());
    }
    let body: Value = serde_json::from_str(&r.body)
        .map_err(|e| format!("body is not JSON ({e}): {}", shown()))?;
    if let Some(code) = &expect.code {
        let got = body["errors"][0]["extensions"]["code"].as_str();
        if got != Some(code.as_str()) {
            return Err(format!("code {got:?} (want {code}): {}", shown()));
        }
    }
    if expect.no_errors && body.get("errors").is_some() {
        return Err(format!("unexpected errors: {}", shown()));
    }
    if expect.no_data && body.get("data").is_some_and(|d| !d.is_null()) {
        return Err(format!(
            "`data` present (the request was executed): {}",
            shown()
        ));
    }
    if let Some(subset) = &expect.json {
        let want: Value = serde_json::from_str(subset).map_err(|e| format!("expect.json: {e}"))?;
        matches_subset(&want, &body, "").map_err(|e| format!("{e}: {}", shown()))?;
    }
    for p in &expect.null {
        match body.pointer(p) {
            Some(Value::Null) => {}
            other => return Err(format!("{p} is {other:?}, want null: {}", shown())),
        }
    }
    for (p, n) in &expect.lengths {
        match body.pointer(p).and_then(Value::as_array) {
            Some(a) if a.len() == *n => {}
            Some(a) => return Err(format!("{p} has {} items, want {n}: {}", a.len(), shown())),
            None => return Err(format!("{p} is not an array: {}", shown())),
        }
    }
    for (pointer, name) in &expect.same_as {
        let want = saved
            .get(name)
            .ok_or(format!("nothing saved as `{name}`"))?;
        let got = body.pointer(pointer);
        if got != Some(want) {
            return Err(format!("{pointer} is {got:?}, want `{name}` = {want}"));
        }
    }
    for (pointer, name) in &expect.differs_from {
        let other = saved
            .get(name)
            .ok_or(format!("nothing saved as `{name}`"))?;
        let got = body
            .pointer(pointer)
            .ok_or(format!("{pointer} missing: {}", shown()))?;
        if got == other {
            return Err(format!("{pointer} equals `{name}` ({got}): it must differ"));
        }
    }
    for (name, pointer) in &expect.save {
        let v = body
            .pointer(pointer)
            .ok_or(format!("cannot save {pointer}: missing in {}", shown()))?;
        saved.insert(name.clone(), v.clone());
    }
    Ok(())
}

/// `want` is a subset of `got`: objects by key, arrays element-wise with equal length, numbers
/// by value.
fn matches_subset(want: &Value, got: &Value, at: &str) -> Result<(), String> {
    match (want, got) {
        (Value::Object(w), Value::Object(g)) => {
            for (k, wv) in w {
                let gv = g.get(k).ok_or(format!("{at}/{k} missing"))?;
                matches_subset(wv, gv, &format!("{at}/{k}"))?;
            }
            Ok(())
        }
        (Value::Array(w), Value::Array(g)) => {
            if w.len() != g.len() {
                return Err(format!("{at}: {} items, want {}", g.len(), w.len()));
            }
            for (i, (wv, gv)) in w.iter().zip(g).enumerate() {
                matches_subset(wv, gv, &format!("{at}/{i}"))?;
            }
            Ok(())
        }
        (Value::Number(w), Value::Number(g)) if w.as_f64() == g.as_f64() => Ok(()),
        (w, g) if w == g => Ok(()),
        (w, g) => Err(format!("{at} is {g}, want {w}")),
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Reads the case's NDJSON (plus an optional generated over-long line) through the importer with
/// its default limits.
fn run_import(dir: &Path, import: &ImportCase) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join(&import.file)).map_err(|e| e.to_string())?;
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    if let Some(long) = &import.long_line {
        // Valid-looking JSON that would be a finding if it were read.
        let head = r#"{"schemaVersion":"2.0","id":"f-long","pad":""#;
        let tail = r#""}"#;
        let pad = "x".repeat(long.bytes.saturating_sub(head.len() + tail.len()));
        lines.insert(long.at - 1, format!("{head}{pad}{tail}"));
    }
    let input = lines.join("\n") + "\n";
    let mut records = Vec::new();
    let mut rejects = Vec::new();
    gdlens_import::read_reader("case.ndjson", input.as_bytes(), &mut |item| match item {
        gdlens_import::ImportItem::Record(r) => records.push(r.finding.id.clone()),
        gdlens_import::ImportItem::Reject(r) => rejects.push(ExpectedReject {
            line: r.line,
            code: r.code,
        }),
    });
    if records != import.records {
        return Err(format!("imported {records:?}, want {:?}", import.records));
    }
    if rejects != import.rejects {
        return Err(format!("rejects {rejects:?}, want {:?}", import.rejects));
    }
    Ok(())
}
