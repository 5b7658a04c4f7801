//! String dictionaries: every distinct string gets a dense `u32` code, assigned in order of first sight.
//!
//! The strings live back to back in one arena with an end-offset per code, and the lookup table stores
//! only codes (hashing the arena slice on demand), so a dictionary costs the string bytes plus about
//! 9 bytes per entry: no per-string allocation, no duplicated keys.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Interns strings to dense `u32` codes (0, 1, 2, … in order of first insertion).
#[derive(Default, Clone)]
pub struct Dictionary {
    bytes: String,
    /// `ends[code]` is the end offset of string `code` in `bytes`; its start is `ends[code - 1]` (or 0).
    ends: Vec<u32>,
    table: HashTable<u32>,
    hasher: FxBuildHasher,
}

impl std::fmt::Debug for Dictionary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dictionary")
            .field("len", &self.len())
            .finish()
    }
}

impl Dictionary {
    /// An empty dictionary.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no string was interned yet.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string of a code. Panics on a code this dictionary never issued (an index bug, not bad input).
    pub fn get(&self, code: u32) -> &str {
        let code = code as usize;
        let start = if code == 0 {
            0
        } else {
            self.ends[code - 1] as usize
        };
        &self.bytes[start..self.ends[code] as usize]
    }

    /// The code of `s`, if interned.
    pub fn code(&self, s: &str) -> Option<u32> {
        let hash = self.hash(s);
        self.table.find(hash, |&c| self.get(c) == s).copied()
    }

    /// The code of `s`, interning it first if needed.
    pub fn intern(&mut self, s: &str) -> u32 {
        let hash = self.hash(s);
        if let Some(&c) = self.table.find(hash, |&c| self.get(c) == s) {
            return c;
        }
        let code = u32::try_from(self.ends.len()).expect("more than 4 billion distinct strings");
        self.bytes.push_str(s);
        let end = u32::try_from(self.bytes.len()).expect("dictionary arena over 4 GiB");
        self.ends.push(end);
        // Borrow the fields separately: rehashing needs the arena while the table is mutated.
        let (bytes, ends, hasher) = (&self.bytes, &self.ends, &self.hasher);
        self.table.insert_unique(hash, code, |&c| {
            let c = c as usize;
            let start = if c == 0 { 0 } else { ends[c - 1] as usize };
            hasher.hash_one(&bytes[start..ends[c] as usize])
        });
        code
    }

    /// Every `(code, string)` pair in code order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (0..self.ends.len() as u32).map(move |c| (c, self.get(c)))
    }

    /// Heap bytes held (arena, offsets, table), for the index's memory estimate.
    pub fn memory_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.ends.capacity() * 4
            // hashbrown: one u32 slot plus one control byte per bucket.
            + self.table.capacity() * 5
    }

    fn hash<T: Hash + ?Sized>(&self, s: &T) -> u64 {
        self.hasher.hash_one(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_dense_and_stable() {
        let mut d = Dictionary::new();
        assert_eq!(d.intern("b"), 0);
        assert_eq!(d.intern("a"), 1);
        assert_eq!(d.intern("b"), 0);
        assert_eq!(d.intern(""), 2);
        assert_eq!(d.len(), 3);
        assert_eq!(d.get(0), "b");
        assert_eq!(d.get(1), "a");
        assert_eq!(d.get(2), "");
        assert_eq!(d.code("a"), Some(1));
        assert_eq!(d.code("c"), None);
    }

    #[test]
    fn survives_rehashing() {
        let mut d = Dictionary::new();
        for i in 0..10_000 {
            assert_eq!(d.intern(&format!("finding-{i}")), i);
        }
        for i in 0..10_000 {
            assert_eq!(d.code(&format!("finding-{i}")), Some(i));
            assert_eq!(d.get(i), format!("finding-{i}"));
        }
        assert_eq!(d.iter().count(), 10_000);
    }
}
