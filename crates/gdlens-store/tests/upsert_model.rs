//! Property: whatever the order and batching of versions, the store holds the newest version per
//! id as latest and every distinct version once, as a naive model says. On both backends (the
//! PostgreSQL one decides outcomes in memory and merges with set-based SQL: a different algorithm
//! held to the same model).

use std::collections::{BTreeMap, BTreeSet};

use gdlens_domain::Finding;
use gdlens_store::{NewFinding, Store, UpsertOutcome};
use proptest::prelude::*;

fn rec(id: u8, updated_at: i64) -> NewFinding {
    let finding = Finding {
        id: format!("f{id}"),
        account_id: "111122223333".into(),
        finding_type: "Recon:EC2/PortProbeUnprotectedPort".into(),
        severity: 2.0,
        created_at: 0,
        updated_at,
        count: updated_at as u64 + 1,
        ..Default::default()
    };
    NewFinding {
        raw: format!("{{\"id\":\"f{id}\",\"updatedAt\":{updated_at}}}"),
        finding,
        source: "p".into(),
    }
}

type Batches = Vec<Vec<(u8, i64)>>;

fn batches() -> impl Strategy<Value = Batches> {
    prop::collection::vec(prop::collection::vec((0u8..6, 0i64..8), 0..12), 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn sqlite_store_matches_model(batches in batches()) {
        check(&Store::open_in_memory().unwrap(), &batches)?;
    }
}

/// One database for every case, emptied before each (a database per case would dominate the run).
/// A plain test around proptest's runner, so the database (and a cluster started for it) is
/// dropped when the test ends.
#[test]
fn postgres_store_matches_model() {
    let db = gdlens_store::testing::test_database();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig::with_cases(24));
    let result = runner.run(&batches(), |batches| {
        let store = Store::open_postgres(&db.url).unwrap();
        let mut c = postgres::Client::connect(&db.url, postgres::NoTls).unwrap();
        c.batch_execute(
            "TRUNCATE findings, finding_versions, change_log;
             UPDATE meta SET value = 0 WHERE key = 'generation'",
        )
        .unwrap();
        check(&store, &batches)
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn check(store: &Store, batches: &Batches) -> Result<(), TestCaseError> {
    {
        let mut latest: BTreeMap<String, i64> = BTreeMap::new();
        let mut versions: BTreeSet<(String, i64)> = BTreeSet::new();
        for batch in batches {
            let records: Vec<_> = batch.iter().map(|&(id, at)| rec(id, at)).collect();
            let report = store.upsert_batch(&records).unwrap();
            let mut changed = BTreeMap::new();
            for (r, outcome) in records.iter().zip(&report.outcomes) {
                let id = r.finding.id.clone();
                let expected = match latest.get(&id) {
                    None => UpsertOutcome::Inserted,
                    Some(&cur) if r.finding.updated_at > cur => UpsertOutcome::Updated,
                    Some(_) => UpsertOutcome::Unchanged,
                };
                prop_assert_eq!(*outcome, expected);
                if expected != UpsertOutcome::Unchanged {
                    latest.insert(id.clone(), r.finding.updated_at);
                    changed.insert(id.clone(), r.finding.updated_at);
                }
                versions.insert((id, r.finding.updated_at));
            }
            let got: BTreeMap<String, i64> = report
                .changed
                .iter()
                .map(|f| (f.id.clone(), f.updated_at))
                .collect();
            prop_assert_eq!(got, changed);
            prop_assert_eq!(
                report.changed.len() as u64 <= report.inserted + report.updated,
                true
            );
        }
        let stored: BTreeMap<String, i64> = store
            .latest_findings()
            .unwrap()
            .into_iter()
            .map(|f| (f.id, f.updated_at))
            .collect();
        prop_assert_eq!(&stored, &latest);
        prop_assert_eq!(store.version_count().unwrap(), versions.len() as u64);
        for id in latest.keys() {
            let v: Vec<i64> = store
                .versions(id)
                .unwrap()
                .iter()
                .map(|v| v.updated_at)
                .collect();
            let want: Vec<i64> = versions
                .iter()
                .filter(|(i, _)| i == id)
                .map(|(_, at)| *at)
                .collect();
            prop_assert_eq!(v, want);
        }
        prop_assert!(store.integrity_check().unwrap().is_empty());
    }
    Ok(())
}
