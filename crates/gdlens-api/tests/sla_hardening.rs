//! Issue 17's SLA aging and hardening through the real router: `Summary.sla`, the `overdue`
//! filter on findings, summary and export, and `hardening`, for the whole org and for a scoped
//! caller. The fixture findings are re-dated relative to now (ages of whole days plus half an
//! hour, so no finding sits within 30 minutes of its deadline) and some are resolved; the
//! expected numbers are recomputed from the JSON in this file.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{SecondsFormat, Utc};
use common::*;
use gdlens_api::IngestRecord;
use serde_json::{json, Value};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The `[sla]` targets of this test (Low shortened from 30 to 10 days).
fn targets_days(label: &str) -> i64 {
    match label {
        "LOW" => 10,
        "MEDIUM" => 7,
        _ => 1,
    }
}

fn label(severity: f64) -> &'static str {
    if severity >= 9.0 {
        "CRITICAL"
    } else if severity >= 7.0 {
        "HIGH"
    } else if severity >= 4.0 {
        "MEDIUM"
    } else {
        "LOW"
    }
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// One re-dated fixture finding and what the test expects of it.
struct Planted {
    json: Value,
    created_at: i64,
    resolved: bool,
}

impl Planted {
    fn account(&self) -> &str {
        self.json["accountId"].as_str().unwrap()
    }
    fn label(&self) -> &'static str {
        label(self.json["severity"].as_f64().unwrap())
    }
    fn archived(&self) -> bool {
        self.json["service"]["archived"] == true
    }
    fn sample(&self) -> bool {
        self.json["service"]["additionalInfo"]["sample"] == true
    }
    fn open(&self) -> bool {
        !self.archived() && !self.resolved
    }
    fn overdue(&self, now: i64) -> bool {
        self.open() && now > self.created_at + targets_days(self.label()) * DAY_MS
    }
    /// In the default filter (active, no samples) and the caller's accounts.
    fn visible(&self, accounts: Option<&[&str]>) -> bool {
        !self.archived() && !self.sample() && accounts.is_none_or(|a| a.contains(&self.account()))
    }
}

async fn server() -> (TestServer, Vec<Planted>) {
    let mut config = gdlens_api::Config::load(&fixture("config.toml")).unwrap();
    config.sla.low_hours = 10 * 24;
    let s = TestServer::start_in(tempfile::tempdir().unwrap(), config, None, "").await;
    let now = Utc::now().timestamp_millis();
    let mut planted = Vec::new();
    let mut records = Vec::new();
    for (i, mut v) in fixture_json("findings.ndjson").into_iter().enumerate() {
        // Ages from 0 to 15 whole days, plus half an hour.
        let created_at = now - (i as i64 % 16) * DAY_MS - HOUR_MS / 2;
        v["createdAt"] = json!(iso(created_at));
        v["updatedAt"] = json!(iso(now - 10 * 60_000));
        v["service"]["eventFirstSeen"] = json!(iso(created_at));
        v["service"]["eventLastSeen"] = json!(iso(now - 10 * 60_000));
        let raw = v.to_string();
        records.push(IngestRecord {
            finding: gdlens_domain::normalize(&v).unwrap(),
            raw,
            source: "sla".into(),
        });
        planted.push(Planted {
            json: v,
            created_at,
            resolved: i % 5 == 0,
        });
    }
    s.state.ingest(records).await.unwrap();
    let resolved: Vec<&str> = planted
        .iter()
        .filter(|p| p.resolved)
        .map(|p| p.json["id"].as_str().unwrap())
        .collect();
    s.data(
        ADMIN,
        "mutation($ids: [ID!]) { setTriage(findingIds: $ids, status: RESOLVED) { findingId } }",
        json!({"ids": resolved}),
    )
    .await;
    (s, planted)
}

const SLA: &str = "query($f: FindingFilter) { summary(filter: $f) { total sla {
    overdue open bySeverity { low medium high critical } targetHours { low medium high critical }
    asOf oldestOpen { id accountId createdAt } } } }";

fn expected_sla(planted: &[Planted], accounts: Option<&[&str]>, now: i64) -> Value {
    let visible: Vec<&Planted> = planted.iter().filter(|p| p.visible(accounts)).collect();
    let mut by: BTreeMap<&str, u64> = ["low", "medium", "high", "critical"]
        .into_iter()
        .map(|l| (l, 0))
        .collect();
    for p in visible.iter().filter(|p| p.overdue(now)) {
        *by.get_mut(p.label().to_lowercase().as_str()).unwrap() += 1;
    }
    let oldest = visible
        .iter()
        .filter(|p| p.open())
        .min_by(|a, b| {
            (a.created_at, a.json["id"].as_str()).cmp(&(b.created_at, b.json["id"].as_str()))
        })
        .map(|p| p.json["id"].clone());
    json!({
        "overdue": by.values().sum::<u64>(),
        "open": visible.iter().filter(|p| p.open()).count(),
        "bySeverity": by,
        "oldestOpen": oldest,
    })
}

fn got_sla(d: &Value) -> Value {
    let sla = &d["summary"]["sla"];
    json!({
        "overdue": sla["overdue"],
        "open": sla["open"],
        "bySeverity": sla["bySeverity"],
        "oldestOpen": sla["oldestOpen"]["id"],
    })
}

#[tokio::test]
async fn sla_counts_overdue_by_severity_and_the_oldest_open_finding_in_scope() {
    let (s, planted) = server().await;
    let now = Utc::now().timestamp_millis();
    let d = s.data(ADMIN, SLA, json!({})).await;
    assert_eq!(got_sla(&d), expected_sla(&planted, None, now));
    assert!(d["summary"]["sla"]["overdue"].as_u64().unwrap() > 0);
    assert_eq!(
        d["summary"]["sla"]["targetHours"],
        json!({"low": 240, "medium": 168, "high": 24, "critical": 24})
    );
    let as_of = chrono::DateTime::parse_from_rfc3339(d["summary"]["sla"]["asOf"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    assert_eq!(as_of % 60_000, 0, "judged at a whole minute");
    assert!((now - as_of) < 120_000);

    // A scoped caller's SLA counts its accounts only.
    let scoped = ["222222222222", "333333333333"];
    let d = s.data(VIEWER_222_333, SLA, json!({})).await;
    assert_eq!(got_sla(&d), expected_sla(&planted, Some(&scoped), now));
    let oldest = d["summary"]["sla"]["oldestOpen"]["accountId"]
        .as_str()
        .unwrap();
    assert!(scoped.contains(&oldest));
    let d = s.data(TRIAGER_111, SLA, json!({})).await;
    assert_eq!(
        got_sla(&d),
        expected_sla(&planted, Some(&["111111111111"]), now)
    );

    // The summary's filter applies to the SLA too.
    let d = s
        .data(
            ADMIN,
            SLA,
            json!({"f": {"severityLabels": ["HIGH", "CRITICAL"]}}),
        )
        .await;
    let high: Vec<&Planted> = planted
        .iter()
        .filter(|p| matches!(p.label(), "HIGH" | "CRITICAL"))
        .collect();
    let want = high
        .iter()
        .filter(|p| p.visible(None) && p.overdue(now))
        .count();
    assert_eq!(d["summary"]["sla"]["overdue"], want);
    assert_eq!(d["summary"]["sla"]["bySeverity"]["low"], 0);
}

const PAGE: &str = "query($f: FindingFilter) { findings(filter: $f, first: 500) { totalCount
    edges { node { id accountId } } } summary(filter: $f) { total } }";

fn ids(d: &Value) -> BTreeSet<String> {
    d["findings"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_overdue_filter_works_on_findings_summary_and_export_within_scope() {
    let (s, planted) = server().await;
    let now = Utc::now().timestamp_millis();
    for (token, accounts) in [
        (ADMIN, None),
        (VIEWER_222_333, Some(&["222222222222", "333333333333"][..])),
    ] {
        for want in [true, false] {
            let d = s.data(token, PAGE, json!({"f": {"overdue": want}})).await;
            let expected: BTreeSet<String> = planted
                .iter()
                .filter(|p| p.visible(accounts) && p.overdue(now) == want)
                .map(|p| p.json["id"].as_str().unwrap().to_string())
                .collect();
            assert!(!expected.is_empty());
            assert_eq!(ids(&d), expected, "{token} overdue={want}");
            assert_eq!(d["findings"]["totalCount"], expected.len());
            assert_eq!(d["summary"]["total"], expected.len());
        }
    }
    // Export selects the same findings.
    let resp = s
        .client
        .get(s.url("/export"))
        .query(&[("format", "ndjson"), ("filter", r#"{"overdue": true}"#)])
        .bearer_auth(VIEWER_222_333)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let exported: BTreeSet<String> = resp
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let expected: BTreeSet<String> = planted
        .iter()
        .filter(|p| p.visible(Some(&["222222222222", "333333333333"])) && p.overdue(now))
        .map(|p| p.json["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(exported, expected);
    // A non-boolean is refused before execution, with the stable validation code.
    assert_eq!(
        s.error_code(Some(ADMIN), PAGE, json!({"f": {"overdue": "yes"}}))
            .await,
        "GRAPHQL_VALIDATION_FAILED"
    );
}

const HARDENING: &str = "query($l: Int, $since: DateTime, $f: FindingFilter) {
    hardening(limit: $l, since: $since, filter: $f) { findingType whatToFix count maxSeverity
    accounts accountCount resourceCount resources(limit: 3) { resourceKey accountId count }
    before after } }";

#[tokio::test]
async fn hardening_lists_common_types_with_fixes_accounts_and_trend_in_scope() {
    let (s, planted) = server().await;
    let now = Utc::now().timestamp_millis();
    let since = now - 7 * DAY_MS;
    for (token, accounts) in [
        (ADMIN, None),
        (VIEWER_222_333, Some(&["222222222222", "333333333333"][..])),
    ] {
        let d = s
            .data(token, HARDENING, json!({"l": 100, "since": iso(since)}))
            .await;
        let list = d["hardening"].as_array().unwrap();
        // Naive: per type, count, accounts, and before/after `since` by createdAt.
        let mut by_type: BTreeMap<&str, (u64, BTreeSet<&str>, u64)> = BTreeMap::new();
        for p in planted.iter().filter(|p| p.visible(accounts)) {
            let e = by_type.entry(p.json["type"].as_str().unwrap()).or_default();
            e.0 += 1;
            e.1.insert(p.account());
            if p.created_at < since {
                e.2 += 1;
            }
        }
        assert_eq!(list.len(), by_type.len());
        let counts: Vec<u64> = list.iter().map(|i| i["count"].as_u64().unwrap()).collect();
        assert!(counts.windows(2).all(|w| w[0] >= w[1]), "most common first");
        for item in list {
            let t = item["findingType"].as_str().unwrap();
            let (count, accts, before) = &by_type[t];
            assert_eq!(item["count"], *count, "{t}");
            let got: BTreeSet<&str> = item["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap())
                .collect();
            assert_eq!(&got, accts, "{t}");
            assert_eq!(item["accountCount"], accts.len());
            assert_eq!(item["before"], *before);
            assert_eq!(item["after"], count - before);
            assert!(!item["whatToFix"].as_str().unwrap().is_empty());
            for r in item["resources"].as_array().unwrap() {
                assert!(accts.contains(r["accountId"].as_str().unwrap()));
            }
        }
    }
    // Without `since` there is no trend; `limit` bounds the list; a bad limit has a stable code.
    let d = s.data(ADMIN, HARDENING, json!({"l": 2})).await;
    assert_eq!(d["hardening"].as_array().unwrap().len(), 2);
    assert_eq!(d["hardening"][0]["before"], Value::Null);
    let ssh = s
        .data(
            ADMIN,
            HARDENING,
            json!({"f": {"types": ["UnauthorizedAccess:EC2/SSHBruteForce"]}}),
        )
        .await;
    if let Some(item) = ssh["hardening"].as_array().unwrap().first() {
        assert!(item["whatToFix"].as_str().unwrap().contains("SSH"));
    }
    assert_eq!(
        s.error_code(Some(ADMIN), HARDENING, json!({"l": -1})).await,
        "BAD_USER_INPUT"
    );
}
