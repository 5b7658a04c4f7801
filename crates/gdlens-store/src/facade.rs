//! [`Store`]: one interface over the two backends, embedded SQLite (default) and PostgreSQL.
//!
//! An enum facade rather than a trait object: the callers (API adapter, CLI, AWS sync, tests)
//! keep calling one concrete `Store` with the same methods, generic ones included
//! (`scan_latest(impl FnMut)`), and a method one backend does not have (dictionary training,
//! the change feed) is a plain, visible `match` arm here instead of a default trait method.

use std::path::Path;

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{Finding, TriageStatus};

use crate::codec::{EncodedFinding, Encoder};
use crate::error::StoreError;
use crate::model::{
    AuditEntry, FindingVersion, Investigation, NewFinding, StoredFinding, SyncStatus, TicketLink,
    Triage, TriageChange, UpsertReport, Watermark,
};
use crate::outbox::{
    AttemptResult, Delivery, DeliveryCounts, DeliveryQuery, GroupState, NewDelivery, OutboxEvent,
    TicketRequest,
};
use crate::pg::{is_postgres_url, redact_url, ChangeEntry, ChangeListener, Lease, PgStore};
use crate::store::SqliteStore;
use crate::suppression::{NewSuppressionRule, SuppressionRuleRow};

/// The store. `Send + Sync`: share it as `Arc<Store>`.
#[derive(Debug)]
pub struct Store {
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// Calls the same method on whichever backend this is.
macro_rules! both {
    ($self:ident . $method:ident ( $($arg:expr),* )) => {
        match &$self.backend {
            Backend::Sqlite(s) => s.$method($($arg),*),
            Backend::Postgres(p) => p.$method($($arg),*),
        }
    };
}

impl Store {
    /// Opens (creating if needed) the embedded store `gdlens.db` under `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open(data_dir)?),
        })
    }

    /// An in-memory SQLite store (tests, throwaway demos).
    pub fn open_in_memory() -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Sqlite(SqliteStore::open_in_memory()?),
        })
    }

    /// Opens the PostgreSQL database at `url` (`postgres://…`), applying pending schema steps.
    pub fn open_postgres(url: &str) -> Result<Store, StoreError> {
        Ok(Store {
            backend: Backend::Postgres(PgStore::open(url)?),
        })
    }

    /// The store a command asked for: PostgreSQL when `url` is given (`[store] url`,
    /// `--store-url`, `GDLENS_STORE_URL`), else the embedded store under `data_dir`.
    pub fn open_configured(url: Option<&str>, data_dir: &Path) -> Result<Store, StoreError> {
        match url.map(str::trim).filter(|u| !u.is_empty()) {
            None => Store::open(data_dir),
            Some(u) if is_postgres_url(u) => Store::open_postgres(u),
            Some(u) => Err(StoreError::Url(format!(
                "{}: only postgres:// and postgresql:// URLs are supported (leave it unset for the embedded store)",
                redact_url(u)
            ))),
        }
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match &self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// Where the data lives, for logs: the database file, or the URL with its password redacted.
    pub fn location(&self) -> String {
        match &self.backend {
            Backend::Sqlite(s) => s
                .path()
                .map_or_else(|| ":memory:".to_string(), |p| p.display().to_string()),
            Backend::Postgres(p) => p.redacted_url().to_string(),
        }
    }

    /// The database file of the embedded store (`None` in memory or on PostgreSQL).
    pub fn path(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Sqlite(s) => s.path(),
            Backend::Postgres(_) => None,
        }
    }

    /// Size of the data in bytes (files on disk, or `pg_database_size`).
    pub fn size_bytes(&self) -> Option<u64> {
        both!(self.size_bytes())
    }

    /// SQLite: rollback journal for a bulk load when nobody else has the file open (see
    /// [`SqliteStore::begin_bulk_load`]). PostgreSQL: nothing to switch, `false`.
    pub fn begin_bulk_load(&self) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.begin_bulk_load(),
            Backend::Postgres(_) => Ok(false),
        }
    }

    /// Ends [`Store::begin_bulk_load`].
    pub fn end_bulk_load(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.end_bulk_load(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// An encoder for [`Store::upsert_encoded_batch`] (one per encoding thread).
    pub fn encoder(&self) -> Encoder {
        both!(self.encoder())
    }

    /// Whether the store has compression dictionaries (PostgreSQL: never).
    pub fn has_dictionaries(&self) -> bool {
        match &self.backend {
            Backend::Sqlite(s) => s.has_dictionaries(),
            Backend::Postgres(_) => false,
        }
    }

    /// Trains compression dictionaries (SQLite; PostgreSQL trains none and returns `false`).
    pub fn train_dictionaries(&self, samples: &[(&Finding, &str)]) -> Result<bool, StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.train_dictionaries(samples),
            Backend::Postgres(_) => Ok(false),
        }
    }

    /// Upserts a batch in one transaction (see [`Store::upsert_batch_with_watermark`]).
    pub fn upsert_batch(&self, batch: &[NewFinding]) -> Result<UpsertReport, StoreError> {
        self.upsert_batch_with_watermark(batch, None)
    }

    /// Upserts a batch and (optionally) advances a sync watermark in the same transaction.
    ///
    /// Per record: an unknown id is inserted; a newer `updatedAt` replaces the latest version
    /// (every version stays in `finding_versions`); the same `updatedAt` changes nothing; an older
    /// one never replaces the latest but is kept as a historical version if it was unknown.
    /// Duplicate ids inside the batch are applied in order. The watermark only moves forward.
    pub fn upsert_batch_with_watermark(
        &self,
        batch: &[NewFinding],
        watermark: Option<&Watermark>,
    ) -> Result<UpsertReport, StoreError> {
        both!(self.upsert_batch_with_watermark(batch, watermark))
    }

    /// Upserts findings encoded beforehand (bulk imports): same rules, [`UpsertReport::changed`]
    /// left empty.
    pub fn upsert_encoded_batch(
        &self,
        batch: &[EncodedFinding],
    ) -> Result<UpsertReport, StoreError> {
        both!(self.upsert_encoded_batch(batch))
    }

    /// Bumps on every committed change of findings, triage, tickets or archive state.
    pub fn generation(&self) -> Result<u64, StoreError> {
        both!(self.generation())
    }

    /// Number of findings (latest versions).
    pub fn count(&self) -> Result<u64, StoreError> {
        both!(self.count())
    }

    /// Number of stored versions over all findings.
    pub fn version_count(&self) -> Result<u64, StoreError> {
        both!(self.version_count())
    }

    /// Calls `f` with the latest version of every finding (local archived state applied), in
    /// insertion order.
    pub fn scan_latest(&self, f: impl FnMut(Finding)) -> Result<(), StoreError> {
        both!(self.scan_latest(f))
    }

    /// Every latest finding as a vector (convenience over [`Store::scan_latest`]).
    pub fn latest_findings(&self) -> Result<Vec<Finding>, StoreError> {
        let mut out = Vec::new();
        self.scan_latest(|f| out.push(f))?;
        Ok(out)
    }

    /// Latest normalized version of each known id, in the order asked; unknown ids are skipped.
    pub fn latest_by_id(&self, ids: &[String]) -> Result<Vec<Finding>, StoreError> {
        both!(self.latest_by_id(ids))
    }

    /// The raw JSON of the latest version of each known id, in the order asked.
    pub fn latest_raw(&self, ids: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        both!(self.latest_raw(ids))
    }

    /// Latest version with raw JSON of each known id, in the order asked.
    pub fn get_findings(&self, ids: &[String]) -> Result<Vec<StoredFinding>, StoreError> {
        both!(self.get_findings(ids))
    }

    /// Every stored version of a finding, oldest `updatedAt` first (empty if unknown).
    pub fn versions(&self, id: &str) -> Result<Vec<FindingVersion>, StoreError> {
        both!(self.versions(id))
    }

    /// Sets the local archived state, with an audit entry per finding whose state changed.
    /// Unknown ids reject the whole call.
    pub fn set_archived(
        &self,
        ids: &[String],
        archived: bool,
        actor: &str,
    ) -> Result<u64, StoreError> {
        both!(self.set_archived(ids, archived, actor))
    }

    /// Applies one triage change to every id atomically, with an audit entry each (see
    /// [`SqliteStore::set_triage`] for the `expected_version` rule).
    pub fn set_triage(
        &self,
        ids: &[String],
        change: &TriageChange,
        expected_version: Option<i64>,
        actor: &str,
    ) -> Result<Vec<Triage>, StoreError> {
        both!(self.set_triage(ids, change, expected_version, actor))
    }

    /// Triage state of the ids that were ever triaged, in the order asked.
    pub fn triage(&self, ids: &[String]) -> Result<Vec<Triage>, StoreError> {
        both!(self.triage(ids))
    }

    /// Status of every triaged finding (for the in-memory index).
    pub fn all_triage(&self) -> Result<Vec<(String, TriageStatus)>, StoreError> {
        both!(self.all_triage())
    }

    /// Links a ticket to each finding (idempotent), audit entries for new links or changed URLs.
    pub fn link_ticket(
        &self,
        ids: &[String],
        system: &str,
        key: &str,
        url: Option<&str>,
        actor: &str,
    ) -> Result<Vec<TicketLink>, StoreError> {
        both!(self.link_ticket(ids, system, key, url, actor))
    }

    /// Ticket links of the ids, grouped by finding in the order asked.
    pub fn ticket_links(&self, ids: &[String]) -> Result<Vec<TicketLink>, StoreError> {
        both!(self.ticket_links(ids))
    }

    /// Appends an audit entry per finding for a caller-defined action (e.g. `feedback`).
    pub fn append_audit(
        &self,
        ids: &[String],
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        both!(self.append_audit(ids, actor, action, detail))
    }

    /// The audit trail of a finding, oldest first.
    pub fn audit(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        both!(self.audit(id))
    }

    /// The watermark of a region/detector (newest `updatedAt` fully stored), if any.
    pub fn watermark(
        &self,
        region: &str,
        detector_id: &str,
    ) -> Result<Option<EpochMillis>, StoreError> {
        both!(self.watermark(region, detector_id))
    }

    /// Records the sync status of a region/detector (replaces the previous one).
    pub fn set_sync_status(&self, status: &SyncStatus) -> Result<(), StoreError> {
        both!(self.set_sync_status(status))
    }

    /// Sync status of every region/detector, by region.
    pub fn sync_statuses(&self) -> Result<Vec<SyncStatus>, StoreError> {
        both!(self.sync_statuses())
    }

    /// Replaces every stored Detective investigation with `list`, atomically.
    pub fn replace_investigations(&self, list: &[Investigation]) -> Result<(), StoreError> {
        both!(self.replace_investigations(list))
    }

    /// Every stored Detective investigation, newest first.
    pub fn investigations(&self) -> Result<Vec<Investigation>, StoreError> {
        both!(self.investigations())
    }

    /// Replaces the coverage of one region (its header and every account row) atomically.
    pub fn replace_coverage(
        &self,
        coverage: &gdlens_domain::coverage::RegionCoverage,
    ) -> Result<(), StoreError> {
        both!(self.replace_coverage(coverage))
    }

    /// The coverage of every region checked, by region.
    pub fn coverage(&self) -> Result<Vec<gdlens_domain::coverage::RegionCoverage>, StoreError> {
        both!(self.coverage())
    }

    /// Stores a JSON value under `key` (replacing any previous one).
    pub fn put_state(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        both!(self.put_state(key, value))
    }

    /// The JSON value stored under `key`.
    pub fn get_state(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        both!(self.get_state(key))
    }

    /// Consistency problems found (empty = consistent).
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        both!(self.integrity_check())
    }

    /// Calls `f(finding, raw JSON)` with the latest version of every finding, in insertion order,
    /// in one streaming scan; `f` returns `false` to stop (an NDJSON export).
    pub fn scan_latest_with_raw(
        &self,
        f: impl FnMut(Finding, &str) -> bool,
    ) -> Result<(), StoreError> {
        both!(self.scan_latest_with_raw(f))
    }

    /// Calls `f(id, raw JSON)` with the latest version of every finding, in insertion order,
    /// streaming; `f` returns `false` to stop (a suppression dry run over the whole history).
    pub fn scan_latest_raw(&self, f: impl FnMut(&str, &str) -> bool) -> Result<(), StoreError> {
        both!(self.scan_latest_raw(f))
    }

    /// Creates a suppression rule, or replaces the one with the same origin, region and name.
    pub fn put_suppression_rule(
        &self,
        rule: &NewSuppressionRule,
        actor: &str,
        at: EpochMillis,
    ) -> Result<SuppressionRuleRow, StoreError> {
        both!(self.put_suppression_rule(rule, actor, at))
    }

    /// Every suppression rule, gdlens's first, then by region, rank and name.
    pub fn suppression_rules(&self) -> Result<Vec<SuppressionRuleRow>, StoreError> {
        both!(self.suppression_rules())
    }

    /// Deletes a suppression rule by id; whether it existed.
    pub fn delete_suppression_rule(&self, id: i64) -> Result<bool, StoreError> {
        both!(self.delete_suppression_rule(id))
    }

    /// Replaces every rule synced from one region's detector, in one transaction.
    pub fn replace_synced_rules(
        &self,
        region: &str,
        rules: &[NewSuppressionRule],
        at: EpochMillis,
    ) -> Result<(), StoreError> {
        both!(self.replace_synced_rules(region, rules, at))
    }

    /// Whether other processes may write to this store (PostgreSQL): replicas then follow the
    /// change feed and take leases before syncing.
    pub fn is_shared(&self) -> bool {
        matches!(self.backend, Backend::Postgres(_))
    }

    /// Changes committed after generation `after`, oldest first; `None` on the embedded store
    /// (one process writes it: nothing to follow).
    pub fn changes_since(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Option<Vec<ChangeEntry>>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(None),
            Backend::Postgres(p) => p.changes_since(after, limit).map(Some),
        }
    }

    /// A listener of change announcements; `None` on the embedded store.
    pub fn listen(&self) -> Result<Option<ChangeListener>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(None),
            Backend::Postgres(p) => p.listen().map(Some),
        }
    }

    /// Tries to take the lease `name`: `Ok(None)` when another process holds it. On the embedded
    /// store there is only this process: always granted (a lease that holds nothing).
    pub fn try_lease(&self, name: &str) -> Result<Option<Option<Lease>>, StoreError> {
        match &self.backend {
            Backend::Sqlite(_) => Ok(Some(None)),
            Backend::Postgres(p) => Ok(p.try_lease(name)?.map(Some)),
        }
    }
}

/// The webhook outbox (see `outbox.rs` for the data flow and what is guaranteed).
impl Store {
    /// Turns the outbox on or off for every writer of this store (persisted): while on, finding
    /// upserts and triage changes write their events in their own transaction.
    pub fn set_outbox_enabled(&self, enabled: bool) -> Result<(), StoreError> {
        both!(self.set_outbox_enabled(enabled))
    }

    /// Compares each group with the severity last recorded for it: unknown → `group.created`,
    /// higher → `group.escalated`, recorded and (with `announce`, while the outbox is enabled)
    /// written to the outbox in one transaction. `announce = false` records silently (the first
    /// start with webhooks). Returns the events written.
    pub fn record_groups(
        &self,
        groups: &[GroupState],
        announce: bool,
    ) -> Result<usize, StoreError> {
        both!(self.record_groups(groups, announce))
    }

    /// Records ticket-rule matches: a (rule, subject) seen for the first time writes a
    /// `ticket.requested` event (with `announce`), in one transaction; one seen before writes
    /// nothing, so a rule opens at most one ticket per group or finding. Returns the events.
    pub fn request_tickets(
        &self,
        requests: &[TicketRequest],
        announce: bool,
    ) -> Result<usize, StoreError> {
        both!(self.request_tickets(requests, announce))
    }

    /// One outbox event by id.
    pub fn outbox_event(&self, id: i64) -> Result<Option<OutboxEvent>, StoreError> {
        both!(self.outbox_event(id))
    }

    /// How many groups have a recorded severity (0: never seeded).
    pub fn groups_recorded(&self) -> Result<u64, StoreError> {
        both!(self.groups_recorded())
    }

    /// Events not yet fanned out, oldest first.
    pub fn pending_events(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        both!(self.pending_events(limit))
    }

    /// Fans events out in one transaction: inserts the deliveries (a `message_id` already
    /// stored is skipped) and marks the events dispatched. Returns the deliveries inserted.
    pub fn dispatch_events(
        &self,
        event_ids: &[i64],
        deliveries: &[NewDelivery],
    ) -> Result<usize, StoreError> {
        both!(self.dispatch_events(event_ids, deliveries))
    }

    /// Claims up to `limit` due deliveries for `claim_ms` (no other worker takes them meanwhile;
    /// PostgreSQL: `FOR UPDATE SKIP LOCKED`), oldest due first.
    pub fn claim_deliveries(
        &self,
        now: EpochMillis,
        claim_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        both!(self.claim_deliveries(now, claim_ms, limit))
    }

    /// Drops every claim (the embedded store at start: the process that held them is gone).
    /// PostgreSQL: nothing (other replicas' claims expire on their own).
    pub fn release_claims(&self) -> Result<(), StoreError> {
        match &self.backend {
            Backend::Sqlite(s) => s.release_claims(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Records how an attempt ended (and releases the claim).
    pub fn finish_delivery(
        &self,
        id: i64,
        at: EpochMillis,
        result: &AttemptResult,
    ) -> Result<(), StoreError> {
        both!(self.finish_delivery(id, at, result))
    }

    /// Sends deliveries fanned out at or after `since` again (same webhook id), optionally one
    /// webhook's and only dead-lettered ones. Returns how many.
    pub fn replay_deliveries(
        &self,
        since: EpochMillis,
        webhook: Option<&str>,
        only_dead: bool,
    ) -> Result<usize, StoreError> {
        both!(self.replay_deliveries(since, webhook, only_dead))
    }

    /// Deliveries, newest first.
    pub fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<Delivery>, StoreError> {
        both!(self.deliveries(query))
    }

    /// Deliveries by webhook and status.
    pub fn delivery_counts(&self) -> Result<Vec<DeliveryCounts>, StoreError> {
        both!(self.delivery_counts())
    }

    /// Events not yet fanned out.
    pub fn outbox_backlog(&self) -> Result<u64, StoreError> {
        both!(self.outbox_backlog())
    }
}

/// Compile-time guarantee the store can be shared across threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Store>();
};
