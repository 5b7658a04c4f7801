//! The GraphQL schema: queries, mutations, limits.

mod groups;
mod inputs;
mod loaders;
mod mutation;
mod summary;
mod types;

use std::cmp::Ordering;
use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, EmptySubscription, Object, Schema, ID};
use gdlens_domain::{FindingFilter, Scope};

pub use groups::VisibleGroup;
pub use inputs::{FindingFilterInput, FindingOrderInput, WeightsInput};
pub use loaders::StoreLoader;
pub use mutation::Mutation;
pub use summary::SummaryData;

use crate::auth::Caller;
use crate::cache::CacheKey;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::query::{self, Cursor, OrderField};
use crate::state::{now_ms, AppState};
use gdlens_scoring::Weights;
use groups::{FindingGroupConnection, FindingGroupEdge};
use summary::{CoverageGql, SummaryGql};
use types::{AccountGql, FindingConnection, FindingEdge, FindingGql, PageInfo, SyncStatusGql};

/// The schema type.
pub type GdlensSchema = Schema<Query, Mutation, EmptySubscription>;

/// Default page size.
pub const DEFAULT_PAGE: usize = 50;
/// Largest page a client may ask for.
pub const MAX_PAGE: usize = 500;
/// Most findings `scoringFeatures` returns.
pub const MAX_FEATURES: usize = 100_000;

/// Builds the schema with limits; `state` is `None` only for printing the SDL.
pub fn build_schema(
    state: Option<Arc<AppState>>,
    max_depth: usize,
    max_complexity: usize,
) -> GdlensSchema {
    let mut b = Schema::build(Query, Mutation, EmptySubscription)
        .limit_depth(max_depth)
        .limit_complexity(max_complexity);
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
    build_schema(None, 12, 5_000).sdl()
}

pub(crate) fn state<'a>(ctx: &Context<'a>) -> &'a Arc<AppState> {
    ctx.data_unchecked::<Arc<AppState>>()
}

pub(crate) fn caller<'a>(ctx: &Context<'a>) -> &'a Caller {
    ctx.data_unchecked::<Caller>()
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
    scope: &Scope,
    generation: u64,
) -> CacheKey {
    CacheKey {
        resolver,
        args: serde_json::to_string(&args).unwrap_or_default(),
        scope: scope.cache_key(),
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

/// Groups visible to the caller with at least one member matching `filter`, highest score first.
pub(crate) fn visible_groups(
    state: &AppState,
    filter: &FindingFilter,
    scope: &Scope,
) -> Vec<VisibleGroup> {
    let index = state.index.read().unwrap_or_else(|e| e.into_inner());
    let mut mask = vec![false; index.len()];
    for r in index.filter(filter, scope) {
        mask[r as usize] = true;
    }
    let visible = |id: &str| index.row_id(id).is_some_and(|r| mask[r as usize]);
    let all = state
        .groups
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .groups();
    let mut out: Vec<VisibleGroup> = all
        .iter()
        .filter_map(|g| groups::restrict(state, g, &visible))
        .collect();
    out.sort_by(|a, b| {
        b.group
            .score
            .total_cmp(&a.group.score)
            .then_with(|| a.group.id.cmp(&b.group.id))
    });
    out
}

/// Queries.
pub struct Query;

#[Object]
impl Query {
    /// Findings in the caller's scope matching `filter`, ordered (default PRIORITY desc, ties by id),
    /// paged with keyset cursors. `weights` ranks PRIORITY under custom weights.
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
        let scope = caller(ctx).scope.clone();
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
        let generation = st.generation();
        let cache_key = key(
            "findings",
            (
                &f,
                order,
                weights.as_deref().map(|w| w.factor_weights()),
                after.as_deref(),
                first,
            ),
            &scope,
            generation,
        );
        let st2 = st.clone();
        let w2 = weights.clone();
        let page = st
            .caches
            .finding_pages
            .get_or_compute(cache_key, async move {
                let scores = if order.field == OrderField::Priority {
                    Some(match &w2 {
                        Some(w) => Arc::new(
                            st2.score_all(w)
                                .map_err(|e| ApiError::bad_input("weights", e))?,
                        ),
                        None => st2.default_scores(),
                    })
                } else {
                    None
                };
                let index = st2.index.read().unwrap_or_else(|e| e.into_inner());
                let rows = index.filter(&f, &scope);
                let p = query::page(
                    &index,
                    scores.as_ref().map(|s| s.values.as_slice()),
                    rows,
                    order.field,
                    order.direction,
                    cursor.as_ref(),
                    first,
                );
                Ok(Arc::new(p))
            })
            .await?;
        let index = st.index.read().unwrap_or_else(|e| e.into_inner());
        let map = st.findings.read().unwrap_or_else(|e| e.into_inner());
        let mut edges = Vec::with_capacity(page.rows.len());
        for &(row, k) in &page.rows {
            let id = index.id(row);
            let Some(finding) = map.get(id) else { continue };
            let cursor = Cursor {
                field: order.field,
                direction: order.direction,
                key: k,
                id: id.to_string(),
            };
            let score = (order.field == OrderField::Priority).then_some(k);
            edges.push(FindingEdge {
                cursor: cursor.encode(),
                node: FindingGql {
                    finding: finding.clone(),
                    row: Some(row),
                    weights: weights.clone(),
                    score,
                },
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
        let st = state(ctx);
        let f = st.finding(&id)?;
        if !caller(ctx).scope.allows(&f.account_id) {
            return None;
        }
        let row = st
            .index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .row_id(&f.id);
        Some(FindingGql {
            finding: f,
            row,
            weights: None,
            score: None,
        })
    }

    /// The org-wide summary dashboard over `filter`, in the caller's scope.
    async fn summary(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
    ) -> async_graphql::Result<SummaryGql> {
        let st = state(ctx).clone();
        let scope = caller(ctx).scope.clone();
        let f = filter_of(&filter)?;
        let cache_key = key("summary", &f, &scope, st.generation());
        let st2 = st.clone();
        let scope2 = scope.clone();
        let data = st
            .caches
            .summaries
            .get_or_compute(cache_key, async move {
                let groups = visible_groups(&st2, &f, &scope2).len() as u64;
                let index = st2.index.read().unwrap_or_else(|e| e.into_inner());
                let mut options = gdlens_index::SummaryOptions::new(now_ms());
                options.limit = summary::MAX_TOP;
                let mut s = index.summary(&f, &scope2, &options);
                s.finding_groups = Some(groups);
                Ok(Arc::new(SummaryData {
                    summary: s,
                    finding_groups: groups,
                }))
            })
            .await?;
        let mut regions: Vec<String> = {
            let index = st.index.read().unwrap_or_else(|e| e.into_inner());
            let mut set = std::collections::BTreeSet::new();
            for row in 0..index.len() as u32 {
                if scope.allows(index.account_id(row)) {
                    set.insert(index.region(row));
                }
            }
            set.into_iter().map(str::to_string).collect()
        };
        regions.sort();
        let sync = sync_status(&st).await?;
        Ok(SummaryGql {
            data,
            coverage: CoverageGql { regions, sync },
        })
    }

    /// Finding groups with at least one visible member matching `filter`, highest score first.
    async fn finding_groups(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<FindingGroupConnection> {
        let st = state(ctx).clone();
        let scope = caller(ctx).scope.clone();
        let first = page_size(first)?;
        let f = filter_of(&filter)?;
        let after = after
            .as_deref()
            .map(|a| query::decode_simple("g", a))
            .transpose()?;
        let cache_key = key("findingGroups", &f, &scope, st.generation());
        let st2 = st.clone();
        let list = st
            .caches
            .groups
            .get_or_compute(cache_key, async move {
                Ok(Arc::new(visible_groups(&st2, &f, &scope)))
            })
            .await?;
        let start = match &after {
            None => 0,
            Some((k, id)) => list
                .iter()
                .position(|g| {
                    let by = k
                        .total_cmp(&g.group.score)
                        .then_with(|| g.group.id.as_str().cmp(id.as_str()));
                    by == Ordering::Greater
                })
                .unwrap_or(list.len()),
        };
        let slice: Vec<VisibleGroup> = list.iter().skip(start).take(first).cloned().collect();
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
    async fn finding_group(&self, ctx: &Context<'_>, id: ID) -> Option<VisibleGroup> {
        let st = state(ctx);
        let scope = &caller(ctx).scope;
        let g = st
            .groups
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .group(&id)?;
        let map = st.findings.read().unwrap_or_else(|e| e.into_inner());
        let in_scope: Vec<String> = g
            .members
            .iter()
            .filter(|m| map.get(*m).is_some_and(|f| scope.allows(&f.account_id)))
            .cloned()
            .collect();
        drop(map);
        let set: std::collections::HashSet<String> = in_scope.into_iter().collect();
        groups::restrict(st, &g, &|m: &str| set.contains(m))
    }

    /// Accounts visible to the caller: configured ones plus any with findings.
    async fn accounts(&self, ctx: &Context<'_>) -> Vec<AccountGql> {
        let st = state(ctx);
        let scope = &caller(ctx).scope;
        let mut ids: std::collections::BTreeSet<String> =
            st.accounts.load().keys().cloned().collect();
        {
            let index = st.index.read().unwrap_or_else(|e| e.into_inner());
            for row in 0..index.len() as u32 {
                if !ids.contains(index.account_id(row)) {
                    ids.insert(index.account_id(row).to_string());
                }
            }
        }
        let accounts = st.accounts.load();
        ids.into_iter()
            .filter(|id| scope.allows(id))
            .map(|id| {
                accounts
                    .get(&id)
                    .map(AccountGql::from_account)
                    .unwrap_or_else(|| AccountGql::unknown(&id))
            })
            .collect()
    }

    /// The WASM scoring module's columnar input for up to 100,000 findings matching `filter`
    /// (ids, feature columns, dictionaries, nowMs, default weights).
    async fn scoring_features(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
        limit: Option<i32>,
    ) -> async_graphql::Result<async_graphql::Json<serde_json::Value>> {
        let st = state(ctx);
        let scope = &caller(ctx).scope;
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
        let index = st.index.read().unwrap_or_else(|e| e.into_inner());
        let mut rows = index.filter(&f, scope);
        if rows.len() > limit {
            let scores = st.default_scores();
            rows.sort_by(|a, b| {
                let sa = scores.values.get(*a as usize).copied().unwrap_or(0.0);
                let sb = scores.values.get(*b as usize).copied().unwrap_or(0.0);
                sb.total_cmp(&sa)
                    .then_with(|| index.id(*a).cmp(index.id(*b)))
            });
            rows.truncate(limit);
        }
        drop(index);
        let features = st.features();
        let index = st.index.read().unwrap_or_else(|e| e.into_inner());
        Ok(async_graphql::Json(crate::priority::features_json(
            &index, &features, &rows,
        )))
    }

    /// Sync state per region (empty when AWS is not configured).
    async fn sync_status(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<SyncStatusGql>> {
        Ok(sync_status(state(ctx)).await?)
    }

    /// The caller as the server sees it.
    async fn viewer(&self, ctx: &Context<'_>) -> Viewer {
        let c = caller(ctx);
        Viewer {
            name: c.name.clone(),
            role: c.role.as_str().to_string(),
            accounts: match &c.scope {
                Scope::All => None,
                Scope::Accounts(s) => Some(s.iter().cloned().collect()),
            },
        }
    }
}

/// The authenticated caller.
#[derive(Debug, Clone, async_graphql::SimpleObject)]
pub struct Viewer {
    /// Token name.
    pub name: String,
    /// `viewer`, `triager` or `admin`.
    pub role: String,
    /// Account scope (null = all accounts).
    pub accounts: Option<Vec<String>>,
}

async fn sync_status(st: &Arc<AppState>) -> ApiResult<Vec<SyncStatusGql>> {
    let list = st.with_store(|s| s.sync_status()).await?;
    let now = now_ms();
    Ok(list
        .into_iter()
        .map(|s| SyncStatusGql {
            region: s.region,
            detector_id: s.detector_id,
            last_success_at: s.last_success_at.map(types::dt),
            last_error_code: s.last_error_code,
            last_error: s.last_error,
            findings_synced: s.findings_synced,
            data_age_seconds: s.last_success_at.map(|t| (now - t) / 1000),
        })
        .collect())
}
