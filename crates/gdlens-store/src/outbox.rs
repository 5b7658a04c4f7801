//! The webhook outbox: events written in the transaction of the change that causes them, then
//! fanned out into one delivery per matching webhook and delivered at least once.
//!
//! ```text
//! upsert / set_triage ──(same transaction)──► outbox_events (dispatched_at NULL)
//! write path (groups) ──(own transaction)───► outbox_events + webhook_groups
//!        dispatcher: dispatch_outbox (one transaction) ──► webhook_deliveries (pending)
//!        worker: claim_deliveries ─► POST ─► finish_delivery (delivered | retry | dead)
//! ```
//!
//! Events are written only while the outbox is enabled (`meta.outbox_enabled`, set by a server
//! with webhooks): a store without webhooks pays nothing. A delivery's `message_id` is derived
//! from its event and webhook, so a fan-out repeated after a crash inserts nothing new and a
//! delivery repeated after a crash carries the same id (the receiver's idempotency key).
//! Each backend's SQL sits here side by side; [`crate::Store`] forwards.

use gdlens_domain::time::EpochMillis;
use rusqlite::{params, OptionalExtension, Row};

use crate::error::StoreError;
use crate::pg::PgStore;
use crate::store::SqliteStore;

/// `finding.created`: a finding id first stored.
pub const EVENT_FINDING_CREATED: &str = "finding.created";
/// `finding.updated`: a newer version of a stored finding.
pub const EVENT_FINDING_UPDATED: &str = "finding.updated";
/// `triage.changed`: a finding's triage was set.
pub const EVENT_TRIAGE_CHANGED: &str = "triage.changed";
/// `group.created`: a finding group first seen by the write path.
pub const EVENT_GROUP_CREATED: &str = "group.created";
/// `group.escalated`: a finding group's severity rose above what was last announced.
pub const EVENT_GROUP_ESCALATED: &str = "group.escalated";

/// `ticket.requested`: a ticket rule matched a group or finding (delivered to the rule's webhook).
pub const EVENT_TICKET_REQUESTED: &str = "ticket.requested";

/// A delivery waiting for its (next) attempt.
pub const STATUS_PENDING: &str = "pending";
/// A delivery the receiver accepted (2xx).
pub const STATUS_DELIVERED: &str = "delivered";
/// A delivery that used up its attempts (dead letter).
pub const STATUS_DEAD: &str = "dead";

/// One stored outbox event.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEvent {
    /// Sequence number (increasing in commit order on both backends: writers are serialized).
    pub id: i64,
    /// `finding.created`, `finding.updated`, `triage.changed`, `group.created`, `group.escalated`.
    pub kind: String,
    /// The finding id, or the group id.
    pub subject: String,
    /// When the change committed (epoch ms).
    pub at: EpochMillis,
    /// What else the event says (JSON): triage from/to, the group as announced.
    pub detail: serde_json::Value,
}

/// A group as the write path sees it now, for [`crate::Store::record_groups`].
#[derive(Debug, Clone, PartialEq)]
pub struct GroupState {
    /// Group id.
    pub id: String,
    /// Its severity now.
    pub severity: f64,
    /// What its event says (JSON).
    pub detail: serde_json::Value,
}

/// A ticket rule that matched, for [`crate::Store::request_tickets`].
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRequest {
    /// Rule name.
    pub rule: String,
    /// The group or finding id.
    pub subject: String,
    /// The event's detail (JSON): rule, webhook, system, finding ids, the group or finding.
    pub detail: serde_json::Value,
}

/// One delivery to insert at fan-out.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// The event it delivers.
    pub event_id: i64,
    /// Webhook name.
    pub webhook: String,
    /// Event kind.
    pub kind: String,
    /// Event subject.
    pub subject: String,
    /// The exact body sent on every attempt.
    pub body: String,
}

/// One stored delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// The webhook id (`webhook-id` header, CloudEvents `id`): `msg_<event>_<webhook>`.
    pub message_id: String,
    /// Webhook name.
    pub webhook: String,
    /// Event id.
    pub event_id: i64,
    /// Event kind.
    pub kind: String,
    /// Event subject.
    pub subject: String,
    /// Body.
    pub body: String,
    /// `pending`, `delivered` or `dead`.
    pub status: String,
    /// Attempts made.
    pub attempts: u32,
    /// When fanned out.
    pub created_at: EpochMillis,
    /// When the next attempt is due (pending).
    pub next_attempt_at: EpochMillis,
    /// When last tried.
    pub last_attempt_at: Option<EpochMillis>,
    /// Why the last attempt failed (status code or transport error; never a secret).
    pub last_error: Option<String>,
    /// When delivered.
    pub delivered_at: Option<EpochMillis>,
    /// The receiver's reply body when delivered (capped), e.g. a ticket key.
    pub response: Option<String>,
}

/// How an attempt ended, for [`crate::Store::finish_delivery`].
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptResult {
    /// Accepted (2xx), with the reply body.
    Delivered {
        /// Reply body (capped by the caller).
        response: Option<String>,
    },
    /// Failed; retried at `next_attempt_at`, or dead-lettered when `None`.
    Failed {
        /// Status code or transport error.
        error: String,
        /// The next attempt (None: no attempts left).
        next_attempt_at: Option<EpochMillis>,
    },
}

/// Deliveries by status, for `/metrics` and `gdlens webhooks list`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    /// Webhook name.
    pub webhook: String,
    /// Waiting (queue depth).
    pub pending: u64,
    /// Delivered.
    pub delivered: u64,
    /// Dead-lettered.
    pub dead: u64,
}

/// Which deliveries [`crate::Store::deliveries`] lists.
#[derive(Debug, Clone, Default)]
pub struct DeliveryQuery {
    /// Only this status.
    pub status: Option<String>,
    /// Only this webhook.
    pub webhook: Option<String>,
    /// Only those fanned out at or after (epoch ms).
    pub since: Option<EpochMillis>,
    /// At most this many, newest first (0 = 100).
    pub limit: usize,
}

/// The webhook id of an event's delivery to a webhook: stable across fan-outs and restarts.
pub fn message_id(event_id: i64, webhook: &str) -> String {
    format!("msg_{event_id}_{webhook}")
}

fn now_ms() -> EpochMillis {
    chrono::Utc::now().timestamp_millis()
}

/// The event a group deserves, given the severity last announced for it (`None`: never
/// announced): created, escalated when its severity rose, else nothing.
fn group_event(announced: Option<f64>, severity: f64) -> Option<&'static str> {
    match announced {
        None => Some(EVENT_GROUP_CREATED),
        Some(s) if severity > s => Some(EVENT_GROUP_ESCALATED),
        Some(_) => None,
    }
}

fn parse_detail(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or(serde_json::Value::Null)
}

const DELIVERY_COLUMNS: &str =
    "id, message_id, webhook, event_id, kind, subject, body, status, attempts, created_at,
     next_attempt_at, last_attempt_at, last_error, delivered_at, response";

fn sqlite_delivery(r: &Row<'_>) -> rusqlite::Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        message_id: r.get(1)?,
        webhook: r.get(2)?,
        event_id: r.get(3)?,
        kind: r.get(4)?,
        subject: r.get(5)?,
        body: r.get(6)?,
        status: r.get(7)?,
        attempts: r.get::<_, i64>(8)? as u32,
        created_at: r.get(9)?,
        next_attempt_at: r.get(10)?,
        last_attempt_at: r.get(11)?,
        last_error: r.get(12)?,
        delivered_at: r.get(13)?,
        response: r.get(14)?,
    })
}

fn pg_delivery(r: &postgres::Row) -> Delivery {
    Delivery {
        id: r.get(0),
        message_id: r.get(1),
        webhook: r.get(2),
        event_id: r.get(3),
        kind: r.get(4),
        subject: r.get(5),
        body: r.get(6),
        status: r.get(7),
        attempts: r.get::<_, i64>(8) as u32,
        created_at: r.get(9),
        next_attempt_at: r.get(10),
        last_attempt_at: r.get(11),
        last_error: r.get(12),
        delivered_at: r.get(13),
        response: r.get(14),
    }
}

/// Whether the outbox is enabled, read inside a writing transaction (SQLite).
pub(crate) fn sqlite_enabled(tx: &rusqlite::Transaction<'_>) -> Result<bool, StoreError> {
    let v: Option<i64> = tx
        .prepare_cached("SELECT value FROM meta WHERE key = 'outbox_enabled'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    Ok(v.unwrap_or(0) != 0)
}

/// Appends events inside a writing transaction (SQLite).
pub(crate) fn sqlite_append(
    tx: &rusqlite::Transaction<'_>,
    events: &[(&str, &str, serde_json::Value)],
    at: EpochMillis,
) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO outbox_events (kind, subject, at, detail) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (kind, subject, detail) in events {
        stmt.execute(params![kind, subject, at, detail.to_string()])?;
    }
    Ok(())
}

/// Whether the outbox is enabled, read inside a writing transaction (PostgreSQL).
pub(crate) fn pg_enabled(tx: &mut postgres::Transaction<'_>) -> Result<bool, StoreError> {
    let row = tx.query_opt("SELECT value FROM meta WHERE key = 'outbox_enabled'", &[])?;
    Ok(row.is_some_and(|r| r.get::<_, i64>(0) != 0))
}

/// Appends events inside a writing transaction (PostgreSQL), in order, in one statement.
pub(crate) fn pg_append(
    tx: &mut postgres::Transaction<'_>,
    events: &[(&str, &str, serde_json::Value)],
    at: EpochMillis,
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let kinds: Vec<&str> = events.iter().map(|e| e.0).collect();
    let subjects: Vec<&str> = events.iter().map(|e| e.1).collect();
    let details: Vec<String> = events.iter().map(|e| e.2.to_string()).collect();
    tx.execute(
        "INSERT INTO outbox_events (kind, subject, at, detail)
         SELECT k, s, $4, d FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS t(k, s, d, n)
         ORDER BY n",
        &[&kinds, &subjects, &details, &at],
    )?;
    Ok(())
}

impl SqliteStore {
    /// See [`crate::Store::set_outbox_enabled`].
    pub fn set_outbox_enabled(&self, enabled: bool) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('outbox_enabled', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [i64::from(enabled)],
            )?;
            Ok(())
        })
    }

    /// See [`crate::Store::record_groups`].
    pub fn record_groups(
        &self,
        groups: &[GroupState],
        announce: bool,
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        self.write(|tx| {
            let mut events = Vec::new();
            {
                let mut get = tx.prepare_cached("SELECT severity FROM webhook_groups WHERE group_id = ?1")?;
                let mut put = tx.prepare_cached(
                    "INSERT INTO webhook_groups (group_id, severity, at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (group_id) DO UPDATE SET severity = excluded.severity, at = excluded.at",
                )?;
                for g in groups {
                    let known: Option<f64> = get.query_row([&g.id], |r| r.get(0)).optional()?;
                    let Some(kind) = group_event(known, g.severity) else {
                        continue;
                    };
                    put.execute(params![g.id, g.severity, now])?;
                    if announce {
                        events.push((kind, g.id.as_str(), g.detail.clone()));
                    }
                }
            }
            if announce && sqlite_enabled(tx)? {
                sqlite_append(tx, &events, now)?;
                Ok(events.len())
            } else {
                Ok(0)
            }
        })
    }

    /// See [`crate::Store::request_tickets`].
    pub fn request_tickets(
        &self,
        requests: &[TicketRequest],
        announce: bool,
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        self.write(|tx| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO ticket_requests (rule, subject, at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?;
            let mut events = Vec::new();
            for r in requests {
                if insert.execute(params![r.rule, r.subject, now])? == 1 && announce {
                    events.push((EVENT_TICKET_REQUESTED, r.subject.as_str(), r.detail.clone()));
                }
            }
            sqlite_append(tx, &events, now)?;
            Ok(events.len())
        })
    }

    /// See [`crate::Store::outbox_event`].
    pub fn outbox_event(&self, id: i64) -> Result<Option<OutboxEvent>, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT id, kind, subject, at, detail FROM outbox_events WHERE id = ?1",
                [id],
                |r| {
                    Ok(OutboxEvent {
                        id: r.get(0)?,
                        kind: r.get(1)?,
                        subject: r.get(2)?,
                        at: r.get(3)?,
                        detail: parse_detail(&r.get::<_, String>(4)?),
                    })
                },
            )
            .optional()?)
        })
    }

    /// See [`crate::Store::groups_recorded`].
    pub fn groups_recorded(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM webhook_groups", [], |r| {
                r.get::<_, i64>(0)
            })? as u64)
        })
    }

    /// See [`crate::Store::pending_events`].
    pub fn pending_events(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, kind, subject, at, detail FROM outbox_events WHERE dispatched_at IS NULL ORDER BY id LIMIT ?1",
            )?;
            let rows = stmt.query_map([limit as i64], |r| {
                Ok(OutboxEvent {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    subject: r.get(2)?,
                    at: r.get(3)?,
                    detail: parse_detail(&r.get::<_, String>(4)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// See [`crate::Store::dispatch_events`].
    pub fn dispatch_events(
        &self,
        event_ids: &[i64],
        deliveries: &[NewDelivery],
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        self.write(|tx| {
            let mut insert = tx.prepare_cached(
                "INSERT INTO webhook_deliveries (message_id, webhook, event_id, kind, subject, body, status, attempts,
                                                 created_at, next_attempt_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', 0, ?7, ?7)
                 ON CONFLICT (message_id) DO NOTHING",
            )?;
            let mut inserted = 0;
            for d in deliveries {
                inserted += insert.execute(params![
                    message_id(d.event_id, &d.webhook),
                    d.webhook,
                    d.event_id,
                    d.kind,
                    d.subject,
                    d.body,
                    now
                ])?;
            }
            let mut mark = tx.prepare_cached("UPDATE outbox_events SET dispatched_at = ?2 WHERE id = ?1")?;
            for id in event_ids {
                mark.execute(params![id, now])?;
            }
            Ok(inserted)
        })
    }

    /// See [`crate::Store::claim_deliveries`].
    pub fn claim_deliveries(
        &self,
        now: EpochMillis,
        claim_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.write(|tx| {
            let mut stmt = tx.prepare_cached(&format!(
                "UPDATE webhook_deliveries SET claimed_until = ?1 + ?2
                 WHERE id IN (SELECT id FROM webhook_deliveries
                              WHERE status = 'pending' AND next_attempt_at <= ?1
                                AND (claimed_until IS NULL OR claimed_until <= ?1)
                              ORDER BY next_attempt_at, id LIMIT ?3)
                 RETURNING {DELIVERY_COLUMNS}"
            ))?;
            let rows = stmt.query_map(params![now, claim_ms, limit as i64], sqlite_delivery)?;
            let mut out = rows.collect::<Result<Vec<_>, _>>()?;
            out.sort_by_key(|d| (d.next_attempt_at, d.id));
            Ok(out)
        })
    }

    /// See [`crate::Store::release_claims`].
    pub fn release_claims(&self) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("UPDATE webhook_deliveries SET claimed_until = NULL WHERE claimed_until IS NOT NULL", [])?;
            Ok(())
        })
    }

    /// See [`crate::Store::finish_delivery`].
    pub fn finish_delivery(
        &self,
        id: i64,
        at: EpochMillis,
        result: &AttemptResult,
    ) -> Result<(), StoreError> {
        self.write(|tx| {
            match result {
                AttemptResult::Delivered { response } => tx.execute(
                    "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_attempt_at = ?2,
                            delivered_at = ?2, response = ?3, last_error = NULL, claimed_until = NULL
                     WHERE id = ?1",
                    params![id, at, response],
                )?,
                AttemptResult::Failed { error, next_attempt_at } => tx.execute(
                    "UPDATE webhook_deliveries SET status = ?4, attempts = attempts + 1, last_attempt_at = ?2,
                            last_error = ?3, next_attempt_at = coalesce(?5, next_attempt_at), claimed_until = NULL
                     WHERE id = ?1",
                    params![
                        id,
                        at,
                        error,
                        if next_attempt_at.is_some() { STATUS_PENDING } else { STATUS_DEAD },
                        next_attempt_at
                    ],
                )?,
            };
            Ok(())
        })
    }

    /// See [`crate::Store::replay_deliveries`].
    pub fn replay_deliveries(
        &self,
        since: EpochMillis,
        webhook: Option<&str>,
        only_dead: bool,
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        self.write(|tx| {
            Ok(tx.execute(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?1,
                        claimed_until = NULL
                 WHERE created_at >= ?2 AND (?3 IS NULL OR webhook = ?3) AND (?4 = 0 OR status = 'dead')",
                params![now, since, webhook, only_dead],
            )?)
        })
    }

    /// See [`crate::Store::deliveries`].
    pub fn deliveries(&self, q: &DeliveryQuery) -> Result<Vec<Delivery>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                 WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR webhook = ?2) AND created_at >= ?3
                 ORDER BY id DESC LIMIT ?4"
            ))?;
            let limit = if q.limit == 0 { 100 } else { q.limit } as i64;
            let rows = stmt.query_map(
                params![q.status, q.webhook, q.since.unwrap_or(i64::MIN), limit],
                sqlite_delivery,
            )?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// See [`crate::Store::delivery_counts`].
    pub fn delivery_counts(&self) -> Result<Vec<DeliveryCounts>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT webhook, status, count(*) FROM webhook_deliveries GROUP BY webhook, status ORDER BY webhook",
            )?;
            let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?)))?;
            let mut out: Vec<DeliveryCounts> = Vec::new();
            for row in rows {
                let (webhook, status, n) = row?;
                add_count(&mut out, webhook, &status, n as u64);
            }
            Ok(out)
        })
    }

    /// See [`crate::Store::outbox_backlog`].
    pub fn outbox_backlog(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM outbox_events WHERE dispatched_at IS NULL",
                [],
                |r| r.get::<_, i64>(0),
            )? as u64)
        })
    }
}

fn add_count(out: &mut Vec<DeliveryCounts>, webhook: String, status: &str, n: u64) {
    if out.last().is_none_or(|c| c.webhook != webhook) {
        out.push(DeliveryCounts {
            webhook,
            ..Default::default()
        });
    }
    let c = out.last_mut().expect("pushed above");
    match status {
        STATUS_PENDING => c.pending += n,
        STATUS_DELIVERED => c.delivered += n,
        _ => c.dead += n,
    }
}

impl PgStore {
    /// See [`crate::Store::set_outbox_enabled`].
    pub fn set_outbox_enabled(&self, enabled: bool) -> Result<(), StoreError> {
        self.read(|c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES ('outbox_enabled', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&i64::from(enabled)],
            )?;
            Ok(())
        })
    }

    /// See [`crate::Store::record_groups`]. Under the store's write lock, so two replicas never
    /// announce the same group twice.
    pub fn record_groups(
        &self,
        groups: &[GroupState],
        announce: bool,
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        self.write(|tx, _| {
            let mut events = Vec::new();
            for g in groups {
                let known: Option<f64> = tx
                    .query_opt("SELECT severity FROM webhook_groups WHERE group_id = $1", &[&g.id])?
                    .map(|r| r.get(0));
                let Some(kind) = group_event(known, g.severity) else {
                    continue;
                };
                tx.execute(
                    "INSERT INTO webhook_groups (group_id, severity, at) VALUES ($1, $2, $3)
                     ON CONFLICT (group_id) DO UPDATE SET severity = excluded.severity, at = excluded.at",
                    &[&g.id, &g.severity, &now],
                )?;
                if announce {
                    events.push((kind, g.id.as_str(), g.detail.clone()));
                }
            }
            if announce && pg_enabled(tx)? {
                pg_append(tx, &events, now)?;
                Ok(events.len())
            } else {
                Ok(0)
            }
        })
    }

    /// See [`crate::Store::request_tickets`]. Under the store's write lock: one ticket per rule
    /// and subject however many replicas see the match.
    pub fn request_tickets(
        &self,
        requests: &[TicketRequest],
        announce: bool,
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        self.write(|tx, _| {
            let mut events = Vec::new();
            for r in requests {
                let n = tx.execute(
                    "INSERT INTO ticket_requests (rule, subject, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                    &[&r.rule, &r.subject, &now],
                )?;
                if n == 1 && announce {
                    events.push((EVENT_TICKET_REQUESTED, r.subject.as_str(), r.detail.clone()));
                }
            }
            pg_append(tx, &events, now)?;
            Ok(events.len())
        })
    }

    /// See [`crate::Store::outbox_event`].
    pub fn outbox_event(&self, id: i64) -> Result<Option<OutboxEvent>, StoreError> {
        self.read(|c| {
            Ok(c.query_opt(
                "SELECT id, kind, subject, at, detail FROM outbox_events WHERE id = $1",
                &[&id],
            )?
            .map(|r| OutboxEvent {
                id: r.get(0),
                kind: r.get(1),
                subject: r.get(2),
                at: r.get(3),
                detail: parse_detail(r.get(4)),
            }))
        })
    }

    /// See [`crate::Store::groups_recorded`].
    pub fn groups_recorded(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            Ok(c.query_one("SELECT count(*) FROM webhook_groups", &[])?
                .get::<_, i64>(0) as u64)
        })
    }

    /// See [`crate::Store::pending_events`].
    pub fn pending_events(&self, limit: usize) -> Result<Vec<OutboxEvent>, StoreError> {
        self.read(|c| {
            let rows = c.query(
                "SELECT id, kind, subject, at, detail FROM outbox_events WHERE dispatched_at IS NULL ORDER BY id LIMIT $1",
                &[&(limit as i64)],
            )?;
            Ok(rows
                .iter()
                .map(|r| OutboxEvent {
                    id: r.get(0),
                    kind: r.get(1),
                    subject: r.get(2),
                    at: r.get(3),
                    detail: parse_detail(r.get(4)),
                })
                .collect())
        })
    }

    /// See [`crate::Store::dispatch_events`].
    pub fn dispatch_events(
        &self,
        event_ids: &[i64],
        deliveries: &[NewDelivery],
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        self.read(|c| {
            let mut tx = c.transaction()?;
            let mut inserted = 0;
            for d in deliveries {
                inserted += tx.execute(
                    "INSERT INTO webhook_deliveries (message_id, webhook, event_id, kind, subject, body, status, attempts,
                                                     created_at, next_attempt_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7)
                     ON CONFLICT (message_id) DO NOTHING",
                    &[&message_id(d.event_id, &d.webhook), &d.webhook, &d.event_id, &d.kind, &d.subject, &d.body, &now],
                )? as usize;
            }
            tx.execute(
                "UPDATE outbox_events SET dispatched_at = $2 WHERE id = ANY($1) AND dispatched_at IS NULL",
                &[&event_ids, &now],
            )?;
            tx.commit()?;
            Ok(inserted)
        })
    }

    /// See [`crate::Store::claim_deliveries`]: `FOR UPDATE SKIP LOCKED`, so replicas claiming at
    /// once take disjoint rows, and a claim stops others until it expires.
    pub fn claim_deliveries(
        &self,
        now: EpochMillis,
        claim_ms: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.read(|c| {
            let rows = c.query(
                &format!(
                    "UPDATE webhook_deliveries SET claimed_until = $1 + $2
                     WHERE id IN (SELECT id FROM webhook_deliveries
                                  WHERE status = 'pending' AND next_attempt_at <= $1
                                    AND (claimed_until IS NULL OR claimed_until <= $1)
                                  ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
                     RETURNING {DELIVERY_COLUMNS}"
                ),
                &[&now, &claim_ms, &(limit as i64)],
            )?;
            let mut out: Vec<Delivery> = rows.iter().map(pg_delivery).collect();
            out.sort_by_key(|d| (d.next_attempt_at, d.id));
            Ok(out)
        })
    }

    /// See [`crate::Store::finish_delivery`].
    pub fn finish_delivery(
        &self,
        id: i64,
        at: EpochMillis,
        result: &AttemptResult,
    ) -> Result<(), StoreError> {
        self.read(|c| {
            match result {
                AttemptResult::Delivered { response } => c.execute(
                    "UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, last_attempt_at = $2,
                            delivered_at = $2, response = $3, last_error = NULL, claimed_until = NULL
                     WHERE id = $1",
                    &[&id, &at, response],
                )?,
                AttemptResult::Failed { error, next_attempt_at } => {
                    let status = if next_attempt_at.is_some() { STATUS_PENDING } else { STATUS_DEAD };
                    c.execute(
                        "UPDATE webhook_deliveries SET status = $4, attempts = attempts + 1, last_attempt_at = $2,
                                last_error = $3, next_attempt_at = coalesce($5, next_attempt_at), claimed_until = NULL
                         WHERE id = $1",
                        &[&id, &at, error, &status, next_attempt_at],
                    )?
                }
            };
            Ok(())
        })
    }

    /// See [`crate::Store::replay_deliveries`].
    pub fn replay_deliveries(
        &self,
        since: EpochMillis,
        webhook: Option<&str>,
        only_dead: bool,
    ) -> Result<usize, StoreError> {
        let now = now_ms();
        self.read(|c| {
            Ok(c.execute(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1,
                        claimed_until = NULL
                 WHERE created_at >= $2 AND ($3::text IS NULL OR webhook = $3) AND (NOT $4 OR status = 'dead')",
                &[&now, &since, &webhook, &only_dead],
            )? as usize)
        })
    }

    /// See [`crate::Store::deliveries`].
    pub fn deliveries(&self, q: &DeliveryQuery) -> Result<Vec<Delivery>, StoreError> {
        let limit = if q.limit == 0 { 100 } else { q.limit } as i64;
        self.read(|c| {
            let rows = c.query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
                     WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR webhook = $2) AND created_at >= $3
                     ORDER BY id DESC LIMIT $4"
                ),
                &[&q.status, &q.webhook, &q.since.unwrap_or(i64::MIN), &limit],
            )?;
            Ok(rows.iter().map(pg_delivery).collect())
        })
    }

    /// See [`crate::Store::delivery_counts`].
    pub fn delivery_counts(&self) -> Result<Vec<DeliveryCounts>, StoreError> {
        self.read(|c| {
            let rows = c.query(
                "SELECT webhook, status, count(*) FROM webhook_deliveries GROUP BY webhook, status ORDER BY webhook",
                &[],
            )?;
            let mut out = Vec::new();
            for r in rows {
                add_count(&mut out, r.get(0), r.get::<_, &str>(1), r.get::<_, i64>(2) as u64);
            }
            Ok(out)
        })
    }

    /// See [`crate::Store::outbox_backlog`].
    pub fn outbox_backlog(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            Ok(c.query_one(
                "SELECT count(*) FROM outbox_events WHERE dispatched_at IS NULL",
                &[],
            )?
            .get::<_, i64>(0) as u64)
        })
    }
}
