//! [`PgStore`]: the PostgreSQL backend, for several `gdlens serve` replicas on one database.
//!
//! Same data and rules as the SQLite backend (`store.rs`). Differences that matter:
//! - every writing transaction first locks the `meta` generation row, so writers from all
//!   replicas are serialized (as SQLite's single writer is) and generations commit in order;
//! - each change that moves the generation writes a `change_log` row and `NOTIFY gdlens_changes`
//!   in its own transaction ([`PgStore::changes_since`], [`ChangeListener`]);
//! - upserts copy new findings and their versions straight in with binary `COPY`, and stage
//!   the rest (changes to stored findings) to merge them with set-based SQL;
//! - rows are LZ4 (raw JSON and postcard) without dictionaries (no training).
//!
//! The blocking `postgres` client runs its own small runtime: call it from plain threads or
//! `spawn_blocking`, never from an async task.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use fallible_iterator::FallibleIterator;
use gdlens_domain::time::EpochMillis;
use gdlens_domain::{normalize, Finding, TriageStatus};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::{ToSql, Type};
use postgres::{Client, Transaction};
use serde_json::json;

use crate::codec::{decode_finding_plain, decode_raw_plain, EncodedFinding, Encoder};
use crate::error::StoreError;
use crate::model::{
    AuditEntry, FindingVersion, Investigation, NewFinding, StoredFinding, SyncStatus, TicketLink,
    Triage, TriageChange, UpsertOutcome, UpsertReport, Watermark,
};

/// Idle connections kept for reuse.
const POOL: usize = 8;
/// How long a connection attempt may take before the store reports PostgreSQL unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The channel changes are announced on.
pub(crate) const CHANNEL: &str = "gdlens_changes";

/// What a change-log row says changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// The latest version or the archived state of these findings changed.
    Findings,
    /// The triage of these findings changed.
    Triage,
    /// Data the in-memory index does not hold (tickets, investigations): only the generation moves.
    Other,
}

impl ChangeKind {
    fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Findings => "findings",
            ChangeKind::Triage => "triage",
            ChangeKind::Other => "other",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "findings" => ChangeKind::Findings,
            "triage" => ChangeKind::Triage,
            _ => ChangeKind::Other,
        }
    }
}

/// One row of the change feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEntry {
    /// The store generation this change produced (ids increase in commit order).
    pub generation: u64,
    /// What changed.
    pub kind: ChangeKind,
    /// The findings concerned.
    pub ids: Vec<String>,
    /// Whether this process wrote it (it already applied it in memory).
    pub own: bool,
}

/// A URL with its password replaced by `***` (user names and hosts stay: they help debugging).
pub fn redact_url(url: &str) -> String {
    let mut out = url.to_string();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let authority_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..authority_end].rfind('@') {
            let userinfo = &out[rest_start..rest_start + at];
            if let Some(colon) = userinfo.find(':') {
                out.replace_range(rest_start + colon + 1..rest_start + at, "***");
            }
        }
    }
    // Key-value parameters: `?password=…` or `password=…` in a conninfo string.
    if let Some(p) = out.find("password=") {
        let start = p + "password=".len();
        let end = out[start..]
            .find(['&', ' '])
            .map_or(out.len(), |i| start + i);
        out.replace_range(start..end, "***");
    }
    out
}

/// Whether `url` names a PostgreSQL database.
pub fn is_postgres_url(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

struct Conn {
    client: Client,
    /// The temporary staging tables of upserts exist on this connection.
    staged: bool,
}

/// The PostgreSQL backend (reached through the [`crate::Store`] facade).
pub struct PgStore {
    config: postgres::Config,
    /// TLS for every connection (`sslmode`, `sslrootcert`; see `pg_tls`).
    tls: tokio_postgres_rustls::MakeRustlsConnect,
    redacted: String,
    idle: Mutex<Vec<Conn>>,
    /// Names this process in `change_log.origin`.
    origin: String,
    /// The last sync statuses and investigations read: small whole-table reads every dashboard
    /// makes, answered from here while PostgreSQL is unreachable (degraded, not down).
    last_sync: Mutex<Option<Vec<SyncStatus>>>,
    last_investigations: Mutex<Option<Vec<Investigation>>>,
}

/// `fresh`, remembered in `slot`; on [`StoreError::Unavailable`], what `slot` last remembered.
fn or_last_known<T: Clone>(
    slot: &Mutex<Option<T>>,
    fresh: Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut last = slot.lock().unwrap_or_else(|p| p.into_inner());
    match fresh {
        Ok(v) => {
            *last = Some(v.clone());
            Ok(v)
        }
        Err(StoreError::Unavailable(e)) => last.clone().ok_or(StoreError::Unavailable(e)),
        Err(e) => Err(e),
    }
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("url", &self.redacted)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> EpochMillis {
    chrono::Utc::now().timestamp_millis()
}

fn renormalize(raw: &str) -> Result<Finding, StoreError> {
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| StoreError::Codec(e.to_string()))?;
    normalize(&value).map_err(|e| StoreError::Codec(e.to_string()))
}

/// Locks the generation row: the store's write lock (see module docs).
fn lock_writes(tx: &mut Transaction<'_>) -> Result<u64, StoreError> {
    let g: i64 = tx
        .query_one(
            "SELECT value FROM meta WHERE key = 'generation' FOR UPDATE",
            &[],
        )?
        .get(0);
    Ok(g as u64)
}

impl PgStore {
    /// Connects to `url` (`postgres://user:password@host:port/db?…`) and applies pending schema
    /// steps. Fails with [`StoreError::Unavailable`] when the database cannot be reached.
    pub fn open(url: &str) -> Result<PgStore, StoreError> {
        let redacted = redact_url(url);
        let crate::pg_tls::Target { mut config, tls } = crate::pg_tls::parse(url, &redacted)?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        // A peer that vanishes (kill -9 of a host, network partition) is noticed in seconds.
        config.keepalives(true);
        config.keepalives_idle(Duration::from_secs(10));
        config.application_name("gdlens");
        let store = PgStore {
            config,
            tls,
            redacted,
            idle: Mutex::new(Vec::new()),
            origin: format!("{}-{}-{}", hostname(), std::process::id(), now_ms()),
            last_sync: Mutex::new(None),
            last_investigations: Mutex::new(None),
        };
        let mut conn = store.connect()?;
        let version = crate::pg_schema::migrate(&mut conn.client)?;
        store.give_back(conn);
        // Remember them once now, so even a replica that never served them can answer them
        // while the database is away.
        store.sync_statuses()?;
        store.investigations()?;
        tracing::info!(url = %store.redacted, schema = version, "postgres store opened");
        Ok(store)
    }

    /// The URL with its password redacted (for logs and status pages).
    pub fn redacted_url(&self) -> &str {
        &self.redacted
    }

    fn connect(&self) -> Result<Conn, StoreError> {
        let client = self.config.connect(self.tls.clone())?;
        Ok(Conn {
            client,
            staged: false,
        })
    }

    fn take(&self) -> Result<Conn, StoreError> {
        loop {
            let pooled = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
            match pooled {
                Some(c) if c.client.is_closed() => continue,
                Some(c) => return Ok(c),
                None => return self.connect(),
            }
        }
    }

    fn give_back(&self, conn: Conn) {
        if conn.client.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < POOL {
            idle.push(conn);
        }
    }

    /// Runs `f` on a pooled connection. A connection that failed is dropped, not pooled: the
    /// next call connects afresh, which is how the store recovers after PostgreSQL comes back.
    fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut Conn) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.take()?;
        let out = f(&mut conn);
        match &out {
            Err(StoreError::Unavailable(_)) => {}
            _ => self.give_back(conn),
        }
        out
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_conn(|c| f(&mut c.client))
    }

    /// One writing transaction: locks the generation row first (see module docs).
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>, u64) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.with_conn(|c| {
            let mut tx = c.client.transaction()?;
            let generation = lock_writes(&mut tx)?;
            let out = f(&mut tx, generation)?; // dropping `tx` on error rolls back
            tx.commit()?;
            Ok(out)
        })
    }

    /// Moves the generation on, logs the change and announces it (delivered on commit).
    fn record_change(
        &self,
        tx: &mut Transaction<'_>,
        kind: ChangeKind,
        ids: &[&str],
    ) -> Result<u64, StoreError> {
        let g: i64 = tx
            .query_one(
                "UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value",
                &[],
            )?
            .get(0);
        tx.execute(
            "INSERT INTO change_log (generation, at, origin, kind, ids) VALUES ($1, $2, $3, $4, $5)",
            &[&g, &now_ms(), &self.origin, &kind.as_str(), &ids],
        )?;
        tx.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &g.to_string()])?;
        Ok(g as u64)
    }

    // ------------------------------------------------------------------ codecs

    /// An encoder without dictionaries (this backend stores LZ4 raw JSON and plain postcard).
    pub fn encoder(&self) -> Encoder {
        Encoder::lz4()
    }

    // ------------------------------------------------------------------ findings

    /// See [`crate::Store::upsert_batch_with_watermark`].
    pub fn upsert_batch_with_watermark(
        &self,
        batch: &[NewFinding],
        watermark: Option<&Watermark>,
    ) -> Result<UpsertReport, StoreError> {
        let mut encoder = self.encoder();
        let encoded = batch
            .iter()
            .map(|n| encoder.encode(&n.finding, &n.raw, n.source.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (mut report, changed) = self.upsert_encoded(&encoded, watermark)?;
        report.changed = changed
            .into_iter()
            .map(|i| batch[i].finding.clone())
            .collect();
        Ok(report)
    }

    /// See [`crate::Store::upsert_encoded_batch`].
    pub fn upsert_encoded_batch(
        &self,
        batch: &[EncodedFinding],
    ) -> Result<UpsertReport, StoreError> {
        Ok(self.upsert_encoded(batch, None)?.0)
    }

    /// The upsert: decides every record's outcome in memory against the stored latest versions
    /// (read once for the batch), stages the rows to write with binary `COPY` and merges them
    /// with three set-based statements.
    fn upsert_encoded(
        &self,
        batch: &[EncodedFinding],
        watermark: Option<&Watermark>,
    ) -> Result<(UpsertReport, Vec<usize>), StoreError> {
        if let Some(i) = batch.iter().position(|r| r.head.id.is_empty()) {
            return Err(StoreError::InvalidInput(format!(
                "record {i} of the batch has an empty finding id"
            )));
        }
        let now = now_ms();
        self.with_conn(|conn| {
            if !conn.staged {
                conn.client.batch_execute(STAGING)?;
                conn.staged = true;
            }
            let mut tx = conn.client.transaction()?;
            lock_writes(&mut tx)?;
            let mut report = UpsertReport {
                outcomes: Vec::with_capacity(batch.len()),
                ..Default::default()
            };
            let ids: Vec<&str> = batch.iter().map(|r| r.head.id.as_str()).collect();
            // id → (key, latest updatedAt, stored before this batch)
            let mut current: HashMap<String, (i64, i64, bool)> = HashMap::new();
            for row in tx.query(
                "SELECT id, key, updated_at FROM findings WHERE id = ANY($1)",
                &[&ids],
            )? {
                current.insert(row.get(0), (row.get(1), row.get(2), true));
            }
            let mut next_key: i64 = tx
                .query_one("SELECT coalesce(max(key), 0) + 1 FROM findings", &[])?
                .get(0);
            // Versions to write (batch index) and, per finding, the record that ends up latest.
            let mut versions: Vec<usize> = Vec::new();
            let mut version_seen: HashSet<(i64, i64)> = HashSet::new();
            let mut latest: HashMap<&str, usize> = HashMap::new();
            for (i, rec) in batch.iter().enumerate() {
                let f = &rec.head;
                let entry = current.get(&f.id).copied();
                if entry.is_some_and(|(_, u, _)| u == f.updated_at) {
                    report.outcomes.push(UpsertOutcome::Unchanged);
                    report.unchanged += 1;
                    continue;
                }
                let key = entry.map_or(next_key, |(k, _, _)| k);
                if version_seen.insert((key, f.updated_at)) {
                    versions.push(i);
                }
                let is_newer = entry.is_none_or(|(_, u, _)| f.updated_at > u);
                if !is_newer {
                    report.outcomes.push(UpsertOutcome::Unchanged);
                    report.unchanged += 1;
                    continue;
                }
                match entry {
                    None => {
                        next_key += 1;
                        current.insert(f.id.clone(), (key, f.updated_at, false));
                        report.outcomes.push(UpsertOutcome::Inserted);
                        report.inserted += 1;
                    }
                    Some((_, _, stored)) => {
                        current.insert(f.id.clone(), (key, f.updated_at, stored));
                        // A second newer record of an id first seen in this batch still
                        // counts as an update, as in SQLite.
                        report.outcomes.push(UpsertOutcome::Updated);
                        report.updated += 1;
                    }
                }
                latest.insert(f.id.as_str(), i);
            }
            // Versions of findings first stored by this batch cannot collide with a stored
            // version: they are copied straight into `finding_versions` with ids reserved from
            // its sequence, and their findings straight into `findings` (binary COPY takes the
            // multi-row insert path; staging and merging them cost twice the writes). Versions of
            // findings stored before go through staging, since a re-imported older version must
            // be skipped (`ON CONFLICT DO NOTHING`).
            let stored_before = |i: usize| current[&batch[i].head.id].2;
            let (mut fresh, merged): (Vec<usize>, Vec<usize>) =
                versions.iter().partition(|&&i| !stored_before(i));
            // Ids ascend with (finding, updatedAt), as the merge's ORDER BY gives the others.
            fresh.sort_unstable_by_key(|&i| (current[&batch[i].head.id].0, batch[i].head.updated_at));
            let mut fresh_ids: HashMap<(i64, i64), i64> = HashMap::with_capacity(fresh.len());
            if !fresh.is_empty() {
                let n = fresh.len() as i64;
                let mut ids: Vec<i64> = tx
                    .query(
                        "SELECT nextval('finding_versions_id_seq') FROM generate_series(1, $1::bigint)",
                        &[&n],
                    )?
                    .iter()
                    .map(|row| row.get(0))
                    .collect();
                ids.sort_unstable();
                let sink = tx.copy_in(
                    "COPY finding_versions (id, finding_key, updated_at, count, severity, archived, imported_at,
                                            source, raw_codec, raw)
                     FROM STDIN BINARY",
                )?;
                let mut w = BinaryCopyInWriter::new(
                    sink,
                    &[
                        Type::INT8,
                        Type::INT8,
                        Type::INT8,
                        Type::INT8,
                        Type::FLOAT8,
                        Type::BOOL,
                        Type::INT8,
                        Type::TEXT,
                        Type::INT8,
                        Type::BYTEA,
                    ],
                );
                for (&i, &id) in fresh.iter().zip(&ids) {
                    let rec = &batch[i];
                    let f = &rec.head;
                    let key = current[&f.id].0;
                    let count = f.count as i64;
                    fresh_ids.insert((key, f.updated_at), id);
                    w.write(&[
                        &id,
                        &key,
                        &f.updated_at,
                        &count,
                        &f.severity,
                        &f.archived,
                        &now,
                        &rec.source,
                        &rec.raw_codec,
                        &rec.raw,
                    ])?;
                }
                w.finish()?;
            }
            if !merged.is_empty() {
                let sink = tx.copy_in(
                    "COPY stage_versions (finding_key, updated_at, count, severity, archived, source, raw_codec, raw)
                     FROM STDIN BINARY",
                )?;
                let mut w = BinaryCopyInWriter::new(
                    sink,
                    &[
                        Type::INT8,
                        Type::INT8,
                        Type::INT8,
                        Type::FLOAT8,
                        Type::BOOL,
                        Type::TEXT,
                        Type::INT8,
                        Type::BYTEA,
                    ],
                );
                for &i in &merged {
                    let rec = &batch[i];
                    let f = &rec.head;
                    let key = current[&f.id].0;
                    let count = f.count as i64;
                    w.write(&[
                        &key,
                        &f.updated_at,
                        &count,
                        &f.severity,
                        &f.archived,
                        &rec.source,
                        &rec.raw_codec,
                        &rec.raw,
                    ])?;
                }
                w.finish()?;
                tx.execute(
                    "INSERT INTO finding_versions (finding_key, updated_at, count, severity, archived, imported_at,
                                                   source, raw_codec, raw)
                     SELECT finding_key, updated_at, count, severity, archived, $1, source, raw_codec, raw
                     FROM stage_versions ORDER BY finding_key, updated_at
                     ON CONFLICT (finding_key, updated_at) DO NOTHING",
                    &[&now],
                )?;
            }
            let mut changed: Vec<usize> = latest.values().copied().collect();
            changed.sort_unstable();
            let (inserted, updated): (Vec<usize>, Vec<usize>) =
                changed.iter().partition(|&&i| !stored_before(i));
            if !inserted.is_empty() {
                let sink = tx.copy_in(
                    "COPY findings (key, id, version_id, updated_at, account_id, region, finding_type, severity,
                                    archived, first_imported_at, last_imported_at, source, codec, normalized)
                     FROM STDIN BINARY",
                )?;
                let mut w = BinaryCopyInWriter::new(
                    sink,
                    &[
                        Type::INT8,
                        Type::TEXT,
                        Type::INT8,
                        Type::INT8,
                        Type::TEXT,
                        Type::TEXT,
                        Type::TEXT,
                        Type::FLOAT8,
                        Type::BOOL,
                        Type::INT8,
                        Type::INT8,
                        Type::TEXT,
                        Type::INT8,
                        Type::BYTEA,
                    ],
                );
                for &i in &inserted {
                    let rec = &batch[i];
                    let f = &rec.head;
                    let key = current[&f.id].0;
                    let version_id = fresh_ids[&(key, f.updated_at)];
                    w.write(&[
                        &key,
                        &f.id,
                        &version_id,
                        &f.updated_at,
                        &f.account_id,
                        &f.region,
                        &f.finding_type,
                        &f.severity,
                        &f.archived,
                        &now,
                        &now,
                        &rec.source,
                        &rec.codec,
                        &rec.normalized,
                    ])?;
                }
                w.finish()?;
            }
            if !updated.is_empty() {
                let sink = tx.copy_in(
                    "COPY stage_findings (key, updated_at, account_id, region, finding_type, severity, archived,
                                          source, codec, normalized)
                     FROM STDIN BINARY",
                )?;
                let mut w = BinaryCopyInWriter::new(
                    sink,
                    &[
                        Type::INT8,
                        Type::INT8,
                        Type::TEXT,
                        Type::TEXT,
                        Type::TEXT,
                        Type::FLOAT8,
                        Type::BOOL,
                        Type::TEXT,
                        Type::INT8,
                        Type::BYTEA,
                    ],
                );
                for &i in &updated {
                    let rec = &batch[i];
                    let f = &rec.head;
                    let key = current[&f.id].0;
                    w.write(&[
                        &key,
                        &f.updated_at,
                        &f.account_id,
                        &f.region,
                        &f.finding_type,
                        &f.severity,
                        &f.archived,
                        &rec.source,
                        &rec.codec,
                        &rec.normalized,
                    ])?;
                }
                w.finish()?;
                tx.execute(
                    "UPDATE findings f SET version_id = v.id, updated_at = s.updated_at, account_id = s.account_id,
                            region = s.region, finding_type = s.finding_type, severity = s.severity,
                            archived = s.archived, last_imported_at = $1, source = s.source, codec = s.codec,
                            normalized = s.normalized
                     FROM stage_findings s
                     JOIN finding_versions v ON v.finding_key = s.key AND v.updated_at = s.updated_at
                     WHERE f.key = s.key",
                    &[&now],
                )?;
            }
            if !changed.is_empty() && crate::outbox::pg_enabled(&mut tx)? {
                // One event per changed finding: created when it was not stored before this batch.
                let mut events: Vec<(&str, &str, serde_json::Value)> = changed
                    .iter()
                    .map(|&i| {
                        let id = batch[i].head.id.as_str();
                        let kind = if current[id].2 {
                            crate::outbox::EVENT_FINDING_UPDATED
                        } else {
                            crate::outbox::EVENT_FINDING_CREATED
                        };
                        (kind, id, json!({}))
                    })
                    .collect();
                events.sort_unstable_by(|a, b| a.1.cmp(b.1));
                crate::outbox::pg_append(&mut tx, &events, now)?;
            }
            if let Some(w) = watermark {
                tx.execute(
                    "INSERT INTO sync_watermarks (region, detector_id, updated_at) VALUES ($1, $2, $3)
                     ON CONFLICT (region, detector_id)
                     DO UPDATE SET updated_at = greatest(sync_watermarks.updated_at, excluded.updated_at)",
                    &[&w.region, &w.detector_id, &w.updated_at_ms],
                )?;
            }
            report.generation = if changed.is_empty() && watermark.is_none() {
                current_generation(&mut tx)?
            } else {
                let ids: Vec<&str> = changed.iter().map(|&i| batch[i].head.id.as_str()).collect();
                self.record_change(&mut tx, ChangeKind::Findings, &ids)?
            };
            tx.commit()?;
            Ok((report, changed))
        })
    }

    /// See [`crate::Store::generation`].
    pub fn generation(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let g: i64 = c
                .query_one("SELECT value FROM meta WHERE key = 'generation'", &[])?
                .get(0);
            Ok(g as u64)
        })
    }

    /// See [`crate::Store::count`].
    pub fn count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 = c.query_one("SELECT count(*) FROM findings", &[])?.get(0);
            Ok(n as u64)
        })
    }

    /// See [`crate::Store::version_count`].
    pub fn version_count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            let n: i64 = c
                .query_one("SELECT count(*) FROM finding_versions", &[])?
                .get(0);
            Ok(n as u64)
        })
    }

    /// See [`crate::Store::scan_latest`]: rows stream from the server, never all in memory.
    pub fn scan_latest(&self, mut f: impl FnMut(Finding)) -> Result<(), StoreError> {
        self.read(|c| {
            let mut stale = Vec::new();
            {
                let mut rows = c.query_raw(
                    "SELECT codec, normalized, archived, version_id FROM findings ORDER BY key",
                    std::iter::empty::<i64>(),
                )?;
                while let Some(row) = rows.next()? {
                    let codec: i64 = row.get(0);
                    let blob: &[u8] = row.get(1);
                    let archived: bool = row.get(2);
                    match decode_finding_plain(codec, blob) {
                        Some(mut finding) => {
                            finding.archived = archived;
                            f(finding);
                        }
                        None => stale.push((row.get::<_, i64>(3), archived)),
                    }
                }
            }
            for (version_id, archived) in stale {
                let row = c.query_one(
                    "SELECT raw_codec, raw FROM finding_versions WHERE id = $1",
                    &[&version_id],
                )?;
                let mut finding = renormalize(&decode_raw_plain(row.get(0), row.get(1))?)?;
                finding.archived = archived;
                f(finding);
            }
            Ok(())
        })
    }

    /// See [`crate::Store::latest_by_id`].
    pub fn latest_by_id(&self, ids: &[String]) -> Result<Vec<Finding>, StoreError> {
        self.read(|c| {
            let rows = c.query(
                "SELECT f.id, f.codec, f.normalized, f.archived, v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id WHERE f.id = ANY($1)",
                &[&ids],
            )?;
            let mut by_id = HashMap::with_capacity(rows.len());
            for row in rows {
                let id: String = row.get(0);
                let mut finding = match decode_finding_plain(row.get(1), row.get(2)) {
                    Some(f) => f,
                    None => renormalize(&decode_raw_plain(row.get(4), row.get(5))?)?,
                };
                finding.archived = row.get(3);
                by_id.insert(id, finding);
            }
            Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
        })
    }

    /// See [`crate::Store::latest_raw`].
    pub fn latest_raw(&self, ids: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        self.read(|c| {
            let rows = c.query(
                "SELECT f.id, v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id WHERE f.id = ANY($1)",
                &[&ids],
            )?;
            let mut by_id = HashMap::with_capacity(rows.len());
            for row in rows {
                by_id.insert(
                    row.get::<_, String>(0),
                    decode_raw_plain(row.get(1), row.get(2))?,
                );
            }
            Ok(ids
                .iter()
                .filter_map(|id| by_id.remove(id).map(|raw| (id.clone(), raw)))
                .collect())
        })
    }

    /// See [`crate::Store::scan_latest_with_raw`].
    pub fn scan_latest_with_raw(
        &self,
        mut f: impl FnMut(Finding, &str) -> bool,
    ) -> Result<(), StoreError> {
        self.read(|c| {
            let mut rows = c.query_raw(
                "SELECT f.codec, f.normalized, f.archived, v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id ORDER BY f.key",
                std::iter::empty::<i64>(),
            )?;
            while let Some(row) = rows.next()? {
                let raw = decode_raw_plain(row.get(3), row.get(4))?;
                let mut finding = match decode_finding_plain(row.get(0), row.get(1)) {
                    Some(finding) => finding,
                    None => renormalize(&raw)?,
                };
                finding.archived = row.get(2);
                if !f(finding, &raw) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// See [`crate::Store::scan_latest_raw`]: streams `findings` joined to their latest version.
    pub fn scan_latest_raw(&self, mut f: impl FnMut(&str, &str) -> bool) -> Result<(), StoreError> {
        self.read(|c| {
            let mut rows = c.query_raw(
                "SELECT f.id, v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id ORDER BY f.key",
                std::iter::empty::<i64>(),
            )?;
            while let Some(row) = rows.next()? {
                let raw = decode_raw_plain(row.get(1), row.get(2))?;
                if !f(row.get::<_, &str>(0), &raw) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// See [`crate::Store::get_findings`].
    pub fn get_findings(&self, ids: &[String]) -> Result<Vec<StoredFinding>, StoreError> {
        self.read(|c| {
            let rows = c.query(
                "SELECT f.id, f.codec, f.normalized, f.archived, f.first_imported_at, f.last_imported_at, f.source,
                        v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id WHERE f.id = ANY($1)",
                &[&ids],
            )?;
            let mut by_id = HashMap::with_capacity(rows.len());
            for row in rows {
                let raw = decode_raw_plain(row.get(7), row.get(8))?;
                let mut finding = match decode_finding_plain(row.get(1), row.get(2)) {
                    Some(f) => f,
                    None => renormalize(&raw)?,
                };
                finding.archived = row.get(3);
                by_id.insert(
                    row.get::<_, String>(0),
                    StoredFinding {
                        finding,
                        raw,
                        first_imported_at: row.get(4),
                        last_imported_at: row.get(5),
                        source: row.get(6),
                    },
                );
            }
            Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
        })
    }

    /// See [`crate::Store::versions`].
    pub fn versions(&self, id: &str) -> Result<Vec<FindingVersion>, StoreError> {
        self.read(|c| {
            let rows = c.query(
                "SELECT v.updated_at, v.count, v.severity, v.archived, v.imported_at, v.source, v.raw_codec, v.raw,
                        v.id = f.version_id
                 FROM findings f JOIN finding_versions v ON v.finding_key = f.key
                 WHERE f.id = $1 ORDER BY v.updated_at",
                &[&id],
            )?;
            rows.iter()
                .map(|r| {
                    Ok(FindingVersion {
                        updated_at: r.get(0),
                        count: r.get::<_, i64>(1) as u64,
                        severity: r.get(2),
                        archived: r.get(3),
                        imported_at: r.get(4),
                        source: r.get(5),
                        raw: decode_raw_plain(r.get(6), r.get(7))?,
                        is_latest: r.get(8),
                    })
                })
                .collect()
        })
    }

    /// See [`crate::Store::set_archived`].
    pub fn set_archived(
        &self,
        ids: &[String],
        archived: bool,
        actor: &str,
    ) -> Result<u64, StoreError> {
        let now = now_ms();
        self.write(|tx, _| {
            ensure_known(tx, ids)?;
            let mut changed_ids: Vec<&str> = Vec::new();
            for id in ids {
                if tx.execute(
                    "UPDATE findings SET archived = $2 WHERE id = $1 AND archived != $2",
                    &[id, &archived],
                )? == 1
                {
                    changed_ids.push(id);
                    let action = if archived { "archive" } else { "unarchive" };
                    append_audit_tx(tx, id, now, actor, action, &json!({ "archived": archived }))?;
                }
            }
            if !changed_ids.is_empty() {
                self.record_change(tx, ChangeKind::Findings, &changed_ids)?;
            }
            Ok(changed_ids.len() as u64)
        })
    }

    // ------------------------------------------------------------------ triage

    /// See [`crate::Store::set_triage`].
    pub fn set_triage(
        &self,
        ids: &[String],
        change: &TriageChange,
        expected_version: Option<i64>,
        actor: &str,
    ) -> Result<Vec<Triage>, StoreError> {
        if ids.is_empty() {
            return Err(StoreError::InvalidInput("no finding ids".into()));
        }
        let now = now_ms();
        self.write(|tx, _| {
            ensure_known(tx, ids)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let current = triage_row(tx, id)?;
                let actual = current.as_ref().map_or(0, |t| t.version);
                if let Some(expected) = expected_version {
                    if expected != actual {
                        return Err(StoreError::StaleVersion {
                            finding_id: id.clone(),
                            expected,
                            actual,
                        });
                    }
                }
                let keep_or = |new: &Option<String>, old: Option<&String>| match new {
                    None => old.cloned(),
                    Some(s) if s.is_empty() => None,
                    Some(s) => Some(s.clone()),
                };
                let next = Triage {
                    finding_id: id.clone(),
                    status: change.status,
                    assignee: keep_or(
                        &change.assignee,
                        current.as_ref().and_then(|t| t.assignee.as_ref()),
                    ),
                    note: keep_or(
                        &change.note,
                        current.as_ref().and_then(|t| t.note.as_ref()),
                    ),
                    version: actual + 1,
                    updated_at: now,
                    updated_by: actor.to_string(),
                };
                tx.execute(
                    "INSERT INTO triage (finding_id, status, assignee, note, version, updated_at, updated_by)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)
                     ON CONFLICT (finding_id) DO UPDATE SET status = excluded.status, assignee = excluded.assignee,
                        note = excluded.note, version = excluded.version, updated_at = excluded.updated_at,
                        updated_by = excluded.updated_by",
                    &[
                        &next.finding_id,
                        &next.status.as_str(),
                        &next.assignee,
                        &next.note,
                        &next.version,
                        &next.updated_at,
                        &next.updated_by,
                    ],
                )?;
                let detail = json!({
                    "from": current.as_ref().map_or(TriageStatus::New.as_str(), |t| t.status.as_str()),
                    "to": next.status.as_str(),
                    "assignee": next.assignee,
                    "note": next.note,
                    "version": next.version,
                });
                append_audit_tx(tx, id, now, actor, "triage", &detail)?;
                out.push(next);
            }
            if crate::outbox::pg_enabled(tx)? {
                let events = crate::store::triage_events(&out, actor);
                let refs: Vec<(&str, &str, serde_json::Value)> = events
                    .iter()
                    .map(|(id, d)| (crate::outbox::EVENT_TRIAGE_CHANGED, id.as_str(), d.clone()))
                    .collect();
                crate::outbox::pg_append(tx, &refs, now)?;
            }
            let changed: Vec<&str> = ids.iter().map(String::as_str).collect();
            self.record_change(tx, ChangeKind::Triage, &changed)?;
            Ok(out)
        })
    }

    /// See [`crate::Store::triage`].
    pub fn triage(&self, ids: &[String]) -> Result<Vec<Triage>, StoreError> {
        self.read(|c| {
            let mut out = Vec::new();
            for id in ids {
                if let Some(t) = triage_row(c, id)? {
                    out.push(t);
                }
            }
            Ok(out)
        })
    }

    /// See [`crate::Store::all_triage`].
    pub fn all_triage(&self) -> Result<Vec<(String, TriageStatus)>, StoreError> {
        self.read(|c| {
            let rows = c.query(
                "SELECT finding_id, status FROM triage ORDER BY finding_id",
                &[],
            )?;
            rows.iter()
                .map(|r| {
                    let id: String = r.get(0);
                    let status: &str = r.get(1);
                    let status = TriageStatus::parse(status).ok_or_else(|| {
                        StoreError::Codec(format!("unknown triage status {status:?} for {id}"))
                    })?;
                    Ok((id, status))
                })
                .collect()
        })
    }

    // ------------------------------------------------------------------ tickets and audit

    /// See [`crate::Store::link_ticket`].
    pub fn link_ticket(
        &self,
        ids: &[String],
        system: &str,
        key: &str,
        url: Option<&str>,
        actor: &str,
    ) -> Result<Vec<TicketLink>, StoreError> {
        if system.trim().is_empty() || key.trim().is_empty() {
            return Err(StoreError::InvalidInput(
                "ticket system and key must not be empty".into(),
            ));
        }
        let now = now_ms();
        self.write(|tx, _| {
            ensure_known(tx, ids)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let before: Option<Option<String>> = tx
                    .query_opt(
                        "SELECT url FROM ticket_links WHERE finding_id = $1 AND system = $2 AND key = $3",
                        &[id, &system, &key],
                    )?
                    .map(|r| r.get(0));
                let url_now = url.map(str::to_string).or_else(|| before.clone().flatten());
                let row = tx.query_one(
                    "INSERT INTO ticket_links (finding_id, system, key, url, created_at, created_by, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $5)
                     ON CONFLICT (finding_id, system, key) DO UPDATE SET url = excluded.url,
                        updated_at = excluded.updated_at
                     RETURNING created_at, created_by",
                    &[id, &system, &key, &url_now, &now, &actor],
                )?;
                let is_change = match &before {
                    None => true,
                    Some(old) => *old != url_now,
                };
                if is_change {
                    let detail = json!({ "system": system, "key": key, "url": url_now, "new": before.is_none() });
                    append_audit_tx(tx, id, now, actor, "link_ticket", &detail)?;
                }
                out.push(TicketLink {
                    finding_id: id.clone(),
                    system: system.to_string(),
                    key: key.to_string(),
                    url: url_now,
                    created_at: row.get(0),
                    created_by: row.get(1),
                });
            }
            let changed: Vec<&str> = ids.iter().map(String::as_str).collect();
            self.record_change(tx, ChangeKind::Other, &changed)?;
            Ok(out)
        })
    }

    /// See [`crate::Store::ticket_links`].
    pub fn ticket_links(&self, ids: &[String]) -> Result<Vec<TicketLink>, StoreError> {
        self.read(|c| {
            let mut out = Vec::new();
            for id in ids {
                for r in c.query(
                    "SELECT system, key, url, created_at, created_by FROM ticket_links WHERE finding_id = $1
                     ORDER BY created_at, system, key",
                    &[id],
                )? {
                    out.push(TicketLink {
                        finding_id: id.clone(),
                        system: r.get(0),
                        key: r.get(1),
                        url: r.get(2),
                        created_at: r.get(3),
                        created_by: r.get(4),
                    });
                }
            }
            Ok(out)
        })
    }

    /// See [`crate::Store::append_audit`].
    pub fn append_audit(
        &self,
        ids: &[String],
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.with_conn(|c| {
            let mut tx = c.client.transaction()?;
            for id in ids {
                append_audit_tx(&mut tx, id, now, actor, action, detail)?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// See [`crate::Store::audit`].
    pub fn audit(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| {
            c.query(
                "SELECT at, actor, action, detail FROM audit WHERE finding_id = $1 ORDER BY id",
                &[&id],
            )?
            .iter()
            .map(|r| {
                let detail: &str = r.get(3);
                Ok(AuditEntry {
                    finding_id: id.to_string(),
                    at: r.get(0),
                    actor: r.get(1),
                    action: r.get(2),
                    detail: serde_json::from_str(detail)
                        .map_err(|e| StoreError::Codec(e.to_string()))?,
                })
            })
            .collect()
        })
    }

    // ------------------------------------------------------------------ sync state

    /// See [`crate::Store::watermark`].
    pub fn watermark(
        &self,
        region: &str,
        detector_id: &str,
    ) -> Result<Option<EpochMillis>, StoreError> {
        self.read(|c| {
            Ok(c.query_opt(
                "SELECT updated_at FROM sync_watermarks WHERE region = $1 AND detector_id = $2",
                &[&region, &detector_id],
            )?
            .map(|r| r.get(0)))
        })
    }

    /// See [`crate::Store::set_sync_status`].
    pub fn set_sync_status(&self, status: &SyncStatus) -> Result<(), StoreError> {
        self.read(|c| {
            c.execute(
                "INSERT INTO sync_status (region, detector_id, last_attempt_at, last_success_at, last_error_code,
                                          last_error_message, findings_synced)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (region, detector_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
                    last_success_at = excluded.last_success_at, last_error_code = excluded.last_error_code,
                    last_error_message = excluded.last_error_message, findings_synced = excluded.findings_synced",
                &[
                    &status.region,
                    &status.detector_id.as_deref().unwrap_or(""),
                    &status.last_attempt_at,
                    &status.last_success_at,
                    &status.last_error_code,
                    &status.last_error_message,
                    &(status.findings_synced as i64),
                ],
            )?;
            Ok(())
        })
    }

    /// See [`crate::Store::sync_statuses`]. While PostgreSQL is unreachable, the last read.
    pub fn sync_statuses(&self) -> Result<Vec<SyncStatus>, StoreError> {
        or_last_known(&self.last_sync, self.read_sync_statuses())
    }

    fn read_sync_statuses(&self) -> Result<Vec<SyncStatus>, StoreError> {
        self.read(|c| {
            Ok(c.query(
                "SELECT region, detector_id, last_attempt_at, last_success_at, last_error_code, last_error_message,
                        findings_synced
                 FROM sync_status ORDER BY region, detector_id",
                &[],
            )?
            .iter()
            .map(|r| SyncStatus {
                region: r.get(0),
                detector_id: Some(r.get::<_, String>(1)).filter(|d| !d.is_empty()),
                last_attempt_at: r.get(2),
                last_success_at: r.get(3),
                last_error_code: r.get(4),
                last_error_message: r.get(5),
                findings_synced: r.get::<_, i64>(6) as u64,
            })
            .collect())
        })
    }

    // ------------------------------------------------------------------ detective

    /// See [`crate::Store::replace_investigations`].
    pub fn replace_investigations(&self, list: &[Investigation]) -> Result<(), StoreError> {
        self.write(|tx, _| {
            tx.execute("DELETE FROM investigations", &[])?;
            let stmt = tx.prepare(
                "INSERT INTO investigations (graph_arn, investigation_id, entity_arn, entity_type, status,
                    severity, state, created_at, scope_start, scope_end, indicators_json,
                    related_finding_ids, related_finding_group_ids)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (graph_arn, investigation_id) DO UPDATE SET entity_arn = excluded.entity_arn,
                    entity_type = excluded.entity_type, status = excluded.status, severity = excluded.severity,
                    state = excluded.state, created_at = excluded.created_at, scope_start = excluded.scope_start,
                    scope_end = excluded.scope_end, indicators_json = excluded.indicators_json,
                    related_finding_ids = excluded.related_finding_ids,
                    related_finding_group_ids = excluded.related_finding_group_ids",
            )?;
            for i in list {
                let related = string_list(&i.related_finding_ids);
                let groups = string_list(&i.related_finding_group_ids);
                let params: [&(dyn ToSql + Sync); 13] = [
                    &i.graph_arn,
                    &i.investigation_id,
                    &i.entity_arn,
                    &i.entity_type,
                    &i.status,
                    &i.severity,
                    &i.state,
                    &i.created_at,
                    &i.scope_start,
                    &i.scope_end,
                    &i.indicators_json,
                    &related,
                    &groups,
                ];
                tx.execute(&stmt, &params)?;
            }
            self.record_change(tx, ChangeKind::Other, &[])?;
            Ok(())
        })
    }

    /// See [`crate::Store::investigations`]. While PostgreSQL is unreachable, the last read.
    pub fn investigations(&self) -> Result<Vec<Investigation>, StoreError> {
        or_last_known(&self.last_investigations, self.read_investigations())
    }

    fn read_investigations(&self) -> Result<Vec<Investigation>, StoreError> {
        self.read(|c| {
            Ok(c.query(
                "SELECT graph_arn, investigation_id, entity_arn, entity_type, status, severity, state, created_at,
                        scope_start, scope_end, indicators_json, related_finding_ids, related_finding_group_ids
                 FROM investigations ORDER BY created_at DESC, investigation_id",
                &[],
            )?
            .iter()
            .map(|r| Investigation {
                graph_arn: r.get(0),
                investigation_id: r.get(1),
                entity_arn: r.get(2),
                entity_type: r.get(3),
                status: r.get(4),
                severity: r.get(5),
                state: r.get(6),
                created_at: r.get(7),
                scope_start: r.get(8),
                scope_end: r.get(9),
                indicators_json: r.get(10),
                related_finding_ids: parse_string_list(r.get(11)),
                related_finding_group_ids: parse_string_list(r.get(12)),
            })
            .collect())
        })
    }

    // ------------------------------------------------------------------ local state

    /// See [`crate::Store::put_state`].
    pub fn put_state(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        self.read(|c| {
            c.execute(
                "INSERT INTO local_state (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&key, &value.to_string()],
            )?;
            Ok(())
        })
    }

    /// See [`crate::Store::get_state`].
    pub fn get_state(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.read(|c| {
            c.query_opt("SELECT value FROM local_state WHERE key = $1", &[&key])?
                .map(|r| {
                    serde_json::from_str(r.get::<_, &str>(0))
                        .map_err(|e| StoreError::Codec(e.to_string()))
                })
                .transpose()
        })
    }

    /// Size of the database in bytes (`pg_database_size`).
    pub fn size_bytes(&self) -> Option<u64> {
        self.read(|c| {
            let n: i64 = c
                .query_one("SELECT pg_database_size(current_database())", &[])?
                .get(0);
            Ok(n as u64)
        })
        .ok()
    }

    /// gdlens's own invariants (every latest row points at a stored version of the same id and
    /// `updatedAt`; no versions without a latest row). Empty = consistent.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut problems = Vec::new();
            let dangling: i64 = c
                .query_one(
                    "SELECT count(*) FROM findings f LEFT JOIN finding_versions v ON v.id = f.version_id
                     WHERE v.id IS NULL OR v.finding_key != f.key OR v.updated_at != f.updated_at",
                    &[],
                )?
                .get(0);
            if dangling > 0 {
                problems.push(format!(
                    "{dangling} latest rows do not match their version row"
                ));
            }
            let orphans: i64 = c
                .query_one(
                    "SELECT count(*) FROM (SELECT DISTINCT finding_key FROM finding_versions) v
                     LEFT JOIN findings f ON f.key = v.finding_key WHERE f.key IS NULL",
                    &[],
                )?
                .get(0);
            if orphans > 0 {
                problems.push(format!(
                    "{orphans} finding ids have versions but no latest row"
                ));
            }
            Ok(problems)
        })
    }

    // ------------------------------------------------------------------ change feed and leases

    /// Changes committed after generation `after`, oldest first (at most `limit`).
    pub fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<ChangeEntry>, StoreError> {
        self.read(|c| {
            Ok(c.query(
                "SELECT generation, kind, ids, origin FROM change_log WHERE generation > $1
                 ORDER BY generation LIMIT $2",
                &[&(after as i64), &(limit as i64)],
            )?
            .iter()
            .map(|r| ChangeEntry {
                generation: r.get::<_, i64>(0) as u64,
                kind: ChangeKind::parse(r.get(1)),
                ids: r.get(2),
                own: r.get::<_, &str>(3) == self.origin,
            })
            .collect())
        })
    }

    /// A connection that listens on the change channel (one per follower).
    pub fn listen(&self) -> Result<ChangeListener, StoreError> {
        let mut client = self.config.connect(self.tls.clone())?;
        client.batch_execute(&format!("LISTEN {CHANNEL}"))?;
        Ok(ChangeListener { client })
    }

    /// Tries to take the lease `name` (a session advisory lock on a connection of its own).
    /// `None` when another process holds it. The lease lasts as long as the returned value and
    /// its connection: a process killed with -9 loses its connection and so the lease, at once
    /// on one host and within the TCP keepalive time across a network.
    pub fn try_lease(&self, name: &str) -> Result<Option<Lease>, StoreError> {
        let mut client = self.config.connect(self.tls.clone())?;
        let key = lease_key(name);
        let got: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])?
            .get(0);
        Ok(got.then(|| Lease {
            client,
            name: name.to_string(),
        }))
    }
}

/// A listening connection of the change feed.
pub struct ChangeListener {
    client: Client,
}

impl std::fmt::Debug for ChangeListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChangeListener").finish_non_exhaustive()
    }
}

impl ChangeListener {
    /// Waits up to `timeout` for a change announcement; `Ok(true)` when one came. Fails with
    /// [`StoreError::Unavailable`] when the connection is lost (make a new listener).
    pub fn wait(&mut self, timeout: Duration) -> Result<bool, StoreError> {
        if self.client.is_closed() {
            return Err(StoreError::Unavailable(
                "change listener disconnected".into(),
            ));
        }
        let got = {
            let mut notifications = self.client.notifications();
            let got = notifications.timeout_iter(timeout).next()?.is_some();
            // Drain what else arrived: one catch-up read covers them all.
            while notifications.iter().next()?.is_some() {}
            got
        };
        if !got {
            // A quiet channel and a dead peer look alike: ask the server.
            self.client.is_valid(Duration::from_secs(2))?;
        }
        Ok(got)
    }
}

/// A held lease (see [`PgStore::try_lease`]). Dropping it releases it.
pub struct Lease {
    client: Client,
    name: String,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease").field("name", &self.name).finish()
    }
}

impl Lease {
    /// Whether the lease is still held (its connection is alive).
    pub fn is_held(&mut self) -> bool {
        !self.client.is_closed() && self.client.is_valid(Duration::from_secs(2)).is_ok()
    }
}

/// A stable 64-bit advisory lock key for a lease name (FNV-1a; stable across builds).
fn lease_key(name: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in b"gdlens-lease:".iter().chain(name.as_bytes()) {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h as i64
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_else(|| "host".to_string())
}

/// Per-connection staging tables of upserts (emptied at each commit).
const STAGING: &str = "
CREATE TEMP TABLE IF NOT EXISTS stage_versions (
    finding_key BIGINT, updated_at BIGINT, count BIGINT, severity DOUBLE PRECISION, archived BOOLEAN,
    source TEXT, raw_codec BIGINT, raw BYTEA
) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS stage_findings (
    key BIGINT, updated_at BIGINT, account_id TEXT, region TEXT, finding_type TEXT,
    severity DOUBLE PRECISION, archived BOOLEAN, source TEXT, codec BIGINT, normalized BYTEA
) ON COMMIT DELETE ROWS;
";

fn current_generation(c: &mut Transaction<'_>) -> Result<u64, StoreError> {
    let g: i64 = c
        .query_one("SELECT value FROM meta WHERE key = 'generation'", &[])?
        .get(0);
    Ok(g as u64)
}

fn append_audit_tx(
    tx: &mut Transaction<'_>,
    finding_id: &str,
    at: EpochMillis,
    actor: &str,
    action: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO audit (finding_id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5)",
        &[&finding_id, &at, &actor, &action, &detail.to_string()],
    )?;
    Ok(())
}

fn ensure_known(tx: &mut Transaction<'_>, ids: &[String]) -> Result<(), StoreError> {
    let known: HashSet<String> = tx
        .query("SELECT id FROM findings WHERE id = ANY($1)", &[&ids])?
        .iter()
        .map(|r| r.get(0))
        .collect();
    match ids.iter().find(|id| !known.contains(*id)) {
        Some(id) => Err(StoreError::UnknownFinding(id.clone())),
        None => Ok(()),
    }
}

fn triage_row(
    c: &mut impl postgres::GenericClient,
    id: &str,
) -> Result<Option<Triage>, StoreError> {
    let row = c.query_opt(
        "SELECT status, assignee, note, version, updated_at, updated_by FROM triage WHERE finding_id = $1",
        &[&id],
    )?;
    row.map(|r| {
        let status: &str = r.get(0);
        let status = TriageStatus::parse(status).ok_or_else(|| {
            StoreError::Codec(format!("unknown triage status {status:?} for {id}"))
        })?;
        Ok(Triage {
            finding_id: id.to_string(),
            status,
            assignee: r.get(1),
            note: r.get(2),
            version: r.get(3),
            updated_at: r.get(4),
            updated_by: r.get(5),
        })
    })
    .transpose()
}

fn string_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_string())
}

fn parse_string_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}

/// Compile-time guarantee the store can be shared across threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<PgStore>();
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://gd:s3cret@db.example:5432/gdlens?sslmode=require"),
            "postgres://gd:***@db.example:5432/gdlens?sslmode=require"
        );
        assert_eq!(
            redact_url("postgresql://gd@db/gdlens?password=s3cret&x=1"),
            "postgresql://gd@db/gdlens?password=***&x=1"
        );
        assert_eq!(redact_url("postgres://db/gdlens"), "postgres://db/gdlens");
        assert!(!redact_url("postgres://u:p%40ss@h/d").contains("p%40ss"));
    }

    #[test]
    fn lease_keys_are_stable_and_distinct() {
        assert_eq!(lease_key("sync:us-east-1"), lease_key("sync:us-east-1"));
        assert_ne!(lease_key("sync:us-east-1"), lease_key("sync:eu-west-1"));
    }
}
