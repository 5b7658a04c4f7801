//! In-memory columnar index over the latest findings: filters, summary widgets, ordering.
