//! Finding pages: filter in scope, order by a key with ties by id, keyset cursors.
//!
//! A cursor encodes the order, the sort key and the finding id of the last row, so it stays
//! valid while data changes: the next page starts strictly after that (key, id) position.

use std::cmp::Ordering;

use base64::Engine as _;
use gdlens_index::FindingIndex;

use crate::error::{ApiError, ApiResult};

/// The order fields of the findings list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, serde::Serialize)]
#[graphql(name = "FindingOrderField")]
pub enum OrderField {
    /// Priority score (scoring crate), highest first by default.
    Priority,
    /// Numeric severity.
    Severity,
    /// `updatedAt`.
    UpdatedAt,
    /// First seen.
    FirstSeen,
    /// `service.count`.
    Count,
}

/// Ascending or descending.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum, serde::Serialize, Default,
)]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest first.
    #[default]
    Desc,
}

/// A position in an ordered list.
#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    /// Order it belongs to.
    pub field: OrderField,
    /// Direction it belongs to.
    pub direction: OrderDirection,
    /// Sort key of the row.
    pub key: f64,
    /// Finding id of the row.
    pub id: String,
}

impl Cursor {
    /// Opaque base64url text.
    pub fn encode(&self) -> String {
        let text = format!(
            "{}|{}|{:016x}|{}",
            field_code(self.field),
            if self.direction == OrderDirection::Asc {
                'a'
            } else {
                'd'
            },
            self.key.to_bits(),
            self.id
        );
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
    }

    /// Parses a cursor; it must belong to the same order.
    pub fn decode(s: &str, field: OrderField, direction: OrderDirection) -> ApiResult<Self> {
        let bad = || ApiError::bad_input("after", "not a cursor returned by this API");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = text.splitn(4, '|');
        let (f, d, k, id) = (parts.next(), parts.next(), parts.next(), parts.next());
        let (Some(f), Some(d), Some(k), Some(id)) = (f, d, k, id) else {
            return Err(bad());
        };
        let dir = if d == "a" {
            OrderDirection::Asc
        } else {
            OrderDirection::Desc
        };
        if f != field_code(field) || dir != direction {
            return Err(ApiError::bad_input(
                "after",
                "cursor belongs to a different orderBy",
            ));
        }
        let key = f64::from_bits(u64::from_str_radix(k, 16).map_err(|_| bad())?);
        Ok(Cursor {
            field,
            direction,
            key,
            id: id.to_string(),
        })
    }
}

/// A generic keyset cursor over (key, id) for lists other than findings (finding groups).
pub fn encode_simple(kind: &str, key: f64, id: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{kind}|{:016x}|{id}", key.to_bits()))
}

/// Decodes [`encode_simple`].
pub fn decode_simple(kind: &str, s: &str) -> ApiResult<(f64, String)> {
    let bad = || ApiError::bad_input("after", "not a cursor returned by this API");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let mut parts = text.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(k), Some(key), Some(id)) if k == kind => {
            let key = f64::from_bits(u64::from_str_radix(key, 16).map_err(|_| bad())?);
            Ok((key, id.to_string()))
        }
        _ => Err(bad()),
    }
}

fn field_code(f: OrderField) -> &'static str {
    match f {
        OrderField::Priority => "p",
        OrderField::Severity => "s",
        OrderField::UpdatedAt => "u",
        OrderField::FirstSeen => "f",
        OrderField::Count => "c",
    }
}

/// One computed page of findings.
#[derive(Debug, Clone, PartialEq)]
pub struct FindingPage {
    /// Matching findings in scope.
    pub total: usize,
    /// Rows of this page with their sort keys, in order.
    pub rows: Vec<(u32, f64)>,
    /// Whether more rows follow.
    pub has_next: bool,
}

/// The index's order of an API order field (`None` for PRIORITY, which needs scores).
pub fn index_order(
    field: OrderField,
    direction: OrderDirection,
) -> Option<(gdlens_index::OrderField, gdlens_index::OrderDirection)> {
    let field = match field {
        OrderField::Priority => return None,
        OrderField::Severity => gdlens_index::OrderField::Severity,
        OrderField::UpdatedAt => gdlens_index::OrderField::UpdatedAt,
        OrderField::FirstSeen => gdlens_index::OrderField::FirstSeen,
        OrderField::Count => gdlens_index::OrderField::Count,
    };
    let direction = match direction {
        OrderDirection::Asc => gdlens_index::OrderDirection::Asc,
        OrderDirection::Desc => gdlens_index::OrderDirection::Desc,
    };
    Some((field, direction))
}

/// The sort key of a row for the index's own columns (`None` for PRIORITY, which needs scores).
pub fn column_key(index: &FindingIndex, field: OrderField, row: u32) -> Option<f64> {
    Some(match field {
        OrderField::Priority => return None,
        OrderField::Severity => index.severity(row),
        OrderField::UpdatedAt => index.updated_at(row) as f64,
        OrderField::FirstSeen => index.first_seen(row) as f64,
        OrderField::Count => index.count(row) as f64,
    })
}

fn compare(dir: OrderDirection, a: (f64, &str), b: (f64, &str)) -> Ordering {
    let by_key = a.0.total_cmp(&b.0);
    let by_key = if dir == OrderDirection::Desc {
        by_key.reverse()
    } else {
        by_key
    };
    by_key.then_with(|| a.1.cmp(b.1))
}

/// Orders `rows` by `key` (ties by finding id ascending) and cuts the page after `after`:
/// O(n) selection plus a sort of the page. The page's vector holds the page only.
pub fn page(
    index: &FindingIndex,
    key: &dyn Fn(u32) -> f64,
    rows: Vec<u32>,
    direction: OrderDirection,
    after: Option<&Cursor>,
    first: usize,
) -> FindingPage {
    let total = rows.len();
    let mut keyed: Vec<(u32, f64)> = rows
        .into_iter()
        .map(|r| (r, key(r)))
        .filter(|&(r, k)| match after {
            Some(c) => compare(direction, (k, index.id(r)), (c.key, &c.id)) == Ordering::Greater,
            None => true,
        })
        .collect();
    let cmp = |a: &(u32, f64), b: &(u32, f64)| {
        compare(direction, (a.1, index.id(a.0)), (b.1, index.id(b.0)))
    };
    let has_next = keyed.len() > first;
    if keyed.len() > first + 1 && first > 0 {
        keyed.select_nth_unstable_by(first, cmp);
    }
    keyed.truncate(first);
    keyed.sort_unstable_by(cmp);
    // `truncate` keeps the capacity of every matching row: a cached page must hold its page only.
    keyed.shrink_to_fit();
    FindingPage {
        total,
        rows: keyed,
        has_next,
    }
}

/// A page from a precomputed order (by `key` in `direction`, ties by id ascending): skip to the
/// cursor by binary search, then test rows in order until the page is full. Costs about
/// page size ÷ selectivity row tests instead of a sort of every match; the total is one
/// allocation-free count with the same compiled filter.
pub fn walk(
    index: &FindingIndex,
    order: &[u32],
    key: &dyn Fn(u32) -> f64,
    direction: OrderDirection,
    filter: &gdlens_index::CompiledFilter<'_>,
    after: Option<&Cursor>,
    first: usize,
) -> FindingPage {
    let total = filter.count();
    let start = match after {
        None => 0,
        Some(c) => order.partition_point(|&r| {
            compare(direction, (key(r), index.id(r)), (c.key, &c.id)) != Ordering::Greater
        }),
    };
    let mut rows = Vec::with_capacity(first.min(total));
    let mut has_next = false;
    for &r in &order[start..] {
        if filter.matches(r) {
            if rows.len() == first {
                has_next = true;
                break;
            }
            rows.push((r, key(r)));
        }
    }
    FindingPage {
        total,
        rows,
        has_next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_order_check() {
        let c = Cursor {
            field: OrderField::Severity,
            direction: OrderDirection::Desc,
            key: 8.5,
            id: "abc|def".into(),
        };
        let s = c.encode();
        assert_eq!(
            Cursor::decode(&s, OrderField::Severity, OrderDirection::Desc).unwrap(),
            c
        );
        assert!(Cursor::decode(&s, OrderField::Count, OrderDirection::Desc).is_err());
        assert!(Cursor::decode("!!", OrderField::Count, OrderDirection::Desc).is_err());
    }

    #[test]
    fn simple_cursor_round_trip() {
        let s = encode_simple("g", 71.5, "grp-1");
        assert_eq!(decode_simple("g", &s).unwrap(), (71.5, "grp-1".to_string()));
        assert!(decode_simple("x", &s).is_err());
    }
}
