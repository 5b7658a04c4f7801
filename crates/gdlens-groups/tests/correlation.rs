//! Correlation on hand-written GuardDuty fixtures (tests/fixtures/*.json, wire shape),
//! normalized through `gdlens_domain::normalize` like every real input.

use std::collections::BTreeSet;

use gdlens_domain::{normalize, Finding};
use gdlens_groups::{
    CorrelationConfig, Correlator, EntityKind, FindingGroup, GroupSource, Investigation, Strength,
};

fn load(name: &str) -> Vec<Finding> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let list = v
        .get("findings")
        .and_then(|x| x.as_array())
        .or(v.as_array())
        .expect("findings array");
    list.iter()
        .map(|x| normalize(x).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

fn correlate(findings: &[Finding]) -> Correlator {
    let mut c = Correlator::new(CorrelationConfig::default());
    c.add(findings);
    c
}

fn members(g: &FindingGroup) -> BTreeSet<&str> {
    g.finding_ids.iter().map(String::as_str).collect()
}

fn set<'a>(ids: &[&'a str]) -> BTreeSet<&'a str> {
    ids.iter().copied().collect()
}

#[test]
fn ec2_probe_brute_force_and_credential_exfiltration_form_one_story() {
    let c = correlate(&load("ec2_story.json"));
    let groups = c.groups();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let g = &groups[0];
    assert_eq!(members(g), set(&["ec2-probe", "ec2-ssh", "ec2-exfil"]));
    assert_eq!(g.source, GroupSource::Correlated);
    let tactics: Vec<&str> = g.tactics.iter().map(|t| t.name).collect();
    assert_eq!(
        tactics,
        ["Reconnaissance", "Initial Access", "Credential Access"]
    );
    // Max member 8.0, raised by 0.5 for three tactics in kill-chain order.
    assert_eq!(g.severity, 8.5);
    assert_eq!(g.severity_label.as_str(), "High");
    assert_eq!(
        g.title,
        "Port probe on i-0abc1234567890def followed by SSH brute force, credential exfiltration"
    );
    let timeline: Vec<&str> = g.timeline.iter().map(|t| t.finding_id.as_str()).collect();
    assert_eq!(timeline, ["ec2-probe", "ec2-ssh", "ec2-exfil"]);
    assert_eq!(g.accounts, ["111111111111"]);
    let instance = g
        .entities
        .iter()
        .find(|e| e.kind == EntityKind::Instance)
        .expect("instance entity");
    assert_eq!(
        (instance.finding_count, instance.strength, instance.capped),
        (3, Strength::Strong, false)
    );
    // The graph has an edge per (finding, entity) and a node per finding and entity.
    let edges: usize = g.entities.iter().map(|e| e.finding_ids.len()).sum();
    assert_eq!(g.graph.edges.len(), edges);
    assert_eq!(g.graph.nodes.len(), 3 + g.entities.len());
    assert!(g
        .graph
        .edges
        .iter()
        .any(|e| e.source == "finding:ec2-exfil"
            && e.target == "entity:instance:i-0abc1234567890def"));
    // The noise that shares only account and region stays out; stock agents and AWS addresses too.
    for id in [
        "ec2-noise-probe",
        "ec2-noise-policy",
        "stock-ua-1",
        "stock-ua-2",
    ] {
        assert!(c.group_of(id).is_none(), "{id} grouped");
    }
    assert_eq!(c.group_features("ec2-ssh"), (3, 8.5));
    assert_eq!(c.group_features("ec2-noise-probe"), (0, 0.0));
}

#[test]
fn a_stolen_access_key_links_across_accounts_and_regions_within_the_window() {
    let c = correlate(&load("iam_cross_account.json"));
    let groups = c.groups();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let g = &groups[0];
    assert_eq!(
        members(g),
        set(&["iam-tor", "iam-disc", "iam-pers", "iam-exfil"])
    );
    assert_eq!(g.accounts, ["222222222222", "333333333333"]);
    assert_eq!(g.regions, ["eu-central-1", "us-east-1", "us-west-2"]);
    let tactics: Vec<&str> = g.tactics.iter().map(|t| t.id).collect();
    assert_eq!(tactics, ["TA0001", "TA0003", "TA0007", "TA0010"]);
    assert!(
        c.group_of("iam-other-alice").is_none(),
        "same user name in another account is another user"
    );
    assert!(
        c.group_of("iam-late").is_none(),
        "six days later is outside the window"
    );
    assert!(
        g.title
            .starts_with("Calls from Tor on AKIAIAMSTORYKEY00001 followed by"),
        "{}",
        g.title
    );
}

#[test]
fn a_scanner_is_capped_and_does_not_swallow_the_story_on_one_of_its_targets() {
    let c = correlate(&load("scanner_decoy.json"));
    let groups = c.groups();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    let g = &groups[0];
    assert_eq!(
        members(g),
        set(&["scan-00", "scan-victim-ssh", "scan-victim-c2"])
    );
    let scanner = g
        .entities
        .iter()
        .find(|e| e.kind == EntityKind::RemoteIp && e.value == "192.0.2.66")
        .expect("scanner kept as annotation");
    assert!(scanner.capped);
    assert_eq!(scanner.strength, Strength::Medium);
    for n in 1..40 {
        assert!(c.group_of(&format!("scan-{n:02}")).is_none());
    }
}

#[test]
fn an_attack_sequence_is_its_own_group_with_its_members() {
    let c = correlate(&load("attack_sequence.json"));
    let g = c.group_of("seq-1").expect("sequence group");
    assert_eq!(g.source, GroupSource::AttackSequence);
    // Members through a signal id, a signal ARN and associatedAttackSequenceArn.
    assert_eq!(members(&g), set(&["seq-1", "seq-m1", "seq-m2", "seq-m3"]));
    let tactics: Vec<&str> = g.tactics.iter().map(|t| t.name).collect();
    assert_eq!(
        tactics,
        ["Initial Access", "Defense Evasion", "Exfiltration"]
    );
    assert!(
        g.title
            .starts_with("Attack sequence: compromised credentials"),
        "{}",
        g.title
    );
    assert!(g
        .entities
        .iter()
        .any(|e| e.kind == EntityKind::Bucket && e.value == "audit-logs"));
    // The outsider shares the key but is not the sequence's: alone, it is no group.
    assert!(c.group_of("seq-outsider").is_none());
    assert_eq!(c.groups().len(), 1);
}

#[test]
fn an_attack_sequence_arriving_after_its_members_takes_them_over_with_lineage() {
    let all = load("attack_sequence.json");
    let (seq, rest): (Vec<Finding>, Vec<Finding>) = all.into_iter().partition(|f| f.id == "seq-1");
    let mut c = Correlator::new(CorrelationConfig::default());
    c.add(&rest);
    let before = c
        .group_of("seq-m1")
        .expect("members correlate through the key first");
    assert_eq!(before.source, GroupSource::Correlated);
    let delta = c.add(&seq);
    assert!(delta.retired.contains(&before.id), "{delta:?}");
    let old = c.group(&before.id).expect("a retired id stays retrievable");
    assert!(!old.active);
    let now = c.group_of("seq-m1").expect("sequence group");
    assert_eq!(now.source, GroupSource::AttackSequence);
    assert!(old.children.contains(&now.id));
    assert!(now.parents.contains(&old.id));
    // Same active groups as correlating everything at once.
    let once = correlate(&load("attack_sequence.json"));
    assert_eq!(ids_and_members(&c), ids_and_members(&once));
}

fn ids_and_members(c: &Correlator) -> Vec<(String, Vec<String>)> {
    c.groups()
        .iter()
        .map(|g| (g.id.clone(), g.finding_ids.clone()))
        .collect()
}

#[test]
fn merges_keep_lineage_and_ids_never_vanish() {
    let all = load("lineage.json");
    let pick = |ids: &[&str]| -> Vec<Finding> {
        all.iter()
            .filter(|f| ids.contains(&f.id.as_str()))
            .cloned()
            .collect()
    };
    let mut c = Correlator::new(CorrelationConfig::default());
    c.add(&pick(&["lin-a1", "lin-a2", "lin-b1", "lin-b2"]));
    let a = c.group_of("lin-a1").expect("instance group").id.clone();
    let b = c.group_of("lin-b1").expect("key group").id.clone();
    assert_ne!(a, b);

    // The bridge names the instance (via its role session) and the key: one story now.
    let delta = c.add(&pick(&["lin-bridge"]));
    assert_eq!(delta.retired, std::slice::from_ref(&b));
    let merged = c.group_of("lin-b2").expect("merged");
    assert_eq!(
        merged.id, a,
        "the group holding the earliest member keeps its id"
    );
    assert_eq!(merged.parents, std::slice::from_ref(&b));
    let old_b = c.group(&b).expect("retired parent retrievable");
    assert!(!old_b.active);
    assert_eq!(old_b.children, std::slice::from_ref(&a));

    // An earlier finding on the instance re-keys the group: a new child, the old id retired.
    let delta = c.add(&pick(&["lin-early"]));
    let child = c.group_of("lin-early").expect("re-keyed");
    assert_ne!(child.id, a);
    assert_eq!(delta.created, std::slice::from_ref(&child.id));
    assert_eq!(delta.retired, std::slice::from_ref(&a));
    assert_eq!(child.parents, std::slice::from_ref(&a));
    assert_eq!(
        c.group(&a).expect("retired").children,
        std::slice::from_ref(&child.id)
    );
    assert_eq!(child.finding_ids.len(), 6);
    // Same active groups as all at once.
    assert_eq!(ids_and_members(&c), ids_and_members(&correlate(&all)));
    assert_eq!(c.all_groups().len(), 3);
}

#[test]
fn an_update_replaces_the_finding_and_can_split_a_group() {
    let all = load("ec2_story.json");
    let mut c = correlate(&all);
    let story = c.group_of("ec2-ssh").expect("story").id.clone();
    // A newer version of the probe now names another instance and another address.
    let mut probe = all
        .iter()
        .find(|f| f.id == "ec2-probe")
        .cloned()
        .expect("probe");
    probe.updated_at += 60_000;
    probe.resource.instance_id = Some("i-0ffffffffffffffff".into());
    probe.resource_key = probe.resource.instance_id.clone();
    probe.activity.remote_ips = vec!["192.0.2.250".into()];
    let delta = c.add(&[probe.clone()]);
    assert_eq!(delta.findings_added, 1);
    assert!(c.group_of("ec2-probe").is_none());
    let rest = c.group_of("ec2-ssh").expect("ssh and exfil still together");
    assert_eq!(members(&rest), set(&["ec2-ssh", "ec2-exfil"]));
    assert_eq!(delta.retired, std::slice::from_ref(&story));
    assert!(rest.parents.contains(&story));
    // An older version never overwrites a newer one.
    let mut stale = probe;
    stale.updated_at -= 120_000;
    stale.resource.instance_id = Some("i-0abc1234567890def".into());
    assert_eq!(c.add(&[stale]).findings_added, 0);
    assert!(c.group_of("ec2-probe").is_none());
}

#[test]
fn detective_investigations_find_groups_by_entity_finding_ip_or_agent() {
    let mut all = load("ec2_story.json");
    all.extend(load("iam_cross_account.json"));
    let c = correlate(&all);
    let ec2 = c.group_of("ec2-ssh").expect("ec2").id.clone();
    let iam = c.group_of("iam-tor").expect("iam").id.clone();
    assert_eq!(
        c.related_groups(
            &["arn:aws:sts::111111111111:assumed-role/web-role/i-0abc1234567890def".into()],
            &[]
        ),
        std::slice::from_ref(&ec2)
    );
    assert_eq!(
        c.related_groups(&[], &["iam-exfil".into(), "nope".into()]),
        std::slice::from_ref(&iam)
    );
    let both = Investigation {
        entity_arn: "arn:aws:iam::222222222222:user/dev-alice".into(),
        ips: vec!["203.0.113.9".into()],
        ..Default::default()
    };
    let mut want = vec![ec2, iam];
    want.sort();
    assert_eq!(c.related_to(&both), want);
    assert!(c
        .related_groups(&["arn:aws:iam::999999999999:user/nobody".into()], &[])
        .is_empty());
}

#[test]
fn groups_serialize_camel_case() {
    let c = correlate(&load("ec2_story.json"));
    let v = serde_json::to_value(&*c.groups()[0]).expect("serializes");
    for field in [
        "id",
        "title",
        "severity",
        "severityLabel",
        "score",
        "firstSeen",
        "lastSeen",
        "accounts",
        "regions",
        "tactics",
        "findingIds",
        "entities",
        "timeline",
        "graph",
        "source",
        "parents",
        "children",
        "active",
    ] {
        assert!(v.get(field).is_some(), "missing {field}");
    }
    assert_eq!(v["source"], "correlated");
    assert_eq!(v["tactics"][0]["id"], "TA0043");
    assert_eq!(
        v["entities"][0]["findingCount"].as_u64().map(|n| n >= 1),
        Some(true)
    );
}

#[test]
fn a_group_restricted_to_some_members_is_rebuilt_from_them_alone() {
    let c = correlate(&load("ec2_story.json"));
    let g = c.groups()[0].clone();
    // Everyone visible: the group itself.
    assert_eq!(
        gdlens_groups::restrict_group(&g, &|_| true).as_ref(),
        Some(&*g)
    );
    // Nobody visible: nothing.
    assert!(gdlens_groups::restrict_group(&g, &|_| false).is_none());
    // Only the exfiltration finding hidden: no trace of it anywhere in the rebuilt group.
    let r = gdlens_groups::restrict_group(&g, &|m| m.id != "ec2-exfil").unwrap();
    assert_eq!((r.id.as_str(), r.active), (g.id.as_str(), g.active));
    assert_eq!(members(&r), set(&["ec2-probe", "ec2-ssh"]));
    let tactics: Vec<&str> = r.tactics.iter().map(|t| t.name).collect();
    assert_eq!(tactics, ["Reconnaissance", "Initial Access"]);
    assert!(!r.title.contains("exfiltration"), "{}", r.title);
    assert!(r.severity <= g.severity && r.score <= g.score);
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("ec2-exfil"), "{json}");
    assert!(r.timeline.iter().all(|t| t.finding_id != "ec2-exfil"));
    assert!(r
        .entities
        .iter()
        .all(|e| e.finding_ids.iter().all(|f| f != "ec2-exfil")));
}

/// An RDS login finding on `db` from `ip` at hour `h` (wire shape).
fn rds_login(id: &str, ty: &str, severity: f64, db: &str, ip: &str, h: i64) -> Finding {
    let t = |h: i64| gdlens_domain::time::format_iso(1_767_000_000_000 + h * 3_600_000);
    let v = serde_json::json!({
        "id": id,
        "arn": format!("arn:aws:guardduty:us-east-1:111111111111:detector/d/finding/{id}"),
        "type": ty,
        "severity": severity,
        "accountId": "111111111111",
        "region": "us-east-1",
        "createdAt": t(h),
        "updatedAt": t(h),
        "title": ty,
        "resource": {
            "resourceType": "RDSDBInstance",
            "rdsDbInstanceDetails": {
                "dbInstanceIdentifier": db,
                "dbInstanceArn": format!("arn:aws:rds:us-east-1:111111111111:db:{db}")
            }
        },
        "service": {
            "count": 5,
            "eventFirstSeen": t(h),
            "eventLastSeen": t(h),
            "action": {
                "actionType": "RDS_LOGIN_ATTEMPT",
                "rdsLoginAttemptAction": {"remoteIpDetails": {"ipAddressV4": ip}}
            }
        }
    });
    normalize(&v).expect("normalizes")
}

#[test]
fn failed_logins_then_a_success_form_a_group_within_one_tactic() {
    let findings = [
        rds_login(
            "rds-fail",
            "CredentialAccess:RDS/AnomalousBehavior.FailedLogin",
            2.0,
            "orders",
            "198.51.100.23",
            0,
        ),
        rds_login(
            "rds-success",
            "CredentialAccess:RDS/AnomalousBehavior.SuccessfulBruteForce",
            8.0,
            "orders",
            "198.51.100.23",
            2,
        ),
    ];
    let c = correlate(&findings);
    let groups = c.groups();
    assert_eq!(groups.len(), 1, "{groups:#?}");
    assert_eq!(members(&groups[0]), set(&["rds-fail", "rds-success"]));
    let tactics: Vec<&str> = groups[0].tactics.iter().map(|t| t.name).collect();
    assert_eq!(tactics, ["Credential Access"]);

    // The rule can be switched off.
    let mut off = Correlator::new(CorrelationConfig {
        escalation: false,
        ..CorrelationConfig::default()
    });
    off.add(&findings);
    assert!(off.groups().is_empty());
}

#[test]
fn repeats_of_one_behaviour_and_unrelated_actors_do_not_escalate() {
    // The same type twice on one database from one address: a repeat, not a story.
    let repeats = [
        rds_login(
            "a",
            "CredentialAccess:RDS/AnomalousBehavior.FailedLogin",
            2.0,
            "orders",
            "198.51.100.23",
            0,
        ),
        rds_login(
            "b",
            "CredentialAccess:RDS/AnomalousBehavior.FailedLogin",
            3.0,
            "orders",
            "198.51.100.23",
            3,
        ),
    ];
    assert!(correlate(&repeats).groups().is_empty());
    // Attempts from one address, the success from another: no shared actor.
    let other_actor = [
        rds_login(
            "c",
            "CredentialAccess:RDS/MaliciousIPCaller.FailedLogin",
            5.0,
            "orders",
            "198.51.100.23",
            0,
        ),
        rds_login(
            "d",
            "CredentialAccess:RDS/MaliciousIPCaller.SuccessfulLogin",
            7.5,
            "orders",
            "203.0.113.80",
            1,
        ),
    ];
    assert!(correlate(&other_actor).groups().is_empty());
    // A success followed by a failure, the later one less severe: no escalation.
    let falling = [
        rds_login(
            "e",
            "CredentialAccess:RDS/TorIPCaller.SuccessfulLogin",
            7.5,
            "orders",
            "198.51.100.23",
            0,
        ),
        rds_login(
            "f",
            "CredentialAccess:RDS/TorIPCaller.FailedLogin",
            5.0,
            "orders",
            "198.51.100.23",
            1,
        ),
    ];
    assert!(correlate(&falling).groups().is_empty());
}
