//! Following the shared store: a replica on PostgreSQL keeps its index, groups and caches current
//! with what other replicas commit, and notices when the database goes away.
//!
//! One thread per process reads the change feed ([`ChangeFeed`]) from the last generation it
//! applied, re-reads the current rows of the findings each entry names and applies them through
//! the one write path ([`AppState::write`]), so every cache key moves on as for a local change.
//! It wakes on `NOTIFY` (a change reaches other replicas in milliseconds) and at least every
//! second. A lost connection marks the server degraded (reads from memory, writes refused, see
//! [`AppState::set_degraded`]); the next successful catch-up clears it, and the catch-up from the
//! last applied generation means nothing committed meanwhile is missed.

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::ports::{ChangeFeed, ChangeKind, ChangeRecord, PortError};
use crate::state::{AppState, Change};

/// Longest wait between two catch-ups (a missed notification costs at most this).
const POLL: Duration = Duration::from_secs(1);
/// Pause after a failure before trying again.
const RETRY: Duration = Duration::from_millis(500);
/// Change-log rows read per query.
const PAGE: usize = 500;

/// Starts following `feed` after generation `from` (read before the initial build, so nothing
/// committed during the build is missed; re-applying a change is harmless). The thread ends when
/// the state is dropped.
pub fn spawn_follower(
    state: &Arc<AppState>,
    feed: Arc<dyn ChangeFeed>,
    from: u64,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let weak = Arc::downgrade(state);
    std::thread::Builder::new()
        .name("gdlens-replica".into())
        .spawn(move || follow(weak, feed, from))
}

fn follow(state: Weak<AppState>, feed: Arc<dyn ChangeFeed>, mut last: u64) {
    tracing::info!(from = last, "following the shared store's change feed");
    loop {
        let Some(st) = state.upgrade() else { return };
        match catch_up(&st, feed.as_ref(), &mut last) {
            Ok(()) => st.set_degraded(None),
            Err(e) => {
                st.set_degraded(Some(e.to_string()));
                drop(st);
                std::thread::sleep(RETRY);
                continue;
            }
        }
        drop(st);
        if let Err(e) = feed.wait(POLL) {
            if let Some(st) = state.upgrade() {
                st.set_degraded(Some(e.to_string()));
            }
            std::thread::sleep(RETRY);
        }
    }
}

/// Applies every change after `last`, advancing it.
pub(crate) fn catch_up(
    state: &AppState,
    feed: &dyn ChangeFeed,
    last: &mut u64,
) -> Result<(), PortError> {
    loop {
        let page = feed.changes_since(*last, PAGE)?;
        let Some(end) = page.last().map(|c| c.generation) else {
            return Ok(());
        };
        for change in page.iter().filter(|c| !c.own) {
            apply(state, change)?;
        }
        *last = end;
    }
}

fn apply(state: &AppState, change: &ChangeRecord) -> Result<(), PortError> {
    match change.kind {
        ChangeKind::Findings => {
            let current = state.store.findings(&change.ids)?;
            let findings: Vec<_> = change
                .ids
                .iter()
                .filter_map(|id| current.get(id).cloned())
                .collect();
            state.write(Change::Findings(&findings));
        }
        ChangeKind::Triage => {
            let current = state.store.triage(&change.ids)?;
            let statuses: Vec<_> = change
                .ids
                .iter()
                .filter_map(|id| current.get(id).map(|t| (id.clone(), t.status)))
                .collect();
            state.write(Change::Triage(&statuses));
        }
        ChangeKind::Other => {
            state.write(Change::Other);
        }
    }
    tracing::debug!(generation = change.generation, kind = ?change.kind, ids = change.ids.len(), "applied a change from another replica");
    Ok(())
}
