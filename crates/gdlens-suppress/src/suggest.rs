//! Mining suppression-rule suggestions from the noise: a finding type plus what its findings
//! share (a resource tag, a set of instances, buckets, users or accounts, a remote ASN, a user
//! agent, a port, a domain), Low/Medium only, recurring over weeks, never touching a finding
//! group member or a High/Critical finding.
//!
//! Two passes over the whole history: [`Miner::observe`] counts each (type, attribute, value)
//! over the eligible findings, [`Miner::candidates`] turns the values that recur into criteria,
//! then a [`DryRun`] per candidate over a second pass says exactly what each would archive, and
//! [`rank`] orders them by findings removed.

use std::collections::{BTreeMap, HashMap};

use gdlens_domain::time::{parse_iso, EpochMillis};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::criteria::{attribute_values, CriteriaError, FindingCriteria, MAX_VALUES};
use crate::dry_run::{DryRun, DryRunReport, FindingFacts};

const DAY_MS: EpochMillis = 86_400_000;

/// The attributes suggestions are built on: (GuardDuty attribute path, what it is called).
pub const PATTERN_ATTRIBUTES: &[(&str, &str)] = &[
    ("resource.instanceDetails.instanceId", "instances"),
    ("resource.s3BucketDetails.name", "buckets"),
    ("resource.accessKeyDetails.userName", "IAM users"),
    ("resource.eksClusterDetails.name", "EKS clusters"),
    (
        "service.action.networkConnectionAction.remoteIpDetails.organization.asn",
        "remote ASNs",
    ),
    (
        "service.action.awsApiCallAction.remoteIpDetails.organization.asn",
        "caller ASNs",
    ),
    (
        "service.action.portProbeAction.portProbeDetails.remoteIpDetails.organization.asn",
        "prober ASNs",
    ),
    ("service.action.awsApiCallAction.userAgent", "user agents"),
    (
        "service.action.networkConnectionAction.localPortDetails.port",
        "local ports",
    ),
    (
        "service.action.portProbeAction.portProbeDetails.localPortDetails.port",
        "probed ports",
    ),
    ("service.action.dnsRequestAction.domain", "domains"),
    ("accountId", "accounts"),
];

/// Tags: the key and the value are two attributes in GuardDuty's criteria.
const TAG_KEY: &str = "resource.instanceDetails.tags.key";
const TAG_VALUE: &str = "resource.instanceDetails.tags.value";

/// Every suggestion keeps High and Critical findings out by construction.
pub const SEVERITY_BELOW: f64 = 7.0;

/// Thresholds of the miner.
#[derive(Debug, Clone, PartialEq)]
pub struct SuggestOptions {
    /// Findings a value needs (within one type) to join a pattern.
    pub min_per_value: u64,
    /// Findings a whole pattern needs.
    pub min_findings: u64,
    /// A value must recur over at least this span (first seen to last seen).
    pub min_span_ms: EpochMillis,
    /// Candidates dry-run in the second pass (most findings first).
    pub max_candidates: usize,
}

impl Default for SuggestOptions {
    fn default() -> Self {
        SuggestOptions {
            min_per_value: 3,
            min_findings: 10,
            min_span_ms: 14 * DAY_MS,
            max_candidates: 60,
        }
    }
}

/// What a pattern is keyed by: the type and the attribute (a tag pattern keys by the tag key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PatternKey {
    finding_type: String,
    attribute: &'static str,
    tag_key: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct ValueStats {
    eligible: u64,
    // Findings of the same type with this value that must never be hidden (High+, group member).
    tainted: u64,
    first: EpochMillis,
    last: EpochMillis,
}

impl ValueStats {
    fn seen(&mut self, first: EpochMillis, last: EpochMillis) {
        if self.eligible == 0 || first < self.first {
            self.first = first;
        }
        if last > self.last {
            self.last = last;
        }
    }
}

/// First pass: counts every (type, attribute, value) of the eligible findings.
#[derive(Debug, Default)]
pub struct Miner {
    patterns: HashMap<PatternKey, HashMap<String, ValueStats>>,
}

fn time_of(finding: &Value, primary: &str, fallback: &str) -> Option<EpochMillis> {
    finding
        .pointer(primary)
        .and_then(Value::as_str)
        .and_then(parse_iso)
        .or_else(|| {
            finding
                .get(fallback)
                .and_then(Value::as_str)
                .and_then(parse_iso)
        })
}

impl Miner {
    /// An empty miner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one finding (latest version); `in_group` says whether it is a finding-group member.
    /// Low/Medium findings outside groups and not archived are the noise patterns are built
    /// from; High+ findings and group members taint the values they carry.
    pub fn observe(&mut self, finding: &Value, in_group: bool) {
        let facts = FindingFacts::of(finding);
        if facts.finding_type.is_empty() || (facts.archived && !in_group && facts.severity < 7.0) {
            return;
        }
        let eligible = !in_group && facts.severity < SEVERITY_BELOW;
        let first = time_of(finding, "/service/eventFirstSeen", "createdAt").unwrap_or(0);
        let last = time_of(finding, "/service/eventLastSeen", "updatedAt").unwrap_or(first);
        let mut record = |key: PatternKey, value: String| {
            let stats = self
                .patterns
                .entry(key)
                .or_default()
                .entry(value)
                .or_default();
            if eligible {
                stats.seen(first, last);
                stats.eligible += 1;
            } else {
                stats.tainted += 1;
            }
        };
        for (attribute, _) in PATTERN_ATTRIBUTES {
            let mut values = attribute_values(finding, attribute);
            values.sort();
            values.dedup();
            for v in values {
                record(
                    PatternKey {
                        finding_type: facts.finding_type.clone(),
                        attribute,
                        tag_key: None,
                    },
                    v,
                );
            }
        }
        if let Some(tags) = finding
            .pointer("/resource/instanceDetails/tags")
            .and_then(Value::as_array)
        {
            for tag in tags {
                let (Some(k), Some(v)) = (
                    tag.get("key").and_then(Value::as_str),
                    tag.get("value").and_then(Value::as_str),
                ) else {
                    continue;
                };
                record(
                    PatternKey {
                        finding_type: facts.finding_type.clone(),
                        attribute: TAG_VALUE,
                        tag_key: Some(k.to_string()),
                    },
                    v.to_string(),
                );
            }
        }
    }

    /// The patterns worth a dry run, most eligible findings first: per type and attribute, the
    /// values that recur over `min_span_ms` with `min_per_value` findings and no tainted finding,
    /// at most 50 (GuardDuty's list limit), as one criteria.
    pub fn candidates(self, options: &SuggestOptions) -> Vec<Candidate> {
        let mut out = Vec::new();
        for (key, values) in self.patterns {
            let mut kept: Vec<(String, ValueStats)> = values
                .into_iter()
                .filter(|(_, s)| {
                    s.tainted == 0
                        && s.eligible >= options.min_per_value
                        && s.last - s.first >= options.min_span_ms
                })
                .collect();
            kept.sort_by(|a, b| b.1.eligible.cmp(&a.1.eligible).then_with(|| a.0.cmp(&b.0)));
            kept.truncate(MAX_VALUES);
            let total: u64 = kept.iter().map(|(_, s)| s.eligible).sum();
            if kept.is_empty() || total < options.min_findings {
                continue;
            }
            let first = kept.iter().map(|(_, s)| s.first).min().unwrap_or(0);
            let last = kept.iter().map(|(_, s)| s.last).max().unwrap_or(0);
            let mut values: Vec<String> = kept.into_iter().map(|(v, _)| v).collect();
            values.sort();
            out.push(Candidate::new(key, values, total, first, last));
        }
        out.sort_by(|a, b| b.eligible.cmp(&a.eligible).then_with(|| a.id.cmp(&b.id)));
        out.truncate(options.max_candidates);
        out
    }
}

/// A pattern found by the first pass, before its dry run.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Stable id: a hash of the canonical criteria.
    pub id: String,
    /// One line for people.
    pub description: String,
    /// The criteria (type, the shared attribute, severity below 7).
    pub criteria: FindingCriteria,
    /// Eligible findings the first pass counted.
    pub eligible: u64,
    /// First seen of its findings.
    pub first_seen: EpochMillis,
    /// Last seen of its findings.
    pub last_seen: EpochMillis,
    /// Which of two candidates archiving the same findings to keep (lower first): a tag says
    /// the most about intent, then the resource sets, the network attributes, the accounts.
    pub preference: usize,
}

impl Candidate {
    fn new(
        key: PatternKey,
        values: Vec<String>,
        eligible: u64,
        first_seen: EpochMillis,
        last_seen: EpochMillis,
    ) -> Self {
        let mut criterion = serde_json::Map::new();
        criterion.insert("type".into(), json!({"equals": [key.finding_type.clone()]}));
        criterion.insert(
            "severity".into(),
            json!({"lessThan": SEVERITY_BELOW as i64}),
        );
        criterion.insert(key.attribute.into(), json!({ "equals": values }));
        let what = match &key.tag_key {
            Some(k) => {
                criterion.insert(TAG_KEY.into(), json!({ "equals": [k] }));
                format!("instances tagged {k}={}", list(&values))
            }
            None => {
                let label = PATTERN_ATTRIBUTES
                    .iter()
                    .find(|(a, _)| *a == key.attribute)
                    .map_or("values", |(_, l)| l);
                format!("{label} {}", list(&values))
            }
        };
        let criteria = FindingCriteria::parse(&json!({ "criterion": criterion }))
            .expect("suggested criteria are within GuardDuty's limits");
        let id = suggestion_id(&criteria);
        let preference = match &key.tag_key {
            Some(_) => 0,
            None => {
                1 + PATTERN_ATTRIBUTES
                    .iter()
                    .position(|(a, _)| *a == key.attribute)
                    .unwrap_or(PATTERN_ATTRIBUTES.len())
            }
        };
        Candidate {
            preference,
            id,
            description: format!("Low/Medium {} on {what}", key.finding_type),
            criteria,
            eligible,
            first_seen,
            last_seen,
        }
    }
}

fn list(values: &[String]) -> String {
    match values {
        [one] => one.clone(),
        [a, b] => format!("{a}, {b}"),
        [a, rest @ ..] => format!("{a} and {} more", rest.len()),
        [] => String::new(),
    }
}

/// A candidate with its dry run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    /// Tie-break among suggestions archiving the same findings (lower is kept).
    #[serde(skip)]
    pub preference: usize,
    /// Stable id (`sg-` and 16 hex digits of the canonical criteria's SHA-256).
    pub id: String,
    /// One line for people.
    pub description: String,
    /// GuardDuty `findingCriteria`.
    pub criteria: Value,
    /// First seen of the findings the pattern was built from.
    pub first_seen: EpochMillis,
    /// Last seen of those findings.
    pub last_seen: EpochMillis,
    /// What it would archive over the whole history.
    pub dry_run: DryRunReport,
    /// Hides no High/Critical finding and no group member.
    pub safe: bool,
}

/// Second pass: a dry run per candidate over one scan.
#[derive(Debug)]
pub struct CandidateRuns {
    runs: Vec<(Candidate, DryRun)>,
}

impl CandidateRuns {
    /// Dry runs of `candidates`.
    pub fn new(candidates: Vec<Candidate>) -> Self {
        CandidateRuns {
            runs: candidates
                .into_iter()
                .map(|c| {
                    let run = DryRun::new(c.criteria.clone());
                    (c, run)
                })
                .collect(),
        }
    }

    /// Whether there is nothing to run.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// Feeds one finding to every dry run.
    pub fn observe(&mut self, finding: &Value, in_group: bool) {
        let facts = FindingFacts::of(finding);
        for (_, run) in &mut self.runs {
            run.observe_with(finding, facts.clone(), in_group);
        }
    }

    /// The suggestions ranked by noise removed, then findings archived, then preference and id;
    /// at most `limit`. Candidates that archive the same findings (same count, accounts and
    /// sample) keep only the first.
    pub fn rank(self, limit: usize) -> Vec<Suggestion> {
        let mut out: Vec<Suggestion> = self
            .runs
            .into_iter()
            .map(|(c, run)| {
                let dry_run = run.finish();
                Suggestion {
                    preference: c.preference,
                    safe: dry_run.is_safe(),
                    id: c.id,
                    description: c.description,
                    criteria: c.criteria.to_json(),
                    first_seen: c.first_seen,
                    last_seen: c.last_seen,
                    dry_run,
                }
            })
            .filter(|s| s.dry_run.finding_count > 0)
            .collect();
        out.sort_by(|a, b| {
            b.dry_run
                .noise_removed
                .cmp(&a.dry_run.noise_removed)
                .then_with(|| b.dry_run.finding_count.cmp(&a.dry_run.finding_count))
                .then_with(|| a.preference.cmp(&b.preference))
                .then_with(|| a.id.cmp(&b.id))
        });
        // Several attributes often single out the same findings (a tag, the instances carrying
        // it, their port): keep the first of each such set, the most telling attribute.
        let mut seen: BTreeMap<(u64, Vec<String>), ()> = BTreeMap::new();
        out.retain(|s| {
            let key = (
                s.dry_run.finding_count,
                s.dry_run
                    .by_account
                    .iter()
                    .map(|a| format!("{}:{}", a.account_id, a.finding_count))
                    .chain(s.dry_run.sample.iter().map(|f| f.id.clone()))
                    .collect(),
            );
            seen.insert(key, ()).is_none()
        });
        out.truncate(limit);
        out
    }
}

impl Suggestion {
    /// Restricts the criteria to `accounts` (an `accountId` equals list, intersected with one
    /// already there) and renews the id. For a caller who sees only some accounts: the dry run
    /// counted only those, and the rule must not archive anything beyond them. Fails if the
    /// list would pass GuardDuty's 50 values.
    pub fn restrict_to_accounts(&mut self, accounts: &[String]) -> Result<(), CriteriaError> {
        let mut wanted: Vec<String> = accounts.to_vec();
        if let Some(existing) = self.criteria["criterion"]["accountId"]["equals"].as_array() {
            let existing: Vec<&str> = existing.iter().filter_map(Value::as_str).collect();
            wanted.retain(|a| existing.contains(&a.as_str()));
        }
        wanted.sort();
        wanted.dedup();
        let mut criteria = self.criteria.clone();
        criteria["criterion"]["accountId"] = json!({ "equals": wanted });
        let parsed = FindingCriteria::parse(&criteria)?;
        self.criteria = parsed.to_json();
        self.id = suggestion_id(&parsed);
        Ok(())
    }
}

fn suggestion_id(criteria: &FindingCriteria) -> String {
    let canonical = criteria.to_json().to_string();
    format!(
        "sg-{}",
        &hex::encode(Sha256::digest(canonical.as_bytes()))[..16]
    )
}
