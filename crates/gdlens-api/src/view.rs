//! What one account scope sees of a snapshot: its finding groups (rebuilt from the visible
//! members only), and the scoring features and default scores of its rows, counted within the
//! scope (rarity means "rare among what this caller may see").
//!
//! A [`ScopeView`] is computed once per (scope, generation, five-minute "now" bucket) and
//! cached by bytes; the all-accounts view reuses the snapshot's groups as they are.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use gdlens_domain::time::EpochMillis;
use gdlens_domain::Scope;
use gdlens_groups::{restrict_group, FindingGroup};
use gdlens_index::{f64_order_key, CompiledFilter, FindingIndex, GroupInfo, ScopeCounts};
use gdlens_scoring::{FeatureColumns, Weights};
use rustc_hash::FxHashMap;

use crate::snapshot::Snapshot;

/// Ages in the feature columns are recomputed at least this often.
pub const FEATURE_REFRESH_MS: EpochMillis = 300_000;

/// A scope's view of one snapshot.
#[derive(Debug)]
pub struct ScopeView {
    /// Generation of the snapshot it was computed from.
    pub generation: u64,
    /// "Now" of the age feature.
    pub now_ms: EpochMillis,
    /// The visible groups and their member rows (shared with the next view while the
    /// snapshot's groups do not change).
    grouping: Arc<Grouping>,
    /// The snapshot's groups the grouping was made from (to tell when it can be shared).
    source: Arc<crate::snapshot::GroupSet>,
    /// Rows in scope, ascending; `None` when the scope is every account (every row).
    rows: Option<Vec<u32>>,
    /// Type rarity and resource exposure counted within the scope: with the index they give
    /// any row in scope its feature row, so the view keeps no feature columns (45 B a row).
    counts: Arc<ScopeCounts>,
    /// Scores under the default weights, aligned with the rows in scope.
    pub default_scores: Vec<f64>,
    /// Regions that hold a finding in scope, sorted.
    pub regions: Vec<String>,
    /// Rows in scope by default score, highest first, ties by finding id (built on first use).
    priority_order: OnceLock<Vec<u32>>,
}

/// The visible groups of a view with the index rows of their members.
#[derive(Debug)]
struct Grouping {
    /// Groups with a visible member, restricted to visible members; highest score first, ties by id.
    groups: Vec<Arc<FindingGroup>>,
    group_by_id: HashMap<String, u32>,
    group_of_row: FxHashMap<u32, u32>,
    /// Index rows of every visible group's members, group after group (same order as
    /// `groups`): group `i` holds `member_rows[member_start[i]..member_start[i + 1]]`.
    member_rows: Vec<u32>,
    member_start: Vec<u32>,
}

impl Grouping {
    fn of(snapshot: &Snapshot, scope: &Scope) -> Self {
        let index = &snapshot.index;
        let groups = match scope {
            Scope::All => snapshot.groups.active().to_vec(),
            Scope::Accounts(_) => {
                let mut groups: Vec<Arc<FindingGroup>> = snapshot
                    .groups
                    .active()
                    .iter()
                    .filter_map(|g| restrict(g, scope))
                    .collect();
                groups.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
                groups
            }
        };
        let mut group_by_id = HashMap::with_capacity(groups.len());
        let mut group_of_row = FxHashMap::default();
        let mut member_rows = Vec::new();
        let mut member_start = Vec::with_capacity(groups.len() + 1);
        member_start.push(0);
        for (i, g) in groups.iter().enumerate() {
            group_by_id.insert(g.id.clone(), i as u32);
            for row in g.finding_ids.iter().filter_map(|m| index.row_id(m)) {
                group_of_row.insert(row, i as u32);
                member_rows.push(row);
            }
            member_start.push(member_rows.len() as u32);
        }
        member_rows.shrink_to_fit();
        Grouping {
            groups,
            group_by_id,
            group_of_row,
            member_rows,
            member_start,
        }
    }

    /// What scoring needs of the row's visible group.
    fn info(&self, row: u32) -> Option<GroupInfo> {
        self.group_of_row.get(&row).map(|&i| {
            let g = &self.groups[i as usize];
            GroupInfo {
                tactics: g.tactics.len().min(u8::MAX as usize) as u8,
                severity: g.severity,
            }
        })
    }

    fn memory_bytes(&self, restricted: bool) -> usize {
        // Restricted groups are counted roughly by their members; unrestricted ones are the
        // snapshot's.
        let restricted: usize = if restricted {
            self.groups
                .iter()
                .map(|g| 512 + g.finding_ids.len() * 256)
                .sum()
        } else {
            0
        };
        self.member_rows.capacity() * 4
            + self.member_start.capacity() * 4
            + self.group_of_row.capacity() * 9
            + self.group_by_id.capacity() * 48
            + self.groups.capacity() * 8
            + restricted
    }
}

impl ScopeView {
    /// Computes the view (CPU-bound: run it on the blocking pool).
    pub fn compute(snapshot: &Snapshot, scope: &Scope, now_ms: EpochMillis) -> Self {
        Self::compute_after(snapshot, scope, now_ms, None)
    }

    /// Computes the view, reusing what `previous` (the same scope's view of an earlier
    /// snapshot) allows: within the same five-minute bucket its "now" (so unchanged rows keep
    /// their scores), its grouping when the snapshot's groups did not change, and its priority
    /// order with only the rows whose score moved re-sorted. Equal to [`ScopeView::compute`] at
    /// the previous view's "now".
    pub fn compute_after(
        snapshot: &Snapshot,
        scope: &Scope,
        now_ms: EpochMillis,
        previous: Option<&ScopeView>,
    ) -> Self {
        let index = &snapshot.index;
        let previous = previous.filter(|p| {
            p.now_ms / FEATURE_REFRESH_MS == now_ms / FEATURE_REFRESH_MS
                && p.rows.is_none() == matches!(scope, Scope::All)
        });
        let now_ms = previous.map_or(now_ms, |p| p.now_ms);
        let grouping = match previous {
            Some(p) if Arc::ptr_eq(&p.source, &snapshot.groups) => p.grouping.clone(),
            _ => Arc::new(Grouping::of(snapshot, scope)),
        };
        let rows = match scope {
            Scope::All => None,
            Scope::Accounts(_) => Some(index.scope_rows(scope)),
        };
        let in_scope = rows_in_scope(&rows, index.len());
        let in_scope: &[u32] = &in_scope;
        // What the write from the previous view's snapshot to this one changed, when known.
        let touched = snapshot
            .touched
            .as_deref()
            .filter(|t| previous.is_some_and(|p| p.generation == t.previous));
        let counts = match (previous, touched) {
            (Some(p), Some(t)) if !t.counts_moved => p.counts.clone(),
            _ => Arc::new(index.scope_counts(in_scope)),
        };
        let rescore = |rows: &[u32]| {
            scores_in_chunks(index, rows, &counts, now_ms, &grouping, &Weights::default())
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "default weights rejected by the scorer");
                    vec![0.0; rows.len()]
                })
        };
        let default_scores = match (previous, touched) {
            // Only the touched rows' own features moved (a triage): rescore just those.
            (Some(p), Some(t))
                if !t.counts_moved
                    && !t.others_moved
                    && Arc::ptr_eq(&p.grouping, &grouping)
                    && p.default_scores.len() == in_scope.len() =>
            {
                let mut scores = p.default_scores.clone();
                let rows: Vec<u32> = t
                    .rows
                    .iter()
                    .copied()
                    .filter(|&r| (r as usize) < scores.len())
                    .collect();
                for (&r, score) in rows.iter().zip(rescore(&rows)) {
                    scores[r as usize] = score;
                }
                scores
            }
            _ => rescore(in_scope),
        };
        let view = ScopeView {
            generation: snapshot.generation,
            now_ms,
            grouping,
            source: snapshot.groups.clone(),
            rows,
            counts,
            default_scores,
            regions: index.regions_in_scope(scope),
            priority_order: OnceLock::new(),
        };
        // Every row: the old order with the rows whose score moved (or that are new) merged in.
        if let (Some(p), None) = (previous, &view.rows) {
            if let Some(order) = p.priority_order.get() {
                let old = &p.default_scores;
                let changed: Vec<u32> = (0..view.default_scores.len())
                    .filter(|&r| {
                        old.get(r)
                            .is_none_or(|s| s.to_bits() != view.default_scores[r].to_bits())
                    })
                    .map(|r| r as u32)
                    .collect();
                if changed.len() < view.default_scores.len() / 4 {
                    let key = |row: u32| !f64_order_key(view.default_scores[row as usize]);
                    let _ = view.priority_order.set(index.reorder(order, &changed, key));
                }
            }
        }
        view
    }

    /// Visible groups with at least one member matching `filter`, in the view's order.
    pub fn groups_matching(&self, filter: &CompiledFilter<'_>) -> Vec<Arc<FindingGroup>> {
        self.grouping
            .groups
            .iter()
            .enumerate()
            .filter(|&(i, _)| self.any_member_matches(i, filter))
            .map(|(_, g)| g.clone())
            .collect()
    }

    /// How many visible groups have at least one member matching `filter`.
    pub fn count_groups_matching(&self, filter: &CompiledFilter<'_>) -> usize {
        (0..self.grouping.groups.len())
            .filter(|&i| self.any_member_matches(i, filter))
            .count()
    }

    fn any_member_matches(&self, group: usize, filter: &CompiledFilter<'_>) -> bool {
        let g = &self.grouping;
        let (s, e) = (g.member_start[group], g.member_start[group + 1]);
        g.member_rows[s as usize..e as usize]
            .iter()
            .any(|&r| filter.matches(r))
    }

    /// Rows in scope by default score, highest first, ties by finding id ascending: the default
    /// order of the findings list, so a page walks it instead of sorting every match.
    pub fn priority_order(&self, index: &FindingIndex) -> &[u32] {
        self.priority_order.get_or_init(|| {
            let score = |row: u32| !f64_order_key(self.default_score(row));
            match &self.rows {
                Some(rows) => index.order_by_key(rows.iter().copied(), score),
                None => index.order_by_key(0..self.default_scores.len() as u32, score),
            }
        })
    }

    /// The position of an index row in the feature columns, if the row is in scope.
    pub fn position(&self, row: u32) -> Option<usize> {
        match &self.rows {
            None => ((row as usize) < self.default_scores.len()).then_some(row as usize),
            Some(rows) => rows.binary_search(&row).ok(),
        }
    }

    /// The default score of a row in scope (0 outside).
    pub fn default_score(&self, row: u32) -> f64 {
        self.position(row)
            .and_then(|p| self.default_scores.get(p).copied())
            .unwrap_or(0.0)
    }

    /// Scores of the rows in scope under `weights`, aligned with the rows in scope.
    pub fn scores_with(&self, index: &FindingIndex, weights: &Weights) -> Result<Vec<f64>, String> {
        let in_scope = rows_in_scope(&self.rows, self.default_scores.len());
        scores_in_chunks(
            index,
            &in_scope,
            &self.counts,
            self.now_ms,
            &self.grouping,
            weights,
        )
        .map_err(|e| e.to_string())
    }

    /// Feature columns of `rows` (rows in scope), in that order, counted within the scope: what
    /// `scoringFeatures` sends and the server scores.
    pub fn feature_columns(&self, index: &FindingIndex, rows: &[u32]) -> FeatureColumns {
        index.features_with(rows, &self.counts, self.now_ms, |r| self.grouping.info(r))
    }

    /// The rows matching `filter` in scope, cut to the `limit` best by default score (ties by
    /// id): what the browser's ranker receives (`scoringFeatures`, `/api/scoring-features`).
    pub fn top_rows(
        &self,
        index: &FindingIndex,
        filter: &gdlens_domain::FindingFilter,
        scope: &Scope,
        limit: usize,
    ) -> Vec<u32> {
        let mut rows = index.filter(filter, scope);
        rows.retain(|&r| self.position(r).is_some());
        if rows.len() > limit {
            let by = |a: &u32, b: &u32| {
                self.default_score(*b)
                    .total_cmp(&self.default_score(*a))
                    .then_with(|| index.id(*a).cmp(index.id(*b)))
            };
            rows.select_nth_unstable_by(limit, by);
            rows.truncate(limit);
        }
        rows
    }

    /// The visible group holding the row.
    pub fn group_of(&self, row: u32) -> Option<&Arc<FindingGroup>> {
        let g = &self.grouping;
        g.group_of_row.get(&row).map(|&i| &g.groups[i as usize])
    }

    /// A visible active group by id.
    pub fn group(&self, id: &str) -> Option<&Arc<FindingGroup>> {
        let g = &self.grouping;
        g.group_by_id.get(id).map(|&i| &g.groups[i as usize])
    }

    /// Visible groups, highest score first, ties by id.
    pub fn groups(&self) -> &[Arc<FindingGroup>] {
        &self.grouping.groups
    }

    /// Estimated heap bytes (what the cache weighs it by).
    pub fn memory_bytes(&self) -> usize {
        // Scores, rows, priority order, counts, groups.
        self.default_scores.capacity() * 8
            + self.counts.memory_bytes()
            + self.rows.as_ref().map_or(0, |r| r.capacity() * 4)
            + self.priority_order.get().map_or(0, |o| o.capacity() * 4)
            + self.grouping.memory_bytes(self.rows.is_some())
    }
}

/// The rows of a scope, ascending: its own list, or every row `0..len` for all accounts.
fn rows_in_scope(rows: &Option<Vec<u32>>, len: usize) -> std::borrow::Cow<'_, [u32]> {
    match rows {
        Some(rows) => std::borrow::Cow::Borrowed(rows),
        None => std::borrow::Cow::Owned((0..len as u32).collect()),
    }
}

/// Rows scored per chunk: the features of a chunk (~45 B a row) live only while it is scored.
const SCORE_CHUNK: usize = 1 << 16;

/// Scores of `rows` under `weights`, computing their features a chunk at a time.
fn scores_in_chunks(
    index: &FindingIndex,
    rows: &[u32],
    counts: &ScopeCounts,
    now_ms: EpochMillis,
    grouping: &Grouping,
    weights: &Weights,
) -> Result<Vec<f64>, gdlens_scoring::ScoringError> {
    let scorer = gdlens_scoring::Scorer::new(weights)?;
    let mut scores = vec![0.0; rows.len()];
    for (part, out) in rows.chunks(SCORE_CHUNK).zip(scores.chunks_mut(SCORE_CHUNK)) {
        let features = index.features_with(part, counts, now_ms, |r| grouping.info(r));
        scorer.score_into(&features, out);
    }
    Ok(scores)
}

/// A group as `scope` may see it (every field over the visible members), `None` when no member
/// is visible.
pub fn restrict(group: &Arc<FindingGroup>, scope: &Scope) -> Option<Arc<FindingGroup>> {
    match scope {
        Scope::All => Some(group.clone()),
        Scope::Accounts(_) => {
            let all = group.members.iter().all(|m| scope.allows(&m.account));
            if all {
                return Some(group.clone());
            }
            restrict_group(group, &|m| scope.allows(&m.account)).map(Arc::new)
        }
    }
}
