//! Several `gdlens serve` replicas on one PostgreSQL database (a throwaway cluster started by the
//! test, see `gdlens_store::testing`): an import through the CLI reaches every replica's index
//! through the change feed; a triage on one replica is seen by the other (index and store), and
//! optimistic versions hold across replicas; with PostgreSQL stopped, replicas keep answering
//! reads, `/readyz` says degraded, writes fail with `STORE_UNAVAILABLE`; once it is back,
//! everything recovers without a restart.

use std::process::{Command, Stdio};
use std::time::Instant;

use gdlens_store::testing::{test_database, test_database_own_server, TestDb};

mod common;
use common::{free_port, http, wait_for, Server};

fn serve(db: &TestDb) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["serve", "--no-demo", "--data-dir"])
        .arg(dir.path())
        .args(["--listen", &addr, "--web-dir", "/nonexistent"])
        .env("GDLENS_STORE_URL", &db.url)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, addr };
    wait_for("replica ready", || {
        matches!(http(&server.addr, "GET", "/readyz", ""), Some((200, _)))
    });
    server
}

fn graphql_raw(server: &Server, query: &str, variables: serde_json::Value) -> serde_json::Value {
    let body = serde_json::json!({ "query": query, "variables": variables }).to_string();
    let (status, text) = http(&server.addr, "POST", "/graphql", &body).unwrap();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

fn graphql(server: &Server, query: &str, variables: serde_json::Value) -> serde_json::Value {
    let v = graphql_raw(server, query, variables);
    assert!(v.get("errors").is_none(), "{v}");
    v["data"].clone()
}

fn total(server: &Server, filter: &str) -> u64 {
    let q = format!("{{ summary(filter: {filter}) {{ total }} }}");
    graphql(server, &q, serde_json::json!({}))["summary"]["total"]
        .as_u64()
        .unwrap()
}

/// `gdlens generate | gdlens import -` into the PostgreSQL store.
fn import(db: &TestDb, findings: usize) -> serde_json::Value {
    let mut generate = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args([
            "generate",
            "--seed",
            "5",
            "--accounts",
            "12",
            "--regions",
            "2",
        ])
        .args(["--findings", &findings.to_string()])
        .args(["--now", "2026-06-01T00:00:00Z", "--out", "-"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["import", "--json", "--store-url", &db.url, "-"])
        .stdin(generate.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(generate.wait().unwrap().success());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn some_finding_ids(server: &Server, n: usize) -> Vec<String> {
    let q = format!("{{ findings(first: {n}) {{ edges {{ node {{ id }} }} }} }}");
    graphql(server, &q, serde_json::json!({}))["findings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

const SET_TRIAGE: &str = "mutation($ids: [ID!], $v: Int) { setTriage(findingIds: $ids, status: RESOLVED, expectedVersion: $v, note: \"done\") { findingId status version } }";
const RESOLVED: &str = "{ triageStatus: [RESOLVED] }";

#[test]
fn import_through_one_read_through_others_and_triage_round_trip() {
    let db = test_database();
    let a = serve(&db);
    let b = serve(&db);
    let c = serve(&db);
    assert_eq!(total(&a, "{}"), 0);

    // The import runs in its own process: every replica learns of it from the change feed.
    let report = import(&db, 3_000);
    assert_eq!(report["read"], 3_000, "{report}");
    // What a replica started now builds from the store is the reference the others must reach.
    let expected = total(&serve(&db), "{}");
    assert!(expected > 2_000, "{expected}");
    for r in [&a, &b, &c] {
        wait_for("the import to reach a replica", || {
            total(r, "{}") == expected
        });
    }
    let ids = some_finding_ids(&b, 3);
    assert_eq!(ids.len(), 3);
    assert_eq!(
        some_finding_ids(&c, 3),
        ids,
        "replicas agree on the same data"
    );

    // Triage on A; B's index (a filtered summary) and B's store reads both see it.
    let data = graphql(
        &a,
        SET_TRIAGE,
        serde_json::json!({ "ids": [ids[0]], "v": 0 }),
    );
    assert_eq!(data["setTriage"][0]["version"], 1);
    let started = Instant::now();
    wait_for("the triage to reach replica B's index", || {
        total(&b, RESOLVED) == 1
    });
    eprintln!(
        "triage on A visible in B's index after {} ms",
        started.elapsed().as_millis()
    );
    let q = "query($id: ID!) { finding(id: $id) { triage { status version note } } }";
    let got = graphql(&b, q, serde_json::json!({ "id": ids[0] }));
    assert_eq!(got["finding"]["triage"]["status"], "RESOLVED");
    assert_eq!(got["finding"]["triage"]["version"], 1);

    // Optimistic versions hold across replicas: B moves it to 2, A's stale write is refused.
    graphql(
        &b,
        SET_TRIAGE,
        serde_json::json!({ "ids": [ids[0], ids[1]], "v": null }),
    );
    let stale = graphql_raw(
        &a,
        SET_TRIAGE,
        serde_json::json!({ "ids": [ids[0]], "v": 1 }),
    );
    assert_eq!(
        stale["errors"][0]["extensions"]["code"], "STALE_VERSION",
        "{stale}"
    );
    for r in [&a, &c] {
        wait_for("B's triage to reach the others", || total(r, RESOLVED) == 2);
    }
}

#[test]
fn postgres_stopped_degrades_and_recovers() {
    let db = test_database_own_server();
    import(&db, 500);
    let a = serve(&db);
    let b = serve(&db);
    let findings = total(&a, "{}");
    assert!(findings > 300, "{findings}");
    let ids = some_finding_ids(&a, 2);

    db.stop_server();
    for r in [&a, &b] {
        wait_for(
            "/readyz to report degraded",
            || matches!(http(&r.addr, "GET", "/readyz", ""), Some((200, body)) if body.starts_with("degraded")),
        );
        // Reads still answer from memory.
        assert_eq!(total(r, "{}"), findings);
    }
    let refused = graphql_raw(
        &a,
        SET_TRIAGE,
        serde_json::json!({ "ids": [ids[0]], "v": null }),
    );
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "STORE_UNAVAILABLE",
        "{refused}"
    );
    let metrics = http(&a.addr, "GET", "/metrics", "").unwrap().1;
    assert!(metrics.contains("gdlens_degraded 1"), "{metrics}");

    db.start_server();
    for r in [&a, &b] {
        wait_for(
            "/readyz to report ready again",
            || matches!(http(&r.addr, "GET", "/readyz", ""), Some((200, body)) if body == "ready\n"),
        );
    }
    // Writes work again, and reach the other replica.
    let data = graphql(
        &a,
        SET_TRIAGE,
        serde_json::json!({ "ids": [ids[1]], "v": 0 }),
    );
    assert_eq!(data["setTriage"][0]["version"], 1);
    wait_for("the triage after recovery to reach B", || {
        total(&b, RESOLVED) == 1
    });
    // Nothing of the refused write was stored.
    let q = "query($id: ID!) { finding(id: $id) { triage { version } } }";
    let got = graphql(&b, q, serde_json::json!({ "id": ids[0] }));
    assert_eq!(got["finding"]["triage"]["version"], 0);
}
