//! Behaviour of the store through its public API: one suite, run against both backends (real
//! SQLite files, and a throwaway PostgreSQL database per test; see `gdlens_store::testing`).

use gdlens_domain::coverage::{CoverageFeature, CoverageRow, RegionCoverage};
use gdlens_domain::{normalize, Finding, TriageStatus};
use gdlens_store::{
    Investigation, NewFinding, NewSuppressionRule, Store, StoreError, SyncStatus, TriageChange,
    UpsertOutcome, Watermark, ORIGIN_GDLENS, ORIGIN_GUARDDUTY,
};
use serde_json::json;

/// A minimal but real GuardDuty finding JSON, normalized, with its raw bytes.
fn record(id: &str, updated_at: &str, count: u64) -> NewFinding {
    let raw = json!({
        "id": id,
        "arn": format!("arn:aws:guardduty:us-east-1:111122223333:detector/d1/finding/{id}"),
        "accountId": "111122223333",
        "region": "us-east-1",
        "type": "Recon:EC2/PortProbeUnprotectedPort",
        "severity": 2.0,
        "createdAt": "2024-01-01T00:00:00.000Z",
        "updatedAt": updated_at,
        "title": "Unprotected port on EC2 instance is being probed.",
        "resource": {"resourceType": "Instance", "instanceDetails": {"instanceId": "i-0abc"}},
        "service": {"count": count, "archived": false, "detectorId": "d1"}
    })
    .to_string();
    let finding = normalize(&serde_json::from_str(&raw).unwrap()).unwrap();
    NewFinding {
        finding,
        raw,
        source: "test".into(),
    }
}

/// Where a test's store lives; [`Backend::open`] opens (or reopens) it.
enum Backend {
    Sqlite(tempfile::TempDir),
    Postgres(gdlens_store::testing::TestDb),
}

impl Backend {
    fn open(&self) -> Store {
        match self {
            Backend::Sqlite(dir) => Store::open(dir.path()).unwrap(),
            Backend::Postgres(db) => Store::open_postgres(&db.url).unwrap(),
        }
    }

    /// Runs SQL against the store's database behind its back (each backend's dialect).
    fn execute_sql(&self, sqlite: &str, postgres: &str) {
        match self {
            Backend::Sqlite(dir) => {
                let conn =
                    rusqlite::Connection::open(dir.path().join(gdlens_store::DB_FILE)).unwrap();
                conn.execute(sqlite, []).unwrap();
            }
            Backend::Postgres(db) => {
                let mut c = ::postgres::Client::connect(&db.url, ::postgres::NoTls).unwrap();
                c.batch_execute(postgres).unwrap();
            }
        }
    }
}

/// Every test below, once per backend.
macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test] fn $name() { super::$name(super::Backend::Sqlite(tempfile::tempdir().unwrap())) })*
        }
        mod postgres {
            $(#[test] fn $name() { super::$name(super::Backend::Postgres(gdlens_store::testing::test_database())) })*
        }
    };
}

suite!(
    newer_replaces_and_keeps_history_same_is_unchanged_older_never_wins,
    duplicate_ids_inside_one_batch_apply_in_order,
    scan_latest_decodes_the_compact_form_and_applies_local_archive_state,
    rows_with_an_unknown_codec_are_renormalized_from_raw,
    watermark_commits_with_its_batch_and_only_moves_forward,
    triage_versions_reject_stale_writes_atomically_and_audit,
    ticket_links_are_idempotent_and_audited_on_change_only,
    local_state_survives_reopen,
    store_is_shareable_across_threads,
    raw_json_round_trips_byte_for_byte_through_every_read,
    suppression_rules_put_replaces_by_origin_region_and_name,
    suppression_sync_replaces_one_region_only,
    scan_latest_raw_streams_the_latest_raw_json_and_stops_when_asked,
    scan_latest_with_raw_pairs_each_latest_finding_with_its_raw_json,
    coverage_is_replaced_per_region_and_survives_reopen,
    outbox_events_commit_with_their_change_only_while_enabled,
    outbox_fan_out_is_idempotent_and_deliveries_retry_then_dead_letter,
    outbox_group_events_announce_new_and_escalated_groups_once,
    outbox_claims_are_exclusive_until_finished_or_expired,
    ticket_requests_open_one_ticket_per_rule_and_subject,
);

fn coverage_row(region: &str, account: &str, admin: bool, eks: &str) -> CoverageRow {
    CoverageRow {
        region: region.into(),
        account_id: account.into(),
        administrator: admin,
        relationship_status: (!admin).then(|| "Enabled".to_string()),
        detector_present: true,
        features: vec![
            CoverageFeature::new("S3_DATA_EVENTS", "ENABLED"),
            CoverageFeature {
                name: "RUNTIME_MONITORING".into(),
                status: "ENABLED".into(),
                additional: vec![CoverageFeature::new("EKS_ADDON_MANAGEMENT", eks)],
            },
        ],
        checked_at: 1_700_000_000_000,
    }
}

fn coverage_is_replaced_per_region_and_survives_reopen(b: Backend) {
    let store = b.open();
    assert!(store.coverage().unwrap().is_empty());
    let east = RegionCoverage {
        region: "us-east-1".into(),
        checked_at: 1_700_000_000_000,
        error_code: None,
        error_message: None,
        rows: vec![
            coverage_row("us-east-1", "444455556666", false, "DISABLED"),
            coverage_row("us-east-1", "999999999999", true, "ENABLED"),
        ],
    };
    let west = RegionCoverage {
        region: "eu-west-1".into(),
        checked_at: 1_700_000_000_000,
        error_code: Some("no_detector".into()),
        error_message: Some("GuardDuty is not enabled in eu-west-1".into()),
        rows: vec![],
    };
    store.replace_coverage(&east).unwrap();
    store.replace_coverage(&west).unwrap();
    let all = store.coverage().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], west);
    // The administrator's row comes first.
    assert_eq!(all[1].rows[0].account_id, "999999999999");
    assert_eq!(all[1].rows[1], east.rows[0]);

    // A new check of us-east-1 replaces its rows and leaves eu-west-1 alone.
    let again = RegionCoverage {
        checked_at: 1_700_000_600_000,
        error_code: Some("throttled".into()),
        error_message: Some("GetMemberDetectors: Rate exceeded".into()),
        rows: vec![coverage_row("us-east-1", "999999999999", true, "ENABLED")],
        ..east.clone()
    };
    store.replace_coverage(&again).unwrap();
    drop(store);
    let store = b.open();
    let all = store.coverage().unwrap();
    assert_eq!(all, vec![west, again]);
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn newer_replaces_and_keeps_history_same_is_unchanged_older_never_wins(b: Backend) {
    let store = b.open();
    let v1 = record("f1", "2024-01-01T00:00:00.000Z", 1);
    let v2 = record("f1", "2024-01-02T00:00:00.000Z", 5);
    let v0 = record("f1", "2023-12-31T00:00:00.000Z", 1);

    let r = store.upsert_batch(std::slice::from_ref(&v1)).unwrap();
    assert_eq!(r.outcomes, vec![UpsertOutcome::Inserted]);
    assert_eq!(r.changed, vec![v1.finding.clone()]);
    let g1 = store.generation().unwrap();

    let r = store.upsert_batch(std::slice::from_ref(&v1)).unwrap();
    assert_eq!((r.inserted, r.updated, r.unchanged), (0, 0, 1));
    assert!(r.changed.is_empty());
    assert_eq!(
        store.generation().unwrap(),
        g1,
        "an unchanged batch does not bump the generation"
    );

    let r = store.upsert_batch(std::slice::from_ref(&v2)).unwrap();
    assert_eq!(r.outcomes, vec![UpsertOutcome::Updated]);
    assert!(store.generation().unwrap() > g1);

    let r = store.upsert_batch(&[v0.clone(), v1.clone()]).unwrap();
    assert_eq!(
        r.outcomes,
        vec![UpsertOutcome::Unchanged, UpsertOutcome::Unchanged]
    );

    let got = store.get_findings(&ids(&["f1", "missing"])).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].finding, v2.finding);
    assert_eq!(got[0].raw, v2.raw);
    assert_eq!(store.count().unwrap(), 1);

    let versions = store.versions("f1").unwrap();
    let counts: Vec<u64> = versions.iter().map(|v| v.count).collect();
    assert_eq!(
        counts,
        vec![1, 1, 5],
        "older version kept as history, oldest first"
    );
    assert_eq!(versions.iter().filter(|v| v.is_latest).count(), 1);
    assert!(versions[2].is_latest);
    assert_eq!(versions[0].raw, v0.raw);
    assert!(store.integrity_check().unwrap().is_empty());
}

fn duplicate_ids_inside_one_batch_apply_in_order(b: Backend) {
    let store = b.open();
    let a1 = record("a", "2024-01-01T00:00:00Z", 1);
    let a2 = record("a", "2024-01-03T00:00:00Z", 3);
    let a_mid = record("a", "2024-01-02T00:00:00Z", 2);
    let r = store
        .upsert_batch(&[a1, a2.clone(), a2.clone(), a_mid])
        .unwrap();
    use UpsertOutcome::*;
    assert_eq!(r.outcomes, vec![Inserted, Updated, Unchanged, Unchanged]);
    assert_eq!(
        r.changed,
        vec![a2.finding.clone()],
        "one changed entry per id: the latest"
    );
    assert_eq!(store.versions("a").unwrap().len(), 3);
    assert_eq!(store.latest_findings().unwrap(), vec![a2.finding]);
}

fn scan_latest_decodes_the_compact_form_and_applies_local_archive_state(b: Backend) {
    let store = b.open();
    let batch: Vec<_> = (0..50)
        .map(|i| record(&format!("id{i:03}"), "2024-02-01T00:00:00Z", i + 1))
        .collect();
    store.upsert_batch(&batch).unwrap();
    store.set_archived(&ids(&["id007"]), true, "alice").unwrap();
    let mut seen = Vec::new();
    store.scan_latest(|f| seen.push(f)).unwrap();
    assert_eq!(seen.len(), 50);
    for (got, want) in seen.iter().zip(&batch) {
        let mut want = want.finding.clone();
        want.archived = want.id == "id007";
        assert_eq!(got, &want);
    }
    let audit = store.audit("id007").unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "archive");
    // Archiving again is not a change.
    assert_eq!(
        store.set_archived(&ids(&["id007"]), true, "alice").unwrap(),
        0
    );
    assert!(matches!(
        store.set_archived(&ids(&["nope"]), true, "alice"),
        Err(StoreError::UnknownFinding(id)) if id == "nope"
    ));
}

fn rows_with_an_unknown_codec_are_renormalized_from_raw(b: Backend) {
    let store = b.open();
    let rec = record("f", "2024-02-01T00:00:00Z", 4);
    store.upsert_batch(std::slice::from_ref(&rec)).unwrap();
    drop(store);
    b.execute_sql(
        "UPDATE findings SET codec = 999, normalized = x'00'",
        "UPDATE findings SET codec = 999, normalized = '\\x00'::bytea",
    );
    let store = b.open();
    assert_eq!(store.latest_findings().unwrap(), vec![rec.finding.clone()]);
    assert_eq!(
        store.get_findings(&ids(&["f"])).unwrap()[0].finding,
        rec.finding
    );
}

fn watermark_commits_with_its_batch_and_only_moves_forward(b: Backend) {
    let store = b.open();
    let w = |ms| Watermark {
        region: "eu-west-1".into(),
        detector_id: "d1".into(),
        updated_at_ms: ms,
    };
    store
        .upsert_batch_with_watermark(&[record("x", "2024-01-01T00:00:00Z", 1)], Some(&w(200)))
        .unwrap();
    assert_eq!(store.watermark("eu-west-1", "d1").unwrap(), Some(200));
    store
        .upsert_batch_with_watermark(&[], Some(&w(100)))
        .unwrap();
    assert_eq!(store.watermark("eu-west-1", "d1").unwrap(), Some(200));
    // A failing batch (empty id) writes neither data nor watermark.
    let mut bad = record("y", "2024-01-01T00:00:00Z", 1);
    bad.finding.id.clear();
    let err = store.upsert_batch_with_watermark(
        &[record("z", "2024-01-01T00:00:00Z", 1), bad],
        Some(&w(900)),
    );
    assert_eq!(err.unwrap_err().code(), "invalid_input");
    assert_eq!(store.watermark("eu-west-1", "d1").unwrap(), Some(200));
    assert_eq!(
        store.count().unwrap(),
        1,
        "nothing of the failed batch is written"
    );
    assert_eq!(store.watermark("us-east-1", "d1").unwrap(), None);
}

fn triage_versions_reject_stale_writes_atomically_and_audit(b: Backend) {
    let store = b.open();
    store
        .upsert_batch(&[
            record("a", "2024-01-01T00:00:00Z", 1),
            record("b", "2024-01-01T00:00:00Z", 1),
        ])
        .unwrap();
    let ack = TriageChange {
        status: TriageStatus::Acknowledged,
        assignee: Some("bob".into()),
        note: None,
    };
    let out = store
        .set_triage(&ids(&["a"]), &ack, Some(0), "alice")
        .unwrap();
    assert_eq!(out[0].version, 1);
    assert_eq!(out[0].assignee.as_deref(), Some("bob"));

    // b is at version 0, a at 1: expecting 0 for both rejects both.
    let resolve = TriageChange {
        status: TriageStatus::Resolved,
        assignee: None,
        note: Some("fixed".into()),
    };
    let err = store
        .set_triage(&ids(&["b", "a"]), &resolve, Some(0), "carol")
        .unwrap_err();
    match &err {
        StoreError::StaleVersion {
            finding_id,
            expected,
            actual,
        } => {
            assert_eq!((finding_id.as_str(), *expected, *actual), ("a", 0, 1));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.code(), "stale_version");
    assert!(
        store.triage(&ids(&["b"])).unwrap().is_empty(),
        "b was not written"
    );

    let out = store
        .set_triage(&ids(&["a", "b"]), &resolve, None, "carol")
        .unwrap();
    assert_eq!(out[0].version, 2);
    assert_eq!(
        out[0].assignee.as_deref(),
        Some("bob"),
        "None keeps the assignee"
    );
    assert_eq!(out[1].version, 1);
    let clear = TriageChange {
        status: TriageStatus::Resolved,
        assignee: Some(String::new()),
        note: None,
    };
    let out = store
        .set_triage(&ids(&["a"]), &clear, Some(2), "carol")
        .unwrap();
    assert_eq!(out[0].assignee, None);
    assert_eq!(out[0].note.as_deref(), Some("fixed"));

    assert_eq!(
        store.all_triage().unwrap(),
        vec![
            ("a".to_string(), TriageStatus::Resolved),
            ("b".to_string(), TriageStatus::Resolved)
        ]
    );
    let audit = store.audit("a").unwrap();
    assert_eq!(audit.len(), 3);
    assert_eq!(audit[0].detail["from"], "NEW");
    assert_eq!(audit[1].detail["to"], "RESOLVED");
    assert_eq!(audit[1].actor, "carol");
    assert!(matches!(
        store.set_triage(&ids(&["zzz"]), &resolve, None, "x"),
        Err(StoreError::UnknownFinding(_))
    ));
}

fn ticket_links_are_idempotent_and_audited_on_change_only(b: Backend) {
    let store = b.open();
    store
        .upsert_batch(&[record("a", "2024-01-01T00:00:00Z", 1)])
        .unwrap();
    store
        .link_ticket(&ids(&["a"]), "jira", "SEC-1", None, "alice")
        .unwrap();
    store
        .link_ticket(&ids(&["a"]), "jira", "SEC-1", None, "bob")
        .unwrap();
    let links = store
        .link_ticket(
            &ids(&["a"]),
            "jira",
            "SEC-1",
            Some("https://j/SEC-1"),
            "bob",
        )
        .unwrap();
    assert_eq!(links[0].created_by, "alice");
    store
        .link_ticket(&ids(&["a"]), "jira", "SEC-2", None, "bob")
        .unwrap();
    let links = store.ticket_links(&ids(&["a"])).unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].url.as_deref(), Some("https://j/SEC-1"));
    assert_eq!(
        store.audit("a").unwrap().len(),
        3,
        "new, url change, second ticket"
    );
    assert_eq!(
        store
            .link_ticket(&ids(&["a"]), "", "k", None, "x")
            .unwrap_err()
            .code(),
        "invalid_input"
    );
}

fn local_state_survives_reopen(b: Backend) {
    {
        let store = b.open();
        store
            .upsert_batch(&[record("a", "2024-01-01T00:00:00Z", 1)])
            .unwrap();
        let change = TriageChange {
            status: TriageStatus::InProgress,
            assignee: None,
            note: None,
        };
        store
            .set_triage(&ids(&["a"]), &change, None, "alice")
            .unwrap();
        store.put_state("accounts", &json!({"n": 3})).unwrap();
        store
            .set_sync_status(&SyncStatus {
                region: "us-east-1".into(),
                detector_id: Some("d1".into()),
                last_attempt_at: Some(10),
                last_success_at: Some(5),
                last_error_code: Some("Throttled".into()),
                last_error_message: Some("rate exceeded".into()),
                findings_synced: 42,
            })
            .unwrap();
        store
            .set_sync_status(&SyncStatus {
                region: "eu-west-1".into(),
                detector_id: None,
                last_attempt_at: Some(10),
                last_success_at: None,
                last_error_code: Some("NoDetector".into()),
                last_error_message: None,
                findings_synced: 0,
            })
            .unwrap();
        let inv = Investigation {
            graph_arn: "arn:aws:detective:us-east-1:111122223333:graph:g".into(),
            investigation_id: "i1".into(),
            entity_arn: "arn:aws:iam::111122223333:role/r".into(),
            entity_type: "IAM_ROLE".into(),
            status: "SUCCESSFUL".into(),
            severity: "HIGH".into(),
            state: "ACTIVE".into(),
            created_at: 1,
            scope_start: Some(0),
            scope_end: None,
            indicators_json: "[]".into(),
            related_finding_ids: vec!["f1".into(), "f2".into()],
            related_finding_group_ids: vec!["g-1".into()],
        };
        store
            .replace_investigations(&[
                inv.clone(),
                Investigation {
                    investigation_id: "i2".into(),
                    ..inv
                },
            ])
            .unwrap();
    }
    let store = b.open();
    assert_eq!(store.count().unwrap(), 1);
    assert_eq!(
        store.triage(&ids(&["a"])).unwrap()[0].status,
        TriageStatus::InProgress
    );
    assert_eq!(store.get_state("accounts").unwrap(), Some(json!({"n": 3})));
    assert_eq!(store.get_state("nope").unwrap(), None);
    let sync = store.sync_statuses().unwrap();
    assert_eq!(sync.len(), 2);
    assert_eq!(sync[0].region, "eu-west-1");
    assert_eq!(sync[0].detector_id, None);
    assert_eq!(sync[1].findings_synced, 42);
    assert_eq!(sync[1].data_age_ms(25), Some(20));
    let investigations = store.investigations().unwrap();
    assert_eq!(investigations.len(), 2);
    // The links to findings and Detective finding groups survive a reopen.
    assert_eq!(investigations[0].related_finding_ids, ["f1", "f2"]);
    assert_eq!(investigations[0].related_finding_group_ids, ["g-1"]);
    store.replace_investigations(&[]).unwrap();
    assert!(store.investigations().unwrap().is_empty());
    if let Backend::Sqlite(dir) = &b {
        let journal: String = rusqlite::Connection::open(dir.path().join("gdlens.db"))
            .unwrap()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(journal, "wal");
    }
    assert!(store.size_bytes().unwrap() > 0);
}

fn store_is_shareable_across_threads(b: Backend) {
    let store = std::sync::Arc::new(b.open());
    let writers: Vec<_> = (0..4)
        .map(|t| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    store
                        .upsert_batch(&[record(&format!("t{t}-{i}"), "2024-01-01T00:00:00Z", 1)])
                        .unwrap();
                    store.count().unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    assert_eq!(store.count().unwrap(), 100);
    let _: Vec<Finding> = store.latest_findings().unwrap();
}

/// The raw JSON is stored compressed; every read path gives back the exact bytes received
/// (whitespace, key order, escapes, non-ASCII), for small (stored as text) and large documents.
fn raw_json_round_trips_byte_for_byte_through_every_read(b: Backend) {
    let store = b.open();
    let base = record("raw-1", "2024-01-02T00:00:00.000Z", 1);
    let pretty = format!(
        "{{ \"z\" : \"é\\u00e9\\n\\\"q\\\"\" ,\n  \"pad\": \"{}\",\n \"id\":\"raw-1\" }}  ",
        "guardduty ".repeat(200)
    );
    let tiny = "{\"id\":\"raw-1\"}".to_string();
    let older = NewFinding {
        raw: tiny.clone(),
        ..record("raw-1", "2024-01-01T00:00:00.000Z", 1)
    };
    let latest = NewFinding {
        raw: pretty.clone(),
        ..base
    };
    store.upsert_batch(&[latest, older]).unwrap();
    // Reopen: what is read comes from the file, not from anything cached.
    drop(store);
    let store = b.open();
    let got = store.get_findings(&ids(&["raw-1"])).unwrap();
    assert_eq!(got[0].raw.as_bytes(), pretty.as_bytes());
    let versions = store.versions("raw-1").unwrap();
    let raws: Vec<&str> = versions.iter().map(|v| v.raw.as_str()).collect();
    assert_eq!(raws, vec![tiny.as_str(), pretty.as_str()]);
    assert!(store.size_bytes().is_some());
    assert!(store.integrity_check().unwrap().is_empty());
}

fn rule(name: &str, origin: &str, region: &str) -> NewSuppressionRule {
    NewSuppressionRule {
        name: name.into(),
        description: None,
        origin: origin.into(),
        region: region.into(),
        detector_id: None,
        action: "ARCHIVE".into(),
        rank: 1,
        criteria: r#"{"criterion":{"type":{"equals":["T"]}}}"#.into(),
    }
}

/// A rule with the same origin, region and name replaces the stored one, keeping its id and
/// creation; deleting twice says it was gone; an empty name is refused.
fn suppression_rules_put_replaces_by_origin_region_and_name(b: Backend) {
    let s = b.open();
    let a = s
        .put_suppression_rule(&rule("dev", ORIGIN_GDLENS, ""), "alice", 1)
        .unwrap();
    let mut changed = rule("dev", ORIGIN_GDLENS, "");
    changed.rank = 5;
    let b2 = s.put_suppression_rule(&changed, "bob", 2).unwrap();
    assert_eq!(a.id, b2.id);
    assert_eq!(
        (b2.rank, b2.created_by.as_str(), b2.updated_at),
        (5, "alice", 2)
    );
    drop(s);
    let s = b.open();
    assert_eq!(s.suppression_rules().unwrap().len(), 1);
    assert!(s.delete_suppression_rule(a.id).unwrap());
    assert!(!s.delete_suppression_rule(a.id).unwrap());
    assert!(s
        .put_suppression_rule(&rule(" ", ORIGIN_GDLENS, ""), "a", 1)
        .is_err());
}

/// A sync replaces the rules of its own region only, and gdlens's rules never.
fn suppression_sync_replaces_one_region_only(b: Backend) {
    let s = b.open();
    s.put_suppression_rule(&rule("own", ORIGIN_GDLENS, ""), "a", 1)
        .unwrap();
    s.replace_synced_rules("us-east-1", &[rule("x", "", ""), rule("y", "", "")], 1)
        .unwrap();
    s.replace_synced_rules("eu-west-1", &[rule("z", "", "")], 1)
        .unwrap();
    s.replace_synced_rules("us-east-1", &[rule("y", "", "")], 2)
        .unwrap();
    let names: Vec<(String, String, String)> = s
        .suppression_rules()
        .unwrap()
        .into_iter()
        .map(|r| (r.origin, r.region, r.name))
        .collect();
    assert_eq!(
        names,
        vec![
            (ORIGIN_GDLENS.into(), "".into(), "own".into()),
            (ORIGIN_GUARDDUTY.into(), "eu-west-1".into(), "z".into()),
            (ORIGIN_GUARDDUTY.into(), "us-east-1".into(), "y".into()),
        ]
    );
}

/// The streaming raw scan gives each finding's latest raw JSON once, in insertion order, and
/// stops when the callback says so.
fn scan_latest_raw_streams_the_latest_raw_json_and_stops_when_asked(b: Backend) {
    let store = b.open();
    store
        .upsert_batch(&[
            record("r-1", "2024-01-01T00:00:00.000Z", 1),
            record("r-2", "2024-01-01T00:00:00.000Z", 1),
            record("r-1", "2024-01-02T00:00:00.000Z", 7),
        ])
        .unwrap();
    let mut seen = Vec::new();
    store
        .scan_latest_raw(|id, raw| {
            let v: serde_json::Value = serde_json::from_str(raw).unwrap();
            seen.push((id.to_string(), v["service"]["count"].as_u64().unwrap()));
            true
        })
        .unwrap();
    assert_eq!(seen, vec![("r-1".into(), 7), ("r-2".into(), 1)]);
    let mut calls = 0;
    store
        .scan_latest_raw(|_, _| {
            calls += 1;
            false
        })
        .unwrap();
    assert_eq!(calls, 1);
}

fn scan_latest_with_raw_pairs_each_latest_finding_with_its_raw_json(b: Backend) {
    let store = b.open();
    store
        .upsert_batch(&[
            record("w-1", "2024-01-01T00:00:00.000Z", 1),
            record("w-2", "2024-01-01T00:00:00.000Z", 1),
            record("w-1", "2024-01-02T00:00:00.000Z", 7),
        ])
        .unwrap();
    store.set_archived(&["w-2".to_string()], true, "t").unwrap();
    let mut seen = Vec::new();
    store
        .scan_latest_with_raw(|finding, raw| {
            let v: serde_json::Value = serde_json::from_str(raw).unwrap();
            assert_eq!(v["id"].as_str(), Some(finding.id.as_str()));
            seen.push((
                finding.id,
                finding.count,
                finding.archived,
                v["service"]["count"].as_u64().unwrap(),
            ));
            true
        })
        .unwrap();
    assert_eq!(
        seen,
        vec![("w-1".into(), 7, false, 7), ("w-2".into(), 1, true, 1)]
    );
    let mut calls = 0;
    store
        .scan_latest_with_raw(|_, _| {
            calls += 1;
            false
        })
        .unwrap();
    assert_eq!(calls, 1);
}

fn outbox_events_commit_with_their_change_only_while_enabled(b: Backend) {
    let store = b.open();
    store
        .upsert_batch(&[record("off", "2024-01-01T00:00:00Z", 1)])
        .unwrap();
    assert!(
        store.pending_events(100).unwrap().is_empty(),
        "disabled: nothing written"
    );
    store.set_outbox_enabled(true).unwrap();
    store
        .upsert_batch(&[
            record("a", "2024-01-01T00:00:00Z", 1),
            record("a", "2024-01-02T00:00:00Z", 2),
            record("off", "2024-01-03T00:00:00Z", 2),
        ])
        .unwrap();
    // An unchanged record writes no event.
    store
        .upsert_batch(&[record("a", "2024-01-02T00:00:00Z", 2)])
        .unwrap();
    let ack = TriageChange {
        status: TriageStatus::Acknowledged,
        assignee: None,
        note: None,
    };
    store.set_triage(&ids(&["a"]), &ack, None, "alice").unwrap();
    // A rejected triage write rolls its event back with it.
    assert!(store
        .set_triage(&ids(&["a"]), &ack, Some(0), "alice")
        .is_err());
    // The same holds after a reopen: the switch and the events are in the store.
    drop(store);
    let store = b.open();
    let events: Vec<(String, String)> = store
        .pending_events(100)
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.subject))
        .collect();
    assert_eq!(
        events,
        vec![
            ("finding.created".into(), "a".into()),
            ("finding.updated".into(), "off".into()),
            ("triage.changed".into(), "a".into()),
        ]
    );
    let triage = &store.pending_events(100).unwrap()[2];
    assert_eq!(triage.detail["status"], "ACKNOWLEDGED");
    assert_eq!(store.outbox_backlog().unwrap(), 3);
}

fn outbox_fan_out_is_idempotent_and_deliveries_retry_then_dead_letter(b: Backend) {
    use gdlens_store::{AttemptResult, DeliveryQuery, NewDelivery};
    let store = b.open();
    store.set_outbox_enabled(true).unwrap();
    store
        .upsert_batch(&[record("a", "2024-01-01T00:00:00Z", 1)])
        .unwrap();
    let event = store.pending_events(10).unwrap().remove(0);
    let deliveries: Vec<NewDelivery> = ["hook1", "hook2"]
        .iter()
        .map(|w| NewDelivery {
            event_id: event.id,
            webhook: w.to_string(),
            kind: event.kind.clone(),
            subject: event.subject.clone(),
            body: format!("{{\"to\":\"{w}\"}}"),
        })
        .collect();
    assert_eq!(store.dispatch_events(&[event.id], &deliveries).unwrap(), 2);
    // A fan-out repeated (a crash before it was recorded elsewhere) inserts nothing new.
    assert_eq!(store.dispatch_events(&[event.id], &deliveries).unwrap(), 0);
    assert!(store.pending_events(10).unwrap().is_empty());
    let claimed = store.claim_deliveries(i64::MAX / 4, 60_000, 10).unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].message_id, format!("msg_{}_hook1", event.id));
    let (d1, d2) = (&claimed[0], &claimed[1]);
    store
        .finish_delivery(
            d1.id,
            5,
            &AttemptResult::Delivered {
                response: Some("{\"key\":\"SEC-1\"}".into()),
            },
        )
        .unwrap();
    store
        .finish_delivery(
            d2.id,
            5,
            &AttemptResult::Failed {
                error: "HTTP 500".into(),
                next_attempt_at: Some(10),
            },
        )
        .unwrap();
    store
        .finish_delivery(
            d2.id,
            11,
            &AttemptResult::Failed {
                error: "timeout".into(),
                next_attempt_at: None,
            },
        )
        .unwrap();
    let dead = store
        .deliveries(&DeliveryQuery {
            status: Some("dead".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].attempts, dead[0].last_error.as_deref()),
        (2, Some("timeout"))
    );
    let counts = store.delivery_counts().unwrap();
    assert_eq!(
        (counts[0].webhook.as_str(), counts[0].delivered),
        ("hook1", 1)
    );
    assert_eq!((counts[1].webhook.as_str(), counts[1].dead), ("hook2", 1));
    let done = store
        .deliveries(&DeliveryQuery {
            webhook: Some("hook1".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(done[0].response.as_deref(), Some("{\"key\":\"SEC-1\"}"));
    // Replaying the dead letters makes them due again, with the same webhook id.
    assert_eq!(store.replay_deliveries(0, None, true).unwrap(), 1);
    let again = store.claim_deliveries(i64::MAX / 4, 60_000, 10).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].message_id.as_str(), again[0].attempts),
        (d2.message_id.as_str(), 0)
    );
}

fn outbox_group_events_announce_new_and_escalated_groups_once(b: Backend) {
    use gdlens_store::GroupState;
    let store = b.open();
    let g = |id: &str, severity: f64| GroupState {
        id: id.into(),
        severity,
        detail: json!({ "severity": severity }),
    };
    // Seeding records silently.
    assert_eq!(store.record_groups(&[g("old", 5.0)], false).unwrap(), 0);
    assert_eq!(store.groups_recorded().unwrap(), 1);
    store.set_outbox_enabled(true).unwrap();
    assert_eq!(
        store
            .record_groups(&[g("old", 5.0), g("new", 3.0)], true)
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .record_groups(&[g("old", 8.0), g("new", 2.0)], true)
            .unwrap(),
        1
    );
    // Recomputing the same state (a restart) announces nothing twice.
    assert_eq!(
        store
            .record_groups(&[g("old", 8.0), g("new", 3.0)], true)
            .unwrap(),
        0
    );
    let events: Vec<(String, String)> = store
        .pending_events(10)
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.subject))
        .collect();
    assert_eq!(
        events,
        vec![
            ("group.created".into(), "new".into()),
            ("group.escalated".into(), "old".into())
        ]
    );
}

fn outbox_claims_are_exclusive_until_finished_or_expired(b: Backend) {
    use gdlens_store::NewDelivery;
    let store = b.open();
    store.set_outbox_enabled(true).unwrap();
    store
        .upsert_batch(&[record("a", "2024-01-01T00:00:00Z", 1)])
        .unwrap();
    let event = store.pending_events(10).unwrap().remove(0);
    let d = NewDelivery {
        event_id: event.id,
        webhook: "w".into(),
        kind: event.kind,
        subject: event.subject,
        body: "{}".into(),
    };
    store.dispatch_events(&[event.id], &[d]).unwrap();
    let other = b.open(); // another replica (PostgreSQL) or the same file (SQLite)
    let now = chrono_now();
    assert_eq!(store.claim_deliveries(now, 60_000, 10).unwrap().len(), 1);
    assert!(
        other.claim_deliveries(now, 60_000, 10).unwrap().is_empty(),
        "claimed"
    );
    assert_eq!(
        other
            .claim_deliveries(now + 60_000, 60_000, 10)
            .unwrap()
            .len(),
        1,
        "expired"
    );
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn ticket_requests_open_one_ticket_per_rule_and_subject(b: Backend) {
    use gdlens_store::TicketRequest;
    let store = b.open();
    let req = |rule: &str, subject: &str| TicketRequest {
        rule: rule.into(),
        subject: subject.into(),
        detail: json!({ "rule": rule, "findingIds": [subject] }),
    };
    // Seeding (the first start with rules) records matches silently.
    assert_eq!(
        store.request_tickets(&[req("r1", "old")], false).unwrap(),
        0
    );
    assert_eq!(
        store
            .request_tickets(&[req("r1", "old"), req("r1", "g1"), req("r2", "g1")], true)
            .unwrap(),
        2
    );
    // Seen again (a retry, a restart, another replica): nothing new.
    assert_eq!(store.request_tickets(&[req("r1", "g1")], true).unwrap(), 0);
    let events = store.pending_events(10).unwrap();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.kind == "ticket.requested" && e.subject == "g1"));
    let one = store.outbox_event(events[1].id).unwrap().unwrap();
    assert_eq!(one.detail["rule"], "r2");
    assert!(store.outbox_event(i64::MAX).unwrap().is_none());
}
