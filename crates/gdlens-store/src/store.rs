//! [`SqliteStore`]: the embedded backend's connections, transactions and every query.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{normalize, Finding, TriageStatus};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use serde_json::json;

use crate::codec::{
    train_into, Decoder, Dictionaries, EncodedFinding, Encoder, MIN_TRAIN_SAMPLES, TRAIN_SAMPLES,
};
use crate::error::StoreError;
use crate::model::{
    AuditEntry, FindingVersion, Investigation, NewFinding, StoredFinding, SyncStatus, TicketLink,
    Triage, TriageChange, UpsertOutcome, UpsertReport, Watermark,
};
use crate::schema::migrations;

/// The database file name inside the data directory.
pub const DB_FILE: &str = "gdlens.db";

/// Page size of new databases. Findings are rows of 2–3 KB and bulk imports write whole pages to
/// the WAL and again at checkpoints: 16 KiB pages cut the system time of a million-finding import
/// by about a third against 4 KiB (docs/benchmarks/import.md). The WAL auto-checkpoint stays at
/// SQLite's 1000 pages, i.e. 16 MiB.
const PAGE_SIZE: i64 = 16_384;

/// Read connections kept open for reuse.
const READ_POOL: usize = 4;

/// The embedded SQLite backend (reached through the [`crate::Store`] facade).
pub struct SqliteStore {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// `None` for an in-memory store: reads then go through the writer connection.
    path: Option<PathBuf>,
    /// Compression dictionaries (see `codec`): replaced whole when trained or reloaded.
    dictionaries: RwLock<Arc<Dictionaries>>,
    /// Training failed once in this process: do not retry on every batch.
    training_failed: AtomicBool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn now_ms() -> EpochMillis {
    chrono::Utc::now().timestamp_millis()
}

fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    // 64 MiB page cache: keeps the id indexes of a million findings hot during imports.
    conn.pragma_update(None, "cache_size", -65_536)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Re-normalizes a finding from its raw JSON (codec changed or blob unreadable).
fn renormalize(raw: &str) -> Result<Finding, StoreError> {
    let value: serde_json::Value =
        serde_json::from_str(raw).map_err(|e| StoreError::Codec(e.to_string()))?;
    normalize(&value).map_err(|e| StoreError::Codec(e.to_string()))
}

fn bump_generation(tx: &Transaction<'_>) -> Result<u64, StoreError> {
    let g: i64 = tx.query_row(
        "UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value",
        [],
        |r| r.get(0),
    )?;
    Ok(g as u64)
}

fn append_audit_tx(
    tx: &Transaction<'_>,
    finding_id: &str,
    at: EpochMillis,
    actor: &str,
    action: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO audit (finding_id, at, actor, action, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![finding_id, at, actor, action, detail.to_string()])?;
    Ok(())
}

fn ensure_known(tx: &Transaction<'_>, ids: &[String]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached("SELECT 1 FROM findings WHERE id = ?1")?;
    for id in ids {
        if !stmt.exists([id])? {
            return Err(StoreError::UnknownFinding(id.clone()));
        }
    }
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) `gdlens.db` under `data_dir` and applies pending migrations.
    pub fn open(data_dir: &Path) -> Result<SqliteStore, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.display().to_string(),
            source,
        })?;
        let path = data_dir.join(DB_FILE);
        let mut conn = Connection::open(&path)?;
        // Only takes effect on a new, empty database (before WAL is set); existing files keep theirs.
        conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        // WAL must be set before anything else writes; it persists in the file.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            tracing::warn!(mode, "SQLite refused WAL mode; continuing with {mode}");
        }
        configure(&conn)?;
        migrations().to_latest(&mut conn)?;
        let dictionaries = Dictionaries::load(&conn)?;
        tracing::debug!(path = %path.display(), "store opened");
        Ok(SqliteStore {
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            path: Some(path),
            dictionaries: RwLock::new(Arc::new(dictionaries)),
            training_failed: AtomicBool::new(false),
        })
    }

    /// Switches to a rollback journal for a bulk load when no other process has the store open.
    ///
    /// In WAL mode every page is written twice (to the WAL, then to the database at checkpoint); a
    /// bulk load mostly appends new pages, which a rollback journal writes once. Each batch stays
    /// one atomic transaction, so a kill leaves the store consistent (the next open rolls the hot
    /// journal back). Returns whether the switch happened; [`SqliteStore::end_bulk_load`] (and every
    /// [`SqliteStore::open`]) returns to WAL. With a reader elsewhere (a running server) SQLite refuses
    /// the switch and the load simply continues in WAL mode.
    pub fn begin_bulk_load(&self) -> Result<bool, StoreError> {
        if self.path.is_none() {
            return Ok(false);
        }
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mode: String = match conn.query_row("PRAGMA journal_mode = TRUNCATE", [], |r| r.get(0))
        {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(error = %e, "store in use elsewhere; bulk load stays in WAL mode");
                return Ok(false);
            }
        };
        Ok(mode.eq_ignore_ascii_case("truncate"))
    }

    /// Returns to WAL mode after [`SqliteStore::begin_bulk_load`].
    pub fn end_bulk_load(&self) -> Result<(), StoreError> {
        if self.path.is_none() {
            return Ok(());
        }
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        Ok(())
    }

    /// An in-memory store (tests, throwaway demos). Reads share the single connection.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let mut conn = Connection::open_in_memory()?;
        configure(&conn)?;
        migrations().to_latest(&mut conn)?;
        let dictionaries = Dictionaries::load(&conn)?;
        Ok(SqliteStore {
            writer: Mutex::new(conn),
            readers: Mutex::new(Vec::new()),
            path: None,
            dictionaries: RwLock::new(Arc::new(dictionaries)),
            training_failed: AtomicBool::new(false),
        })
    }

    /// The database file, `None` when in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Size of the database and its WAL on disk in bytes (`None` when in memory).
    pub fn size_bytes(&self) -> Option<u64> {
        let path = self.path.as_ref()?;
        let mut total = std::fs::metadata(path).ok()?.len();
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        total += std::fs::metadata(PathBuf::from(wal))
            .map(|m| m.len())
            .unwrap_or(0);
        Some(total)
    }

    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let out = f(&tx)?; // dropping `tx` on error rolls back
        tx.commit()?;
        Ok(out)
    }

    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let Some(path) = &self.path else {
            let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            return f(&conn);
        };
        let pooled = self.readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY
                        | OpenFlags::SQLITE_OPEN_NO_MUTEX
                        | OpenFlags::SQLITE_OPEN_URI,
                )?;
                configure_reader(&c)?;
                c
            }
        };
        let out = f(&conn);
        let mut pool = self.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < READ_POOL {
            pool.push(conn);
        }
        out
    }

    // ------------------------------------------------------------------ codecs

    fn current_dictionaries(&self) -> Arc<Dictionaries> {
        Arc::clone(&self.dictionaries.read().unwrap_or_else(|p| p.into_inner()))
    }

    /// An encoder with the store's current dictionaries (one per encoding thread; make a new one
    /// after [`SqliteStore::train_dictionaries`] to compress with them).
    pub fn encoder(&self) -> Encoder {
        Encoder::new(self.current_dictionaries())
    }

    /// Whether the store has its compression dictionaries.
    pub fn has_dictionaries(&self) -> bool {
        self.current_dictionaries().trained()
    }

    /// Trains the store's compression dictionaries on `samples` (a finding and its raw JSON)
    /// unless it has them. Returns whether it trained. Fewer than 200 samples train nothing;
    /// [`TRAIN_SAMPLES`] is plenty. The dictionaries are committed before this returns, so rows
    /// written with them can never outlive them.
    pub fn train_dictionaries(&self, samples: &[(&Finding, &str)]) -> Result<bool, StoreError> {
        if samples.len() < MIN_TRAIN_SAMPLES || self.has_dictionaries() {
            return Ok(false);
        }
        let started = std::time::Instant::now();
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        // Another process may have trained them since this store was opened: use theirs.
        let stored = Dictionaries::load(&conn)?;
        let trained_here = !stored.trained();
        let current = if trained_here {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            train_into(&tx, samples, now_ms())?;
            tx.commit()?;
            tracing::info!(
                samples = samples.len(),
                ms = started.elapsed().as_millis() as u64,
                "trained the store's compression dictionaries"
            );
            Dictionaries::load(&conn)?
        } else {
            stored
        };
        *self.dictionaries.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(current);
        Ok(trained_here)
    }

    /// After a commit while the store has no dictionaries: trains them on the latest stored
    /// findings once there are [`TRAIN_SAMPLES`] (paths that write small batches, like a sync).
    /// A failure is logged and not retried in this process; rows stay LZ4 meanwhile.
    fn train_from_stored_if_due(&self) {
        if self.training_failed.load(Ordering::Relaxed) || self.has_dictionaries() {
            return;
        }
        let result = (|| -> Result<bool, StoreError> {
            let samples: Vec<(Finding, String)> = self.read(|c| {
                let stored: i64 = c.query_row("SELECT count(*) FROM findings", [], |r| r.get(0))?;
                if (stored as usize) < TRAIN_SAMPLES {
                    return Ok(Vec::new());
                }
                let mut decoder = Decoder::new(&self.dictionaries);
                let mut stmt = c.prepare(
                    "SELECT v.raw_codec, v.raw FROM findings f JOIN finding_versions v ON v.id = f.version_id
                     ORDER BY f.key DESC LIMIT ?1",
                )?;
                let mut rows = stmt.query([TRAIN_SAMPLES as i64])?;
                let mut out = Vec::with_capacity(TRAIN_SAMPLES);
                while let Some(row) = rows.next()? {
                    let raw = decoder.raw_column(c, row, 0, 1)?;
                    out.push((renormalize(&raw)?, raw));
                }
                Ok(out)
            })?;
            if samples.is_empty() {
                return Ok(false);
            }
            let refs: Vec<(&Finding, &str)> =
                samples.iter().map(|(f, r)| (f, r.as_str())).collect();
            self.train_dictionaries(&refs)
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, code = e.code(), "could not train compression dictionaries; rows stay LZ4-compressed");
            self.training_failed.store(true, Ordering::Relaxed);
        }
    }

    // ------------------------------------------------------------------ findings

    /// Upserts a batch in one transaction (see [`SqliteStore::upsert_batch_with_watermark`]).
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
        let mut encoder = self.encoder();
        let encoded = batch
            .iter()
            .map(|n| encoder.encode(&n.finding, &n.raw, n.source.clone()))
            .collect::<Result<Vec<_>, _>>()?;
        let (mut report, changed) = self.upsert_encoded(&encoded, watermark, true)?;
        report.changed = changed
            .into_iter()
            .map(|i| batch[i].finding.clone())
            .collect();
        self.train_from_stored_if_due();
        Ok(report)
    }

    /// Upserts findings encoded beforehand (bulk imports): same rules as
    /// [`SqliteStore::upsert_batch_with_watermark`], but [`UpsertReport::changed`] is left empty.
    pub fn upsert_encoded_batch(
        &self,
        batch: &[EncodedFinding],
    ) -> Result<UpsertReport, StoreError> {
        let (report, _) = self.upsert_encoded(batch, None, false)?;
        self.train_from_stored_if_due();
        Ok(report)
    }

    /// The upsert; with `collect_changed` also returns the batch index of the latest record of
    /// each finding whose latest version changed.
    fn upsert_encoded(
        &self,
        batch: &[EncodedFinding],
        watermark: Option<&Watermark>,
        collect_changed: bool,
    ) -> Result<(UpsertReport, Vec<usize>), StoreError> {
        if let Some(i) = batch.iter().position(|r| r.head.id.is_empty()) {
            return Err(StoreError::InvalidInput(format!(
                "record {i} of the batch has an empty finding id"
            )));
        }
        let now = now_ms();
        self.write(|tx| {
            let mut report = UpsertReport { outcomes: Vec::with_capacity(batch.len()), ..Default::default() };
            let mut changed: HashMap<&str, usize> = HashMap::new();
            // Webhook outbox: the first outcome of each finding in the batch (created wins).
            let mut outbox: HashMap<&str, &'static str> = HashMap::new();
            // Keys are handed out in insertion order, so versions of new findings append at the
            // end of the (finding_key, updated_at) index.
            let mut next_key: i64 = tx.query_row("SELECT coalesce(max(key), 0) + 1 FROM findings", [], |r| r.get(0))?;
            let mut current_stmt = tx.prepare_cached("SELECT key, updated_at FROM findings WHERE id = ?1")?;
            let mut version_stmt = tx.prepare_cached(
                "INSERT INTO finding_versions (finding_key, updated_at, count, severity, archived, imported_at, source,
                                               raw_codec, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (finding_key, updated_at) DO NOTHING",
            )?;
            let mut insert_stmt = tx.prepare_cached(
                "INSERT INTO findings (key, id, version_id, updated_at, account_id, region, finding_type, severity,
                                       archived, first_imported_at, last_imported_at, source, codec, normalized)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, ?11, ?12, ?13)",
            )?;
            let mut update_stmt = tx.prepare_cached(
                "UPDATE findings SET version_id = ?3, updated_at = ?4, account_id = ?5, region = ?6, finding_type = ?7,
                                     severity = ?8, archived = ?9, last_imported_at = ?10, source = ?11, codec = ?12,
                                     normalized = ?13
                 WHERE key = ?1",
            )?;
            for (i, rec) in batch.iter().enumerate() {
                let f = &rec.head;
                let current: Option<(i64, i64)> =
                    current_stmt.query_row([&f.id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
                let is_newer = current.is_none_or(|(_, c)| f.updated_at > c);
                if current.is_some_and(|(_, c)| c == f.updated_at) {
                    report.outcomes.push(UpsertOutcome::Unchanged);
                    report.unchanged += 1;
                    continue;
                }
                let key = current.map_or(next_key, |(k, _)| k);
                let version_params = params![
                    key,
                    f.updated_at,
                    f.count as i64,
                    f.severity,
                    f.archived,
                    now,
                    rec.source,
                    rec.raw_codec,
                    rec.raw
                ];
                let wrote = version_stmt.execute(version_params)?;
                if !is_newer {
                    // Older than the latest: history only.
                    report.outcomes.push(UpsertOutcome::Unchanged);
                    report.unchanged += 1;
                    continue;
                }
                debug_assert_eq!(wrote, 1, "a newer version cannot already be stored");
                let version_id = tx.last_insert_rowid();
                let row = params![
                    key,
                    f.id,
                    version_id,
                    f.updated_at,
                    f.account_id,
                    f.region,
                    f.finding_type,
                    f.severity,
                    f.archived,
                    now,
                    rec.source,
                    rec.codec,
                    rec.normalized
                ];
                if current.is_none() {
                    insert_stmt.execute(row)?;
                    next_key += 1;
                    report.outcomes.push(UpsertOutcome::Inserted);
                    report.inserted += 1;
                    outbox.entry(f.id.as_str()).or_insert(crate::outbox::EVENT_FINDING_CREATED);
                } else {
                    update_stmt.execute(row)?;
                    report.outcomes.push(UpsertOutcome::Updated);
                    report.updated += 1;
                    outbox.entry(f.id.as_str()).or_insert(crate::outbox::EVENT_FINDING_UPDATED);
                }
                if collect_changed {
                    changed.insert(f.id.as_str(), i);
                }
            }
            if !outbox.is_empty() && crate::outbox::sqlite_enabled(tx)? {
                let mut events: Vec<(&str, &str, serde_json::Value)> =
                    outbox.into_iter().map(|(id, kind)| (kind, id, json!({}))).collect();
                events.sort_unstable_by(|a, b| a.1.cmp(b.1));
                crate::outbox::sqlite_append(tx, &events, now)?;
            }
            if let Some(w) = watermark {
                tx.prepare_cached(
                    "INSERT INTO sync_watermarks (region, detector_id, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (region, detector_id) DO UPDATE SET updated_at = max(updated_at, excluded.updated_at)",
                )?
                .execute(params![w.region, w.detector_id, w.updated_at_ms])?;
            }
            let mut changed: Vec<usize> = changed.into_values().collect();
            changed.sort_unstable();
            report.generation = if report.inserted + report.updated == 0 && watermark.is_none() {
                current_generation(tx)?
            } else {
                bump_generation(tx)?
            };
            Ok((report, changed))
        })
    }

    /// Bumps on every committed change of findings, triage, tickets or archive state.
    pub fn generation(&self) -> Result<u64, StoreError> {
        self.read(current_generation)
    }

    /// Number of findings (latest versions).
    pub fn count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM findings", [], |r| r.get::<_, i64>(0))? as u64)
        })
    }

    /// Number of stored versions over all findings.
    pub fn version_count(&self) -> Result<u64, StoreError> {
        self.read(|c| {
            Ok(
                c.query_row("SELECT count(*) FROM finding_versions", [], |r| {
                    r.get::<_, i64>(0)
                })? as u64,
            )
        })
    }

    /// Calls `f` with the latest version of every finding (local archived state applied), in
    /// insertion order. Decodes the compact form; never re-parses JSON unless the codec changed.
    pub fn scan_latest(&self, mut f: impl FnMut(Finding)) -> Result<(), StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT codec, normalized, archived, version_id FROM findings ORDER BY key",
            )?;
            let mut rows = stmt.query([])?;
            let mut decoder = Decoder::new(&self.dictionaries);
            let mut stale = Vec::new();
            while let Some(row) = rows.next()? {
                let codec: i64 = row.get(0)?;
                let blob = row
                    .get_ref(1)?
                    .as_blob()
                    .map_err(|e| StoreError::Codec(e.to_string()))?;
                let archived: bool = row.get(2)?;
                match decoder.finding(c, codec, blob) {
                    Some(mut finding) => {
                        finding.archived = archived;
                        f(finding);
                    }
                    None => stale.push((row.get::<_, i64>(3)?, archived)),
                }
            }
            if !stale.is_empty() {
                tracing::info!(
                    rows = stale.len(),
                    "re-normalizing findings stored with an older codec"
                );
                let mut raw_stmt =
                    c.prepare_cached("SELECT raw_codec, raw FROM finding_versions WHERE id = ?1")?;
                for (version_id, archived) in stale {
                    let raw =
                        raw_stmt.query_row([version_id], |r| decoder.raw_column(c, r, 0, 1))?;
                    let mut finding = renormalize(&raw)?;
                    finding.archived = archived;
                    f(finding);
                }
            }
            Ok(())
        })
    }

    /// Calls `f(finding, raw JSON)` with the latest version of every finding, in insertion order,
    /// streaming: one sequential scan of `findings` joined to each row's version (what an NDJSON
    /// export reads: a filter on the finding, then its original JSON, without a lookup per id).
    /// A row stored with an older codec is re-normalized from the raw JSON at hand. `f` returns
    /// `false` to stop early.
    pub fn scan_latest_with_raw(
        &self,
        mut f: impl FnMut(Finding, &str) -> bool,
    ) -> Result<(), StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT f.codec, f.normalized, f.archived, v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id ORDER BY f.key",
            )?;
            let mut rows = stmt.query([])?;
            let mut decoder = Decoder::new(&self.dictionaries);
            while let Some(row) = rows.next()? {
                let raw = decoder.raw_column(c, row, 3, 4)?;
                let codec: i64 = row.get(0)?;
                let blob = row
                    .get_ref(1)?
                    .as_blob()
                    .map_err(|e| StoreError::Codec(e.to_string()))?;
                let mut finding = match decoder.finding(c, codec, blob) {
                    Some(finding) => finding,
                    None => renormalize(&raw)?,
                };
                finding.archived = row.get(2)?;
                if !f(finding, &raw) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// Calls `f(id, raw JSON)` with the latest version of every finding, in insertion order,
    /// streaming (one row decoded at a time; no normalized finding is decoded). What a dry run
    /// over the whole history reads. `f` returns `false` to stop early.
    pub fn scan_latest_raw(&self, mut f: impl FnMut(&str, &str) -> bool) -> Result<(), StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT f.id, v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id ORDER BY f.key",
            )?;
            let mut rows = stmt.query([])?;
            let mut decoder = Decoder::new(&self.dictionaries);
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                let raw = decoder.raw_column(c, row, 1, 2)?;
                if !f(&id, &raw) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// Every latest finding as a vector (convenience over [`SqliteStore::scan_latest`]).
    pub fn latest_findings(&self) -> Result<Vec<Finding>, StoreError> {
        let mut out = Vec::new();
        self.scan_latest(|f| out.push(f))?;
        Ok(out)
    }

    /// Latest normalized version of each known id, in the order asked; unknown ids are skipped.
    /// Cheaper than [`SqliteStore::get_findings`]: the raw JSON is not read unless the stored row needs
    /// re-normalizing. The API reads finding details through this on demand, a page at a time.
    pub fn latest_by_id(&self, ids: &[String]) -> Result<Vec<Finding>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT codec, normalized, archived, version_id FROM findings WHERE id = ?1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            let mut decoder = Decoder::new(&self.dictionaries);
            for id in ids {
                let row = stmt
                    .query_row([id], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, bool>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })
                    .optional()?;
                let Some((codec, blob, archived, version_id)) = row else {
                    continue;
                };
                let mut finding = match decoder.finding(c, codec, &blob) {
                    Some(f) => f,
                    None => {
                        let raw = c
                            .prepare_cached(
                                "SELECT raw_codec, raw FROM finding_versions WHERE id = ?1",
                            )?
                            .query_row([version_id], |r| decoder.raw_column(c, r, 0, 1))?;
                        renormalize(&raw)?
                    }
                };
                finding.archived = archived;
                out.push(finding);
            }
            Ok(out)
        })
    }

    /// The raw JSON of the latest version of each known id, in the order asked; unknown ids are
    /// skipped. Reads and decompresses only the raw column (no finding is decoded): what an
    /// NDJSON export and the `raw` field need.
    pub fn latest_raw(&self, ids: &[String]) -> Result<Vec<(String, String)>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id WHERE f.id = ?1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            let mut decoder = Decoder::new(&self.dictionaries);
            for id in ids {
                let raw = stmt
                    .query_row([id], |r| decoder.raw_column(c, r, 0, 1))
                    .optional()?;
                if let Some(raw) = raw {
                    out.push((id.clone(), raw));
                }
            }
            Ok(out)
        })
    }

    /// Latest version with raw JSON of each known id, in the order asked; unknown ids are skipped.
    pub fn get_findings(&self, ids: &[String]) -> Result<Vec<StoredFinding>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT f.codec, f.normalized, f.archived, f.first_imported_at, f.last_imported_at, f.source,
                        v.raw_codec, v.raw
                 FROM findings f JOIN finding_versions v ON v.id = f.version_id WHERE f.id = ?1",
            )?;
            let mut out = Vec::with_capacity(ids.len());
            let mut decoder = Decoder::new(&self.dictionaries);
            for id in ids {
                let row = stmt
                    .query_row([id], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, Vec<u8>>(1)?,
                            r.get::<_, bool>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, i64>(4)?,
                            r.get::<_, String>(5)?,
                            decoder.raw_column(c, r, 6, 7)?,
                        ))
                    })
                    .optional()?;
                if let Some((codec, blob, archived, first, last, source, raw)) = row {
                    let mut finding = match decoder.finding(c, codec, &blob) {
                        Some(f) => f,
                        None => renormalize(&raw)?,
                    };
                    finding.archived = archived;
                    out.push(StoredFinding {
                        finding,
                        raw,
                        first_imported_at: first,
                        last_imported_at: last,
                        source,
                    });
                }
            }
            Ok(out)
        })
    }

    /// Every stored version of a finding, oldest `updatedAt` first (empty if unknown).
    pub fn versions(&self, id: &str) -> Result<Vec<FindingVersion>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT v.updated_at, v.count, v.severity, v.archived, v.imported_at, v.source, v.raw_codec, v.raw,
                        v.id = f.version_id
                 FROM findings f JOIN finding_versions v ON v.finding_key = f.key
                 WHERE f.id = ?1 ORDER BY v.updated_at",
            )?;
            let mut decoder = Decoder::new(&self.dictionaries);
            let rows = stmt.query_map([id], |r| {
                Ok(FindingVersion {
                    updated_at: r.get(0)?,
                    count: r.get::<_, i64>(1)? as u64,
                    severity: r.get(2)?,
                    archived: r.get(3)?,
                    imported_at: r.get(4)?,
                    source: r.get(5)?,
                    raw: decoder.raw_column(c, r, 6, 7)?,
                    is_latest: r.get::<_, Option<bool>>(8)?.unwrap_or(false),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    /// Sets the local archived state (after a GuardDuty write-back), with an audit entry per
    /// finding whose state changed. Unknown ids reject the whole call.
    pub fn set_archived(
        &self,
        ids: &[String],
        archived: bool,
        actor: &str,
    ) -> Result<u64, StoreError> {
        let now = now_ms();
        self.write(|tx| {
            ensure_known(tx, ids)?;
            let mut stmt = tx.prepare_cached(
                "UPDATE findings SET archived = ?2 WHERE id = ?1 AND archived != ?2",
            )?;
            let mut changed = 0;
            for id in ids {
                if stmt.execute(params![id, archived])? == 1 {
                    changed += 1;
                    let action = if archived { "archive" } else { "unarchive" };
                    append_audit_tx(tx, id, now, actor, action, &json!({ "archived": archived }))?;
                }
            }
            if changed > 0 {
                bump_generation(tx)?;
            }
            Ok(changed)
        })
    }

    // ------------------------------------------------------------------ triage

    /// Applies one triage change to every id atomically, with an audit entry each. With
    /// `expected_version`, any id whose stored version differs (0 = never triaged) rejects the
    /// whole call with [`StoreError::StaleVersion`]; nothing is written.
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
        self.write(|tx| {
            ensure_known(tx, ids)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let current = triage_row(tx, id)?;
                let actual = current.as_ref().map_or(0, |t| t.version);
                if let Some(expected) = expected_version {
                    if expected != actual {
                        return Err(StoreError::StaleVersion { finding_id: id.clone(), expected, actual });
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
                    assignee: keep_or(&change.assignee, current.as_ref().and_then(|t| t.assignee.as_ref())),
                    note: keep_or(&change.note, current.as_ref().and_then(|t| t.note.as_ref())),
                    version: actual + 1,
                    updated_at: now,
                    updated_by: actor.to_string(),
                };
                tx.prepare_cached(
                    "INSERT INTO triage (finding_id, status, assignee, note, version, updated_at, updated_by)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                     ON CONFLICT (finding_id) DO UPDATE SET status = excluded.status, assignee = excluded.assignee,
                        note = excluded.note, version = excluded.version, updated_at = excluded.updated_at,
                        updated_by = excluded.updated_by",
                )?
                .execute(params![
                    next.finding_id,
                    next.status.as_str(),
                    next.assignee,
                    next.note,
                    next.version,
                    next.updated_at,
                    next.updated_by
                ])?;
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
            if crate::outbox::sqlite_enabled(tx)? {
                let events = triage_events(&out, actor);
                let refs: Vec<(&str, &str, serde_json::Value)> =
                    events.iter().map(|(id, d)| (crate::outbox::EVENT_TRIAGE_CHANGED, id.as_str(), d.clone())).collect();
                crate::outbox::sqlite_append(tx, &refs, now)?;
            }
            bump_generation(tx)?;
            Ok(out)
        })
    }

    /// Triage state of the ids that were ever triaged, in the order asked.
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

    /// Status of every triaged finding (for the in-memory index).
    pub fn all_triage(&self) -> Result<Vec<(String, TriageStatus)>, StoreError> {
        self.read(|c| {
            let mut stmt =
                c.prepare("SELECT finding_id, status FROM triage ORDER BY finding_id")?;
            let rows =
                stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, status) = row?;
                let status = TriageStatus::parse(&status).ok_or_else(|| {
                    StoreError::Codec(format!("unknown triage status {status:?} for {id}"))
                })?;
                out.push((id, status));
            }
            Ok(out)
        })
    }

    // ------------------------------------------------------------------ tickets and audit

    /// Links a ticket to each finding (idempotent: finding + system + key is one link; a new URL
    /// replaces the old). Audit entries only for new links or changed URLs.
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
        self.write(|tx| {
            ensure_known(tx, ids)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let before: Option<Option<String>> = tx
                    .prepare_cached("SELECT url FROM ticket_links WHERE finding_id = ?1 AND system = ?2 AND key = ?3")?
                    .query_row(params![id, system, key], |r| r.get(0))
                    .optional()?;
                let url_now = url.map(str::to_string).or_else(|| before.clone().flatten());
                let link = tx
                    .prepare_cached(
                        "INSERT INTO ticket_links (finding_id, system, key, url, created_at, created_by, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5)
                         ON CONFLICT (finding_id, system, key) DO UPDATE SET url = excluded.url, updated_at = excluded.updated_at
                         RETURNING created_at, created_by",
                    )?
                    .query_row(params![id, system, key, url_now, now, actor], |r| {
                        Ok(TicketLink {
                            finding_id: id.clone(),
                            system: system.to_string(),
                            key: key.to_string(),
                            url: url_now.clone(),
                            created_at: r.get(0)?,
                            created_by: r.get(1)?,
                        })
                    })?;
                let is_change = match &before {
                    None => true,
                    Some(old) => *old != url_now,
                };
                if is_change {
                    let detail = json!({ "system": system, "key": key, "url": url_now, "new": before.is_none() });
                    append_audit_tx(tx, id, now, actor, "link_ticket", &detail)?;
                }
                out.push(link);
            }
            bump_generation(tx)?;
            Ok(out)
        })
    }

    /// Ticket links of the ids, grouped by finding in the order asked.
    pub fn ticket_links(&self, ids: &[String]) -> Result<Vec<TicketLink>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT system, key, url, created_at, created_by FROM ticket_links WHERE finding_id = ?1
                 ORDER BY created_at, system, key",
            )?;
            let mut out = Vec::new();
            for id in ids {
                let rows = stmt.query_map([id], |r| {
                    Ok(TicketLink {
                        finding_id: id.clone(),
                        system: r.get(0)?,
                        key: r.get(1)?,
                        url: r.get(2)?,
                        created_at: r.get(3)?,
                        created_by: r.get(4)?,
                    })
                })?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
    }

    /// Appends an audit entry per finding for a caller-defined action (e.g. `feedback`).
    pub fn append_audit(
        &self,
        ids: &[String],
        actor: &str,
        action: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StoreError> {
        let now = now_ms();
        self.write(|tx| {
            for id in ids {
                append_audit_tx(tx, id, now, actor, action, detail)?;
            }
            Ok(())
        })
    }

    /// The audit trail of a finding, oldest first.
    pub fn audit(&self, id: &str) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT at, actor, action, detail FROM audit WHERE finding_id = ?1 ORDER BY id",
            )?;
            let rows = stmt.query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (at, actor, action, detail) = row?;
                let detail =
                    serde_json::from_str(&detail).map_err(|e| StoreError::Codec(e.to_string()))?;
                out.push(AuditEntry {
                    finding_id: id.to_string(),
                    at,
                    actor,
                    action,
                    detail,
                });
            }
            Ok(out)
        })
    }

    // ------------------------------------------------------------------ sync state

    /// The watermark of a region/detector (newest `updatedAt` fully stored), if any.
    pub fn watermark(
        &self,
        region: &str,
        detector_id: &str,
    ) -> Result<Option<EpochMillis>, StoreError> {
        self.read(|c| {
            Ok(c.query_row(
                "SELECT updated_at FROM sync_watermarks WHERE region = ?1 AND detector_id = ?2",
                params![region, detector_id],
                |r| r.get(0),
            )
            .optional()?)
        })
    }

    /// Records the sync status of a region/detector (replaces the previous one).
    pub fn set_sync_status(&self, status: &SyncStatus) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sync_status (region, detector_id, last_attempt_at, last_success_at, last_error_code,
                                          last_error_message, findings_synced)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                 ON CONFLICT (region, detector_id) DO UPDATE SET last_attempt_at = excluded.last_attempt_at,
                    last_success_at = excluded.last_success_at, last_error_code = excluded.last_error_code,
                    last_error_message = excluded.last_error_message, findings_synced = excluded.findings_synced",
                params![
                    status.region,
                    status.detector_id.as_deref().unwrap_or(""),
                    status.last_attempt_at,
                    status.last_success_at,
                    status.last_error_code,
                    status.last_error_message,
                    status.findings_synced as i64
                ],
            )?;
            Ok(())
        })
    }

    /// Sync status of every region/detector, by region.
    pub fn sync_statuses(&self) -> Result<Vec<SyncStatus>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT region, detector_id, last_attempt_at, last_success_at, last_error_code, last_error_message,
                        findings_synced
                 FROM sync_status ORDER BY region, detector_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(SyncStatus {
                    region: r.get(0)?,
                    detector_id: Some(r.get::<_, String>(1)?).filter(|d| !d.is_empty()),
                    last_attempt_at: r.get(2)?,
                    last_success_at: r.get(3)?,
                    last_error_code: r.get(4)?,
                    last_error_message: r.get(5)?,
                    findings_synced: r.get::<_, i64>(6)? as u64,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    // ------------------------------------------------------------------ detective

    /// Replaces every stored Detective investigation with `list`, atomically.
    pub fn replace_investigations(&self, list: &[Investigation]) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute("DELETE FROM investigations", [])?;
            let mut stmt = tx.prepare_cached(
                "INSERT OR REPLACE INTO investigations (graph_arn, investigation_id, entity_arn, entity_type, status,
                    severity, state, created_at, scope_start, scope_end, indicators_json,
                    related_finding_ids, related_finding_group_ids)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )?;
            for i in list {
                stmt.execute(params![
                    i.graph_arn,
                    i.investigation_id,
                    i.entity_arn,
                    i.entity_type,
                    i.status,
                    i.severity,
                    i.state,
                    i.created_at,
                    i.scope_start,
                    i.scope_end,
                    i.indicators_json,
                    string_list(&i.related_finding_ids),
                    string_list(&i.related_finding_group_ids)
                ])?;
            }
            bump_generation(tx)?;
            Ok(())
        })
    }

    /// Every stored Detective investigation, newest first.
    pub fn investigations(&self) -> Result<Vec<Investigation>, StoreError> {
        self.read(|c| {
            let mut stmt = c.prepare(
                "SELECT graph_arn, investigation_id, entity_arn, entity_type, status, severity, state, created_at,
                        scope_start, scope_end, indicators_json, related_finding_ids,
                        related_finding_group_ids
                 FROM investigations ORDER BY created_at DESC, investigation_id",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Investigation {
                    graph_arn: r.get(0)?,
                    investigation_id: r.get(1)?,
                    entity_arn: r.get(2)?,
                    entity_type: r.get(3)?,
                    status: r.get(4)?,
                    severity: r.get(5)?,
                    state: r.get(6)?,
                    created_at: r.get(7)?,
                    scope_start: r.get(8)?,
                    scope_end: r.get(9)?,
                    indicators_json: r.get(10)?,
                    related_finding_ids: parse_string_list(&r.get::<_, String>(11)?),
                    related_finding_group_ids: parse_string_list(&r.get::<_, String>(12)?),
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    // ------------------------------------------------------------------ local state

    /// Stores a JSON value under `key` (replacing any previous one).
    pub fn put_state(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO local_state (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                params![key, value.to_string()],
            )?;
            Ok(())
        })
    }

    /// The JSON value stored under `key`.
    pub fn get_state(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.read(|c| {
            let text: Option<String> = c
                .query_row("SELECT value FROM local_state WHERE key = ?1", [key], |r| {
                    r.get(0)
                })
                .optional()?;
            text.map(|t| serde_json::from_str(&t).map_err(|e| StoreError::Codec(e.to_string())))
                .transpose()
        })
    }

    /// `PRAGMA integrity_check` plus gdlens's own invariants (every latest row points at a stored
    /// version of the same id and `updatedAt`). Returns the problems found (empty = consistent).
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        self.read(|c| {
            let mut problems = Vec::new();
            let mut stmt = c.prepare("PRAGMA integrity_check")?;
            for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
                let row = row?;
                if row != "ok" {
                    problems.push(row);
                }
            }
            let dangling: i64 = c.query_row(
                "SELECT count(*) FROM findings f LEFT JOIN finding_versions v ON v.id = f.version_id
                 WHERE v.id IS NULL OR v.finding_key != f.key OR v.updated_at != f.updated_at",
                [],
                |r| r.get(0),
            )?;
            if dangling > 0 {
                problems.push(format!(
                    "{dangling} latest rows do not match their version row"
                ));
            }
            let orphans: i64 = c.query_row(
                "SELECT count(*) FROM (SELECT DISTINCT finding_key FROM finding_versions) v
                 LEFT JOIN findings f ON f.key = v.finding_key WHERE f.key IS NULL",
                [],
                |r| r.get(0),
            )?;
            if orphans > 0 {
                problems.push(format!(
                    "{orphans} finding ids have versions but no latest row"
                ));
            }
            Ok(problems)
        })
    }
}

fn configure_reader(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "cache_size", -16_384)?;
    Ok(())
}

fn current_generation(c: &Connection) -> Result<u64, StoreError> {
    Ok(
        c.query_row("SELECT value FROM meta WHERE key = 'generation'", [], |r| {
            r.get::<_, i64>(0)
        })? as u64,
    )
}

fn triage_row(c: &Connection, id: &str) -> Result<Option<Triage>, StoreError> {
    let row = c
        .prepare_cached(
            "SELECT status, assignee, note, version, updated_at, updated_by FROM triage WHERE finding_id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, Option<String>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .optional()?;
    row.map(
        |(status, assignee, note, version, updated_at, updated_by)| {
            let status = TriageStatus::parse(&status).ok_or_else(|| {
                StoreError::Codec(format!("unknown triage status {status:?} for {id}"))
            })?;
            Ok(Triage {
                finding_id: id.to_string(),
                status,
                assignee,
                note,
                version,
                updated_at,
                updated_by,
            })
        },
    )
    .transpose()
}

/// Compile-time guarantee the store can be shared across threads.
const _: fn() = || {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SqliteStore>();
};

/// The outbox detail of each triage change (both backends).
pub(crate) fn triage_events(out: &[Triage], actor: &str) -> Vec<(String, serde_json::Value)> {
    out.iter()
        .map(|t| {
            (
                t.finding_id.clone(),
                json!({ "status": t.status.as_str(), "assignee": t.assignee, "note": t.note, "version": t.version, "actor": actor }),
            )
        })
        .collect()
}

/// A list of strings as stored (a JSON array).
fn string_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_string())
}

/// The stored JSON array back; anything unreadable is an empty list (the ids are a cache of
/// what the raw indicators say).
fn parse_string_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}
