//! Subscriptions: `findingsChanged`, `findingGroupsChanged`, `summaryChanged` (see `live`).
//!
//! Every event is built from the current snapshot for the subscriber's own scope and filter,
//! so a scoped caller sees changes to the findings and groups it may read and nothing else.

use std::collections::{HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, Enum, SimpleObject, Subscription as GqlSubscription};
use futures_util::Stream;
use gdlens_domain::{FindingFilter, Scope};
use tokio::sync::{broadcast, watch};

use super::groups::VisibleGroup;
use super::inputs::FindingFilterInput;
use super::summary::SummaryGql;
use super::types::FindingGql;
use super::{caller, filter_of, state, summary_of};
use crate::error::{ApiError, ErrorCode};
use crate::limits::RequestBudget;
use crate::live::{FindingKind, LiveConnection, LiveEvent};
use crate::snapshot::Snapshot;
use crate::state::AppState;
use crate::view::restrict;

/// Least time between two `summaryChanged` events of one subscription.
pub const SUMMARY_DEBOUNCE: Duration = Duration::from_secs(1);

/// How a finding changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "FindingChangeKind")]
pub enum FindingChangeKindGql {
    /// First seen.
    Created,
    /// A newer version arrived.
    Updated,
    /// Its triage status was set.
    Triaged,
    /// A newer version is archived.
    Archived,
}

/// How a finding group changed (as the caller sees it: over its visible members).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(name = "FindingGroupChangeKind")]
pub enum FindingGroupChangeKindGql {
    /// A new group (or one that just became visible).
    Created,
    /// It gained members.
    Grew,
    /// Its severity rose.
    Escalated,
    /// It took in the members of other groups.
    Merged,
    /// A member's triage status was set.
    Triaged,
}

/// One changed finding.
#[derive(SimpleObject)]
#[graphql(name = "FindingChange")]
pub struct FindingChangeGql {
    /// What happened.
    kind: FindingChangeKindGql,
    /// The finding as it is now.
    finding: FindingGql,
}

/// One changed finding group.
#[derive(SimpleObject)]
#[graphql(name = "FindingGroupChange")]
pub struct FindingGroupChangeGql {
    /// What happened (the most telling of: merged, created, escalated, grew, triaged).
    kind: FindingGroupChangeKindGql,
    /// The group as it is now.
    group: VisibleGroup,
}

/// Subscriptions.
pub struct Subscription;

#[GqlSubscription]
impl Subscription {
    /// Findings in the caller's scope matching `filter` as they are created, updated, triaged or
    /// archived (an archived finding is reported even when `filter` leaves archived ones out, so
    /// a list can drop it). One event per finding per change.
    async fn findings_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<FindingChangeGql>>> {
        let f = filter_of(&filter)?;
        // Unless the filter asks about archived findings, an archived one is still reported.
        let archived_asked = filter.as_ref().is_some_and(|f| f.archived.is_some());
        let scope = caller(ctx).scope.clone();
        Ok(events(ctx, move |snap, ev| {
            finding_changes(snap, ev, &scope, &f, archived_asked)
        }))
    }

    /// Finding groups with a visible member matching `filter` that were created, grew, escalated,
    /// merged or had a member triaged, as the caller sees them (over its visible members only).
    async fn finding_groups_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<FindingGroupChangeGql>>>
    {
        let f = filter_of(&filter)?;
        let scope = caller(ctx).scope.clone();
        Ok(events(ctx, move |snap, ev| {
            group_changes(snap, ev, &scope, &f)
        }))
    }

    /// The summary over `filter` in the caller's scope: once at once, then after each change
    /// that touches the caller's accounts, at most once a second (changes in between are
    /// folded into the next event).
    async fn summary_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<FindingFilterInput>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<SummaryGql>>> {
        let f = filter_of(&filter)?;
        let st = state(ctx).clone();
        let c = caller(ctx).clone();
        let rx = st.live.subscribe();
        let stop = st.live.stopping();
        let count = SubCount::new(&st);
        let s = SummaryStream {
            st,
            caller: c,
            filter: f,
            rx,
            stop,
            first: true,
            last: None,
            _count: count,
        };
        Ok(futures_util::stream::unfold(s, |mut s| async move {
            if !s.first {
                if !s.wait_relevant().await {
                    return None;
                }
                if let Some(last) = s.last {
                    let due = tokio::time::Instant::from_std(last + SUMMARY_DEBOUNCE);
                    tokio::select! {
                        () = tokio::time::sleep_until(due) => {}
                        _ = s.stop.wait_for(|stop| *stop) => return None,
                    }
                }
                // Changes that arrived meanwhile are in the summary about to be computed.
                while !matches!(
                    s.rx.try_recv(),
                    Err(broadcast::error::TryRecvError::Empty
                        | broadcast::error::TryRecvError::Closed)
                ) {}
            }
            s.first = false;
            s.last = Some(std::time::Instant::now());
            let budget = RequestBudget::new(Duration::from_millis(
                s.st.config.server.request_cpu_budget_ms,
            ));
            let out = summary_of(&s.st, &s.caller, s.filter.clone(), budget)
                .await
                .map_err(async_graphql::Error::from);
            if out.is_ok() {
                s.st.live.stats.events.fetch_add(1, Ordering::Relaxed);
            }
            Some((out, s))
        }))
    }
}

struct SummaryStream {
    st: Arc<AppState>,
    caller: crate::auth::Caller,
    filter: FindingFilter,
    rx: broadcast::Receiver<Arc<LiveEvent>>,
    stop: watch::Receiver<bool>,
    first: bool,
    last: Option<std::time::Instant>,
    _count: SubCount,
}

impl SummaryStream {
    /// Waits for a change that moves this caller's summary; false when the stream should end.
    async fn wait_relevant(&mut self) -> bool {
        loop {
            let ev = tokio::select! {
                ev = self.rx.recv() => ev,
                _ = self.stop.wait_for(|stop| *stop) => return false,
            };
            match ev {
                Ok(ev) => {
                    if ev.accounts || self.touches_scope(&ev) {
                        return true;
                    }
                }
                // Missed changes: the summary is recomputed whole anyway.
                Err(broadcast::error::RecvError::Lagged(_)) => return true,
                Err(broadcast::error::RecvError::Closed) => return false,
            }
        }
    }

    fn touches_scope(&self, ev: &LiveEvent) -> bool {
        let scope = &self.caller.scope;
        if matches!(**scope, Scope::All) {
            return !ev.findings.is_empty();
        }
        let snap = self.st.snapshot();
        ev.findings.iter().any(|f| {
            snap.index
                .row_id(&f.id)
                .is_some_and(|row| scope.allows(snap.index.account_id(row)))
        })
    }
}

/// Counts an open subscription in `gdlens_live_subscriptions` while it lives.
struct SubCount(Arc<AppState>);

impl SubCount {
    fn new(st: &Arc<AppState>) -> Self {
        st.live.stats.subscriptions.fetch_add(1, Ordering::Relaxed);
        SubCount(st.clone())
    }
}

impl Drop for SubCount {
    fn drop(&mut self) {
        self.0
            .live
            .stats
            .subscriptions
            .fetch_sub(1, Ordering::Relaxed);
    }
}

struct EventStream<T, F> {
    st: Arc<AppState>,
    rx: broadcast::Receiver<Arc<LiveEvent>>,
    stop: watch::Receiver<bool>,
    conn: Option<Arc<LiveConnection>>,
    pending: VecDeque<T>,
    done: bool,
    build: F,
    _count: SubCount,
}

/// The stream of one subscription: each change becomes the events `build` makes of it for
/// this subscriber from the current snapshot. Falling `event_buffer` changes behind ends it
/// with `SLOW_CONSUMER` (and marks the connection, which the transport then closes).
fn events<T, F>(
    ctx: &Context<'_>,
    build: F,
) -> impl Stream<Item = async_graphql::Result<T>> + Send + 'static
where
    T: Send + 'static,
    F: FnMut(&Arc<Snapshot>, &LiveEvent) -> Vec<T> + Send + 'static,
{
    let st = state(ctx).clone();
    let s = EventStream {
        rx: st.live.subscribe(),
        stop: st.live.stopping(),
        conn: ctx.data_opt::<Arc<LiveConnection>>().cloned(),
        pending: VecDeque::new(),
        done: false,
        build,
        _count: SubCount::new(&st),
        st,
    };
    futures_util::stream::unfold(s, |mut s| async move {
        loop {
            if let Some(item) = s.pending.pop_front() {
                s.st.live.stats.events.fetch_add(1, Ordering::Relaxed);
                return Some((Ok(item), s));
            }
            if s.done {
                return None;
            }
            let ev = tokio::select! {
                ev = s.rx.recv() => ev,
                _ = s.stop.wait_for(|stop| *stop) => return None,
            };
            match ev {
                Ok(ev) => {
                    let snap = s.st.snapshot();
                    let items = (s.build)(&snap, &ev);
                    s.pending.extend(items);
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    s.done = true;
                    s.st.live
                        .stats
                        .slow_consumers
                        .fetch_add(1, Ordering::Relaxed);
                    if let Some(conn) = &s.conn {
                        conn.mark_slow();
                    }
                    tracing::info!(missed, "live subscriber too slow: disconnected");
                    let e = ApiError::new(
                        ErrorCode::SlowConsumer,
                        format!("events were not read fast enough ({missed} changes missed); subscribe again and re-read the current state"),
                    );
                    return Some((Err(e.into()), s));
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
}

fn finding_changes(
    snap: &Arc<Snapshot>,
    ev: &LiveEvent,
    scope: &Scope,
    filter: &FindingFilter,
    archived_asked: bool,
) -> Vec<FindingChangeGql> {
    if ev.findings.is_empty() {
        return Vec::new();
    }
    let compiled = snap.index.compile(filter, scope);
    // An archived finding leaves the default (active) list: report it anyway.
    let archived_filter = FindingFilter {
        archived: if archived_asked {
            filter.archived
        } else {
            Some(true)
        },
        ..filter.clone()
    };
    let archived = snap.index.compile(&archived_filter, scope);
    ev.findings
        .iter()
        .filter_map(|t| {
            let row = snap.index.row_id(&t.id)?;
            if !scope.allows(snap.index.account_id(row)) {
                return None;
            }
            let matches = match t.kind {
                FindingKind::Archived => archived.matches(row),
                _ => compiled.matches(row),
            };
            matches.then(|| FindingChangeGql {
                kind: match t.kind {
                    FindingKind::Created => FindingChangeKindGql::Created,
                    FindingKind::Updated => FindingChangeKindGql::Updated,
                    FindingKind::Triaged => FindingChangeKindGql::Triaged,
                    FindingKind::Archived => FindingChangeKindGql::Archived,
                },
                finding: FindingGql::new(snap, row, None, None),
            })
        })
        .collect()
}

fn group_changes(
    snap: &Arc<Snapshot>,
    ev: &LiveEvent,
    scope: &Scope,
    filter: &FindingFilter,
) -> Vec<FindingGroupChangeGql> {
    if ev.groups.is_empty() {
        return Vec::new();
    }
    let compiled = snap.index.compile(filter, scope);
    let visible_changed: HashSet<&str> = ev
        .findings
        .iter()
        .filter(|f| {
            snap.index
                .row_id(&f.id)
                .is_some_and(|row| scope.allows(snap.index.account_id(row)))
        })
        .map(|f| f.id.as_str())
        .collect();
    let mut out = Vec::new();
    for t in &ev.groups {
        let Some(group) = snap.groups.get(&t.id).filter(|g| g.active) else {
            continue; // retired since (a later change reports its successor)
        };
        let Some(visible) = restrict(group, scope) else {
            continue;
        };
        // Only changes the caller can see count: a hidden member's news moves nothing here.
        if !visible
            .finding_ids
            .iter()
            .any(|id| visible_changed.contains(id.as_str()))
        {
            continue;
        }
        if !visible
            .finding_ids
            .iter()
            .any(|id| snap.index.row_id(id).is_some_and(|r| compiled.matches(r)))
        {
            continue;
        }
        let before = t.before.as_ref().and_then(|b| restrict(b, scope));
        let merged = t.from.iter().any(|g| restrict(g, scope).is_some());
        let kind = match before {
            _ if merged => FindingGroupChangeKindGql::Merged,
            None => FindingGroupChangeKindGql::Created,
            Some(b) if visible.severity > b.severity => FindingGroupChangeKindGql::Escalated,
            Some(b) if visible.finding_ids.len() > b.finding_ids.len() => {
                FindingGroupChangeKindGql::Grew
            }
            Some(_) if t.triaged => FindingGroupChangeKindGql::Triaged,
            Some(_) => continue,
        };
        out.push(FindingGroupChangeGql {
            kind,
            group: VisibleGroup::new(snap, visible),
        });
    }
    out
}
