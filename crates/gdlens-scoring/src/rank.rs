//! Deterministic ranking: score descending, ties by a caller-supplied stable key, then by row.
//!
//! The tie order (rows by tie key, then row) does not depend on the scores, so [`TieOrder`]
//! computes it once per set of findings. Ranking is then one gather of the passing rows in tie
//! order and a *stable* LSD radix sort on the 64-bit score key alone: stability keeps equal
//! scores in tie order, so no comparison and no 128-bit key is needed.

use crate::error::ScoringError;

/// Bits per radix digit: 2,048 buckets (an 8 KiB histogram) stay in L1 and keep the scatter
/// writes local; six digits cover a 64-bit key, three a 32-bit tie key.
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
const DIGIT_MASK: u64 = BUCKETS as u64 - 1;
const SCORE_DIGITS: usize = 6;
const TIE_DIGITS: usize = 3;

/// Maps a score to a `u64` whose ascending order is the score's descending order.
/// Total over all bit patterns; `-0.0` and `+0.0` rank equal.
#[inline(always)]
pub fn descending_key(score: f64) -> u64 {
    let bits = (score + 0.0).to_bits();
    // Standard order-preserving transform: flip all bits of negatives, the sign bit of positives.
    let ascending = if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    };
    !ascending
}

/// Rows (indices into `scores`) whose `mask` byte is non-zero (all rows without a mask),
/// ordered by score descending, then `tie_key` ascending, then row ascending.
///
/// `tie_key` is a stable per-row key the caller supplies, e.g. the row's position in the
/// id-sorted order, so equal scores always come out in the same order on every platform.
/// Ranking the same findings repeatedly? Build a [`TieOrder`] once and use
/// [`TieOrder::rank_into`].
pub fn rank(
    scores: &[f64],
    tie_key: &[u32],
    mask: Option<&[u8]>,
) -> Result<Vec<u32>, ScoringError> {
    if tie_key.len() != scores.len() {
        return Err(ScoringError::ColumnLength {
            column: "tieKey",
            expected: scores.len(),
            actual: tie_key.len(),
        });
    }
    let mut scratch = RankScratch::default();
    let mut out = Vec::new();
    TieOrder::new(tie_key)?.rank_into(scores, mask, &mut scratch, &mut out)?;
    Ok(out)
}

/// Rows sorted by (tie key, row): the order in which equal scores are ranked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TieOrder {
    rows: Vec<u32>,
}

/// Reusable buffers for [`TieOrder::rank_into`], so re-ranking allocates nothing.
#[derive(Debug, Clone, Default)]
pub struct RankScratch {
    keys: Vec<u64>,
    keys_alt: Vec<u64>,
    rows_alt: Vec<u32>,
}

impl TieOrder {
    /// Sorts the rows by `tie_key`, then row (a stable radix sort: O(n)).
    pub fn new(tie_key: &[u32]) -> Result<Self, ScoringError> {
        let n = tie_key.len();
        if u32::try_from(n).is_err() {
            return Err(ScoringError::ColumnLength {
                column: "tieKey",
                expected: u32::MAX as usize,
                actual: n,
            });
        }
        let mut scratch = RankScratch {
            keys: tie_key.iter().map(|&t| u64::from(t)).collect(),
            ..RankScratch::default()
        };
        let mut rows: Vec<u32> = (0..n as u32).collect();
        radix_sort(&mut scratch, &mut rows, TIE_DIGITS);
        Ok(TieOrder { rows })
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The rows in tie order.
    pub fn rows(&self) -> &[u32] {
        &self.rows
    }

    /// [`rank`] with this tie order: writes into `out` the rows whose `mask` byte is non-zero,
    /// by score descending, then tie key, then row. `scratch` is reused between calls.
    pub fn rank_into(
        &self,
        scores: &[f64],
        mask: Option<&[u8]>,
        scratch: &mut RankScratch,
        out: &mut Vec<u32>,
    ) -> Result<(), ScoringError> {
        let n = self.rows.len();
        if scores.len() != n {
            return Err(ScoringError::ColumnLength {
                column: "scores",
                expected: n,
                actual: scores.len(),
            });
        }
        if let Some(m) = mask {
            if m.len() != n {
                return Err(ScoringError::ColumnLength {
                    column: "mask",
                    expected: n,
                    actual: m.len(),
                });
            }
        }
        // Gather the passing rows in tie order, with their score keys.
        let keys = &mut scratch.keys;
        keys.clear();
        out.clear();
        match mask {
            None => {
                keys.extend(
                    self.rows
                        .iter()
                        .map(|&r| descending_key(scores[r as usize])),
                );
                out.extend_from_slice(&self.rows);
            }
            Some(m) => {
                for &r in &self.rows {
                    if m[r as usize] != 0 {
                        keys.push(descending_key(scores[r as usize]));
                        out.push(r);
                    }
                }
            }
        }
        radix_sort(scratch, out, SCORE_DIGITS);
        Ok(())
    }
}

/// Stable LSD radix sort of `rows` by `scratch.keys` (the low `digits` 11-bit digits of each
/// key), moving both together. Digits that are equal in every key are skipped (the high digits
/// of small tie keys, the exponent digit when all scores are of one magnitude).
fn radix_sort(scratch: &mut RankScratch, rows: &mut Vec<u32>, digits: usize) {
    let RankScratch {
        keys,
        keys_alt,
        rows_alt,
    } = scratch;
    let n = keys.len();
    debug_assert_eq!(rows.len(), n);
    if n < 2 {
        return;
    }
    let mut counts = [[0u32; BUCKETS]; SCORE_DIGITS];
    let counts = &mut counts[..digits];
    for &k in keys.iter() {
        for (d, c) in counts.iter_mut().enumerate() {
            c[digit(k, d)] += 1;
        }
    }
    keys_alt.resize(n, 0);
    rows_alt.resize(n, 0);
    let first = keys[0];
    for (d, c) in counts.iter().enumerate() {
        if c[digit(first, d)] as usize == n {
            continue; // every key has this digit
        }
        let mut offsets = [0u32; BUCKETS];
        let mut sum = 0u32;
        for (o, &x) in offsets.iter_mut().zip(c.iter()) {
            *o = sum;
            sum += x;
        }
        for (&k, &r) in keys.iter().zip(rows.iter()) {
            let b = digit(k, d);
            let at = offsets[b] as usize;
            offsets[b] += 1;
            keys_alt[at] = k;
            rows_alt[at] = r;
        }
        std::mem::swap(keys, keys_alt);
        std::mem::swap(rows, rows_alt);
    }
}

#[inline(always)]
fn digit(key: u64, d: usize) -> usize {
    ((key >> (DIGIT_BITS as usize * d)) & DIGIT_MASK) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descending_key_orders_scores_descending() {
        let xs = [-1.0, -0.0, 0.0, 1e-300, 0.5, 100.0, f64::INFINITY];
        for w in xs.windows(2) {
            assert!(descending_key(w[0]) >= descending_key(w[1]), "{w:?}");
        }
        assert_eq!(descending_key(-0.0), descending_key(0.0));
    }

    #[test]
    fn ties_break_by_key_then_row() {
        let scores = [5.0, 7.0, 5.0, 5.0, 7.0];
        let tie = [3, 9, 1, 1, 2];
        assert_eq!(rank(&scores, &tie, None).unwrap(), vec![4, 1, 2, 3, 0]);
        assert_eq!(
            rank(&scores, &tie, Some(&[1, 0, 1, 0, 1])).unwrap(),
            vec![4, 2, 0]
        );
        assert_eq!(rank(&[], &[], None).unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn radix_sort_equals_a_comparison_sort() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for n in [0, 1, 63, 64, 65, 1000, 5000] {
            // Few distinct scores and tie keys, so both tie levels are exercised.
            let scores: Vec<f64> = (0..n)
                .map(|_| f64::from(rng.gen_range(0..20u32)) * 2.5)
                .collect();
            let tie: Vec<u32> = (0..n)
                .map(|_| rng.gen_range(0..(n as u32 / 3 + 1)))
                .collect();
            let mut expected: Vec<u32> = (0..n as u32).collect();
            expected.sort_by(|&a, &b| {
                let (a, b) = (a as usize, b as usize);
                scores[b]
                    .total_cmp(&scores[a])
                    .then(tie[a].cmp(&tie[b]))
                    .then(a.cmp(&b))
            });
            assert_eq!(rank(&scores, &tie, None).unwrap(), expected, "n = {n}");
        }
    }

    #[test]
    fn reused_tie_order_and_scratch_match_rank() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut scratch = RankScratch::default();
        let mut out = vec![99; 3];
        // Sizes go down and up so stale scratch contents would show; scores span signs,
        // magnitudes and both zeros; tie keys reach u32::MAX (every digit of both keys varies).
        for n in [3000, 10, 0, 1, 2, 4000] {
            let scores: Vec<f64> = (0..n)
                .map(|_| match rng.gen_range(0..6) {
                    0 => 0.0,
                    1 => -0.0,
                    2 => -rng.gen::<f64>() * 1e6,
                    3 => f64::from(rng.gen_range(0..4u32)),
                    _ => rng.gen::<f64>() * 100.0,
                })
                .collect();
            let tie: Vec<u32> = (0..n)
                .map(|_| {
                    if rng.gen_bool(0.5) {
                        rng.gen()
                    } else {
                        rng.gen_range(0..4)
                    }
                })
                .collect();
            let mask: Vec<u8> = (0..n).map(|_| u8::from(rng.gen_bool(0.7))).collect();
            let mut expected: Vec<u32> = (0..n as u32).filter(|&i| mask[i as usize] == 1).collect();
            expected.sort_by(|&a, &b| {
                let (a, b) = (a as usize, b as usize);
                descending_key(scores[a])
                    .cmp(&descending_key(scores[b]))
                    .then(tie[a].cmp(&tie[b]))
                    .then(a.cmp(&b))
            });
            let order = TieOrder::new(&tie).unwrap();
            assert_eq!(order.len(), n);
            order
                .rank_into(&scores, Some(&mask), &mut scratch, &mut out)
                .unwrap();
            assert_eq!(out, expected, "n = {n}");
            assert_eq!(rank(&scores, &tie, Some(&mask)).unwrap(), expected);
        }
    }

    #[test]
    fn length_mismatches_are_errors() {
        let err = rank(&[1.0], &[], None).unwrap_err();
        assert_eq!(err.to_string(), "column `tieKey` has 0 rows, expected 1");
        let err = rank(&[1.0], &[0], Some(&[])).unwrap_err();
        assert_eq!(err.code(), "SCORING_COLUMN_LENGTH");
        let order = TieOrder::new(&[0, 1]).unwrap();
        let err = order
            .rank_into(&[1.0], None, &mut RankScratch::default(), &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.to_string(), "column `scores` has 1 rows, expected 2");
    }
}
