//! Issue 17 through the real router: suppression suggestions, dry runs over the whole history,
//! rules saved, listed, exported and deleted; scope and roles; stable error codes. The data is
//! findings.ndjson (with its finding groups) plus noise.ndjson (planted recurring noise).

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};

async fn server() -> TestServer {
    let s = TestServer::start().await;
    s.state
        .ingest(fixture_records("noise.ndjson"))
        .await
        .unwrap();
    s
}

const SUGGESTIONS: &str = "query($l: Int) { suppressionSuggestions(limit: $l) {
    id description criteria findingCount bySeverity { low medium high critical } accounts
    hiddenHighOrAbove hiddenGroupMembers safe warning noiseShare sample(limit: 3) { id accountId }
    dryRun { scanned noiseTotal byAccount { accountId findingCount } } } }";

fn sandbox(list: &Value) -> Option<&Value> {
    list.as_array().unwrap().iter().find(|s| {
        s["criteria"]["criterion"]["resource.instanceDetails.tags.value"]["equals"]
            == json!(["sandbox"])
    })
}

/// Every finding (both fixture files) as JSON: the independent side of the checks.
fn all_json() -> Vec<Value> {
    let mut v = fixture_json("findings.ndjson");
    v.extend(fixture_json("noise.ndjson"));
    v
}

#[tokio::test]
async fn planted_noise_is_suggested_with_an_exact_dry_run() {
    let s = server().await;
    let d = s.data(ADMIN, SUGGESTIONS, json!({"l": 10})).await;
    let list = &d["suppressionSuggestions"];
    let top = sandbox(list).expect("the planted sandbox pattern is suggested");
    assert_eq!(top["findingCount"], 42);
    assert_eq!(
        top["bySeverity"],
        json!({"low": 42, "medium": 0, "high": 0, "critical": 0})
    );
    assert_eq!(top["safe"], true);
    assert_eq!(top["warning"], Value::Null);
    assert_eq!(
        (
            top["hiddenHighOrAbove"].as_u64(),
            top["hiddenGroupMembers"].as_u64()
        ),
        (Some(0), Some(0))
    );
    let accounts: BTreeSet<&str> = top["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(
        accounts,
        BTreeSet::from(["111111111111", "222222222222", "333333333333"])
    );
    assert_eq!(top["sample"].as_array().unwrap().len(), 3);
    assert!(top["sample"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["id"].as_str().unwrap().ends_with("sbx")));
    // The dry run scanned the whole history, not a page.
    assert_eq!(
        top["dryRun"]["scanned"].as_u64().unwrap() as usize,
        all_json().len()
    );
    let noise = all_json()
        .iter()
        .filter(|f| {
            f["severity"].as_f64().unwrap() < 7.0 && f["service"]["archived"] != json!(true)
        })
        .count();
    assert_eq!(
        top["dryRun"]["noiseTotal"].as_u64().unwrap() as usize,
        noise
    );
    assert!((top["noiseShare"].as_f64().unwrap() - 42.0 / noise as f64).abs() < 1e-9);
    // The one-day burst is not recurring noise.
    for x in list.as_array().unwrap() {
        assert_ne!(
            x["criteria"]["criterion"]["type"]["equals"],
            json!(["Behavior:EC2/NetworkPortUnusual"])
        );
        assert_eq!(
            x["safe"],
            x["hiddenHighOrAbove"] == 0 && x["hiddenGroupMembers"] == 0
        );
    }
}

#[tokio::test]
async fn a_scoped_caller_sees_only_its_accounts() {
    let s = server().await;
    let (status, body) = s
        .post(Some(VIEWER_222_333), SUGGESTIONS, json!({"l": 10}))
        .await;
    assert_eq!(status, 200);
    let text = body.to_string();
    // (Quoted: a float such as 0.3111111111111111 holds the digits too.)
    assert!(
        !text.contains("\"111111111111\""),
        "another account leaked: {text}"
    );
    assert!(!text.contains("arn:aws:guardduty:us-east-1:111111111111"));
    let top = sandbox(&body["data"]["suppressionSuggestions"]).expect("suggested in scope too");
    assert_eq!(top["findingCount"], 28);
    // Its rule would archive nothing beyond its accounts.
    assert_eq!(
        top["criteria"]["criterion"]["accountId"]["equals"],
        json!(["222222222222", "333333333333"])
    );
    let d = s
        .data(
            VIEWER_222_333,
            "query($c: JSON!) { dryRunSuppression(criteria: $c) { findingCount accounts scanned } }",
            json!({"c": {"criterion": {"resource.instanceDetails.tags.value": {"equals": ["sandbox"]}}}}),
        )
        .await;
    assert_eq!(d["dryRunSuppression"]["findingCount"], 28);
    assert_eq!(
        d["dryRunSuppression"]["accounts"],
        json!(["222222222222", "333333333333"])
    );
    let visible = all_json()
        .iter()
        .filter(|f| f["accountId"] != "111111111111")
        .count();
    assert_eq!(
        d["dryRunSuppression"]["scanned"].as_u64().unwrap() as usize,
        visible
    );
}

#[tokio::test]
async fn a_dry_run_that_hides_group_members_or_high_findings_says_so() {
    let s = server().await;
    let g = s
        .data(
            ADMIN,
            "{ findingGroups(first: 1) { nodes { findings { id } } } }",
            json!({}),
        )
        .await;
    let member = g["findingGroups"]["nodes"][0]["findings"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let d = s
        .data(
            ADMIN,
            "query($c: JSON!) { dryRunSuppression(criteria: $c) { findingCount hiddenGroupMembers safe warning hidden { id reason } } }",
            json!({"c": {"criterion": {"id": {"equals": [member]}}}}),
        )
        .await;
    let r = &d["dryRunSuppression"];
    assert_eq!(
        (r["findingCount"].as_u64(), r["hiddenGroupMembers"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(r["safe"], false);
    assert!(r["warning"].as_str().unwrap().starts_with("NOT SAFE"));
    assert_eq!(r["hidden"][0]["id"], member.as_str());

    // High and above, counted independently from the fixture JSON.
    let all = all_json();
    let expected_high = all
        .iter()
        .filter(|f| f["severity"].as_f64().unwrap() >= 7.0)
        .count();
    assert!(expected_high > 0);
    let d = s
        .data(
            ADMIN,
            "query($c: JSON!) { dryRunSuppression(criteria: $c) { findingCount hiddenHighOrAbove bySeverity { high critical } safe } }",
            json!({"c": {"criterion": {"severity": {"greaterThanOrEqual": 7}}}}),
        )
        .await;
    let r = &d["dryRunSuppression"];
    assert_eq!(r["findingCount"].as_u64().unwrap() as usize, expected_high);
    assert_eq!(
        r["hiddenHighOrAbove"].as_u64().unwrap() as usize,
        expected_high
    );
    assert_eq!(
        (r["bySeverity"]["high"].as_u64().unwrap() + r["bySeverity"]["critical"].as_u64().unwrap())
            as usize,
        expected_high
    );
    assert_eq!(r["safe"], false);
}

#[tokio::test]
async fn invalid_criteria_have_stable_codes() {
    let s = server().await;
    let q = "query($c: JSON!) { dryRunSuppression(criteria: $c) { findingCount } }";
    let values: Vec<String> = (0..51).map(|i| format!("{i:012}")).collect();
    let (_, body) = s
        .post(
            Some(ADMIN),
            q,
            json!({"c": {"criterion": {"accountId": {"equals": values}}}}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_CRITERIA");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("CRITERIA_TOO_MANY_VALUES"));
    let (_, body) = s
        .post(
            Some(ADMIN),
            q,
            json!({"c": {"criterion": {"type": {"like": ["x"]}}}}),
        )
        .await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("CRITERIA_UNKNOWN_OPERATOR"));
    assert_eq!(
        s.error_code(
            Some(ADMIN),
            "{ suppressionSuggestions(limit: 51) { id } }",
            json!({})
        )
        .await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn rules_are_saved_listed_exported_dry_run_and_deleted() {
    let s = server().await;
    let create = "mutation($i: SuppressionRuleInput!) { createSuppressionRule(input: $i) { id name origin region rank criteria } }";
    let criteria = json!({"criterion": {
        "type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]},
        "severity": {"lessThan": 7},
        "resource.instanceDetails.tags.value": {"equals": ["sandbox"]}}});
    let input = json!({"i": {"name": "sandbox-port-probes", "description": "planted noise", "criteria": criteria, "rank": 2}});
    // Only an org-wide admin may save rules.
    assert_eq!(
        s.error_code(Some(VIEWER_222_333), create, input.clone())
            .await,
        "FORBIDDEN"
    );
    assert_eq!(
        s.error_code(Some(TRIAGER_111), create, input.clone()).await,
        "FORBIDDEN"
    );
    let bad = json!({"i": {"name": "no spaces", "criteria": criteria}});
    let (_, body) = s.post(Some(ADMIN), create, bad).await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "INVALID_CRITERIA");
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("RULE_BAD_NAME"));

    let d = s.data(ADMIN, create, input).await;
    let rule = &d["createSuppressionRule"];
    assert_eq!(
        (
            rule["origin"].as_str(),
            rule["region"].as_str(),
            rule["rank"].as_u64()
        ),
        (Some("GDLENS"), None, Some(2))
    );
    assert_eq!(rule["criteria"], criteria);
    let id = rule["id"].as_str().unwrap().to_string();

    let list = "{ suppressionRules { id name dryRun { findingCount safe }
        gd: export(format: GUARDDUTY, detectorId: \"d1\") tf: export(format: TERRAFORM) cfn: export(format: CLOUDFORMATION) } }";
    let d = s.data(ADMIN, list, json!({})).await;
    let r = &d["suppressionRules"][0];
    assert_eq!(r["dryRun"]["findingCount"], 42);
    assert_eq!(r["dryRun"]["safe"], true);
    let gd: Value = serde_json::from_str(r["gd"].as_str().unwrap()).unwrap();
    assert_eq!(
        (
            gd["action"].as_str(),
            gd["detectorId"].as_str(),
            gd["rank"].as_u64()
        ),
        (Some("ARCHIVE"), Some("d1"), Some(2))
    );
    assert_eq!(gd["findingCriteria"], criteria);
    assert!(r["tf"]
        .as_str()
        .unwrap()
        .contains("resource \"aws_guardduty_filter\" \"sandbox_port_probes\""));
    let cfn: Value = serde_json::from_str(r["cfn"].as_str().unwrap()).unwrap();
    assert_eq!(
        cfn["Resources"]["Filtersandboxportprobes"]["Type"],
        "AWS::GuardDuty::Filter"
    );

    // An org-wide rule is not shown to a scoped caller (its criteria may name others' resources).
    let d = s
        .data(VIEWER_222_333, "{ suppressionRules { id } }", json!({}))
        .await;
    assert_eq!(d["suppressionRules"], json!([]));

    let del = "mutation($id: ID!) { deleteSuppressionRule(id: $id) }";
    assert_eq!(
        s.error_code(Some(VIEWER_222_333), del, json!({"id": id}))
            .await,
        "FORBIDDEN"
    );
    let d = s.data(ADMIN, del, json!({"id": id})).await;
    assert_eq!(d["deleteSuppressionRule"], true);
    assert_eq!(
        s.error_code(Some(ADMIN), del, json!({"id": id})).await,
        "NOT_FOUND"
    );
    let d = s
        .data(ADMIN, "{ suppressionRules { id } }", json!({}))
        .await;
    assert_eq!(d["suppressionRules"], json!([]));
}
