//! Property tests: the index's filter and summary equal a naive recomputation from the findings
//! (a `Vec<Finding>` filtered with string comparisons and counted with hash maps), over random
//! findings, random newer/older versions, random triage, random filters and random scopes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use gdlens_domain::time::{format_day, utc_day};
use gdlens_domain::{
    Account, Criticality, Finding, FindingFilter, Scope, SeverityLabel, SlaTargets, TriageStatus,
};
use gdlens_index::{
    AccountStat, Cells, FindingIndex, FindingTypeStat, HardeningItem, HardeningResource, NewType,
    Period, PeriodChange, Precomputed, ResourceStat, SeverityCounts, SeverityDelta,
    SeverityTrendPoint, SlaSummary, Summary, SummaryOptions,
};
use proptest::prelude::*;

const HOUR: i64 = 3_600_000;
const T0: i64 = 1_767_225_600_000;
const ACCOUNTS: [&str; 4] = [
    "111111111111",
    "222222222222",
    "333333333333",
    "444444444444",
];
const REGIONS: [&str; 3] = ["us-east-1", "eu-west-1", "ap-south-1"];
const TYPES: [&str; 6] = [
    "Recon:EC2/PortProbeUnprotectedPort",
    "UnauthorizedAccess:EC2/SSHBruteForce",
    "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS",
    "CryptoCurrency:EC2/BitcoinTool.B!DNS",
    "AttackSequence:IAM/CompromisedCredentials",
    "Policy:S3/BucketBlockPublicAccessDisabled",
];
const RESOURCE_TYPES: [&str; 3] = ["Instance", "AccessKey", "S3Bucket"];
const TITLES: [&str; 4] = [
    "Unprotected port on i-0abc is being probed",
    "SSH brute force against i-0abc",
    "Credentials used from Tor",
    "Öffentlicher Zugriff auf Bucket",
];

// ---------------------------------------------------------------------------------------------
// The naive implementation: the latest version per id, then plain filtering and counting.

#[derive(Clone)]
struct NaiveRow {
    finding: Finding,
    triage: TriageStatus,
}

fn naive_latest(versions: &[Finding], triage: &[(usize, TriageStatus)]) -> Vec<NaiveRow> {
    let mut latest: Vec<NaiveRow> = Vec::new();
    for f in versions {
        match latest.iter_mut().find(|r| r.finding.id == f.id) {
            Some(r) if f.updated_at >= r.finding.updated_at => r.finding = f.clone(),
            Some(_) => {}
            None => latest.push(NaiveRow {
                finding: f.clone(),
                triage: TriageStatus::New,
            }),
        }
    }
    for &(i, status) in triage {
        if !latest.is_empty() {
            let n = latest.len();
            latest[i % n].triage = status;
        }
    }
    latest
}

fn naive_matches(r: &NaiveRow, filter: &FindingFilter, scope: &Scope, with_time: bool) -> bool {
    naive_matches_with(r, filter, scope, with_time, &SlaTargets::default())
}

/// Open: not archived and not resolved, suppressed or a false positive.
fn naive_open(r: &NaiveRow) -> bool {
    !r.finding.archived
        && !matches!(
            r.triage,
            TriageStatus::Resolved | TriageStatus::Suppressed | TriageStatus::FalsePositive
        )
}

/// Overdue at `now`: open, and `now` strictly after `createdAt` + the label's target.
fn naive_overdue(r: &NaiveRow, targets: &SlaTargets, now: i64) -> bool {
    let target = match r.finding.severity_label() {
        SeverityLabel::Low => targets.low_ms,
        SeverityLabel::Medium => targets.medium_ms,
        SeverityLabel::High => targets.high_ms,
        SeverityLabel::Critical => targets.critical_ms,
    };
    naive_open(r) && now > r.finding.created_at + target
}

fn naive_matches_with(
    r: &NaiveRow,
    filter: &FindingFilter,
    scope: &Scope,
    with_time: bool,
    targets: &SlaTargets,
) -> bool {
    let f = &r.finding;
    if let Some(want) = filter.overdue {
        if naive_overdue(r, targets, filter.as_of.unwrap_or(i64::MAX)) != want {
            return false;
        }
    }
    let in_list = |list: &Option<Vec<String>>, v: &str| {
        list.as_ref().is_none_or(|l| l.iter().any(|x| x == v))
    };
    scope.allows(&f.account_id)
        && in_list(&filter.account_ids, &f.account_id)
        && in_list(&filter.regions, &f.region)
        && filter.severity_min.is_none_or(|m| f.severity >= m)
        && filter
            .severity_labels
            .as_ref()
            .is_none_or(|l| l.contains(&f.severity_label()))
        && in_list(&filter.types, &f.finding_type)
        && filter
            .type_prefix
            .as_ref()
            .is_none_or(|p| f.finding_type.starts_with(p.as_str()))
        && in_list(&filter.resource_types, &f.resource_type)
        && filter
            .resource_key
            .as_ref()
            .is_none_or(|k| f.resource_key.as_ref() == Some(k))
        && f.archived == filter.archived.unwrap_or(false)
        && (filter.include_samples || !f.sample)
        && (!with_time || filter.updated_since.is_none_or(|s| f.updated_at >= s))
        && (!with_time || filter.updated_before.is_none_or(|b| f.updated_at < b))
        && filter
            .triage_status
            .as_ref()
            .is_none_or(|t| t.contains(&r.triage))
        && filter
            .search
            .as_ref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .is_none_or(|s| {
                f.finding_type.to_lowercase().contains(&s) || f.title.to_lowercase().contains(&s)
            })
}

fn label_counts<'a>(rows: impl Iterator<Item = &'a Finding>) -> [u64; 4] {
    let mut c = [0u64; 4];
    for f in rows {
        c[f.severity_label().index()] += 1;
    }
    c
}

fn counts(c: [u64; 4]) -> SeverityCounts {
    SeverityCounts {
        low: c[0],
        medium: c[1],
        high: c[2],
        critical: c[3],
    }
}

/// Sorts `(key, count)` by count (descending or ascending), then key ascending, and keeps `limit`.
fn rank<K: Ord + Clone>(mut v: Vec<(K, u64)>, descending: bool, limit: usize) -> Vec<(K, u64)> {
    v.sort_by(|a, b| {
        let by_count = if descending {
            b.1.cmp(&a.1)
        } else {
            a.1.cmp(&b.1)
        };
        by_count.then_with(|| a.0.cmp(&b.0))
    });
    v.truncate(limit);
    v
}

fn type_stats(rows: &[&Finding], descending: bool, limit: usize) -> Vec<FindingTypeStat> {
    let mut by_type: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in rows {
        by_type.entry(&f.finding_type).or_default().push(f);
    }
    let ranked = rank(
        by_type
            .iter()
            .map(|(t, v)| (t.to_string(), v.len() as u64))
            .collect(),
        descending,
        limit,
    );
    ranked
        .into_iter()
        .map(|(t, count)| {
            let v = &by_type[t.as_str()];
            FindingTypeStat {
                count,
                max_severity: v
                    .iter()
                    .map(|f| f.severity)
                    .fold(f64::NEG_INFINITY, f64::max),
                accounts: v
                    .iter()
                    .map(|f| &f.account_id)
                    .collect::<HashSet<_>>()
                    .len() as u64,
                last_seen: v.iter().map(|f| f.last_seen()).max().unwrap(),
                finding_type: t,
            }
        })
        .collect()
}

fn naive_summary(
    latest: &[NaiveRow],
    accounts: &[Account],
    filter: &FindingFilter,
    scope: &Scope,
    options: &SummaryOptions,
) -> Summary {
    let rows: Vec<&Finding> = latest
        .iter()
        .filter(|r| naive_matches(r, filter, scope, true))
        .map(|r| &r.finding)
        .collect();
    let by = label_counts(rows.iter().copied());
    let total = rows.len() as u64;

    // Severity trend: per UTC day, gaps filled when the span is under ten years.
    let mut per_day: BTreeMap<i32, [u64; 4]> = BTreeMap::new();
    for f in &rows {
        per_day.entry(utc_day(f.updated_at)).or_default()[f.severity_label().index()] += 1;
    }
    let mut severity_trend = Vec::new();
    if let (Some((&first, _)), Some((&last, _))) =
        (per_day.iter().next(), per_day.iter().next_back())
    {
        let days: Vec<i32> = if last - first >= 3660 {
            per_day.keys().copied().collect()
        } else {
            (first..=last).collect()
        };
        for d in days {
            let c = per_day.get(&d).copied().unwrap_or_default();
            severity_trend.push(SeverityTrendPoint {
                date: format_day(d),
                low: c[0],
                medium: c[1],
                high: c[2],
                critical: c[3],
            });
        }
    }

    let floor = options
        .least_frequent_min_severity
        .unwrap_or(f64::NEG_INFINITY);
    let floor_rows: Vec<&Finding> = rows
        .iter()
        .copied()
        .filter(|f| f.severity >= floor)
        .collect();

    let mut by_resource: HashMap<(String, String, String), Vec<&Finding>> = HashMap::new();
    for f in &rows {
        if let Some(k) = &f.resource_key {
            by_resource
                .entry((k.clone(), f.account_id.clone(), f.resource_type.clone()))
                .or_default()
                .push(f);
        }
    }
    let top_resources = rank(
        by_resource
            .iter()
            .map(|(k, v)| (k.clone(), v.len() as u64))
            .collect(),
        true,
        options.limit,
    )
    .into_iter()
    .map(|(k, count)| {
        let v = &by_resource[&k];
        ResourceStat {
            count,
            distinct_types: v
                .iter()
                .map(|f| &f.finding_type)
                .collect::<HashSet<_>>()
                .len() as u64,
            max_severity: v
                .iter()
                .map(|f| f.severity)
                .fold(f64::NEG_INFINITY, f64::max),
            resource_key: k.0,
            account_id: k.1,
            resource_type: k.2,
        }
    })
    .collect();

    let mut by_account: HashMap<&str, Vec<&Finding>> = HashMap::new();
    for f in &rows {
        by_account.entry(&f.account_id).or_default().push(f);
    }
    let top_accounts = rank(
        by_account
            .iter()
            .map(|(a, v)| (a.to_string(), v.len() as u64))
            .collect(),
        true,
        options.limit,
    )
    .into_iter()
    .map(|(a, count)| {
        let config = accounts.iter().find(|c| c.id == a);
        AccountStat {
            name: config.map(|c| c.name.clone()).unwrap_or_default(),
            criticality: config.map(|c| c.criticality).unwrap_or_default(),
            count,
            by_severity: counts(label_counts(by_account[a.as_str()].iter().copied())),
            account_id: a,
        }
    })
    .collect();

    let period = filter.updated_since.map(|since| Period {
        since,
        before: filter.updated_before.unwrap_or(options.now_ms).max(since),
    });
    let mut new_types = Vec::new();
    let mut change = None;
    if let Some(period) = period {
        let pairs: BTreeSet<(&str, &str)> = rows
            .iter()
            .map(|f| (f.account_id.as_str(), f.finding_type.as_str()))
            .collect();
        for (account, ty) in pairs {
            let first_seen = latest
                .iter()
                .map(|r| &r.finding)
                .filter(|f| {
                    f.account_id == account
                        && f.finding_type == ty
                        && (filter.include_samples || !f.sample)
                })
                .map(|f| f.first_seen())
                .min()
                .unwrap();
            if first_seen >= period.since {
                new_types.push(NewType {
                    finding_type: ty.to_string(),
                    account_id: account.to_string(),
                    first_seen,
                });
            }
        }
        new_types.sort_by(|a, b| {
            b.first_seen
                .cmp(&a.first_seen)
                .then(a.finding_type.cmp(&b.finding_type))
                .then(a.account_id.cmp(&b.account_id))
        });
        new_types.truncate(options.new_types_limit);

        let previous = Period {
            since: period.since - (period.before - period.since),
            before: period.since,
        };
        let mut prev_filter = filter.clone();
        prev_filter.updated_since = Some(previous.since);
        prev_filter.updated_before = Some(previous.before);
        let prev = label_counts(
            latest
                .iter()
                .filter(|r| naive_matches(r, &prev_filter, scope, true))
                .map(|r| &r.finding),
        );
        let prev_total: u64 = prev.iter().sum();
        let d = |i: usize| by[i] as i64 - prev[i] as i64;
        change = Some(PeriodChange {
            previous,
            previous_total: prev_total,
            previous_by_severity: counts(prev),
            total_delta: total as i64 - prev_total as i64,
            by_severity_delta: SeverityDelta {
                low: d(0),
                medium: d(1),
                high: d(2),
                critical: d(3),
            },
        });
    }

    Summary {
        generation: 0,
        total,
        by_severity: counts(by),
        accounts_affected: by_account.len() as u64,
        resources_affected: by_resource.len() as u64,
        attack_sequences: rows
            .iter()
            .filter(|f| f.finding_type.starts_with("AttackSequence:"))
            .count() as u64,
        finding_groups: None,
        severity_trend,
        top_finding_types: type_stats(&rows, true, options.limit),
        top_resources,
        top_accounts,
        least_frequent_types: type_stats(&floor_rows, false, options.limit),
        least_frequent_min_severity: options.least_frequent_min_severity,
        new_types,
        period,
        change,
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies: small domains so that ids, pairs, resources and days collide often.

fn finding_strategy() -> impl Strategy<Value = Finding> {
    (
        (
            0..40u32,
            0..ACCOUNTS.len(),
            0..REGIONS.len(),
            0..TYPES.len(),
            0..TITLES.len(),
        ),
        (prop_oneof![
            Just(1.0),
            Just(3.9),
            Just(4.0),
            Just(6.95),
            Just(7.0),
            Just(8.9),
            Just(9.0),
            Just(10.0),
            0.0..10.0f64
        ]),
        (
            0..RESOURCE_TYPES.len(),
            proptest::option::weighted(0.8, 0..5u32),
        ),
        // Whole hours, so that rows often sit exactly on a period boundary.
        (
            -20 * 24..2 * 24i64,
            0..3 * 24i64,
            proptest::option::of(0..6 * 24i64),
            1..5u64,
        ),
        (
            proptest::bool::weighted(0.15),
            proptest::bool::weighted(0.1),
        ),
    )
        .prop_map(
            |(
                (id, a, r, t, title),
                severity,
                (rt, key),
                (updated, age, first_delta, count),
                (archived, sample),
            )| {
                let updated_at = T0 + updated * HOUR;
                let (age, first_delta) = (age * HOUR, first_delta.map(|d| d * HOUR));
                Finding {
                    id: format!("f-{id}"),
                    account_id: ACCOUNTS[a].into(),
                    region: REGIONS[r].into(),
                    finding_type: TYPES[t].into(),
                    severity,
                    title: TITLES[title].into(),
                    created_at: updated_at - age,
                    updated_at,
                    event_first_seen: first_delta.map(|d| updated_at - d),
                    event_last_seen: None,
                    count,
                    archived,
                    sample,
                    resource_type: RESOURCE_TYPES[rt].into(),
                    resource_key: key.map(|k| format!("res-{k}")),
                    ..Finding::default()
                }
            },
        )
}

fn opt_subset<T: Clone + std::fmt::Debug + 'static>(
    values: &'static [T],
) -> impl Strategy<Value = Option<Vec<T>>> {
    proptest::option::weighted(
        0.3,
        proptest::sample::subsequence(values.to_vec(), 0..=values.len()),
    )
}

static LABELS: [SeverityLabel; 4] = SeverityLabel::ALL;
static TRIAGE: [TriageStatus; 6] = TriageStatus::ALL;

fn strings(values: &'static [&'static str]) -> impl Strategy<Value = Option<Vec<String>>> {
    opt_subset(values).prop_map(|o| o.map(|v| v.into_iter().map(String::from).collect()))
}

fn filter_strategy() -> impl Strategy<Value = FindingFilter> {
    (
        (
            strings(&ACCOUNTS),
            strings(&REGIONS),
            proptest::option::weighted(0.3, 0.0..10.0f64),
            opt_subset(&LABELS),
        ),
        (
            strings(&TYPES),
            proptest::option::weighted(
                0.2,
                prop_oneof![
                    Just("UnauthorizedAccess:"),
                    Just("Recon:EC2/"),
                    Just(""),
                    Just("Nope")
                ],
            ),
            strings(&RESOURCE_TYPES),
            proptest::option::weighted(
                0.2,
                prop_oneof![Just("res-1"), Just("res-3"), Just("unknown")],
            ),
        ),
        (proptest::option::of(any::<bool>()), any::<bool>()),
        (
            proptest::option::weighted(0.5, -15 * 24..3 * 24i64),
            proptest::option::weighted(0.3, -10 * 24..4 * 24i64),
        ),
        opt_subset(&TRIAGE),
        proptest::option::weighted(
            0.2,
            prop_oneof![
                Just("ec2"),
                Just(" SSH "),
                Just("TOR"),
                Just("öffentlicher"),
                Just("zzz")
            ],
        ),
        // Whole hours: rows often sit exactly on their SLA deadline.
        (
            proptest::option::weighted(0.3, any::<bool>()),
            -5 * 24..5 * 24i64,
        ),
    )
        .prop_map(
            |(
                (accounts, regions, severity_min, labels),
                (types, prefix, rtypes, key),
                (archived, samples),
                (since, before),
                triage,
                search,
                (overdue, as_of),
            )| {
                FindingFilter {
                    account_ids: accounts,
                    regions,
                    severity_min,
                    severity_labels: labels,
                    types,
                    type_prefix: prefix.map(String::from),
                    resource_types: rtypes,
                    resource_key: key.map(String::from),
                    archived,
                    include_samples: samples,
                    updated_since: since.map(|s| T0 + s * HOUR),
                    updated_before: before.map(|b| T0 + b * HOUR),
                    triage_status: triage,
                    search: search.map(String::from),
                    overdue,
                    as_of: overdue.map(|_| T0 + as_of * HOUR),
                }
            },
        )
}

fn scope_strategy() -> impl Strategy<Value = Scope> {
    prop_oneof![
        Just(Scope::All),
        proptest::sample::subsequence(ACCOUNTS.to_vec(), 0..=ACCOUNTS.len())
            .prop_map(|v| Scope::Accounts(v.into_iter().map(String::from).collect())),
    ]
}

fn account_config() -> Vec<Account> {
    vec![
        Account {
            id: ACCOUNTS[0].into(),
            name: "prod".into(),
            owner: "a".into(),
            criticality: Criticality::Critical,
        },
        Account {
            id: ACCOUNTS[2].into(),
            name: "dev".into(),
            owner: "b".into(),
            criticality: Criticality::Low,
        },
    ]
}

/// Builds the index the way the service does: bulk build from the first half, then incremental
/// upserts (newer versions replace, older are ignored), then triage, then the account config.
/// A persisted start-up snapshot's index, as `gdlens serve` writes and reads it.
#[derive(serde::Serialize, serde::Deserialize)]
struct Persisted(#[serde(with = "gdlens_index::persist")] FindingIndex);

/// Half built in bulk, half upserted; with `persisted`, the bulk half goes through a persisted
/// snapshot first, so the rebuilt lookup tables take the later upserts.
fn build_index(
    versions: &[Finding],
    triage: &[(usize, TriageStatus)],
    persisted: bool,
) -> FindingIndex {
    let half = versions.len() / 2;
    let mut index = FindingIndex::build(versions[..half].iter().cloned());
    if persisted {
        let bytes = postcard::to_allocvec(&Persisted(index)).expect("the index serializes");
        index = postcard::from_bytes::<Persisted>(&bytes)
            .expect("the index deserializes")
            .0;
    }
    for f in &versions[half..] {
        index.upsert(f);
    }
    let latest_ids: Vec<String> = naive_latest(versions, &[])
        .into_iter()
        .map(|r| r.finding.id)
        .collect();
    for &(i, status) in triage {
        if !latest_ids.is_empty() {
            index
                .set_triage(&latest_ids[i % latest_ids.len()], status)
                .unwrap();
        }
    }
    index.set_accounts(&account_config());
    index
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn filter_equals_naive(
        versions in proptest::collection::vec(finding_strategy(), 0..120),
        triage in proptest::collection::vec((0..100usize, proptest::sample::select(TRIAGE.to_vec())), 0..10),
        filter in filter_strategy(),
        scope in scope_strategy(),
        persisted in any::<bool>(),
    ) {
        let index = build_index(&versions, &triage, persisted);
        let latest = naive_latest(&versions, &triage);
        let mut got: Vec<&str> = index.filter(&filter, &scope).into_iter().map(|r| index.id(r)).collect();
        got.sort();
        let mut want: Vec<&str> = latest.iter().filter(|r| naive_matches(r, &filter, &scope, true)).map(|r| r.finding.id.as_str()).collect();
        want.sort();
        // Counting per cell and per row agree with the naive filter too.
        let compiled = index.compile(&filter, &scope);
        prop_assert_eq!(compiled.count(), want.len());
        let cells = Cells::build(&index);
        // Cells, and search hits computed ahead (as the API caches them), change nothing.
        let hits = filter.search.as_ref().map(|n| std::sync::Arc::new(index.search_hits(n)));
        let pre = Precomputed { cells: Some(&cells), search: hits.as_ref() };
        let by_cells = index.compile_with(pre, &filter, &scope);
        prop_assert_eq!(by_cells.count(), want.len());
        for row in 0..index.len() as u32 {
            prop_assert_eq!(by_cells.matches(row), compiled.matches(row));
        }
        prop_assert_eq!(got, want);
    }

    #[test]
    fn summary_equals_naive(
        versions in proptest::collection::vec(finding_strategy(), 0..150),
        triage in proptest::collection::vec((0..100usize, proptest::sample::select(TRIAGE.to_vec())), 0..10),
        filter in filter_strategy(),
        scope in scope_strategy(),
        limit in 0..6usize,
        floor in proptest::option::of(prop_oneof![Just(7.0), Just(4.0), 0.0..10.0f64]),
        new_types_limit in 0..8usize,
        parallel in any::<bool>(),
        use_cells in any::<bool>(),
        persisted in any::<bool>(),
    ) {
        let index = build_index(&versions, &triage, persisted);
        let latest = naive_latest(&versions, &triage);
        let options = SummaryOptions { limit, now_ms: T0, least_frequent_min_severity: floor, new_types_limit,
            parallel_min_rows: if parallel { 0 } else { usize::MAX } };
        // From cells (pre-aggregated) or from the rows: the same summary.
        let cells = use_cells.then(|| Cells::build(&index));
        let mut got = index.summary_with(cells.as_ref(), &filter, &scope, &options);
        prop_assert_eq!(got.generation, index.generation());
        got.generation = 0;
        let want = naive_summary(&latest, &account_config(), &filter, &scope, &options);
        prop_assert_eq!(got, want);
    }

    /// Crowded cells: findings squeezed into one account, one region, two types and two
    /// severities, so cells hold many rows and time ranges cut through them. The cell scan must
    /// give the row scan's summary (which the test above holds to the naive one).
    #[test]
    fn summary_from_crowded_cells_equals_row_scan(
        versions in proptest::collection::vec(finding_strategy(), 0..150),
        triage in proptest::collection::vec((0..100usize, proptest::sample::select(TRIAGE.to_vec())), 0..10),
        filter in filter_strategy(),
        floor in proptest::option::of(prop_oneof![Just(7.0), Just(4.0)]),
        parallel in any::<bool>(),
    ) {
        let crowded: Vec<Finding> = versions
            .into_iter()
            .map(|mut f| {
                f.account_id = ACCOUNTS[0].into();
                f.region = REGIONS[0].into();
                f.finding_type = if f.severity < 5.0 { TYPES[0] } else { TYPES[1] }.into();
                f.severity = if f.severity < 5.0 { 4.0 } else { 8.0 };
                f
            })
            .collect();
        let index = build_index(&crowded, &triage, false);
        let cells = Cells::build(&index);
        prop_assert!(cells.len() <= index.len());
        let options = SummaryOptions { limit: 5, now_ms: T0, least_frequent_min_severity: floor, new_types_limit: 5,
            parallel_min_rows: if parallel { 0 } else { usize::MAX } };
        let scope = Scope::All;
        prop_assert_eq!(
            index.summary_with(Some(&cells), &filter, &scope, &options),
            index.summary(&filter, &scope, &options)
        );
        let (rows, by_cells) = (index.compile(&filter, &scope), index.compile_with(Precomputed { cells: Some(&cells), search: None }, &filter, &scope));
        prop_assert_eq!(by_cells.count(), rows.count());
        for row in 0..index.len() as u32 {
            prop_assert_eq!(by_cells.matches(row), rows.matches(row));
        }
    }

    #[test]
    fn generation_changes_with_every_change(
        versions in proptest::collection::vec(finding_strategy(), 1..30),
    ) {
        let mut index = FindingIndex::new();
        let mut last = index.generation();
        for f in &versions {
            let before = index.row_id(&f.id).map(|r| index.updated_at(r));
            index.upsert(f);
            let changed = before.is_none_or(|u| f.updated_at >= u);
            prop_assert_eq!(index.generation() != last, changed);
            last = index.generation();
        }
    }
}

#[test]
fn scope_always_restricts_accounts() {
    let versions: Vec<Finding> = (0..8)
        .map(|i| Finding {
            id: format!("f{i}"),
            account_id: ACCOUNTS[i % 4].into(),
            finding_type: TYPES[0].into(),
            severity: 8.0,
            updated_at: T0,
            count: 1,
            ..Finding::default()
        })
        .collect();
    let index = FindingIndex::build(versions);
    let scope = Scope::Accounts([ACCOUNTS[1].to_string()].into());
    // Asking for other accounts explicitly must not widen the scope.
    let filter = FindingFilter {
        account_ids: Some(ACCOUNTS.iter().map(|a| a.to_string()).collect()),
        ..Default::default()
    };
    let rows = index.filter(&filter, &scope);
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|&r| index.account_id(r) == ACCOUNTS[1]));
    let summary = index.summary(&filter, &scope, &SummaryOptions::new(T0));
    assert_eq!(summary.total, 2);
    assert_eq!(summary.top_accounts.len(), 1);
    assert_eq!(summary.top_accounts[0].account_id, ACCOUNTS[1]);
}

fn targets_strategy() -> impl Strategy<Value = SlaTargets> {
    (0..30 * 24i64, 0..10 * 24i64, 0..3 * 24i64, 0..3 * 24i64).prop_map(|(l, m, h, c)| SlaTargets {
        low_ms: l * HOUR,
        medium_ms: m * HOUR,
        high_ms: h * HOUR,
        critical_ms: c * HOUR,
    })
}

/// The naive SLA widget: open findings among the filter's, overdue ones counted by label, the
/// oldest open one by `createdAt` then id.
fn naive_sla(
    latest: &[NaiveRow],
    filter: &FindingFilter,
    scope: &Scope,
    targets: &SlaTargets,
    now: i64,
) -> (u64, [u64; 4], u64, Option<String>) {
    let matching: Vec<&NaiveRow> = latest
        .iter()
        .filter(|r| naive_matches_with(r, filter, scope, true, targets))
        .collect();
    let open: Vec<&&NaiveRow> = matching.iter().filter(|r| naive_open(r)).collect();
    let overdue = label_counts(
        open.iter()
            .filter(|r| naive_overdue(r, targets, now))
            .map(|r| &r.finding),
    );
    let oldest = open
        .iter()
        .min_by(|a, b| {
            (a.finding.created_at, &a.finding.id).cmp(&(b.finding.created_at, &b.finding.id))
        })
        .map(|r| r.finding.id.clone());
    (overdue.iter().sum(), overdue, open.len() as u64, oldest)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `overdue` in the filter (rows, counts, cells) and the SLA widget equal the naive
    /// recomputation, for random targets and instants on whole hours (rows land on deadlines).
    #[test]
    fn sla_and_overdue_equal_naive(
        versions in proptest::collection::vec(finding_strategy(), 0..120),
        triage in proptest::collection::vec((0..100usize, proptest::sample::select(TRIAGE.to_vec())), 0..20),
        filter in filter_strategy(),
        scope in scope_strategy(),
        targets in targets_strategy(),
        now in -5 * 24..5 * 24i64,
        want_overdue in proptest::option::of(any::<bool>()),
        use_cells in any::<bool>(),
        persisted in any::<bool>(),
    ) {
        let now = T0 + now * HOUR;
        let mut index = build_index(&versions, &triage, persisted);
        index.set_sla_targets(targets);
        let latest = naive_latest(&versions, &triage);
        let mut filter = filter;
        if want_overdue.is_some() {
            filter.overdue = want_overdue;
            filter.as_of = Some(now);
        }
        let mut got: Vec<&str> = index.filter(&filter, &scope).into_iter().map(|r| index.id(r)).collect();
        got.sort();
        let mut want: Vec<&str> = latest
            .iter()
            .filter(|r| naive_matches_with(r, &filter, &scope, true, &targets))
            .map(|r| r.finding.id.as_str())
            .collect();
        want.sort();
        prop_assert_eq!(&got, &want);
        let cells = use_cells.then(|| Cells::build(&index));
        let pre = Precomputed { cells: cells.as_ref(), search: None };
        prop_assert_eq!(index.compile_with(pre, &filter, &scope).count(), want.len());
        // The summary under an `overdue` filter counts the same rows.
        let options = SummaryOptions::new(T0);
        prop_assert_eq!(index.summary_with(cells.as_ref(), &filter, &scope, &options).total, want.len() as u64);

        let SlaSummary { as_of, overdue, by_severity, open, oldest_open } = index.sla(&filter, &scope, now);
        let (n_overdue, by_label, n_open, oldest) = naive_sla(&latest, &filter, &scope, &targets, now);
        prop_assert_eq!(as_of, now);
        prop_assert_eq!(overdue, n_overdue);
        prop_assert_eq!(by_severity, counts(by_label));
        prop_assert_eq!(open, n_open);
        prop_assert_eq!(oldest_open.map(|r| index.id(r).to_string()), oldest);
    }
}

/// The naive hardening view: group the matching findings by type with maps and sets.
fn naive_hardening(
    latest: &[NaiveRow],
    filter: &FindingFilter,
    scope: &Scope,
    since: Option<i64>,
    limit: usize,
    resource_limit: usize,
) -> Vec<HardeningItem> {
    let mut by_type: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for r in latest
        .iter()
        .filter(|r| naive_matches(r, filter, scope, true))
    {
        by_type
            .entry(&r.finding.finding_type)
            .or_default()
            .push(&r.finding);
    }
    let mut items: Vec<HardeningItem> = by_type
        .into_iter()
        .map(|(t, fs)| {
            let accounts: BTreeSet<String> = fs.iter().map(|f| f.account_id.clone()).collect();
            let mut res: HashMap<(String, String, String), u64> = HashMap::new();
            for f in &fs {
                if let Some(k) = &f.resource_key {
                    *res.entry((k.clone(), f.account_id.clone(), f.resource_type.clone()))
                        .or_default() += 1;
                }
            }
            let mut resources: Vec<HardeningResource> = res
                .into_iter()
                .map(|((k, a, rt), count)| HardeningResource {
                    resource_key: k,
                    resource_type: rt,
                    account_id: a,
                    count,
                })
                .collect();
            resources.sort_by(|a, b| {
                (
                    std::cmp::Reverse(a.count),
                    &a.resource_key,
                    &a.account_id,
                    &a.resource_type,
                )
                    .cmp(&(
                        std::cmp::Reverse(b.count),
                        &b.resource_key,
                        &b.account_id,
                        &b.resource_type,
                    ))
            });
            let resource_count = resources.len() as u64;
            resources.truncate(resource_limit);
            let before = since.map(|s| fs.iter().filter(|f| f.created_at < s).count() as u64);
            HardeningItem {
                finding_type: t.to_string(),
                count: fs.len() as u64,
                max_severity: fs.iter().map(|f| f.severity_label()).max().unwrap(),
                accounts: accounts.into_iter().collect(),
                resource_count,
                resources,
                before,
                after: before.map(|b| fs.len() as u64 - b),
            }
        })
        .collect();
    // Most findings first; the map iterated types in order, and the sort is stable.
    items.sort_by_key(|i| std::cmp::Reverse(i.count));
    items.truncate(limit);
    items
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The hardening view equals the naive grouping, with and without `since`, under any
    /// filter (`overdue` included) and scope.
    #[test]
    fn hardening_equals_naive(
        versions in proptest::collection::vec(finding_strategy(), 0..150),
        triage in proptest::collection::vec((0..100usize, proptest::sample::select(TRIAGE.to_vec())), 0..10),
        filter in filter_strategy(),
        scope in scope_strategy(),
        since in proptest::option::of(-20 * 24..2 * 24i64),
        limit in 0..8usize,
        resource_limit in 0..4usize,
        persisted in any::<bool>(),
    ) {
        let index = build_index(&versions, &triage, persisted);
        let latest = naive_latest(&versions, &triage);
        let since = since.map(|h| T0 + h * HOUR);
        let got = index.hardening(&filter, &scope, since, limit, resource_limit);
        let want = naive_hardening(&latest, &filter, &scope, since, limit, resource_limit);
        prop_assert_eq!(got, want);
    }
}
