//! The priority score: a weighted mean of seven factors in `0..=1`, times 100, damped for
//! findings that need less attention; with a per-factor explanation.
//!
//! Bit-identical native and WASM: only IEEE-754 basic operations (`+ − × ÷`) and comparisons,
//! always in the same order; no `ln`/`exp`/`powf` (libm results differ between platforms),
//! no `f64::min`/`max` (their handling of ±0 is not specified), no fused multiply-add.

use serde::Serialize;

use crate::error::ScoringError;
use crate::features::{FeatureColumns, FeatureRow};
use crate::weights::Weights;

/// Factor names in factor order: the order of [`Score::factors`] and [`Weights::factor_weights`].
pub const FACTOR_NAMES: [&str; 7] = [
    "severity",
    "criticality",
    "rarity",
    "recency",
    "count",
    "exposure",
    "group",
];

/// Criticality factor by code: unknown sits between low and medium (an unclassified account is
/// not assumed unimportant), then low, medium, high, critical.
const CRITICALITY_FACTOR: [f64; 5] = [0.4, 0.2, 0.5, 0.8, 1.0];

/// One factor of a score's explanation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Factor {
    /// One of [`FACTOR_NAMES`].
    pub name: &'static str,
    /// The factor's value in `0..=1` before weighting.
    pub value: f64,
    /// Points this factor adds to the undamped score (`100 · weight / Σweights · value`).
    pub contribution: f64,
}

/// A finding's priority with its explanation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Score {
    /// The priority, `0..=100`: `base × multiplier`.
    pub value: f64,
    /// The undamped score: the sum of the factors' contributions, clamped to `0..=100`.
    pub base: f64,
    /// Product of the triage, archived and sample multipliers (1 when none applies).
    pub multiplier: f64,
    /// Each factor's value and contribution, in [`FACTOR_NAMES`] order.
    pub factors: [Factor; 7],
}

/// Weights compiled for scoring many rows: the per-factor scales `100 · w / Σw` computed once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scorer {
    weights: Weights,
    scales: [f64; 7],
}

impl Scorer {
    /// Validates the weights and precomputes the scales.
    pub fn new(weights: &Weights) -> Result<Self, ScoringError> {
        weights.validate()?;
        let w = weights.factor_weights();
        let mut total = 0.0;
        for x in w {
            total += x;
        }
        let mut scales = [0.0; 7];
        if total > 0.0 {
            for (scale, x) in scales.iter_mut().zip(w) {
                // `+ 0.0` turns a -0.0 weight into +0.0 so no signed zero reaches the sums.
                *scale = 100.0 * x / total + 0.0;
            }
        }
        Ok(Scorer {
            weights: *weights,
            scales,
        })
    }

    /// The weights this scorer was built from.
    pub fn weights(&self) -> &Weights {
        &self.weights
    }

    /// The seven factor values of one finding, in [`FACTOR_NAMES`] order, each in `0..=1`.
    #[inline(always)]
    pub fn factor_values(&self, f: &FeatureRow) -> [f64; 7] {
        let w = &self.weights;
        [
            severity_factor(f.severity),
            criticality_factor(f.criticality),
            saturating_inverse(f64::from(f.type_count), w.rarity_midpoint),
            saturating_inverse(non_negative(f.age_hours), w.recency_midpoint_hours),
            saturating(f64::from(f.count.saturating_sub(1)), w.count_midpoint),
            exposure_factor(f, w),
            group_factor(f, w),
        ]
    }

    /// Product of the multipliers that apply to one finding.
    #[inline(always)]
    pub fn multiplier(&self, f: &FeatureRow) -> f64 {
        let mut m = 1.0;
        if is_closed(f.triage) {
            m *= self.weights.closed_multiplier;
        }
        if f.archived {
            m *= self.weights.archived_multiplier;
        }
        if f.sample {
            m *= self.weights.sample_multiplier;
        }
        m
    }

    /// The score of one finding given its features. `score_row` and [`Scorer::score_into`]
    /// run the same arithmetic, so explanations match the fast path bit for bit.
    #[inline(always)]
    fn value_of(&self, f: &FeatureRow) -> (f64, f64, f64, [f64; 7]) {
        let values = self.factor_values(f);
        let base = self.base(values);
        let multiplier = self.multiplier(f);
        (base * multiplier + 0.0, base, multiplier, values)
    }

    /// The undamped score from the factor values: their scaled sum, clamped to `0..=100`.
    #[inline(always)]
    fn base(&self, values: [f64; 7]) -> f64 {
        let mut base = 0.0;
        // Left to right in factor order: the order is part of the bit-exact definition.
        for (scale, value) in self.scales.iter().zip(values) {
            base += scale * value;
        }
        clamp_0_100(base)
    }

    /// The score from the factor values and the multiplier: the one combination every scoring
    /// path ([`Scorer::score_row`], [`Scorer::score_into`], `PreparedFeatures`) runs.
    #[inline(always)]
    pub(crate) fn combine(&self, values: [f64; 7], multiplier: f64) -> f64 {
        self.base(values) * multiplier + 0.0
    }

    /// The score and its explanation for one finding's features.
    pub fn score_row(&self, f: &FeatureRow) -> Score {
        let (value, base, multiplier, values) = self.value_of(f);
        let factors = std::array::from_fn(|k| Factor {
            name: FACTOR_NAMES[k],
            value: values[k],
            contribution: self.scales[k] * values[k],
        });
        Score {
            value,
            base,
            multiplier,
            factors,
        }
    }

    /// Scores every row into `out`. The columns should have passed [`FeatureColumns::validate`]
    /// (values outside their domain give deterministic but meaningless scores).
    /// Panics when a column or `out` is shorter than `columns.len()`.
    pub fn score_into(&self, columns: &FeatureColumns, out: &mut [f64]) {
        let n = columns.len();
        let out = &mut out[..n];
        // Re-slicing every column to `n` lets the compiler drop the per-row bounds checks.
        let c = columns;
        let (sev, crit, tc, age, cnt) = (
            &c.severity[..n],
            &c.criticality[..n],
            &c.type_count[..n],
            &c.age_hours[..n],
            &c.count[..n],
        );
        let (rf, rdt, gt, gs) = (
            &c.resource_findings[..n],
            &c.resource_distinct_types[..n],
            &c.group_tactics[..n],
            &c.group_severity[..n],
        );
        let (arch, tri, smp) = (&c.archived[..n], &c.triage[..n], &c.sample[..n]);
        for (i, slot) in out.iter_mut().enumerate() {
            let row = FeatureRow {
                severity: sev[i],
                criticality: crit[i],
                type_count: tc[i],
                age_hours: age[i],
                count: cnt[i],
                resource_findings: rf[i],
                resource_distinct_types: rdt[i],
                group_tactics: gt[i],
                group_severity: gs[i],
                archived: arch[i] != 0,
                triage: tri[i],
                sample: smp[i] != 0,
            };
            *slot = self.value_of(&row).0;
        }
    }
}

/// The score and explanation of row `i` (validates the weights and that row).
pub fn score(columns: &FeatureColumns, i: usize, weights: &Weights) -> Result<Score, ScoringError> {
    let n = columns.validate()?;
    if i >= n {
        return Err(ScoringError::InvalidFeature {
            column: "row",
            row: i,
            reason: format!("row {i} is out of range: there are {n} rows"),
        });
    }
    Ok(Scorer::new(weights)?.score_row(&columns.row(i)))
}

/// Scores every row into `out` (fast path; validates weights and columns first).
pub fn score_all(
    columns: &FeatureColumns,
    weights: &Weights,
    out: &mut [f64],
) -> Result<(), ScoringError> {
    let n = columns.validate()?;
    if out.len() != n {
        return Err(ScoringError::ColumnLength {
            column: "out",
            expected: n,
            actual: out.len(),
        });
    }
    Scorer::new(weights)?.score_into(columns, out);
    Ok(())
}

/// Whether a triage code is a closed status (RESOLVED, SUPPRESSED, FALSE_POSITIVE).
#[inline(always)]
pub fn is_closed(triage: u8) -> bool {
    (3..=5).contains(&triage)
}

/// Severity factor: `(min(severity, 10) / 10)²`. Squared so that High and Critical stand
/// clearly above Medium (8 → 0.64, 5 → 0.25, 2 → 0.04).
#[inline(always)]
pub(crate) fn severity_factor(severity: f64) -> f64 {
    let s = if severity > 10.0 {
        1.0
    } else {
        non_negative(severity) / 10.0
    };
    s * s
}

/// Criticality factor from the code; an out-of-range code counts as unknown.
#[inline(always)]
pub(crate) fn criticality_factor(code: u8) -> f64 {
    CRITICALITY_FACTOR
        .get(code as usize)
        .copied()
        .unwrap_or(CRITICALITY_FACTOR[0])
}

/// `x / (x + m)`: 0 at 0, 1/2 at the midpoint `m`, approaching 1.
#[inline(always)]
pub(crate) fn saturating(x: f64, m: f64) -> f64 {
    x / (x + m)
}

/// `m / (m + x)`: 1 at 0, 1/2 at the midpoint `m`, approaching 0 (0 at `+inf`).
#[inline(always)]
pub(crate) fn saturating_inverse(x: f64, m: f64) -> f64 {
    m / (m + x)
}

/// Exposure: half from the other findings on the resource, half from its other finding types.
/// A finding that names no resource, or is alone on it, has exposure 0.
#[inline(always)]
fn exposure_factor(f: &FeatureRow, w: &Weights) -> f64 {
    let others = f64::from(f.resource_findings.saturating_sub(1));
    let other_types = f64::from(f.resource_distinct_types.saturating_sub(1));
    0.5 * saturating(others, w.exposure_findings_midpoint)
        + 0.5 * saturating(other_types, w.exposure_types_midpoint)
}

/// Group: 0 outside a finding group; else the tactic breadth `t / (t + m)` scaled by
/// `(1 + groupSeverityFactor) / 2`, so a wide, severe multi-stage group counts most.
#[inline(always)]
fn group_factor(f: &FeatureRow, w: &Weights) -> f64 {
    if f.group_tactics == 0 {
        return 0.0;
    }
    let breadth = saturating(f64::from(f.group_tactics), w.group_tactics_midpoint);
    breadth * group_severity_part(f.group_severity)
}

/// The group severity part of the group factor: `(1 + severityFactor) / 2`, from 1/2 to 1.
#[inline(always)]
pub(crate) fn group_severity_part(group_severity: f64) -> f64 {
    0.5 + 0.5 * severity_factor(group_severity)
}

/// `x` when positive, else +0 (negative ages from clock skew, and -0.0, become 0).
#[inline(always)]
pub(crate) fn non_negative(x: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        0.0
    }
}

/// Clamps to `0..=100` with comparisons only (signed zeros normalized to +0).
#[inline(always)]
fn clamp_0_100(x: f64) -> f64 {
    if x > 100.0 {
        100.0
    } else if x > 0.0 {
        x
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> FeatureRow {
        FeatureRow {
            severity: 8.0,
            criticality: 4,
            type_count: 5,
            age_hours: 24.0,
            count: 11,
            resource_findings: 6,
            resource_distinct_types: 3,
            group_tactics: 2,
            group_severity: 10.0,
            archived: false,
            triage: 0,
            sample: false,
        }
    }

    #[test]
    fn factor_values_follow_their_definitions() {
        let s = Scorer::new(&Weights::default()).unwrap();
        let v = s.factor_values(&row());
        // 0.8 · 0.8 rounds to 0.6400000000000001: the exact IEEE product, on every platform.
        assert_eq!(v, [0.8 * 0.8, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]);
    }

    #[test]
    fn explanation_sums_to_the_base_and_value_is_damped() {
        let s = Scorer::new(&Weights::default()).unwrap();
        let score = s.score_row(&row());
        let sum: f64 = score.factors.iter().map(|f| f.contribution).sum();
        assert!((sum - score.base).abs() < 1e-9);
        // 0.4·64 + 0.15·100 + (0.15 + 0.10 + 0.05 + 0.05 + 0.10)·50 = 25.6 + 15 + 22.5
        assert!((score.base - 63.1).abs() < 1e-9, "{}", score.base);
        assert_eq!(score.value, score.base);
        let closed = s.score_row(&FeatureRow {
            triage: 5,
            archived: true,
            ..row()
        });
        assert_eq!(closed.multiplier, 0.2 * 0.5);
        assert_eq!(closed.value, closed.base * 0.1);
    }

    #[test]
    fn all_zero_weights_score_zero() {
        let zero = Weights {
            severity: 0.0,
            criticality: 0.0,
            rarity: 0.0,
            recency: 0.0,
            count: 0.0,
            exposure: 0.0,
            group: 0.0,
            ..Weights::default()
        };
        let s = Scorer::new(&zero).unwrap();
        assert_eq!(s.score_row(&row()).value.to_bits(), 0.0f64.to_bits());
    }

    #[test]
    fn negative_zero_weight_gives_positive_zero() {
        let w = Weights {
            severity: -0.0,
            ..Weights::default()
        };
        let s = Scorer::new(&w).unwrap();
        let f = FeatureRow {
            severity: 10.0,
            criticality: 1,
            type_count: u32::MAX,
            age_hours: f64::INFINITY,
            ..Default::default()
        };
        let score = s.score_row(&FeatureRow {
            criticality: 0,
            ..f
        });
        assert!(score.value.is_sign_positive());
    }

    #[test]
    fn extreme_ages_and_unknown_criticality() {
        let s = Scorer::new(&Weights::default()).unwrap();
        let v = s.factor_values(&FeatureRow {
            age_hours: f64::INFINITY,
            ..row()
        });
        assert_eq!(v[3], 0.0);
        let v = s.factor_values(&FeatureRow {
            age_hours: -5.0,
            criticality: 0,
            ..row()
        });
        assert_eq!(v[3], 1.0);
        assert_eq!(v[1], 0.4);
    }

    #[test]
    fn score_checks_the_row_index() {
        let mut cols = FeatureColumns::default();
        cols.push(row());
        assert!(score(&cols, 0, &Weights::default()).is_ok());
        let err = score(&cols, 1, &Weights::default()).unwrap_err();
        assert!(err.to_string().contains("row 1 is out of range"), "{err}");
        let mut out = vec![0.0; 2];
        assert_eq!(
            score_all(&cols, &Weights::default(), &mut out)
                .unwrap_err()
                .code(),
            "SCORING_COLUMN_LENGTH"
        );
    }
}
