//! One sync leader per region among replicas on one PostgreSQL database: two `gdlens serve`
//! processes sync the same region from the local GuardDuty fixture (`gdlens dev aws-fixture`,
//! slowed down so a sync takes a while). The leader is killed with SIGKILL in the middle of its
//! sync; the other replica takes the region's lease over and finishes from the watermark: every
//! finding stored exactly once, one version each, nothing lost, nothing duplicated.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use gdlens_store::testing::test_database;
use gdlens_store::Store;

mod common;
use common::{free_port, wait_for_up_to};

struct Proc {
    child: Child,
    log: PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn log_has(&self, needle: &str) -> bool {
        std::fs::read_to_string(&self.log).is_ok_and(|l| l.contains(needle))
    }
}

fn spawn(dir: &Path, name: &str, args: &[&str], env: &[(&str, &str)]) -> Proc {
    let log = dir.join(format!("{name}.log"));
    let file = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(args)
        .envs(env.iter().copied())
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap();
    Proc { child, log }
}

/// `n` generated findings, one record per id (the latest), as NDJSON; returns their ids.
fn findings_file(path: &Path, n: usize) -> usize {
    let out = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args([
            "generate",
            "--seed",
            "3",
            "--accounts",
            "6",
            "--regions",
            "1",
        ])
        .args(["--findings", &n.to_string()])
        .args(["--now", "2026-06-01T00:00:00Z", "--out", "-"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut latest: BTreeMap<String, String> = BTreeMap::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        latest.insert(v["id"].as_str().unwrap().to_string(), line.to_string());
    }
    let mut f = std::fs::File::create(path).unwrap();
    for line in latest.values() {
        writeln!(f, "{line}").unwrap();
    }
    latest.len()
}

#[test]
fn killing_the_sync_leader_hands_the_region_over_without_loss_or_duplicates() {
    let db = test_database();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("findings.ndjson");
    let expected = findings_file(&file, 600) as u64;
    assert!(expected > 400);

    let fixture_addr = format!("127.0.0.1:{}", free_port());
    let spec = format!("us-east-1={}", file.display());
    let _fixture = spawn(
        dir.path(),
        "fixture",
        &[
            "dev",
            "aws-fixture",
            "--listen",
            &fixture_addr,
            "--findings",
            &spec,
            "--latency-ms",
            "150",
        ],
        &[],
    );
    wait_for_up_to(Duration::from_secs(120), "the fixture to listen", || {
        std::net::TcpStream::connect(&fixture_addr).is_ok()
    });
    let config = dir.path().join("gdlens.toml");
    std::fs::write(
        &config,
        format!(
            "[aws]\nregions = [\"us-east-1\"]\nsync_interval_seconds = 1\ndetective = false\n\
             initial_backoff_ms = 5\nendpoint_url_guardduty = \"http://{fixture_addr}\"\n\
             endpoint_url_detective = \"http://{fixture_addr}\"\n"
        ),
    )
    .unwrap();
    let aws_env = [
        ("AWS_ACCESS_KEY_ID", "AKIDGDLENSTEST"),
        ("AWS_SECRET_ACCESS_KEY", "gdlens-test-secret"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("GDLENS_STORE_URL", db.url.as_str()),
    ];
    let replica = |name: &str| {
        let data = dir.path().join(name);
        let addr = format!("127.0.0.1:{}", free_port());
        spawn(
            dir.path(),
            name,
            &[
                "serve",
                "--data-dir",
                data.to_str().unwrap(),
                "--listen",
                &addr,
                "--web-dir",
                "/nonexistent",
                "--config",
                config.to_str().unwrap(),
            ],
            &aws_env,
        )
    };
    let mut a = Some(replica("a"));
    let mut b = Some(replica("b"));
    const LEADS: &str = "this replica now leads the sync of the region";
    wait_for_up_to(Duration::from_secs(120), "a sync leader", || {
        a.as_ref().unwrap().log_has(LEADS) || b.as_ref().unwrap().log_has(LEADS)
    });
    let (leader, follower) = if a.as_ref().unwrap().log_has(LEADS) {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    assert!(
        !follower.as_ref().unwrap().log_has(LEADS),
        "two leaders for one region"
    );

    // Kill the leader once its first pages are committed, in the middle of its sync.
    let store = Store::open_postgres(&db.url).unwrap();
    wait_for_up_to(
        Duration::from_secs(120),
        "the leader's first commit",
        || store.count().unwrap() > 0,
    );
    let at_kill = store.count().unwrap();
    drop(leader.take());
    assert!(
        at_kill < expected,
        "the sync finished before the kill ({at_kill} of {expected}): slow the fixture down"
    );

    // The other replica takes the lease over and completes the region.
    let follower = follower.as_ref().unwrap();
    wait_for_up_to(
        Duration::from_secs(120),
        "the other replica to take the region over",
        || follower.log_has(LEADS),
    );
    wait_for_up_to(Duration::from_secs(120), "every finding synced", || {
        store.count().unwrap() == expected
    });
    assert_eq!(
        store.version_count().unwrap(),
        expected,
        "one version per finding: nothing synced twice"
    );
    assert!(store.integrity_check().unwrap().is_empty());
    // The status of the finished sync is written just after its last commit.
    wait_for_up_to(
        Duration::from_secs(120),
        "the take-over's sync to report success",
        || {
            store
                .sync_statuses()
                .unwrap()
                .iter()
                .any(|s| s.last_success_at.is_some())
        },
    );
    let watermark = store.watermark("us-east-1", "").unwrap();
    let statuses = store.sync_statuses().unwrap();
    assert_eq!(statuses.len(), 1, "{statuses:?}");
    let detector = statuses[0].detector_id.clone().unwrap_or_default();
    assert!(
        watermark.is_some() || store.watermark("us-east-1", &detector).unwrap().is_some(),
        "the watermark the take-over resumed from is stored"
    );
}
