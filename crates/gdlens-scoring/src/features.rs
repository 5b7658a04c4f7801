//! The per-finding features the score is computed from, one column per feature, and the
//! definitions of the context features (age, type frequency, resource exposure) so the server
//! and the browser compute them the same way.

use serde::{Deserialize, Serialize};

use crate::error::ScoringError;

/// Triage status codes, as `gdlens_domain::TriageStatus as u8` (declaration order).
pub const TRIAGE_CODES: u8 = 6;
/// Criticality codes, as `gdlens_domain::Criticality::code` (0 unknown … 4 critical).
pub const CRITICALITY_CODES: u8 = 5;
/// Resource code meaning "this finding names no resource" in [`resource_exposure`].
pub const NO_RESOURCE: u32 = u32::MAX;

/// Milliseconds per hour, the unit of [`age_hours`].
const MS_PER_HOUR: f64 = 3_600_000.0;

/// Scoring features of many findings, one `Vec` per feature, all of the same length.
///
/// Row `i` of every column describes the same finding. Crossing into WASM, each column is one
/// typed array, so 100,000 findings move without per-object serialization.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FeatureColumns {
    /// Numeric GuardDuty severity (1.0–10.0; anything ≥ 0 accepted, above 10 counts as 10).
    pub severity: Vec<f64>,
    /// Account criticality code: 0 unknown, 1 low, 2 medium, 3 high, 4 critical
    /// (`gdlens_domain::Criticality::code`).
    pub criticality: Vec<u8>,
    /// Findings of this finding type in the current scope, this one included ([`count_by_code`]).
    pub type_count: Vec<u32>,
    /// Hours since the finding was last seen ([`age_hours`]); `+inf` allowed, negative is 0.
    pub age_hours: Vec<f64>,
    /// `service.count`: occurrences aggregated into the finding.
    pub count: Vec<u32>,
    /// Findings on the same resource in the scope, this one included; 0 when no resource
    /// ([`resource_exposure`]).
    pub resource_findings: Vec<u32>,
    /// Distinct finding types on the same resource, this one's included; 0 when no resource.
    pub resource_distinct_types: Vec<u32>,
    /// Distinct ATT&CK tactics of the finding group the finding belongs to; 0 = no group.
    pub group_tactics: Vec<u8>,
    /// Highest severity in that finding group (0 when no group).
    pub group_severity: Vec<f64>,
    /// 1 when the finding is archived in GuardDuty.
    pub archived: Vec<u8>,
    /// Triage status code (`gdlens_domain::TriageStatus as u8`: 0 NEW … 5 FALSE_POSITIVE).
    pub triage: Vec<u8>,
    /// 1 when the finding is a GuardDuty sample finding.
    pub sample: Vec<u8>,
}

/// The features of one finding: convenient for building columns row by row and for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FeatureRow {
    pub severity: f64,
    pub criticality: u8,
    pub type_count: u32,
    pub age_hours: f64,
    pub count: u32,
    pub resource_findings: u32,
    pub resource_distinct_types: u32,
    pub group_tactics: u8,
    pub group_severity: f64,
    pub archived: bool,
    pub triage: u8,
    pub sample: bool,
}

impl FeatureColumns {
    /// Empty columns with room for `n` rows.
    pub fn with_capacity(n: usize) -> Self {
        FeatureColumns {
            severity: Vec::with_capacity(n),
            criticality: Vec::with_capacity(n),
            type_count: Vec::with_capacity(n),
            age_hours: Vec::with_capacity(n),
            count: Vec::with_capacity(n),
            resource_findings: Vec::with_capacity(n),
            resource_distinct_types: Vec::with_capacity(n),
            group_tactics: Vec::with_capacity(n),
            group_severity: Vec::with_capacity(n),
            archived: Vec::with_capacity(n),
            triage: Vec::with_capacity(n),
            sample: Vec::with_capacity(n),
        }
    }

    /// Number of rows (the length of the `severity` column; see [`FeatureColumns::validate`]).
    pub fn len(&self) -> usize {
        self.severity.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.severity.is_empty()
    }

    /// Appends one finding's features.
    pub fn push(&mut self, row: FeatureRow) {
        self.severity.push(row.severity);
        self.criticality.push(row.criticality);
        self.type_count.push(row.type_count);
        self.age_hours.push(row.age_hours);
        self.count.push(row.count);
        self.resource_findings.push(row.resource_findings);
        self.resource_distinct_types
            .push(row.resource_distinct_types);
        self.group_tactics.push(row.group_tactics);
        self.group_severity.push(row.group_severity);
        self.archived.push(u8::from(row.archived));
        self.triage.push(row.triage);
        self.sample.push(u8::from(row.sample));
    }

    /// Row `i` as one struct. Panics when `i` is out of range.
    pub fn row(&self, i: usize) -> FeatureRow {
        FeatureRow {
            severity: self.severity[i],
            criticality: self.criticality[i],
            type_count: self.type_count[i],
            age_hours: self.age_hours[i],
            count: self.count[i],
            resource_findings: self.resource_findings[i],
            resource_distinct_types: self.resource_distinct_types[i],
            group_tactics: self.group_tactics[i],
            group_severity: self.group_severity[i],
            archived: self.archived[i] != 0,
            triage: self.triage[i],
            sample: self.sample[i] != 0,
        }
    }

    /// Checks that every column has the same length and every value is in its domain:
    /// severities and group severities finite and ≥ 0, ages not NaN, criticality ≤ 4,
    /// triage ≤ 5, flags 0 or 1. Returns the row count.
    pub fn validate(&self) -> Result<usize, ScoringError> {
        let n = self.severity.len();
        let lengths: [(&'static str, usize); 12] = [
            ("severity", self.severity.len()),
            ("criticality", self.criticality.len()),
            ("typeCount", self.type_count.len()),
            ("ageHours", self.age_hours.len()),
            ("count", self.count.len()),
            ("resourceFindings", self.resource_findings.len()),
            ("resourceDistinctTypes", self.resource_distinct_types.len()),
            ("groupTactics", self.group_tactics.len()),
            ("groupSeverity", self.group_severity.len()),
            ("archived", self.archived.len()),
            ("triage", self.triage.len()),
            ("sample", self.sample.len()),
        ];
        for (column, actual) in lengths {
            if actual != n {
                return Err(ScoringError::ColumnLength {
                    column,
                    expected: n,
                    actual,
                });
            }
        }
        check_f64(
            "severity",
            &self.severity,
            |v| v.is_finite() && v >= 0.0,
            "must be a finite number ≥ 0",
        )?;
        check_f64(
            "groupSeverity",
            &self.group_severity,
            |v| v.is_finite() && v >= 0.0,
            "must be a finite number ≥ 0",
        )?;
        check_f64(
            "ageHours",
            &self.age_hours,
            |v| !v.is_nan(),
            "must not be NaN",
        )?;
        check_code("criticality", &self.criticality, CRITICALITY_CODES - 1)?;
        check_code("triage", &self.triage, TRIAGE_CODES - 1)?;
        check_code("archived", &self.archived, 1)?;
        check_code("sample", &self.sample, 1)?;
        Ok(n)
    }
}

fn check_f64(
    column: &'static str,
    values: &[f64],
    ok: impl Fn(f64) -> bool,
    reason: &'static str,
) -> Result<(), ScoringError> {
    match values.iter().position(|&v| !ok(v)) {
        None => Ok(()),
        Some(row) => Err(ScoringError::InvalidFeature {
            column,
            row,
            reason: format!("{} is invalid: {reason}", values[row]),
        }),
    }
}

fn check_code(column: &'static str, values: &[u8], max: u8) -> Result<(), ScoringError> {
    match values.iter().position(|&v| v > max) {
        None => Ok(()),
        Some(row) => Err(ScoringError::InvalidFeature {
            column,
            row,
            reason: format!("code {} is outside 0..={max}", values[row]),
        }),
    }
}

/// Hours between `last_seen_ms` and `now_ms` (epoch milliseconds). A last-seen time in the
/// future (clock skew) is age 0. Integer subtraction first, one division: exact and identical
/// on every platform.
pub fn age_hours(now_ms: i64, last_seen_ms: i64) -> f64 {
    let diff = now_ms.saturating_sub(last_seen_ms).max(0);
    diff as f64 / MS_PER_HOUR
}

/// How many rows carry each code: `counts[code]`, for codes `0..n_codes`. Rows whose `mask` is 0
/// are not counted (pass the caller's account scope, or archived/sample exclusions, as the mask).
/// Codes ≥ `n_codes` (e.g. [`NO_RESOURCE`]) are ignored.
pub fn count_by_code(codes: &[u32], mask: Option<&[u8]>, n_codes: usize) -> Vec<u32> {
    let mut counts = vec![0u32; n_codes];
    for (i, &code) in codes.iter().enumerate() {
        if mask.is_some_and(|m| m[i] == 0) {
            continue;
        }
        if let Some(c) = counts.get_mut(code as usize) {
            *c = c.saturating_add(1);
        }
    }
    counts
}

/// The `type_count` feature column: for each row, how many rows in the mask share its finding
/// type code (`type_codes[i] < n_types`). Rows outside the mask still get their type's count.
pub fn type_count_column(type_codes: &[u32], mask: Option<&[u8]>, n_types: usize) -> Vec<u32> {
    let counts = count_by_code(type_codes, mask, n_types);
    type_codes
        .iter()
        .map(|&t| counts.get(t as usize).copied().unwrap_or(0))
        .collect()
}

/// The resource exposure columns `(resource_findings, resource_distinct_types)`: for each row,
/// how many rows in the mask name the same resource, and how many distinct finding types those
/// rows have. `resource_codes[i] == NO_RESOURCE` (or ≥ `n_resources`) gives `(0, 0)`.
pub fn resource_exposure(
    resource_codes: &[u32],
    type_codes: &[u32],
    mask: Option<&[u8]>,
    n_resources: usize,
) -> (Vec<u32>, Vec<u32>) {
    let (findings, distinct) =
        resource_exposure_by_code(resource_codes, type_codes, mask, n_resources);
    let per_row = |counts: &[u32]| -> Vec<u32> {
        resource_codes
            .iter()
            .map(|&r| counts.get(r as usize).copied().unwrap_or(0))
            .collect()
    };
    (per_row(&findings), per_row(&distinct))
}

/// [`resource_exposure`] by resource code instead of by row: `(findings[code], distinct[code])`
/// for codes `0..n_resources`, what a server keeps to give any row of the scope its exposure.
pub fn resource_exposure_by_code(
    resource_codes: &[u32],
    type_codes: &[u32],
    mask: Option<&[u8]>,
    n_resources: usize,
) -> (Vec<u32>, Vec<u32>) {
    let findings = count_by_code(resource_codes, mask, n_resources);
    // Distinct (resource, type) pairs: sort the pairs once instead of a set per resource.
    let mut pairs: Vec<u64> = resource_codes
        .iter()
        .zip(type_codes)
        .enumerate()
        .filter(|&(i, (&r, _))| (r as usize) < n_resources && mask.is_none_or(|m| m[i] != 0))
        .map(|(_, (&r, &t))| (u64::from(r) << 32) | u64::from(t))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    let mut distinct = vec![0u32; n_resources];
    for p in pairs {
        distinct[(p >> 32) as usize] += 1;
    }
    (findings, distinct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_is_hours_since_last_seen_and_never_negative() {
        assert_eq!(age_hours(7_200_000, 0), 2.0);
        assert_eq!(age_hours(0, 3_600_000), 0.0);
        assert_eq!(age_hours(1_800_000, 0), 0.5);
        assert_eq!(age_hours(i64::MAX, i64::MIN), i64::MAX as f64 / MS_PER_HOUR);
    }

    #[test]
    fn type_counts_respect_the_mask() {
        let types = [0, 1, 0, 2, 0];
        let mask = [1, 1, 0, 1, 1];
        assert_eq!(type_count_column(&types, None, 3), vec![3, 1, 3, 1, 3]);
        assert_eq!(
            type_count_column(&types, Some(&mask), 3),
            vec![2, 1, 2, 1, 2]
        );
    }

    #[test]
    fn resource_exposure_counts_findings_and_distinct_types() {
        let resources = [0, 0, 0, NO_RESOURCE, 1];
        let types = [5, 5, 7, 5, 5];
        let (findings, distinct) = resource_exposure(&resources, &types, None, 2);
        assert_eq!(findings, vec![3, 3, 3, 0, 1]);
        assert_eq!(distinct, vec![2, 2, 2, 0, 1]);
        let (findings, distinct) = resource_exposure(&resources, &types, Some(&[1, 1, 0, 1, 1]), 2);
        assert_eq!(findings, vec![2, 2, 2, 0, 1]);
        assert_eq!(distinct, vec![1, 1, 1, 0, 1]);
    }

    #[test]
    fn validate_names_column_and_row() {
        let mut cols = FeatureColumns::default();
        cols.push(FeatureRow {
            severity: 5.0,
            ..Default::default()
        });
        cols.push(FeatureRow {
            severity: 5.0,
            criticality: 9,
            ..Default::default()
        });
        let err = cols.validate().unwrap_err();
        assert_eq!(err.code(), "SCORING_INVALID_FEATURE");
        assert_eq!(
            err.to_string(),
            "column `criticality` row 1: code 9 is outside 0..=4"
        );
        cols.criticality[1] = 4;
        cols.age_hours[0] = f64::NAN;
        assert!(cols
            .validate()
            .unwrap_err()
            .to_string()
            .contains("`ageHours` row 0"));
        cols.age_hours[0] = f64::INFINITY;
        assert_eq!(cols.validate(), Ok(2));
        cols.count.pop();
        assert_eq!(
            cols.validate().unwrap_err().to_string(),
            "column `count` has 1 rows, expected 2"
        );
    }
}
