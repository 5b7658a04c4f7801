//! moka caches for summaries, finding-group lists and finding pages.
//!
//! Keys hold the normalized query, the variables, the caller's scope and the data generation, so
//! a new generation (import, sync, triage) makes old entries unreachable; they age out by size
//! and time-to-idle. Concurrent identical misses compute once (`try_get_with`).

use std::fmt::Write as _;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use moka::future::Cache;

use crate::error::ApiError;

/// One named cache with hit/miss counters.
pub struct NamedCache<K, V> {
    name: &'static str,
    cache: Cache<K, V>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> NamedCache<K, V>
where
    K: Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// A cache holding at most `capacity` entries, dropping entries idle for 10 minutes.
    pub fn new(name: &'static str, capacity: u64) -> Self {
        NamedCache {
            name,
            cache: Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The value for `key`, computing it once on a miss even under concurrent identical misses.
    pub async fn get_or_compute<F>(&self, key: K, compute: F) -> Result<V, ApiError>
    where
        F: Future<Output = Result<V, ApiError>>,
    {
        if let Some(v) = self.cache.get(&key).await {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(v);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        self.cache
            .try_get_with(key, compute)
            .await
            .map_err(|e: Arc<ApiError>| (*e).clone())
    }

    /// The value for `key` if cached (counts a hit or a miss).
    pub async fn lookup(&self, key: &K) -> Option<V> {
        let v = self.cache.get(key).await;
        let counter = if v.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        v
    }

    /// Stores a value.
    pub async fn insert(&self, key: K, value: V) {
        self.cache.insert(key, value).await;
    }

    /// (hits, misses).
    pub fn stats(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// Entries currently held (approximate).
    pub fn entry_count(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Drops every entry (used by tests and after large re-imports).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    fn render(&self, out: &mut String) {
        let (h, m) = self.stats();
        let _ = writeln!(
            out,
            "gdlens_cache_hits_total{{cache=\"{}\"}} {h}",
            self.name
        );
        let _ = writeln!(
            out,
            "gdlens_cache_misses_total{{cache=\"{}\"}} {m}",
            self.name
        );
        let _ = writeln!(
            out,
            "gdlens_cache_entries{{cache=\"{}\"}} {}",
            self.name,
            self.entry_count()
        );
    }
}

/// A cache key: resolver name, canonical JSON of its arguments, scope, generation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Which resolver (`summary`, `findings`, …).
    pub resolver: &'static str,
    /// Canonical JSON of the normalized arguments.
    pub args: String,
    /// `Scope::cache_key()`.
    pub scope: String,
    /// Data generation.
    pub generation: u64,
}

/// The caches of the API.
pub struct Caches {
    /// `summary` results.
    pub summaries: NamedCache<CacheKey, Arc<crate::schema::SummaryData>>,
    /// `findingGroups` pages.
    pub groups: NamedCache<CacheKey, Arc<Vec<crate::schema::VisibleGroup>>>,
    /// `findings` pages: ordered visible row ids and total.
    pub finding_pages: NamedCache<CacheKey, Arc<crate::query::FindingPage>>,
    /// Whole responses of read-only requests, by (query text, variables, scope, generation).
    pub responses: NamedCache<CacheKey, bytes::Bytes>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            summaries: NamedCache::new("summary", 2_000),
            groups: NamedCache::new("finding_groups", 2_000),
            finding_pages: NamedCache::new("finding_pages", 10_000),
            responses: NamedCache::new("responses", 10_000),
        }
    }
}

impl Caches {
    /// Renders hit/miss/entry metrics for every cache.
    pub fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP gdlens_cache_hits_total Cache hits.\n# TYPE gdlens_cache_hits_total counter\n",
        );
        out.push_str("# HELP gdlens_cache_misses_total Cache misses.\n# TYPE gdlens_cache_misses_total counter\n");
        out.push_str(
            "# HELP gdlens_cache_entries Entries held.\n# TYPE gdlens_cache_entries gauge\n",
        );
        self.summaries.render(out);
        self.groups.render(out);
        self.finding_pages.render(out);
        self.responses.render(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[tokio::test]
    async fn concurrent_identical_misses_compute_once() {
        let cache: Arc<NamedCache<u32, u32>> = Arc::new(NamedCache::new("t", 10));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get_or_compute(1, async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok(42)
                    })
                    .await
                    .unwrap()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 42);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(cache.get_or_compute(1, async { Ok(0) }).await.unwrap(), 42);
        assert!(cache.stats().0 >= 1);
    }
}
