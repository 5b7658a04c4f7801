//! Filter predicates over dictionary-encoded columns, so the browser filters exactly as the
//! server does: strings are matched once per dictionary entry, then rows are tested by code.

use gdlens_domain::{FindingFilter, SeverityLabel, TriageStatus};
use serde::{Deserialize, Serialize};

use crate::error::ScoringError;
use crate::features::FeatureColumns;

/// Per-row dictionary codes (and the update time) the filter needs besides the features.
/// Code `c` of a column names entry `c` of the matching [`Dictionaries`] list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CodeColumns {
    /// Account code → [`Dictionaries::accounts`].
    pub account: Vec<u32>,
    /// Region code → [`Dictionaries::regions`].
    pub region: Vec<u32>,
    /// Finding type code → [`Dictionaries::types`].
    pub finding_type: Vec<u32>,
    /// Title code → [`Dictionaries::titles`].
    pub title: Vec<u32>,
    /// Resource type code → [`Dictionaries::resource_types`].
    pub resource_type: Vec<u32>,
    /// `updatedAt` in epoch milliseconds (as f64: exact below 2^53, and a plain Float64Array in JS).
    pub updated_at: Vec<f64>,
}

/// The strings behind the codes of [`CodeColumns`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Dictionaries {
    /// Account ids.
    pub accounts: Vec<String>,
    /// Region names.
    pub regions: Vec<String>,
    /// Full finding types.
    pub types: Vec<String>,
    /// Finding titles.
    pub titles: Vec<String>,
    /// Resource types (`Instance`, `AccessKey`, …).
    pub resource_types: Vec<String>,
}

impl CodeColumns {
    /// Checks that every column has `n` rows, every code is inside its dictionary and every
    /// `updatedAt` is finite.
    pub fn validate(&self, n: usize, dictionaries: &Dictionaries) -> Result<(), ScoringError> {
        let columns: [(&'static str, &[u32], usize); 5] = [
            ("account", &self.account, dictionaries.accounts.len()),
            ("region", &self.region, dictionaries.regions.len()),
            ("findingType", &self.finding_type, dictionaries.types.len()),
            ("title", &self.title, dictionaries.titles.len()),
            (
                "resourceType",
                &self.resource_type,
                dictionaries.resource_types.len(),
            ),
        ];
        for (column, codes, dict_len) in columns {
            if codes.len() != n {
                return Err(ScoringError::ColumnLength {
                    column,
                    expected: n,
                    actual: codes.len(),
                });
            }
            if let Some(row) = codes.iter().position(|&c| c as usize >= dict_len) {
                return Err(ScoringError::InvalidFeature {
                    column,
                    row,
                    reason: format!(
                        "code {} is outside its dictionary of {dict_len} entries",
                        codes[row]
                    ),
                });
            }
        }
        if self.updated_at.len() != n {
            return Err(ScoringError::ColumnLength {
                column: "updatedAt",
                expected: n,
                actual: self.updated_at.len(),
            });
        }
        if let Some(row) = self.updated_at.iter().position(|v| !v.is_finite()) {
            return Err(ScoringError::InvalidFeature {
                column: "updatedAt",
                row,
                reason: format!(
                    "{} is not a finite epoch-millisecond time",
                    self.updated_at[row]
                ),
            });
        }
        Ok(())
    }
}

/// Which findings to keep, in codes. The same meaning as [`FindingFilter`]: every `None` means
/// "no restriction", except `archived` (`None` → only active findings) and `include_samples`
/// (`false` → samples excluded). A list that is present but empty matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct FilterSpec {
    /// Account codes.
    pub accounts: Option<Vec<u32>>,
    /// Region codes.
    pub regions: Option<Vec<u32>>,
    /// Minimum numeric severity (inclusive).
    pub severity_min: Option<f64>,
    /// Severity labels (by GuardDuty's numeric ranges).
    pub severity_labels: Option<Vec<SeverityLabel>>,
    /// Finding type codes.
    pub types: Option<Vec<u32>>,
    /// Finding type prefix, case-sensitive (e.g. `Recon:EC2/`).
    pub type_prefix: Option<String>,
    /// Resource type codes.
    pub resource_types: Option<Vec<u32>>,
    /// `Some(true)` only archived, `Some(false)` or `None` only active.
    pub archived: Option<bool>,
    /// Whether sample findings pass.
    pub include_samples: bool,
    /// `updatedAt >= updatedSince` (epoch ms).
    pub updated_since: Option<i64>,
    /// `updatedAt < updatedBefore` (epoch ms).
    pub updated_before: Option<i64>,
    /// Triage statuses.
    pub triage: Option<Vec<TriageStatus>>,
    /// Case-insensitive substring of the finding type or the title (trimmed; empty = none).
    pub search: Option<String>,
}

impl FilterSpec {
    /// Translates a [`FindingFilter`] into codes of `dictionaries`. Strings missing from a
    /// dictionary match no row. `resourceKey` and `overdue` have no column here and are rejected.
    pub fn from_finding_filter(
        filter: &FindingFilter,
        dictionaries: &Dictionaries,
    ) -> Result<Self, ScoringError> {
        if filter.overdue.is_some() {
            return Err(ScoringError::InvalidFilter {
                field: "overdue",
                reason: "not available to columnar filtering; filter by SLA in the index".into(),
            });
        }
        if filter.resource_key.is_some() {
            return Err(ScoringError::InvalidFilter {
                field: "resourceKey",
                reason: "not available to columnar filtering; filter by resource in the index"
                    .into(),
            });
        }
        let codes = |wanted: &Option<Vec<String>>, dict: &[String]| -> Option<Vec<u32>> {
            wanted.as_ref().map(|w| {
                dict.iter()
                    .enumerate()
                    .filter(|(_, s)| w.contains(s))
                    .map(|(c, _)| c as u32)
                    .collect()
            })
        };
        Ok(FilterSpec {
            accounts: codes(&filter.account_ids, &dictionaries.accounts),
            regions: codes(&filter.regions, &dictionaries.regions),
            severity_min: filter.severity_min,
            severity_labels: filter.severity_labels.clone(),
            types: codes(&filter.types, &dictionaries.types),
            type_prefix: filter.type_prefix.clone(),
            resource_types: codes(&filter.resource_types, &dictionaries.resource_types),
            archived: filter.archived,
            include_samples: filter.include_samples,
            updated_since: filter.updated_since,
            updated_before: filter.updated_before,
            triage: filter.triage_status.clone(),
            search: filter.search.clone(),
        })
    }
}

/// A [`FilterSpec`] resolved against the dictionaries: one flag per dictionary entry, so each
/// row costs a few array lookups.
#[derive(Debug, Clone)]
pub struct CompiledFilter {
    accounts: Option<Vec<bool>>,
    regions: Option<Vec<bool>>,
    /// From `types` and `typePrefix` (both must hold).
    types: Option<Vec<bool>>,
    resource_types: Option<Vec<bool>>,
    /// With a search: types and titles containing it (a row passes on its type OR its title).
    search: Option<(Vec<bool>, Vec<bool>)>,
    severity_min: f64,
    severity_labels: [bool; 4],
    archived: u8,
    include_samples: bool,
    updated_since: f64,
    updated_before: f64,
    triage: [bool; 6],
}

impl CompiledFilter {
    /// Resolves `spec` against `dictionaries`. Codes outside their dictionary are an error.
    pub fn new(spec: &FilterSpec, dictionaries: &Dictionaries) -> Result<Self, ScoringError> {
        let accounts = code_flags("accounts", &spec.accounts, dictionaries.accounts.len())?;
        let regions = code_flags("regions", &spec.regions, dictionaries.regions.len())?;
        let resource_types = code_flags(
            "resourceTypes",
            &spec.resource_types,
            dictionaries.resource_types.len(),
        )?;
        let mut types = code_flags("types", &spec.types, dictionaries.types.len())?;
        if let Some(prefix) = spec.type_prefix.as_deref().filter(|p| !p.is_empty()) {
            let by_prefix = dictionaries.types.iter().map(|t| t.starts_with(prefix));
            types = Some(match types {
                Some(t) => t.iter().zip(by_prefix).map(|(&a, b)| a && b).collect(),
                None => by_prefix.collect(),
            });
        }
        let search = spec
            .search
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty())
            .map(|needle| {
                let matching = |dict: &[String]| -> Vec<bool> {
                    dict.iter()
                        .map(|s| contains_ignore_case(s, &needle))
                        .collect()
                };
                (
                    matching(&dictionaries.types),
                    matching(&dictionaries.titles),
                )
            });
        let severity_min = match spec.severity_min {
            None => f64::NEG_INFINITY,
            Some(v) if v.is_nan() => {
                return Err(ScoringError::InvalidFilter {
                    field: "severityMin",
                    reason: "must be a number, not NaN".into(),
                })
            }
            Some(v) => v,
        };
        let mut severity_labels = [spec.severity_labels.is_none(); 4];
        for label in spec.severity_labels.iter().flatten() {
            severity_labels[label.index()] = true;
        }
        let mut triage = [spec.triage.is_none(); 6];
        for status in spec.triage.iter().flatten() {
            triage[*status as usize] = true;
        }
        Ok(CompiledFilter {
            accounts,
            regions,
            types,
            resource_types,
            search,
            severity_min,
            severity_labels,
            archived: u8::from(spec.archived.unwrap_or(false)),
            include_samples: spec.include_samples,
            updated_since: spec.updated_since.map_or(f64::NEG_INFINITY, |v| v as f64),
            updated_before: spec.updated_before.map_or(f64::INFINITY, |v| v as f64),
            triage,
        })
    }

    /// Whether row `i` passes. The columns must have passed validation (codes in range).
    #[inline]
    pub fn matches(&self, features: &FeatureColumns, codes: &CodeColumns, i: usize) -> bool {
        let flag =
            |set: &Option<Vec<bool>>, code: u32| set.as_ref().is_none_or(|s| s[code as usize]);
        let severity = features.severity[i];
        let updated = codes.updated_at[i];
        features.archived[i] == self.archived
            && (self.include_samples || features.sample[i] == 0)
            && severity >= self.severity_min
            && self.severity_labels[SeverityLabel::from_severity(severity).index()]
            && self.triage[features.triage[i] as usize]
            && updated >= self.updated_since
            && updated < self.updated_before
            && flag(&self.accounts, codes.account[i])
            && flag(&self.regions, codes.region[i])
            && flag(&self.types, codes.finding_type[i])
            && flag(&self.resource_types, codes.resource_type[i])
            && self.search.as_ref().is_none_or(|(types, titles)| {
                types[codes.finding_type[i] as usize] || titles[codes.title[i] as usize]
            })
    }

    /// Writes 1 for each passing row and 0 for the others into `out` (resized to the row count).
    /// Same result as [`CompiledFilter::matches`] on every row, computed a column at a time:
    /// one branch-free pass for the predicates that always apply, then one pass per predicate
    /// the spec sets; predicates it leaves open cost nothing.
    pub fn mask_into(&self, features: &FeatureColumns, codes: &CodeColumns, out: &mut Vec<u8>) {
        let n = features.len();
        let (archived, sample, severity) = (
            &features.archived[..n],
            &features.sample[..n],
            &features.severity[..n],
        );
        let updated = &codes.updated_at[..n];
        let (want_archived, samples_ok) = (self.archived, u8::from(self.include_samples));
        let (min, since, before) = (self.severity_min, self.updated_since, self.updated_before);
        out.clear();
        out.extend((0..n).map(|i| {
            let u = updated[i];
            u8::from(archived[i] == want_archived)
                & (samples_ok | u8::from(sample[i] == 0))
                & u8::from(severity[i] >= min)
                & u8::from(u >= since)
                & u8::from(u < before)
        }));
        let out = &mut out[..n];
        if self.severity_labels != [true; 4] {
            let labels = &self.severity_labels;
            and_where(out, severity, |s| {
                labels[SeverityLabel::from_severity(s).index()]
            });
        }
        if self.triage != [true; 6] {
            and_where(out, &features.triage[..n], |t| self.triage[t as usize]);
        }
        let by_code = [
            (&self.accounts, &codes.account),
            (&self.regions, &codes.region),
            (&self.types, &codes.finding_type),
            (&self.resource_types, &codes.resource_type),
        ];
        for (flags, column) in by_code {
            if let Some(flags) = flags {
                and_where(out, &column[..n], |c| flags[c as usize]);
            }
        }
        if let Some((types, titles)) = &self.search {
            let (t, title) = (&codes.finding_type[..n], &codes.title[..n]);
            for (i, slot) in out.iter_mut().enumerate() {
                *slot &= u8::from(types[t[i] as usize] || titles[title[i] as usize]);
            }
        }
    }
}

/// `out[i] &= keep(column[i])` for the rows still passing (rows already out are not looked at).
#[inline(always)]
fn and_where<T: Copy>(out: &mut [u8], column: &[T], keep: impl Fn(T) -> bool) {
    for (slot, &v) in out.iter_mut().zip(column) {
        if *slot != 0 {
            *slot = u8::from(keep(v));
        }
    }
}

fn code_flags(
    field: &'static str,
    codes: &Option<Vec<u32>>,
    dict_len: usize,
) -> Result<Option<Vec<bool>>, ScoringError> {
    let Some(codes) = codes else { return Ok(None) };
    let mut flags = vec![false; dict_len];
    for &c in codes {
        match flags.get_mut(c as usize) {
            Some(f) => *f = true,
            None => {
                return Err(ScoringError::InvalidFilter {
                    field,
                    reason: format!("code {c} is outside its dictionary of {dict_len} entries"),
                })
            }
        }
    }
    Ok(Some(flags))
}

/// Whether `haystack`, lower-cased, contains `needle` (already lower-cased). ASCII haystacks
/// are compared in place (same result as `to_lowercase`, no allocation).
pub fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        if n.is_empty() {
            return true;
        }
        if !needle.is_ascii() || n.len() > h.len() {
            return false;
        }
        h.windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

/// The filter mask: 1 for each row that passes `spec`, else 0. Validates every input.
pub fn filter_mask(
    features: &FeatureColumns,
    codes: &CodeColumns,
    dictionaries: &Dictionaries,
    spec: &FilterSpec,
) -> Result<Vec<u8>, ScoringError> {
    let n = features.validate()?;
    codes.validate(n, dictionaries)?;
    let compiled = CompiledFilter::new(spec, dictionaries)?;
    let mut out = Vec::with_capacity(n);
    compiled.mask_into(features, codes, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureRow;

    fn fixture() -> (FeatureColumns, CodeColumns, Dictionaries) {
        let dictionaries = Dictionaries {
            accounts: vec!["111111111111".into(), "222222222222".into()],
            regions: vec!["us-east-1".into(), "eu-west-1".into()],
            types: vec![
                "Recon:EC2/PortProbeUnprotectedPort".into(),
                "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS".into(),
                "CryptoCurrency:EC2/BitcoinTool.B!DNS".into(),
            ],
            titles: vec![
                "Unprotected port on EC2 instance i-1 is being probed.".into(),
                "Credentials for instance role Ünïcode-Rolle used from external IP.".into(),
                "EC2 instance i-2 is querying a domain name associated with Bitcoin.".into(),
            ],
            resource_types: vec!["Instance".into(), "AccessKey".into()],
        };
        let mut features = FeatureColumns::default();
        let mut codes = CodeColumns::default();
        // (severity, archived, sample, triage, account, region, type, resource type, updated)
        let rows = [
            (2.0, false, false, 0, 0, 0, 0, 0, 1000.0),
            (8.0, false, false, 3, 1, 1, 1, 1, 2000.0),
            (9.5, false, true, 0, 0, 1, 2, 0, 3000.0),
            (5.0, true, false, 0, 1, 0, 2, 0, 4000.0),
        ];
        for (sev, archived, sample, triage, acc, reg, ty, rt, upd) in rows {
            features.push(FeatureRow {
                severity: sev,
                archived,
                sample,
                triage,
                ..Default::default()
            });
            codes.account.push(acc);
            codes.region.push(reg);
            codes.finding_type.push(ty);
            codes.title.push(ty);
            codes.resource_type.push(rt);
            codes.updated_at.push(upd);
        }
        (features, codes, dictionaries)
    }

    fn mask(spec: FilterSpec) -> Vec<u8> {
        let (f, c, d) = fixture();
        filter_mask(&f, &c, &d, &spec).unwrap()
    }

    #[test]
    fn defaults_exclude_archived_and_samples() {
        assert_eq!(mask(FilterSpec::default()), vec![1, 1, 0, 0]);
        assert_eq!(
            mask(FilterSpec {
                include_samples: true,
                ..Default::default()
            }),
            vec![1, 1, 1, 0]
        );
        assert_eq!(
            mask(FilterSpec {
                archived: Some(true),
                ..Default::default()
            }),
            vec![0, 0, 0, 1]
        );
    }

    #[test]
    fn severity_labels_and_minimum() {
        let all = |spec: FilterSpec| {
            mask(FilterSpec {
                include_samples: true,
                ..spec
            })
        };
        assert_eq!(
            all(FilterSpec {
                severity_min: Some(8.0),
                ..Default::default()
            }),
            vec![0, 1, 1, 0]
        );
        let labels = Some(vec![SeverityLabel::Critical, SeverityLabel::Low]);
        assert_eq!(
            all(FilterSpec {
                severity_labels: labels,
                ..Default::default()
            }),
            vec![1, 0, 1, 0]
        );
        assert_eq!(
            all(FilterSpec {
                severity_labels: Some(vec![]),
                ..Default::default()
            }),
            vec![0; 4]
        );
    }

    #[test]
    fn codes_prefix_and_search() {
        assert_eq!(
            mask(FilterSpec {
                accounts: Some(vec![1]),
                ..Default::default()
            }),
            vec![0, 1, 0, 0]
        );
        assert_eq!(
            mask(FilterSpec {
                regions: Some(vec![0]),
                ..Default::default()
            }),
            vec![1, 0, 0, 0]
        );
        assert_eq!(
            mask(FilterSpec {
                resource_types: Some(vec![1]),
                ..Default::default()
            }),
            vec![0, 1, 0, 0]
        );
        assert_eq!(
            mask(FilterSpec {
                type_prefix: Some("Recon:".into()),
                ..Default::default()
            }),
            vec![1, 0, 0, 0]
        );
        // "probed" only in a title; "iamuser" only in a type (case-insensitive).
        assert_eq!(
            mask(FilterSpec {
                search: Some(" PROBED ".into()),
                ..Default::default()
            }),
            vec![1, 0, 0, 0]
        );
        assert_eq!(
            mask(FilterSpec {
                search: Some("iamuser".into()),
                ..Default::default()
            }),
            vec![0, 1, 0, 0]
        );
        // Non-ASCII title, upper-case query.
        assert_eq!(
            mask(FilterSpec {
                search: Some("ÜNÏCODE".into()),
                ..Default::default()
            }),
            vec![0, 1, 0, 0]
        );
        let spec = FilterSpec {
            types: Some(vec![0, 2]),
            type_prefix: Some("Crypto".into()),
            include_samples: true,
            ..Default::default()
        };
        assert_eq!(mask(spec), vec![0, 0, 1, 0]);
    }

    #[test]
    fn triage_and_time_window() {
        let spec = FilterSpec {
            triage: Some(vec![TriageStatus::Resolved]),
            ..Default::default()
        };
        assert_eq!(mask(spec), vec![0, 1, 0, 0]);
        let spec = FilterSpec {
            updated_since: Some(1000),
            updated_before: Some(2000),
            ..Default::default()
        };
        assert_eq!(mask(spec), vec![1, 0, 0, 0]);
    }

    #[test]
    fn bad_codes_are_named() {
        let (f, mut c, d) = fixture();
        let err = filter_mask(
            &f,
            &c,
            &d,
            &FilterSpec {
                accounts: Some(vec![7]),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "filter `accounts`: code 7 is outside its dictionary of 2 entries"
        );
        c.region[2] = 9;
        let err = filter_mask(&f, &c, &d, &FilterSpec::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column `region` row 2: code 9 is outside its dictionary of 2 entries"
        );
    }

    #[test]
    fn finding_filter_translates_to_codes() {
        let (f, c, d) = fixture();
        let filter = FindingFilter {
            account_ids: Some(vec!["222222222222".into(), "999999999999".into()]),
            ..Default::default()
        };
        let spec = FilterSpec::from_finding_filter(&filter, &d).unwrap();
        assert_eq!(spec.accounts, Some(vec![1]));
        assert_eq!(filter_mask(&f, &c, &d, &spec).unwrap(), vec![0, 1, 0, 0]);
        let filter = FindingFilter {
            resource_key: Some("i-1".into()),
            ..Default::default()
        };
        assert_eq!(
            FilterSpec::from_finding_filter(&filter, &d)
                .unwrap_err()
                .code(),
            "SCORING_INVALID_FILTER"
        );
        let filter = FindingFilter {
            overdue: Some(true),
            ..Default::default()
        };
        assert_eq!(
            FilterSpec::from_finding_filter(&filter, &d)
                .unwrap_err()
                .code(),
            "SCORING_INVALID_FILTER"
        );
    }

    #[test]
    fn column_mask_equals_row_matches() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let dictionaries = Dictionaries {
            accounts: (0..4).map(|i| format!("{i:012}")).collect(),
            regions: (0..3).map(|i| format!("region-{i}")).collect(),
            types: (0..6)
                .map(|i| format!("Kind{}:Res/Type{i}", i % 2))
                .collect(),
            titles: (0..6).map(|i| format!("Title {i} word{}", i % 3)).collect(),
            resource_types: (0..3).map(|i| format!("Res{i}")).collect(),
        };
        let n = 400;
        let mut features = FeatureColumns::default();
        let mut codes = CodeColumns::default();
        for _ in 0..n {
            features.push(FeatureRow {
                severity: f64::from(rng.gen_range(0..=100u32)) / 10.0,
                archived: rng.gen_bool(0.3),
                sample: rng.gen_bool(0.3),
                triage: rng.gen_range(0..6),
                ..Default::default()
            });
            codes.account.push(rng.gen_range(0..4));
            codes.region.push(rng.gen_range(0..3));
            codes.finding_type.push(rng.gen_range(0..6));
            codes.title.push(rng.gen_range(0..6));
            codes.resource_type.push(rng.gen_range(0..3));
            codes.updated_at.push(f64::from(rng.gen_range(0..100u32)));
        }
        let some_codes = |rng: &mut rand_chacha::ChaCha8Rng, len: u32| {
            rng.gen_bool(0.5)
                .then(|| (0..len).filter(|_| rng.gen_bool(0.5)).collect())
        };
        let labels = [
            SeverityLabel::Low,
            SeverityLabel::Medium,
            SeverityLabel::High,
            SeverityLabel::Critical,
        ];
        let statuses = [
            TriageStatus::New,
            TriageStatus::Acknowledged,
            TriageStatus::InProgress,
            TriageStatus::Resolved,
            TriageStatus::Suppressed,
            TriageStatus::FalsePositive,
        ];
        let mut passing = 0;
        for _ in 0..300 {
            let spec = FilterSpec {
                accounts: some_codes(&mut rng, 4),
                regions: some_codes(&mut rng, 3),
                severity_min: rng
                    .gen_bool(0.5)
                    .then(|| f64::from(rng.gen_range(0..10u32))),
                severity_labels: rng.gen_bool(0.3).then(|| {
                    labels
                        .iter()
                        .copied()
                        .filter(|_| rng.gen_bool(0.6))
                        .collect()
                }),
                types: some_codes(&mut rng, 6),
                type_prefix: rng.gen_bool(0.2).then(|| "Kind1".into()),
                resource_types: some_codes(&mut rng, 3),
                archived: [None, Some(false), Some(true)][rng.gen_range(0..3)],
                include_samples: rng.gen_bool(0.5),
                updated_since: rng.gen_bool(0.3).then(|| rng.gen_range(0..100)),
                updated_before: rng.gen_bool(0.3).then(|| rng.gen_range(0..100)),
                triage: rng.gen_bool(0.3).then(|| {
                    statuses
                        .iter()
                        .copied()
                        .filter(|_| rng.gen_bool(0.6))
                        .collect()
                }),
                search: rng
                    .gen_bool(0.2)
                    .then(|| ["word1", "type3"][rng.gen_range(0..2)].into()),
            };
            let compiled = CompiledFilter::new(&spec, &dictionaries).unwrap();
            let mut mask = vec![7; 3];
            compiled.mask_into(&features, &codes, &mut mask);
            let rows: Vec<u8> = (0..n)
                .map(|i| u8::from(compiled.matches(&features, &codes, i)))
                .collect();
            assert_eq!(mask, rows, "{spec:?}");
            passing += rows.iter().filter(|&&b| b == 1).count();
        }
        // The specs are not all empty-handed: some rows pass, most do not.
        assert!(passing > 0 && passing < 300 * n / 2, "{passing}");
    }

    #[test]
    fn ascii_fast_path_agrees_with_lowercase() {
        for (h, n) in [
            ("Recon:EC2/Port", "ec2/p"),
            ("abc", ""),
            ("ab", "abc"),
            ("ABC", "é"),
            ("x", "x"),
        ] {
            assert_eq!(
                contains_ignore_case(h, n),
                h.to_lowercase().contains(n),
                "{h} {n}"
            );
        }
    }
}
