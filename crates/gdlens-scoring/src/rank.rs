//! Deterministic ranking: score descending, ties by a caller-supplied stable key, then by row.
//!
//! The tie order (rows by tie key, then row) does not depend on the scores, so [`TieOrder`]
//! computes it once per set of findings. Ranking then gathers the passing rows in tie order and
//! sorts them *stably* by score, so equal scores stay in tie order without a wider key:
//!
//! 1. each row becomes one `u64`: the high 32 bits of its score key, then the row;
//! 2. a stable LSD radix sort on those 32 bits (three 11-bit digits; digits equal in every key
//!    are skipped) orders the rows by score up to ~7 significant digits;
//! 3. rows whose high 32 bits collide (equal scores, or scores within a relative 1e-6) are
//!    re-sorted stably by the low 32 bits: insertion sort for the short runs real data has, the
//!    same radix sort for long ones, so the worst case (every score in one run) stays O(n).
//!
//! Eight bytes per row and three passes instead of a 64-bit key plus payload in six passes: the
//! sort is memory-bound, so this is what makes a 100,000-row re-rank fast in WASM.

use crate::error::ScoringError;

/// Bits per radix digit: 2,048 buckets (an 8 KiB histogram) stay in L1 and keep the scatter
/// writes local; three digits cover the 32-bit high half of a packed key.
const DIGIT_BITS: u32 = 11;
const BUCKETS: usize = 1 << DIGIT_BITS;
const DIGIT_MASK: u64 = BUCKETS as u64 - 1;
const DIGITS: usize = 3;

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
    packed: Vec<u64>,
    alt: Vec<u64>,
    run: Vec<u64>,
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
        let mut packed: Vec<u64> = tie_key
            .iter()
            .enumerate()
            .map(|(row, &t)| (u64::from(t) << 32) | row as u64)
            .collect();
        radix_sort_high_half(&mut packed, &mut Vec::new());
        Ok(TieOrder {
            rows: packed.iter().map(|&p| p as u32).collect(),
        })
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
        // 1. The passing rows in tie order, each packed with the high half of its score key.
        let pack = |r: u32| (descending_key(scores[r as usize]) & HIGH_HALF) | u64::from(r);
        let packed = &mut scratch.packed;
        packed.clear();
        match mask {
            None => packed.extend(self.rows.iter().map(|&r| pack(r))),
            Some(m) => packed.extend(
                self.rows
                    .iter()
                    .filter(|&&r| m[r as usize] != 0)
                    .map(|&r| pack(r)),
            ),
        }
        // 2. Stable sort on the high half.
        radix_sort_high_half(packed, &mut scratch.alt);
        out.clear();
        out.extend(packed.iter().map(|&p| p as u32));
        // 3. Runs with equal high halves: stable sort by the low half of the full key.
        let mut start = 0;
        while start < packed.len() {
            let high = packed[start] & HIGH_HALF;
            let len = packed[start..]
                .iter()
                .position(|&p| p & HIGH_HALF != high)
                .unwrap_or(packed.len() - start);
            if len > 1 {
                sort_run_by_low_half(
                    &mut out[start..start + len],
                    scores,
                    &mut scratch.run,
                    &mut scratch.alt,
                );
            }
            start += len;
        }
        Ok(())
    }
}

/// Runs up to this length are insertion-sorted; longer ones radix-sorted.
const SHORT_RUN: usize = 48;

/// Stable sort of `rows` (all sharing the high half of their score key) by the low half.
/// Short runs (the common case) by insertion; long ones with the same radix sort as the main
/// pass, so even a run of every row stays O(k) and no second sort routine enlarges the module.
fn sort_run_by_low_half(rows: &mut [u32], scores: &[f64], run: &mut Vec<u64>, alt: &mut Vec<u64>) {
    let low = |r: u32| descending_key(scores[r as usize]) & !HIGH_HALF;
    if rows.len() <= SHORT_RUN {
        for i in 1..rows.len() {
            let (r, k) = (rows[i], low(rows[i]));
            let mut j = i;
            while j > 0 && low(rows[j - 1]) > k {
                rows[j] = rows[j - 1];
                j -= 1;
            }
            rows[j] = r;
        }
        return;
    }
    run.clear();
    run.extend(rows.iter().map(|&r| (low(r) << 32) | u64::from(r)));
    radix_sort_high_half(run, alt);
    for (slot, &p) in rows.iter_mut().zip(run.iter()) {
        *slot = p as u32;
    }
}

const HIGH_HALF: u64 = !0 << 32;

/// Stable LSD radix sort of `keys` by their high 32 bits (three 11-bit digits), using `alt` as
/// the second buffer. Digits equal in every key are skipped (the high digits of small tie keys,
/// the exponent digit when all scores have one magnitude).
fn radix_sort_high_half(keys: &mut Vec<u64>, alt: &mut Vec<u64>) {
    let n = keys.len();
    if n < 2 {
        return;
    }
    let mut counts = [[0u32; BUCKETS]; DIGITS];
    for &k in keys.iter() {
        for (d, c) in counts.iter_mut().enumerate() {
            c[digit(k, d)] += 1;
        }
    }
    alt.resize(n, 0);
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
        for &k in keys.iter() {
            let b = digit(k, d);
            alt[offsets[b] as usize] = k;
            offsets[b] += 1;
        }
        std::mem::swap(keys, alt);
    }
}

/// Digit `d` (0 = least significant) of the high 32 bits of `key`.
#[inline(always)]
fn digit(key: u64, d: usize) -> usize {
    ((key >> (32 + DIGIT_BITS as usize * d)) & DIGIT_MASK) as usize
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
    fn scores_that_differ_only_in_low_bits_are_ordered_exactly() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        // Long runs sharing the high 32 bits of their key (a few ulps apart, some equal), mixed
        // with ordinary scores, so the full-key pass re-sorts runs of every length.
        let base = [50.0f64, 7.25, 99.5];
        // 5,000 rows: runs of ~1,300 (radix path); 150 rows: runs of ~40 (insertion path).
        for n in [5000, 150] {
            let scores: Vec<f64> = (0..n)
                .map(|_| {
                    if rng.gen_bool(0.8) {
                        f64::from_bits(base[rng.gen_range(0..3)].to_bits() + rng.gen_range(0..40))
                    } else {
                        rng.gen::<f64>() * 100.0
                    }
                })
                .collect();
            let tie: Vec<u32> = (0..n).map(|_| rng.gen_range(0..100)).collect();
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
