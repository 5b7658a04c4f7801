//! `gdlens coverage` as a user runs it on a store holding the demo organization's coverage: gaps
//! first, names from the demo organization, a table for humans and JSON for scripts.

use std::process::Command;

use gdlens_demo::DemoOptions;

mod common;
use common::{free_port, wait_for, Server};

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
    common::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_gdlens"))
            .args(["coverage", "--data-dir"])
            .arg(dir)
            .args(extra)
            .env_remove("GDLENS_STORE_URL"),
    )
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

/// The binaries end to end: `gdlens dev aws-fixture --members`, `gdlens sync` with the real SDK,
/// then `gdlens coverage --json` reads what the sync stored.
#[test]
fn sync_from_the_fixture_then_print_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let all_on: Vec<serde_json::Value> = [
        "S3_DATA_EVENTS",
        "EKS_AUDIT_LOGS",
        "EBS_MALWARE_PROTECTION",
        "RDS_LOGIN_EVENTS",
        "RUNTIME_MONITORING",
        "LAMBDA_NETWORK_LOGS",
    ]
    .iter()
    .map(|n| serde_json::json!({"name": n, "status": "ENABLED"}))
    .collect();
    let mut eks_off = all_on.clone();
    eks_off[1]["status"] = "DISABLED".into();
    let members = serde_json::json!([
        {"accountId": "111122223333", "administratorId": "999999999999", "email": "a@example.com",
         "relationshipStatus": "Enabled", "features": all_on},
        {"accountId": "444455556666", "administratorId": "999999999999", "email": "b@example.com",
         "relationshipStatus": "Enabled", "features": eks_off},
        {"accountId": "777788889999", "administratorId": "999999999999", "email": "c@example.com",
         "relationshipStatus": "Removed"}
    ]);
    let file = dir.path().join("members.json");
    std::fs::write(&file, members.to_string()).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let _fixture = Server {
        child: Command::new(env!("CARGO_BIN_EXE_gdlens"))
            .args([
                "dev",
                "aws-fixture",
                "--listen",
                &addr,
                "--region",
                "us-east-1",
            ])
            .arg("--members")
            .arg(format!("us-east-1={}", file.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
        addr: addr.clone(),
    };
    wait_for("the fixture to listen", || {
        std::net::TcpStream::connect(&addr).is_ok()
    });
    let data = dir.path().join("data");
    common::stdout_of(
        Command::new(env!("CARGO_BIN_EXE_gdlens"))
            .args([
                "sync",
                "--regions",
                "us-east-1",
                "--no-detective",
                "--endpoint-url",
            ])
            .arg(format!("http://{addr}"))
            .arg("--data-dir")
            .arg(&data)
            .env_remove("GDLENS_STORE_URL")
            .env_remove("GDLENS_CONFIG")
            .envs([
                ("AWS_ACCESS_KEY_ID", "AKIDGDLENSTEST"),
                ("AWS_SECRET_ACCESS_KEY", "gdlens-test-secret"),
                ("AWS_REGION", "us-east-1"),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ]),
    );

    let json: serde_json::Value = serde_json::from_str(&coverage(&data, &["--json"])).unwrap();
    let ids: Vec<&str> = json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accountId"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "777788889999",
            "444455556666",
            "111122223333",
            "999999999999"
        ]
    );
    let cell = |i: usize| &json["accounts"][i]["cells"][0];
    assert_eq!(cell(0)["state"], "NOT_ENABLED");
    assert_eq!(cell(0)["row"]["relationshipStatus"], "Removed");
    assert_eq!(cell(1)["state"], "PARTIAL");
    assert_eq!(cell(1)["gaps"][0]["plan"], "EKS_AUDIT_LOGS");
    assert_eq!(cell(2)["state"], "COVERED");
    assert_eq!(json["accounts"][3]["administrator"], true);
}
