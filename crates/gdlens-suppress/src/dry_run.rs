//! What a suppression rule would archive, counted over every finding a caller streams in (the
//! whole history, not a page): by severity and account, the High/Critical findings and finding
//! group members it would hide, a sample, and its share of the current noise.

use std::collections::BTreeMap;

use gdlens_domain::SeverityLabel;
use serde::Serialize;
use serde_json::Value;

use crate::criteria::FindingCriteria;

/// Findings the report keeps as a sample, and at most as many hidden important findings.
pub const SAMPLE_LIMIT: usize = 20;
/// Most hidden High/Critical findings or group members listed by id (all are counted).
pub const HIDDEN_LIST_LIMIT: usize = 100;

/// The facts of one finding the dry run needs, read from its GuardDuty JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingFacts {
    /// Finding id.
    pub id: String,
    /// Account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// Finding type.
    pub finding_type: String,
    /// Numeric severity.
    pub severity: f64,
    /// `service.archived`.
    pub archived: bool,
}

impl FindingFacts {
    /// Reads the facts from the finding JSON (missing fields read as empty / 0).
    pub fn of(finding: &Value) -> Self {
        let s = |k: &str| {
            finding
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        FindingFacts {
            id: s("id"),
            account_id: s("accountId"),
            region: s("region"),
            finding_type: s("type"),
            severity: finding
                .get("severity")
                .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
                .unwrap_or(0.0),
            archived: finding
                .pointer("/service/archived")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }

    /// Severity label (numeric buckets: ≥9 Critical, ≥7 High, ≥4 Medium, else Low).
    pub fn label(&self) -> SeverityLabel {
        SeverityLabel::from_severity(self.severity)
    }

    /// Noise: a Low or Medium finding not archived yet.
    pub fn is_noise(&self) -> bool {
        !self.archived && self.severity < 7.0
    }
}

/// Findings per severity label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SeverityCounts {
    /// Low.
    pub low: u64,
    /// Medium.
    pub medium: u64,
    /// High.
    pub high: u64,
    /// Critical.
    pub critical: u64,
}

impl SeverityCounts {
    fn add(&mut self, label: SeverityLabel) {
        match label {
            SeverityLabel::Low => self.low += 1,
            SeverityLabel::Medium => self.medium += 1,
            SeverityLabel::High => self.high += 1,
            SeverityLabel::Critical => self.critical += 1,
        }
    }

    /// All four added up.
    pub fn total(&self) -> u64 {
        self.low + self.medium + self.high + self.critical
    }
}

/// Findings one account would lose.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountCount {
    /// Account.
    pub account_id: String,
    /// Findings archived.
    pub finding_count: u64,
    /// By severity.
    pub by_severity: SeverityCounts,
}

/// Why a hidden finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum HiddenReason {
    /// High or Critical.
    HighOrAbove,
    /// Member of a finding group.
    GroupMember,
    /// Both.
    HighOrAboveGroupMember,
}

/// A High/Critical finding or group member the rule would hide.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HiddenFinding {
    /// The finding.
    pub finding: FindingFacts,
    /// Why it matters.
    pub reason: HiddenReason,
}

/// The result of a dry run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DryRunReport {
    /// Findings (latest versions, whole history) the criteria match.
    pub finding_count: u64,
    /// Of those, already archived.
    pub already_archived: u64,
    /// By severity.
    pub by_severity: SeverityCounts,
    /// By account, most findings first (ties by account id).
    pub by_account: Vec<AccountCount>,
    /// High or Critical findings it would hide.
    pub hidden_high_or_above: u64,
    /// Finding group members it would hide.
    pub hidden_group_members: u64,
    /// The first hidden High/Critical findings or group members (at most
    /// [`HIDDEN_LIST_LIMIT`]), in scan order.
    pub hidden: Vec<HiddenFinding>,
    /// Matching findings, the most recent first (at most [`SAMPLE_LIMIT`]).
    pub sample: Vec<FindingFacts>,
    /// Current noise (Low/Medium, not archived) it removes.
    pub noise_removed: u64,
    /// Current noise over every finding scanned.
    pub noise_total: u64,
    /// Findings scanned.
    pub scanned: u64,
}

impl DryRunReport {
    /// Share of the current noise removed, 0 to 1 (0 when there is no noise).
    pub fn noise_share(&self) -> f64 {
        if self.noise_total == 0 {
            0.0
        } else {
            self.noise_removed as f64 / self.noise_total as f64
        }
    }

    /// Safe to apply: hides no High/Critical finding and no group member.
    pub fn is_safe(&self) -> bool {
        self.hidden_high_or_above == 0 && self.hidden_group_members == 0
    }
}

/// A dry run in progress: feed it every finding, then [`DryRun::finish`].
#[derive(Debug, Clone)]
pub struct DryRun {
    criteria: FindingCriteria,
    report: DryRunReport,
    accounts: BTreeMap<String, (u64, SeverityCounts)>,
    // (updatedAt as written, facts): the most recent matches, for the sample.
    sample: Vec<(String, FindingFacts)>,
}

impl DryRun {
    /// A dry run of `criteria`.
    pub fn new(criteria: FindingCriteria) -> Self {
        DryRun {
            criteria,
            report: DryRunReport::default(),
            accounts: BTreeMap::new(),
            sample: Vec::new(),
        }
    }

    /// The criteria under test.
    pub fn criteria(&self) -> &FindingCriteria {
        &self.criteria
    }

    /// Counts one finding (its latest version's JSON); `in_group` says whether it is a member
    /// of a finding group the caller sees. Returns whether the criteria match it.
    pub fn observe(&mut self, finding: &Value, in_group: bool) -> bool {
        let facts = FindingFacts::of(finding);
        self.observe_with(finding, facts, in_group)
    }

    /// [`DryRun::observe`] with facts already read (several dry runs over one scan share them).
    pub fn observe_with(&mut self, finding: &Value, facts: FindingFacts, in_group: bool) -> bool {
        let r = &mut self.report;
        r.scanned += 1;
        let noise = facts.is_noise();
        if noise {
            r.noise_total += 1;
        }
        if !self.criteria.matches(finding) {
            return false;
        }
        r.finding_count += 1;
        if facts.archived {
            r.already_archived += 1;
        }
        if noise {
            r.noise_removed += 1;
        }
        let label = facts.label();
        r.by_severity.add(label);
        let entry = self
            .accounts
            .entry(facts.account_id.clone())
            .or_insert((0, SeverityCounts::default()));
        entry.0 += 1;
        entry.1.add(label);
        let high = facts.severity >= 7.0;
        if high {
            r.hidden_high_or_above += 1;
        }
        if in_group {
            r.hidden_group_members += 1;
        }
        if (high || in_group) && r.hidden.len() < HIDDEN_LIST_LIMIT {
            let reason = match (high, in_group) {
                (true, true) => HiddenReason::HighOrAboveGroupMember,
                (true, false) => HiddenReason::HighOrAbove,
                _ => HiddenReason::GroupMember,
            };
            r.hidden.push(HiddenFinding {
                finding: facts.clone(),
                reason,
            });
        }
        let updated = finding
            .get("updatedAt")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        self.sample.push((updated, facts));
        if self.sample.len() >= SAMPLE_LIMIT * 4 {
            self.trim_sample();
        }
        true
    }

    fn trim_sample(&mut self) {
        // ISO-8601 UTC strings of one format sort by time; ties by id for a stable sample.
        self.sample
            .sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        self.sample.truncate(SAMPLE_LIMIT);
    }

    /// The report.
    pub fn finish(mut self) -> DryRunReport {
        self.trim_sample();
        let mut by_account: Vec<AccountCount> = self
            .accounts
            .into_iter()
            .map(|(account_id, (finding_count, by_severity))| AccountCount {
                account_id,
                finding_count,
                by_severity,
            })
            .collect();
        by_account.sort_by(|a, b| {
            b.finding_count
                .cmp(&a.finding_count)
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
        self.report.by_account = by_account;
        self.report.sample = self.sample.into_iter().map(|(_, f)| f).collect();
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn f(id: &str, account: &str, severity: f64, archived: bool) -> Value {
        json!({"id": id, "accountId": account, "region": "us-east-1", "type": "T",
               "severity": severity, "updatedAt": format!("2024-01-0{}T00:00:00Z", id.len()),
               "service": {"archived": archived}})
    }

    #[test]
    fn counts_by_severity_account_and_flags_what_matters() {
        let c = FindingCriteria::parse(&json!({"criterion": {"type": {"equals": ["T"]}}})).unwrap();
        let mut d = DryRun::new(c);
        assert!(d.observe(&f("a", "1", 2.0, false), false));
        assert!(d.observe(&f("bb", "2", 5.0, false), true));
        assert!(d.observe(&f("ccc", "2", 8.0, true), false));
        let other = json!({"id": "x", "type": "U", "severity": 2, "accountId": "1"});
        assert!(!d.observe(&other, false));
        let r = d.finish();
        assert_eq!(r.scanned, 4);
        assert_eq!(r.finding_count, 3);
        assert_eq!(r.already_archived, 1);
        assert_eq!(
            r.by_severity,
            SeverityCounts {
                low: 1,
                medium: 1,
                high: 1,
                critical: 0
            }
        );
        assert_eq!(r.by_account[0].account_id, "2");
        assert_eq!(r.by_account[0].finding_count, 2);
        assert_eq!(r.hidden_high_or_above, 1);
        assert_eq!(r.hidden_group_members, 1);
        assert_eq!(r.hidden.len(), 2);
        assert!(!r.is_safe());
        // Noise: a, bb and the unmatched x; removed: a and bb.
        assert_eq!((r.noise_removed, r.noise_total), (2, 3));
        assert_eq!(r.sample[0].id, "ccc");
    }
}
