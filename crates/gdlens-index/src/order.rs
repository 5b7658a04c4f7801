//! Orderings of rows for the findings list: by a column, ties by finding id ascending.

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};

use crate::index::FindingIndex;

/// A column the findings list can be ordered by (priority ordering lives in the scoring crate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderField {
    Severity,
    UpdatedAt,
    FirstSeen,
    Count,
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderDirection {
    Asc,
    #[default]
    Desc,
}

impl FindingIndex {
    /// Compares two rows by `field` in `direction`; equal values fall back to the finding id,
    /// always ascending, so the order is total and stable across pages.
    pub fn compare_rows(
        &self,
        a: u32,
        b: u32,
        field: OrderField,
        direction: OrderDirection,
    ) -> Ordering {
        let (x, y) = (a as usize, b as usize);
        let by_field = match field {
            OrderField::Severity => self.severity[x].total_cmp(&self.severity[y]),
            OrderField::UpdatedAt => self.updated_at[x].cmp(&self.updated_at[y]),
            OrderField::FirstSeen => self.first_seen[x].cmp(&self.first_seen[y]),
            OrderField::Count => self.count[x].cmp(&self.count[y]),
        };
        let by_field = match direction {
            OrderDirection::Asc => by_field,
            OrderDirection::Desc => by_field.reverse(),
        };
        by_field.then_with(|| self.id(a).cmp(self.id(b)))
    }

    /// Sorts rows by `field` in `direction`, ties by finding id ascending.
    pub fn sort_rows(&self, rows: &mut [u32], field: OrderField, direction: OrderDirection) {
        rows.sort_unstable_by(|&a, &b| self.compare_rows(a, b, field, direction));
    }

    /// Every row in the order of [`FindingIndex::compare_rows`].
    pub fn ordered_rows(&self, field: OrderField, direction: OrderDirection) -> Vec<u32> {
        self.order_by_key(0..self.len() as u32, self.order_key(field, direction))
    }

    /// [`FindingIndex::ordered_rows`] of an earlier version of this index, brought up to date
    /// after the rows in `changed` were added or changed (see [`FindingIndex::reorder`]).
    pub fn reordered_rows(
        &self,
        order: &[u32],
        changed: &[u32],
        field: OrderField,
        direction: OrderDirection,
    ) -> Vec<u32> {
        self.reorder(order, changed, self.order_key(field, direction))
    }

    /// The fixed-width key of [`FindingIndex::compare_rows`] before the id tie-break.
    fn order_key(&self, field: OrderField, direction: OrderDirection) -> impl Fn(u32) -> u64 + '_ {
        move |row: u32| -> u64 {
            let row = row as usize;
            let v = match field {
                OrderField::Severity => f64_order_key(self.severity[row]),
                OrderField::UpdatedAt => (self.updated_at[row] as u64) ^ (1 << 63),
                OrderField::FirstSeen => (self.first_seen[row] as u64) ^ (1 << 63),
                OrderField::Count => u64::from(self.count[row]),
            };
            match direction {
                OrderDirection::Asc => v,
                OrderDirection::Desc => !v,
            }
        }
    }

    /// `rows` by `key` ascending, ties by finding id ascending. Sorts fixed-width keys (the key,
    /// then the id's first 16 bytes) and compares whole ids only where those tie, so a million
    /// rows sort in a fraction of a second. For a descending order pass `!key`.
    pub fn order_by_key(
        &self,
        rows: impl Iterator<Item = u32>,
        key: impl Fn(u32) -> u64,
    ) -> Vec<u32> {
        let prefix = |row: u32| -> u128 {
            let id = self.id(row).as_bytes();
            let mut b = [0u8; 16];
            let n = id.len().min(16);
            b[..n].copy_from_slice(&id[..n]);
            u128::from_be_bytes(b)
        };
        let mut keyed: Vec<(u64, u128, u32)> = rows.map(|r| (key(r), prefix(r), r)).collect();
        keyed.sort_unstable();
        // Equal key and equal 16-byte prefix: order those runs by the whole id.
        let mut i = 0;
        while i < keyed.len() {
            let mut j = i + 1;
            while j < keyed.len() && keyed[j].0 == keyed[i].0 && keyed[j].1 == keyed[i].1 {
                j += 1;
            }
            if j - i > 1 {
                keyed[i..j].sort_unstable_by(|a, b| self.id(a.2).cmp(self.id(b.2)));
            }
            i = j;
        }
        keyed.into_iter().map(|(_, _, r)| r).collect()
    }
}

impl FindingIndex {
    /// `order` (the rows of an earlier version of this index by `key` ascending, ties by id)
    /// brought up to date after the rows in `changed` got a new key or were added: unchanged
    /// rows keep their relative order, the changed ones are sorted and merged in by binary
    /// search. Equals `order_by_key(0..len, key)` when `changed` names every row whose key moved
    /// and every row `order` lacks; costs one pass over `order` plus `changed · log len`, so a
    /// write of a thousand findings does not re-sort a million rows.
    pub fn reorder(&self, order: &[u32], changed: &[u32], key: impl Fn(u32) -> u64) -> Vec<u32> {
        let n = self.len();
        let mut marked = vec![0u64; n.div_ceil(64)];
        let mut fresh: Vec<u32> = Vec::with_capacity(changed.len());
        for &row in changed {
            let (word, bit) = (row as usize / 64, 1u64 << (row % 64));
            if (row as usize) < n && marked[word] & bit == 0 {
                marked[word] |= bit;
                fresh.push(row);
            }
        }
        let is_marked = |row: u32| marked[row as usize / 64] & (1u64 << (row % 64)) != 0;
        let kept: Vec<u32> = order
            .iter()
            .copied()
            .filter(|&r| (r as usize) < n && !is_marked(r))
            .collect();
        let fresh = self.order_by_key(fresh.into_iter(), &key);
        let before = |a: u32, b: u32| (key(a), self.id(a)) < (key(b), self.id(b));
        let mut out = Vec::with_capacity(kept.len() + fresh.len());
        let mut from = 0;
        for row in fresh {
            let at = from + kept[from..].partition_point(|&k| before(k, row));
            out.extend_from_slice(&kept[from..at]);
            out.push(row);
            from = at;
        }
        out.extend_from_slice(&kept[from..]);
        out
    }
}

/// An `f64` as a `u64` whose unsigned order is [`f64::total_cmp`]'s order.
pub fn f64_order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits ^ (1 << 63)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlens_domain::Finding;

    #[test]
    fn ordered_rows_equals_sorting_with_compare_rows() {
        let mk = |id: String, sev: f64, count: u64, t: i64| Finding {
            id,
            account_id: "1".into(),
            severity: sev,
            count,
            updated_at: t,
            created_at: t - 5,
            ..Finding::default()
        };
        let sev = [5.0, -0.0, 0.0, 8.5, 5.0, 1.0e-9];
        let findings: Vec<Finding> = (0..300)
            .map(|i| {
                // Ids share 16-byte prefixes in places, and differ in length.
                let id = format!("{:0>18}{}", i % 7, "x".repeat(i % 3));
                mk(id, sev[i % sev.len()], (i % 4) as u64, (i % 5) as i64 - 2)
            })
            .collect();
        let index = FindingIndex::build(findings);
        for field in [
            OrderField::Severity,
            OrderField::UpdatedAt,
            OrderField::FirstSeen,
            OrderField::Count,
        ] {
            for direction in [OrderDirection::Asc, OrderDirection::Desc] {
                let mut expected: Vec<u32> = (0..index.len() as u32).collect();
                index.sort_rows(&mut expected, field, direction);
                assert_eq!(
                    index.ordered_rows(field, direction),
                    expected,
                    "{field:?} {direction:?}"
                );
            }
        }
    }

    proptest::proptest! {
        /// Merging the changed rows into the old order equals sorting the new index afresh.
        #[test]
        fn reorder_equals_a_fresh_order(
            old in proptest::collection::vec((0u8..6, 0u8..4), 1..200),
            edits in proptest::collection::vec((0usize..400, 0u8..6), 0..40),
            added in 0usize..30,
        ) {
            let mk = |i: usize, sev: u8, count: u8| Finding {
                // Ids of different lengths and shared prefixes, not in row order.
                id: format!("{:0>17}{}", (i * 7919) % 1000, "z".repeat(i % 3)),
                account_id: "1".into(),
                severity: f64::from(sev),
                count: u64::from(count),
                updated_at: 10,
                ..Finding::default()
            };
            let before: Vec<Finding> = old.iter().enumerate().map(|(i, &(s, c))| mk(i, s, c)).collect();
            let index = FindingIndex::build(before.clone());
            let field = OrderField::Severity;
            let order = index.ordered_rows(field, OrderDirection::Desc);
            let mut after = before.clone();
            let mut changed = Vec::new();
            for &(at, sev) in &edits {
                let i = at % after.len();
                after[i].severity = f64::from(sev);
                changed.push(index.row_id(&after[i].id).unwrap());
            }
            for i in 0..added {
                after.push(mk(old.len() + i, (i % 6) as u8, 1));
            }
            let mut next = index.clone();
            next.upsert_batch(after.iter().map(|f| { let mut f = f.clone(); f.updated_at = 11; f }).collect::<Vec<_>>().iter());
            changed.extend(old.len() as u32..(old.len() + added) as u32);
            proptest::prop_assert_eq!(
                next.reordered_rows(&order, &changed, field, OrderDirection::Desc),
                next.ordered_rows(field, OrderDirection::Desc)
            );
        }
    }

    #[test]
    fn sorts_by_field_then_id() {
        let mk = |id: &str, sev: f64, count: u64| Finding {
            id: id.into(),
            account_id: "1".into(),
            severity: sev,
            count,
            updated_at: 10,
            ..Finding::default()
        };
        let index = FindingIndex::build([mk("c", 5.0, 1), mk("a", 5.0, 3), mk("b", 8.0, 2)]);
        let mut rows: Vec<u32> = (0..3).collect();
        index.sort_rows(&mut rows, OrderField::Severity, OrderDirection::Desc);
        let ids: Vec<&str> = rows.iter().map(|&r| index.id(r)).collect();
        assert_eq!(ids, ["b", "a", "c"]);
        index.sort_rows(&mut rows, OrderField::Severity, OrderDirection::Asc);
        let ids: Vec<&str> = rows.iter().map(|&r| index.id(r)).collect();
        assert_eq!(ids, ["a", "c", "b"]);
        index.sort_rows(&mut rows, OrderField::Count, OrderDirection::Desc);
        let ids: Vec<&str> = rows.iter().map(|&r| index.id(r)).collect();
        assert_eq!(ids, ["a", "b", "c"]);
    }
}
