//! Property tests: the active groups depend only on the set of latest findings, never on batch
//! order or batch boundaries; and the structural invariants hold (size and span caps, no
//! singleton correlated groups, one group per finding, lineage never loses an id).

use std::collections::{BTreeMap, BTreeSet};

use gdlens_domain::{
    Activity, AttackSequence, Finding, ResourceDetails, ResourceRole, SequenceIndicator,
    SequenceSignal,
};
use gdlens_groups::{CorrelationConfig, Correlator, GroupSource};
use proptest::prelude::*;

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_790_000_000_000;
const TYPES: [&str; 8] = [
    "Recon:EC2/PortProbeUnprotectedPort",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    "Discovery:IAMUser/AnomalousBehavior",
    "Exfiltration:S3/MaliciousIPCaller",
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    "Policy:S3/BucketPublicAccessGranted",
    "Execution:Kubernetes/ExecInKubeSystemPod",
];

/// One generated finding version: small pools so that entities collide often.
#[derive(Debug, Clone)]
struct Spec {
    id: u8,
    version: u8,
    ty: usize,
    account: u8,
    instance: Option<u8>,
    key: Option<u8>,
    ip: Option<u8>,
    hour: i64,
    sequence_of: Option<Vec<u8>>,
}

fn spec() -> impl Strategy<Value = Spec> {
    (
        0u8..60,
        0u8..3,
        0usize..TYPES.len(),
        0u8..4,
        proptest::option::of(0u8..12),
        proptest::option::of(0u8..8),
        proptest::option::of(0u8..6),
        0i64..24 * 30,
        proptest::option::weighted(0.05, proptest::collection::vec(0u8..60, 1..4)),
    )
        .prop_map(
            |(id, version, ty, account, instance, key, ip, hour, sequence_of)| Spec {
                id,
                version,
                ty,
                account,
                instance,
                key,
                ip,
                hour,
                sequence_of,
            },
        )
}

fn finding(s: &Spec) -> Finding {
    let account = format!("{:012}", 100 + u64::from(s.account));
    let id = format!("f{:02}", s.id);
    let updated = T0 + s.hour * HOUR + i64::from(s.version) * 1000;
    let mut f = Finding {
        arn: format!("arn:aws:guardduty:us-east-1:{account}:detector/d/finding/{id}"),
        id,
        account_id: account,
        region: ["us-east-1", "eu-west-1"][usize::from(s.account % 2)].into(),
        finding_type: TYPES[s.ty].into(),
        severity: 2.0 + s.ty as f64,
        created_at: T0 + s.hour * HOUR,
        updated_at: updated,
        event_first_seen: Some(T0 + s.hour * HOUR),
        event_last_seen: Some(T0 + s.hour * HOUR + HOUR),
        count: 1,
        resource_role: Some(ResourceRole::Target),
        resource: ResourceDetails {
            instance_id: s.instance.map(|i| format!("i-{i:017}")),
            access_key_id: s.key.map(|k| format!("AKIAKEY{k:013}")),
            ..Default::default()
        },
        activity: Activity {
            remote_ips: s
                .ip
                .map(|i| vec![format!("198.51.100.{i}")])
                .unwrap_or_default(),
            ..Default::default()
        },
        ..Default::default()
    };
    f.resource_key = f
        .resource
        .instance_id
        .clone()
        .or(f.resource.access_key_id.clone());
    if let Some(members) = &s.sequence_of {
        f.finding_type = "AttackSequence:IAM/CompromisedCredentials".into();
        f.severity = 9.5;
        f.sequence = Some(AttackSequence {
            signals: members
                .iter()
                .map(|m| SequenceSignal {
                    uid: format!("f{m:02}"),
                    signal_type: "FINDING".into(),
                    ..Default::default()
                })
                .collect(),
            indicators: vec![SequenceIndicator {
                key: "ATTACK_TACTIC".into(),
                values: vec!["Initial Access".into(), "Exfiltration".into()],
                title: None,
            }],
            ..Default::default()
        });
    }
    f
}

/// Everything about the active groups except lineage (which records history by design).
fn snapshot(c: &Correlator) -> Vec<serde_json::Value> {
    c.groups()
        .iter()
        .map(|g| {
            let mut v = serde_json::to_value(&**g).expect("serializes");
            let o = v.as_object_mut().expect("object");
            o.remove("parents");
            o.remove("children");
            v
        })
        .collect()
}

fn check_invariants(c: &Correlator, config: &CorrelationConfig) -> Result<(), TestCaseError> {
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for g in c.groups() {
        prop_assert!(g.active);
        prop_assert!(g.finding_ids.len() <= config.max_group_size);
        if g.source == GroupSource::Correlated {
            prop_assert!(g.finding_ids.len() >= 2, "singleton group {}", g.id);
            let firsts: Vec<i64> = g.timeline.iter().map(|t| t.first_seen).collect();
            let span = firsts.iter().max().unwrap_or(&0) - firsts.iter().min().unwrap_or(&0);
            prop_assert!(span <= config.max_span_ms, "span {span} in {}", g.id);
        }
        for id in &g.finding_ids {
            prop_assert!(
                seen.insert(id.clone(), g.id.clone()).is_none(),
                "{id} in two groups"
            );
            prop_assert_eq!(c.group_of(id).map(|x| x.id.clone()), Some(g.id.clone()));
        }
        prop_assert!(g.severity <= 10.0);
        prop_assert!((0.0..=100.0).contains(&g.score));
    }
    // Every id ever handed out resolves; retired ones point somewhere or were dissolved.
    for g in c.all_groups() {
        prop_assert!(c.group(&g.id).is_some());
        for child in &g.children {
            prop_assert!(c.group(child).is_some(), "dangling child {child}");
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn batch_order_and_boundaries_do_not_change_the_groups(
        specs in proptest::collection::vec(spec(), 1..120),
        order in any::<u64>(),
        cuts in proptest::collection::vec(0usize..120, 0..6),
    ) {
        // Findings carry distinct versions per id (updatedAt), so "latest" is well defined.
        let mut by_version: BTreeMap<(u8, u8), Spec> = BTreeMap::new();
        for s in specs {
            by_version.insert((s.id, s.version), s);
        }
        let findings: Vec<Finding> = by_version.values().map(finding).collect();
        let config = CorrelationConfig { strong_max_findings: 12, medium_max_findings: 5, ..CorrelationConfig::default() };

        let mut once = Correlator::new(config.clone());
        once.add(&findings);
        check_invariants(&once, &config)?;

        // Shuffle deterministically from `order`, then cut into batches.
        let mut shuffled = findings.clone();
        let mut state = order | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut bounds: BTreeSet<usize> = cuts.into_iter().filter(|&c| c < shuffled.len()).collect();
        bounds.insert(shuffled.len());
        let bounds_vec: Vec<usize> = bounds.iter().copied().collect();
        let mut incremental = Correlator::new(config.clone());
        let mut start = 0;
        for end in bounds {
            incremental.add(&shuffled[start..end]);
            check_invariants(&incremental, &config)?;
            start = end;
        }
        prop_assert_eq!(snapshot(&once), snapshot(&incremental));
        for f in &findings {
            prop_assert_eq!(once.group_features(&f.id), incremental.group_features(&f.id));
        }

        // The start-up build: every batch loaded, then one settle. Same groups, no lineage
        // left over from intermediate states; and the settled state goes on incrementally
        // like the others (the last batch added after the settle).
        let mut bulk = Correlator::new(config.clone());
        let last = bounds_vec.last().copied().unwrap_or(0);
        let mut start = 0;
        for &end in &bounds_vec {
            if end == last && start > 0 {
                break;
            }
            bulk.load(&shuffled[start..end]);
            start = end;
        }
        let settled = bulk.settle();
        prop_assert!(settled.retired.is_empty(), "a first settle retires nothing");
        prop_assert!(bulk.all_groups().iter().all(|g| g.active && g.parents.is_empty()));
        // Through a persisted start-up snapshot and back: the same groups, and it goes on alike.
        let bytes = postcard::to_allocvec(&bulk).expect("a settled correlator serializes");
        let mut bulk: Correlator = postcard::from_bytes(&bytes).expect("and deserializes");
        prop_assert!(bulk.all_groups().iter().all(|g| g.active));
        if start < shuffled.len() {
            bulk.add(&shuffled[start..]);
        }
        check_invariants(&bulk, &config)?;
        prop_assert_eq!(snapshot(&once), snapshot(&bulk));
        for f in &findings {
            prop_assert_eq!(once.group_features(&f.id), bulk.group_features(&f.id));
        }
    }
}
