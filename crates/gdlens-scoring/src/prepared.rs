//! Feature columns prepared once for scoring the same findings many times with different
//! weights: the WASM `Ranker` re-scores every row on each slider move.
//!
//! Four factors are a curve `x/(x+m)` (or `m/(m+x)`) of an integer feature with few distinct
//! values (type counts, repeat counts, findings and types per resource), and the divisions are
//! most of the cost of a score. [`PreparedFeatures`] encodes each such column once as codes
//! into its distinct values; a re-score evaluates each curve once per distinct value and looks
//! it up per row (the group tactic curve and the multipliers likewise, over their 256 and 8
//! possible inputs). The same functions on the same inputs, combined in the same order: scores
//! are bit-identical to [`Scorer::score_into`].

use crate::error::ScoringError;
use crate::features::FeatureColumns;
use crate::rank::TieOrder;
use crate::score::{
    criticality_factor, group_severity_part, is_closed, non_negative, saturating,
    saturating_inverse, severity_factor, Scorer,
};

/// An integer column as codes into its distinct values, with a per-score table of curve values.
#[derive(Debug, Clone, Default)]
struct Distinct {
    values: Vec<u32>,
    codes: Vec<u32>,
    table: Vec<f64>,
}

impl Distinct {
    /// `column[i] - minus` (saturating) for every row, encoded.
    fn new(column: &[u32], minus: u32) -> Result<Self, ScoringError> {
        let column: Vec<u32> = column.iter().map(|&x| x.saturating_sub(minus)).collect();
        // Rows grouped by value with the crate's radix sort (no second sort routine in the .wasm).
        let by_value = TieOrder::new(&column)?;
        let mut values = Vec::new();
        let mut codes = vec![0u32; column.len()];
        for &row in by_value.rows() {
            let v = column[row as usize];
            if values.last() != Some(&v) {
                values.push(v);
            }
            codes[row as usize] = values.len() as u32 - 1;
        }
        Ok(Distinct {
            values,
            codes,
            table: Vec::new(),
        })
    }

    /// Evaluates the curve with midpoint `m` once per distinct value: `x/(x+m)`, or `m/(m+x)`
    /// when `inverse`.
    fn tabulate(&mut self, m: f64, inverse: bool) {
        self.table.clear();
        self.table.extend(self.values.iter().map(|&v| {
            let x = f64::from(v);
            if inverse {
                saturating_inverse(x, m)
            } else {
                saturating(x, m)
            }
        }));
    }
}

/// Feature columns encoded for repeated scoring (see the module docs).
#[derive(Debug, Clone)]
pub struct PreparedFeatures {
    type_count: Distinct,
    repeats: Distinct,
    other_findings: Distinct,
    other_types: Distinct,
    breadth: [f64; 256],
}

impl PreparedFeatures {
    /// Encodes `columns` (which should have passed [`FeatureColumns::validate`]).
    pub fn new(columns: &FeatureColumns) -> Result<Self, ScoringError> {
        let c = columns;
        Ok(PreparedFeatures {
            type_count: Distinct::new(&c.type_count, 0)?,
            repeats: Distinct::new(&c.count, 1)?,
            other_findings: Distinct::new(&c.resource_findings, 1)?,
            other_types: Distinct::new(&c.resource_distinct_types, 1)?,
            breadth: [0.0; 256],
        })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.type_count.codes.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Scores every row of `columns`, the columns these were prepared from, into `out` with
    /// `scorer`: bit for bit what [`Scorer::score_into`] gives. Panics when `columns` has a
    /// different row count or `out` is shorter.
    pub fn score_into(&mut self, columns: &FeatureColumns, scorer: &Scorer, out: &mut [f64]) {
        // A plain assert: no value formatting code in the .wasm.
        assert!(
            columns.len() == self.len(),
            "not the columns these were prepared from"
        );
        let w = *scorer.weights();
        // Per distinct value, the same expressions as `Scorer::factor_values` per row.
        self.type_count.tabulate(w.rarity_midpoint, true);
        self.repeats.tabulate(w.count_midpoint, false);
        self.other_findings
            .tabulate(w.exposure_findings_midpoint, false);
        self.other_types.tabulate(w.exposure_types_midpoint, false);
        for (t, b) in self.breadth.iter_mut().enumerate() {
            *b = saturating(t as f64, w.group_tactics_midpoint);
        }
        // Every combination of the closed (1), archived (2) and sample (4) flags, multiplied in
        // the order of `Scorer::multiplier`.
        let mut multipliers = [1.0; 8];
        for (flags, m) in multipliers.iter_mut().enumerate() {
            for (bit, factor) in [
                w.closed_multiplier,
                w.archived_multiplier,
                w.sample_multiplier,
            ]
            .into_iter()
            .enumerate()
            {
                if flags & (1 << bit) != 0 {
                    *m *= factor;
                }
            }
        }

        let n = self.len();
        let out = &mut out[..n];
        let c = columns;
        let (sev, crit, age, tactics, group_sev) = (
            &c.severity[..n],
            &c.criticality[..n],
            &c.age_hours[..n],
            &c.group_tactics[..n],
            &c.group_severity[..n],
        );
        let (triage, archived, sample) = (&c.triage[..n], &c.archived[..n], &c.sample[..n]);
        let (rarity, rarity_code) = (&self.type_count.table, &self.type_count.codes[..n]);
        let (count, count_code) = (&self.repeats.table, &self.repeats.codes[..n]);
        let (others, others_code) = (&self.other_findings.table, &self.other_findings.codes[..n]);
        let (types, types_code) = (&self.other_types.table, &self.other_types.codes[..n]);
        let breadth = &self.breadth;
        for (i, slot) in out.iter_mut().enumerate() {
            let t = tactics[i];
            let values = [
                severity_factor(sev[i]),
                criticality_factor(crit[i]),
                rarity[rarity_code[i] as usize],
                saturating_inverse(non_negative(age[i]), w.recency_midpoint_hours),
                count[count_code[i] as usize],
                0.5 * others[others_code[i] as usize] + 0.5 * types[types_code[i] as usize],
                if t == 0 {
                    0.0
                } else {
                    breadth[t as usize] * group_severity_part(group_sev[i])
                },
            ];
            let flags = usize::from(is_closed(triage[i]))
                | usize::from(archived[i] != 0) << 1
                | usize::from(sample[i] != 0) << 2;
            *slot = scorer.combine(values, multipliers[flags]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureRow;
    use crate::weights::Weights;
    use rand::{Rng, SeedableRng};

    /// Columns with few and many distinct values, extremes (0, u32::MAX, +inf, negative ages)
    /// and every flag combination.
    fn columns(rng: &mut rand_chacha::ChaCha8Rng, n: usize) -> FeatureColumns {
        let mut cols = FeatureColumns::default();
        let int = |rng: &mut rand_chacha::ChaCha8Rng| match rng.gen_range(0..5) {
            0 => 0,
            1 => u32::MAX,
            2 => rng.gen_range(0..5),
            _ => rng.gen_range(0..100_000),
        };
        for _ in 0..n {
            cols.push(FeatureRow {
                severity: rng.gen_range(0.0..12.0),
                criticality: rng.gen_range(0..5),
                type_count: int(rng),
                age_hours: match rng.gen_range(0..4) {
                    0 => f64::INFINITY,
                    1 => -rng.gen_range(0.0..10.0),
                    _ => rng.gen_range(0.0..5000.0),
                },
                count: int(rng),
                resource_findings: int(rng),
                resource_distinct_types: int(rng),
                group_tactics: if rng.gen_bool(0.3) { rng.gen() } else { 0 },
                group_severity: rng.gen_range(0.0..10.0),
                archived: rng.gen_bool(0.3),
                triage: rng.gen_range(0..6),
                sample: rng.gen_bool(0.3),
            });
        }
        cols
    }

    fn weights(rng: &mut rand_chacha::ChaCha8Rng) -> Weights {
        let mut w = || {
            if rng.gen_bool(0.2) {
                0.0
            } else {
                rng.gen_range(0.0..100.0)
            }
        };
        Weights {
            severity: w(),
            criticality: w(),
            rarity: w(),
            recency: w(),
            count: w(),
            exposure: w(),
            group: w(),
            rarity_midpoint: 0.5 + w(),
            recency_midpoint_hours: 0.5 + w(),
            count_midpoint: 0.5 + w(),
            exposure_findings_midpoint: 0.5 + w(),
            exposure_types_midpoint: 0.5 + w(),
            group_tactics_midpoint: 0.5 + w(),
            closed_multiplier: w() / 100.0,
            archived_multiplier: w() / 100.0,
            sample_multiplier: w() / 100.0,
        }
    }

    #[test]
    fn prepared_scores_are_bit_identical_to_direct_scores() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for n in [0, 1, 2000] {
            let cols = columns(&mut rng, n);
            let mut prepared = PreparedFeatures::new(&cols).unwrap();
            assert_eq!(prepared.len(), n);
            let (mut direct, mut fast) = (vec![0.0; n], vec![0.0; n]);
            for k in 0..30 {
                let w = if k == 0 {
                    Weights::default()
                } else {
                    weights(&mut rng)
                };
                let scorer = Scorer::new(&w).unwrap();
                scorer.score_into(&cols, &mut direct);
                prepared.score_into(&cols, &scorer, &mut fast);
                let bits = |xs: &[f64]| xs.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fast), bits(&direct), "n = {n}, weights {w:?}");
            }
        }
    }

    #[test]
    fn distinct_codes_name_their_values() {
        let d = Distinct::new(&[7, 3, 7, u32::MAX, 3, 0], 0).unwrap();
        assert_eq!(d.values, vec![0, 3, 7, u32::MAX]);
        assert_eq!(d.codes, vec![2, 1, 2, 3, 1, 0]);
        let d = Distinct::new(&[0, 1, 2], 1).unwrap();
        assert_eq!((d.values, d.codes), (vec![0, 1], vec![0, 0, 1]));
    }
}
