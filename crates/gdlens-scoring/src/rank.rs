//! Deterministic ranking: score descending, ties by a caller-supplied stable key, then by row.

use crate::error::ScoringError;

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
pub fn rank(
    scores: &[f64],
    tie_key: &[u32],
    mask: Option<&[u8]>,
) -> Result<Vec<u32>, ScoringError> {
    let mut keys = Vec::new();
    let mut out = Vec::new();
    rank_into(scores, tie_key, mask, &mut keys, &mut out)?;
    Ok(out)
}

/// [`rank`] reusing the caller's buffers (`keys` is scratch space; `out` receives the order).
pub fn rank_into(
    scores: &[f64],
    tie_key: &[u32],
    mask: Option<&[u8]>,
    keys: &mut Vec<u128>,
    out: &mut Vec<u32>,
) -> Result<(), ScoringError> {
    let n = scores.len();
    if tie_key.len() != n {
        return Err(ScoringError::ColumnLength {
            column: "tieKey",
            expected: n,
            actual: tie_key.len(),
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
    if u32::try_from(n).is_err() {
        return Err(ScoringError::ColumnLength {
            column: "scores",
            expected: u32::MAX as usize,
            actual: n,
        });
    }
    keys.clear();
    let pack = |i: usize| -> u128 {
        (u128::from(descending_key(scores[i])) << 64) | (u128::from(tie_key[i]) << 32) | i as u128
    };
    match mask {
        None => keys.extend((0..n).map(pack)),
        Some(m) => keys.extend((0..n).filter(|&i| m[i] != 0).map(pack)),
    }
    // Keys come in ascending row order and are unique (they contain the row), so a stable LSD
    // radix sort on the score and tie-key bytes alone gives the full, deterministic order.
    radix_sort_by_score_and_tie(keys);
    out.clear();
    out.extend(keys.iter().map(|&k| k as u32));
    Ok(())
}

/// Stable LSD radix sort of packed keys on bytes 4..16 (tie key, then score), one byte per
/// pass; passes whose byte is the same in every key are skipped (the high bytes of a 0–100
/// score and of small tie keys usually are). O(n) per pass, no comparisons: in WASM this is
/// several times faster than a comparison sort of `u128`s.
fn radix_sort_by_score_and_tie(keys: &mut Vec<u128>) {
    const FIRST_BYTE: usize = 4;
    const BYTES: usize = 12;
    let n = keys.len();
    if n < 64 {
        keys.sort_unstable();
        return;
    }
    let mut counts = vec![[0u32; 256]; BYTES];
    for &k in keys.iter() {
        for (b, c) in counts.iter_mut().enumerate() {
            c[((k >> (8 * (FIRST_BYTE + b))) & 0xff) as usize] += 1;
        }
    }
    let mut buffer = vec![0u128; n];
    for (b, c) in counts.iter().enumerate() {
        if c.iter().any(|&x| x as usize == n) {
            continue; // every key has the same byte here
        }
        let mut offsets = [0usize; 256];
        let mut sum = 0usize;
        for (o, &x) in offsets.iter_mut().zip(c.iter()) {
            *o = sum;
            sum += x as usize;
        }
        let shift = 8 * (FIRST_BYTE + b);
        for &k in keys.iter() {
            let d = ((k >> shift) & 0xff) as usize;
            buffer[offsets[d]] = k;
            offsets[d] += 1;
        }
        std::mem::swap(keys, &mut buffer);
    }
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
    fn length_mismatches_are_errors() {
        let err = rank(&[1.0], &[], None).unwrap_err();
        assert_eq!(err.to_string(), "column `tieKey` has 0 rows, expected 1");
        let err = rank(&[1.0], &[0], Some(&[])).unwrap_err();
        assert_eq!(err.code(), "SCORING_COLUMN_LENGTH");
    }
}
