//! Application state: the published [`Snapshot`] readers load, the one write path that
//! replaces it, and the store behind its port.
//!
//! Every change (import, demo data, AWS sync, triage, ticket links, account names) goes through
//! [`AppState::write`]: one writer at a time mutates its own copies and publishes a new snapshot
//! with the next generation. Resolvers call [`AppState::snapshot`] once per request and never
//! take a lock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use gdlens_domain::time::EpochMillis;
use gdlens_domain::{Account, Finding, Scope};
use gdlens_groups::Correlator;

use crate::auth::{Authenticator, Caller};
use crate::cache::{Caches, ViewKey};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::ports::{FindingStore, IngestRecord, PortError};
use crate::scope::ScopeKey;
use crate::snapshot::{Snapshot, Writer};
use crate::view::{ScopeView, FEATURE_REFRESH_MS};
use crate::writeback::WriteBack;

/// Findings decoded per step of the start-up build: bounds its transient memory.
const BUILD_BATCH: usize = 100_000;

/// Everything a request needs. Shared as `Arc<AppState>`.
pub struct AppState {
    /// The embedded store.
    pub store: Arc<dyn FindingStore>,
    /// Configuration.
    pub config: Config,
    /// Every way in: `[[tokens]]`, `[auth.oidc]`, `[auth.proxy]`.
    pub auth: Authenticator,
    /// Caches.
    pub caches: Caches,
    /// Request metrics.
    pub metrics: Metrics,
    /// AWS write-back, when configured.
    pub write_back: Option<Arc<dyn WriteBack>>,
    /// Live updates for GraphQL subscriptions (`live`).
    pub live: Arc<crate::live::Hub>,
    /// Webhooks over the store's outbox, when `[[webhooks]]` are configured.
    pub webhooks: Option<Arc<crate::webhooks::Webhooks>>,
    snapshot: ArcSwap<Snapshot>,
    writer: Mutex<Writer>,
    ready: AtomicBool,
    /// Why the shared store is unreachable, while it is (`/readyz` says so; reads go on).
    degraded: Mutex<Option<String>>,
    ingest_lock: tokio::sync::Mutex<()>,
    /// Where the persisted start-up snapshot lives (None: never persisted).
    startup_snapshot: Option<std::path::PathBuf>,
    /// The store generation the writer's state reflects, read right after each change it applied
    /// (`u64::MAX` until built): a snapshot is persisted at shutdown only while the store is still
    /// there, so a commit by another process (a CLI import into the same data directory) that
    /// this server never applied is never recorded as included.
    applied_store_generation: AtomicU64,
    /// The store generation of the snapshot file on disk (`u64::MAX`: none known), so a
    /// shutdown with nothing new does not write the same hundreds of megabytes again.
    persisted_store_generation: AtomicU64,
    /// The all-accounts view of the current snapshot, held outside the byte-bounded cache: it is
    /// one per server, sized like the index (60 MB at 1M findings, 600 MB at 10M), and a cache
    /// share that cannot admit it would recompute it on every request. The async mutex makes
    /// concurrent misses compute it once.
    all_view: tokio::sync::Mutex<Option<Arc<ScopeView>>>,
}

/// What one ingest did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IngestReport {
    /// Records offered.
    pub offered: usize,
    /// Findings whose latest version changed (new or newer).
    pub changed: usize,
    /// Generation after the ingest.
    pub generation: u64,
}

/// A change the write path applies.
pub(crate) enum Change<'a> {
    /// New or newer findings (already committed to the store).
    Findings(&'a [Finding]),
    /// Triage states (already committed).
    Triage(&'a [(String, gdlens_domain::TriageStatus)]),
    /// Account names and criticality.
    Accounts(Vec<Account>),
    /// Data the index does not hold changed (ticket links, audit): only the generation moves.
    Other,
}

impl AppState {
    /// Builds state around a store and a correlator; call [`AppState::build`] before serving.
    pub fn new(
        config: Config,
        store: Arc<dyn FindingStore>,
        correlator: Correlator,
        write_back: Option<Arc<dyn WriteBack>>,
    ) -> Self {
        let accounts = config
            .domain_accounts()
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect::<BTreeMap<_, _>>();
        let auth = Authenticator::new(&config);
        let first = Snapshot::empty(accounts, config.sla.targets());
        let writer = Writer::new(correlator, &first);
        let caches = Caches::new(&config.server);
        AppState {
            store,
            auth,
            caches,
            metrics: Metrics::default(),
            write_back,
            live: Arc::new(crate::live::Hub::new(&config.live)),
            webhooks: None,
            snapshot: ArcSwap::from_pointee(first),
            writer: Mutex::new(writer),
            ready: AtomicBool::new(false),
            degraded: Mutex::new(None),
            ingest_lock: tokio::sync::Mutex::new(()),
            config,
            startup_snapshot: None,
            applied_store_generation: AtomicU64::new(u64::MAX),
            persisted_store_generation: AtomicU64::new(u64::MAX),
            all_view: tokio::sync::Mutex::new(None),
        }
    }

    /// Keeps a persisted start-up snapshot in `data_dir` (see [`crate::persist`]): the build
    /// loads it when it reflects the store's generation, and writes one after building from
    /// the store and at [`AppState::save_startup_snapshot`].
    pub fn with_startup_snapshot(mut self, data_dir: &std::path::Path) -> Self {
        self.startup_snapshot = Some(data_dir.join(crate::persist::FILE_NAME));
        self
    }

    /// Delivers `[[webhooks]]` through `webhooks` (see [`crate::webhooks`]): the write path
    /// records group events and wakes its worker.
    pub fn with_webhooks(mut self, webhooks: Option<Arc<crate::webhooks::Webhooks>>) -> Self {
        self.webhooks = webhooks;
        self
    }

    /// The current snapshot: one atomic load. Answer a whole request from it.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.snapshot.load_full()
    }

    /// The data generation (in every cache key).
    pub fn generation(&self) -> u64 {
        self.snapshot.load().generation
    }

    /// The one write path: applies `change` and publishes the next snapshot.
    pub(crate) fn write(&self, change: Change<'_>) -> u64 {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        // Subscribers hear what changed (recorded only while someone listens).
        let live = self
            .live
            .wants_events()
            .then(|| (self.snapshot.load_full(), crate::live::Touched::of(&change)));
        // Webhooks: the findings whose groups may have been created or escalated.
        let hooked: Option<(Vec<String>, bool)> =
            self.webhooks.as_ref().and_then(|_| match &change {
                Change::Findings(f) => Some((f.iter().map(|f| f.id.clone()).collect(), true)),
                Change::Triage(_) => Some((Vec::new(), false)),
                _ => None,
            });
        match change {
            Change::Findings(f) => w.add_findings(f),
            Change::Triage(t) => w.set_triage(t),
            Change::Accounts(a) => w.set_accounts(a),
            Change::Other => {}
        }
        let next = Arc::new(w.publish(&self.snapshot.load()));
        let generation = next.generation;
        self.snapshot.store(next.clone());
        if self.startup_snapshot.is_some() {
            let applied = self.store.generation().unwrap_or(u64::MAX);
            self.applied_store_generation
                .store(applied, Ordering::Release);
        }
        if let Some((prev, touched)) = live {
            self.live.publish(&prev, &next, touched);
        }
        if let (Some(hooks), Some((ids, findings))) = (&self.webhooks, hooked) {
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            hooks.on_write(&next, &ids, findings);
        }
        generation
    }

    /// Publishes the first snapshot once the writer holds every finding at the store's
    /// `generation` (built, or restored from the start-up snapshot): triage from the store, then
    /// the cells pre-aggregated now rather than on the first dashboard request.
    fn publish_first(&self, w: &mut Writer, generation: u64) -> Result<(), PortError> {
        let triage = self.store.all_triage()?;
        w.set_triage(&triage);
        let next = Arc::new(w.publish(&self.snapshot.load()));
        let _ = next.cells();
        self.snapshot.store(next);
        self.applied_store_generation
            .store(generation, Ordering::Release);
        Ok(())
    }

    /// Initial build: index and groups from the store's latest findings, streamed in batches so
    /// the decoded findings never all sit in memory (call [`AppState::mark_ready`] once any
    /// start-up import is done too).
    pub async fn build(self: &Arc<Self>) -> ApiResult<usize> {
        let st = self.clone();
        let (n, built_at) = tokio::task::spawn_blocking(move || -> Result<(usize, Option<u64>), PortError> {
            let generation = st.store.generation()?;
            let mut w = st.writer.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(path) = &st.startup_snapshot {
                let started = std::time::Instant::now();
                match crate::persist::read(path, generation, w.correlation_config()) {
                    Ok((index, correlator)) => {
                        let n = index.len();
                        w.restore(index, correlator);
                        st.publish_first(&mut w, generation)?;
                        st.persisted_store_generation.store(generation, Ordering::Release);
                        tracing::info!(findings = n, store_generation = generation, ms = started.elapsed().as_millis() as u64, "start-up snapshot loaded");
                        return Ok((n, None));
                    }
                    Err(crate::persist::Miss::Missing) => {}
                    Err(miss) => tracing::info!(reason = %miss, "start-up snapshot not used; building from the store"),
                }
            }
            drop(w);
            // Two stages on two threads: the store's reader decodes batches (SQLite, zstd,
            // postcard) while this thread adds the previous batch to the index and the groups.
            let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Finding>>(1);
            let store = st.store.clone();
            let reader = std::thread::Builder::new()
                .name("gdlens-build-reader".into())
                .spawn(move || {
                    let mut batch = Vec::with_capacity(BUILD_BATCH);
                    let scanned = store.scan_latest(&mut |f| {
                        batch.push(f);
                        if batch.len() == BUILD_BATCH {
                            // A closed channel means the builder failed; stop sending.
                            let _ = tx.send(std::mem::replace(
                                &mut batch,
                                Vec::with_capacity(BUILD_BATCH),
                            ));
                        }
                    });
                    if !batch.is_empty() {
                        let _ = tx.send(batch);
                    }
                    scanned
                })
                .map_err(|e| PortError::Internal(format!("cannot start the build reader: {e}")))?;
            let mut w = st.writer.lock().unwrap_or_else(|e| e.into_inner());
            let mut n = 0usize;
            for batch in rx {
                n += batch.len();
                w.load_findings(&batch);
            }
            w.settle_groups();
            reader
                .join()
                .map_err(|_| PortError::Internal("the build reader panicked".into()))??;
            w.shrink();
            st.publish_first(&mut w, generation)?;
            Ok((n, Some(generation)))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        tracing::info!(
            findings = n,
            generation = self.generation(),
            "index and finding groups built"
        );
        if let Some(generation) = built_at.filter(|_| self.startup_snapshot.is_some()) {
            // Persist what was just built, off the request path, for the next start.
            let st = self.clone();
            tokio::task::spawn_blocking(move || st.persist_if_at(generation));
        }
        Ok(n)
    }

    /// Writes the start-up snapshot now (at a graceful shutdown, once requests are drained and
    /// nothing else writes): the next start loads it unless the store changes first.
    pub async fn save_startup_snapshot(self: &Arc<Self>) {
        if self.startup_snapshot.is_none() || !self.is_ready() {
            return;
        }
        let _serial = self.ingest_lock.lock().await;
        let st = self.clone();
        let applied = self.applied_store_generation.load(Ordering::Acquire);
        if applied == self.persisted_store_generation.load(Ordering::Acquire) {
            tracing::info!("start-up snapshot unchanged since it was written");
            return;
        }
        let _ = tokio::task::spawn_blocking(move || st.persist_if_at(applied)).await;
    }

    /// Persists the writer's state as reflecting the store's current generation, provided it is
    /// `expected`: a write committed to the store but not applied here would otherwise be
    /// recorded as included. Holds the writer lock while writing.
    fn persist_if_at(&self, expected: u64) {
        let Some(path) = &self.startup_snapshot else {
            return;
        };
        let w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        let generation = match self.store.generation() {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e, "start-up snapshot not written");
                return;
            }
        };
        if expected != generation {
            tracing::info!("start-up snapshot not written: the store changed meanwhile");
            return;
        }
        let started = std::time::Instant::now();
        match w.persist(path, generation) {
            Ok(bytes) => {
                self.persisted_store_generation
                    .store(generation, Ordering::Release);
                tracing::info!(
                    bytes,
                    store_generation = generation,
                    ms = started.elapsed().as_millis() as u64,
                    "start-up snapshot written"
                )
            }
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "start-up snapshot not written")
            }
        }
    }

    /// The one ingest path (import at start, demo data, AWS sync): store, then index, groups,
    /// generation. Records the store already holds unchanged are skipped downstream.
    pub async fn ingest(self: &Arc<Self>, batch: Vec<IngestRecord>) -> ApiResult<IngestReport> {
        let _serial = self.ingest_lock.lock().await;
        let offered = batch.len();
        let st = self.clone();
        let (changed, generation) = tokio::task::spawn_blocking(move || {
            let changed = st.store.upsert(&batch)?;
            let generation = if changed.is_empty() {
                st.generation()
            } else {
                st.write(Change::Findings(&changed))
            };
            Ok::<_, PortError>((changed.len(), generation))
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        Ok(IngestReport {
            offered,
            changed,
            generation,
        })
    }

    /// For sources that commit to the store themselves (AWS sync): bring index and groups up to date.
    pub fn on_committed(&self, changed: Vec<Finding>) {
        self.write(Change::Findings(&changed));
    }

    /// Marks data changed that the index does not hold (every cache key moves on).
    pub fn bump(&self) -> u64 {
        self.write(Change::Other)
    }

    /// Marks the initial build (and start-up import) done: `/readyz` turns 200.
    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Whether the initial build is done.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Records that the shared store is unreachable (`Some(reason)`) or back (`None`); logged on
    /// each transition. Reads keep answering from the snapshot meanwhile.
    pub fn set_degraded(&self, reason: Option<String>) {
        let mut d = self.degraded.lock().unwrap_or_else(|e| e.into_inner());
        match (&*d, &reason) {
            (None, Some(r)) => {
                tracing::warn!(reason = %r, "degraded: serving reads from memory, refusing writes")
            }
            (Some(_), None) => tracing::info!("store reachable again: no longer degraded"),
            _ => {}
        }
        *d = reason;
    }

    /// Why the server is degraded, if it is.
    pub fn degraded(&self) -> Option<String> {
        self.degraded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Adds or replaces accounts (e.g. after ListMembers) and refreshes the index's criticality.
    pub fn set_accounts(&self, accounts: Vec<Account>) {
        self.write(Change::Accounts(accounts));
    }

    /// The caller's view of `snapshot` (visible groups, scoped features and scores), computed
    /// on the blocking pool once per scope, generation and five minutes. Account-scoped views
    /// are cached by bytes; the all-accounts view is held on its own (see `all_view`).
    pub async fn scope_view(
        &self,
        snapshot: &Arc<Snapshot>,
        caller: &Caller,
    ) -> ApiResult<Arc<ScopeView>> {
        self.view_of(snapshot, &caller.scope, caller.scope_key)
            .await
    }

    /// Computes the all-accounts view of the current snapshot ahead of the first request that
    /// needs it (called once the server is ready; at 10M findings it takes seconds).
    pub async fn warm_all_view(&self) {
        let snapshot = self.snapshot();
        let all = Arc::new(Scope::All);
        if let Err(e) = self.view_of(&snapshot, &all, ScopeKey::of(&all)).await {
            tracing::warn!(error = %e.message, "all-accounts view not computed ahead");
        }
    }

    async fn view_of(
        &self,
        snapshot: &Arc<Snapshot>,
        scope: &Arc<Scope>,
        scope_key: ScopeKey,
    ) -> ApiResult<Arc<ScopeView>> {
        let now = now_ms();
        let bucket = now / FEATURE_REFRESH_MS;
        if matches!(**scope, Scope::All) {
            let mut held = self.all_view.lock().await;
            if let Some(view) = held.as_ref().filter(|v| {
                v.generation == snapshot.generation && v.now_ms / FEATURE_REFRESH_MS == bucket
            }) {
                return Ok(view.clone());
            }
            // The held view of an earlier snapshot is the start for this one (its grouping and
            // priority order carry over where nothing moved). Only a newer view replaces the
            // held one (a request on an older snapshot still gets the view of its own snapshot).
            let previous = held.clone();
            let snap = snapshot.clone();
            let view = tokio::task::spawn_blocking(move || {
                Arc::new(ScopeView::compute_after(
                    &snap,
                    &Scope::All,
                    now,
                    previous
                        .as_deref()
                        .filter(|p| p.generation < snap.generation),
                ))
            })
            .await
            .map_err(ApiError::internal)?;
            if held
                .as_ref()
                .is_none_or(|v| v.generation <= view.generation)
            {
                *held = Some(view.clone());
            }
            return Ok(view);
        }
        let compute = {
            let snap = snapshot.clone();
            let scope = scope.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    Arc::new(ScopeView::compute(&snap, &scope, now))
                })
                .await
                .map_err(ApiError::internal)
            }
        };
        let key = ViewKey {
            scope: scope_key,
            generation: snapshot.generation,
            bucket,
        };
        self.caches.views.get_or_compute(key, compute).await
    }

    /// Estimated bytes of the held all-accounts view (0 when none is held).
    pub fn all_view_bytes(&self) -> usize {
        self.all_view
            .try_lock()
            .ok()
            .and_then(|v| v.as_ref().map(|v| v.memory_bytes()))
            .unwrap_or(0)
    }

    /// Runs a blocking store call on the blocking pool, mapping errors to API errors.
    pub async fn with_store<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&dyn FindingStore) -> Result<T, PortError> + Send + 'static,
    {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(ApiError::internal)?
            .map_err(port_error)
    }
}

/// Maps a port error to the client-facing error (stale → STALE_VERSION, the rest logged).
pub fn port_error(e: PortError) -> ApiError {
    use crate::error::ErrorCode;
    match e {
        PortError::Stale { finding_id, expected, actual } => ApiError::new(
            ErrorCode::StaleVersion,
            format!("finding {finding_id} changed: expectedVersion {expected}, current version {actual}"),
        ),
        PortError::UnknownFinding(id) => ApiError::new(ErrorCode::NotFound, format!("unknown finding {id}")),
        PortError::Unavailable(detail) => {
            tracing::warn!(error = %detail, "write refused: the store is unreachable");
            ApiError::new(
                ErrorCode::StoreUnavailable,
                "the store is unreachable: reads are served from memory, writes are refused until it is back",
            )
        }
        PortError::Internal(detail) => ApiError::internal(detail),
    }
}

/// Wall-clock now in epoch ms.
pub fn now_ms() -> EpochMillis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
