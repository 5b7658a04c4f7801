//! Suppression rules end to end: the real aws-sdk-guardduty client applies a rule to the local
//! fixture in every region (CreateFilter, then UpdateFilter), the fixture archives new findings
//! at birth by the filter's criteria, the findings are synced into the real store, and the dry
//! run of the same criteria over the store's whole history names exactly the archived findings.
//! Then the filters are synced back (ListFilters + GetFilter), GuardDuty's limit of 100 filters
//! is enforced, and DeleteFilter removes them.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use gdlens_aws::{ErrorCode, FilterChange, SyncSink};
use gdlens_aws_fixture::{spawn, FixtureState};
use gdlens_store::Store;
use gdlens_suppress::{DryRun, FilterAction, FindingCriteria, SuppressionRule};
use serde_json::{json, Value};

const REGIONS: [&str; 2] = ["us-east-1", "eu-west-1"];

fn graphql_fixture(name: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/graphql/fixtures")
        .join(name);
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn rule(name: &str, rank: u32) -> SuppressionRule {
    SuppressionRule {
        name: name.into(),
        description: Some("planted sandbox noise".into()),
        action: FilterAction::Archive,
        rank,
        criteria: FindingCriteria::parse(&json!({"criterion": {
            "type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]},
            "severity": {"lessThan": 7},
            "resource.instanceDetails.tags.value": {"equals": ["sandbox"]}}}))
        .unwrap(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_names_exactly_what_the_applied_filter_archives() {
    let state = FixtureState::builder()
        .region("us-east-1", None, Vec::new())
        .region("eu-west-1", None, Vec::new())
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let mut config = common::config(&fixture.endpoint_url(), &REGIONS);
    config.detective = false;
    config.lag_seconds = 0;
    let source = common::source(config).await;

    // Apply: created in every region, then updated in place.
    for r in source
        .apply_filter_everywhere(&rule("sandbox-probes", 1), "admin")
        .await
    {
        assert_eq!(r.result, Ok(FilterChange::Created), "{}", r.region);
    }
    for r in source
        .apply_filter_everywhere(&rule("sandbox-probes", 2), "admin")
        .await
    {
        assert_eq!(r.result, Ok(FilterChange::Updated), "{}", r.region);
    }

    // New findings arrive: GuardDuty (the fixture) archives the matching ones at birth.
    let mut all = graphql_fixture("findings.ndjson");
    all.extend(graphql_fixture("noise.ndjson"));
    for f in &all {
        state.put_finding(f["region"].as_str().unwrap(), f.clone());
    }
    let mut archived_by_fixture = BTreeSet::new();
    for f in &all {
        let (region, id) = (f["region"].as_str().unwrap(), f["id"].as_str().unwrap());
        if state.finding(region, id).unwrap()["service"]["archived"] == json!(true) {
            archived_by_fixture.insert(id.to_string());
        }
    }
    let already: BTreeSet<String> = all
        .iter()
        .filter(|f| f["service"]["archived"] == json!(true))
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    let newly: BTreeSet<String> = archived_by_fixture.difference(&already).cloned().collect();
    assert_eq!(newly.len(), 42, "the planted sandbox noise");

    // Sync into the real store, then dry-run the same criteria over its whole history.
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let sink: Arc<dyn SyncSink> = store.clone();
    let report = source.sync(sink, None, None).await;
    assert!(
        report.regions.iter().all(|r| r.error.is_none()),
        "{report:?}"
    );
    let mut run = DryRun::new(rule("sandbox-probes", 2).criteria);
    let mut matched = BTreeSet::new();
    store
        .scan_latest_raw(|id, raw| {
            let v: Value = serde_json::from_str(raw).unwrap();
            if run.observe(&v, false) {
                matched.insert(id.to_string());
            }
            true
        })
        .unwrap();
    let r = run.finish();
    assert_eq!(r.scanned as usize, all.len());
    assert_eq!(
        matched, newly,
        "the dry run predicts exactly what the filter archived"
    );
    assert_eq!(r.already_archived, 42, "synced back archived");

    // Sync the filters back into the store.
    for (region, result) in source.sync_filters(&store).await {
        assert_eq!(result, Ok(1), "{region}");
    }
    let rules = store.suppression_rules().unwrap();
    assert_eq!(rules.len(), 2);
    for r in &rules {
        assert_eq!(
            (
                r.origin.as_str(),
                r.name.as_str(),
                r.rank,
                r.action.as_str()
            ),
            ("guardduty", "sandbox-probes", 2, "ARCHIVE")
        );
        let back = FindingCriteria::parse(&serde_json::from_str(&r.criteria).unwrap()).unwrap();
        assert_eq!(back, rule("x", 1).criteria);
        assert!(r.detector_id.is_some());
    }

    // Delete, then deleting again is GuardDuty's BadRequest.
    for r in source
        .delete_filter_everywhere("sandbox-probes", "admin")
        .await
    {
        assert_eq!(r.result, Ok(FilterChange::Deleted));
    }
    for r in source
        .delete_filter_everywhere("sandbox-probes", "admin")
        .await
    {
        assert_eq!(r.result.unwrap_err().code, ErrorCode::BadRequest);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_detector_holds_at_most_100_filters() {
    let state = FixtureState::builder()
        .region("us-east-1", None, Vec::new())
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let mut config = common::config(&fixture.endpoint_url(), &["us-east-1"]);
    config.detective = false;
    let source = common::source(config).await;
    for i in 0..100 {
        let r = source
            .apply_filter("us-east-1", &rule(&format!("rule-{i:03}"), 1), "admin")
            .await;
        assert_eq!(r, Ok(FilterChange::Created), "filter {i}");
    }
    let err = source
        .apply_filter("us-east-1", &rule("rule-100", 1), "admin")
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::BadRequest);
    // Listing pages through all of them (50 a page).
    assert_eq!(source.list_filters("us-east-1").await.unwrap().len(), 100);
}
