//! Properties of criteria evaluation that GuardDuty's semantics imply.

use gdlens_suppress::criteria::wildcard_match;
use gdlens_suppress::FindingCriteria;
use proptest::prelude::*;
use serde_json::{json, Value};

fn crit(attribute: &str, op: &str, operand: Value) -> FindingCriteria {
    FindingCriteria::parse(&json!({"criterion": {attribute: {op: operand}}})).unwrap()
}

fn tagged(values: &[String]) -> Value {
    let tags: Vec<Value> = values
        .iter()
        .map(|v| json!({"key": "k", "value": v}))
        .collect();
    json!({"id": "f", "resource": {"instanceDetails": {"tags": tags}}})
}

proptest! {
    /// `notEquals` is exactly the negation of `equals` with the same list.
    #[test]
    fn not_equals_negates_equals(values in prop::collection::vec("[a-c]{0,3}", 0..4),
                                 wanted in prop::collection::vec("[a-c]{0,3}", 1..4)) {
        let f = tagged(&values);
        let a = "resource.instanceDetails.tags.value";
        prop_assert_eq!(crit(a, "equals", json!(wanted)).matches(&f),
                        !crit(a, "notEquals", json!(wanted)).matches(&f));
        prop_assert_eq!(crit(a, "matches", json!(wanted)).matches(&f),
                        !crit(a, "notMatches", json!(wanted)).matches(&f));
    }

    /// Without wildcard characters, `matches` is `equals` (for non-numeric strings).
    #[test]
    fn matches_without_wildcards_is_equals(values in prop::collection::vec("[a-c]{1,3}", 0..4),
                                           wanted in prop::collection::vec("[a-c]{1,3}", 1..4)) {
        let f = tagged(&values);
        let a = "resource.instanceDetails.tags.value";
        prop_assert_eq!(crit(a, "matches", json!(wanted)).matches(&f),
                        crit(a, "equals", json!(wanted)).matches(&f));
    }

    /// `*` matches any value; a value matches itself; prefix* matches what starts with prefix.
    #[test]
    fn wildcard_laws(v in "[a-z?*]{0,8}", p in "[a-z]{0,3}") {
        prop_assert!(wildcard_match("*", &v));
        let plain: String = v.chars().filter(|c| c.is_ascii_lowercase()).collect();
        prop_assert!(wildcard_match(&plain, &plain));
        prop_assert_eq!(wildcard_match(&format!("{p}*"), &plain), plain.starts_with(&p));
        prop_assert_eq!(wildcard_match(&format!("*{p}*"), &plain), plain.contains(&p));
    }

    /// A range is the conjunction of its bounds.
    #[test]
    fn ranges(sev in 0.0f64..10.0, lo in 0i64..10, hi in 0i64..10) {
        let f = json!({"severity": sev});
        let both = FindingCriteria::parse(&json!({"criterion": {"severity": {"greaterThanOrEqual": lo, "lessThan": hi}}})).unwrap();
        prop_assert_eq!(both.matches(&f), sev >= lo as f64 && sev < hi as f64);
    }
}
