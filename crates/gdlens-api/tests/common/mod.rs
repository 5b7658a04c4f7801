//! Test harness: a real server (SQLite store in a temp dir, index, correlator, axum on
//! 127.0.0.1:0) loaded with the fixture findings through the one ingest path.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use gdlens_api::adapters::StoreAdapter;
use gdlens_api::writeback::{
    Feedback, WriteBack, WriteBackError, WriteBackFuture, WriteBackTarget,
};
use gdlens_api::{AppState, Config, IngestRecord};
use serde_json::{json, Value};

/// Repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// `tests/graphql/fixtures/<name>`.
pub fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/graphql/fixtures").join(name)
}

/// Fixture findings as ingest records (normalized + raw line).
pub fn fixture_records(name: &str) -> Vec<IngestRecord> {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            IngestRecord {
                finding: gdlens_domain::normalize(&v).unwrap(),
                raw: line.to_string(),
                source: name.to_string(),
            }
        })
        .collect()
}

/// Raw fixture findings as JSON values (for independent recomputation).
pub fn fixture_json(name: &str) -> Vec<Value> {
    std::fs::read_to_string(fixture(name))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A write-back double recording calls; `fail` makes every call fail.
#[derive(Default)]
pub struct RecordingWriteBack {
    pub calls: AtomicUsize,
    pub fail: AtomicBool,
    pub last: std::sync::Mutex<Vec<WriteBackTarget>>,
}

impl RecordingWriteBack {
    fn record<'a>(&'a self, targets: &'a [WriteBackTarget]) -> WriteBackFuture<'a> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::SeqCst);
            *self.last.lock().unwrap() = targets.to_vec();
            if self.fail.load(Ordering::SeqCst) {
                Err(WriteBackError(
                    "AccessDeniedException: secret internal detail".into(),
                ))
            } else {
                Ok(())
            }
        })
    }
}

impl WriteBack for RecordingWriteBack {
    fn archive<'a>(&'a self, t: &'a [WriteBackTarget]) -> WriteBackFuture<'a> {
        self.record(t)
    }
    fn unarchive<'a>(&'a self, t: &'a [WriteBackTarget]) -> WriteBackFuture<'a> {
        self.record(t)
    }
    fn feedback<'a>(
        &'a self,
        t: &'a [WriteBackTarget],
        _f: Feedback,
        _c: Option<&'a str>,
    ) -> WriteBackFuture<'a> {
        self.record(t)
    }
}

/// A running server.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: Arc<AppState>,
    pub client: reqwest::Client,
    pub dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts a server with the fixture config and findings.
    pub async fn start() -> TestServer {
        Self::start_with(None, "findings.ndjson").await
    }

    /// Starts a server with an optional write-back and a fixture file of findings.
    pub async fn start_with(write_back: Option<Arc<dyn WriteBack>>, findings: &str) -> TestServer {
        let config = Config::load(&fixture("config.toml")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        Self::start_in(dir, config, write_back, findings).await
    }

    /// Starts a server on an existing data dir with a given config.
    pub async fn start_in(
        dir: tempfile::TempDir,
        config: Config,
        write_back: Option<Arc<dyn WriteBack>>,
        findings: &str,
    ) -> TestServer {
        let store = gdlens_store::Store::open(dir.path()).unwrap();
        let correlator = gdlens_groups::Correlator::new(Default::default());
        let state = Arc::new(AppState::new(
            config,
            Arc::new(StoreAdapter::new(store)),
            correlator,
            write_back,
        ));
        state.build().await.unwrap();
        if !findings.is_empty() {
            state.ingest(fixture_records(findings)).await.unwrap();
        }
        state.mark_ready();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = state.clone();
        tokio::spawn(async move {
            gdlens_api::serve_on(st, listener, async move {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        TestServer {
            addr,
            state,
            client: reqwest::Client::new(),
            dir,
            shutdown: Some(tx),
        }
    }

    /// `http://addr`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs a GraphQL request with a bearer token; returns (status, body JSON).
    pub async fn post(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({"query": query, "variables": variables}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// POSTs and asserts there are no errors; returns `data`.
    pub async fn data(&self, token: &str, query: &str, variables: Value) -> Value {
        let (status, body) = self.post(Some(token), query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "unexpected errors: {body}");
        body["data"].clone()
    }

    /// POSTs and returns the first error's `extensions.code`.
    pub async fn error_code(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        let (_, body) = self.post(token, query, variables).await;
        body["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no error code in {body}"))
            .to_string()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub const ADMIN: &str = "admin-secret";
pub const TRIAGER_111: &str = "triager-111-secret";
pub const VIEWER_222_333: &str = "viewer-222-333-secret";
pub const VIEWER_ALL: &str = "viewer-all-secret";
