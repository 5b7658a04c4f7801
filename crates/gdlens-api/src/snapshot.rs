//! Readers work on an immutable [`Snapshot`]; one [`Writer`] owns every change.
//!
//! ```text
//! ingest / sync / triage / accounts ──► Writer (one at a time) ──► new Snapshot ──► ArcSwap
//!                                                                                    │
//! resolvers ──► AppState::snapshot() (one atomic load, no lock) ◄────────────────────┘
//! ```
//!
//! A snapshot holds the columnar index, the finding groups (with each grouped row's group) and
//! the account table at one generation. A resolver loads it once and answers the whole request
//! from it, so a page, its total and its groups always agree, and no resolver can block a writer
//! or deadlock on a lock it already holds. The writer mutates its own copies (`Arc::make_mut`
//! clones the index only while an older snapshot is still being read) and publishes a new
//! snapshot with the generation bumped.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use gdlens_domain::{Account, Finding, TriageStatus};
use gdlens_groups::{Correlator, FindingGroup, GroupDelta};
use gdlens_index::{Cells, FindingIndex, OrderDirection, OrderField};
use rustc_hash::FxHashMap;

/// The finding groups of one generation.
#[derive(Debug, Clone, Default)]
pub struct GroupSet {
    /// Active groups, highest score first, ties by id.
    active: Vec<Arc<FindingGroup>>,
    /// Active and retired groups by id (retired ids still resolve, with their lineage).
    by_id: HashMap<String, Arc<FindingGroup>>,
    /// Index row → its active group.
    by_row: FxHashMap<u32, Arc<FindingGroup>>,
}

impl GroupSet {
    /// Active groups, highest score first, ties by id.
    pub fn active(&self) -> &[Arc<FindingGroup>] {
        &self.active
    }

    /// A group by id, active or retired.
    pub fn get(&self, id: &str) -> Option<&Arc<FindingGroup>> {
        self.by_id.get(id)
    }

    /// The active group holding the finding at `row`.
    pub fn of_row(&self, row: u32) -> Option<&Arc<FindingGroup>> {
        self.by_row.get(&row)
    }

    /// Applies a correlator delta: only the groups it names are re-read.
    fn apply(&mut self, delta: &GroupDelta, correlator: &Correlator, index: &FindingIndex) {
        let touched = delta
            .created
            .iter()
            .chain(&delta.updated)
            .chain(&delta.retired);
        // Forget the old membership of every touched group first: members move between them.
        for id in touched.clone() {
            if let Some(old) = self.by_id.get(id) {
                for m in &old.finding_ids {
                    if let Some(row) = index.row_id(m) {
                        if self.by_row.get(&row).is_some_and(|g| g.id == old.id) {
                            self.by_row.remove(&row);
                        }
                    }
                }
            }
        }
        for id in touched {
            let Some(group) = correlator.group(id) else {
                self.by_id.remove(id);
                continue;
            };
            if group.active {
                for m in &group.finding_ids {
                    if let Some(row) = index.row_id(m) {
                        self.by_row.insert(row, group.clone());
                    }
                }
            }
            self.by_id.insert(id.clone(), group);
        }
        if !(delta.created.is_empty() && delta.updated.is_empty() && delta.retired.is_empty()) {
            self.active = self.by_id.values().filter(|g| g.active).cloned().collect();
            self.active
                .sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        }
    }
}

/// Everything a read sees, at one generation. Immutable; shared as `Arc<Snapshot>`.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The data generation (in every cache key).
    pub generation: u64,
    /// The columnar index over the latest findings.
    pub index: Arc<FindingIndex>,
    /// The finding groups.
    pub groups: Arc<GroupSet>,
    /// Known accounts by id (config, ListMembers, demo).
    pub accounts: Arc<BTreeMap<String, Account>>,
    /// Every row in each column order, built on first use (see [`Snapshot::order`]).
    orders: Arc<[OnceLock<Arc<Vec<u32>>>; 8]>,
    /// For each order not built yet: the same order of an earlier snapshot and the rows added
    /// or changed since, so the first use merges those in instead of sorting every row.
    bases: Arc<Mutex<[Option<OrderBase>; 8]>>,
    /// The rows grouped into cells for summaries and counts (see [`Snapshot::cells`]).
    cells: Arc<CellsSlot>,
    /// What the write that made this snapshot changed (`None`: unknown, as after a restore).
    pub(crate) touched: Option<Arc<Touched>>,
}

/// What one write changed, for the orders and the all-accounts view to carry over (see
/// [`Snapshot::order`] and `ScopeView::compute_after`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Touched {
    /// Generation of the snapshot before the write.
    pub(crate) previous: u64,
    /// Rows added or replaced by a newer version: their order keys may have moved.
    pub(crate) replaced: Vec<u32>,
    /// Rows whose triage status changed (their features moved; no order key did).
    pub(crate) rows: Vec<u32>,
    /// Findings were added or replaced: the scope counts (type rarity, resource exposure) and
    /// with them any row's features may have moved.
    pub(crate) counts_moved: bool,
    /// Groups or account criticality changed: rows not in `rows` may have moved too.
    pub(crate) others_moved: bool,
}

/// An order of an earlier snapshot and the rows whose key may have moved since.
#[derive(Debug, Clone)]
struct OrderBase {
    order: Arc<Vec<u32>>,
    changed: Vec<u32>,
}

/// A snapshot's [`Cells`], built once, in the background, on first use.
#[derive(Debug, Default)]
struct CellsSlot {
    cells: OnceLock<Cells>,
    started: AtomicBool,
}

impl Snapshot {
    /// Every row ordered by `field` in `direction` (ties by id ascending), built once per
    /// snapshot on first use: a page walks it instead of sorting every matching row.
    pub fn order(&self, field: OrderField, direction: OrderDirection) -> &[u32] {
        let slot = field as usize * 2 + usize::from(direction == OrderDirection::Desc);
        self.orders[slot].get_or_init(|| {
            let base = self.bases.lock().unwrap_or_else(|e| e.into_inner())[slot].take();
            Arc::new(match base {
                Some(b) => self
                    .index
                    .reordered_rows(&b.order, &b.changed, field, direction),
                None => self.index.ordered_rows(field, direction),
            })
        })
    }

    /// The bases of the next snapshot's orders, `changed` rows after this one: every order
    /// this snapshot built, or its own bases with the new rows added. None once the changes
    /// pile up past an eighth of the rows (sorting afresh is then about as cheap).
    fn bases_after(&self, changed: &[u32], rows: usize) -> [Option<OrderBase>; 8] {
        let own = self.bases.lock().unwrap_or_else(|e| e.into_inner());
        std::array::from_fn(|slot| {
            let base = match self.orders[slot].get() {
                Some(order) => OrderBase {
                    order: order.clone(),
                    changed: changed.to_vec(),
                },
                None => {
                    let mut b = own[slot].clone()?;
                    b.changed.extend_from_slice(changed);
                    b
                }
            };
            (base.changed.len() <= rows / 8).then_some(base)
        })
    }

    /// The rows grouped into cells, once built. The first call starts building them on a thread
    /// of their own (tens of milliseconds at 1M findings) and returns `None`: until they are
    /// ready, summaries and counts scan rows, with the same results. So a write is visible at
    /// once and never waits for its cells.
    pub fn cells(&self) -> Option<&Cells> {
        if let Some(cells) = self.cells.cells.get() {
            return Some(cells);
        }
        if !self.cells.started.swap(true, Ordering::AcqRel) {
            let (slot, index) = (self.cells.clone(), self.index.clone());
            let spawned = std::thread::Builder::new()
                .name("gdlens-cells".into())
                .spawn(move || {
                    let _ = slot.cells.set(Cells::build(&index));
                });
            if let Err(e) = spawned {
                tracing::warn!(error = %e, "cannot start building cells; summaries scan rows");
                self.cells.started.store(false, Ordering::Release);
            }
        }
        None
    }

    /// Heap bytes of the cells, when built.
    pub fn cells_bytes(&self) -> usize {
        self.cells.cells.get().map_or(0, Cells::memory_bytes)
    }

    /// The first, empty snapshot.
    pub(crate) fn empty(
        accounts: BTreeMap<String, Account>,
        sla: gdlens_domain::SlaTargets,
    ) -> Self {
        let mut index = FindingIndex::new();
        index.set_sla_targets(sla);
        Snapshot {
            generation: 1,
            index: Arc::new(index),
            groups: Arc::new(GroupSet::default()),
            accounts: Arc::new(accounts),
            orders: Arc::default(),
            bases: Arc::default(),
            cells: Arc::default(),
            touched: None,
        }
    }
}

/// The one write path's state: the correlator and the next snapshot's parts.
pub(crate) struct Writer {
    index: Arc<FindingIndex>,
    groups: Arc<GroupSet>,
    accounts: Arc<BTreeMap<String, Account>>,
    correlator: Correlator,
    generation: u64,
    /// Accounts known to the index when their names and criticality were last applied.
    accounts_applied: usize,
    /// What changed since the last publish (`None`: unknown, as after a restore; the next
    /// snapshot then sorts its orders and computes its views afresh).
    touched: Option<Touched>,
}

impl Writer {
    pub(crate) fn new(correlator: Correlator, first: &Snapshot) -> Self {
        Writer {
            index: first.index.clone(),
            groups: first.groups.clone(),
            accounts: first.accounts.clone(),
            correlator,
            generation: first.generation,
            accounts_applied: 0,
            touched: None,
        }
    }

    /// Adds new or newer findings to the index and the groups.
    pub(crate) fn add_findings(&mut self, changed: &[Finding]) {
        if changed.is_empty() {
            return;
        }
        self.load_findings(changed);
        self.settle_groups();
    }

    /// Adds findings to the index and hands them to the correlator without regrouping (the
    /// start-up build: [`Writer::settle_groups`] once at the end).
    pub(crate) fn load_findings(&mut self, changed: &[Finding]) {
        let index = Arc::make_mut(&mut self.index);
        index.upsert_batch(changed.iter());
        if let Some(t) = &mut self.touched {
            t.replaced
                .extend(changed.iter().filter_map(|f| index.row_id(&f.id)));
            // Every row's features may move with the counts: the view recomputes them all.
            t.counts_moved = true;
        }
        if index.account_count() != self.accounts_applied {
            let list: Vec<Account> = self.accounts.values().cloned().collect();
            index.set_accounts(&list);
            self.accounts_applied = index.account_count();
        }
        self.correlator.load(changed);
    }

    /// Brings the groups up to date with every finding loaded.
    pub(crate) fn settle_groups(&mut self) {
        let delta = self.correlator.settle();
        if let Some(t) = &mut self.touched {
            t.others_moved |=
                !(delta.created.is_empty() && delta.updated.is_empty() && delta.retired.is_empty());
        }
        Arc::make_mut(&mut self.groups).apply(&delta, &self.correlator, &self.index);
    }

    /// Sets triage states in the index (the store already holds them).
    pub(crate) fn set_triage(&mut self, states: &[(String, TriageStatus)]) {
        let index = Arc::make_mut(&mut self.index);
        if let Some(t) = &mut self.touched {
            t.rows
                .extend(states.iter().filter_map(|(id, _)| index.row_id(id)));
        }
        for (id, status) in states {
            if let Err(e) = index.set_triage(id, *status) {
                tracing::warn!(finding = %id, error = %e, "triage stored but not indexed");
            }
        }
    }

    /// Adds or replaces accounts (names, owners, criticality).
    pub(crate) fn set_accounts(&mut self, accounts: Vec<Account>) {
        if let Some(t) = &mut self.touched {
            t.others_moved = true;
        }
        let map = Arc::make_mut(&mut self.accounts);
        for a in accounts {
            map.insert(a.id.clone(), a);
        }
        let list: Vec<Account> = map.values().cloned().collect();
        let index = Arc::make_mut(&mut self.index);
        index.set_accounts(&list);
        self.accounts_applied = index.account_count();
    }

    /// Takes the index and correlator of a persisted start-up snapshot instead of building them,
    /// with this run's account names and criticality.
    pub(crate) fn restore(&mut self, mut index: FindingIndex, correlator: Correlator) {
        // The targets are configuration, not data: today's `[sla]`, not the file's.
        index.set_sla_targets(self.index.sla_targets());
        self.index = Arc::new(index);
        self.correlator = correlator;
        self.touched = None;
        let list: Vec<Account> = self.accounts.values().cloned().collect();
        let index = Arc::make_mut(&mut self.index);
        index.set_accounts(&list);
        self.accounts_applied = index.account_count();
        let created = self
            .correlator
            .groups()
            .iter()
            .map(|g| g.id.clone())
            .collect();
        let delta = gdlens_groups::GroupDelta {
            created,
            ..Default::default()
        };
        self.groups = Arc::default();
        Arc::make_mut(&mut self.groups).apply(&delta, &self.correlator, &self.index);
    }

    /// The correlation config (a persisted snapshot made with another one is not used).
    pub(crate) fn correlation_config(&self) -> &gdlens_groups::CorrelationConfig {
        self.correlator.config()
    }

    /// Writes the current index and correlator as a start-up snapshot reflecting
    /// `store_generation` (the caller checks that it does).
    pub(crate) fn persist(
        &self,
        path: &std::path::Path,
        store_generation: u64,
    ) -> std::io::Result<u64> {
        crate::persist::write(path, store_generation, &self.index, &self.correlator)
    }

    /// Releases spare capacity after the start-up build.
    pub(crate) fn shrink(&mut self) {
        Arc::make_mut(&mut self.index).shrink_to_fit();
    }

    /// The next snapshot after `previous` (the one published last): the current parts at
    /// generation + 1, its orders to be brought up to date from `previous`'s.
    pub(crate) fn publish(&mut self, previous: &Snapshot) -> Snapshot {
        self.generation += 1;
        let touched = self.touched.replace(Touched {
            previous: self.generation,
            ..Touched::default()
        });
        let bases = match &touched {
            Some(t) => previous.bases_after(&t.replaced, self.index.len()),
            None => Default::default(),
        };
        let touched = touched.map(Arc::new);
        Snapshot {
            generation: self.generation,
            index: self.index.clone(),
            groups: self.groups.clone(),
            accounts: self.accounts.clone(),
            orders: Arc::default(),
            bases: Arc::new(Mutex::new(bases)),
            cells: Arc::default(),
            touched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::ScopeView;
    use gdlens_domain::Scope;
    use gdlens_groups::CorrelationConfig;
    use gdlens_index::{OrderDirection as D, OrderField as F};

    const ORDERS: [(F, D); 8] = [
        (F::Severity, D::Asc),
        (F::Severity, D::Desc),
        (F::UpdatedAt, D::Asc),
        (F::UpdatedAt, D::Desc),
        (F::FirstSeen, D::Asc),
        (F::FirstSeen, D::Desc),
        (F::Count, D::Asc),
        (F::Count, D::Desc),
    ];

    /// Orders and the all-accounts view carried over from the previous snapshot (changed rows
    /// merged in) equal the ones computed afresh, write after write: new findings, newer
    /// versions that move every order key and the groups, triage (where only the triaged rows are
    /// rescored), account criticality, and snapshots whose orders and views were never built in
    /// between. The batches stay under the share of changed rows past which both sort afresh, so
    /// the merging is what is checked.
    #[test]
    fn orders_and_views_brought_up_to_date_equal_fresh_ones() {
        let findings = crate::test_support::demo_findings(3_000);
        let (first, rest) = findings.split_at(2_000);
        let mut snapshot = Snapshot::empty(BTreeMap::new(), Default::default());
        let mut w = Writer::new(Correlator::new(CorrelationConfig::default()), &snapshot);
        w.add_findings(first);
        snapshot = w.publish(&snapshot);
        let now = first.iter().map(|f| f.updated_at).max().unwrap_or(0) + 3_600_000;
        let mut view = ScopeView::compute(&snapshot, &Scope::All, now);
        view.priority_order(&snapshot.index);
        for &(f, d) in &ORDERS {
            snapshot.order(f, d);
        }
        let triage = |step: usize, status: TriageStatus| -> Vec<(String, TriageStatus)> {
            first
                .iter()
                .step_by(step)
                .map(|f| (f.id.clone(), status))
                .collect()
        };
        for round in 0..8usize {
            match round {
                // A newer version of some findings: severity, count, times and title move.
                0 | 4 => {
                    let newer: Vec<Finding> = first
                        .iter()
                        .step_by(23 + round)
                        .map(|f| Finding {
                            severity: 9.5 - f.severity,
                            count: f.count + 3,
                            updated_at: f.updated_at + 86_400_000,
                            ..f.clone()
                        })
                        .collect();
                    w.add_findings(&newer);
                }
                1 => w.add_findings(&rest[..150]),
                2 => w.set_triage(&triage(15, TriageStatus::Acknowledged)),
                3 => w.set_triage(&triage(17, TriageStatus::Resolved)),
                5 => w.set_accounts(vec![Account {
                    id: first[0].account_id.clone(),
                    name: "prod".into(),
                    owner: String::new(),
                    criticality: gdlens_domain::Criticality::Critical,
                }]),
                6 => w.add_findings(&rest[150..300]),
                _ => w.set_triage(&triage(13, TriageStatus::FalsePositive)),
            }
            snapshot = w.publish(&snapshot);
            if round == 3 {
                // Nothing read at this generation: the next one builds on older orders.
                continue;
            }
            for &(f, d) in &ORDERS {
                assert_eq!(
                    snapshot.order(f, d),
                    snapshot.index.ordered_rows(f, d).as_slice(),
                    "round {round}: {f:?} {d:?}"
                );
            }
            let next = ScopeView::compute_after(&snapshot, &Scope::All, now, Some(&view));
            let fresh = ScopeView::compute(&snapshot, &Scope::All, now);
            assert_eq!(next.default_scores, fresh.default_scores, "round {round}");
            assert_eq!(
                next.priority_order(&snapshot.index),
                fresh.priority_order(&snapshot.index),
                "round {round}"
            );
            let ids = |v: &ScopeView| v.groups().iter().map(|g| g.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&next), ids(&fresh), "round {round}");
            view = next;
        }
    }
}
