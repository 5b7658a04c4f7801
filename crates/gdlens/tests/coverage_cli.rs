//! `gdlens coverage` as a user runs it on a store holding the demo organization's coverage: gaps
//! first, names from the demo organization, a table for humans and JSON for scripts.

use std::process::Command;

use gdlens_demo::DemoOptions;

fn demo_store(dir: &std::path::Path, opts: &DemoOptions) {
    let store = gdlens_store::Store::open(dir).unwrap();
    for region in gdlens_demo::coverage(opts) {
        store.replace_coverage(&region).unwrap();
    }
    store
        .put_state(
            "demo.options",
            &serde_json::json!({"seed": opts.seed, "accounts": opts.accounts, "regions": opts.regions}),
        )
        .unwrap();
}

fn coverage(dir: &std::path::Path, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .args(["coverage", "--data-dir"])
        .arg(dir)
        .args(extra)
        .env_remove("GDLENS_STORE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn prints_the_demo_matrix_gaps_first_as_a_table_and_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let opts = DemoOptions::default();
    demo_store(dir.path(), &opts);

    let json: serde_json::Value = serde_json::from_str(&coverage(dir.path(), &["--json"])).unwrap();
    let accounts = json["accounts"].as_array().unwrap();
    assert_eq!(accounts.len(), opts.accounts);
    assert_eq!(json["regions"].as_array().unwrap().len(), opts.regions);
    // Not-enabled cells sort first; fully covered accounts last.
    let first = &accounts[0];
    assert!(first["cells"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["state"] == "NOT_ENABLED"));
    let last = accounts.last().unwrap();
    assert!(last["cells"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["state"] == "COVERED"));
    assert!(
        first["name"].is_string(),
        "names from the demo organization"
    );
    let totals = &json["totals"];
    assert_eq!(totals["cells"], opts.accounts * opts.regions);
    assert_eq!(
        totals["notEnabled"], 3,
        "one invited, one disabled, one not a member"
    );

    let table = coverage(dir.path(), &[]);
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("ACCOUNT"), "{table}");
    assert!(lines[1].contains("NOT ENABLED"), "{table}");
    assert!(table.contains("partial: RUNTIME_MONITORING"), "{table}");
    assert!(table.contains("(admin)"), "{table}");
    assert!(table.contains(&format!(
        "{} accounts × {} regions",
        opts.accounts, opts.regions
    )));

    let gaps = coverage(dir.path(), &["--gaps-only", "--json"]);
    let gaps: serde_json::Value = serde_json::from_str(&gaps).unwrap();
    let n = gaps["accounts"].as_array().unwrap().len();
    assert!(n > 3 && n < opts.accounts, "{n}");
}

#[test]
fn an_empty_store_says_how_to_get_coverage() {
    let dir = tempfile::tempdir().unwrap();
    assert!(coverage(dir.path(), &[]).contains("no coverage recorded yet"));
}
