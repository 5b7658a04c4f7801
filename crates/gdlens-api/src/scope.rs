//! The caller's account scope as a cache-key type.
//!
//! A [`ScopeKey`] is derived once per caller from its [`Scope`]: the all-accounts marker, or the
//! SHA-256 of the sorted account set with every id length-prefixed. Two different scopes never
//! share a key (a list holding `"*"` is not the all-accounts scope, and `["1,2"]` is not
//! `["1", "2"]`), so no cache entry made for one caller's scope can answer another's.

use gdlens_domain::Scope;
use sha2::{Digest, Sha256};

/// A canonical, collision-free key of a [`Scope`] for caches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKey {
    /// Every account (only [`Scope::All`] produces it).
    All,
    /// SHA-256 of the sorted, length-prefixed account ids.
    Accounts([u8; 32]),
}

impl ScopeKey {
    /// The key of `scope`.
    pub fn of(scope: &Scope) -> Self {
        match scope {
            Scope::All => ScopeKey::All,
            Scope::Accounts(ids) => {
                let mut h = Sha256::new();
                h.update((ids.len() as u64).to_le_bytes());
                // BTreeSet iterates in sorted order: the same set always hashes the same.
                for id in ids {
                    h.update((id.len() as u64).to_le_bytes());
                    h.update(id.as_bytes());
                }
                ScopeKey::Accounts(h.finalize().into())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn accounts(ids: &[&str]) -> Scope {
        Scope::Accounts(ids.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>())
    }

    #[test]
    fn distinct_scopes_have_distinct_keys() {
        let all = ScopeKey::of(&Scope::All);
        let star = ScopeKey::of(&accounts(&["*"]));
        let none = ScopeKey::of(&accounts(&[]));
        let joined = ScopeKey::of(&accounts(&["1,2"]));
        let pair = ScopeKey::of(&accounts(&["1", "2"]));
        let keys = [all, star, none, joined, pair];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        assert_eq!(pair, ScopeKey::of(&accounts(&["2", "1"])));
    }
}
