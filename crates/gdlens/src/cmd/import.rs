//! `gdlens import`: reads findings in every GuardDuty shape and upserts them into the store.
//!
//! Two threads: one reads and normalizes (gdlens-import), one writes batches, each batch one
//! SQLite transaction (gdlens-store); a bounded channel between them keeps memory flat.

use std::io::Write;
use std::path::PathBuf;
use std::sync::mpsc;

use anyhow::Context;
use gdlens_import::{read_inputs, ImportItem, Reject};
use gdlens_store::{EncodedFinding, Store};
use serde::Serialize;

/// Rejects kept for the report; beyond this only the count grows (memory must stay flat).
const MAX_REPORTED_REJECTS: usize = 100_000;

/// Batches in flight between the reader and the writer.
const BATCHES_IN_FLIGHT: usize = 3;

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
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub batch_size: u64,
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
    let store = Store::open(&args.data_dir.path)
        .with_context(|| format!("opening the store in {}", args.data_dir.path.display()))?;
    let started = std::time::Instant::now();
    let bulk = store
        .begin_bulk_load()
        .context("preparing the store for a bulk load")?;
    tracing::debug!(bulk, "rollback journal for the bulk load");
    let result = import_paths(&store, args.paths, args.batch_size as usize);
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

/// Reads `paths` on a reader thread and upserts batches of `batch_size` on this thread.
pub fn import_paths(
    store: &Store,
    paths: Vec<PathBuf>,
    batch_size: usize,
) -> anyhow::Result<ImportSummary> {
    let (tx, rx) = mpsc::sync_channel::<Vec<EncodedFinding>>(BATCHES_IN_FLIGHT);
    let reader = std::thread::Builder::new()
        .name("import-reader".into())
        .spawn(move || {
            let mut rejects = Vec::new();
            let mut rejected = 0u64;
            let mut batch = Vec::with_capacity(batch_size);
            let mut writer_gone = false;
            let mut encode_failure = None;
            read_inputs(&paths, |item| match item {
                ImportItem::Record(r) => {
                    if writer_gone {
                        return;
                    }
                    // Compression and encoding happen here, off the writer thread.
                    match EncodedFinding::new(r.finding, &r.raw, r.source) {
                        Ok(encoded) => batch.push(encoded),
                        Err(e) => {
                            // Not bad input but a bug: stop, like a failed write.
                            encode_failure.get_or_insert(e);
                            writer_gone = true;
                            return;
                        }
                    }
                    if batch.len() >= batch_size {
                        let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                        writer_gone = tx.send(full).is_err();
                    }
                }
                ImportItem::Reject(r) => {
                    rejected += 1;
                    if rejects.len() < MAX_REPORTED_REJECTS {
                        rejects.push(r);
                    }
                }
            });
            if !batch.is_empty() && !writer_gone {
                let _ = tx.send(batch);
            }
            (rejects, rejected, encode_failure)
        })?;

    let mut summary = ImportSummary::default();
    let mut failure = None;
    for batch in rx.iter() {
        match store.upsert_encoded_batch(&batch) {
            Ok(report) => {
                summary.read += batch.len() as u64;
                summary.inserted += report.inserted;
                summary.updated += report.updated;
                summary.unchanged += report.unchanged;
            }
            Err(e) => {
                failure = Some(e);
                break; // dropping `rx` stops the reader
            }
        }
    }
    drop(rx);
    let (rejects, rejected, encode_failure) = reader
        .join()
        .map_err(|_| anyhow::anyhow!("the import reader thread panicked"))?;
    if let Some(e) = encode_failure.or(failure) {
        return Err(anyhow::Error::new(e).context(format!(
            "store write failed after {} findings (every committed batch is complete; re-run to finish)",
            summary.read
        )));
    }
    summary.rejected = rejected;
    summary.rejects = rejects;
    Ok(summary)
}
