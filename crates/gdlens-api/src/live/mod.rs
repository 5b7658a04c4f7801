//! Live updates: what changed at each write, broadcast to GraphQL subscriptions.
//!
//! ```text
//! AppState::write ──► Hub::publish(prev, next, touched) ──► broadcast (bounded, `live.event_buffer`)
//!                                                              │
//!            findingsChanged / findingGroupsChanged / summaryChanged (per subscriber: scope + filter)
//!                                                              │
//!                  graphql-transport-ws on /graphql (ws.rs)  ·  graphql-sse on /graphql/stream (sse.rs)
//! ```
//!
//! The write path only records *which* findings and groups changed and how (a few hash lookups
//! per changed finding, and only while someone is subscribed). Every subscriber then reads the
//! current snapshot, keeps what its scope allows and its filter matches, and builds its events
//! itself: nothing about a hidden account reaches a scoped caller, and an event never holds a
//! snapshot alive. A subscriber that falls `event_buffer` batches behind is disconnected (close
//! code 4501, or a `SLOW_CONSUMER` error on SSE) instead of being buffered for without bound.

pub(crate) mod sse;
pub(crate) mod ws;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use gdlens_groups::FindingGroup;
use serde::Deserialize;
use tokio::sync::{broadcast, watch, Notify};

use crate::snapshot::Snapshot;
use crate::state::Change;

/// WebSocket close code: the client did not read its events fast enough.
pub const CLOSE_SLOW_CONSUMER: u16 = 4501;
/// WebSocket close code: the token already has `max_connections_per_token` live connections.
pub const CLOSE_TOO_MANY_CONNECTIONS: u16 = 4502;
/// WebSocket close code (graphql-transport-ws): no or an unknown token in `connection_init`.
pub const CLOSE_UNAUTHORIZED: u16 = 4401;
/// WebSocket close code (graphql-transport-ws): the token may not read findings.
pub const CLOSE_FORBIDDEN: u16 = 4403;
/// WebSocket close code (graphql-transport-ws): no `connection_init` in time.
pub const CLOSE_INIT_TIMEOUT: u16 = 4408;
/// WebSocket close code (graphql-transport-ws): a `subscribe` whose id is already in use.
pub const CLOSE_DUPLICATE_ID: u16 = 4409;
/// WebSocket close code (graphql-transport-ws): a second `connection_init`.
pub const CLOSE_TOO_MANY_INITS: u16 = 4429;
/// WebSocket close code (graphql-transport-ws): a message that is not of the protocol.
pub const CLOSE_BAD_MESSAGE: u16 = 4400;

/// `[live]`: GraphQL subscriptions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LiveConfig {
    /// Change batches kept for subscribers (default 256). A subscriber further behind is
    /// disconnected as a slow consumer.
    pub event_buffer: usize,
    /// Messages queued for one WebSocket before it is closed as a slow consumer (default 1024).
    pub outgoing_queue: usize,
    /// Subscriptions one WebSocket may hold at once (default 16).
    pub max_subscriptions_per_connection: usize,
    /// Live connections (WebSocket or SSE) one token or person may hold at once (default 16).
    pub max_connections_per_token: usize,
    /// Seconds a WebSocket has to send `connection_init` (default 10).
    pub connection_init_timeout_seconds: u64,
}

impl Default for LiveConfig {
    fn default() -> Self {
        LiveConfig {
            event_buffer: 256,
            outgoing_queue: 1024,
            max_subscriptions_per_connection: 16,
            max_connections_per_token: 16,
            connection_init_timeout_seconds: 10,
        }
    }
}

/// How a finding changed in one write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FindingKind {
    /// First seen.
    Created,
    /// A newer version.
    Updated,
    /// Triage status set.
    Triaged,
    /// A newer version that is archived (the previous one was not).
    Archived,
}

/// One changed finding.
#[derive(Debug, Clone)]
pub(crate) struct FindingTouch {
    pub id: String,
    pub kind: FindingKind,
}

/// One group holding a changed finding after the write, with what it was before.
#[derive(Debug, Clone)]
pub(crate) struct GroupTouch {
    /// The group's id after the write.
    pub id: String,
    /// The same group before the write (absent: new).
    pub before: Option<Arc<FindingGroup>>,
    /// Other groups whose members it now holds (merged parents, groups findings moved from).
    pub from: Vec<Arc<FindingGroup>>,
    /// A member's triage changed.
    pub triaged: bool,
}

/// What one write changed.
#[derive(Debug)]
pub(crate) struct LiveEvent {
    /// Changed findings (empty for account and other changes).
    pub findings: Vec<FindingTouch>,
    /// Groups holding changed findings.
    pub groups: Vec<GroupTouch>,
    /// Accounts (names, criticality) changed: summaries move for everyone.
    pub accounts: bool,
}

/// What a change names, taken before the writer applies it.
pub(crate) struct Touched {
    ids: Vec<(String, bool)>,
    triage: bool,
    accounts: bool,
}

impl Touched {
    /// The ids (and archived flags) a change names.
    pub(crate) fn of(change: &Change<'_>) -> Self {
        match change {
            Change::Findings(f) => Touched {
                ids: f.iter().map(|f| (f.id.clone(), f.archived)).collect(),
                triage: false,
                accounts: false,
            },
            Change::Triage(t) => Touched {
                ids: t.iter().map(|(id, _)| (id.clone(), false)).collect(),
                triage: true,
                accounts: false,
            },
            Change::Accounts(_) => Touched {
                ids: Vec::new(),
                triage: false,
                accounts: true,
            },
            Change::Other => Touched {
                ids: Vec::new(),
                triage: false,
                accounts: false,
            },
        }
    }
}

/// The live hub: one per [`crate::AppState`].
pub struct Hub {
    config: LiveConfig,
    tx: broadcast::Sender<Arc<LiveEvent>>,
    connections: Mutex<HashMap<String, usize>>,
    stop: watch::Sender<bool>,
    /// Counters for `/metrics`.
    pub(crate) stats: LiveStats,
}

/// Live counters.
#[derive(Debug, Default)]
pub(crate) struct LiveStats {
    pub connections: AtomicU64,
    pub subscriptions: AtomicU64,
    pub events: AtomicU64,
    pub slow_consumers: AtomicU64,
    pub refused_connections: AtomicU64,
    pub refused_subscriptions: AtomicU64,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub").field("config", &self.config).finish()
    }
}

impl Hub {
    /// A hub with `config`'s limits.
    pub fn new(config: &LiveConfig) -> Self {
        let (tx, _) = broadcast::channel(config.event_buffer.max(1));
        let (stop, _) = watch::channel(false);
        Hub {
            config: config.clone(),
            tx,
            connections: Mutex::new(HashMap::new()),
            stop,
            stats: LiveStats::default(),
        }
    }

    /// The limits.
    pub fn config(&self) -> &LiveConfig {
        &self.config
    }

    /// Whether anyone listens (the write path records nothing otherwise).
    pub(crate) fn wants_events(&self) -> bool {
        self.tx.receiver_count() > 0
    }

    /// A receiver of every later change.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Arc<LiveEvent>> {
        self.tx.subscribe()
    }

    /// Turns true when the server shuts down: live streams end.
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Ends every live stream (server shutdown: SSE responses complete, WebSockets close).
    pub fn shutdown(&self) {
        let _ = self.stop.send(true);
    }

    /// Called by the write path after `next` is published (under the writer lock, so events go
    /// out in generation order).
    pub(crate) fn publish(&self, prev: &Snapshot, next: &Snapshot, touched: Touched) {
        let event = diff(prev, next, touched);
        // No receiver left since the check: nothing to do.
        let _ = self.tx.send(Arc::new(event));
    }

    /// Takes one of the `key`'s live connection slots, or `None` when all are in use.
    pub(crate) fn connect(self: &Arc<Self>, key: String) -> Option<ConnectionSlot> {
        let mut map = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(key.clone()).or_insert(0);
        if *n >= self.config.max_connections_per_token.max(1) {
            self.stats
                .refused_connections
                .fetch_add(1, Ordering::Relaxed);
            return None;
        }
        *n += 1;
        self.stats.connections.fetch_add(1, Ordering::Relaxed);
        Some(ConnectionSlot {
            hub: self.clone(),
            key,
        })
    }

    /// Prometheus text for `/metrics`.
    pub(crate) fn render(&self, out: &mut String) {
        use std::fmt::Write as _;
        let s = &self.stats;
        let open: usize = self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .sum();
        let _ = writeln!(out, "# HELP gdlens_live_connections Open live connections (WebSocket and SSE).\n# TYPE gdlens_live_connections gauge\ngdlens_live_connections {open}");
        let _ = writeln!(out, "# HELP gdlens_live_subscriptions Open subscriptions.\n# TYPE gdlens_live_subscriptions gauge\ngdlens_live_subscriptions {}", s.subscriptions.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP gdlens_live_connections_total Live connections accepted.\n# TYPE gdlens_live_connections_total counter\ngdlens_live_connections_total {}", s.connections.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP gdlens_live_events_total Subscription events sent.\n# TYPE gdlens_live_events_total counter\ngdlens_live_events_total {}", s.events.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP gdlens_live_slow_consumers_total Live connections closed because the client read too slowly.\n# TYPE gdlens_live_slow_consumers_total counter\ngdlens_live_slow_consumers_total {}", s.slow_consumers.load(Ordering::Relaxed));
        let _ = writeln!(out, "# HELP gdlens_live_refused_total Live connections and subscriptions refused by a limit.\n# TYPE gdlens_live_refused_total counter\ngdlens_live_refused_total{{what=\"connection\"}} {}\ngdlens_live_refused_total{{what=\"subscription\"}} {}", s.refused_connections.load(Ordering::Relaxed), s.refused_subscriptions.load(Ordering::Relaxed));
    }
}

/// One of a token's live connection slots; released on drop.
pub(crate) struct ConnectionSlot {
    hub: Arc<Hub>,
    key: String,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut map = self
            .hub
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                map.remove(&self.key);
            }
        }
    }
}

/// Per-connection state the subscription streams report to (in the connection's context data).
#[derive(Debug, Default)]
pub(crate) struct LiveConnection {
    slow: AtomicBool,
    notify: Notify,
}

impl LiveConnection {
    /// A subscription on this connection fell behind.
    pub(crate) fn mark_slow(&self) {
        if !self.slow.swap(true, Ordering::AcqRel) {
            self.notify.notify_one();
        }
    }

    /// Whether a subscription fell behind.
    pub(crate) fn is_slow(&self) -> bool {
        self.slow.load(Ordering::Acquire)
    }

    /// Resolves once a subscription fell behind.
    pub(crate) async fn slowed(&self) {
        loop {
            if self.is_slow() {
                return;
            }
            self.notify.notified().await;
        }
    }
}

/// What changed from `prev` to `next` for the findings `touched` names.
fn diff(prev: &Snapshot, next: &Snapshot, touched: Touched) -> LiveEvent {
    let mut findings = Vec::with_capacity(touched.ids.len());
    let mut groups: BTreeMap<String, GroupTouch> = BTreeMap::new();
    for (id, archived) in touched.ids {
        let before = prev.index.row_id(&id);
        let kind = if touched.triage {
            FindingKind::Triaged
        } else {
            match before {
                None => FindingKind::Created,
                Some(row) if archived && !prev.index.archived(row) => FindingKind::Archived,
                Some(_) => FindingKind::Updated,
            }
        };
        let old_group = before.and_then(|row| prev.groups.of_row(row));
        if let Some(group) = next
            .index
            .row_id(&id)
            .and_then(|row| next.groups.of_row(row))
        {
            let entry = groups
                .entry(group.id.clone())
                .or_insert_with(|| GroupTouch {
                    id: group.id.clone(),
                    before: prev.groups.get(&group.id).filter(|g| g.active).cloned(),
                    from: group
                        .parents
                        .iter()
                        .filter_map(|p| prev.groups.get(p).filter(|g| g.active).cloned())
                        .collect(),
                    triaged: false,
                });
            entry.triaged |= touched.triage;
            if let Some(old) = old_group {
                if old.id != group.id && !entry.from.iter().any(|g| g.id == old.id) {
                    entry.from.push(old.clone());
                }
            }
        }
        findings.push(FindingTouch { id, kind });
    }
    LiveEvent {
        findings,
        groups: groups.into_values().collect(),
        accounts: touched.accounts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_slots_are_capped_per_key_and_released_on_drop() {
        let hub = Arc::new(Hub::new(&LiveConfig {
            max_connections_per_token: 2,
            ..LiveConfig::default()
        }));
        let a1 = hub.connect("a".into()).expect("first");
        let _a2 = hub.connect("a".into()).expect("second");
        assert!(hub.connect("a".into()).is_none(), "third over the cap");
        let _b = hub
            .connect("b".into())
            .expect("another key is not affected");
        drop(a1);
        assert!(hub.connect("a".into()).is_some(), "a slot came back");
        assert_eq!(hub.stats.refused_connections.load(Ordering::Relaxed), 1);
        let mut text = String::new();
        hub.render(&mut text);
        assert!(text.contains("gdlens_live_refused_total{what=\"connection\"} 1"));
    }

    #[test]
    fn nothing_is_recorded_without_subscribers_and_a_lagging_one_is_told() {
        let hub = Hub::new(&LiveConfig {
            event_buffer: 2,
            ..LiveConfig::default()
        });
        assert!(!hub.wants_events());
        let mut rx = hub.subscribe();
        assert!(hub.wants_events());
        let empty = Snapshot::empty(Default::default(), Default::default());
        for _ in 0..3 {
            hub.publish(&empty, &empty, Touched::of(&Change::Other));
        }
        assert!(matches!(
            rx.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(1))
        ));
    }

    #[test]
    fn a_slow_mark_wakes_the_connection_once() {
        let conn = LiveConnection::default();
        assert!(!conn.is_slow());
        conn.mark_slow();
        conn.mark_slow();
        assert!(conn.is_slow());
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(conn.slowed());
    }
}
