//! Application state: the published [`Snapshot`] readers load, the one write path that
//! replaces it, and the store behind its port.
//!
//! Every change (import, demo data, AWS sync, triage, ticket links, account names) goes through
//! [`AppState::write`]: one writer at a time mutates its own copies and publishes a new snapshot
//! with the next generation. Resolvers call [`AppState::snapshot`] once per request and never
//! take a lock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
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
    snapshot: ArcSwap<Snapshot>,
    writer: Mutex<Writer>,
    ready: AtomicBool,
    ingest_lock: tokio::sync::Mutex<()>,
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
        let first = Snapshot::empty(accounts);
        let writer = Writer::new(correlator, &first);
        let caches = Caches::new(&config.server);
        AppState {
            store,
            auth,
            caches,
            metrics: Metrics::default(),
            write_back,
            snapshot: ArcSwap::from_pointee(first),
            writer: Mutex::new(writer),
            ready: AtomicBool::new(false),
            ingest_lock: tokio::sync::Mutex::new(()),
            config,
        }
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
        match change {
            Change::Findings(f) => w.add_findings(f),
            Change::Triage(t) => w.set_triage(t),
            Change::Accounts(a) => w.set_accounts(a),
            Change::Other => {}
        }
        let next = Arc::new(w.publish());
        let generation = next.generation;
        self.snapshot.store(next);
        generation
    }

    /// Initial build: index and groups from the store's latest findings, streamed in batches so
    /// the decoded findings never all sit in memory (call [`AppState::mark_ready`] once any
    /// start-up import is done too).
    pub async fn build(self: &Arc<Self>) -> ApiResult<usize> {
        let st = self.clone();
        let n = tokio::task::spawn_blocking(move || -> Result<usize, PortError> {
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
                w.add_findings(&batch);
            }
            reader
                .join()
                .map_err(|_| PortError::Internal("the build reader panicked".into()))??;
            let triage = st.store.all_triage()?;
            w.set_triage(&triage);
            w.shrink();
            let next = Arc::new(w.publish());
            // Start pre-aggregating the first snapshot now, not on the first dashboard request.
            let _ = next.cells();
            st.snapshot.store(next);
            Ok(n)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        tracing::info!(
            findings = n,
            generation = self.generation(),
            "index and finding groups built"
        );
        Ok(n)
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

    /// Adds or replaces accounts (e.g. after ListMembers) and refreshes the index's criticality.
    pub fn set_accounts(&self, accounts: Vec<Account>) {
        self.write(Change::Accounts(accounts));
    }

    /// The caller's view of `snapshot` (visible groups, scoped features and scores), computed
    /// on the blocking pool once per scope, generation and five minutes, then cached.
    pub async fn scope_view(
        &self,
        snapshot: &Arc<Snapshot>,
        caller: &Caller,
    ) -> ApiResult<Arc<ScopeView>> {
        let now = now_ms();
        let key = ViewKey {
            scope: caller.scope_key,
            generation: snapshot.generation,
            bucket: now / FEATURE_REFRESH_MS,
        };
        let snap = snapshot.clone();
        let scope: Arc<Scope> = caller.scope.clone();
        self.caches
            .views
            .get_or_compute(key, async move {
                tokio::task::spawn_blocking(move || {
                    Arc::new(ScopeView::compute(&snap, &scope, now))
                })
                .await
                .map_err(ApiError::internal)
            })
            .await
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
