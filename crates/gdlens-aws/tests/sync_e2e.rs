//! End to end: the real aws-sdk-guardduty / aws-sdk-detective clients against the local fixture
//! server over HTTP, syncing into a sink.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gdlens_aws::{ErrorCode, Feedback, FindingRef, MemorySink, SyncSink};
use gdlens_aws_fixture::{spawn, FaultKind, FaultRule, FixtureServer, Operation};
use serde_json::Value;

fn ids(findings: &[Value]) -> Vec<String> {
    findings
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncs_every_reachable_region_and_records_the_unreachable_ones() {
    let east = common::findings("us-east-1", 120);
    let west = common::findings("eu-west-1", 75);
    let state = common::four_regions(&east, &west);
    let fixture = spawn(state.clone()).await.unwrap();
    let regions = common::FOUR_REGIONS;
    let mut config = common::config(&fixture.endpoint_url(), &regions);
    config.lag_seconds = 60;
    let source = common::source(config).await;
    let sink = Arc::new(MemorySink::new());
    let committed = Arc::new(AtomicU64::new(0));
    let hook_count = committed.clone();
    let hook: gdlens_aws::CommitHook = Arc::new(move |batch| {
        hook_count.fetch_add(batch.len() as u64, Ordering::SeqCst);
    });

    let report = source.sync(sink.clone(), None, Some(hook)).await;

    let by = |r: &str| report.regions.iter().find(|x| x.region == r).unwrap();
    assert_eq!(report.regions.len(), 4);
    assert_eq!(
        (by("us-east-1").fetched, by("us-east-1").inserted),
        (120, 120)
    );
    assert_eq!(by("us-east-1").pages, 3, "120 findings are 3 pages of 50");
    assert_eq!(by("us-east-1").members, 2);
    assert_eq!(
        (by("eu-west-1").fetched, by("eu-west-1").inserted),
        (75, 75)
    );
    assert_eq!(
        by("eu-west-1").detector_id.as_deref(),
        Some("feedfacefeedfacefeedfacefeedface")
    );
    assert_eq!(
        by("sa-east-1").error.as_ref().unwrap().code,
        ErrorCode::NoDetector
    );
    assert_eq!(
        by("ap-south-1").error.as_ref().unwrap().code,
        ErrorCode::AccessDenied
    );
    assert_eq!(report.succeeded().count(), 2);
    assert_eq!(
        committed.load(Ordering::SeqCst),
        195,
        "the hook saw every committed finding"
    );

    // Every finding once, byte for byte as the server sent it.
    assert_eq!(sink.latest().len(), 195);
    for id in ids(&east) {
        let stored = sink.get(&id).unwrap();
        assert_eq!(stored.raw, state.finding_raw("us-east-1", &id).unwrap());
        assert_eq!(stored.finding.region, "us-east-1");
    }
    // Status per region, with stable codes.
    assert!(sink.status("us-east-1").unwrap().succeeded_at.is_some());
    let denied = sink.status("ap-south-1").unwrap();
    assert_eq!(denied.error_code.as_deref(), Some("access_denied"));
    assert!(denied.succeeded_at.is_none());
    assert_eq!(
        sink.status("sa-east-1").unwrap().error_code.as_deref(),
        Some("no_detector")
    );
    assert_eq!(sink.members().len(), 2);
    // The watermark is the newest updatedAt: 2024-05-01T10:00:00Z + 119 s.
    let w = sink
        .watermark("us-east-1", &state.detector_id("us-east-1").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        w,
        gdlens_domain::time::parse_iso("2024-05-01T10:01:59Z").unwrap()
    );

    // A second run asks only for findings newer than watermark − lag, and changes nothing.
    state.reset_counters();
    let again = source
        .sync(sink.clone(), Some(&["us-east-1".to_string()]), None)
        .await;
    let r = &again.regions[0];
    assert_eq!((r.inserted, r.updated), (0, 0));
    // Lag 60 s: only findings updated after 10:00:59 (the last 60) are asked for again.
    assert_eq!(r.fetched, 60);
    assert_eq!(r.unchanged, 60);
    assert_eq!(sink.latest().len(), 195);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updated_finding_becomes_a_new_version() {
    let east = common::findings("us-east-1", 60);
    let state = FixtureServer::builder()
        .region("us-east-1", None, east.clone())
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let source = common::source(common::config(&fixture.endpoint_url(), &["us-east-1"])).await;
    let sink = Arc::new(MemorySink::new());
    source.sync(sink.clone(), None, None).await;
    let id = east[7]["id"].as_str().unwrap();
    assert_eq!(sink.version_count(id), 1);

    assert!(state.update_finding("us-east-1", id, |f| f["service"]["count"] = 42.into()));
    let report = source.sync(sink.clone(), None, None).await;

    assert_eq!(report.regions[0].updated, 1);
    assert_eq!(report.regions[0].inserted, 0);
    assert_eq!(sink.version_count(id), 2);
    let latest = sink.get(id).unwrap();
    assert_eq!(latest.finding.count, 42);
    assert_eq!(latest.raw, state.finding_raw("us-east-1", id).unwrap());
    assert_eq!(sink.latest().len(), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_error_storms_still_complete_without_duplicates() {
    let east = common::findings("us-east-1", 180);
    let west = common::findings("eu-west-1", 90);
    let state = FixtureServer::builder()
        .region("us-east-1", None, east)
        .region("eu-west-1", None, west)
        // Every third call of any kind is throttled.
        .fault(FaultRule::new(FaultKind::Throttle, 3))
        // A storm: eight 500s in a row on eu-west-1's GetFindings (more than the SDK's 3 attempts).
        .fault(
            FaultRule::new(FaultKind::ServerError, 1)
                .region("eu-west-1")
                .operation(Operation::GetFindings)
                .limit(8),
        )
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let mut config = common::config(&fixture.endpoint_url(), &["us-east-1", "eu-west-1"]);
    config.outer_attempts = 8;
    let source = common::source(config).await;
    let sink = Arc::new(MemorySink::new());

    let report = source.sync(sink.clone(), None, None).await;

    for r in &report.regions {
        assert!(r.error.is_none(), "{}: {:?}", r.region, r.error);
    }
    assert_eq!(report.regions[0].inserted, 180);
    assert_eq!(report.regions[1].inserted, 90);
    assert_eq!(sink.latest().len(), 270);
    for id in sink.latest().iter().map(|f| f.finding.id.clone()) {
        assert_eq!(sink.version_count(&id), 1, "{id} stored once");
    }
    // The faults really happened: more GetFindings calls than the 4 + 2 pages need.
    assert!(state.request_count_in("eu-west-1", Operation::GetFindings) >= 2 + 8);
    assert!(state.request_count(Operation::ListFindings) > 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlapping_next_token_does_not_duplicate_findings() {
    let east = common::findings("us-east-1", 230);
    let state = FixtureServer::builder()
        .region("us-east-1", None, east)
        .fault(FaultRule::new(FaultKind::RepeatNextToken, 2))
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let source = common::source(common::config(&fixture.endpoint_url(), &["us-east-1"])).await;
    let sink = Arc::new(MemorySink::new());

    let report = source.sync(sink.clone(), None, None).await;

    let r = &report.regions[0];
    assert!(r.error.is_none());
    assert!(r.repeated_ids > 0, "the server did overlap pages");
    assert_eq!((r.fetched, r.inserted, r.unchanged), (230, 230, 0));
    assert_eq!(sink.latest().len(), 230);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_rate_stays_under_the_configured_maximum() {
    let state = FixtureServer::builder()
        .region("us-east-1", None, common::findings("us-east-1", 400))
        .region("eu-west-1", None, common::findings("eu-west-1", 400))
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let mut config = common::config(&fixture.endpoint_url(), &["us-east-1", "eu-west-1"]);
    config.max_requests_per_second = 25.0;
    let source = common::source(config).await;

    let report = source.sync(Arc::new(MemorySink::new()), None, None).await;

    assert_eq!(report.fetched(), 800);
    assert!(state.total_requests() >= 34);
    // Permits leave 40 ms apart; one extra arrival allows for loopback jitter between two
    // requests sent 40 ms apart.
    let peak = state.max_requests_in_window(Duration::from_secs(1));
    assert!(
        peak <= 26,
        "peak {peak} requests in one second with a limit of 25"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_back_round_trip_archives_in_aws_and_refreshes_local_state() {
    let east = common::findings("us-east-1", 70);
    let state = FixtureServer::builder()
        .region("us-east-1", None, east.clone())
        .access_denied("ap-south-1")
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let source = common::source(common::config(&fixture.endpoint_url(), &["us-east-1"])).await;
    let sink: Arc<MemorySink> = Arc::new(MemorySink::new());
    source.sync(sink.clone(), None, None).await;
    let detector = state.detector_id("us-east-1").unwrap();
    let refs: Vec<FindingRef> = ids(&east)
        .into_iter()
        .take(60)
        .enumerate()
        // Half with the detector known, half looked up through ListDetectors.
        .map(|(i, id)| FindingRef {
            id,
            region: "us-east-1".into(),
            detector_id: (i % 2 == 0).then(|| detector.clone()),
        })
        .collect();

    let report = source.archive_findings(Some(sink.clone()), &refs).await;

    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert_eq!(report.done.len(), 60);
    assert_eq!(
        state.request_count(Operation::ArchiveFindings),
        2,
        "60 ids are two batches of ≤ 50"
    );
    assert_eq!(report.refreshed.updated, 60);
    for r in &refs {
        assert_eq!(
            state.finding("us-east-1", &r.id).unwrap()["service"]["archived"],
            true
        );
        let local = sink.get(&r.id).unwrap();
        assert!(local.finding.archived);
        assert_eq!(sink.version_count(&r.id), 2);
    }
    let untouched = &ids(&east)[65];
    assert!(!sink.get(untouched).unwrap().finding.archived);

    let back = source
        .unarchive_findings(Some(sink.clone()), &refs[..3])
        .await;
    assert_eq!(back.done.len(), 3);
    assert!(!sink.get(&refs[0].id).unwrap().finding.archived);

    let fb = source
        .send_feedback(None, &refs[..2], Feedback::NotUseful, Some("noise"))
        .await;
    assert_eq!(fb.done.len(), 2);
    assert_eq!(
        state.feedback("us-east-1", &refs[1].id).as_deref(),
        Some("NOT_USEFUL")
    );

    // Refused by AWS: a clear, stable error and no local change.
    let denied = vec![FindingRef {
        id: refs[5].id.clone(),
        region: "ap-south-1".into(),
        detector_id: Some(detector.clone()),
    }];
    let before = sink.get(&refs[5].id).unwrap();
    let refused = source.archive_findings(Some(sink.clone()), &denied).await;
    assert!(refused.done.is_empty());
    assert_eq!(refused.first_error().unwrap().code, ErrorCode::AccessDenied);
    assert_eq!(sink.get(&refs[5].id).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detective_investigations_are_stored_with_their_indicators_and_links() {
    let investigations: Vec<Value> =
        serde_json::from_value(common::read_json("investigations.json")).unwrap();
    let graph = "arn:aws:detective:us-east-1:999999999999:graph:0123456789abcdef";
    let state = FixtureServer::builder()
        .region("us-east-1", None, common::findings("us-east-1", 3))
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
    let sink = Arc::new(MemorySink::new());

    let reports = source.sync_investigations(sink.clone(), None).await;

    assert_eq!(
        (
            reports[0].graphs,
            reports[0].investigations,
            reports[0].indicators
        ),
        (1, 2, 6)
    );
    assert_eq!((reports[1].graphs, reports[1].investigations), (0, 0));
    assert_eq!(
        reports[2].error.as_ref().unwrap().code,
        ErrorCode::AccessDenied
    );
    let stored = sink.investigations("us-east-1");
    assert_eq!(stored.len(), 2);
    let first = &stored[0];
    assert_eq!(first.graph_arn, graph);
    assert_eq!(first.entity_type.as_deref(), Some("IAM_ROLE"));
    assert_eq!(first.severity.as_deref(), Some("HIGH"));
    assert_eq!(
        first.created_at,
        gdlens_domain::time::parse_iso("2024-05-02T00:00:00Z")
    );
    assert_eq!(first.related_finding_arns.len(), 1);
    assert!(first.related_finding_arns[0].ends_with("/finding/RELATED1"));
    assert_eq!(first.related_finding_group_ids, ["fg-0001"]);
    assert_eq!(
        first.indicators[0]["IndicatorDetail"]["TTPsObservedDetail"]["APIName"],
        "ListBuckets"
    );
    assert_eq!(state.request_count(Operation::ListIndicators), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_finding_the_sdk_model_cannot_read_is_still_synced_byte_for_byte() {
    let mut east = common::findings("us-east-1", 60);
    // A field the SDK types as a timestamp arrives in a shape newer than the SDK's model: the
    // SDK rejects the whole GetFindings reply, but the raw body is all the sync needs.
    east[55]["resource"]["instanceDetails"]["launchTime"] =
        serde_json::json!({ "epochSeconds": 1_711_929_600, "precision": "s" });
    let odd = east[55]["id"].as_str().unwrap().to_string();
    let state = FixtureServer::builder()
        .region("us-east-1", None, east)
        .build();
    let fixture = spawn(state.clone()).await.unwrap();
    let source = common::source(common::config(&fixture.endpoint_url(), &["us-east-1"])).await;
    let sink = Arc::new(MemorySink::new());

    let report = source.sync(sink.clone(), None, None).await;

    let r = &report.regions[0];
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!((r.fetched, r.inserted, r.rejected), (60, 60, 0));
    assert_eq!(
        sink.get(&odd).unwrap().raw,
        state.finding_raw("us-east-1", &odd).unwrap()
    );
    // Two pages, two GetFindings: the unreadable reply was used, not retried.
    assert_eq!(state.request_count(Operation::GetFindings), 2);
}
