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
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlens_domain::Finding;

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
