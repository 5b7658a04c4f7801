//! `gdlens import`: reads findings in every GuardDuty shape and upserts them into the store.
//!
//! A pipeline: one thread reads and normalizes (gdlens-import), one per core encodes and
//! compresses, one writes batches, each batch one SQLite transaction (gdlens-store); bounded
//! channels between them keep memory flat. See [`import_paths`].

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;

use anyhow::Context;
use gdlens_import::{read_inputs, ImportItem, ImportRecord, Reject};
use gdlens_store::{EncodedFinding, Encoder, Store, StoreError, TRAIN_SAMPLES};
use serde::Serialize;

/// Rejects kept for the report; beyond this only the count grows (memory must stay flat).
const MAX_REPORTED_REJECTS: usize = 100_000;

/// Records the reader hands to an encoder at a time: small, so lots in flight stay a few MB.
const RECORDS_PER_LOT: usize = 500;

/// Lots in flight into and out of each encoder.
const LOTS_IN_FLIGHT: usize = 4;

/// Encoder threads at most (one per core up to this).
const MAX_ENCODERS: usize = 4;

/// Exit status when some input was rejected (everything valid was still imported).
pub const EXIT_REJECTED: i32 = 2;

/// Arguments of `gdlens import`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 when nothing was rejected, 2 when some input was rejected \
(all valid findings are still imported), 1 on a store or usage error."
)]
pub struct Args {
    #[command(flatten)]
    pub data_dir: super::DataDir,
    /// Print exactly one JSON object on stdout instead of the human summary.
    #[arg(long)]
    pub json: bool,
    /// Findings per SQLite transaction.
    #[arg(long, default_value_t = 25_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch_size: u64,
    /// Encoder threads (compression); default: one per core beyond the reader and writer.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=16))]
    pub encoders: Option<u64>,
    /// Files, directories (walked recursively), `.gz` files, or `-` for stdin.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
}

/// What an import did: the `--json` output.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct ImportSummary {
    /// Findings read (valid records): `inserted + updated + unchanged`.
    pub read: u64,
    /// New finding ids.
    pub inserted: u64,
    /// Newer versions that replaced the latest one (the previous version is kept).
    pub updated: u64,
    /// Same or older versions (nothing current changed).
    pub unchanged: u64,
    /// Rejected records or documents.
    pub rejected: u64,
    /// The rejects (at most 100,000 listed; `rejected` is always the full count).
    pub rejects: Vec<Reject>,
}

/// Runs `gdlens import`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let store = args.data_dir.open_store(None)?;
    let started = std::time::Instant::now();
    let bulk = store
        .begin_bulk_load()
        .context("preparing the store for a bulk load")?;
    tracing::debug!(bulk, "rollback journal for the bulk load");
    let encoders = args.encoders.map(|n| n as usize);
    let result = import_paths(&store, args.paths, args.batch_size as usize, encoders);
    if bulk {
        store
            .end_bulk_load()
            .context("returning the store to WAL mode")?;
    }
    let summary = result?;
    let elapsed = started.elapsed().as_secs_f64();
    tracing::info!(
        read = summary.read,
        inserted = summary.inserted,
        updated = summary.updated,
        unchanged = summary.unchanged,
        rejected = summary.rejected,
        seconds = elapsed,
        "import finished"
    );
    let mut stdout = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut stdout, &summary)?;
        writeln!(stdout)?;
    } else {
        let mut stderr = std::io::stderr().lock();
        for r in &summary.rejects {
            writeln!(
                stderr,
                "rejected {}:{}: [{}] {}",
                r.source, r.line, r.code, r.reason
            )?;
        }
        if summary.rejected as usize > summary.rejects.len() {
            writeln!(
                stderr,
                "… and {} more rejects",
                summary.rejected as usize - summary.rejects.len()
            )?;
        }
        let rate = if elapsed > 0.0 {
            summary.read as f64 / elapsed
        } else {
            0.0
        };
        writeln!(
            stdout,
            "read {} findings: {} inserted, {} updated, {} unchanged, {} rejected ({:.1}s, {:.0}/s)",
            summary.read, summary.inserted, summary.updated, summary.unchanged, summary.rejected, elapsed, rate
        )?;
    }
    stdout.flush()?;
    if summary.rejected > 0 {
        std::process::exit(EXIT_REJECTED);
    }
    Ok(())
}

/// Imports `paths` on a pipeline of threads joined by bounded channels, so memory stays flat and
/// the stages overlap on every core (docs/benchmarks/import.md):
/// 1. the reader parses and normalizes (gdlens-import) and deals the records out in lots, in
///    turn, to the encoders; a store without compression dictionaries first gets them trained
///    on the first [`TRAIN_SAMPLES`] records;
/// 2. the encoders (one per core) compress and encode their lots (gdlens-store's [`Encoder`]);
/// 3. this thread takes the encoded lots back in the order they were dealt, so records are
///    applied in input order, and writes batches of `batch_size`, each one SQLite transaction.
///
/// A failing stage stops the others: dropping a channel end fails the sends and receives that
/// feed it.
pub fn import_paths(
    store: &Store,
    paths: Vec<PathBuf>,
    batch_size: usize,
    encoders: Option<usize>,
) -> anyhow::Result<ImportSummary> {
    let encoders = encoders.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1).clamp(1, MAX_ENCODERS))
    });
    let (to_encoders, from_reader): (Vec<_>, Vec<_>) = (0..encoders)
        .map(|_| mpsc::sync_channel::<Vec<ImportRecord>>(LOTS_IN_FLIGHT))
        .unzip();
    // The writer takes no lots while it commits a batch: the encoders can run two batches ahead.
    let writer_backlog = (2 * batch_size / RECORDS_PER_LOT / encoders).max(LOTS_IN_FLIGHT);
    let (to_writer, from_encoders): (Vec<_>, Vec<_>) = (0..encoders)
        .map(|_| mpsc::sync_channel::<Vec<EncodedFinding>>(writer_backlog))
        .unzip();
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("import-reader".into())
            .spawn_scoped(scope, move || read(store, &paths, to_encoders))?;
        let mut workers = Vec::with_capacity(encoders);
        for (i, (rx, tx)) in from_reader.into_iter().zip(to_writer).enumerate() {
            workers.push(
                std::thread::Builder::new()
                    .name(format!("import-encoder-{i}"))
                    .spawn_scoped(scope, move || encode(store, rx, tx))?,
            );
        }

        let mut summary = ImportSummary::default();
        let mut failure = None;
        let mut batch: Vec<EncodedFinding> = Vec::with_capacity(batch_size);
        let mut write = |batch: &mut Vec<EncodedFinding>| -> Result<(), StoreError> {
            let report = store.upsert_encoded_batch(batch)?;
            summary.read += batch.len() as u64;
            summary.inserted += report.inserted;
            summary.updated += report.updated;
            summary.unchanged += report.unchanged;
            batch.clear();
            Ok(())
        };
        // Lot n went to encoder n % encoders; the first closed channel in that order is the end.
        for next in (0..encoders).cycle() {
            let Ok(lot) = from_encoders[next].recv() else {
                break;
            };
            batch.extend(lot);
            if batch.len() >= batch_size {
                if let Err(e) = write(&mut batch) {
                    failure = Some(e);
                    break;
                }
            }
        }
        if failure.is_none() && !batch.is_empty() {
            failure = write(&mut batch).err();
        }
        drop(from_encoders);
        let mut encode_failure = None;
        for worker in workers {
            let result = worker
                .join()
                .map_err(|_| anyhow::anyhow!("an import encoder thread panicked"))?;
            encode_failure = encode_failure.or(result.err());
        }
        let read = reader
            .join()
            .map_err(|_| anyhow::anyhow!("the import reader thread panicked"))?;
        if let Some(e) = read.failure.or(encode_failure).or(failure) {
            return Err(anyhow::Error::new(e).context(format!(
                "store write failed after {} findings (every committed batch is complete; re-run to finish)",
                summary.read
            )));
        }
        summary.rejected = read.rejected;
        summary.rejects = read.rejects;
        Ok(summary)
    })
}

/// What the reader thread hands back.
struct ReadOutcome {
    /// At most [`MAX_REPORTED_REJECTS`].
    rejects: Vec<Reject>,
    rejected: u64,
    /// Training the dictionaries failed (a store problem, not bad input).
    failure: Option<StoreError>,
}

/// The reader thread: every input, parsed and normalized, dealt out in lots to the encoders in
/// turn (lot n to encoder n % encoders).
fn read(
    store: &Store,
    paths: &[PathBuf],
    encoders: Vec<mpsc::SyncSender<Vec<ImportRecord>>>,
) -> ReadOutcome {
    let mut out = ReadOutcome {
        rejects: Vec::new(),
        rejected: 0,
        failure: None,
    };
    let mut dealer = Dealer {
        store,
        held: (!store.has_dictionaries()).then(|| Vec::with_capacity(TRAIN_SAMPLES)),
        lot: Vec::with_capacity(RECORDS_PER_LOT),
        encoders,
        next: 0,
    };
    let mut stopped = false;
    read_inputs(paths, |item| match item {
        ImportItem::Record(r) if !stopped => match dealer.push(r) {
            Ok(go_on) => stopped = !go_on,
            Err(e) => {
                out.failure = Some(e);
                stopped = true;
            }
        },
        ImportItem::Record(_) => {}
        ImportItem::Reject(r) => {
            out.rejected += 1;
            if out.rejects.len() < MAX_REPORTED_REJECTS {
                out.rejects.push(r);
            }
        }
    });
    if !stopped {
        if let Err(e) = dealer.finish() {
            out.failure = Some(e);
        }
    }
    out
}

/// Deals records out in lots. While the store has no compression dictionaries, the first
/// records are held back to train them, so that every record is encoded with them.
struct Dealer<'s> {
    store: &'s Store,
    held: Option<Vec<ImportRecord>>,
    lot: Vec<ImportRecord>,
    encoders: Vec<mpsc::SyncSender<Vec<ImportRecord>>>,
    next: usize,
}

impl Dealer<'_> {
    /// Takes one record; `Ok(false)` when a later stage is gone (it reports why).
    fn push(&mut self, record: ImportRecord) -> Result<bool, StoreError> {
        match &mut self.held {
            Some(held) => {
                held.push(record);
                if held.len() < TRAIN_SAMPLES {
                    return Ok(true);
                }
                self.release()
            }
            None => Ok(self.add(record)),
        }
    }

    /// Trains the dictionaries on the held records (if there are enough) and deals them out.
    fn release(&mut self) -> Result<bool, StoreError> {
        let held = self.held.take().unwrap_or_default();
        let samples: Vec<_> = held.iter().map(|r| (&r.finding, r.raw.as_str())).collect();
        self.store.train_dictionaries(&samples)?;
        Ok(held.into_iter().all(|record| self.add(record)))
    }

    /// Adds a record to the current lot; false when its encoder is gone.
    fn add(&mut self, record: ImportRecord) -> bool {
        self.lot.push(record);
        self.lot.len() < RECORDS_PER_LOT || self.deal()
    }

    /// Sends the current lot to the next encoder; false when it is gone.
    fn deal(&mut self) -> bool {
        let lot = std::mem::replace(&mut self.lot, Vec::with_capacity(RECORDS_PER_LOT));
        let sent = self.encoders[self.next].send(lot).is_ok();
        self.next = (self.next + 1) % self.encoders.len();
        sent
    }

    /// Releases what is held (a small input) and deals the last lot.
    fn finish(mut self) -> Result<(), StoreError> {
        if self.held.is_some() && !self.release()? {
            return Ok(());
        }
        if !self.lot.is_empty() {
            self.deal();
        }
        Ok(())
    }
}

/// An encoder thread: lots in, encoded lots out, in the order received.
fn encode(
    store: &Store,
    rx: mpsc::Receiver<Vec<ImportRecord>>,
    tx: mpsc::SyncSender<Vec<EncodedFinding>>,
) -> Result<(), StoreError> {
    // Made at the first lot: the reader trains the dictionaries before it deals any.
    let mut encoder: Option<Encoder> = None;
    for lot in rx {
        let encoder = encoder.get_or_insert_with(|| store.encoder());
        let encoded = lot
            .into_iter()
            .map(|r| encoder.encode(&r.finding, &r.raw, r.source))
            .collect::<Result<Vec<_>, _>>()?;
        if tx.send(encoded).is_err() {
            break; // the writer stopped; it reports why
        }
    }
    Ok(())
}
