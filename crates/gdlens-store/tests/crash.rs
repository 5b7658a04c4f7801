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

fn import_all(dir: &Path, bulk: bool) {
    let store = Store::open(dir).unwrap();
    if bulk {
        assert!(
            store.begin_bulk_load().unwrap(),
            "nothing else has the store open"
        );
    }
    let all: Vec<_> = (0..TOTAL).map(record).collect();
    for chunk in all.chunks(BATCH) {
        store.upsert_batch(chunk).unwrap();
    }
    if bulk {
        store.end_bulk_load().unwrap();
    }
}

/// Findings committed so far, read without changing the journal mode (a plain read-only
/// connection; `Store::open` would try to switch the file back to WAL).
fn committed(dir: &Path) -> u64 {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    rusqlite::Connection::open_with_flags(dir.join("gdlens.db"), flags)
        .and_then(|c| {
            c.busy_timeout(Duration::from_secs(5))?;
            c.query_row("SELECT count(*) FROM findings", [], |r| r.get::<_, i64>(0))
        })
        .map_or(0, |n| n as u64)
}

#[test]
fn crash_child() {
    // Only does work when re-executed by `kill_mid_import_then_reimport_completes`.
    if let Ok(dir) = std::env::var("GDLENS_STORE_CRASH_CHILD") {
        let bulk = std::env::var("GDLENS_STORE_CRASH_BULK").is_ok();
        import_all(Path::new(&dir), bulk);
    }
}

#[test]
fn kill_mid_import_then_reimport_completes() {
    kill_mid_import_then_reimport(false);
}

/// The same with the rollback journal of a bulk load (`gdlens import`): the hot journal left by
/// the kill is rolled back on the next open.
#[test]
fn kill_mid_bulk_load_then_reimport_completes() {
    kill_mid_import_then_reimport(true);
}

fn kill_mid_import_then_reimport(bulk: bool) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(std::env::current_exe().unwrap());
    command
        .args(["--exact", "crash_child", "--nocapture"])
        .env("GDLENS_STORE_CRASH_CHILD", dir.path());
    if bulk {
        command.env("GDLENS_STORE_CRASH_BULK", "1");
    }
    let mut child = command.spawn().unwrap();
    // Wait until some batches are committed, then kill without warning.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        std::thread::sleep(Duration::from_millis(20));
        if committed(dir.path()) >= (BATCH * 3) as u64 {
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

    import_all(dir.path(), bulk);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.count().unwrap(), TOTAL as u64);
    assert_eq!(
        store.version_count().unwrap(),
        TOTAL as u64,
        "no duplicates"
    );
    assert!(store.integrity_check().unwrap().is_empty());
}
