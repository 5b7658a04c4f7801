//! Every accepted shape, read from the fixture files in `tests/fixtures/import/`.

use std::io::Read;
use std::path::PathBuf;

use gdlens_domain::ResourceRole;
use gdlens_import::{read_inputs, ImportItem, ImportRecord, Reject};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/import")
        .join(name)
}

fn read(name: &str) -> (Vec<ImportRecord>, Vec<Reject>) {
    let mut records = Vec::new();
    let mut rejects = Vec::new();
    let stats = read_inputs(&[fixture(name)], |item| match item {
        ImportItem::Record(r) => records.push(r),
        ImportItem::Reject(r) => rejects.push(r),
    });
    assert_eq!(stats.records as usize, records.len());
    assert_eq!(stats.rejects as usize, rejects.len());
    (records, rejects)
}

fn text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).unwrap()
}

/// Raw bytes are an exact slice of the input and parse to an object with the finding's id.
fn assert_raw_exact(records: &[ImportRecord], input: &str) {
    for r in records {
        assert!(
            input.contains(&r.raw),
            "raw of {} is not a byte-exact slice of the input",
            r.finding.id
        );
        assert!(r.raw.starts_with('{') && r.raw.ends_with('}'));
        let v: serde_json::Value = serde_json::from_str(&r.raw).unwrap();
        let id = v
            .get("id")
            .or_else(|| v.get("Id"))
            .and_then(|x| x.as_str())
            .unwrap();
        assert_eq!(id, r.finding.id);
    }
}

fn ids(records: &[ImportRecord]) -> Vec<&str> {
    records.iter().map(|r| r.finding.id.as_str()).collect()
}

#[test]
fn getfindings_api_output_streams_each_finding_with_its_index() {
    let (records, rejects) = read("getfindings.json");
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(
        ids(&records),
        [
            "a1b2c3d4e5f60718293a4b5c6d7e8f90",
            "b1b2c3d4e5f60718293a4b5c6d7e8f91"
        ]
    );
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [0, 1]);
    assert_raw_exact(&records, &text("getfindings.json"));
    let recon = &records[0].finding;
    assert_eq!(recon.finding_type, "Recon:EC2/PortProbeUnprotectedPort");
    assert_eq!(recon.account_id, "111122223333");
    assert_eq!(recon.resource_key.as_deref(), Some("i-0a1b2c3d4e5f60718"));
    assert_eq!(recon.count, 14);
    assert_eq!(recon.activity.remote_ips, ["203.0.113.10"]);
    assert_eq!(recon.activity.local_ports, [22]);
    assert_eq!(recon.resource_role, Some(ResourceRole::Target));
    assert_eq!(recon.updated_at, 1_714_558_530_123);
    let iam = &records[1].finding;
    assert_eq!(iam.resource_key.as_deref(), Some("AKIAIOSFODNN7EXAMPLE"));
    assert_eq!(iam.activity.user_agent.as_deref(), Some("aws-cli/2.15.0"));
    assert!(iam
        .associated_attack_sequence_arn
        .as_deref()
        .unwrap()
        .ends_with("2ab2c3d4e5f60718293a4b5c6d7e8f98"));
    assert_eq!(
        records[0].source,
        fixture("getfindings.json").display().to_string()
    );
}

#[test]
fn bare_pretty_printed_finding_keeps_its_whole_text() {
    let (records, rejects) = read("bare-finding.json");
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].raw, text("bare-finding.json").trim());
    assert_eq!(records[0].line, 1);
    let f = &records[0].finding;
    assert_eq!(f.resource_type, "S3Bucket");
    assert_eq!(f.resource_key.as_deref(), Some("prod-customer-data"));
    assert_eq!(f.resource.user_type.as_deref(), Some("AssumedRole"));
}

#[test]
fn json_array_of_runtime_and_eks_findings() {
    let (records, rejects) = read("array.json");
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_raw_exact(&records, &text("array.json"));
    let runtime = &records[0].finding;
    assert_eq!(runtime.feature_name.as_deref(), Some("RuntimeMonitoring"));
    assert_eq!(runtime.activity.remote_ips, ["198.51.100.200"]);
    assert_eq!(runtime.activity.remote_orgs, ["Chinanet"]);
    let eks = &records[1].finding;
    assert_eq!(eks.resource_key.as_deref(), Some("prod-eks"));
    assert_eq!(
        eks.resource.kubernetes_namespace.as_deref(),
        Some("kube-system")
    );
    assert_eq!(
        eks.resource.kubernetes_user.as_deref(),
        Some("system:anonymous")
    );
    assert_eq!(eks.activity.user_agent.as_deref(), Some("kubectl/v1.29.0"));
    assert_eq!(eks.activity.remote_ips, ["203.0.113.50"]);
}

#[test]
fn ndjson_rds_lambda_and_malware_findings() {
    let (records, rejects) = read("findings.jsonl");
    assert!(rejects.is_empty(), "{rejects:?}");
    let input = text("findings.jsonl");
    let lines: Vec<&str> = input.lines().collect();
    for (r, expected_line) in records.iter().zip(1..) {
        assert_eq!(r.line, expected_line);
        assert_eq!(r.raw, lines[expected_line as usize - 1]);
    }
    assert_eq!(
        records[0].finding.resource_key.as_deref(),
        Some("orders-db")
    );
    assert_eq!(
        records[0].finding.resource.db_user.as_deref(),
        Some("admin")
    );
    assert_eq!(
        records[1].finding.resource_key.as_deref(),
        Some("image-resizer")
    );
    assert_eq!(
        records[1].finding.finding_type,
        "Backdoor:Lambda/C&CActivity.B"
    );
    let malware = &records[2].finding;
    assert_eq!(malware.finding_type, "Execution:EC2/MaliciousFile");
    assert_eq!(
        malware.feature_name.as_deref(),
        Some("EbsMalwareProtection")
    );
    assert_eq!(malware.resource_key.as_deref(), Some("i-0123456789abcdef0"));
    assert_eq!(malware.activity.action_type, None);
}

#[test]
fn eventbridge_events_yield_the_detail_bytes() {
    for (name, count) in [
        ("eventbridge-single.json", 1),
        ("eventbridge-array.json", 2),
        ("eventbridge.jsonl", 2),
    ] {
        let (records, rejects) = read(name);
        assert!(rejects.is_empty(), "{name}: {rejects:?}");
        assert_eq!(records.len(), count, "{name}");
        assert_raw_exact(&records, &text(name));
        for r in &records {
            let v: serde_json::Value = serde_json::from_str(&r.raw).unwrap();
            assert!(
                v.get("detail").is_none() && v.get("detail-type").is_none(),
                "{name}: raw is the detail"
            );
            assert!(v.get("schemaVersion").is_some());
        }
    }
    let (records, _) = read("eventbridge-array.json");
    assert_eq!(
        records[0].finding.finding_type,
        "Execution:Kubernetes/ExecInKubeSystemPod"
    );
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn aws_cli_pascal_case_output() {
    let (records, rejects) = read("cli-pascal.json");
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_raw_exact(&records, &text("cli-pascal.json"));
    let (camel, _) = read("getfindings.json");
    let (bare, _) = read("bare-finding.json");
    // The same findings in camelCase normalize identically.
    assert_eq!(records[0].finding, camel[0].finding);
    assert_eq!(records[1].finding, bare[0].finding);
}

#[test]
fn old_data_epoch_millis_numeric_asn_and_missing_blocks() {
    let (records, rejects) = read("old-data.jsonl");
    assert!(rejects.is_empty(), "{rejects:?}");
    let ssh = &records[0].finding;
    assert_eq!(ssh.count, 37, "string count");
    assert_eq!(ssh.resource_key.as_deref(), Some("i-99999999"));
    assert_eq!(ssh.activity.remote_ips, ["203.0.113.77"]);
    assert_eq!(ssh.activity.remote_orgs, ["Chinanet"]);
    assert_eq!(ssh.detector_id, None);
    let minimal = &records[1].finding;
    assert_eq!(minimal.account_id, "444455556666");
    assert_eq!(minimal.severity, 5.0);
    assert_eq!(minimal.created_at, 1_551_434_400_000, "epoch seconds");
    assert_eq!(minimal.updated_at, 1_551_438_000_500);
    assert_eq!(minimal.resource_type, "");
    assert_eq!(minimal.count, 1);
    assert_eq!(minimal.partition, "aws");
}

#[test]
fn attack_sequence_signals_actors_resources_endpoints_indicators() {
    let (records, rejects) = read("attack-sequence.json");
    assert!(rejects.is_empty(), "{rejects:?}");
    let f = &records[0].finding;
    assert!(f.is_attack_sequence());
    insta::assert_json_snapshot!("attack_sequence", f.sequence);
}

#[test]
fn concatenated_pretty_objects_like_jq_output() {
    let (records, rejects) = read("concatenated.json");
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(records.len(), 2);
    assert_raw_exact(&records, &text("concatenated.json"));
    assert_eq!(records[0].line, 1);
    assert!(records[1].line > 1);
    assert_eq!(
        records[1].finding.resource_key.as_deref(),
        Some("thumbnailer")
    );
}

#[test]
fn corrupt_ndjson_line_is_rejected_by_line_and_the_rest_imported() {
    let (records, rejects) = read("corrupt-line.jsonl");
    assert_eq!(records.len(), 2);
    assert_eq!(records.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 5]);
    let got: Vec<(u64, &str)> = rejects.iter().map(|r| (r.line, r.code.as_str())).collect();
    assert_eq!(
        got,
        [
            (2, "invalid_json"),
            (3, "missing_field"),
            (4, "unsupported_shape")
        ]
    );
    assert!(
        rejects[1]
            .reason
            .contains("5ab2c3d4e5f60718293a4b5c6d7e8f9c"),
        "{}",
        rejects[1].reason
    );
    assert!(rejects[1].reason.contains("`type`"));
    assert!(rejects
        .iter()
        .all(|r| r.source.ends_with("corrupt-line.jsonl")));
}

#[test]
fn corrupt_document_is_one_reject_with_its_position() {
    let (records, rejects) = read("corrupt-document.json");
    // The first element was complete before the corruption and is imported.
    assert_eq!(ids(&records), ["b1b2c3d4e5f60718293a4b5c6d7e8f91"]);
    assert_eq!(rejects.len(), 1);
    let bad_line = text("corrupt-document.json")
        .lines()
        .position(|l| l.contains("[oops"))
        .unwrap() as u64
        + 1;
    assert_eq!(rejects[0].code, "invalid_json");
    assert_eq!(rejects[0].line, bad_line, "{}", rejects[0].reason);
}

#[test]
fn s3_export_tree_is_walked_in_sorted_order_through_gzip() {
    let (records, rejects) = read("s3-export");
    assert!(rejects.is_empty(), "{rejects:?}");
    let days: Vec<String> = records
        .iter()
        .map(|r| r.source.split("us-east-1/").nth(1).unwrap().to_string())
        .collect();
    assert_eq!(
        days,
        [
            "2024/05/01/a8b7c6d5-0001.jsonl.gz",
            "2024/05/01/a8b7c6d5-0001.jsonl.gz",
            "2024/05/01/a8b7c6d5-0002.jsonl.gz",
            "2024/05/02/b8b7c6d5-0001.jsonl.gz",
            "2024/05/02/b8b7c6d5-0001.jsonl.gz",
        ]
    );
    // The same finding id twice: a later version (count 20) in the later file.
    assert_eq!(records[0].finding.id, records[3].finding.id);
    assert_eq!(records[3].finding.count, 20);
    let mut decompressed = String::new();
    flate2_read(
        &fixture(
            "s3-export/AWSLogs/111122223333/GuardDuty/us-east-1/2024/05/01/a8b7c6d5-0001.jsonl.gz",
        ),
        &mut decompressed,
    );
    assert_eq!(records[0].raw, decompressed.lines().next().unwrap());
}

fn flate2_read(path: &std::path::Path, out: &mut String) {
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_string(out)
        .unwrap();
}

#[test]
fn gzip_is_sniffed_by_magic_bytes_not_the_name() {
    let (records, rejects) = read("gzip-no-extension.jsonl");
    assert!(rejects.is_empty(), "{rejects:?}");
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].finding.resource_key.as_deref(),
        Some("prod-customer-data")
    );
}

#[test]
fn unreadable_inputs_are_rejects_not_failures() {
    let (records, rejects) = read("does-not-exist.json");
    assert!(records.is_empty());
    assert_eq!(rejects[0].code, "io_error");
    assert_eq!(rejects[0].line, 0);
}

/// Hand-written Lambda test events keep only `region` and `detail` (or just `detail`): still
/// events, whose finding is the `detail`.
#[test]
fn eventbridge_events_without_detail_type_or_source() {
    for (name, count) in [
        ("eventbridge-lambda-test.json", 1),
        ("eventbridge-lambda-test.jsonl", 2),
    ] {
        let (records, rejects) = read(name);
        assert!(rejects.is_empty(), "{name}: {rejects:?}");
        assert_eq!(records.len(), count, "{name}");
        assert_raw_exact(&records, &text(name));
    }
    let (records, _) = read("eventbridge-lambda-test.json");
    let (full, _) = read("eventbridge-single.json");
    assert_eq!(records[0].finding, full[0].finding);
    assert_eq!(records[0].raw, full[0].raw);
}
