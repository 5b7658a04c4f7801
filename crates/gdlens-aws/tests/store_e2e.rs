//! End to end through the real SQLite store: the real aws-sdk-guardduty / aws-sdk-detective
//! clients against the local fixture server, syncing into `gdlens_store::Store` opened on a
//! temporary directory (WAL, migrations, versions, watermarks in the same transaction).

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use gdlens_aws::{CommitHook, ErrorCode, Feedback, FindingRef, SyncSink};
use gdlens_aws_fixture::{spawn, FaultKind, FaultRule, FixtureServer, Operation, RegionAccess};
use gdlens_domain::time::parse_iso;
use gdlens_store::{Store, SyncStatus};
use serde_json::Value;

fn ids(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn sink(store: &Arc<Store>) -> Arc<dyn SyncSink> {
    store.clone()
}

fn status(store: &Store, region: &str) -> SyncStatus {
    store
        .sync_statuses()
        .unwrap()
        .into_iter()
        .find(|s| s.region == region)
        .unwrap_or_else(|| panic!("no sync status for {region}"))
}

/// A hook that records the ids of every committed finding, in commit order.
fn recording_hook() -> (CommitHook, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let hook: CommitHook = Arc::new(move |batch| {
        sink.lock()
            .unwrap()
            .extend(batch.iter().map(|f| f.id.clone()));
    });
    (hook, seen)
}

/// Every finding the fixture serves in `region` is in the store once, byte for byte.
fn assert_stored_exactly(store: &Store, state: &FixtureServer, region: &str, ids: &[String]) {
    let stored = store.get_findings(ids).unwrap();
    assert_eq!(stored.len(), ids.len(), "{region}: every finding stored");
    for (id, s) in ids.iter().zip(&stored) {
        assert_eq!(&s.finding.id, id);
        assert_eq!(s.finding.region, region);
        assert_eq!(s.source, format!("aws:{region}"));
        assert_eq!(Some(&s.raw), state.finding_raw(region, id).as_ref(), "{id}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regions_sync_into_the_store_and_a_changed_finding_becomes_a_new_version() {
    let east = common::findings("us-east-1", 120);
    let west = common::findings("eu-west-1", 75);
    let state = common::four_regions(&east, &west);
    let fixture = spawn(state.clone()).await.unwrap();
    let regions = common::FOUR_REGIONS;
    let mut config = common::config(&fixture.endpoint_url(), &regions);
    config.lag_seconds = 10;
    let source = common::source(config).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let (hook, hooked) = recording_hook();

    let report = source.sync(sink(&store), None, Some(hook.clone())).await;

    let by = |r: &str| report.regions.iter().find(|x| x.region == r).unwrap();
    assert_eq!(
        (by("us-east-1").fetched, by("us-east-1").inserted),
        (120, 120)
    );
    assert_eq!(by("us-east-1").pages, 3, "120 findings are 3 pages of 50");
    assert_eq!(
        (by("eu-west-1").fetched, by("eu-west-1").inserted),
        (75, 75)
    );
    assert_eq!(
        by("sa-east-1").error.as_ref().unwrap().code,
        ErrorCode::NoDetector
    );
    assert_eq!(
        by("ap-south-1").error.as_ref().unwrap().code,
        ErrorCode::AccessDenied
    );
    assert_eq!(store.count().unwrap(), 195);
    assert_eq!(store.version_count().unwrap(), 195, "one version each");
    assert_stored_exactly(&store, &state, "us-east-1", &ids(&east));
    assert_stored_exactly(&store, &state, "eu-west-1", &ids(&west));
    assert_eq!(
        hooked.lock().unwrap().len(),
        195,
        "the hook saw every commit"
    );

    // Sync status per region, with the stable codes the API and /metrics show.
    let east_status = status(&store, "us-east-1");
    assert!(east_status.last_success_at.is_some());
    assert_eq!(east_status.last_error_code, None);
    assert_eq!(east_status.findings_synced, 120);
    assert_eq!(east_status.detector_id, state.detector_id("us-east-1"));
    let denied = status(&store, "ap-south-1");
    assert_eq!(denied.last_error_code.as_deref(), Some("access_denied"));
    assert_eq!(denied.last_success_at, None);
    assert_eq!(
        status(&store, "sa-east-1").last_error_code.as_deref(),
        Some("no_detector")
    );

    // Watermarks: the newest updatedAt of each region (2024-05-01T10:00:00Z + (n − 1) s).
    let east_detector = state.detector_id("us-east-1").unwrap();
    let west_detector = "feedfacefeedfacefeedfacefeedface";
    assert_eq!(
        store.watermark("us-east-1", &east_detector).unwrap(),
        parse_iso("2024-05-01T10:01:59Z")
    );
    assert_eq!(
        store.watermark("eu-west-1", west_detector).unwrap(),
        parse_iso("2024-05-01T10:01:14Z")
    );

    // A re-sync that finds nothing new changes nothing: no new version, no watermark write,
    // and the store generation (part of every cache key) stays as it was.
    let generation = store.generation().unwrap();
    hooked.lock().unwrap().clear();
    let again = source.sync(sink(&store), None, Some(hook.clone())).await;
    for r in again.succeeded() {
        // Lag 10 s: the last ten findings of each region are asked for again.
        assert_eq!(
            (r.fetched, r.inserted, r.updated, r.unchanged),
            (10, 0, 0, 10),
            "{}",
            r.region
        );
    }
    assert_eq!(again.succeeded().count(), 2);
    assert_eq!(store.count().unwrap(), 195);
    assert_eq!(store.version_count().unwrap(), 195);
    assert_eq!(store.generation().unwrap(), generation);
    assert!(hooked.lock().unwrap().is_empty());
    assert_eq!(
        store.watermark("us-east-1", &east_detector).unwrap(),
        parse_iso("2024-05-01T10:01:59Z")
    );

    // GuardDuty updates a finding: the next sync keeps both versions.
    let id = ids(&east)[7].clone();
    let first_raw = state.finding_raw("us-east-1", &id).unwrap();
    assert!(state.update_finding("us-east-1", &id, |f| f["service"]["count"] = 42.into()));
    let new_raw = state.finding_raw("us-east-1", &id).unwrap();
    let new_updated_at = parse_iso(
        state.finding("us-east-1", &id).unwrap()["updatedAt"]
            .as_str()
            .unwrap(),
    );

    let third = source.sync(sink(&store), None, Some(hook)).await;

    let east_run = third
        .regions
        .iter()
        .find(|r| r.region == "us-east-1")
        .unwrap();
    assert_eq!((east_run.inserted, east_run.updated), (0, 1));
    assert_eq!(hooked.lock().unwrap().as_slice(), std::slice::from_ref(&id));
    let versions = store.versions(&id).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(
        (
            versions[0].raw.as_str(),
            versions[0].count,
            versions[0].is_latest
        ),
        (first_raw.as_str(), 3, false)
    );
    assert_eq!(
        (
            versions[1].raw.as_str(),
            versions[1].count,
            versions[1].is_latest
        ),
        (new_raw.as_str(), 42, true)
    );
    let latest = &store.get_findings(std::slice::from_ref(&id)).unwrap()[0];
    assert_eq!((latest.finding.count, &latest.raw), (42, &new_raw));
    assert_eq!(store.count().unwrap(), 195);
    assert_eq!(store.version_count().unwrap(), 196);
    assert!(store.generation().unwrap() > generation);
    assert_eq!(
        store.watermark("us-east-1", &east_detector).unwrap(),
        new_updated_at,
        "the watermark follows the updated finding"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_back_round_trip_archives_in_aws_and_the_store_keeps_the_archived_version() {
    let east = common::findings("us-east-1", 70);
    let state = FixtureServer::builder()
        .region("us-east-1", None, east.clone())
        .access_denied("ap-south-1")
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let source = common::source(common::config(&fixture.endpoint_url(), &["us-east-1"])).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    source.sync(sink(&store), None, None).await;
    let detector = state.detector_id("us-east-1").unwrap();
    let all = ids(&east);
    let refs: Vec<FindingRef> = all
        .iter()
        .take(55)
        .enumerate()
        // Some with the detector known, the others looked up through ListDetectors.
        .map(|(i, id)| FindingRef {
            id: id.clone(),
            region: "us-east-1".into(),
            detector_id: (i % 3 == 0).then(|| detector.clone()),
        })
        .collect();

    let report = source.archive_findings(Some(sink(&store)), &refs).await;

    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.done.len(), 55);
    assert_eq!(report.refreshed.updated, 55);
    assert_eq!(report.changed.len(), 55, "the index learns of every change");
    assert_eq!(state.request_count(Operation::ArchiveFindings), 2);
    let archived_ids: Vec<String> = refs.iter().map(|r| r.id.clone()).collect();
    for (r, stored) in refs.iter().zip(store.get_findings(&archived_ids).unwrap()) {
        // AWS recorded it, and the store holds AWS's new version on top of the old one.
        assert_eq!(
            state.finding("us-east-1", &r.id).unwrap()["service"]["archived"],
            true
        );
        assert!(stored.finding.archived, "{}", r.id);
        assert_eq!(
            Some(&stored.raw),
            state.finding_raw("us-east-1", &r.id).as_ref()
        );
        let versions = store.versions(&r.id).unwrap();
        assert_eq!(
            versions
                .iter()
                .map(|v| (v.archived, v.is_latest))
                .collect::<Vec<_>>(),
            [(false, false), (true, true)]
        );
    }
    let untouched = &store.get_findings(&all[60..61]).unwrap()[0];
    assert!(!untouched.finding.archived);
    assert_eq!(store.versions(&all[60]).unwrap().len(), 1);

    // Unarchive: a third version, not archived.
    let back = source
        .unarchive_findings(Some(sink(&store)), &refs[..2])
        .await;
    assert_eq!(back.done.len(), 2);
    let versions = store.versions(&refs[0].id).unwrap();
    assert_eq!(versions.len(), 3);
    assert!(!versions[2].archived && versions[2].is_latest);

    // Feedback is recorded by AWS; the refresh changes nothing it does not need to.
    let fb = source
        .send_feedback(Some(sink(&store)), &refs[3..5], Feedback::Useful, None)
        .await;
    assert_eq!(fb.done.len(), 2);
    assert_eq!(
        state.feedback("us-east-1", &refs[4].id).as_deref(),
        Some("USEFUL")
    );
    assert_eq!(fb.refreshed.updated, 0);

    // AWS refuses: a stable error, and the store is untouched.
    let generation = store.generation().unwrap();
    let versions_before = store.version_count().unwrap();
    let refused = source
        .archive_findings(
            Some(sink(&store)),
            &[FindingRef {
                id: all[65].clone(),
                region: "ap-south-1".into(),
                detector_id: Some(detector.clone()),
            }],
        )
        .await;
    assert!(refused.done.is_empty());
    assert_eq!(refused.first_error().unwrap().code, ErrorCode::AccessDenied);
    assert_eq!(store.generation().unwrap(), generation);
    assert_eq!(store.version_count().unwrap(), versions_before);
    assert!(
        !store.get_findings(&all[65..66]).unwrap()[0]
            .finding
            .archived
    );

    // The next sync agrees with what the write-back stored: nothing new.
    let after = source.sync(sink(&store), None, None).await;
    let r = &after.regions[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!((r.inserted, r.updated), (0, 0));
    assert_eq!(store.count().unwrap(), 70);
    assert_eq!(store.version_count().unwrap(), versions_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detective_investigations_are_stored_and_name_stored_findings() {
    let investigations: Vec<Value> =
        serde_json::from_value(common::read_json("investigations.json")).unwrap();
    let graph = "arn:aws:detective:us-east-1:999999999999:graph:0123456789abcdef";
    // The finding the first investigation's RELATED_FINDING indicator names.
    let mut related = common::findings("us-east-1", 1).remove(0);
    related["id"] = "RELATED1".into();
    related["arn"] = "arn:aws:guardduty:us-east-1:111122223333:detector/12abc34d567e8fa901bc2d34e56789f0/finding/RELATED1".into();
    let mut east = common::findings("us-east-1", 3);
    east.push(related);
    let state = FixtureServer::builder()
        .region("us-east-1", None, east)
        .detective("us-east-1", graph, investigations)
        .region("eu-west-1", None, vec![])
        .access_denied("ap-south-1")
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let source = common::source(common::config(
        &fixture.endpoint_url(),
        &["us-east-1", "eu-west-1", "ap-south-1"],
    ))
    .await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    source.sync(sink(&store), None, None).await;

    let reports = source.sync_investigations(sink(&store), None).await;

    assert_eq!(
        (reports[0].investigations, reports[0].indicators),
        (2, 6),
        "{:?}",
        reports[0].error
    );
    assert_eq!(
        reports[2].error.as_ref().unwrap().code,
        ErrorCode::AccessDenied
    );
    let stored = store.investigations().unwrap();
    let by_id: HashMap<&str, &gdlens_store::Investigation> = stored
        .iter()
        .map(|i| (i.investigation_id.as_str(), i))
        .collect();
    assert_eq!(stored.len(), 2);
    let first = by_id["000000000000000000001"];
    assert_eq!(first.graph_arn, graph);
    assert_eq!(
        (
            first.entity_type.as_str(),
            first.severity.as_str(),
            first.status.as_str()
        ),
        ("IAM_ROLE", "HIGH", "SUCCESSFUL")
    );
    assert_eq!(Some(first.created_at), parse_iso("2024-05-02T00:00:00Z"));
    assert_eq!(first.scope_start, parse_iso("2024-04-25T00:00:00Z"));
    let indicators: Vec<Value> = serde_json::from_str(&first.indicators_json).unwrap();
    assert_eq!(indicators.len(), 4);
    // The link: the RELATED_FINDING indicator names a finding the store holds.
    let related_arn = indicators
        .iter()
        .find(|i| i["IndicatorType"] == "RELATED_FINDING")
        .and_then(|i| i["IndicatorDetail"]["RelatedFindingDetail"]["Arn"].as_str())
        .unwrap();
    let held = store.get_findings(&["RELATED1".to_string()]).unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].finding.arn, related_arn);
    // The sync keeps the link itself: the finding id of RelatedFindingDetail.Arn and the
    // Detective finding-group id (the API matches groups and links the console with them).
    assert_eq!(first.related_finding_ids, ["RELATED1"]);
    assert_eq!(first.related_finding_group_ids, ["fg-0001"]);
    let second: Vec<Value> =
        serde_json::from_str(&by_id["000000000000000000002"].indicators_json).unwrap();
    assert_eq!(second.len(), 2);

    // Detective refuses on the next run: the stored investigations stay.
    state.set_access("us-east-1", RegionAccess::AccessDenied);
    let refused = source
        .sync_investigations(sink(&store), Some(&["us-east-1".to_string()]))
        .await;
    assert_eq!(
        refused[0].error.as_ref().unwrap().code,
        ErrorCode::AccessDenied
    );
    assert_eq!(store.investigations().unwrap(), stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_error_storms_complete_into_the_store_without_duplicates() {
    let east = common::findings("us-east-1", 180);
    let west = common::findings("eu-west-1", 90);
    let state = FixtureServer::builder()
        .region("us-east-1", None, east.clone())
        .region("eu-west-1", None, west.clone())
        // Every third call of any kind is throttled.
        .fault(FaultRule::new(FaultKind::Throttle, 3))
        // Storms longer than the SDK's own 3 attempts: the outer retry carries them.
        .fault(
            FaultRule::new(FaultKind::ServerError, 1)
                .region("eu-west-1")
                .operation(Operation::GetFindings)
                .limit(8),
        )
        .fault(
            FaultRule::new(FaultKind::ServerError, 1)
                .region("us-east-1")
                .operation(Operation::ListFindings)
                .limit(5),
        )
        // And pages that overlap.
        .fault(FaultRule::new(FaultKind::RepeatNextToken, 2))
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let mut config = common::config(&fixture.endpoint_url(), &["us-east-1", "eu-west-1"]);
    config.outer_attempts = 8;
    let source = common::source(config).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());

    let report = source.sync(sink(&store), None, None).await;

    for r in &report.regions {
        assert!(r.error.is_none(), "{}: {:?}", r.region, r.error);
    }
    assert_eq!(
        (report.regions[0].inserted, report.regions[1].inserted),
        (180, 90)
    );
    assert_eq!(store.count().unwrap(), 270);
    assert_eq!(
        store.version_count().unwrap(),
        270,
        "no finding stored twice"
    );
    assert_stored_exactly(&store, &state, "us-east-1", &ids(&east));
    assert_stored_exactly(&store, &state, "eu-west-1", &ids(&west));
    assert!(status(&store, "eu-west-1").last_success_at.is_some());
    assert_eq!(
        store
            .watermark("us-east-1", &state.detector_id("us-east-1").unwrap())
            .unwrap(),
        parse_iso("2024-05-01T10:02:59Z")
    );
    // The storms did happen.
    assert!(state.request_count_in("eu-west-1", Operation::GetFindings) >= 2 + 8);
    assert!(state.request_count_in("us-east-1", Operation::ListFindings) >= 4 + 5);
    assert!(report.regions.iter().any(|r| r.repeated_ids > 0));
}
