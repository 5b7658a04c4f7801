//! `gdlens generate … | gdlens import -` round-trips 20,000 findings with nothing rejected (through
//! a real pipe between the two processes); a re-import reports everything unchanged.

use std::io::Write;
use std::process::{Command, Stdio};

/// `gdlens generate` writing NDJSON to stdout (fixed seed and "now": the same bytes every run).
fn generate_command(findings: usize) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gdlens"));
    let findings = findings.to_string();
    let now = "2026-06-01T00:00:00Z";
    cmd.args([
        "generate",
        "--seed",
        "11",
        "--accounts",
        "40",
        "--regions",
        "3",
    ])
    .args(["--findings", &findings, "--now", now, "--out", "-"]);
    cmd
}

/// Runs `gdlens generate` and returns its NDJSON output.
fn generate(findings: usize) -> String {
    let out = generate_command(findings).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    String::from_utf8(out.stdout).unwrap()
}

/// `gdlens generate … | gdlens import --json -` as two processes joined by a pipe.
fn generate_piped_into_import(dir: &std::path::Path, findings: usize) -> (serde_json::Value, i32) {
    let mut generate = generate_command(findings)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let import = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["import", "--json", "--data-dir"])
        .arg(dir)
        .arg("-")
        .stdin(generate.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert!(generate.wait().unwrap().success());
    (
        serde_json::from_slice(&import.stdout).unwrap(),
        import.status.code().unwrap(),
    )
}

#[test]
fn stdin_round_trip_then_reimport_is_all_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let (first, code) = generate_piped_into_import(dir.path(), 20_000);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["read"], 20_000);
    assert_eq!(first["rejected"], 0);
    assert_eq!(first["rejects"], serde_json::json!([]));
    // The generator writes later versions of some findings: each distinct id is inserted once, and
    // every later version either updates it or (when older than what is stored) is kept as history.
    let input = generate(20_000);
    let mut ids = std::collections::HashSet::new();
    for line in input.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        ids.insert(v["id"].as_str().unwrap().to_string());
    }
    assert_eq!(first["inserted"], ids.len() as u64);
    assert!(
        first["updated"].as_u64().unwrap() > 0,
        "the demo data has updated versions"
    );
    assert_eq!(
        first["inserted"].as_u64().unwrap()
            + first["updated"].as_u64().unwrap()
            + first["unchanged"].as_u64().unwrap(),
        20_000
    );
    // The same bytes again (this time from stdin of one process): nothing changes.
    let (second, code) = import_with(dir.path(), &[], &input);
    assert_eq!(code, 0);
    assert_eq!(second["read"], 20_000);
    assert_eq!(second["unchanged"], 20_000);
    assert_eq!(second["inserted"], 0);
    assert_eq!(second["updated"], 0);
}

#[test]
fn rejects_give_exit_status_2_and_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/import/corrupt-line.jsonl"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["import", "--json", "--data-dir"])
        .arg(dir.path())
        .arg(fixture)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["inserted"], 2);
    assert_eq!(v["rejected"], 3);
    assert_eq!(v["rejects"][0]["line"], 2);
    assert_eq!(v["rejects"][0]["code"], "invalid_json");
}

/// `gdlens import` with the given extra flags reading `input` from stdin.
fn import_with(dir: &std::path::Path, flags: &[&str], input: &str) -> (serde_json::Value, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["import", "--json", "--data-dir"])
        .arg(dir)
        .args(flags)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()).unwrap());
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        serde_json::from_slice(&out.stdout).unwrap(),
        out.status.code().unwrap(),
    )
}

/// Versions of one finding count differently by order (older after newer is history, newer after
/// older is an update), so equal reports and equal stores show records applied in input order
/// whatever the number of encoder threads and the batch size. The store trains its compression
/// dictionaries on the way, and everything reads back as imported.
#[test]
fn any_number_of_encoders_applies_records_in_input_order() {
    // Newest first: later lines are older versions of findings already seen.
    let mut lines: Vec<&str> = Vec::new();
    let input = generate(6_000);
    lines.extend(input.lines());
    lines.reverse();
    let input = lines.join("\n");

    let mut reports = Vec::new();
    let mut stores = Vec::new();
    for flags in [
        &["--encoders", "1", "--batch-size", "100000"][..],
        &["--encoders", "3", "--batch-size", "777"][..],
        &["--encoders", "2"][..],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (report, code) = import_with(dir.path(), flags, &input);
        assert_eq!(code, 0, "{report}");
        reports.push(report);
        let store = gdlens_store::Store::open(dir.path()).unwrap();
        assert!(store.has_dictionaries(), "a 6,000-finding import trains");
        assert!(store.integrity_check().unwrap().is_empty());
        let mut latest = store.latest_findings().unwrap();
        latest.sort_by(|a, b| a.id.cmp(&b.id));
        stores.push((latest, store.version_count().unwrap()));
    }
    assert!(
        reports[0]["unchanged"].as_u64().unwrap() > 0,
        "older versions after newer ones are history: {}",
        reports[0]
    );
    assert_eq!(reports[0], reports[1]);
    assert_eq!(reports[0], reports[2]);
    assert_eq!(stores[0], stores[1]);
    assert_eq!(stores[0], stores[2]);
    assert_eq!(stores[0].1, 6_000, "every version is kept");
}
