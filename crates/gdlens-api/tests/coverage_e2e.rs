//! Coverage end to end: the real aws-sdk-guardduty syncs the local fixture (ListMembers,
//! GetMemberDetectors, GetDetector) into the real store, and the real router serves the matrix
//! over HTTP — gaps first, names and criticality from the account config, and a scoped caller
//! seeing its own accounts only.

mod common;

use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use common::TestServer;
use gdlens_aws::{AwsConfig, AwsSource, SyncSink};
use gdlens_aws_fixture::{default_features, spawn, FixtureServer};
use serde_json::{json, Value};

const ADMIN: &str = "999999999999";

fn member(id: &str, status: &str) -> Value {
    json!({"accountId": id, "detectorId": "d", "administratorId": ADMIN, "email": format!("{id}@example.com"),
           "relationshipStatus": status, "invitedAt": "2024-01-01T00:00:00.000Z",
           "updatedAt": "2024-01-02T00:00:00.000Z"})
}

/// Syncs a two-region organization into the store under `dir`: in us-east-1 the administrator,
/// 111111111111 with runtime monitoring off, 222222222222 only invited, 333333333333 fully
/// covered; eu-west-1 without a detector.
async fn sync_organization(dir: &std::path::Path) {
    let mut runtime_off = default_features("ENABLED");
    runtime_off[8]["status"] = json!("DISABLED");
    let state = FixtureServer::builder()
        .region("us-east-1", None, vec![])
        .members(
            "us-east-1",
            vec![
                member("111111111111", "Enabled"),
                member("222222222222", "Invited"),
                member("333333333333", "Enabled"),
            ],
        )
        .member_features("us-east-1", "111111111111", runtime_off)
        .member_features("us-east-1", "333333333333", default_features("ENABLED"))
        .no_detector("eu-west-1")
        .build();
    let fixture = spawn(state).await.unwrap();
    let config = AwsConfig {
        regions: vec!["us-east-1".into(), "eu-west-1".into()],
        max_requests_per_second: 1000.0,
        endpoint_url_guardduty: Some(fixture.endpoint_url()),
        endpoint_url_detective: Some(fixture.endpoint_url()),
        detective: false,
        initial_backoff_ms: 5,
        ..AwsConfig::default()
    };
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            "AKIDGDLENSTEST",
            "gdlens-test-secret",
            None,
            None,
            "test",
        ))
        .region(Region::new("us-east-1"))
        .load()
        .await;
    let source = AwsSource::with_sdk_config(config, sdk);
    let store = Arc::new(gdlens_store::Store::open(dir).unwrap());
    let report = source.sync(store as Arc<dyn SyncSink>, None, None).await;
    assert_eq!(report.succeeded().count(), 1, "{}", report.table());
}

const MATRIX: &str = "query($f: CoverageFilter) { coverageMatrix(filter: $f) {
    regions { region checkedAt lastSyncAt errorCode error }
    accounts { accountId name criticality administrator gapCount
      cells { region state detectorPresent relationshipStatus plansEnabled plansDisabled
              features { name status additional } gaps { kind plan } checkedAt lastSyncAt } }
    totals { accounts regions cells covered partial notEnabled gapsByPlan { plan cells } } } }";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn synced_coverage_is_served_gaps_first_and_scoped() {
    let dir = tempfile::tempdir().unwrap();
    sync_organization(dir.path()).await;
    let config = gdlens_api::config::Config::load(&common::fixture("config.toml")).unwrap();
    let server = TestServer::start_in(dir, config, None, "").await;

    let m = &server.data("admin-secret", MATRIX, json!({})).await["coverageMatrix"];
    let regions: Vec<&str> = m["regions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap())
        .collect();
    assert_eq!(regions, ["eu-west-1", "us-east-1"]);
    assert_eq!(m["regions"][0]["errorCode"], "no_detector");
    assert!(m["regions"][0]["error"]
        .as_str()
        .unwrap()
        .contains("eu-west-1"));
    assert!(m["regions"][1]["lastSyncAt"].is_string());

    let accounts = m["accounts"].as_array().unwrap();
    let ids: Vec<&str> = accounts
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    // Not enabled anywhere first, then by gaps, criticality, id.
    assert_eq!(ids, ["222222222222", "111111111111", "333333333333", ADMIN]);
    let invited = &accounts[0];
    assert_eq!(invited["name"], "dev-sandbox");
    assert_eq!(invited["criticality"], "low");
    let cell = &invited["cells"][1];
    assert_eq!(cell["state"], "NOT_ENABLED");
    assert_eq!(cell["relationshipStatus"], "Invited");
    assert_eq!(cell["detectorPresent"], false);
    assert_eq!(cell["gaps"], json!([{"kind": "NOT_ENABLED", "plan": null}]));
    assert_eq!(
        invited["cells"][0]["gaps"],
        json!([{"kind": "NO_DETECTOR", "plan": null}])
    );

    let partial = &accounts[1]["cells"][1];
    assert_eq!(partial["state"], "PARTIAL");
    assert_eq!(partial["plansDisabled"], json!(["RUNTIME_MONITORING"]));
    assert_eq!(partial["plansEnabled"].as_array().unwrap().len(), 5);
    assert_eq!(
        partial["gaps"],
        json!([{"kind": "PLAN_OFF", "plan": "RUNTIME_MONITORING"}])
    );
    let runtime = partial["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "RUNTIME_MONITORING")
        .unwrap();
    assert_eq!(runtime["additional"][0], "EKS_ADDON_MANAGEMENT=ENABLED");
    assert_eq!(accounts[2]["cells"][1]["state"], "COVERED");
    assert_eq!(accounts[3]["administrator"], true);
    assert_eq!(accounts[3]["cells"][1]["state"], "COVERED");

    let totals = &m["totals"];
    assert_eq!(
        (totals["accounts"].as_u64(), totals["cells"].as_u64()),
        (Some(4), Some(8))
    );
    assert_eq!(
        (
            totals["covered"].as_u64(),
            totals["partial"].as_u64(),
            totals["notEnabled"].as_u64()
        ),
        (Some(2), Some(1), Some(5))
    );
    assert_eq!(
        totals["gapsByPlan"],
        json!([{"plan": "RUNTIME_MONITORING", "cells": 1}])
    );

    // gapsOnly and a region filter.
    let f = json!({"f": {"regions": ["us-east-1"], "gapsOnly": true}});
    let m = &server.data("admin-secret", MATRIX, f).await["coverageMatrix"];
    let ids: Vec<&str> = m["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["222222222222", "111111111111"]);

    // A scoped caller: its account only, no other account anywhere in the answer, no error text.
    let (status, body) = server
        .post(Some("triager-111-secret"), MATRIX, json!({}))
        .await;
    assert_eq!(status, 200);
    let text = body.to_string();
    for other in ["222222222222", "333333333333", ADMIN] {
        assert!(!text.contains(other), "{other} leaked: {text}");
    }
    let m = &body["data"]["coverageMatrix"];
    assert_eq!(m["accounts"].as_array().unwrap().len(), 1);
    assert_eq!(m["totals"]["cells"], 2);
    assert_eq!(m["regions"][0]["error"], Value::Null);
    // Asking for another account gives nothing.
    let f = json!({"f": {"accountIds": ["333333333333"]}});
    let m = &server.data("triager-111-secret", MATRIX, f).await["coverageMatrix"];
    assert_eq!(m["accounts"], json!([]));

    // Too many values is the caller's mistake, with a stable code.
    let many: Vec<String> = (0..501).map(|i| format!("{i:012}")).collect();
    let code = server
        .error_code(
            Some("admin-secret"),
            MATRIX,
            json!({"f": {"accountIds": many}}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
}
