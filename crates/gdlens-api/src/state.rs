//! Application state and the one ingest path: store → index → finding groups → generation bump.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use arc_swap::ArcSwap;
use gdlens_domain::time::EpochMillis;
use gdlens_domain::{Account, Finding, Scope};
use gdlens_index::FindingIndex;

use crate::auth::TokenTable;
use crate::cache::Caches;
use crate::config::Config;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::ports::{FindingGroups, FindingStore, IngestRecord, PortError};
use crate::priority::{RowFeatures, RowScores};
use crate::writeback::WriteBack;
use gdlens_scoring::Weights;

/// Everything a request needs. Shared as `Arc<AppState>`.
pub struct AppState {
    /// The embedded store.
    pub store: Arc<dyn FindingStore>,
    /// The in-memory index over the latest findings.
    pub index: RwLock<FindingIndex>,
    /// Latest normalized findings by id (fields the index does not keep: ARN, description, resource).
    pub findings: RwLock<HashMap<String, Arc<Finding>>>,
    /// The correlation engine.
    pub groups: RwLock<Box<dyn FindingGroups>>,
    /// Known accounts by id.
    pub accounts: ArcSwap<BTreeMap<String, Account>>,
    /// Configuration.
    pub config: Config,
    /// Tokens by hash.
    pub tokens: TokenTable,
    /// Caches.
    pub caches: Caches,
    /// Request metrics.
    pub metrics: Metrics,
    /// AWS write-back, when configured.
    pub write_back: Option<Arc<dyn WriteBack>>,
    generation: AtomicU64,
    ready: AtomicBool,
    features: ArcSwap<RowFeatures>,
    default_scores: ArcSwap<(u64, EpochMillis, Arc<RowScores>)>,
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

impl AppState {
    /// Builds state around a store, a correlator and a scorer; call [`AppState::build`] before serving.
    pub fn new(
        config: Config,
        store: Arc<dyn FindingStore>,
        groups: Box<dyn FindingGroups>,
        write_back: Option<Arc<dyn WriteBack>>,
    ) -> Self {
        let accounts = config
            .domain_accounts()
            .into_iter()
            .map(|a| (a.id.clone(), a))
            .collect::<BTreeMap<_, _>>();
        let tokens = TokenTable::new(&config.tokens);
        AppState {
            store,
            index: RwLock::new(FindingIndex::new()),
            findings: RwLock::new(HashMap::new()),
            groups: RwLock::new(groups),
            accounts: ArcSwap::from_pointee(accounts),
            config,
            tokens,
            caches: Caches::default(),
            metrics: Metrics::default(),
            write_back,
            generation: AtomicU64::new(1),
            ready: AtomicBool::new(false),
            features: ArcSwap::from_pointee(RowFeatures::default()),
            default_scores: ArcSwap::from_pointee((0, 0, Arc::new(RowScores::default()))),
            ingest_lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Initial build: index and groups from the store's latest findings (call
    /// [`AppState::mark_ready`] once any start-up import is done too).
    pub async fn build(self: &Arc<Self>) -> ApiResult<usize> {
        let store = self.store.clone();
        let latest = tokio::task::spawn_blocking(move || store.scan_latest())
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        let n = latest.len();
        self.apply(latest);
        let store = self.store.clone();
        let triage = tokio::task::spawn_blocking(move || store.all_triage())
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        {
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            for (id, status) in triage {
                let _ = index.set_triage(&id, status);
            }
        }
        self.bump();
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
        let store = self.store.clone();
        let changed = tokio::task::spawn_blocking(move || store.upsert(&batch))
            .await
            .map_err(ApiError::internal)?
            .map_err(ApiError::internal)?;
        let n = changed.len();
        if n > 0 {
            self.on_committed(changed);
        }
        Ok(IngestReport {
            offered,
            changed: n,
            generation: self.generation(),
        })
    }

    /// For sources that commit to the store themselves (AWS sync): bring index and groups up to date.
    pub fn on_committed(&self, changed: Vec<Finding>) {
        self.apply(changed);
    }

    fn apply(&self, changed: Vec<Finding>) {
        if changed.is_empty() {
            self.bump();
            return;
        }
        {
            let mut index = self.index.write().unwrap_or_else(|e| e.into_inner());
            index.upsert_batch(changed.iter());
            let accounts: Vec<Account> = self.accounts.load().values().cloned().collect();
            index.set_accounts(&accounts);
        }
        {
            let mut groups = self.groups.write().unwrap_or_else(|e| e.into_inner());
            groups.add(&changed);
        }
        {
            let mut map = self.findings.write().unwrap_or_else(|e| e.into_inner());
            for f in changed {
                map.insert(f.id.clone(), Arc::new(f));
            }
        }
        self.bump();
    }

    /// Marks data changed: every cache key holding the old generation becomes unreachable.
    pub fn bump(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The data generation (in every cache key).
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Marks the initial build (and start-up import) done: `/readyz` turns 200.
    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Whether the initial build is done.
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::SeqCst)
    }

    /// Replaces the known accounts (e.g. after ListMembers) and refreshes the index's criticality.
    pub fn set_accounts(&self, accounts: Vec<Account>) {
        let mut map = (**self.accounts.load()).clone();
        for a in accounts {
            map.insert(a.id.clone(), a);
        }
        let list: Vec<Account> = map.values().cloned().collect();
        self.accounts.store(Arc::new(map));
        self.index
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .set_accounts(&list);
        self.bump();
    }

    /// The latest normalized finding with this id.
    pub fn finding(&self, id: &str) -> Option<Arc<Finding>> {
        self.findings
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Findings by id, keeping only those in scope.
    pub fn findings_in_scope(&self, ids: &[String], scope: &Scope) -> Vec<Arc<Finding>> {
        let map = self.findings.read().unwrap_or_else(|e| e.into_inner());
        ids.iter()
            .filter_map(|id| map.get(id))
            .filter(|f| scope.allows(&f.account_id))
            .cloned()
            .collect()
    }

    /// Feature columns of every row, recomputed when the generation changes or the ages are
    /// more than five minutes old.
    pub fn features(&self) -> Arc<RowFeatures> {
        let generation = self.generation();
        let now = now_ms();
        let current = self.features.load_full();
        if current.generation == generation && now - current.now_ms < 300_000 {
            return current;
        }
        let index = self.index.read().unwrap_or_else(|e| e.into_inner());
        let groups = self.groups.read().unwrap_or_else(|e| e.into_inner());
        let fresh = Arc::new(crate::priority::compute_features(
            &index,
            groups.as_ref(),
            generation,
            now,
        ));
        self.features.store(fresh.clone());
        fresh
    }

    /// Scores of every row under the default weights, computed once per feature build.
    pub fn default_scores(&self) -> Arc<RowScores> {
        let features = self.features();
        let current = self.default_scores.load();
        if current.0 == features.generation && current.1 == features.now_ms {
            return current.2.clone();
        }
        let scores = Arc::new(
            crate::priority::score_all(&features, &Weights::default()).unwrap_or_default(),
        );
        self.default_scores.store(Arc::new((
            features.generation,
            features.now_ms,
            scores.clone(),
        )));
        scores
    }

    /// Scores of every row under `weights`.
    pub fn score_all(&self, weights: &Weights) -> Result<RowScores, String> {
        crate::priority::score_all(&self.features(), weights)
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
