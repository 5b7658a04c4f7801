//! File-driven end-to-end samples (Apollo Router style): every `tests/graphql/samples/<case>/`
//! holds a query, optional variables and token, and the expected response, run through the real
//! HTTP router. `UPDATE_SAMPLES=1` writes the expected files instead of comparing.

mod common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn graphql_samples() {
    let s = TestServer::start().await;
    let root = repo_root().join("tests/graphql/samples");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "samples missing under {}", root.display());
    let update = std::env::var_os("UPDATE_SAMPLES").is_some();
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().to_string();
        let query = std::fs::read_to_string(case.join("query.graphql")).unwrap();
        let variables: Value = match std::fs::read_to_string(case.join("variables.json")) {
            Ok(t) => {
                serde_json::from_str(&t).unwrap_or_else(|e| panic!("{name}/variables.json: {e}"))
            }
            Err(_) => Value::Null,
        };
        let token = std::fs::read_to_string(case.join("token"))
            .map(|t| t.trim().to_string())
            .unwrap_or_else(|_| ADMIN.to_string());
        let token = (token != "none").then_some(token);
        let (status, body) = s.post(token.as_deref(), &query, variables).await;
        let got = json!({"status": status, "body": body});
        let expected_path = case.join("expected.json");
        if update {
            std::fs::write(
                &expected_path,
                serde_json::to_string_pretty(&got).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let expected: Value = match std::fs::read_to_string(&expected_path) {
            Ok(t) => {
                serde_json::from_str(&t).unwrap_or_else(|e| panic!("{name}/expected.json: {e}"))
            }
            Err(_) => {
                failures.push(format!(
                    "{name}: no expected.json (run with UPDATE_SAMPLES=1)"
                ));
                continue;
            }
        };
        if got != expected {
            failures.push(format!(
                "{name}:\n  expected {}\n  got      {}",
                serde_json::to_string(&expected).unwrap(),
                serde_json::to_string(&got).unwrap()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} sample(s) differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
