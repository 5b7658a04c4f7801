//! `gdlens suppress add | list | export`: a rule saved from the CLI comes back as a GuardDuty
//! `CreateFilter` request with the same criteria, as Terraform and CloudFormation; criteria
//! GuardDuty would refuse are refused with their stable code.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Value};

fn gdlens(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .arg("suppress")
        .arg(args[0])
        .arg("--data-dir")
        .arg(dir)
        .args(&args[1..])
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

#[test]
fn add_list_and_export_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let criteria = json!({"criterion": {
        "type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]},
        "severity": {"lt": 7},
        "resource.instanceDetails.tags.value": {"equals": ["sandbox"]}}});
    let file = dir.path().join("criteria.json");
    std::fs::write(&file, criteria.to_string()).unwrap();
    let at = format!("@{}", file.display());
    ok(&gdlens(
        dir.path(),
        &["add", "sandbox-probes", "--criteria", &at, "--rank", "3"],
    ));
    let list = ok(&gdlens(dir.path(), &["list"]));
    assert!(
        list.contains("\tgdlens\t*\tsandbox-probes\trank 3\tARCHIVE\t"),
        "{list}"
    );

    let gd: Value = serde_json::from_str(&ok(&gdlens(
        dir.path(),
        &[
            "export",
            "sandbox-probes",
            "--format",
            "guardduty",
            "--detector-id",
            "abc123",
        ],
    )))
    .unwrap();
    assert_eq!(gd["detectorId"], "abc123");
    assert_eq!(gd["action"], "ARCHIVE");
    assert_eq!(gd["rank"], 3);
    // Older operator names come back with the current ones.
    assert_eq!(
        gd["findingCriteria"]["criterion"]["severity"],
        json!({"lessThan": 7})
    );
    assert_eq!(
        gd["findingCriteria"]["criterion"]["type"],
        criteria["criterion"]["type"]
    );

    let tf = ok(&gdlens(
        dir.path(),
        &["export", "sandbox-probes", "--format", "terraform"],
    ));
    assert!(tf.contains("resource \"aws_guardduty_filter\" \"sandbox_probes\""));
    assert!(tf.contains("field = \"resource.instanceDetails.tags.value\""));
    let cfn: Value = serde_json::from_str(&ok(&gdlens(
        dir.path(),
        &["export", "sandbox-probes", "--format", "cloudformation"],
    )))
    .unwrap();
    assert_eq!(
        cfn["Resources"]["Filtersandboxprobes"]["Properties"]["Rank"],
        3
    );

    let missing = gdlens(dir.path(), &["export", "nope", "--format", "terraform"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no suppression rule named `nope`"));
}

#[test]
fn criteria_guardduty_would_refuse_are_refused_with_their_code() {
    let dir = tempfile::tempdir().unwrap();
    let values: Vec<String> = (0..51).map(|i| format!("{i:012}")).collect();
    let c = json!({"criterion": {"accountId": {"equals": values}}}).to_string();
    let out = gdlens(dir.path(), &["add", "too-many", "--criteria", &c]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("CRITERIA_TOO_MANY_VALUES"));
    let out = gdlens(
        dir.path(),
        &[
            "add",
            "x",
            "--criteria",
            r#"{"criterion":{"type":{"equals":["T"]}}}"#,
        ],
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("RULE_BAD_NAME"));
}

fn gdlens_aws(dir: &Path, endpoint: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gdlens"))
        .arg("suppress")
        .arg(args[0])
        .arg("--data-dir")
        .arg(dir)
        .args(&args[1..])
        .args([
            "--regions",
            "us-east-1,eu-west-1",
            "--endpoint-url",
            endpoint,
        ])
        .env("AWS_ACCESS_KEY_ID", "AKIDGDLENSTEST")
        .env("AWS_SECRET_ACCESS_KEY", "gdlens-test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .output()
        .unwrap()
}

#[test]
fn apply_sync_and_unapply_through_the_fixture() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let state = gdlens_aws_fixture::FixtureState::builder()
        .region("us-east-1", None, Vec::new())
        .region("eu-west-1", None, Vec::new())
        .build();
    let fixture = rt
        .block_on(gdlens_aws_fixture::spawn(state.clone()))
        .unwrap();
    let url = fixture.endpoint_url();
    let dir = tempfile::tempdir().unwrap();
    let c = r#"{"criterion":{"type":{"equals":["Recon:EC2/PortProbeUnprotectedPort"]},"severity":{"lessThan":7}}}"#;
    ok(&gdlens(
        dir.path(),
        &["add", "probe-noise", "--criteria", c],
    ));

    let out = ok(&gdlens_aws(dir.path(), &url, &["apply", "probe-noise"]));
    assert_eq!(
        out,
        "us-east-1\tprobe-noise\tCreated\neu-west-1\tprobe-noise\tCreated\n"
    );
    let out = ok(&gdlens_aws(dir.path(), &url, &["apply", "probe-noise"]));
    assert!(out.contains("us-east-1\tprobe-noise\tUpdated"), "{out}");

    let out = ok(&gdlens_aws(dir.path(), &url, &["sync-filters"]));
    assert_eq!(out, "us-east-1\t1 filter(s)\neu-west-1\t1 filter(s)\n");
    let list = ok(&gdlens(dir.path(), &["list"]));
    assert_eq!(list.matches("\tguardduty\t").count(), 2, "{list}");
    assert!(list.contains("\tguardduty\teu-west-1\tprobe-noise\t"));

    ok(&gdlens_aws(dir.path(), &url, &["unapply", "probe-noise"]));
    let again = gdlens_aws(dir.path(), &url, &["unapply", "probe-noise"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("error bad_request"));
    drop(fixture);
}
