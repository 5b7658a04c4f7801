//! Correlation throughput: full correlation of 1,000,000 findings, and an incremental batch of
//! 1,000 new findings into that state.
//!
//! `CARGO_TARGET_DIR=… cargo bench -p gdlens-groups --bench correlate`
//! (`GDLENS_BENCH_FINDINGS` overrides the size.)
//!
//! The findings are synthetic but shaped like an organization's: 100 accounts, 4 regions,
//! 90 days; instances, access keys, buckets and clusters drawn from pools so entities repeat;
//! remote IPs from a large pool plus scanners and a NAT address; mostly stock user agents.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use gdlens_domain::{Activity, Finding, ResourceDetails, ResourceRole};
use gdlens_groups::{CorrelationConfig, Correlator};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_790_000_000_000;
const REGIONS: [&str; 4] = ["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2"];
const INSTANCE_TYPES: [&str; 6] = [
    "Recon:EC2/PortProbeUnprotectedPort",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "Backdoor:EC2/C&CActivity.B!DNS",
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    "Behavior:EC2/NetworkPortUnusual",
    "Trojan:EC2/DNSDataExfiltration",
];
const IAM_TYPES: [&str; 5] = [
    "Discovery:IAMUser/AnomalousBehavior",
    "UnauthorizedAccess:IAMUser/TorIPCaller",
    "Persistence:IAMUser/AnomalousBehavior",
    "Policy:IAMUser/RootCredentialUsage",
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
];
const OTHER_TYPES: [&str; 4] = [
    "Exfiltration:S3/AnomalousBehavior",
    "Policy:S3/BucketPublicAccessGranted",
    "Execution:Kubernetes/ExecInKubeSystemPod",
    "CredentialAccess:Kubernetes/SuccessfulAnonymousAccess",
];

fn ip(rng: &mut ChaCha8Rng, pool: u32) -> String {
    let n = rng.gen_range(0..pool);
    format!(
        "{}.{}.{}.{}",
        20 + (n >> 16) % 180,
        (n >> 8) & 255,
        n & 255,
        7
    )
}

/// `n` synthetic findings, ids `{prefix}{i}`, deterministic for a seed.
fn synthetic(n: usize, seed: u64, prefix: &str) -> Vec<Finding> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let instances = (n / 8).max(1) as u32;
    let keys = (n / 10).max(1) as u32;
    let buckets = (n / 40).max(1) as u32;
    let clusters = 300u32;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let account_n = rng.gen_range(0..100u32);
        let account = format!("{:012}", 100_000_000_000u64 + u64::from(account_n));
        let region = REGIONS[rng.gen_range(0..REGIONS.len())];
        let hour = rng.gen_range(0..24 * 90i64);
        let first = T0 + hour * HOUR + rng.gen_range(0..HOUR);
        let last = first + rng.gen_range(0..6 * HOUR);
        let kind = rng.gen_range(0..10u32);
        let mut resource = ResourceDetails::default();
        let mut activity = Activity::default();
        let (finding_type, resource_type, role) = if kind < 6 {
            let t = INSTANCE_TYPES[rng.gen_range(0..INSTANCE_TYPES.len())];
            resource.instance_id = Some(format!("i-{:017x}", rng.gen_range(0..instances)));
            let roll = rng.gen_range(0..100u32);
            activity.remote_ips.push(if roll < 3 {
                "192.0.2.66".to_string() // scanner
            } else if roll < 5 {
                "198.51.100.1".to_string() // shared NAT
            } else {
                ip(&mut rng, 400_000)
            });
            let role = if t.starts_with("Recon") || t.contains("BruteForce") {
                ResourceRole::Target
            } else {
                ResourceRole::Actor
            };
            (t, "Instance", role)
        } else if kind < 9 {
            let t = IAM_TYPES[rng.gen_range(0..IAM_TYPES.len())];
            let k = rng.gen_range(0..keys);
            resource.access_key_id = Some(format!("ASIA{k:016}"));
            resource.principal_id = Some(format!("AROA{:012}:session-{}", k % 5000, k));
            resource.user_name = Some(format!("role-{}", k % 5000));
            resource.user_type = Some("AssumedRole".into());
            activity.remote_ips.push(ip(&mut rng, 400_000));
            activity.user_agent = Some(if rng.gen_range(0..100) < 90 {
                "aws-cli/2.15.0 Python/3.11".into()
            } else {
                format!("python-requests/2.{}", rng.gen_range(0..40))
            });
            (t, "AccessKey", ResourceRole::Target)
        } else {
            let t = OTHER_TYPES[rng.gen_range(0..OTHER_TYPES.len())];
            if t.contains("S3") {
                resource
                    .buckets
                    .push(format!("bucket-{}", rng.gen_range(0..buckets)));
                activity.remote_ips.push(ip(&mut rng, 400_000));
                (t, "S3Bucket", ResourceRole::Target)
            } else {
                resource.eks_cluster = Some(format!("cluster-{}", rng.gen_range(0..clusters)));
                resource.kubernetes_workload_uid =
                    Some(format!("uid-{}", rng.gen_range(0..n as u32 / 20 + 1)));
                activity.remote_ips.push(ip(&mut rng, 400_000));
                (t, "EKSCluster", ResourceRole::Target)
            }
        };
        let resource_key = resource
            .instance_id
            .clone()
            .or(resource.access_key_id.clone())
            .or(resource.buckets.first().cloned())
            .or(resource.eks_cluster.clone());
        let id = format!("{prefix}{i:08x}");
        out.push(Finding {
            arn: format!("arn:aws:guardduty:{region}:{account}:detector/d/finding/{id}"),
            id,
            account_id: account,
            region: region.into(),
            partition: "aws".into(),
            schema_version: "2.0".into(),
            finding_type: finding_type.into(),
            severity: [2.0, 5.0, 8.0][rng.gen_range(0..3)],
            created_at: first,
            updated_at: last,
            event_first_seen: Some(first),
            event_last_seen: Some(last),
            count: rng.gen_range(1..20),
            resource_type: resource_type.into(),
            resource_key,
            resource_role: Some(role),
            resource,
            activity,
            ..Default::default()
        });
    }
    out
}

fn bench(c: &mut Criterion) {
    let n: usize = std::env::var("GDLENS_BENCH_FINDINGS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let base = synthetic(n, 7, "f");
    let batch = synthetic(1_000, 8, "new");
    let mut group = c.benchmark_group("correlate");
    group.sample_size(10);
    group.bench_function(format!("full_{n}"), |b| {
        // The state is returned so that freeing it is not timed.
        b.iter_with_large_drop(|| {
            let mut c = Correlator::new(CorrelationConfig::default());
            c.add(&base);
            c
        })
    });
    let mut state = Correlator::new(CorrelationConfig::default());
    state.add(&base);
    eprintln!(
        "state: {} findings, {} active groups; incremental batch recomputes {} findings",
        state.finding_count(),
        state.group_count(),
        state.clone().add(&batch).findings_recomputed
    );
    group.bench_function(format!("incremental_1000_into_{n}"), |b| {
        b.iter_batched(
            || state.clone(),
            |mut c| {
                c.add(&batch);
                c
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
