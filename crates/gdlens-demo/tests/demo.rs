//! The generator's contract: determinism, the wire shape every record has, a realistic
//! distribution, and planted stories and decoys that are what the truth says they are.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use gdlens_demo::{DemoOptions, Generator, Truth};
use gdlens_domain::{normalize, Finding, SeverityLabel};
use serde_json::Value;

const NOW_MS: i64 = 1_780_000_000_000; // 2026-05-28T20:26:40Z

fn opts(seed: u64, findings: usize) -> DemoOptions {
    DemoOptions {
        seed,
        accounts: 60,
        regions: 4,
        findings,
        days: 30,
        now_ms: NOW_MS,
    }
}

fn ndjson(o: &DemoOptions) -> (Vec<u8>, Truth) {
    let mut out = Vec::new();
    let truth = gdlens_demo::write_ndjson(o, &mut out).expect("generate");
    (out, truth)
}

/// One default-sized run shared by the tests: (raw records, normalized findings, truth).
struct Run {
    raw: Vec<Value>,
    findings: Vec<Finding>,
    truth: Truth,
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let (bytes, truth) = ndjson(&opts(7, 20_000));
        let raw: Vec<Value> = bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).expect("each line is JSON"))
            .collect();
        let findings = raw
            .iter()
            .enumerate()
            .map(|(i, v)| {
                normalize(v).unwrap_or_else(|e| panic!("record {i} does not normalize: {e}"))
            })
            .collect();
        Run {
            raw,
            findings,
            truth,
        }
    })
}

/// Latest version of each finding by id.
fn latest(run: &Run) -> BTreeMap<&str, &Finding> {
    let mut m: BTreeMap<&str, &Finding> = BTreeMap::new();
    for f in &run.findings {
        m.insert(&f.id, f);
    }
    m
}

fn by_id<'a>(run: &'a Run, id: &str) -> &'a Finding {
    latest(run)
        .get(id)
        .copied()
        .unwrap_or_else(|| panic!("truth id {id} not in the output"))
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, ta) = ndjson(&opts(42, 3_000));
    let (b, tb) = ndjson(&opts(42, 3_000));
    assert_eq!(a, b);
    assert_eq!(ta, tb);
    let (c, tc) = ndjson(&opts(43, 3_000));
    assert_ne!(a, c);
    assert_ne!(ta, tc);
    let g: Vec<String> = Generator::new(&opts(42, 3_000))
        .unwrap()
        .map(|r| r.to_json())
        .collect();
    let lines: Vec<&str> = std::str::from_utf8(&a).unwrap().lines().collect();
    assert_eq!(
        g, lines,
        "the iterator and write_ndjson agree line for line"
    );
}

#[test]
fn writes_exactly_the_requested_number_of_records() {
    assert_eq!(run().raw.len(), 20_000);
    for n in [0usize, 1, 7, 60, 999] {
        assert_eq!(
            Generator::new(&opts(1, n)).unwrap().count(),
            n,
            "findings = {n}"
        );
    }
}

#[test]
fn every_record_has_the_get_findings_wire_shape() {
    let run = run();
    let start = NOW_MS - 30 * 86_400_000;
    for (v, f) in run.raw.iter().zip(&run.findings) {
        assert_eq!(v["schemaVersion"], "2.0");
        assert_eq!(v["partition"], "aws");
        assert_eq!(f.id.len(), 32);
        assert!(
            f.id.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()),
            "{}",
            f.id
        );
        assert_eq!(f.account_id.len(), 12);
        let detector = f.detector_id.as_deref().expect("detectorId");
        assert_eq!(
            f.arn,
            format!(
                "arn:aws:guardduty:{}:{}:detector/{detector}/finding/{}",
                f.region, f.account_id, f.id
            )
        );
        assert!(!f.title.is_empty() && !f.description.is_empty());
        for t in [f.created_at, f.updated_at, f.first_seen(), f.last_seen()] {
            assert!(
                (start..=NOW_MS).contains(&t),
                "{} has a time outside the window",
                f.id
            );
        }
        assert!(
            f.created_at <= f.updated_at && f.first_seen() <= f.last_seen(),
            "{}",
            f.id
        );
        assert!(
            v["createdAt"].as_str().unwrap().ends_with('Z')
                && v["createdAt"].as_str().unwrap().contains('.')
        );
        let info = &v["service"]["additionalInfo"];
        assert_eq!(info["type"], "default");
        let inner: Value =
            serde_json::from_str(info["value"].as_str().expect("value string")).unwrap();
        for (k, x) in inner.as_object().unwrap() {
            assert_eq!(&info[k], x, "additionalInfo.{k} and its value string agree");
        }
        assert!(f.feature_name.is_some() && f.resource_role.is_some());
        let action = &v["service"]["action"];
        match f.feature_name.as_deref() {
            Some("RuntimeMonitoring") => {
                assert_eq!(action, &serde_json::json!({}));
                assert!(v["service"]["runtimeDetails"]["process"]["name"].is_string());
            }
            Some("EbsMalwareProtection" | "S3MalwareProtection") => {
                assert_eq!(action, &serde_json::json!({}))
            }
            _ if f.is_attack_sequence() => {}
            _ => assert!(
                f.activity.action_type.is_some(),
                "{} has no action type",
                f.finding_type
            ),
        }
        if let Some(asn) =
            v.pointer("/service/action/awsApiCallAction/remoteIpDetails/organization/asn")
        {
            assert!(asn.is_string(), "asn is a string on the wire");
        }
    }
}

#[test]
fn resource_keys_come_out_of_the_resource_sub_objects() {
    let run = run();
    let mut seen = BTreeSet::new();
    for (v, f) in run.raw.iter().zip(&run.findings) {
        let r = &v["resource"];
        let expected = match f.resource_type.as_str() {
            "Instance" => r["instanceDetails"]["instanceId"].as_str(),
            "AccessKey" => r["accessKeyDetails"]["accessKeyId"].as_str(),
            // A sequence names its main resource with that resource's own sub-object.
            "AttackSequence" => r["accessKeyDetails"]["accessKeyId"]
                .as_str()
                .or(r["s3BucketDetails"][0]["name"].as_str())
                .or(r["eksClusterDetails"]["name"].as_str())
                .or(r["ecsClusterDetails"]["name"].as_str())
                .or(r["instanceDetails"]["instanceId"].as_str()),
            "S3Bucket" | "S3Object" => r["s3BucketDetails"][0]["name"].as_str(),
            "EKSCluster" => r["eksClusterDetails"]["name"].as_str(),
            "ECSCluster" => r["ecsClusterDetails"]["name"].as_str(),
            "Lambda" => r["lambdaDetails"]["functionName"].as_str(),
            "RDSDBInstance" => r["rdsDbInstanceDetails"]["dbInstanceIdentifier"].as_str(),
            other => panic!("unexpected resource type {other}"),
        };
        assert!(
            expected.is_some(),
            "{} lacks its {} sub-object",
            f.id,
            f.resource_type
        );
        assert_eq!(
            f.resource_key.as_deref(),
            expected,
            "{} ({})",
            f.id,
            f.resource_type
        );
        seen.insert(f.resource_type.clone());
        if f.resource_type == "Instance" {
            let nic = &r["instanceDetails"]["networkInterfaces"][0];
            for key in ["privateIpAddress", "vpcId", "subnetId", "securityGroups"] {
                assert!(!nic[key].is_null(), "networkInterfaces[0].{key}");
            }
            assert!(f.resource.instance_profile_arn.is_some());
        }
        if f.resource_type == "EKSCluster"
            && !r["kubernetesDetails"]["kubernetesWorkloadDetails"].is_null()
        {
            let w = &r["kubernetesDetails"]["kubernetesWorkloadDetails"];
            assert!(
                w["uid"].is_string()
                    && w["namespace"].is_string()
                    && w["containers"][0]["image"].is_string()
            );
            assert!(
                f.resource.kubernetes_workload_uid.is_some()
                    && f.resource.container_image.is_some()
            );
        }
    }
    for t in [
        "Instance",
        "AccessKey",
        "S3Bucket",
        "EKSCluster",
        "ECSCluster",
        "Lambda",
        "RDSDBInstance",
        "AttackSequence",
    ] {
        assert!(seen.contains(t), "no {t} finding in 20000");
    }
}

#[test]
fn severities_follow_the_default_severity_of_each_type() {
    let catalog: BTreeMap<&str, &str> = include_str!("../data/guardduty-finding-types.tsv")
        .lines()
        .skip(1)
        .filter_map(|l| {
            let c: Vec<&str> = l.split('\t').collect();
            Some((c[0], *c.get(2)?))
        })
        .collect();
    for f in &run().findings {
        let default = catalog
            .get(f.finding_type.as_str())
            .unwrap_or_else(|| panic!("unknown type {}", f.finding_type));
        let label = f.severity_label();
        let want = match default.trim_end_matches('*') {
            "Low" => Some(SeverityLabel::Low),
            "Medium" => Some(SeverityLabel::Medium),
            "High" => Some(SeverityLabel::High),
            "Critical" => Some(SeverityLabel::Critical),
            _ => None,
        };
        if let Some(want) = want {
            assert_eq!(label, want, "{} severity {}", f.finding_type, f.severity);
        }
        assert!((1.0..=10.0).contains(&f.severity));
    }
}

#[test]
fn distribution_has_a_long_tail_noisy_accounts_and_the_oddities_of_real_data() {
    let run = run();
    let latest = latest(run);
    let mut by_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_account: BTreeMap<&str, usize> = BTreeMap::new();
    let mut by_resource: BTreeMap<&str, usize> = BTreeMap::new();
    for f in latest.values() {
        *by_type.entry(&f.finding_type).or_default() += 1;
        *by_account.entry(&f.account_id).or_default() += 1;
        if let Some(k) = &f.resource_key {
            *by_resource.entry(k).or_default() += 1;
        }
    }
    let n = latest.len() as f64;
    let mut counts: Vec<usize> = by_type.values().copied().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    assert!(by_type.len() >= 120, "only {} types", by_type.len());
    assert!(
        counts[0] as f64 / n > 0.10,
        "head type share {}",
        counts[0] as f64 / n
    );
    assert!(
        counts.iter().filter(|c| **c <= 5).count() >= 20,
        "rare types: {:?}",
        &counts[counts.len() - 30..]
    );
    let mut acc: Vec<usize> = by_account.values().copied().collect();
    acc.sort_unstable();
    let median = acc[acc.len() / 2];
    assert!(
        *acc.last().unwrap() >= 5 * median,
        "noisiest account {} vs median {median}",
        acc.last().unwrap()
    );
    assert!(
        by_resource.values().any(|c| *c >= 100),
        "no very noisy resource"
    );

    let archived = latest.values().filter(|f| f.archived).count() as f64 / n;
    assert!(
        (0.03..0.10).contains(&archived),
        "archived share {archived}"
    );
    assert!(latest.values().any(|f| f.sample), "no sample finding");
    let repeated = latest.values().filter(|f| f.count > 1).count() as f64 / n;
    assert!(repeated > 0.2, "repeated activity share {repeated}");

    // Updated versions: same id again, later in the stream, later and larger.
    let mut previous: BTreeMap<&str, &Finding> = BTreeMap::new();
    let mut versions = 0;
    for f in &run.findings {
        if let Some(p) = previous.get(f.id.as_str()) {
            versions += 1;
            assert!(
                f.updated_at > p.updated_at,
                "{}: updatedAt must move forward",
                f.id
            );
            assert!(f.count > p.count, "{}: count must grow", f.id);
            assert!(
                f.last_seen() >= p.last_seen(),
                "{}: eventLastSeen must not go back",
                f.id
            );
            assert_eq!(
                (f.created_at, &f.finding_type, &f.resource_key),
                (p.created_at, &p.finding_type, &p.resource_key)
            );
        }
        previous.insert(&f.id, f);
    }
    assert!(
        versions as f64 > 0.04 * n,
        "only {versions} updated versions"
    );
}

/// Remote IPs of every finding not planted (noise).
fn noise_entities(run: &Run) -> (BTreeSet<&str>, BTreeSet<&str>) {
    let planted: BTreeSet<&str> = run
        .truth
        .stories
        .iter()
        .flat_map(|s| s.finding_ids.iter())
        .chain(run.truth.decoys.iter().flat_map(|d| d.finding_ids.iter()))
        .map(String::as_str)
        .collect();
    let mut keys = BTreeSet::new();
    let mut ips = BTreeSet::new();
    for f in run
        .findings
        .iter()
        .filter(|f| !planted.contains(f.id.as_str()))
    {
        keys.extend(f.resource.instance_id.as_deref());
        keys.extend(f.resource.access_key_id.as_deref());
        keys.extend(f.resource.kubernetes_workload_uid.as_deref());
        keys.extend(f.resource.eks_cluster.as_deref());
        ips.extend(f.activity.remote_ips.iter().map(String::as_str));
    }
    (keys, ips)
}

#[test]
fn truth_ids_exist_and_every_kind_is_planted_several_times() {
    let run = run();
    let ids: BTreeSet<&str> = run.findings.iter().map(|f| f.id.as_str()).collect();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let mut all = BTreeSet::new();
    for s in &run.truth.stories {
        *kinds.entry(&s.kind).or_default() += 1;
        // An escalation within one tactic can be two findings (attempts, then the success).
        let min = if s.kind == "rds-brute-force-login" {
            2
        } else {
            3
        };
        assert!(
            s.finding_ids.len() >= min,
            "{} has {} findings",
            s.name,
            s.finding_ids.len()
        );
        for id in &s.finding_ids {
            assert!(ids.contains(id.as_str()), "{}: {id} missing", s.name);
            assert!(all.insert(id.clone()), "{id} is in two stories");
        }
    }
    assert_eq!(kinds.len(), gdlens_demo::STORY_KINDS.len(), "{kinds:?}");
    assert!(
        kinds.values().all(|n| *n == 4),
        "one of each per 5000 records: {kinds:?}"
    );
    for d in &run.truth.decoys {
        for id in &d.finding_ids {
            assert!(ids.contains(id.as_str()), "{}: {id} missing", d.name);
            assert!(all.insert(id.clone()), "{id} is planted twice");
        }
    }
    assert_eq!(run.truth.seed, 7);
}

#[test]
fn stories_share_their_entities_and_noise_never_touches_them() {
    let run = run();
    let (noise_keys, noise_ips) = noise_entities(run);
    for s in &run.truth.stories {
        let members: Vec<&Finding> = s.finding_ids.iter().map(|id| by_id(run, id)).collect();
        let mut span: Vec<i64> = members
            .iter()
            .flat_map(|f| [f.first_seen(), f.last_seen()])
            .collect();
        span.sort_unstable();
        assert!(
            span.last().unwrap() - span[0] <= 36 * 3_600_000,
            "{} spans too long",
            s.name
        );
        for (kind, values) in &s.entities {
            for v in values {
                if kind == "remoteIp" {
                    assert!(
                        !noise_ips.contains(v.as_str()),
                        "{}: noise uses story address {v}",
                        s.name
                    );
                } else if ["instanceId", "accessKeyId", "workloadUid", "eksCluster"]
                    .contains(&kind.as_str())
                {
                    assert!(
                        !noise_keys.contains(v.as_str()),
                        "{}: noise uses story {kind} {v}",
                        s.name
                    );
                }
            }
        }
        let types: Vec<&str> = members.iter().map(|f| f.finding_type.as_str()).collect();
        match s.kind.as_str() {
            "ec2-ssh-credential-exfiltration" => {
                assert_eq!(
                    &types[..3],
                    [
                        "Recon:EC2/PortProbeUnprotectedPort",
                        "UnauthorizedAccess:EC2/SSHBruteForce",
                        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"
                    ]
                );
                let instance = &s.entities["instanceId"][0];
                assert!(members
                    .iter()
                    .take(3)
                    .all(|f| f.resource.instance_id.as_ref() == Some(instance)));
                assert_eq!(
                    members[0].activity.remote_ips, members[1].activity.remote_ips,
                    "probe and brute force share X"
                );
                assert_eq!(members[0].activity.local_ports, vec![22]);
                assert_eq!(
                    members[1].resource_role,
                    Some(gdlens_domain::ResourceRole::Target)
                );
                let exfil = members[2];
                assert_eq!(exfil.resource_type, "AccessKey");
                assert!(exfil
                    .resource
                    .access_key_id
                    .as_deref()
                    .unwrap()
                    .starts_with("ASIA"));
                assert!(exfil
                    .resource
                    .principal_id
                    .as_deref()
                    .unwrap()
                    .ends_with(&format!(":{instance}")));
                assert_eq!(exfil.resource.user_type.as_deref(), Some("AssumedRole"));
                assert!(exfil
                    .resource
                    .instance_profile_arn
                    .as_deref()
                    .unwrap()
                    .ends_with(&format!(
                        "/{}",
                        exfil.resource.user_name.as_deref().unwrap()
                    )));
                assert_ne!(exfil.activity.remote_ips, members[0].activity.remote_ips);
                for f in &members[3..] {
                    assert_eq!(f.resource.access_key_id, exfil.resource.access_key_id);
                }
                for w in members.windows(2) {
                    assert!(
                        w[1].first_seen() > w[0].first_seen()
                            && w[1].first_seen() - w[0].last_seen() <= 24 * 3_600_000
                    );
                }
            }
            "iam-tor-s3-exfiltration" => {
                assert_eq!(
                    types,
                    [
                        "UnauthorizedAccess:IAMUser/TorIPCaller",
                        "Discovery:IAMUser/AnomalousBehavior",
                        "Persistence:IAMUser/AnomalousBehavior",
                        "Exfiltration:S3/AnomalousBehavior"
                    ]
                );
                let key = members[0].resource.access_key_id.clone();
                assert!(members.iter().all(|f| f.resource.access_key_id == key));
                assert_eq!(members[3].resource.buckets, s.entities["bucket"]);
                assert_ne!(
                    members[3].account_id, members[0].account_id,
                    "cross-account"
                );
                assert_eq!(
                    members[3].activity.remote_account_id.as_deref(),
                    Some(members[0].account_id.as_str())
                );
                assert!(members[0].activity.remote_ips[0].starts_with("185.220."));
            }
            "eks-anonymous-exec-miner" => {
                assert!(
                    types[0] == "Discovery:Kubernetes/SuccessfulAnonymousAccess"
                        || types[0] == "Policy:Kubernetes/AnonymousAccessGranted"
                );
                assert_eq!(
                    &types[1..],
                    [
                        "Execution:Kubernetes/ExecInKubeSystemPod",
                        "CryptoCurrency:Runtime/BitcoinTool.B"
                    ]
                );
                assert!(members
                    .iter()
                    .all(|f| f.resource.eks_cluster == members[0].resource.eks_cluster));
                assert_eq!(
                    members[0].resource.kubernetes_user.as_deref(),
                    Some("system:anonymous")
                );
                assert_eq!(
                    members[1].resource.kubernetes_workload_uid,
                    members[2].resource.kubernetes_workload_uid
                );
                assert_eq!(
                    members[1].resource.container_image,
                    members[2].resource.container_image
                );
                assert_eq!(
                    members[1].resource.kubernetes_namespace.as_deref(),
                    Some("kube-system")
                );
                assert_eq!(members[2].activity.action_type, None);
            }
            "ec2-cryptomining-c2" => {
                assert_eq!(
                    types,
                    [
                        "CryptoCurrency:EC2/BitcoinTool.B!DNS",
                        "Backdoor:EC2/C&CActivity.B!DNS",
                        "Trojan:EC2/BlackholeTraffic"
                    ]
                );
                assert!(members
                    .iter()
                    .all(|f| f.resource.instance_id == members[0].resource.instance_id));
            }
            "attack-sequence-compromised-credentials" => {
                let seq_finding = members[0];
                assert_eq!(
                    seq_finding.finding_type,
                    "AttackSequence:IAM/CompromisedCredentials"
                );
                assert_eq!(seq_finding.resource_type, "AttackSequence");
                assert!(seq_finding.severity >= 9.0);
                let seq = seq_finding
                    .sequence
                    .as_ref()
                    .expect("service.detection.sequence");
                let member_ids: Vec<&str> = s.finding_ids[1..].iter().map(String::as_str).collect();
                assert!((3..=5).contains(&member_ids.len()));
                let signal_ids: Vec<&str> = seq
                    .signals
                    .iter()
                    .filter(|x| x.signal_type == "FINDING")
                    .map(|x| x.uid.as_str())
                    .collect();
                assert_eq!(signal_ids, member_ids);
                for (sig, f) in seq.signals.iter().zip(&members[1..]) {
                    assert_eq!(sig.name, f.finding_type);
                    assert_eq!(
                        sig.first_seen_at.map(|t| t / 1000),
                        Some(f.first_seen() / 1000)
                    );
                    assert_eq!(
                        f.associated_attack_sequence_arn.as_deref(),
                        Some(seq_finding.arn.as_str())
                    );
                    assert_eq!(f.account_id, seq_finding.account_id);
                }
                assert!(
                    seq.tactic_names().any(|t| t == "Discovery")
                        && seq.tactic_names().any(|t| t == "Persistence")
                );
                assert!(seq.indicators.iter().any(|i| i.key == "HIGH_RISK_API"));
                assert_eq!(
                    seq.actors[0].credential_uid,
                    seq_finding.resource.access_key_id
                );
                assert_eq!(
                    seq.actors[0].account_id.as_deref(),
                    Some(seq_finding.account_id.as_str())
                );
                assert!(seq.endpoints[0].ip.is_some() && seq.endpoints[0].country.is_some());
                assert_eq!(seq.resources[0].uid, s.entities["accessKeyId"][0]);
            }
            "rds-brute-force-login" => {
                // Attempts, then the success, on one database from one address: one tactic.
                assert!(types.last().unwrap().contains("Successful"), "{types:?}");
                assert!(types[..types.len() - 1]
                    .iter()
                    .all(|t| t.ends_with("FailedLogin")));
                assert!(members.iter().all(|f| f.resource.db_instance
                    == members[0].resource.db_instance
                    && f.activity.remote_ips == members[0].activity.remote_ips));
                assert!(members.last().unwrap().severity > members[0].severity);
            }
            "cross-account-stolen-key" => {
                assert_eq!(
                    types,
                    [
                        "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.InsideAWS",
                        "Discovery:S3/AnomalousBehavior",
                        "Exfiltration:S3/AnomalousBehavior"
                    ]
                );
                // The key of account A, used on account B's bucket.
                assert_ne!(members[0].account_id, members[1].account_id);
                assert!(members
                    .iter()
                    .all(|f| f.resource.access_key_id == members[0].resource.access_key_id));
                assert_eq!(
                    members[0].activity.remote_account_id.as_deref(),
                    Some(members[1].account_id.as_str())
                );
            }
            "one-address-several-accounts" => {
                let accounts: BTreeSet<&str> =
                    members.iter().map(|f| f.account_id.as_str()).collect();
                assert_eq!(accounts.len(), 3);
                assert!(members
                    .iter()
                    .all(|f| f.activity.remote_ips == members[0].activity.remote_ips));
                let keys: BTreeSet<_> = members
                    .iter()
                    .map(|f| f.resource.access_key_id.clone())
                    .collect();
                assert_eq!(keys.len(), 3, "a different credential in each account");
            }
            kind @ ("attack-sequence-compromised-data"
            | "attack-sequence-eks-compromised-cluster"
            | "attack-sequence-ecs-compromised-cluster"
            | "attack-sequence-compromised-instance-group") => {
                let seq_finding = members[0];
                let want = match kind {
                    "attack-sequence-compromised-data" => "AttackSequence:S3/CompromisedData",
                    "attack-sequence-eks-compromised-cluster" => {
                        "AttackSequence:EKS/CompromisedCluster"
                    }
                    "attack-sequence-ecs-compromised-cluster" => {
                        "AttackSequence:ECS/CompromisedCluster"
                    }
                    _ => "AttackSequence:EC2/CompromisedInstanceGroup",
                };
                assert_eq!(seq_finding.finding_type, want);
                assert!(seq_finding.severity >= 9.0);
                let seq = seq_finding.sequence.as_ref().expect("sequence");
                let signal_ids: Vec<&str> = seq
                    .signals
                    .iter()
                    .filter(|x| x.signal_type == "FINDING")
                    .map(|x| x.uid.rsplit('/').next().unwrap())
                    .collect();
                let member_ids: Vec<&str> = s.finding_ids[1..].iter().map(String::as_str).collect();
                assert_eq!(signal_ids, member_ids);
                // Raw-event signals of other types, and indicators beyond tactics.
                assert!(seq.signals.iter().any(|x| x.signal_type != "FINDING"));
                assert!(seq.indicators.iter().any(|i| i.key == "ATTACK_TACTIC"));
                assert!(seq.indicators.len() >= 3);
                assert!(!seq.actors.is_empty() && !seq.resources.is_empty());
                assert!(!seq.endpoints.is_empty());
                for f in &members[1..] {
                    assert_eq!(
                        f.associated_attack_sequence_arn.as_deref(),
                        Some(seq_finding.arn.as_str())
                    );
                }
            }
            other => panic!("unknown story kind {other}"),
        }
    }
}

#[test]
fn decoys_are_large_spread_and_share_only_their_address() {
    let run = run();
    let (_, noise_ips) = noise_entities(run);
    let scanner = run
        .truth
        .decoys
        .iter()
        .find(|d| d.name == "scanner-ip")
        .expect("scanner decoy");
    let nat = run
        .truth
        .decoys
        .iter()
        .find(|d| d.name == "shared-nat")
        .expect("NAT decoy");
    for (decoy, min, min_accounts) in [(scanner, 300, 40), (nat, 150, 40)] {
        assert!(
            decoy.finding_ids.len() >= min,
            "{} has {}",
            decoy.name,
            decoy.finding_ids.len()
        );
        assert!(
            decoy.accounts.len() >= min_accounts,
            "{} spans {} accounts",
            decoy.name,
            decoy.accounts.len()
        );
        assert!(
            !noise_ips.contains(decoy.ip.as_str()),
            "noise uses the {} address",
            decoy.name
        );
        for id in &decoy.finding_ids {
            assert!(
                by_id(run, id).activity.remote_ips.contains(&decoy.ip),
                "{id} lacks {}",
                decoy.name
            );
        }
    }
    let instances: BTreeSet<_> = scanner
        .finding_ids
        .iter()
        .map(|id| by_id(run, id).resource.instance_id.clone())
        .collect();
    assert_eq!(
        instances.len(),
        scanner.finding_ids.len(),
        "the scanner probes a different instance each time"
    );
    assert!(scanner.finding_ids.iter().all(|id| by_id(run, id)
        .finding_type
        .starts_with("Recon:EC2/PortProbe")));
    let keys: BTreeSet<_> = nat
        .finding_ids
        .iter()
        .map(|id| by_id(run, id).resource.access_key_id.clone())
        .collect();
    assert!(
        keys.len() > nat.finding_ids.len() / 2,
        "NAT findings are unrelated credentials"
    );
    assert!(nat
        .finding_ids
        .iter()
        .all(|id| by_id(run, id).activity.action_type.as_deref() == Some("AWS_API_CALL")));
}

#[test]
fn accounts_have_names_owners_and_a_few_critical_ones() {
    let o = opts(7, 10);
    let accounts = gdlens_demo::accounts(&o);
    assert_eq!(accounts.len(), 60);
    let ids: BTreeSet<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids.len(), 60);
    assert!(accounts
        .iter()
        .all(|a| a.id.len() == 12 && a.id.bytes().all(|b| b.is_ascii_digit())));
    let names: BTreeSet<&str> = accounts.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names.len(), 60);
    assert!(names.iter().any(|n| n.starts_with("prod-")));
    let critical = accounts
        .iter()
        .filter(|a| a.criticality == gdlens_domain::Criticality::Critical)
        .count();
    assert!((2..=6).contains(&critical), "{critical} critical accounts");
    assert!(accounts.iter().all(|a| !a.owner.is_empty()));

    let toml_text = gdlens_demo::account_config_toml(&accounts).unwrap();
    assert!(
        toml_text.starts_with("[[accounts]]\nid = \""),
        "{}",
        &toml_text[..60]
    );
    #[derive(serde::Deserialize)]
    struct Config {
        accounts: Vec<gdlens_domain::Account>,
    }
    let parsed: Config = toml::from_str(&toml_text).unwrap();
    assert_eq!(parsed.accounts, accounts);
    // Findings only name known accounts.
    let known: BTreeSet<&str> = gdlens_demo::accounts(&opts(7, 0))
        .iter()
        .map(|a| a.id.clone())
        .collect::<Vec<_>>()
        .leak()
        .iter()
        .map(String::as_str)
        .collect();
    assert!(run()
        .findings
        .iter()
        .all(|f| known.contains(f.account_id.as_str())));
}

#[test]
fn bad_options_are_named() {
    for (o, option) in [
        (
            DemoOptions {
                accounts: 0,
                ..opts(1, 1)
            },
            "accounts",
        ),
        (
            DemoOptions {
                regions: 0,
                ..opts(1, 1)
            },
            "regions",
        ),
        (
            DemoOptions {
                regions: 99,
                ..opts(1, 1)
            },
            "regions",
        ),
        (
            DemoOptions {
                days: 0,
                ..opts(1, 1)
            },
            "days",
        ),
    ] {
        let err = Generator::new(&o).unwrap_err();
        assert_eq!(err.code(), "invalid_option");
        assert!(err.to_string().contains(&format!("`{option}`")), "{err}");
    }
}

#[test]
fn first_record_snapshot() {
    let first = Generator::new(&DemoOptions {
        findings: 1_000,
        ..opts(7, 0)
    })
    .unwrap()
    .next()
    .unwrap();
    insta::assert_snapshot!(serde_json::to_string_pretty(first.json()).unwrap());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
    #[test]
    fn any_small_run_is_complete_and_normalizes(seed in 0u64..1_000_000, findings in 0usize..400, accounts in 1usize..8, regions in 1usize..5, days in 1u32..5) {
        let o = DemoOptions { seed, accounts, regions, findings, days, now_ms: NOW_MS };
        let g = Generator::new(&o).unwrap();
        let truth = g.truth().clone();
        let mut ids = BTreeSet::new();
        let mut n = 0;
        for r in g {
            let f = normalize(&r.to_value()).unwrap();
            proptest::prop_assert!(f.updated_at <= NOW_MS && f.first_seen() >= NOW_MS - i64::from(days) * 86_400_000);
            ids.insert(f.id);
            n += 1;
        }
        proptest::prop_assert_eq!(n, findings);
        for id in truth.stories.iter().flat_map(|s| &s.finding_ids).chain(truth.decoys.iter().flat_map(|d| &d.finding_ids)) {
            proptest::prop_assert!(ids.contains(id));
        }
    }
}

/// Planning a 10M run used to spin forever: it plans 2,000 Tor stories and there are 762 Tor
/// exit addresses. Past the range, stories take unique addresses from the overflow range, so
/// every story still has an address of its own (stories must not merge through one).
#[test]
fn large_runs_plan_every_story_with_its_own_address() {
    let generator = Generator::new(&opts(3, 5_000_000)).expect("plan");
    let truth = generator.truth();
    let tor: Vec<&String> = truth
        .stories
        .iter()
        .filter(|s| s.kind == "iam-tor-s3-exfiltration")
        .flat_map(|s| s.entities.get("remoteIp").into_iter().flatten())
        .collect();
    assert!(tor.len() > 762, "{} Tor stories", tor.len());
    let distinct: BTreeSet<&String> = tor.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        tor.len(),
        "a Tor address is shared by two stories"
    );
    assert!(tor.iter().any(|ip| ip.starts_with("198.18.")));
}
