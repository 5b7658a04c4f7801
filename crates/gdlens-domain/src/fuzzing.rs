//! The body of the `normalize` fuzz target (`fuzz/fuzz_targets/normalize.rs`), shared with the
//! corpus replay test so both run exactly the same checks. Not part of the domain API.

use serde_json::Value;

use crate::time::in_range;
use crate::{normalize, normalize_json, JsonRef};

/// Parses `data` as JSON and normalizes it both ways (borrowed [`JsonRef`] as the importer does,
/// `serde_json::Value` as the AWS sync does), panicking on any broken invariant: both give the
/// same result, a finding has its required fields, a finite severity and timestamps in range.
pub fn normalize_bytes(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let borrowed = JsonRef::parse(text);
    let value = serde_json::from_str::<Value>(text);
    let (Ok(borrowed), Ok(value)) = (borrowed, value) else {
        return;
    };
    let fast = normalize_json(&borrowed);
    assert_eq!(
        fast,
        normalize(&value),
        "JsonRef and Value normalize differently"
    );
    match fast {
        Ok(f) => {
            assert!(!f.id.is_empty() && !f.finding_type.is_empty() && !f.account_id.is_empty());
            assert!(f.severity.is_finite());
            assert!(in_range(f.created_at) && in_range(f.updated_at));
            assert!(f.event_first_seen.is_none_or(in_range));
            assert!(f.event_last_seen.is_none_or(in_range));
            assert!(f.count >= 1);
        }
        Err(e) => assert!(!e.code().is_empty() && !e.to_string().is_empty()),
    }
}
