//! Writes the seeded random parity vectors `tests/wasm/vectors/random-*.json` (inputs only; the
//! expected outputs are written by `GDLENS_BLESS=1 cargo test -p gdlens-scoring --test parity`).
//!
//! `cargo run -p gdlens-scoring --example parity_vectors -- tests/wasm/vectors`

use std::path::PathBuf;

use anyhow::Context;
use gdlens_domain::{SeverityLabel, TriageStatus};
use gdlens_scoring::{
    resource_exposure, type_count_column, CodeColumns, Dictionaries, FeatureColumns, FeatureRow,
    FilterSpec, FindingColumns, Weights, NO_RESOURCE,
};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;

const TYPES: [(&str, &str); 16] = [
    ("Recon:EC2/PortProbeUnprotectedPort", "Unprotected port on EC2 instance {} is being probed."),
    ("UnauthorizedAccess:EC2/SSHBruteForce", "{} is performing SSH brute force attacks."),
    ("CryptoCurrency:EC2/BitcoinTool.B!DNS", "EC2 instance {} is querying a domain name associated with Bitcoin."),
    ("UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "Credentials for instance role {} used from external IP address."),
    ("Discovery:S3/AnomalousBehavior", "Anomalous S3 API calls against bucket {}."),
    ("Policy:IAMUser/RootCredentialUsage", "API ListBuckets was invoked using root credentials from {}."),
    ("Backdoor:EC2/C&CActivity.B!DNS", "EC2 instance {} is querying a domain name associated with a known command and control server."),
    ("Execution:Runtime/NewBinaryExecuted", "A newly created or modified binary file was executed in container {}."),
    ("Exfiltration:S3/AnomalousBehavior", "Unusual S3 data access from principal {}."),
    ("Impact:EC2/WinRMBruteForce", "{} is performing WinRM brute force attacks."),
    ("PrivilegeEscalation:Kubernetes/PrivilegedContainer", "Privileged container {} launched in cluster."),
    ("Persistence:IAMUser/AnomalousBehavior", "Unusual IAM persistence activity by {}."),
    ("AttackSequence:IAM/CompromisedCredentials", "Potential credential compromise of {} — multi-stage attack."),
    ("Trojan:EC2/DNSDataExposure!DNS", "EC2 instance {} is attempting to leak data over DNS."),
    ("Stealth:IAMUser/CloudTrailLoggingDisabled", "CloudTrail logging was disabled by {} — Überwachung aus."),
    ("DefenseEvasion:Runtime/ProcessInjection.Proc", "Process injection detected in {}."),
];
const RESOURCE_TYPES: [&str; 6] = [
    "Instance",
    "AccessKey",
    "S3Bucket",
    "EKSCluster",
    "Container",
    "Lambda",
];
const REGIONS: [&str; 5] = [
    "us-east-1",
    "us-west-2",
    "eu-west-1",
    "eu-central-1",
    "ap-southeast-2",
];
/// Severities GuardDuty really sends most (so equal scores happen), plus continuous values.
const COMMON_SEVERITIES: [f64; 6] = [2.0, 5.0, 5.0, 8.0, 8.0, 9.0];
const NOW_MS: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn columns(seed: u64, n: usize, duplicate_tie_keys: bool) -> FindingColumns {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let accounts: Vec<String> = (0..40)
        .map(|i| format!("{:012}", 100_000_000_000u64 + i * 7919))
        .collect();
    let n_resources = (n / 4).max(1);
    let mut dictionaries = Dictionaries {
        accounts: accounts.clone(),
        regions: REGIONS.iter().map(|s| s.to_string()).collect(),
        types: TYPES.iter().map(|(t, _)| t.to_string()).collect(),
        titles: Vec::new(),
        resource_types: RESOURCE_TYPES.iter().map(|s| s.to_string()).collect(),
    };
    let mut codes = CodeColumns::default();
    let mut rows = Vec::with_capacity(n);
    let mut type_codes = Vec::with_capacity(n);
    let mut resource_codes = Vec::with_capacity(n);
    for i in 0..n {
        // Skewed type frequencies: a few noisy types, a long tail of rare ones.
        let t = (rng.gen_range(0.0f64..1.0).powi(3) * TYPES.len() as f64) as usize;
        let resource = if rng.gen_bool(0.1) {
            NO_RESOURCE
        } else {
            rng.gen_range(0..n_resources) as u32
        };
        let severity = if rng.gen_bool(0.7) {
            *COMMON_SEVERITIES.choose(&mut rng).unwrap()
        } else {
            (rng.gen_range(10..=100) as f64) / 10.0
        };
        let last_seen = NOW_MS - rng.gen_range(0..90 * 24 * 3_600_000i64);
        let grouped = rng.gen_bool(0.15);
        let title = TYPES[t].1.replace("{}", &format!("i-{:08x}", resource));
        codes.title.push(dictionaries.titles.len() as u32);
        dictionaries.titles.push(title);
        codes.account.push(rng.gen_range(0..accounts.len()) as u32);
        codes.region.push(rng.gen_range(0..REGIONS.len()) as u32);
        codes.finding_type.push(t as u32);
        codes
            .resource_type
            .push(rng.gen_range(0..RESOURCE_TYPES.len()) as u32);
        codes
            .updated_at
            .push((last_seen + rng.gen_range(0..3_600_000)) as f64);
        type_codes.push(t as u32);
        resource_codes.push(resource);
        rows.push(FeatureRow {
            severity,
            criticality: rng.gen_range(0..5),
            type_count: 0,
            // Whole hours half the time, so equal ages (and equal scores) occur.
            age_hours: if i % 2 == 0 {
                gdlens_scoring::age_hours(NOW_MS, last_seen)
            } else {
                f64::from(rng.gen_range(0..2000u32))
            },
            count: if rng.gen_bool(0.6) {
                1
            } else {
                rng.gen_range(1..5000)
            },
            resource_findings: 0,
            resource_distinct_types: 0,
            group_tactics: if grouped { rng.gen_range(1..8) } else { 0 },
            group_severity: if grouped {
                (rng.gen_range(20..=100) as f64) / 10.0
            } else {
                0.0
            },
            archived: rng.gen_bool(0.1),
            triage: if rng.gen_bool(0.7) {
                0
            } else {
                rng.gen_range(0..6)
            },
            sample: rng.gen_bool(0.03),
        });
    }
    let type_count = type_count_column(&type_codes, None, TYPES.len());
    let (resource_findings, resource_distinct_types) =
        resource_exposure(&resource_codes, &type_codes, None, n_resources);
    let mut features = FeatureColumns::with_capacity(n);
    for (i, row) in rows.into_iter().enumerate() {
        features.push(FeatureRow {
            type_count: type_count[i],
            resource_findings: resource_findings[i],
            resource_distinct_types: resource_distinct_types[i],
            ..row
        });
    }
    let mut tie_key: Vec<u32> = (0..n as u32).collect();
    tie_key.shuffle(&mut rng);
    if duplicate_tie_keys {
        for k in tie_key.iter_mut() {
            *k /= 3;
        }
    }
    FindingColumns {
        features,
        codes,
        dictionaries,
        tie_key,
    }
}

fn runs(seed: u64) -> serde_json::Value {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
    let random_weights = Weights {
        severity: rng.gen_range(0.0..100.0),
        criticality: rng.gen_range(0.0..100.0),
        rarity: rng.gen_range(0.0..100.0),
        recency: rng.gen_range(0.0..100.0),
        count: rng.gen_range(0.0..100.0),
        exposure: rng.gen_range(0.0..100.0),
        group: rng.gen_range(0.0..100.0),
        rarity_midpoint: rng.gen_range(0.5..50.0),
        recency_midpoint_hours: rng.gen_range(1.0..500.0),
        closed_multiplier: rng.gen_range(0.0..1.0),
        ..Weights::default()
    };
    json!([
        { "name": "defaults" },
        { "name": "random weights", "weights": random_weights },
        { "name": "severity only", "weights": { "criticality": 0, "rarity": 0, "recency": 0, "count": 0, "exposure": 0, "group": 0 } },
        { "name": "high and critical, samples and archived in", "filter": { "severityLabels": [SeverityLabel::High, SeverityLabel::Critical], "includeSamples": true, "archived": null } },
        { "name": "archived only, open triage", "filter": { "archived": true, "triage": [TriageStatus::New, TriageStatus::Acknowledged, TriageStatus::InProgress] } },
        { "name": "accounts, regions, EC2 prefix", "filter": { "accounts": [0, 1, 2, 3, 4, 5, 6, 7], "regions": [0, 2], "typePrefix": "Recon:EC2/" } },
        { "name": "search", "filter": { "search": "  BITCOIN " } },
        { "name": "search in titles, non-ASCII", "filter": { "search": "ÜBERWACHUNG" } },
        { "name": "time window and minimum severity", "filter": { "severityMin": 5.0, "updatedSince": NOW_MS - 30 * 24 * 3_600_000, "updatedBefore": NOW_MS - 3_600_000 } },
    ])
}

fn main() -> anyhow::Result<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "tests/wasm/vectors".into()),
    );
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for (seed, n, duplicate_tie_keys) in
        [(1u64, 1000usize, false), (2, 600, true), (3, 2000, false)]
    {
        let columns = columns(seed, n, duplicate_tie_keys);
        // A FilterSpec must deserialize from every run's filter: check before writing.
        for run in runs(seed).as_array().unwrap() {
            if let Some(f) = run.get("filter") {
                serde_json::from_value::<FilterSpec>(f.clone()).context("filter of a run")?;
            }
        }
        let vector = json!({
            "description": format!("seeded random findings: seed {seed}, {n} rows, duplicate tie keys: {duplicate_tie_keys}"),
            "columns": columns,
            "runs": runs(seed),
        });
        let path = dir.join(format!("random-{seed}.json"));
        std::fs::write(&path, serde_json::to_string(&vector)? + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
