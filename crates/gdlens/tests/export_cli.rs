//! `gdlens export` on an imported store: the original GuardDuty JSON back, filters as the API
//! parses them, CSV and OCSF to a file, a bad `--filter` refused with a message naming it.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/graphql/fixtures/findings.ndjson")
}

fn gdlens(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .arg(args[0])
        .arg("--data-dir")
        .arg(dir)
        .args(&args[1..])
        .output()
        .unwrap()
}

fn ndjson(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn export_writes_ndjson_csv_and_ocsf_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let import = gdlens(dir.path(), &["import", fixture().to_str().unwrap()]);
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let originals = ndjson(&std::fs::read(fixture()).unwrap());

    let out = gdlens(dir.path(), &["export", "--format", "ndjson"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = ndjson(&out.stdout);
    assert!(!all.is_empty());
    for f in &all {
        assert!(originals.contains(f), "not an original record: {f}");
    }

    let filter = r#"{"accountIds":["111111111111"]}"#;
    let out = gdlens(
        dir.path(),
        &["export", "--format", "ndjson", "--filter", filter],
    );
    assert!(out.status.success());
    let some = ndjson(&out.stdout);
    assert!(!some.is_empty() && some.len() < all.len());
    assert!(some.iter().all(|f| f["accountId"] == "111111111111"));

    let csv = dir.path().join("out.csv");
    let out = gdlens(
        dir.path(),
        &["export", "--format", "csv", "--out", csv.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let text = std::fs::read_to_string(&csv).unwrap();
    let records: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert!(records[0].starts_with("id,arn,accountId,"));
    assert_eq!(records.len(), all.len() + 1);

    let out = gdlens(dir.path(), &["export", "--format", "ocsf"]);
    assert!(out.status.success());
    let ocsf = ndjson(&out.stdout);
    assert_eq!(ocsf.len(), all.len());
    assert!(ocsf.iter().all(|o| o["class_uid"] == 2004));

    let out = gdlens(
        dir.path(),
        &[
            "export",
            "--format",
            "ndjson",
            "--filter",
            r#"{"severityMn":1}"#,
        ],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--filter") && stderr.contains("severityMn"),
        "{stderr}"
    );
}

/// `"overdue"` in `--filter` judges with the `[sla]` targets of `--config` (defaults without it):
/// the fixture's findings are weeks old, so some are past the default 1-day High target, and none
/// is past targets of ten years.
#[test]
fn export_overdue_uses_the_sla_targets_of_config() {
    let dir = tempfile::tempdir().unwrap();
    let import = gdlens(dir.path(), &["import", fixture().to_str().unwrap()]);
    assert!(import.status.success());
    let overdue = r#"{"overdue":true}"#;
    let out = gdlens(
        dir.path(),
        &["export", "--format", "ndjson", "--filter", overdue],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let by_default = ndjson(&out.stdout);
    assert!(!by_default.is_empty());
    assert!(by_default.iter().all(|f| f["service"]["archived"] == false));

    let config = dir.path().join("sla.toml");
    std::fs::write(
        &config,
        "[sla]\ncritical_hours = 87600\nhigh_hours = 87600\nmedium_hours = 87600\nlow_hours = 87600\n",
    )
    .unwrap();
    let out = gdlens(
        dir.path(),
        &[
            "export",
            "--format",
            "ndjson",
            "--filter",
            overdue,
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ndjson(&out.stdout).is_empty());
}
