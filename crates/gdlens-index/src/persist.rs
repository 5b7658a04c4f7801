//! The index in a persisted start-up snapshot: use with `#[serde(with = "gdlens_index::persist")]`.
//! Columns and dictionary arenas are stored; hash tables are rebuilt on load, so a snapshot costs
//! about the index's column and string bytes and loads without re-reading a finding. Tested in
//! `tests/summary_vs_naive.rs` (a persisted index answers every summary and filter as the naive
//! recomputation, and takes later upserts).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::FindingIndex;

/// Writes the index's columns and dictionaries.
pub fn serialize<S: Serializer>(index: &FindingIndex, s: S) -> Result<S::Ok, S::Error> {
    index.serialize(s)
}

/// Reads what [`serialize`] wrote and rebuilds the lookup tables.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FindingIndex, D::Error> {
    let mut index = FindingIndex::deserialize(d)?;
    index.relink();
    Ok(index)
}
