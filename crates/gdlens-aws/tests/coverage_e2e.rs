//! End to end: coverage through the real aws-sdk-guardduty against the local fixture — ListMembers,
//! GetMemberDetectors in chunks of 50, GetDetector for the administrator — recorded in the real
//! store; and a failing coverage call that leaves the findings sync alone but shows in the data.

mod common;

use std::sync::Arc;

use gdlens_aws::SyncSink;
use gdlens_aws_fixture::{
    default_features, spawn, FaultKind, FaultRule, FixtureServer, FixtureState, Operation,
};
use gdlens_domain::coverage::{CoverageState, GapKind};
use gdlens_store::Store;
use serde_json::{json, Value};

const ADMIN: &str = "999999999999";

fn member(id: &str, status: &str) -> Value {
    json!({"accountId": id, "detectorId": "d", "administratorId": ADMIN, "masterId": ADMIN,
           "email": format!("{id}@example.com"), "relationshipStatus": status,
           "invitedAt": "2024-01-01T00:00:00.000Z", "updatedAt": "2024-01-02T00:00:00.000Z"})
}

fn account(i: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + i as u64)
}

/// us-east-1: 55 members (two GetMemberDetectors calls), member 3 with runtime monitoring off,
/// member 7 only invited, every other member with every plan on; the administrator with Lambda
/// network logs off. eu-west-1: no detector.
fn organization() -> FixtureState {
    let mut members: Vec<Value> = (0..55).map(|i| member(&account(i), "Enabled")).collect();
    members[7] = member(&account(7), "Invited");
    let mut builder = FixtureServer::builder()
        .region("us-east-1", None, common::findings("us-east-1", 10))
        .members("us-east-1", members)
        .no_detector("eu-west-1");
    for i in (0..55).filter(|i| *i != 7) {
        let mut features = default_features("ENABLED");
        if i == 3 {
            features[8]["status"] = json!("DISABLED"); // RUNTIME_MONITORING
        }
        builder = builder.member_features("us-east-1", &account(i), features);
    }
    let mut admin = default_features("ENABLED");
    admin[7]["status"] = json!("DISABLED"); // LAMBDA_NETWORK_LOGS
    builder.detector_features("us-east-1", admin).build()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sync_records_one_coverage_row_per_account_and_region() {
    let state = organization();
    let fixture = spawn(state.clone()).await.unwrap();
    let source = common::source(common::config(
        &fixture.endpoint_url(),
        &["us-east-1", "eu-west-1"],
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let report = source
        .sync(store.clone() as Arc<dyn SyncSink>, None, None)
        .await;
    assert!(report.regions[0].error.is_none());
    assert_eq!(state.request_count(Operation::GetMemberDetectors), 2);
    assert_eq!(state.request_count(Operation::GetDetector), 1);

    let coverage = store.coverage().unwrap();
    assert_eq!(coverage.len(), 2);
    let west = &coverage[0];
    assert_eq!(west.region, "eu-west-1");
    assert_eq!(west.error_code.as_deref(), Some("no_detector"));
    assert!(west.rows.is_empty());

    let east = &coverage[1];
    assert_eq!(east.error_code, None);
    assert_eq!(east.rows.len(), 56, "55 members and the administrator");
    let row = |id: &str| east.rows.iter().find(|r| r.account_id == id).unwrap();
    let admin = row(ADMIN);
    assert!(admin.administrator && admin.detector_present);
    assert_eq!(admin.plans_off(), ["LAMBDA_NETWORK_LOGS"]);
    assert_eq!(row(&account(0)).state(), CoverageState::Covered);
    assert_eq!(row(&account(54)).state(), CoverageState::Covered);
    assert_eq!(row(&account(3)).plans_off(), ["RUNTIME_MONITORING"]);
    let runtime = row(&account(3))
        .features
        .iter()
        .find(|f| f.name == "RUNTIME_MONITORING")
        .unwrap()
        .clone();
    assert_eq!(runtime.additional.len(), 3, "additional configuration kept");
    let invited = row(&account(7));
    assert_eq!(invited.relationship_status.as_deref(), Some("Invited"));
    assert!(!invited.detector_present, "GuardDuty left it unprocessed");
    assert_eq!(invited.gaps()[0].kind, GapKind::NotEnabled);
    assert!(east.rows.iter().all(|r| r.checked_at == east.checked_at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_coverage_call_never_fails_the_findings_sync_but_shows() {
    let state = organization();
    state.add_fault(
        FaultRule::new(FaultKind::ServerError, 1)
            .operation(Operation::GetMemberDetectors)
            .region("us-east-1"),
    );
    let fixture = spawn(state.clone()).await.unwrap();
    let source = common::source(common::config(&fixture.endpoint_url(), &["us-east-1"])).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let report = source
        .sync(store.clone() as Arc<dyn SyncSink>, None, None)
        .await;
    let region = &report.regions[0];
    assert!(region.error.is_none(), "{:?}", region.error);
    assert_eq!(region.fetched, 10);

    let coverage = store.coverage().unwrap();
    let east = &coverage[0];
    assert_eq!(east.error_code.as_deref(), Some("server_error"));
    assert!(east
        .error_message
        .as_deref()
        .unwrap()
        .starts_with("GetMemberDetectors:"));
    // Members still show with their relationship, without a detector to report.
    assert_eq!(east.rows.len(), 56);
    assert!(east
        .rows
        .iter()
        .filter(|r| !r.administrator)
        .all(|r| !r.detector_present));

    // The next check, with GuardDuty answering again, replaces the region's coverage.
    state.clear_faults();
    source
        .sync(store.clone() as Arc<dyn SyncSink>, None, None)
        .await;
    let east = &store.coverage().unwrap()[0];
    assert_eq!(east.error_code, None);
    assert_eq!(east.rows.iter().filter(|r| r.detector_present).count(), 55);
}
