//! Invariants of scoring and ranking, checked on random inputs.

use gdlens_scoring::{rank, FeatureRow, Scorer, Weights};
use proptest::prelude::*;

fn row() -> impl Strategy<Value = FeatureRow> {
    (
        0.0..12.0f64,
        0u8..5,
        0u32..10_000,
        -10.0..1e6f64,
        0u32..10_000,
        0u32..50,
        0u32..10,
        0u8..10,
        0.0..10.0f64,
        any::<bool>(),
        0u8..6,
        any::<bool>(),
    )
        .prop_map(
            |(
                severity,
                criticality,
                type_count,
                age_hours,
                count,
                resource_findings,
                resource_distinct_types,
                group_tactics,
                group_severity,
                archived,
                triage,
                sample,
            )| FeatureRow {
                severity,
                criticality,
                type_count,
                age_hours,
                count,
                resource_findings,
                resource_distinct_types,
                group_tactics,
                group_severity,
                archived,
                triage,
                sample,
            },
        )
}

fn weights() -> impl Strategy<Value = Weights> {
    prop::array::uniform7(0.0..100.0f64).prop_map(|w| Weights {
        severity: w[0],
        criticality: w[1],
        rarity: w[2],
        recency: w[3],
        count: w[4],
        exposure: w[5],
        group: w[6],
        ..Weights::default()
    })
}

proptest! {
    #[test]
    fn score_is_within_0_and_100(r in row(), w in weights()) {
        let v = Scorer::new(&w).unwrap().score_row(&r).value;
        prop_assert!((0.0..=100.0).contains(&v));
    }

    #[test]
    fn raising_severity_never_lowers_the_score(r in row(), w in weights(), extra in 0.0..5.0f64) {
        let s = Scorer::new(&w).unwrap();
        let higher = FeatureRow { severity: r.severity + extra, ..r };
        prop_assert!(s.score_row(&higher).value >= s.score_row(&r).value);
    }

    #[test]
    fn a_zero_weight_removes_the_factor(r in row(), other in row(), w in weights()) {
        // Severity weight 0: changing only the severity changes nothing.
        let s = Scorer::new(&Weights { severity: 0.0, ..w }).unwrap();
        let changed = FeatureRow { severity: other.severity, ..r };
        prop_assert_eq!(s.score_row(&changed).value.to_bits(), s.score_row(&r).value.to_bits());
        // Recency weight 0: the age does not matter.
        let s = Scorer::new(&Weights { recency: 0.0, ..w }).unwrap();
        let changed = FeatureRow { age_hours: other.age_hours, ..r };
        prop_assert_eq!(s.score_row(&changed).value.to_bits(), s.score_row(&r).value.to_bits());
    }

    #[test]
    fn rank_is_a_sorted_permutation_of_the_masked_rows(
        rows in prop::collection::vec((0u32..20, 0u32..50, any::<bool>()), 0..300)
    ) {
        let scores: Vec<f64> = rows.iter().map(|r| f64::from(r.0) * 2.5).collect();
        let tie: Vec<u32> = rows.iter().map(|r| r.1).collect();
        let mask: Vec<u8> = rows.iter().map(|r| u8::from(r.2)).collect();
        let order = rank(&scores, &tie, Some(&mask)).unwrap();
        let mut sorted = order.clone();
        sorted.sort_unstable();
        let expected: Vec<u32> = (0..rows.len() as u32).filter(|&i| mask[i as usize] == 1).collect();
        prop_assert_eq!(sorted, expected);
        for w in order.windows(2) {
            let (a, b) = (w[0] as usize, w[1] as usize);
            prop_assert!((scores[a], std::cmp::Reverse(tie[a]), std::cmp::Reverse(a)) > (scores[b], std::cmp::Reverse(tie[b]), std::cmp::Reverse(b)));
        }
    }
}
