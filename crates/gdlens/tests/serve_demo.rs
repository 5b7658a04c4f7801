//! `gdlens serve` as a user starts it: an empty data directory gets demo data through the ingest
//! path, `/readyz` turns 200, and the GraphQL API answers with the demo organization's numbers.
//! A restart on the same directory keeps the data and the demo accounts, and imports nothing twice.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{free_port, http, Server};

fn start(dir: &std::path::Path, extra: &[&str]) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", &addr, "--web-dir", "/nonexistent"])
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, addr };
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Some((200, _)) = http(&server.addr, "GET", "/readyz", "") {
            return server;
        }
        assert!(Instant::now() < deadline, "gdlens serve not ready");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn graphql(server: &Server, query: &str) -> serde_json::Value {
    let body = serde_json::json!({ "query": query }).to_string();
    let (status, text) = http(&server.addr, "POST", "/graphql", &body).unwrap();
    assert_eq!(status, 200, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(v.get("errors").is_none(), "{v}");
    v["data"].clone()
}

const QUERY: &str = "{ summary { total accountsAffected } accounts { id name criticality } \
                       findingGroups(first: 5) { totalCount } }";

#[test]
fn empty_store_gets_demo_data_and_a_restart_keeps_it() {
    let dir = tempfile::tempdir().unwrap();
    let first = {
        let server = start(dir.path(), &["--demo-findings", "3000"]);
        graphql(&server, QUERY)
    };
    let total = first["summary"]["total"].as_u64().unwrap();
    assert!(total > 1_000, "{first}");
    assert!(first["summary"]["accountsAffected"].as_u64().unwrap() > 10);
    let accounts = first["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), 60, "the demo organization's accounts");
    assert!(accounts
        .iter()
        .all(|a| !a["name"].as_str().unwrap().is_empty()));
    assert!(first["findingGroups"]["totalCount"].as_u64().unwrap() > 0);

    // Restart: the store is not empty, so nothing is generated; the accounts come back.
    let server = start(dir.path(), &["--demo-findings", "3000"]);
    let second = graphql(&server, QUERY);
    assert_eq!(second, first);
}

#[test]
fn no_demo_serves_an_empty_store() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--no-demo"]);
    let v = graphql(&server, "{ summary { total } }");
    assert_eq!(v["summary"]["total"], 0);
}
