//! The GraphQL schema: queries, mutations, limits.

mod coverage;
mod groups;
mod hardening;
mod inputs;
mod loaders;
mod mutation;
mod sequence;
mod subscription;
mod summary;
mod suppress;
mod types;

use std::cmp::Ordering;
use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, Object, Schema, ID};
use gdlens_domain::{FindingFilter, Scope};
use gdlens_groups::FindingGroup;
use gdlens_index::{CompiledFilter, Precomputed, SearchHits};

pub use groups::VisibleGroup;
pub use inputs::{FindingFilterInput, FindingOrderInput, WeightsInput};
pub use loaders::StoreLoader;
pub use mutation::Mutation;
pub use subscription::Subscription;
pub use summary::SummaryData;

use crate::auth::Caller;
use crate::cache::{CacheKey, SearchKey};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::limits::{Limits, RequestBudget, RequestLimits};
use crate::query::{self, Cursor, OrderField};
use crate::snapshot::Snapshot;
use crate::state::{now_ms, AppState};
use crate::view::ScopeView;
use gdlens_scoring::Weights;
use groups::{FindingGroupConnection, FindingGroupEdge};
use summary::{CoverageGql, SummaryGql};
use types::{AccountGql, FindingConnection, FindingEdge, FindingGql, PageInfo, SyncStatusGql};

/// The schema type.
pub type GdlensSchema = Schema<Query, Mutation, Subscription>;

/// Default page size.
pub const DEFAULT_PAGE: usize = 50;
/// Largest page a client may ask for.
pub const MAX_PAGE: usize = 500;
/// Complexity multiplier of a group's `findings` list (groups hold at most 150 findings; a page
/// of groups asking for every member's fields must pay for them).
pub const GROUP_FINDINGS_COST: usize = 15;
/// Most findings `scoringFeatures` returns.
pub const MAX_FEATURES: usize = 100_000;

/// Builds the schema with its request limits; `state` is `None` only for printing the SDL.
pub fn build_schema(state: Option<Arc<AppState>>, limits: Limits) -> GdlensSchema {
    let mut b = Schema::build(Query, Mutation, Subscription).extension(RequestLimits(limits));
    if let Some(state) = state {
        b = b
            .data(DataLoader::new(
                StoreLoader {
                    state: state.clone(),
                },
                tokio::spawn,
            ))
            .data(state);
    }
    b.finish()
}

/// The SDL of the schema (what `gdlens schema` prints and `schema.graphql` holds).
pub fn sdl() -> String {
    let limits = Limits {
        max_aliases: usize::MAX,
        max_root_fields: usize::MAX,
        max_complexity: usize::MAX,
        max_depth: usize::MAX,
    };
    build_schema(None, limits).sdl()
}

pub(crate) fn state<'a>(ctx: &Context<'a>) -> &'a Arc<AppState> {
    ctx.data_unchecked::<Arc<AppState>>()
}

pub(crate) fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data_unchecked::<Caller>()
}

/// The request's CPU budget (unlimited when the request came without one, e.g. in unit tests).
pub(crate) fn budget(ctx: &Context<'_>) -> Arc<RequestBudget> {
    ctx.data_opt::<Arc<RequestBudget>>()
        .cloned()
        .unwrap_or_else(RequestBudget::unlimited)
}

fn page_size(first: Option<i32>) -> ApiResult<usize> {
    match first {
        None => Ok(DEFAULT_PAGE),
        Some(n) if n < 0 => Err(ApiError::bad_input("first", "must not be negative")),
        Some(n) if n as usize > MAX_PAGE => Err(ApiError::new(
            ErrorCode::PageTooLarge,
            format!("argument `first`: {n} is above the maximum page size {MAX_PAGE}"),
        )),
        Some(n) => Ok(n as usize),
    }
}

fn filter_of(filter: &Option<FindingFilterInput>) -> ApiResult<FindingFilter> {
    filter.clone().unwrap_or_default().to_domain()
}

fn key(
    resolver: &'static str,
    args: impl serde::Serialize,
    caller: &Caller,
    generation: u64,
) -> CacheKey {
    CacheKey {
        resolver,
        args: serde_json::to_string(&args).unwrap_or_default(),
        scope: caller.scope_key,
        generation,
    }
}

/// Resolves weights overrides against the scorer's defaults.
pub(crate) fn resolve_weights(input: &WeightsInput) -> ApiResult<Weights> {
    let w = crate::priority::weights_with(&input.overrides()?);
    w.validate()
        .map_err(|e| ApiError::bad_input("weights", e))?;
    Ok(w)
}

/// Groups the caller's view holds with at least one member matching `filter`, highest score first.
pub(crate) fn visible_groups(
    snapshot: &Snapshot,
    view: &ScopeView,
    filter: &FindingFilter,
    scope: &Scope,
    search: Option<&Arc<SearchHits>>,
) -> Vec<Arc<FindingGroup>> {
    view.groups_matching(&compile(snapshot, filter, scope, search))
}

/// `filter` compiled against the snapshot's index with what is precomputed for it: the
/// snapshot's cells (once built) and the search needle's hits.
pub(crate) fn compile<'a>(
    snapshot: &'a Snapshot,
    filter: &FindingFilter,
    scope: &Scope,
    search: Option<&'a Arc<SearchHits>>,
) -> CompiledFilter<'a> {
    let pre = Precomputed {
        cells: snapshot.cells(),
        search,
    };
    snapshot.index.compile_with(pre, filter, scope)
}

/// The hits of the filter's `search` needle at the snapshot's generation, from the cache or
/// computed on the blocking pool (one pass over the type and title dictionaries).
pub(crate) async fn search_hits(
    st: &AppState,
    snapshot: &Arc<Snapshot>,
    caller: &Caller,
    filter: &FindingFilter,
    budget: Arc<RequestBudget>,
) -> ApiResult<Option<Arc<SearchHits>>> {
    let Some(needle) = filter
        .search
        .as_deref()
        .map(|s| s.trim().to_lowercase())
        .filter(|s| !s.is_empty())
    else {
        return Ok(None);
    };
    let key = SearchKey {
        needle: needle.clone(),
        scope: caller.scope_key,
        generation: snapshot.generation,
    };
    let snap = snapshot.clone();
    st.caches
        .search_hits
        .get_or_compute(key, async move {
            blocking(budget, move |_| {
                Ok(Arc::new(snap.index.search_hits(&needle)))
            })
            .await
        })
        .await
        .map(Some)
}

/// Runs CPU-bound resolver work on the blocking pool, off the async workers, within the
/// request's CPU budget: work that has not started when the budget runs out (or the request is
/// dropped) never starts, and `f` checks the budget between its own steps.
pub(crate) async fn blocking<T, F>(budget: Arc<RequestBudget>, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnOnce(&RequestBudget) -> ApiResult<T> + Send + 'static,
{
    budget.check()?;
    tokio::task::spawn_blocking(move || {
        budget.check()?;
        let out = f(&budget)?;
        budget.check()?;
        Ok(out)
    })
    .await
    .map_err(ApiError::internal)?
}

/// The summary over `f` in the caller's scope (`summary` and `summaryChanged`).
pub(crate) async fn summary_of(
    st: &Arc<AppState>,
    c: &Caller,
    f: FindingFilter,
    budget: Arc<RequestBudget>,
) -> ApiResult<SummaryGql> {
    let snap = st.snapshot();
    let cache_key = key("summary", &f, c, snap.generation);
    let view = st.scope_view(&snap, c).await?;
    let scope = c.scope.clone();
    let (sla_filter, sla_budget, sla_snap) = (f.clone(), budget.clone(), snap.clone());
    let hits = search_hits(st, &snap, c, &f, budget.clone()).await?;
    let data = st
        .caches
        .summaries
        .get_or_compute(cache_key, async move {
            blocking(budget, move |budget| {
                let groups =
                    view.count_groups_matching(&compile(&snap, &f, &scope, hits.as_ref())) as u64;
                budget.check()?;
                let mut options = gdlens_index::SummaryOptions::new(now_ms());
                options.limit = summary::MAX_TOP;
                let mut s = snap.index.summary_with(snap.cells(), &f, &scope, &options);
                s.finding_groups = Some(groups);
                Ok(Arc::new(SummaryData {
                    summary: s,
                    finding_groups: groups,
                    regions: view.regions.clone(),
                }))
            })
            .await
        })
        .await?;
    let sync = sync_status(st, &c.scope).await?;
    Ok(SummaryGql {
        coverage: CoverageGql {
            regions: data.regions.clone(),
            sync,
        },
        data,
        sla: summary::SlaSource {
            snapshot: sla_snap,
            filter: sla_filter,
            scope: (*c.scope).clone(),
            budget: sla_budget,
        },
    })
}

/// Queries.
pub struct Query;

#[Object]
impl Query {
    /// Findings in the caller's scope matching `filter`, ordered (default PRIORITY desc, ties by id),
    /// paged with keyset cursors. `weights` ranks PRIORITY under custom weights.
    #[graphql(complexity = "list_cost(first, child_complexity)")]
    async fn findings(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        order_by: Option<FindingOrderInput>,
        first: Option<i32>,
        after: Option<String>,
        weights: Option<WeightsInput>,
    ) -> async_graphql::Result<FindingConnection> {
        let st = state(ctx).clone();
        let c = caller(ctx);
        let snap = st.snapshot();
        let first = page_size(first)?;
        let f = filter_of(&filter)?;
        let order = order_by.unwrap_or_default();
        let weights = match &weights {
            Some(w) => Some(Arc::new(resolve_weights(w)?)),
            None => None,
        };
        let cursor = after
            .as_deref()
            .map(|a| Cursor::decode(a, order.field, order.direction))
            .transpose()?;
        let view = if order.field == OrderField::Priority {
            Some(st.scope_view(&snap, c).await?)
        } else {
            None
        };
        let cache_key = key(
            "findings",
            (
                &f,
                order,
                weights.as_deref().map(|w| w.factor_weights()),
                after.as_deref(),
                first,
            ),
            c,
            snap.generation,
        );
        let (snap2, view2, w2, scope) =
            (snap.clone(), view.clone(), weights.clone(), c.scope.clone());
        let budget = budget(ctx);
        let hits = search_hits(&st, &snap, c, &f, budget.clone()).await?;
        let page = st
            .caches
            .finding_pages
            .get_or_compute(cache_key, async move {
                blocking(budget, move |_budget| {
                    let index = &snap2.index;
                    // PRIORITY ranks by the scope view's scores (custom weights scored here);
                    // the other fields by their index column.
                    let custom = match (&view2, &w2) {
                        (Some(v), Some(w)) => Some(
                            v.scores_with(index, w)
                                .map_err(|e| ApiError::bad_input("weights", e))?,
                        ),
                        _ => None,
                    };
                    let by_score = |r: u32| {
                        view2.as_ref().map_or(0.0, |v| match &custom {
                            Some(scores) => v.position(r).map_or(0.0, |p| scores[p]),
                            None => v.default_score(r),
                        })
                    };
                    let by_column =
                        |r: u32| query::column_key(index, order.field, r).unwrap_or(0.0);
                    // A precomputed order to walk, where one exists for this order.
                    let (key, sorted): (&dyn Fn(u32) -> f64, Option<&[u32]>) =
                        match (&view2, query::index_order(order.field, order.direction)) {
                            (Some(v), _) => {
                                let walkable = custom.is_none()
                                    && order.direction == query::OrderDirection::Desc;
                                (&by_score, walkable.then(|| v.priority_order(index)))
                            }
                            (None, Some((field, direction))) => {
                                (&by_column, Some(snap2.order(field, direction)))
                            }
                            (None, None) => (&by_column, None),
                        };
                    let p = match sorted {
                        Some(sorted) => query::walk(
                            index,
                            sorted,
                            key,
                            order.direction,
                            &compile(&snap2, &f, &scope, hits.as_ref()),
                            cursor.as_ref(),
                            first,
                        ),
                        None => query::page(
                            index,
                            key,
                            index.filter(&f, &scope),
                            order.direction,
                            cursor.as_ref(),
                            first,
                        ),
                    };
                    Ok(Arc::new(p))
                })
                .await
            })
            .await?;
        let mut edges = Vec::with_capacity(page.rows.len());
        for &(row, k) in &page.rows {
            let cursor = Cursor {
                field: order.field,
                direction: order.direction,
                key: k,
                id: snap.index.id(row).to_string(),
            };
            let score = (order.field == OrderField::Priority).then_some(k);
            edges.push(FindingEdge {
                cursor: cursor.encode(),
                node: FindingGql::new(&snap, row, weights.clone(), score),
            });
        }
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Ok(FindingConnection {
            total_count: page.total as u64,
            edges,
            page_info: PageInfo {
                has_next_page: page.has_next,
                end_cursor,
            },
        })
    }

    /// One finding by id (null when unknown or outside the caller's scope).
    async fn finding(&self, ctx: &Context<'_>, id: ID) -> Option<FindingGql> {
        let snap = state(ctx).snapshot();
        let row = snap.index.row_id(&id)?;
        if !caller(ctx).scope.allows(snap.index.account_id(row)) {
            return None;
        }
        Some(FindingGql::new(&snap, row, None, None))
    }

    /// The org-wide summary dashboard over `filter`, in the caller's scope.
    async fn summary(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
    ) -> async_graphql::Result<SummaryGql> {
        let f = filter_of(&filter)?;
        Ok(summary_of(state(ctx), caller(ctx), f, budget(ctx)).await?)
    }

    /// Finding groups with at least one visible member matching `filter`, highest score first
    /// (the score ranks real attack stories before busy resources; see docs/finding-groups.md).
    /// `triage` keeps groups in these group-level triage states (see `FindingGroup.triageStatus`);
    /// `changedSince` keeps groups with a member new or updated at or after that time.
    #[graphql(complexity = "list_cost(first, child_complexity)")]
    async fn finding_groups(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        triage: Option<Vec<inputs::TriageStatusGql>>,
        changed_since: Option<chrono::DateTime<chrono::Utc>>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<FindingGroupConnection> {
        let st = state(ctx).clone();
        let c = caller(ctx);
        let snap = st.snapshot();
        let first = page_size(first)?;
        let f = filter_of(&filter)?;
        let after = after
            .as_deref()
            .map(|a| query::decode_simple("g", a))
            .transpose()?;
        let cache_key = key("findingGroups", &f, c, snap.generation);
        let view = st.scope_view(&snap, c).await?;
        let (snap2, scope) = (snap.clone(), c.scope.clone());
        let budget = budget(ctx);
        let hits = search_hits(&st, &snap, c, &f, budget.clone()).await?;
        let list = st
            .caches
            .groups
            .get_or_compute(cache_key, async move {
                blocking(budget, move |_| {
                    Ok(Arc::new(visible_groups(
                        &snap2,
                        &view,
                        &f,
                        &scope,
                        hits.as_ref(),
                    )))
                })
                .await
            })
            .await?;
        // Group-level filters over the (cached) visible list: the order is unchanged.
        let list: Arc<Vec<Arc<FindingGroup>>> = if triage.is_none() && changed_since.is_none() {
            list
        } else {
            let states: Option<Vec<gdlens_domain::TriageStatus>> =
                triage.map(|t| t.into_iter().map(Into::into).collect());
            let since = changed_since.map(|t| t.timestamp_millis());
            Arc::new(
                list.iter()
                    .filter(|g| {
                        states
                            .as_ref()
                            .is_none_or(|s| s.contains(&groups::group_triage(&snap, g)))
                            && since.is_none_or(|t| groups::group_changed_at(&snap, g) >= t)
                    })
                    .cloned()
                    .collect(),
            )
        };
        let start = match &after {
            None => 0,
            Some((k, id)) => list
                .iter()
                .position(|g| {
                    let by = k
                        .total_cmp(&g.score)
                        .then_with(|| g.id.as_str().cmp(id.as_str()));
                    by == Ordering::Greater
                })
                .unwrap_or(list.len()),
        };
        let slice: Vec<VisibleGroup> = list
            .iter()
            .skip(start)
            .take(first)
            .map(|g| VisibleGroup::new(&snap, g.clone()))
            .collect();
        let has_next = start + slice.len() < list.len();
        let edges: Vec<FindingGroupEdge> = slice
            .iter()
            .map(|g| FindingGroupEdge {
                cursor: query::encode_simple("g", g.group.score, &g.group.id),
                node: g.clone(),
            })
            .collect();
        let end_cursor = edges.last().map(|e| e.cursor.clone());
        Ok(FindingGroupConnection {
            total_count: list.len() as u64,
            edges,
            nodes: slice,
            page_info: PageInfo {
                has_next_page: has_next,
                end_cursor,
            },
        })
    }

    /// One finding group by id (null when unknown or without a member in the caller's scope).
    /// A retired (merged) id resolves too, with its lineage.
    async fn finding_group(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<Option<VisibleGroup>> {
        let st = state(ctx);
        let c = caller(ctx);
        let snap = st.snapshot();
        let view = st.scope_view(&snap, c).await?;
        if let Some(g) = view.group(&id) {
            return Ok(Some(VisibleGroup::new(&snap, g.clone())));
        }
        Ok(snap
            .groups
            .get(&id)
            .filter(|g| !g.active)
            .and_then(|g| crate::view::restrict(g, &c.scope))
            .map(|g| VisibleGroup::new(&snap, g)))
    }

    /// Accounts visible to the caller: configured ones plus any with findings.
    async fn accounts(&self, ctx: &Context<'_>) -> Vec<AccountGql> {
        let snap = state(ctx).snapshot();
        let scope = &caller(ctx).scope;
        let mut ids: std::collections::BTreeSet<&str> =
            snap.accounts.keys().map(String::as_str).collect();
        ids.extend(snap.index.known_accounts());
        ids.into_iter()
            .filter(|id| scope.allows(id))
            .map(|id| {
                snap.accounts
                    .get(id)
                    .map(AccountGql::from_account)
                    .unwrap_or_else(|| AccountGql::unknown(id))
            })
            .collect()
    }

    /// The WASM scoring module's columnar input for up to 100,000 findings matching `filter`
    /// (ids, feature columns, dictionaries, nowMs, default weights).
    #[graphql(complexity = "scoring_features_cost(limit)")]
    async fn scoring_features(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        limit: Option<i32>,
    ) -> async_graphql::Result<async_graphql::Json<serde_json::Value>> {
        let st = state(ctx);
        let c = caller(ctx);
        let snap = st.snapshot();
        let f = filter_of(&filter)?;
        let limit = match limit {
            Some(n) if n < 0 || n as usize > MAX_FEATURES => {
                return Err(ApiError::new(
                    ErrorCode::PageTooLarge,
                    format!("argument `limit`: at most {MAX_FEATURES}"),
                )
                .into())
            }
            Some(n) => n as usize,
            None => MAX_FEATURES,
        };
        let view = st.scope_view(&snap, c).await?;
        let scope = c.scope.clone();
        let json = blocking(budget(ctx), move |budget| {
            let index = &snap.index;
            let rows = view.top_rows(index, &f, &scope, limit);
            budget.check()?;
            Ok(crate::priority::features_json(index, &view, &rows))
        })
        .await?;
        Ok(async_graphql::Json(json))
    }

    /// Sync state per region (empty when AWS is not configured).
    async fn sync_status(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SyncStatusGql>> {
        Ok(sync_status(state(ctx), &caller(ctx).scope).await?)
    }

    /// Suppression-rule suggestions mined from the noise among the findings matching `filter`
    /// (a type plus what its Low/Medium findings share, recurring over weeks, never a group
    /// member nor High+), each with its dry run over the whole history; ranked by noise removed.
    #[graphql(complexity = "50 + child_complexity * limit.unwrap_or(10).max(1) as usize")]
    async fn suppression_suggestions(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        limit: Option<i32>,
    ) -> async_graphql::Result<Vec<suppress::SuggestionGql>> {
        Ok(suppress::run_suggestions(ctx, filter, limit).await?)
    }

    /// What a GuardDuty filter with `criteria` (`findingCriteria` JSON) would archive over the
    /// whole history the caller sees, evaluated as GuardDuty evaluates it.
    #[graphql(complexity = "50 + child_complexity")]
    async fn dry_run_suppression(
        &self,
        ctx: &Context<'_>,
        criteria: async_graphql::Json<serde_json::Value>,
    ) -> async_graphql::Result<suppress::DryRunGql> {
        let criteria = suppress::parse_criteria(&criteria.0)?;
        Ok(suppress::run_dry_run(ctx, criteria).await?)
    }

    /// Suppression rules: gdlens's own and those synced from GuardDuty (per region). A scoped
    /// caller sees only rules limited to its accounts.
    async fn suppression_rules(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<suppress::SuppressionRuleGql>> {
        Ok(suppress::list_rules(ctx).await?)
    }

    /// GuardDuty coverage, org-wide: accounts × regions with the detector, the relationship to
    /// the delegated administrator and the protection plans of each cell, the gaps computed, gaps
    /// first, and totals (which ignore `gapsOnly`). A scoped caller sees only its accounts.
    #[graphql(complexity = "100 + child_complexity")]
    async fn coverage_matrix(
        &self,
        ctx: &Context<'_>,
        filter: Option<coverage::CoverageFilterInput>,
    ) -> async_graphql::Result<coverage::MatrixGql> {
        Ok(coverage::run(ctx, filter).await?)
    }

    /// What to harden: the most common finding types among the findings matching `filter` (limit
    /// ≤ 100, default 10), with what to fix, the accounts and resources affected, and the trend
    /// around `since` (findings created before vs at or after it), in the caller's scope.
    #[graphql(complexity = "20 + child_complexity * limit.unwrap_or(10).max(1) as usize")]
    async fn hardening(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        limit: Option<i32>,
        since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> async_graphql::Result<Vec<hardening::HardeningItemGql>> {
        Ok(hardening::run(ctx, filter, limit, since).await?)
    }

    /// The caller as the server sees it.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        let c = caller(ctx);
        Viewer {
            name: c.name.clone(),
            auth_method: c.method.as_str().to_string(),
            subject: c.identity.as_ref().map(|i| i.subject.clone()),
            email: c.identity.as_ref().and_then(|i| i.email.clone()),
            role: c.role.as_str().to_string(),
            accounts: match &*c.scope {
                Scope::All => None,
                Scope::Accounts(s) => Some(s.iter().cloned().collect()),
            },
        }
    }
}

/// Complexity of a paged list: its page size (default 50) times what one item asks for, a
/// tenth of a point per item field (a page of 500 findings with 15 fields costs 751).
fn list_cost(first: Option<i32>, child_complexity: usize) -> usize {
    let n = first.map_or(DEFAULT_PAGE, |n| n.clamp(0, MAX_PAGE as i32) as usize);
    1 + n.max(1).saturating_mul(child_complexity).div_ceil(10)
}

/// Complexity of `scoringFeatures`: one point per 50 findings it may return (the full 100,000
/// costs 2,001: two in one request reach the default limit of 5,000).
fn scoring_features_cost(limit: Option<i32>) -> usize {
    let n = limit.map_or(MAX_FEATURES, |l| l.clamp(0, MAX_FEATURES as i32) as usize);
    1 + n / 50
}

/// The authenticated caller.
#[derive(Debug, Clone, async_graphql::SimpleObject)]
pub struct Viewer {
    /// Token name; for a person signed in through OIDC or a proxy, the e-mail address,
    /// preferred user name or subject.
    pub name: String,
    /// How the caller signed in: `local` (auth off), `token`, `oidc` or `proxy`.
    pub auth_method: String,
    /// The identity provider's subject (`sub`) of a person; null for tokens.
    pub subject: Option<String>,
    /// The person's e-mail address, when the identity provider gave one.
    pub email: Option<String>,
    /// `viewer`, `triager` or `admin`.
    pub role: String,
    /// Account scope (null = all accounts).
    pub accounts: Option<Vec<String>>,
}

/// Sync state per region. The sync runs for the whole organization, so a scoped caller sees only
/// what says whether its view is complete (region, last success, error code, data age); the
/// detector id, the error text and the org-wide `findingsSynced` count are withheld (null / 0).
async fn sync_status(st: &Arc<AppState>, scope: &Scope) -> ApiResult<Vec<SyncStatusGql>> {
    let list = st.with_store(|s| s.sync_status()).await?;
    let now = now_ms();
    let whole_org = matches!(scope, Scope::All);
    Ok(list
        .into_iter()
        .map(|s| SyncStatusGql {
            region: s.region,
            detector_id: s.detector_id.filter(|_| whole_org),
            last_success_at: s.last_success_at.map(types::dt),
            last_error_code: s.last_error_code,
            last_error: s.last_error.filter(|_| whole_org),
            findings_synced: if whole_org { s.findings_synced } else { 0 },
            data_age_seconds: s.last_success_at.map(|t| (now - t) / 1000),
        })
        .collect())
}
