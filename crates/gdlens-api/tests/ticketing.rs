//! The ticketing example (`examples/ticketing/ticketing.py`) against a real server: tickets for
//! every High+ finding (directly or through its group), and a second run creates nothing.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::*;
use serde_json::{json, Value};

fn run_script(s: &TestServer, state: &std::path::Path, tickets: &std::path::Path) -> Value {
    let script = repo_root().join("examples/ticketing/ticketing.py");
    let url = format!("http://{}", s.addr);
    let (state, tickets) = (state.to_owned(), tickets.to_owned());
    let out = Command::new("python3")
        .arg(script)
        .args(["--url", &url, "--token", ADMIN])
        .arg("--state")
        .arg(&state)
        .arg("--tickets")
        .arg(&tickets)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON line")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ticketing_example_links_every_high_finding_once_and_is_idempotent() {
    let s = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (state, tickets) = (
        dir.path().join("state.json"),
        dir.path().join("tickets.json"),
    );
    let st = state.clone();
    let tk = tickets.clone();
    let url_server = &s;
    let first = tokio::task::block_in_place(|| run_script(url_server, &st, &tk));
    assert!(first["created"].as_u64().unwrap() > 0, "{first}");

    let d = s
        .data(
            ADMIN,
            "{ findings(first: 500, filter: {severityLabels: [HIGH, CRITICAL]}) { totalCount nodes { id ticketLinks { system key } } } }",
            json!(null),
        )
        .await;
    let nodes = d["findings"]["nodes"].as_array().unwrap();
    assert!(!nodes.is_empty());
    for n in nodes {
        let links: Vec<&Value> = n["ticketLinks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["system"] == "standin")
            .collect();
        assert!(!links.is_empty(), "High+ finding without a ticket: {n}");
    }
    let book: Value = serde_json::from_str(&std::fs::read_to_string(&tickets).unwrap()).unwrap();
    let count_before = book["tickets"].as_object().unwrap().len();
    let wm: Value = serde_json::from_str(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert!(wm["updatedSince"].is_string());

    // Second run: nothing new, links unchanged.
    let second = tokio::task::block_in_place(|| run_script(url_server, &state, &tickets));
    assert_eq!(second["created"], 0, "{second}");
    let book: Value = serde_json::from_str(&std::fs::read_to_string(&tickets).unwrap()).unwrap();
    assert_eq!(book["tickets"].as_object().unwrap().len(), count_before);
    let d2 = s
        .data(ADMIN, "{ findings(first: 500, filter: {severityLabels: [HIGH, CRITICAL]}) { nodes { id ticketLinks { key } } } }", json!(null))
        .await;
    let per_finding = |d: &Value| -> BTreeSet<(String, usize)> {
        d["findings"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["id"].as_str().unwrap().to_string(),
                    n["ticketLinks"].as_array().unwrap().len(),
                )
            })
            .collect()
    };
    assert_eq!(per_finding(&d), per_finding(&d2), "second run added links");
}
