//! String dictionaries: every distinct string gets a dense `u32` code, assigned in order of first sight.
//!
//! The strings live back to back in one arena with an end-offset per code, and the lookup table stores
//! only codes (hashing the arena slice on demand), so a dictionary costs the string bytes plus about
//! 9 bytes per entry: no per-string allocation, no duplicated keys.

use std::hash::{BuildHasher, Hash};

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

/// Interns strings to dense `u32` codes (0, 1, 2, … in order of first insertion).
///
/// Persisted as its arena and offsets (the lookup table is rebuilt on load).
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(into = "Persisted", from = "Persisted")]
pub struct Dictionary {
    bytes: String,
    /// `ends[code]` is the end offset of string `code` in `bytes`; its start is `ends[code - 1]` (or 0).
    ends: Vec<u32>,
    /// Lower-cased copies of the strings back to back (ASCII-lowered when ASCII, Unicode-lowered
    /// otherwise), kept only once [`Dictionary::keep_folded`] asked: one substring search over
    /// this arena finds every code containing a needle.
    folded: Option<(String, Vec<u32>)>,
    table: HashTable<u32>,
    hasher: FxBuildHasher,
}

/// A copy with room to grow: the index's writer copies a shared dictionary only to intern new
/// strings, and a copy of exactly its length would be copied again, into a buffer twice its
/// size, by the first one.
impl Clone for Dictionary {
    fn clone(&self) -> Self {
        let roomy_string = |s: &str| {
            let mut out = String::with_capacity(s.len() + s.len() / 32 + 65_536);
            out.push_str(s);
            out
        };
        Dictionary {
            bytes: roomy_string(&self.bytes),
            ends: crate::index::roomy(&self.ends),
            folded: self
                .folded
                .as_ref()
                .map(|(arena, ends)| (roomy_string(arena), crate::index::roomy(ends))),
            table: self.table.clone(),
            hasher: self.hasher,
        }
    }
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
        if let Some((arena, ends)) = &mut self.folded {
            push_folded(arena, ends, s);
        }
        // Borrow the fields separately: rehashing needs the arena while the table is mutated.
        let (bytes, ends, hasher) = (&self.bytes, &self.ends, &self.hasher);
        self.table.insert_unique(hash, code, |&c| {
            let c = c as usize;
            let start = if c == 0 { 0 } else { ends[c - 1] as usize };
            hasher.hash_one(&bytes[start..ends[c] as usize])
        });
        code
    }

    /// Keeps a lower-cased arena from now on (built from the strings already interned), so
    /// [`Dictionary::codes_containing`] is one substring search instead of one per string.
    pub fn keep_folded(&mut self) {
        if self.folded.is_some() {
            return;
        }
        let mut arena = String::with_capacity(self.bytes.len());
        let mut ends = Vec::with_capacity(self.ends.len());
        for c in 0..self.ends.len() as u32 {
            let (bytes, starts) = (&self.bytes, &self.ends);
            let start = if c == 0 {
                0
            } else {
                starts[c as usize - 1] as usize
            };
            push_folded(
                &mut arena,
                &mut ends,
                &bytes[start..starts[c as usize] as usize],
            );
        }
        self.folded = Some((arena, ends));
    }

    /// A table by code: whether the string contains `needle` (already lower-cased)
    /// case-insensitively, exactly as `haystack.to_lowercase().contains(needle)`. One memmem
    /// pass over the folded arena when it is kept, else one test per string.
    pub fn codes_containing(
        &self,
        needle: &str,
        fallback: impl Fn(&str, &str) -> bool,
    ) -> Vec<bool> {
        let Some((arena, ends)) = &self.folded else {
            return self.iter().map(|(_, s)| fallback(s, needle)).collect();
        };
        let mut hit = vec![needle.is_empty(); self.ends.len()];
        if needle.is_empty() {
            return hit;
        }
        let finder = memchr::memmem::Finder::new(needle.as_bytes());
        let hay = arena.as_bytes();
        let mut from = 0usize;
        while let Some(i) = finder.find(&hay[from..]) {
            let at = from + i;
            // The string the match starts in: the first whose end lies beyond `at`.
            let code = ends.partition_point(|&e| e as usize <= at);
            let end = ends[code] as usize;
            if at + needle.len() <= end {
                hit[code] = true;
                from = end; // one hit per string is enough
            } else {
                from = at + 1; // the match crosses into the next string
            }
            if from >= hay.len() {
                break;
            }
        }
        hit
    }

    /// Every `(code, string)` pair in code order.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &str)> + '_ {
        (0..self.ends.len() as u32).map(move |c| (c, self.get(c)))
    }

    /// Heap bytes held (arena, offsets, table), for the index's memory estimate.
    pub fn memory_bytes(&self) -> usize {
        self.bytes.capacity()
            + self.ends.capacity() * 4
            + self
                .folded
                .as_ref()
                .map_or(0, |(a, e)| a.capacity() + e.capacity() * 4)
            // hashbrown: one u32 slot plus one control byte per bucket.
            + self.table.capacity() * 5
    }

    fn hash<T: Hash + ?Sized>(&self, s: &T) -> u64 {
        self.hasher.hash_one(s)
    }
}

/// What a persisted snapshot keeps of a dictionary.
#[derive(serde::Serialize, serde::Deserialize)]
struct Persisted {
    bytes: String,
    ends: Vec<u32>,
    folded: Option<(String, Vec<u32>)>,
}

impl From<Dictionary> for Persisted {
    fn from(d: Dictionary) -> Self {
        Persisted {
            bytes: d.bytes,
            ends: d.ends,
            folded: d.folded,
        }
    }
}

impl From<Persisted> for Dictionary {
    fn from(p: Persisted) -> Self {
        let mut d = Dictionary {
            bytes: p.bytes,
            ends: p.ends,
            folded: p.folded,
            table: HashTable::new(),
            hasher: FxBuildHasher,
        };
        d.table.reserve(d.ends.len(), |_| 0);
        let (bytes, ends, hasher) = (&d.bytes, &d.ends, &d.hasher);
        let slice = |c: u32| {
            let c = c as usize;
            let start = if c == 0 { 0 } else { ends[c - 1] as usize };
            &bytes[start..ends[c] as usize]
        };
        for code in 0..ends.len() as u32 {
            d.table
                .insert_unique(hasher.hash_one(slice(code)), code, |&c| {
                    hasher.hash_one(slice(c))
                });
        }
        d
    }
}

fn push_folded(arena: &mut String, ends: &mut Vec<u32>, s: &str) {
    if s.is_ascii() {
        arena.extend(s.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        arena.push_str(&s.to_lowercase());
    }
    ends.push(u32::try_from(arena.len()).expect("folded arena over 4 GiB"));
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
    fn folded_search_finds_each_string_once_and_never_across_two() {
        let mut d = Dictionary::new();
        for s in ["SSH Brute", "force", "ÜBER tor", "abc", "bru"] {
            d.intern(s);
        }
        let naive = |h: &str, n: &str| h.to_lowercase().contains(n);
        let before = d.codes_containing("brute", naive);
        d.keep_folded();
        d.intern("BRUTE late");
        for needle in ["brute", "über", "ebru", "cb", "", "late", "tor", "x"] {
            let fast = d.codes_containing(needle, naive);
            let slow: Vec<bool> = d.iter().map(|(_, s)| naive(s, needle)).collect();
            assert_eq!(fast, slow, "{needle}");
        }
        assert_eq!(&d.codes_containing("brute", naive)[..5], &before[..]);
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
