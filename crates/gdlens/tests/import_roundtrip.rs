//! `… | gdlens import -` round-trips 20,000 findings with nothing rejected; a re-import reports
//! everything unchanged. Input: the NDJSON fixture findings replicated under fresh ids (until
//! `gdlens generate` is wired here too).

use std::io::Write;
use std::process::{Command, Stdio};

fn ndjson(n: usize) -> String {
    let base = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/import/findings.jsonl"))
        .unwrap();
    let lines: Vec<serde_json::Value> = base.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let mut out = String::new();
    for i in 0..n {
        let mut v = lines[i % lines.len()].clone();
        v["id"] = serde_json::json!(format!("rt{i:08x}"));
        out.push_str(&v.to_string());
        out.push('\n');
    }
    out
}

fn import_stdin(dir: &std::path::Path, input: &str) -> (serde_json::Value, i32) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["import", "--json", "--data-dir"])
        .arg(dir)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (serde_json::from_slice(&out.stdout).unwrap(), out.status.code().unwrap())
}

#[test]
fn stdin_round_trip_then_reimport_is_all_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let input = ndjson(20_000);
    let (first, code) = import_stdin(dir.path(), &input);
    assert_eq!(code, 0);
    assert_eq!(first["read"], 20_000);
    assert_eq!(first["inserted"], 20_000);
    assert_eq!(first["rejected"], 0);
    let (second, code) = import_stdin(dir.path(), &input);
    assert_eq!(code, 0);
    assert_eq!(second["unchanged"], 20_000);
    assert_eq!(second["inserted"], 0);
    assert_eq!(second["updated"], 0);
}

#[test]
fn rejects_give_exit_status_2_and_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/import/corrupt-line.jsonl");
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
