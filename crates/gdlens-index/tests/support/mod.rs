//! Seeded synthetic findings for the index's tests and benchmark: a long tail over the real finding
//! types (fixture `tests/fixtures/finding-types.tsv`, default severities), a few noisy accounts and
//! resources, archived and sample findings, repeated activity (`count` > 1). Deterministic per seed.
#![allow(dead_code)]

use gdlens_domain::{Account, Criticality, Finding};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const FINDING_TYPES_TSV: &str = include_str!("../fixtures/finding-types.tsv");
const REGIONS: [&str; 17] = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-north-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "sa-east-1",
    "ca-central-1",
    "me-south-1",
];
/// 2026-01-01T00:00:00Z.
pub const NOW_MS: i64 = 1_767_225_600_000;
const DAY_MS: i64 = 86_400_000;

/// Shape of a synthetic dataset.
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub seed: u64,
    pub findings: usize,
    pub accounts: usize,
    pub regions: usize,
    pub days: i64,
    /// Resources per account the findings spread over.
    pub resources_per_account: usize,
}

impl Shape {
    /// A shape like the benchmark's: 100 accounts, 17 regions, 90 days.
    pub fn org(seed: u64, findings: usize) -> Self {
        Shape {
            seed,
            findings,
            accounts: 100,
            regions: 17,
            days: 90,
            resources_per_account: 2_000,
        }
    }
}

/// One finding type of the fixture.
#[derive(Debug, Clone)]
pub struct TypeSpec {
    pub name: String,
    pub resource_type: String,
    pub severity: f64,
}

/// The finding types of the fixture with a numeric default severity per label.
pub fn finding_types() -> Vec<TypeSpec> {
    FINDING_TYPES_TSV
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let severity = match cols[2] {
                "Critical" => 9.0,
                "High" => 8.0,
                "Medium" => 5.0,
                _ => 2.0,
            };
            // `Instance|EKSCluster|…`: the first alternative is the common one.
            let resource_type = cols[1].split('|').next().unwrap_or("").to_string();
            TypeSpec {
                name: cols[0].to_string(),
                resource_type,
                severity,
            }
        })
        .collect()
}

/// Account config for the dataset: names and a criticality per account.
pub fn accounts(shape: &Shape) -> Vec<Account> {
    let crit = [
        Criticality::Critical,
        Criticality::High,
        Criticality::Medium,
        Criticality::Low,
    ];
    (0..shape.accounts)
        .map(|i| Account {
            id: account_id(i),
            name: format!("acct-{i:03}"),
            owner: format!("team-{}", i % 7),
            criticality: crit[i % 4],
        })
        .collect()
}

fn account_id(i: usize) -> String {
    format!("{:012}", 100_000_000_000u64 + i as u64 * 7_919)
}

/// Index into `0..n` skewed towards small values (a long tail): about Zipf with exponent ~1.
fn skewed(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let u: f64 = rng.gen();
    // Inverse of a continuous 1/x density over [1, n+1).
    let x = ((n as f64 + 1.0).ln() * u).exp() - 1.0;
    (x as usize).min(n - 1)
}

fn resource_key(resource_type: &str, account: usize, n: usize) -> Option<String> {
    Some(match resource_type {
        "Instance" => format!("i-{:017x}", account * 1_000_003 + n),
        "AccessKey" => format!("ASIA{:016X}", account * 1_000_003 + n),
        "S3Bucket" | "S3Object" => format!("bucket-{account}-{n}"),
        "EKSCluster" => format!("eks-{}", n % 20),
        "Lambda" => format!("fn-{n}"),
        "RDSDBInstance" => format!("db-{n}"),
        _ => return None,
    })
}

/// Generates the dataset: `shape.findings` distinct findings (latest versions only).
pub fn findings(shape: &Shape) -> Vec<Finding> {
    findings_iter(*shape).collect()
}

/// [`findings`] one at a time, so a million findings never sit in memory at once.
pub fn findings_iter(shape: Shape) -> impl ExactSizeIterator<Item = Finding> {
    let mut rng = ChaCha8Rng::seed_from_u64(shape.seed);
    let types = finding_types();
    // Shuffle which types are common, per seed.
    let mut order: Vec<usize> = (0..types.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, rng.gen_range(0..=i));
    }
    let regions = &REGIONS[..shape.regions.min(REGIONS.len())];
    (0..shape.findings).map(move |i| {
        let t = &types[order[skewed(&mut rng, types.len())]];
        let account = skewed(&mut rng, shape.accounts);
        let region = regions[skewed(&mut rng, regions.len())];
        let resource_n = skewed(&mut rng, shape.resources_per_account);
        let key = resource_key(&t.resource_type, account, resource_n);
        let updated_at = NOW_MS - rng.gen_range(0..shape.days * DAY_MS);
        let created_at = updated_at - rng.gen_range(0..5 * DAY_MS);
        let severity = if t.severity >= 9.0 {
            t.severity
        } else {
            // ±0.5 around the default, one decimal, as GuardDuty sends.
            ((t.severity + rng.gen_range(-0.5..=0.5)) * 10.0).round() / 10.0
        };
        let count = if rng.gen_bool(0.2) {
            rng.gen_range(2..500)
        } else {
            1
        };
        let archived = rng.gen_bool(0.05);
        let sample = rng.gen_bool(0.01);
        let id = format!("{:032x}", (u128::from(rng.gen::<u64>()) << 64) | i as u128);
        let family = t.name.rsplit('/').next().unwrap_or(&t.name);
        Finding {
            arn: format!(
                "arn:aws:guardduty:{region}:{}:detector/d/finding/{id}",
                account_id(account)
            ),
            id,
            account_id: account_id(account),
            region: region.to_string(),
            partition: "aws".into(),
            schema_version: "2.0".into(),
            finding_type: t.name.clone(),
            severity,
            title: format!("{family} on {}", key.as_deref().unwrap_or("the account")),
            created_at,
            updated_at,
            event_first_seen: Some(created_at),
            event_last_seen: Some(updated_at - rng.gen_range(0..3_600_000)),
            count,
            archived,
            sample,
            resource_type: t.resource_type.clone(),
            resource_key: key,
            ..Finding::default()
        }
    })
}
