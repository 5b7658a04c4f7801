//! Crash safety: a writer process killed with SIGKILL in the middle of a stream of batches leaves
//! the store consistent, and re-running the same input completes it with no duplicates.
//!
//! The child is this test binary itself, re-executed with `GDLENS_STORE_CRASH_CHILD` set.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use gdlens_domain::Finding;
use gdlens_store::{NewFinding, Store};

const TOTAL: usize = 60_000;
const BATCH: usize = 2_000;

fn record(i: usize) -> NewFinding {
    let finding = Finding {
        id: format!("crash-{i:07}"),
        account_id: format!("{:012}", i % 97),
        region: "us-east-1".into(),
        finding_type: "Recon:EC2/PortProbeUnprotectedPort".into(),
        severity: 2.0,
        created_at: 1_700_000_000_000,
        updated_at: 1_700_000_000_000 + i as i64,
        count: 1,
        ..Default::default()
    };
    // Padding makes each batch take long enough for the kill to land mid-transaction.
    let raw = format!(
        "{{\"id\":\"{}\",\"pad\":\"{}\"}}",
        finding.id,
        "x".repeat(800)
    );
    NewFinding {
        finding,
        raw,
        source: "crash-test".into(),
    }
}

fn import_all(dir: &Path) {
    let store = Store::open(dir).unwrap();
    let all: Vec<_> = (0..TOTAL).map(record).collect();
    for chunk in all.chunks(BATCH) {
        store.upsert_batch(chunk).unwrap();
    }
}

#[test]
fn crash_child() {
    // Only does work when re-executed by `kill_mid_import_then_reimport_completes`.
    if let Ok(dir) = std::env::var("GDLENS_STORE_CRASH_CHILD") {
        import_all(Path::new(&dir));
    }
}

#[test]
fn kill_mid_import_then_reimport_completes() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "crash_child", "--nocapture"])
        .env("GDLENS_STORE_CRASH_CHILD", dir.path())
        .spawn()
        .unwrap();
    // Wait until some batches are committed, then kill without warning.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        std::thread::sleep(Duration::from_millis(20));
        let committed = Store::open(dir.path()).and_then(|s| s.count()).unwrap_or(0);
        if committed >= (BATCH * 3) as u64 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "child finished before it could be killed"
        );
        assert!(Instant::now() < deadline, "child made no progress");
    }
    child.kill().unwrap(); // SIGKILL on unix
    child.wait().unwrap();

    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.integrity_check().unwrap(), Vec::<String>::new());
    let partial = store.count().unwrap();
    assert!(
        partial > 0 && partial < TOTAL as u64,
        "killed mid-way: {partial}"
    );
    assert_eq!(
        partial % BATCH as u64,
        0,
        "only whole batches are committed"
    );
    assert_eq!(store.version_count().unwrap(), partial);
    drop(store);

    import_all(dir.path());
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.count().unwrap(), TOTAL as u64);
    assert_eq!(
        store.version_count().unwrap(),
        TOTAL as u64,
        "no duplicates"
    );
    assert!(store.integrity_check().unwrap().is_empty());
}
