//! Kill mid-sync. A child process (this test binary, run again on its ignored child test) syncs
//! from the local fixture into a store on disk and freezes right before its K-th store write;
//! the parent then kills it with SIGKILL, so SQLite sees a real process death with the WAL left
//! as it was. This is done for every K of a whole run, i.e. at every transaction boundary a
//! kill can fall on (a kill inside a transaction rolls it back: the same as a kill before it).
//!
//! After each kill the store must never hold a watermark ahead of its data, and a second sync
//! must resume from the watermark: every finding exactly once, byte for byte, nothing lost.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gdlens_aws::{
    AwsSource, Committed, Investigation, MemberAccount, RegionSyncStatus, SinkError, SyncSink,
    SyncedFinding,
};
use gdlens_aws_fixture::{spawn, FixtureServer};
use gdlens_domain::time::{parse_iso, EpochMillis};
use gdlens_store::Store;

/// Set in the child's environment: `<endpoint> <data dir> <write to freeze at>`.
const CHILD_ENV: &str = "GDLENS_AWS_KILL_TEST_CHILD";
const FROZEN: &str = "gdlens-kill-test: frozen before write";
const FINISHED: &str = "gdlens-kill-test: sync finished";
const REGIONS: [(&str, usize); 2] = [("us-east-1", 120), ("eu-west-1", 75)];
const TOTAL: u64 = 195;

/// The real store behind a write counter. From write number `freeze_at` on (counting from 1),
/// every write blocks before touching the store: the process is as good as dead there.
struct FreezingSink {
    store: Store,
    writes: AtomicU64,
    freeze_at: u64,
}

impl FreezingSink {
    fn new(store: Store, freeze_at: u64) -> Self {
        Self {
            store,
            writes: AtomicU64::new(0),
            freeze_at,
        }
    }

    fn before_write(&self) {
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        if n < self.freeze_at {
            return;
        }
        if n == self.freeze_at {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{FROZEN} {n}");
            let _ = out.flush();
        }
        // Wait for the parent's SIGKILL; give up (and fail the parent) if it never comes.
        std::thread::sleep(Duration::from_secs(120));
        std::process::exit(3);
    }
}

impl SyncSink for FreezingSink {
    fn watermark(&self, region: &str, detector_id: &str) -> Result<Option<EpochMillis>, SinkError> {
        SyncSink::watermark(&self.store, region, detector_id)
    }

    fn commit(
        &self,
        region: &str,
        detector_id: &str,
        findings: &[SyncedFinding],
        watermark: Option<EpochMillis>,
    ) -> Result<Committed, SinkError> {
        self.before_write();
        self.store.commit(region, detector_id, findings, watermark)
    }

    fn set_sync_status(&self, status: &RegionSyncStatus) -> Result<(), SinkError> {
        self.before_write();
        SyncSink::set_sync_status(&self.store, status)
    }

    fn record_members(&self, members: &[MemberAccount]) -> Result<(), SinkError> {
        self.before_write();
        self.store.record_members(members)
    }

    fn replace_coverage(
        &self,
        coverage: &gdlens_domain::coverage::RegionCoverage,
    ) -> Result<(), SinkError> {
        self.before_write();
        SyncSink::replace_coverage(&self.store, coverage)
    }

    fn replace_investigations(
        &self,
        regions: &[String],
        investigations: &[Investigation],
    ) -> Result<(), SinkError> {
        self.before_write();
        SyncSink::replace_investigations(&self.store, regions, investigations)
    }
}

fn fixture_state() -> FixtureServer {
    let mut builder = FixtureServer::builder();
    for (region, n) in REGIONS {
        builder = builder.region(region, None, common::findings(region, n));
    }
    builder.build()
}

async fn source(endpoint: &str) -> AwsSource {
    let regions: Vec<&str> = REGIONS.iter().map(|(r, _)| *r).collect();
    let mut config = common::config(endpoint, &regions);
    // Findings are 1 s apart: a 5 s lag re-reads a few on resume, far less than a 50-finding
    // page, so a watermark ahead of its page would lose findings rather than hide the fault.
    config.lag_seconds = 5;
    common::source(config).await
}

/// Kills the child when dropped (also when an assertion fails first).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the child sync until it freezes before write `freeze_at`, then SIGKILLs it.
fn sync_in_child_and_kill(endpoint: &str, data_dir: &Path, freeze_at: u64) {
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .args([
            "sync_child_process",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(
            CHILD_ENV,
            format!("{endpoint} {} {freeze_at}", data_dir.display()),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut child = KillOnDrop(child);
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // libtest prints `test sync_child_process ... ` first, on the same line.
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(at) = line.find(FROZEN).or_else(|| line.find(FINISHED)) {
                let _ = tx.send(line[at..].to_string());
                return;
            }
        }
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("child never reached write {freeze_at} (exited or hung)"));
    assert_eq!(
        line,
        format!("{FROZEN} {freeze_at}"),
        "the child must freeze before write {freeze_at}"
    );
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    assert!(!status.success(), "the child was killed, not finished");
}

/// The store right after a kill: no finding twice, and no watermark ahead of its data (every
/// finding of a region up to the region's watermark is stored). Returns the findings stored.
fn assert_consistent_after_kill(store: &Store, state: &FixtureServer, freeze_at: u64) -> u64 {
    let count = store.count().unwrap();
    assert_eq!(
        store.version_count().unwrap(),
        count,
        "kill before write {freeze_at}: a finding stored twice"
    );
    for (region, n) in REGIONS {
        let detector = state.detector_id(region).unwrap();
        let Some(watermark) = store.watermark(region, &detector).unwrap() else {
            continue;
        };
        let covered: Vec<String> = common::findings(region, n)
            .iter()
            .filter(|f| parse_iso(f["updatedAt"].as_str().unwrap()).unwrap() <= watermark)
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        assert!(!covered.is_empty());
        let stored = store.get_findings(&covered).unwrap().len();
        assert_eq!(
            stored,
            covered.len(),
            "kill before write {freeze_at}: the {region} watermark covers {} findings but only {stored} are stored",
            covered.len()
        );
    }
    count
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_killed_at_any_store_write_resumes_from_the_watermark_without_loss_or_duplicates() {
    let state = fixture_state();
    let fixture = spawn(state.clone()).await.unwrap();
    let endpoint = fixture.endpoint_url();
    let source = source(&endpoint).await;

    // How many store writes one whole run makes: every one of them is a kill point.
    let calibration = tempfile::tempdir().unwrap();
    let counting = Arc::new(FreezingSink::new(
        Store::open(calibration.path()).unwrap(),
        u64::MAX,
    ));
    let whole = source.sync(counting.clone(), None, None).await;
    assert_eq!(whole.failed().count(), 0, "{}", whole.table());
    let writes = counting.writes.load(Ordering::SeqCst);
    // 3 + 2 pages, one status, one member list and one coverage per region.
    assert_eq!(writes, 5 + 2 + 2 + 2);

    let mut partial_kills = 0;
    for freeze_at in 1..=writes {
        let dir = tempfile::tempdir().unwrap();
        let (endpoint, data_dir) = (endpoint.clone(), dir.path().to_path_buf());
        tokio::task::spawn_blocking(move || {
            sync_in_child_and_kill(&endpoint, &data_dir, freeze_at)
        })
        .await
        .unwrap();

        let store = Arc::new(Store::open(dir.path()).unwrap());
        let after_kill = assert_consistent_after_kill(&store, &state, freeze_at);
        if after_kill > 0 && after_kill < TOTAL {
            partial_kills += 1;
        }

        let resumed = source.sync(store.clone(), None, None).await;

        for r in &resumed.regions {
            assert!(r.error.is_none(), "{}: {:?}", r.region, r.error);
        }
        let inserted: u64 = resumed.regions.iter().map(|r| r.inserted).sum();
        assert_eq!(
            inserted,
            TOTAL - after_kill,
            "kill before write {freeze_at}: the resume inserts exactly what was missing"
        );
        assert_eq!(store.count().unwrap(), TOTAL);
        assert_eq!(
            store.version_count().unwrap(),
            TOTAL,
            "kill before write {freeze_at}: versions duplicated"
        );
        for (region, n) in REGIONS {
            let findings = common::findings(region, n);
            let ids: Vec<String> = findings
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_string())
                .collect();
            let stored = store.get_findings(&ids).unwrap();
            assert_eq!(stored.len(), n);
            for (id, s) in ids.iter().zip(&stored) {
                assert_eq!(Some(&s.raw), state.finding_raw(region, id).as_ref());
            }
            let newest = findings
                .iter()
                .map(|f| parse_iso(f["updatedAt"].as_str().unwrap()).unwrap())
                .max();
            let detector = state.detector_id(region).unwrap();
            assert_eq!(store.watermark(region, &detector).unwrap(), newest);
        }
    }
    // The kill points include some in the middle of the data, not only before or after it.
    assert!(
        partial_kills >= 3,
        "only {partial_kills} kills fell mid-data"
    );
}

/// The child half of the test above, which runs it in a process of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "child process of the kill test; that test runs it"]
async fn sync_child_process() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut parts = spec.split(' ');
    let (endpoint, data_dir, freeze_at) = (
        parts.next().unwrap().to_string(),
        parts.next().unwrap().to_string(),
        parts.next().unwrap().parse::<u64>().unwrap(),
    );
    let sink = Arc::new(FreezingSink::new(
        Store::open(Path::new(&data_dir)).unwrap(),
        freeze_at,
    ));
    let report = source(&endpoint).await.sync(sink, None, None).await;
    println!("{FINISHED} ({} findings)", report.fetched());
}
