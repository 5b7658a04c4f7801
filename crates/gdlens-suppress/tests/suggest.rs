//! Precision of the suggestions on a generated history: a planted noise pattern is found and
//! its dry run counts exactly its findings; a pattern touching a finding-group member or a High
//! finding is never offered as safe; a one-day burst is not "recurring over weeks".

use gdlens_domain::time::format_iso;
use gdlens_suppress::{CandidateRuns, DryRun, FindingCriteria, Miner, SuggestOptions, Suggestion};
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
const T0: i64 = 1_704_067_200_000; // 2024-01-01

struct Spec<'a> {
    id: String,
    account: &'a str,
    ty: &'a str,
    severity: f64,
    day: i64,
    instance: String,
    env: &'a str,
}

fn finding(s: &Spec<'_>) -> Value {
    let at = format_iso(T0 + s.day * DAY);
    json!({
        "id": s.id, "accountId": s.account, "region": "us-east-1", "type": s.ty,
        "severity": s.severity, "createdAt": at, "updatedAt": at,
        "resource": {"resourceType": "Instance", "instanceDetails": {
            "instanceId": s.instance, "tags": [{"key": "Env", "value": s.env}]}},
        "service": {"archived": false, "eventFirstSeen": at, "eventLastSeen": at}
    })
}

/// The history: (finding, is group member).
fn history() -> Vec<(Value, bool)> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut push = |account: &str,
                    ty: &str,
                    severity: f64,
                    day: i64,
                    instance: String,
                    env: &str,
                    group: bool| {
        n += 1;
        let s = Spec {
            id: format!("f{n:04}"),
            account,
            ty,
            severity,
            day,
            instance,
            env,
        };
        out.push((finding(&s), group));
    };
    // Planted noise: port probes on sandbox instances in three accounts, six weeks, Low.
    for i in 0..42 {
        let account = ["111111111111", "222222222222", "333333333333"][i % 3];
        push(
            account,
            "Recon:EC2/PortProbeUnprotectedPort",
            2.0,
            i as i64,
            format!("i-sbx{}", i % 6),
            "sandbox",
            false,
        );
    }
    // The same type on prod instances: Medium, recurring, but one of them is a group member.
    for i in 0..30 {
        push(
            "111111111111",
            "Recon:EC2/PortProbeUnprotectedPort",
            5.0,
            i as i64,
            format!("i-prod{}", i % 3),
            "prod",
            i == 7,
        );
    }
    // SSH brute force on staging: Low, recurring, but the same instances also had a High one.
    for i in 0..20 {
        push(
            "222222222222",
            "UnauthorizedAccess:EC2/SSHBruteForce",
            2.0,
            (i * 2) as i64,
            "i-stg".into(),
            "staging",
            false,
        );
    }
    push(
        "222222222222",
        "UnauthorizedAccess:EC2/SSHBruteForce",
        8.0,
        10,
        "i-stg".into(),
        "staging",
        false,
    );
    // A one-day burst: many findings, no recurrence.
    for i in 0..40 {
        push(
            "333333333333",
            "Behavior:EC2/NetworkPortUnusual",
            5.0,
            3,
            format!("i-burst{}", i % 2),
            "batch",
            false,
        );
    }
    out
}

fn suggestions(history: &[(Value, bool)]) -> Vec<Suggestion> {
    let mut miner = Miner::new();
    for (f, g) in history {
        miner.observe(f, *g);
    }
    let mut runs = CandidateRuns::new(miner.candidates(&SuggestOptions::default()));
    for (f, g) in history {
        runs.observe(f, *g);
    }
    runs.rank(20)
}

fn equals(s: &Suggestion, attribute: &str) -> Vec<String> {
    s.criteria["criterion"][attribute]["equals"]
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn planted_noise_is_found_and_counted_exactly() {
    let h = history();
    let s = suggestions(&h);
    let top = s
        .iter()
        .find(|x| equals(x, "resource.instanceDetails.tags.value") == ["sandbox"])
        .expect("the planted tag pattern is suggested");
    assert_eq!(equals(top, "type"), ["Recon:EC2/PortProbeUnprotectedPort"]);
    assert_eq!(equals(top, "resource.instanceDetails.tags.key"), ["Env"]);
    assert_eq!(top.dry_run.finding_count, 42, "{top:#?}");
    assert!(top.safe);
    assert_eq!(top.dry_run.by_account.len(), 3);
    assert_eq!(top.dry_run.by_severity.low, 42);
    // The dry run agrees with evaluating the criteria finding by finding.
    let c = FindingCriteria::parse(&top.criteria).unwrap();
    assert_eq!(h.iter().filter(|(f, _)| c.matches(f)).count(), 42);
    // The best suggestion removes at least the planted noise, and ranks first by noise removed.
    assert!(s[0].dry_run.noise_removed >= 42);
    assert!(s
        .windows(2)
        .all(|w| w[0].dry_run.noise_removed >= w[1].dry_run.noise_removed));
}

#[test]
fn nothing_that_hides_a_group_member_or_high_finding_is_safe() {
    let h = history();
    let s = suggestions(&h);
    assert!(!s.is_empty());
    for x in &s {
        assert_eq!(
            x.safe,
            x.dry_run.hidden_high_or_above == 0 && x.dry_run.hidden_group_members == 0
        );
        assert!(x.safe, "mined suggestions avoid tainted values: {x:#?}");
        // Values carried by a group member (i-prod1, prod) or a High finding (i-stg, staging)
        // are never mined.
        assert!(!equals(x, "resource.instanceDetails.instanceId")
            .iter()
            .any(|i| i == "i-prod1" || i == "i-stg"));
        assert!(!equals(x, "resource.instanceDetails.tags.value")
            .iter()
            .any(|v| v == "prod" || v == "staging"));
    }
    // Asked directly, the dry run says loudly what the prod pattern would hide.
    let c = FindingCriteria::parse(&json!({"criterion": {
        "type": {"equals": ["Recon:EC2/PortProbeUnprotectedPort"]},
        "resource.instanceDetails.tags.value": {"equals": ["prod"]}}}))
    .unwrap();
    let mut d = DryRun::new(c);
    for (f, g) in &h {
        d.observe(f, *g);
    }
    let r = d.finish();
    assert_eq!((r.finding_count, r.hidden_group_members), (30, 1));
    assert!(!r.is_safe());
    assert_eq!(r.hidden[0].finding.id, "f0050");
}

#[test]
fn a_one_day_burst_is_not_recurring_noise() {
    let s = suggestions(&history());
    assert!(s
        .iter()
        .all(|x| equals(x, "type") != ["Behavior:EC2/NetworkPortUnusual"]));
}

#[test]
fn suggestions_never_include_high_by_construction() {
    for x in suggestions(&history()) {
        assert_eq!(x.criteria["criterion"]["severity"]["lessThan"], json!(7));
    }
}
