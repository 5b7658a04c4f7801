//! Snapshot tests of whole summaries on a fixed seeded dataset; the filter cases live in
//! `tests/fixtures/summary-cases.json` (add a case there, run `cargo insta review`).

mod support;

use gdlens_domain::{FindingFilter, Scope};
use gdlens_index::{FindingIndex, SummaryOptions};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    name: String,
    scope: Scope,
    filter: FindingFilter,
}

fn dataset() -> FindingIndex {
    let shape = support::Shape {
        seed: 7,
        findings: 3_000,
        accounts: 12,
        regions: 4,
        days: 30,
        resources_per_account: 40,
    };
    let mut index = FindingIndex::build(support::findings(&shape));
    index.set_accounts(&support::accounts(&shape));
    index
}

#[test]
fn summaries_match_snapshots() {
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("fixtures/summary-cases.json")).expect("summary cases");
    let index = dataset();
    let options = SummaryOptions {
        limit: 5,
        ..SummaryOptions::new(support::NOW_MS)
    };
    for case in cases {
        let summary = index.summary(&case.filter, &case.scope, &options);
        assert!(
            summary.total > 0,
            "case {} matches nothing: a useless case",
            case.name
        );
        insta::assert_json_snapshot!(case.name.as_str(), summary);
    }
}
