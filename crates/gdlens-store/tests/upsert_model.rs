//! Property: whatever the order and batching of versions, the store holds the newest version per
//! id as latest and every distinct version once, as a naive model says.

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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn store_matches_model(batches in prop::collection::vec(prop::collection::vec((0u8..6, 0i64..8), 0..12), 1..6)) {
        let store = Store::open_in_memory().unwrap();
        let mut latest: BTreeMap<String, i64> = BTreeMap::new();
        let mut versions: BTreeSet<(String, i64)> = BTreeSet::new();
        for batch in &batches {
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
            let got: BTreeMap<String, i64> = report.changed.iter().map(|f| (f.id.clone(), f.updated_at)).collect();
            prop_assert_eq!(got, changed);
            prop_assert_eq!(report.changed.len() as u64 <= report.inserted + report.updated, true);
        }
        let stored: BTreeMap<String, i64> =
            store.latest_findings().unwrap().into_iter().map(|f| (f.id, f.updated_at)).collect();
        prop_assert_eq!(&stored, &latest);
        prop_assert_eq!(store.version_count().unwrap(), versions.len() as u64);
        for id in latest.keys() {
            let v: Vec<i64> = store.versions(id).unwrap().iter().map(|v| v.updated_at).collect();
            let want: Vec<i64> = versions.iter().filter(|(i, _)| i == id).map(|(_, at)| *at).collect();
            prop_assert_eq!(v, want);
        }
        prop_assert!(store.integrity_check().unwrap().is_empty());
    }
}
