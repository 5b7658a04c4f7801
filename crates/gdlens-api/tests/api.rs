//! End-to-end tests through the real HTTP router on 127.0.0.1: auth scopes, limits, paging,
//! triage round trip, ticket idempotency, write-back, GraphQL over HTTP, summary recomputation.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::*;
use serde_json::{json, Value};

const PAGE: &str = r#"query($first: Int, $after: String, $filter: FindingFilter, $orderBy: FindingOrder) {
  findings(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id accountId severity updatedAt count firstSeen score { value } } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

/// Walks every page; returns (totalCount, nodes in order).
async fn walk(
    s: &TestServer,
    token: &str,
    filter: Value,
    order: Value,
    first: i64,
) -> (u64, Vec<Value>) {
    let mut after = Value::Null;
    let mut nodes = Vec::new();
    let mut total;
    loop {
        let d = s
            .data(
                token,
                PAGE,
                json!({"first": first, "after": after, "filter": filter, "orderBy": order}),
            )
            .await;
        let c = &d["findings"];
        total = c["totalCount"].as_u64().unwrap();
        for e in c["edges"].as_array().unwrap() {
            nodes.push(e["node"].clone());
        }
        if !c["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = c["pageInfo"]["endCursor"].clone();
    }
    (total, nodes)
}

fn active_fixture() -> Vec<Value> {
    fixture_json("findings.ndjson")
        .into_iter()
        .filter(|f| {
            f["service"]["archived"] != json!(true)
                && f["service"]["additionalInfo"]["sample"] != json!(true)
        })
        .collect()
}

#[tokio::test]
async fn scoped_token_never_sees_other_accounts() {
    let s = TestServer::start().await;
    let allowed: BTreeSet<&str> = ["222222222222", "333333333333"].into();
    let (total, nodes) = walk(&s, VIEWER_222_333, json!(null), json!(null), 7).await;
    let expected = active_fixture()
        .iter()
        .filter(|f| allowed.contains(f["accountId"].as_str().unwrap()))
        .count() as u64;
    assert_eq!(total, expected);
    assert_eq!(nodes.len() as u64, expected);
    assert!(nodes
        .iter()
        .all(|n| allowed.contains(n["accountId"].as_str().unwrap())));

    // Asking for a forbidden account explicitly yields nothing, not an error or a leak.
    let d = s
        .data(
            VIEWER_222_333,
            "{ findings(filter: {accountIds: [\"111111111111\"]}) { totalCount } }",
            json!(null),
        )
        .await;
    assert_eq!(d["findings"]["totalCount"], 0);

    // Summary counts only the scope.
    let d = s
        .data(
            VIEWER_222_333,
            "{ summary { total accountsAffected topAccounts(limit: 10) { accountId } topFindingTypes { accounts } findingGroups } }",
            json!(null),
        )
        .await;
    assert_eq!(d["summary"]["total"].as_u64().unwrap(), expected);
    assert!(d["summary"]["accountsAffected"].as_u64().unwrap() <= 2);
    for a in d["summary"]["topAccounts"].as_array().unwrap() {
        assert!(allowed.contains(a["accountId"].as_str().unwrap()), "{a}");
    }

    // A finding of another account by id is null.
    let other = fixture_json("findings.ndjson")
        .into_iter()
        .find(|f| f["accountId"] == "111111111111")
        .unwrap();
    let d = s
        .data(
            VIEWER_222_333,
            "query($id: ID!) { finding(id: $id) { id } }",
            json!({"id": other["id"]}),
        )
        .await;
    assert!(d["finding"].is_null());

    // Groups: only visible members, counted; accounts within scope.
    let d = s
        .data(
            VIEWER_222_333,
            "{ findingGroups(first: 500, filter: {archived: false}) { totalCount nodes { id findingCount accounts findings { accountId } graph { nodes { id } } } } }",
            json!(null),
        )
        .await;
    for g in d["findingGroups"]["nodes"].as_array().unwrap() {
        let findings = g["findings"].as_array().unwrap();
        assert_eq!(g["findingCount"].as_u64().unwrap() as usize, findings.len());
        assert!(!findings.is_empty());
        assert!(findings
            .iter()
            .all(|f| allowed.contains(f["accountId"].as_str().unwrap())));
        assert!(g["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| allowed.contains(a.as_str().unwrap())));
    }
    // Accounts list is scoped too.
    let d = s
        .data(VIEWER_222_333, "{ accounts { id name } }", json!(null))
        .await;
    let ids: BTreeSet<&str> = d["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, allowed);
}

#[tokio::test]
async fn groups_hide_members_outside_scope() {
    let s = TestServer::start().await;
    let q = "{ findingGroups(first: 500) { nodes { id findingCount findings { id accountId } } } }";
    let all = s.data(ADMIN, q, json!(null)).await;
    let scoped = s.data(TRIAGER_111, q, json!(null)).await;
    let scoped_by_id: BTreeMap<String, Value> = scoped["findingGroups"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["id"].as_str().unwrap().to_string(), g.clone()))
        .collect();
    for g in all["findingGroups"]["nodes"].as_array().unwrap() {
        let visible: Vec<&Value> = g["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["accountId"] == "111111111111")
            .collect();
        let id = g["id"].as_str().unwrap();
        match scoped_by_id.get(id) {
            None => assert!(
                visible.is_empty(),
                "group {id} has visible members but is hidden"
            ),
            Some(sg) => assert_eq!(
                sg["findingCount"].as_u64().unwrap() as usize,
                visible.len(),
                "group {id}"
            ),
        }
    }
}

#[tokio::test]
async fn missing_or_unknown_token_is_unauthenticated() {
    let s = TestServer::start().await;
    let (status, body) = s.post(None, "{ __typename }", json!(null)).await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let (status, _) = s.post(Some("wrong"), "{ __typename }", json!(null)).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn keyset_paging_covers_everything_once_in_order_and_survives_new_data() {
    let s = TestServer::start().await;
    for (field, dir) in [
        ("PRIORITY", "DESC"),
        ("SEVERITY", "ASC"),
        ("UPDATED_AT", "DESC"),
        ("COUNT", "DESC"),
        ("FIRST_SEEN", "ASC"),
    ] {
        let order = json!({"field": field, "direction": dir});
        let (total, nodes) = walk(&s, ADMIN, json!(null), order.clone(), 9).await;
        assert_eq!(nodes.len() as u64, total, "{field}");
        let ids: HashSet<&str> = nodes.iter().map(|n| n["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), nodes.len(), "duplicates under {field}");
        let (_, one_page) = walk(&s, ADMIN, json!(null), order, 500).await;
        let a: Vec<&Value> = nodes.iter().map(|n| &n["id"]).collect();
        let b: Vec<&Value> = one_page.iter().map(|n| &n["id"]).collect();
        assert_eq!(a, b, "paging changes the order under {field}");
    }
    // Severity descending with ties by id ascending.
    let (_, nodes) = walk(
        &s,
        ADMIN,
        json!(null),
        json!({"field": "SEVERITY", "direction": "DESC"}),
        500,
    )
    .await;
    for w in nodes.windows(2) {
        let (s0, s1) = (
            w[0]["severity"].as_f64().unwrap(),
            w[1]["severity"].as_f64().unwrap(),
        );
        assert!(s0 > s1 || (s0 == s1 && w[0]["id"].as_str() < w[1]["id"].as_str()));
    }
    // A cursor taken before new data arrives still continues after the same position.
    let d = s
        .data(
            ADMIN,
            PAGE,
            json!({"first": 5, "orderBy": {"field": "SEVERITY", "direction": "DESC"}}),
        )
        .await;
    let cursor = d["findings"]["pageInfo"]["endCursor"].clone();
    let last_before = d["findings"]["edges"][4]["node"].clone();
    s.state
        .ingest(fixture_records("more_findings.ndjson"))
        .await
        .unwrap();
    let d = s
        .data(ADMIN, PAGE, json!({"first": 5, "after": cursor, "orderBy": {"field": "SEVERITY", "direction": "DESC"}}))
        .await;
    let next = &d["findings"]["edges"][0]["node"];
    let (s0, s1) = (
        last_before["severity"].as_f64().unwrap(),
        next["severity"].as_f64().unwrap(),
    );
    assert!(s1 < s0 || (s1 == s0 && next["id"].as_str() > last_before["id"].as_str()));
    // A cursor of another order is rejected with a code.
    assert_eq!(
        s.error_code(
            Some(ADMIN),
            PAGE,
            json!({"first": 5, "after": cursor, "orderBy": {"field": "COUNT"}})
        )
        .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn summary_equals_independent_recomputation_from_raw_findings() {
    let s = TestServer::start().await;
    let d = s
        .data(
            VIEWER_ALL,
            "{ summary { total bySeverity { low medium high critical } accountsAffected resourcesAffected
               topFindingTypes(limit: 100) { type count maxSeverity accounts }
               topAccounts(limit: 100) { accountId count } } }",
            json!(null),
        )
        .await;
    let sum = &d["summary"];
    let active = active_fixture();
    let mut by_label = [0u64; 4];
    let mut accounts = BTreeSet::new();
    let mut resources = BTreeSet::new();
    let mut types: BTreeMap<String, (u64, f64, BTreeSet<String>)> = BTreeMap::new();
    let mut per_account: BTreeMap<String, u64> = BTreeMap::new();
    for f in &active {
        let sev = f["severity"].as_f64().unwrap();
        let label = if sev >= 9.0 {
            3
        } else if sev >= 7.0 {
            2
        } else if sev >= 4.0 {
            1
        } else {
            0
        };
        by_label[label] += 1;
        let acct = f["accountId"].as_str().unwrap().to_string();
        accounts.insert(acct.clone());
        let r = &f["resource"];
        let key = r["instanceDetails"]["instanceId"]
            .as_str()
            .or(r["accessKeyDetails"]["accessKeyId"].as_str())
            .or(r["s3BucketDetails"][0]["name"].as_str())
            .unwrap();
        resources.insert((acct.clone(), key.to_string()));
        let t = types
            .entry(f["type"].as_str().unwrap().to_string())
            .or_insert((0, 0.0, BTreeSet::new()));
        t.0 += 1;
        t.1 = t.1.max(sev);
        t.2.insert(acct.clone());
        *per_account.entry(acct).or_default() += 1;
    }
    assert_eq!(sum["total"].as_u64().unwrap(), active.len() as u64);
    assert_eq!(
        [
            &sum["bySeverity"]["low"],
            &sum["bySeverity"]["medium"],
            &sum["bySeverity"]["high"],
            &sum["bySeverity"]["critical"]
        ]
        .map(|v| v.as_u64().unwrap()),
        by_label
    );
    assert_eq!(
        sum["accountsAffected"].as_u64().unwrap(),
        accounts.len() as u64
    );
    let distinct_keys: BTreeSet<&String> = resources.iter().map(|(_, k)| k).collect();
    let got = sum["resourcesAffected"].as_u64().unwrap();
    assert!(
        got == resources.len() as u64 || got == distinct_keys.len() as u64,
        "resources {got}"
    );
    let got_types: BTreeMap<String, (u64, f64, u64)> = sum["topFindingTypes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["type"].as_str().unwrap().to_string(),
                (
                    t["count"].as_u64().unwrap(),
                    t["maxSeverity"].as_f64().unwrap(),
                    t["accounts"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    let want_types: BTreeMap<String, (u64, f64, u64)> = types
        .into_iter()
        .map(|(k, (c, m, a))| (k, (c, m, a.len() as u64)))
        .collect();
    assert_eq!(got_types, want_types);
    let got_accounts: BTreeMap<String, u64> = sum["topAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["accountId"].as_str().unwrap().to_string(),
                a["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got_accounts, per_account);
}

#[tokio::test]
async fn limits_page_size_depth_and_body() {
    let s = TestServer::start().await;
    assert_eq!(
        s.error_code(
            Some(ADMIN),
            "{ findings(first: 501) { totalCount } }",
            json!(null)
        )
        .await,
        "PAGE_TOO_LARGE"
    );
    assert_eq!(
        s.error_code(
            Some(ADMIN),
            "{ findings(first: -1) { totalCount } }",
            json!(null)
        )
        .await,
        "BAD_USER_INPUT"
    );
    let deep = "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }";
    let code = s.error_code(Some(ADMIN), deep, json!(null)).await;
    assert_eq!(code, "QUERY_TOO_DEEP");
    // Body above max_body_bytes (16 KiB in the fixture config) is refused before parsing.
    let big = format!("{{ __typename }} # {}", "x".repeat(40_000));
    let resp = s
        .client
        .post(s.url("/graphql"))
        .bearer_auth(ADMIN)
        .json(&json!({"query": big}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 413);
    // ...with a JSON error and a code, like every refusal of /graphql (found by fuzzing).
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    // So is a query string the extractor refuses (`query` twice).
    let resp = s
        .client
        .get(s.url("/graphql?query=%7B__typename%7D&query=x"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_REQUEST");
    // Bad filter input names the argument.
    let (_, body) = s
        .post(
            Some(ADMIN),
            "{ findings(filter: {severityMin: 42}) { totalCount } }",
            json!(null),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("severityMin"));
}

const SET_TRIAGE: &str = r#"mutation($ids: [ID!], $status: TriageStatus!, $v: Int, $note: String) {
  setTriage(findingIds: $ids, status: $status, expectedVersion: $v, note: $note, assignee: "ana") { findingId status version updatedBy }
}"#;

#[tokio::test]
async fn triage_round_trip_rejects_stale_writes_and_respects_roles() {
    let mut s = TestServer::start().await;
    let f = active_fixture()
        .into_iter()
        .find(|f| f["accountId"] == "111111111111")
        .unwrap();
    let id = f["id"].as_str().unwrap();
    // Viewer may not triage.
    assert_eq!(
        s.error_code(
            Some(VIEWER_ALL),
            SET_TRIAGE,
            json!({"ids": [id], "status": "ACKNOWLEDGED", "v": 0})
        )
        .await,
        "FORBIDDEN"
    );
    // Triager scoped to 111 may; version goes 0 → 1.
    let d = s
        .data(
            TRIAGER_111,
            SET_TRIAGE,
            json!({"ids": [id], "status": "IN_PROGRESS", "v": 0, "note": "looking"}),
        )
        .await;
    assert_eq!(d["setTriage"][0]["version"], 1);
    assert_eq!(d["setTriage"][0]["updatedBy"], "triager-111");
    // The same expected version again is stale; nothing changes.
    assert_eq!(
        s.error_code(
            Some(TRIAGER_111),
            SET_TRIAGE,
            json!({"ids": [id], "status": "RESOLVED", "v": 0})
        )
        .await,
        "STALE_VERSION"
    );
    let q = "query($id: ID!) { finding(id: $id) { triage { status version note assignee } audit { actor action } } }";
    let d = s.data(ADMIN, q, json!({"id": id})).await;
    assert_eq!(d["finding"]["triage"]["status"], "IN_PROGRESS");
    assert_eq!(d["finding"]["triage"]["version"], 1);
    assert_eq!(d["finding"]["triage"]["note"], "looking");
    assert!(d["finding"]["audit"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["actor"] == "triager-111"));
    // The index sees the new status: filtering by triage status finds it.
    let d = s
        .data(
            ADMIN,
            "{ findings(filter: {triageStatus: [IN_PROGRESS]}) { totalCount nodes { id } } }",
            json!(null),
        )
        .await;
    assert_eq!(d["findings"]["totalCount"], 1);
    assert_eq!(d["findings"]["nodes"][0]["id"], id);
    // A finding outside the triager's scope reads as unknown.
    let other = active_fixture()
        .into_iter()
        .find(|f| f["accountId"] == "222222222222")
        .unwrap();
    assert_eq!(
        s.error_code(
            Some(TRIAGER_111),
            SET_TRIAGE,
            json!({"ids": [other["id"]], "status": "RESOLVED"})
        )
        .await,
        "NOT_FOUND"
    );
    // Kept across a restart: reopen the same data dir.
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    let config = gdlens_api::Config::load(&fixture("config.toml")).unwrap();
    let s2 = TestServer::start_in(dir, config, None, "").await;
    let d = s2.data(ADMIN, q, json!({"id": id})).await;
    assert_eq!(d["finding"]["triage"]["status"], "IN_PROGRESS");
}

const LINK: &str = r#"mutation($ids: [ID!], $group: ID) {
  linkTicket(findingIds: $ids, groupId: $group, system: "jira", key: "SEC-1", url: "https://jira.example/SEC-1") { findingId key }
}"#;

#[tokio::test]
async fn ticket_links_are_idempotent_and_audited() {
    let s = TestServer::start().await;
    let f = active_fixture()
        .into_iter()
        .find(|f| f["accountId"] == "111111111111")
        .unwrap();
    let id = f["id"].as_str().unwrap();
    s.data(TRIAGER_111, LINK, json!({"ids": [id]})).await;
    s.data(TRIAGER_111, LINK, json!({"ids": [id]})).await;
    let d = s
        .data(ADMIN, "query($id: ID!) { finding(id: $id) { ticketLinks { system key url createdBy } audit { action } } }", json!({"id": id}))
        .await;
    assert_eq!(d["finding"]["ticketLinks"].as_array().unwrap().len(), 1);
    assert_eq!(d["finding"]["ticketLinks"][0]["createdBy"], "triager-111");
    let n = d["finding"]["audit"].as_array().unwrap().len();
    assert!(n >= 1);
    assert_eq!(
        s.error_code(Some(VIEWER_ALL), LINK, json!({"ids": [id]}))
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        s.error_code(Some(ADMIN), LINK, json!({"ids": null, "group": null}))
            .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn write_back_needs_admin_and_configuration_and_reports_failure() {
    let s = TestServer::start().await;
    let id = active_fixture()[0]["id"].clone();
    let q = "mutation($ids: [ID!]!) { archiveFindings(findingIds: $ids) { findingIds } }";
    assert_eq!(
        s.error_code(Some(ADMIN), q, json!({"ids": [id]})).await,
        "NOT_CONFIGURED"
    );
    drop(s);

    let wb = Arc::new(RecordingWriteBack::default());
    let s = TestServer::start_with(Some(wb.clone()), "findings.ndjson").await;
    assert_eq!(
        s.error_code(Some(TRIAGER_111), q, json!({"ids": [id]}))
            .await,
        "FORBIDDEN"
    );
    let d = s.data(ADMIN, q, json!({"ids": [id]})).await;
    assert_eq!(d["archiveFindings"]["findingIds"][0], id);
    assert_eq!(wb.calls.load(Ordering::SeqCst), 1);
    let target = wb.last.lock().unwrap()[0].clone();
    assert!(target.detector_id.starts_with('d') && !target.region.is_empty());
    wb.fail.store(true, Ordering::SeqCst);
    let (_, body) = s
        .post(Some(ADMIN), "mutation($ids: [ID!]!) { sendFeedback(findingIds: $ids, feedback: NOT_USEFUL) { findingIds } }", json!({"ids": [id]}))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "UPSTREAM_ERROR");
    assert!(
        !body.to_string().contains("secret internal detail"),
        "internal detail leaked: {body}"
    );
}

#[tokio::test]
async fn graphql_over_http_get_post_and_media_types() {
    let s = TestServer::start().await;
    // GET query.
    let resp = s
        .client
        .get(s.url("/graphql"))
        .query(&[
            (
                "query",
                "query($n: Int) { findings(first: $n) { totalCount } }",
            ),
            ("variables", "{\"n\": 1}"),
        ])
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = resp.json().await.unwrap();
    assert!(body["data"]["findings"]["totalCount"].as_u64().unwrap() > 0);
    // GET mutation is refused.
    let resp = s
        .client
        .get(s.url("/graphql"))
        .query(&[(
            "query",
            "mutation { linkTicket(findingIds: [\"x\"], system: \"a\", key: \"b\") { key } }",
        )])
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 405);
    // application/graphql-response+json: content type echoed, request errors are 4xx.
    let resp = s
        .client
        .post(s.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(ADMIN)
        .json(&json!({"query": "{ __typename }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["content-type"],
        "application/graphql-response+json"
    );
    assert_eq!(
        resp.json::<Value>().await.unwrap()["data"]["__typename"],
        "Query"
    );
    let resp = s
        .client
        .post(s.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(ADMIN)
        .json(&json!({"query": "{ nope "}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let resp = s
        .client
        .post(s.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .bearer_auth(ADMIN)
        .json(&json!({"query": "{ noSuchField }"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    // Same with application/json: 200 with errors.
    let (status, body) = s.post(Some(ADMIN), "{ noSuchField }", json!(null)).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    // application/graphql body.
    let resp = s
        .client
        .post(s.url("/graphql"))
        .header("content-type", "application/graphql")
        .bearer_auth(ADMIN)
        .body("{ __typename }")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.json::<Value>().await.unwrap()["data"]["__typename"],
        "Query"
    );
}

#[tokio::test]
async fn ops_routes_and_web_fallback() {
    let s = TestServer::start().await;
    assert_eq!(
        s.client
            .get(s.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        s.client
            .get(s.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    // Warm a cache, then read the metrics.
    for _ in 0..2 {
        s.data(ADMIN, "{ summary { total } }", json!(null)).await;
    }
    let m = s
        .client
        .get(s.url("/metrics"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains("gdlens_http_requests_total{route=\"graphql\"}"),
        "{m}"
    );
    assert!(
        m.contains("gdlens_cache_hits_total{cache=\"responses\"} 1"),
        "{m}"
    );
    assert!(m.contains("gdlens_findings 89"), "{m}");
    assert!(m.contains("gdlens_store_bytes"), "{m}");
    let html = s
        .client
        .get(s.url("/graphiql"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.to_lowercase().contains("graphiql"));
    let page = s.client.get(s.url("/some/spa/route")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
}

#[tokio::test]
async fn new_generation_makes_cached_answers_unreachable() {
    let s = TestServer::start().await;
    let q = "{ summary { total } }";
    let before = s.data(ADMIN, q, json!(null)).await["summary"]["total"]
        .as_u64()
        .unwrap();
    let again = s.data(ADMIN, q, json!(null)).await["summary"]["total"]
        .as_u64()
        .unwrap();
    assert_eq!(before, again);
    let added = s
        .state
        .ingest(fixture_records("more_findings.ndjson"))
        .await
        .unwrap();
    assert!(added.changed > 0);
    let after = s.data(ADMIN, q, json!(null)).await["summary"]["total"]
        .as_u64()
        .unwrap();
    assert!(
        after > before,
        "cached summary served after new data: {before} → {after}"
    );
}

#[tokio::test]
async fn custom_weights_rank_like_the_scoring_crate() {
    let s = TestServer::start().await;
    let q = r#"query($w: WeightsInput) { findings(first: 500, weights: $w) { nodes { id score { value factors { name contribution } } } } }"#;
    let d = s.data(ADMIN, q, json!({"w": {"severity": 0, "criticality": 100, "rarity": 0, "recency": 0, "count": 0, "exposure": 0, "group": 0}})).await;
    let nodes = d["findings"]["nodes"].as_array().unwrap();
    for w in nodes.windows(2) {
        let (a, b) = (
            w[0]["score"]["value"].as_f64().unwrap(),
            w[1]["score"]["value"].as_f64().unwrap(),
        );
        assert!(a > b || (a == b && w[0]["id"].as_str() < w[1]["id"].as_str()));
    }
    // Only criticality contributes.
    for n in nodes {
        for f in n["score"]["factors"].as_array().unwrap() {
            if f["name"] != "criticality" {
                assert_eq!(f["contribution"].as_f64().unwrap(), 0.0, "{n}");
            }
        }
    }
    assert_eq!(
        s.error_code(Some(ADMIN), q, json!({"w": {"severity": -1}}))
            .await,
        "BAD_USER_INPUT"
    );
    // scoringFeatures carries the WASM input shape for the same findings.
    let d = s.data(ADMIN, "{ scoringFeatures }", json!(null)).await;
    let p = &d["scoringFeatures"];
    let n = p["ids"].as_array().unwrap().len();
    assert_eq!(n, active_fixture().len());
    assert_eq!(p["features"]["severity"].as_array().unwrap().len(), n);
    assert_eq!(p["codes"]["findingType"].as_array().unwrap().len(), n);
    assert!(p["nowMs"].as_i64().unwrap() > 0);
    assert_eq!(p["defaultWeights"]["severity"], 40.0);
}

#[tokio::test]
async fn cors_allows_configured_origins_only() {
    let s = TestServer::start().await;
    let preflight = |origin: &'static str| {
        s.client
            .request(reqwest::Method::OPTIONS, s.url("/graphql"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization,content-type",
            )
            .send()
    };
    let ok = preflight("https://portal.example").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://portal.example"
    );
    let other = preflight("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[tokio::test]
async fn no_tokens_means_loopback_only() {
    let dir = tempfile::tempdir().unwrap();
    let store = gdlens_store::Store::open(dir.path()).unwrap();
    let state = Arc::new(gdlens_api::AppState::new(
        gdlens_api::Config::default(),
        Arc::new(gdlens_api::adapters::StoreAdapter::new(store)),
        gdlens_groups::Correlator::new(Default::default()),
        None,
    ));
    let public: std::net::SocketAddr = "0.0.0.0:0".parse().unwrap();
    let err = gdlens_api::serve(state.clone(), public, async {})
        .await
        .unwrap_err();
    assert!(
        matches!(err, gdlens_api::ServeError::NoAuthOnPublicAddress(_)),
        "{err}"
    );
    assert!(err.to_string().contains("without authentication"));
    assert!(gdlens_api::check_listen(&state, "127.0.0.1:0".parse().unwrap()).is_ok());
    // Without tokens every request is the local admin.
    let app = gdlens_api::router(state.clone());
    use tower::ServiceExt as _;
    let resp = app
        .oneshot(
            axum::http::Request::post("/graphql")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(
                    r#"{"query":"{ viewer { name role } }"}"#,
                ))
                .unwrap(),
        )
        .await
        .unwrap();
    let body = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["data"]["viewer"]["role"], "admin");
}
