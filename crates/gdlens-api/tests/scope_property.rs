//! Scope isolation as a property: one server on the fixture data, random sequences of (caller,
//! query) run in random order so every cache is warmed by other callers, and for each answer:
//!
//! - a scoped caller's response names no account, finding, resource key or group member outside
//!   its scope (every string in the JSON is checked);
//! - totals equal the number of visible findings matching the filter, counted naively from the
//!   fixture file.

mod common;

use std::collections::BTreeSet;
use std::sync::OnceLock;

use common::{fixture_records, TestServer, ADMIN, TRIAGER_111, VIEWER_222_333, VIEWER_ALL};
use gdlens_domain::{Finding, SeverityLabel};
use proptest::prelude::*;
use serde_json::{json, Value};

const ACCOUNTS: [&str; 3] = ["111111111111", "222222222222", "333333333333"];

/// A fixture caller: its secret and visible accounts (`None` = all).
#[derive(Debug, Clone, Copy)]
struct Caller {
    secret: &'static str,
    accounts: Option<&'static [&'static str]>,
}

const CALLERS: [Caller; 4] = [
    Caller {
        secret: ADMIN,
        accounts: None,
    },
    Caller {
        secret: VIEWER_ALL,
        accounts: None,
    },
    Caller {
        secret: TRIAGER_111,
        accounts: Some(&["111111111111"]),
    },
    Caller {
        secret: VIEWER_222_333,
        accounts: Some(&["222222222222", "333333333333"]),
    },
];

impl Caller {
    fn sees(&self, account: &str) -> bool {
        self.accounts.is_none_or(|a| a.contains(&account))
    }
}

/// The subset of `FindingFilter` the property draws.
#[derive(Debug, Clone, Default)]
struct Filter {
    account_ids: Option<Vec<&'static str>>,
    regions: Option<Vec<&'static str>>,
    severity_min: Option<f64>,
    severity_labels: Option<Vec<&'static str>>,
    type_prefix: Option<&'static str>,
    archived: Option<bool>,
    include_samples: Option<bool>,
    search: Option<&'static str>,
}

impl Filter {
    fn to_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.into(), v);
        };
        if let Some(v) = &self.account_ids {
            put("accountIds", json!(v));
        }
        if let Some(v) = &self.regions {
            put("regions", json!(v));
        }
        if let Some(v) = self.severity_min {
            put("severityMin", json!(v));
        }
        if let Some(v) = &self.severity_labels {
            put("severityLabels", json!(v));
        }
        if let Some(v) = self.type_prefix {
            put("typePrefix", json!(v));
        }
        if let Some(v) = self.archived {
            put("archived", json!(v));
        }
        if let Some(v) = self.include_samples {
            put("includeSamples", json!(v));
        }
        if let Some(v) = self.search {
            put("search", json!(v));
        }
        Value::Object(m)
    }

    /// The filter written out by hand, independently of the index.
    fn matches(&self, f: &Finding) -> bool {
        let label = match SeverityLabel::from_severity(f.severity) {
            SeverityLabel::Low => "LOW",
            SeverityLabel::Medium => "MEDIUM",
            SeverityLabel::High => "HIGH",
            SeverityLabel::Critical => "CRITICAL",
        };
        self.account_ids
            .as_ref()
            .is_none_or(|a| a.contains(&f.account_id.as_str()))
            && self
                .regions
                .as_ref()
                .is_none_or(|r| r.contains(&f.region.as_str()))
            && self.severity_min.is_none_or(|m| f.severity >= m)
            && self
                .severity_labels
                .as_ref()
                .is_none_or(|l| l.contains(&label))
            && self
                .type_prefix
                .is_none_or(|p| f.finding_type.starts_with(p))
            && f.archived == self.archived.unwrap_or(false)
            && (self.include_samples.unwrap_or(false) || !f.sample)
            && self.search.is_none_or(|s| {
                let s = s.to_lowercase();
                f.finding_type.to_lowercase().contains(&s) || f.title.to_lowercase().contains(&s)
            })
    }
}

/// One request template.
#[derive(Debug, Clone)]
enum Ask {
    Findings {
        filter: Filter,
        order: Option<(&'static str, &'static str)>,
        first: i32,
    },
    Summary(Filter),
    Groups(Filter),
    FindingById(String),
    ScoringFeatures(Filter),
    Accounts,
}

const FINDINGS_Q: &str = "query($f: FindingFilter, $o: FindingOrder, $n: Int) { findings(filter: $f, orderBy: $o, first: $n) { totalCount edges { node { id accountId resourceKey group { id title } } } } }";
const SUMMARY_Q: &str = "query($f: FindingFilter) { summary(filter: $f) { total accountsAffected findingGroups topAccounts { accountId count } topResources { accountId resourceKey } newTypes { accountId } } }";
const GROUPS_Q: &str = "query($f: FindingFilter) { findingGroups(filter: $f, first: 100) { totalCount nodes { id title accounts findingCount findings { id accountId resourceKey } timeline { findingId } entities { value findingIds } graph { nodes { id label } } } } }";
const FINDING_Q: &str =
    "query($id: ID!) { finding(id: $id) { id accountId resourceKey group { id title } } }";
const FEATURES_Q: &str = "query($f: FindingFilter) { scoringFeatures(filter: $f) }";
const ACCOUNTS_Q: &str = "{ accounts { id name owner } }";

fn fixture() -> &'static [Finding] {
    static F: OnceLock<Vec<Finding>> = OnceLock::new();
    F.get_or_init(|| {
        fixture_records("findings.ndjson")
            .into_iter()
            .map(|r| r.finding)
            .collect()
    })
}

/// The server and a runtime to drive it from proptest's synchronous cases.
fn server() -> &'static (tokio::runtime::Runtime, TestServer) {
    static S: OnceLock<(tokio::runtime::Runtime, TestServer)> = OnceLock::new();
    S.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let s = rt.block_on(TestServer::start());
        (rt, s)
    })
}

fn filter() -> impl Strategy<Value = Filter> {
    let accounts = proptest::option::of(proptest::sample::subsequence(ACCOUNTS.to_vec(), 0..=3));
    let regions = proptest::option::of(proptest::sample::subsequence(
        vec!["us-east-1", "eu-west-1", "ap-southeast-2"],
        1..=2,
    ));
    let labels = proptest::option::of(proptest::sample::subsequence(
        vec!["LOW", "MEDIUM", "HIGH", "CRITICAL"],
        1..=2,
    ));
    let prefix = proptest::option::of(proptest::sample::select(vec![
        "Recon:",
        "UnauthorizedAccess:",
        "Backdoor:EC2/",
        "Policy:S3/",
        "Execution:",
    ]));
    let search = proptest::option::of(proptest::sample::select(vec![
        "story", "bitcoin", "S3", "shell", "i-0000",
    ]));
    (
        accounts,
        regions,
        proptest::option::of(prop_oneof![Just(0.0), Just(4.8), Just(7.8), Just(9.0)]),
        labels,
        prefix,
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        search,
    )
        .prop_map(|(a, r, s, l, p, ar, samp, q)| Filter {
            account_ids: a,
            regions: r,
            severity_min: s,
            severity_labels: l,
            type_prefix: p,
            archived: ar,
            include_samples: samp,
            search: q,
        })
}

fn ask() -> impl Strategy<Value = Ask> {
    let ids: Vec<String> = fixture()
        .iter()
        .map(|f| f.id.clone())
        .chain(["f-unknown".to_string()])
        .collect();
    let order = proptest::option::of((
        proptest::sample::select(vec![
            "PRIORITY",
            "SEVERITY",
            "UPDATED_AT",
            "FIRST_SEEN",
            "COUNT",
        ]),
        proptest::sample::select(vec!["ASC", "DESC"]),
    ));
    prop_oneof![
        (filter(), order, 0..120i32).prop_map(|(filter, order, first)| Ask::Findings {
            filter,
            order,
            first
        }),
        filter().prop_map(Ask::Summary),
        filter().prop_map(Ask::Groups),
        proptest::sample::select(ids).prop_map(Ask::FindingById),
        filter().prop_map(Ask::ScoringFeatures),
        Just(Ask::Accounts),
    ]
}

/// Everything a caller must never see: other accounts' ids, their findings' ids and resource keys
/// (keys also used by a visible finding excluded).
struct Hidden {
    accounts: Vec<&'static str>,
    findings: BTreeSet<String>,
    resource_keys: BTreeSet<String>,
}

fn hidden(caller: &Caller) -> Hidden {
    let (mut findings, mut keys, mut visible_keys) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for f in fixture() {
        if caller.sees(&f.account_id) {
            visible_keys.extend(f.resource_key.clone());
        } else {
            findings.insert(f.id.clone());
            keys.extend(f.resource_key.clone());
        }
    }
    Hidden {
        accounts: ACCOUNTS.into_iter().filter(|a| !caller.sees(a)).collect(),
        findings,
        resource_keys: keys.difference(&visible_keys).cloned().collect(),
    }
}

fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

fn check_no_leak(caller: &Caller, body: &Value) -> Result<(), String> {
    if caller.accounts.is_none() {
        return Ok(());
    }
    let h = hidden(caller);
    let mut all = Vec::new();
    strings(body, &mut all);
    for s in all {
        if let Some(a) = h.accounts.iter().find(|a| s.contains(**a)) {
            return Err(format!("names hidden account {a} in `{s}`"));
        }
        // Finding ids appear bare, in graph node ids (`finding:<id>`) and in member lists.
        let bare = s.strip_prefix("finding:").unwrap_or(s);
        if h.findings.contains(bare) {
            return Err(format!("names hidden finding `{s}`"));
        }
        let key = s.rsplit(':').next().unwrap_or(s);
        if h.resource_keys.contains(s) || h.resource_keys.contains(key) {
            return Err(format!("names hidden resource `{s}`"));
        }
    }
    Ok(())
}

fn visible_matching<'a>(caller: &'a Caller, f: &'a Filter) -> impl Iterator<Item = &'a Finding> {
    fixture()
        .iter()
        .filter(move |x| caller.sees(&x.account_id) && f.matches(x))
}

async fn run(s: &TestServer, caller: &Caller, ask: &Ask) -> Result<(), String> {
    let (query, vars) = match ask {
        Ask::Findings {
            filter,
            order,
            first,
        } => (
            FINDINGS_Q,
            json!({"f": filter.to_json(), "n": first,
                   "o": order.map(|(f, d)| json!({"field": f, "direction": d}))}),
        ),
        Ask::Summary(f) => (SUMMARY_Q, json!({"f": f.to_json()})),
        Ask::Groups(f) => (GROUPS_Q, json!({"f": f.to_json()})),
        Ask::FindingById(id) => (FINDING_Q, json!({"id": id})),
        Ask::ScoringFeatures(f) => (FEATURES_Q, json!({"f": f.to_json()})),
        Ask::Accounts => (ACCOUNTS_Q, Value::Null),
    };
    let (status, body) = s.post(Some(caller.secret), query, vars).await;
    if status != 200 || body.get("errors").is_some() {
        return Err(format!("{status}: {body}"));
    }
    check_no_leak(caller, &body)?;
    let data = &body["data"];
    match ask {
        Ask::Findings { filter, first, .. } => {
            let want = visible_matching(caller, filter).count();
            let got = data["findings"]["totalCount"].as_u64();
            if got != Some(want as u64) {
                return Err(format!("totalCount {got:?}, want {want}"));
            }
            let edges = data["findings"]["edges"].as_array().map_or(0, Vec::len);
            if edges != want.min(*first as usize) {
                return Err(format!("{edges} edges, want {}", want.min(*first as usize)));
            }
        }
        Ask::Summary(filter) => {
            let rows: Vec<&Finding> = visible_matching(caller, filter).collect();
            let accounts: BTreeSet<&str> = rows.iter().map(|f| f.account_id.as_str()).collect();
            let got = (
                data["summary"]["total"].as_u64(),
                data["summary"]["accountsAffected"].as_u64(),
            );
            let want = (Some(rows.len() as u64), Some(accounts.len() as u64));
            if got != want {
                return Err(format!("(total, accountsAffected) {got:?}, want {want:?}"));
            }
        }
        Ask::Groups(filter) => {
            // Each listed group has a visible member matching the filter.
            let ids: BTreeSet<&str> = visible_matching(caller, filter)
                .map(|f| f.id.as_str())
                .collect();
            for g in data["findingGroups"]["nodes"].as_array().unwrap() {
                let members: Vec<&str> = g["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|f| f["id"].as_str())
                    .collect();
                if !members.iter().any(|m| ids.contains(m)) {
                    return Err(format!("group {} has no matching visible member", g["id"]));
                }
                if g["findingCount"].as_u64() != Some(members.len() as u64) {
                    return Err(format!("group {} counts hidden members", g["id"]));
                }
            }
        }
        Ask::FindingById(id) => {
            let visible = fixture()
                .iter()
                .any(|f| &f.id == id && caller.sees(&f.account_id));
            if data["finding"].is_null() == visible {
                return Err(format!("finding {id}: visible={visible}, got {data}"));
            }
        }
        Ask::ScoringFeatures(filter) => {
            let want: BTreeSet<&str> = visible_matching(caller, filter)
                .map(|f| f.id.as_str())
                .collect();
            let got: BTreeSet<&str> = data["scoringFeatures"]["ids"]
                .as_array()
                .ok_or("no ids")?
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if got != want {
                return Err(format!("ids {got:?}, want {want:?}"));
            }
        }
        Ask::Accounts => {
            let want: Vec<&str> = ACCOUNTS.into_iter().filter(|a| caller.sees(a)).collect();
            let got: Vec<&str> = data["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|a| a["id"].as_str())
                .collect();
            if got != want {
                return Err(format!("accounts {got:?}, want {want:?}"));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn scoped_callers_see_only_their_scope(
        steps in proptest::collection::vec((0..CALLERS.len(), ask()), 1..=8)
    ) {
        let (rt, s) = server();
        for (c, ask) in &steps {
            let caller = &CALLERS[*c];
            let result = rt.block_on(run(s, caller, ask));
            prop_assert!(result.is_ok(), "{} asking {:?}: {}", caller.secret, ask, result.unwrap_err());
        }
    }
}
