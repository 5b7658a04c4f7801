//! moka caches, each bounded in bytes, for summaries, finding-group lists, finding pages, whole
//! read-only responses and per-scope views.
//!
//! Keys hold the normalized query, the caller's [`ScopeKey`] (and, for whole responses, the
//! caller's identity) and the data generation, so a new generation makes old entries
//! unreachable; they age out by size and time-to-idle. Concurrent identical misses compute once
//! (`try_get_with`). Every value is weighed by an estimate of the heap bytes it holds.

use std::fmt::Write as _;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gdlens_groups::FindingGroup;
use moka::future::Cache;

use crate::auth::Role;
use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::scope::ScopeKey;
use crate::view::ScopeView;

/// Estimated heap bytes of a cached key or value (what the cache budget counts).
pub trait Weigh {
    /// Bytes, roughly: the cache is bounded by the sum of its keys' and values' weights.
    fn weigh(&self) -> usize;
}

/// One named cache with hit/miss counters.
pub struct NamedCache<K, V> {
    name: &'static str,
    cache: Cache<K, V>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> NamedCache<K, V>
where
    K: Hash + Eq + Send + Sync + Weigh + 'static,
    V: Clone + Send + Sync + Weigh + 'static,
{
    /// A cache holding at most `max_bytes` (by [`Weigh`]), dropping entries idle for 10 minutes.
    pub fn new(name: &'static str, max_bytes: u64) -> Self {
        NamedCache {
            name,
            cache: Cache::builder()
                .max_capacity(max_bytes)
                .weigher(|k: &K, v: &V| {
                    u32::try_from(k.weigh() + v.weigh() + 64).unwrap_or(u32::MAX)
                })
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

    /// Bytes currently held, by [`Weigh`] (approximate).
    pub fn weighted_bytes(&self) -> u64 {
        self.cache.weighted_size()
    }

    /// Drops every entry (used by tests and after large re-imports).
    pub fn invalidate_all(&self) {
        self.cache.invalidate_all();
    }

    fn render(&self, out: &mut String) {
        let (h, m) = self.stats();
        let name = self.name;
        let _ = writeln!(out, "gdlens_cache_hits_total{{cache=\"{name}\"}} {h}");
        let _ = writeln!(out, "gdlens_cache_misses_total{{cache=\"{name}\"}} {m}");
        let _ = writeln!(
            out,
            "gdlens_cache_entries{{cache=\"{name}\"}} {}",
            self.entry_count()
        );
        let _ = writeln!(
            out,
            "gdlens_cache_bytes{{cache=\"{name}\"}} {}",
            self.weighted_bytes()
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
    /// The caller's scope.
    pub scope: ScopeKey,
    /// Data generation.
    pub generation: u64,
}

impl Weigh for CacheKey {
    fn weigh(&self) -> usize {
        self.args.len() + 64
    }
}

/// The key of a whole cached response: everything that can change its bytes, including who
/// asks (`viewer` answers with the caller's name and role).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResponseKey {
    /// Query text, variables and operation name.
    pub request: String,
    /// Token name of the caller.
    pub caller: String,
    /// The caller's role.
    pub role: Role,
    /// The caller's scope.
    pub scope: ScopeKey,
    /// Data generation.
    pub generation: u64,
    /// "Now" truncated to the minute: SLA answers (`Summary.sla`, `overdue`) and data ages move
    /// with the clock, so a cached response lives at most until the minute turns.
    pub minute: i64,
}

impl Weigh for ResponseKey {
    fn weigh(&self) -> usize {
        self.request.len() + self.caller.len() + 64
    }
}

/// The key of a [`ScopeView`]: scope, generation and the five-minute bucket of "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ViewKey {
    /// The scope.
    pub scope: ScopeKey,
    /// Data generation.
    pub generation: u64,
    /// `now / FEATURE_REFRESH_MS`.
    pub bucket: i64,
}

impl Weigh for ViewKey {
    fn weigh(&self) -> usize {
        56
    }
}

impl Weigh for Arc<ScopeView> {
    fn weigh(&self) -> usize {
        self.memory_bytes()
    }
}

impl Weigh for bytes::Bytes {
    fn weigh(&self) -> usize {
        self.len()
    }
}

impl Weigh for Arc<Vec<Arc<FindingGroup>>> {
    fn weigh(&self) -> usize {
        // The groups themselves are shared with the snapshot or the scope's view.
        self.capacity() * 8
    }
}

impl Weigh for Arc<crate::query::FindingPage> {
    fn weigh(&self) -> usize {
        self.rows.capacity() * 16
    }
}

impl Weigh for Arc<crate::schema::SummaryData> {
    fn weigh(&self) -> usize {
        self.memory_bytes()
    }
}

/// The caches of the API.
pub struct Caches {
    /// `summary` results.
    pub summaries: NamedCache<CacheKey, Arc<crate::schema::SummaryData>>,
    /// `findingGroups` lists (visible groups matching a filter, in order).
    pub groups: NamedCache<CacheKey, Arc<Vec<Arc<FindingGroup>>>>,
    /// `findings` pages: ordered row ids and total.
    pub finding_pages: NamedCache<CacheKey, Arc<crate::query::FindingPage>>,
    /// Whole responses of read-only requests.
    pub responses: NamedCache<ResponseKey, bytes::Bytes>,
    /// Account-scoped views (visible groups, scoped features and scores).
    pub views: NamedCache<ViewKey, Arc<ScopeView>>,
    /// Type and title codes a `search` needle hits, by needle, scope and generation. The hits
    /// name dictionary codes (every query applies its own scope on top); the scope is in the key
    /// all the same, so one tenant's searches never make another's faster.
    pub search_hits: NamedCache<SearchKey, Arc<gdlens_index::SearchHits>>,
}

/// The key of a needle's [`gdlens_index::SearchHits`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchKey {
    /// The needle, normalized (trimmed, lower-cased).
    pub needle: String,
    /// The caller's scope.
    pub scope: ScopeKey,
    /// Data generation.
    pub generation: u64,
}

impl Weigh for SearchKey {
    fn weigh(&self) -> usize {
        self.needle.len() + 32
    }
}

impl Weigh for Arc<gdlens_index::SearchHits> {
    fn weigh(&self) -> usize {
        self.memory_bytes()
    }
}

impl Caches {
    /// The caches, sharing `server.cache_max_bytes` between them.
    pub fn new(server: &ServerConfig) -> Self {
        let total = server.cache_max_bytes;
        // Account-scoped views are large (a tenant with a tenth of 1M findings: ~6 MB) but few;
        // responses are small and many. The all-accounts view is held by the state, not here.
        let part = |share: u64| total / 16 * share;
        Caches {
            summaries: NamedCache::new("summary", part(2)),
            groups: NamedCache::new("finding_groups", part(1)),
            finding_pages: NamedCache::new("finding_pages", part(2)),
            responses: NamedCache::new("responses", part(3)),
            views: NamedCache::new("scope_views", part(7)),
            search_hits: NamedCache::new("search_hits", part(1)),
        }
    }

    /// Bytes held by all caches together (by [`Weigh`]).
    pub fn weighted_bytes(&self) -> u64 {
        self.summaries.weighted_bytes()
            + self.groups.weighted_bytes()
            + self.finding_pages.weighted_bytes()
            + self.responses.weighted_bytes()
            + self.views.weighted_bytes()
            + self.search_hits.weighted_bytes()
    }

    /// Renders hit/miss/entry/byte metrics for every cache.
    pub fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP gdlens_cache_hits_total Cache hits.\n# TYPE gdlens_cache_hits_total counter\n",
        );
        out.push_str("# HELP gdlens_cache_misses_total Cache misses.\n# TYPE gdlens_cache_misses_total counter\n");
        out.push_str(
            "# HELP gdlens_cache_entries Entries held.\n# TYPE gdlens_cache_entries gauge\n",
        );
        out.push_str(
            "# HELP gdlens_cache_bytes Estimated bytes held.\n# TYPE gdlens_cache_bytes gauge\n",
        );
        self.summaries.render(out);
        self.groups.render(out);
        self.finding_pages.render(out);
        self.responses.render(out);
        self.views.render(out);
        self.search_hits.render(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    impl Weigh for u32 {
        fn weigh(&self) -> usize {
            4
        }
    }

    impl Weigh for Vec<u8> {
        fn weigh(&self) -> usize {
            self.capacity()
        }
    }

    #[tokio::test]
    async fn concurrent_identical_misses_compute_once() {
        let cache: Arc<NamedCache<u32, u32>> = Arc::new(NamedCache::new("t", 10_000));
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

    #[tokio::test]
    async fn the_budget_is_bytes_not_entries() {
        let cache: NamedCache<u32, Vec<u8>> = NamedCache::new("t", 1 << 20);
        for i in 0..64u32 {
            cache.insert(i, vec![0u8; 64 << 10]).await;
        }
        cache.cache.run_pending_tasks().await;
        // 64 values of 64 KiB do not fit in 1 MiB: at most 16 stay.
        assert!(cache.entry_count() <= 16, "{}", cache.entry_count());
        assert!(cache.weighted_bytes() <= 1 << 20);
    }
}
