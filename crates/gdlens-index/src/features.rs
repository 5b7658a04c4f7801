//! Feature columns for the scoring crate, computed from the index with the scoring crate's own
//! feature definitions (`type_count_column`, `resource_exposure`, `age_hours`), so the server, the
//! API's `scoringFeatures` and the browser agree.

use crate::dictionary::Dictionary;
use crate::index::FindingIndex;
use gdlens_domain::time::EpochMillis;
use gdlens_scoring::{CodeColumns, Dictionaries, FeatureColumns, NO_RESOURCE};

/// What the correlation crate knows about a finding's group, as scoring needs it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GroupInfo {
    /// Distinct ATT&CK tactics of the group (saturated at 255).
    pub tactics: u8,
    /// Highest severity in the group.
    pub severity: f64,
}

impl FindingIndex {
    /// Scoring features of `rows`, in that order. The context features (type rarity, resource
    /// exposure) are counted over `rows` themselves: pass the caller's scope (the filtered rows)
    /// so rarity means "rare in what this caller looks at". `group_of(row)` gives the row's group.
    pub fn features(
        &self,
        rows: &[u32],
        now_ms: EpochMillis,
        group_of: impl Fn(u32) -> Option<GroupInfo>,
    ) -> FeatureColumns {
        self.features_with(rows, &self.scope_counts(rows), now_ms, group_of)
    }

    /// The context counts of a scope: rows per finding type and per resource, distinct types per
    /// resource, over `rows` (with the scoring crate's definitions). Kept instead of feature
    /// columns, they give any row of the scope its features ([`FindingIndex::features_with`]).
    pub fn scope_counts(&self, rows: &[u32]) -> ScopeCounts {
        let type_codes: Vec<u32> = rows
            .iter()
            .map(|&r| self.finding_type[r as usize])
            .collect();
        let resource_codes: Vec<u32> = rows
            .iter()
            .map(|&r| self.resource_code(r).unwrap_or(NO_RESOURCE))
            .collect();
        let type_count = gdlens_scoring::count_by_code(&type_codes, None, self.types.len());
        let (resource_findings, resource_distinct_types) =
            gdlens_scoring::resource_exposure_by_code(
                &resource_codes,
                &type_codes,
                None,
                self.resources.len(),
            );
        ScopeCounts {
            type_count,
            resource_findings,
            resource_distinct_types,
        }
    }

    /// Scoring features of `rows` (a part of the scope `counts` was made from), in that order:
    /// equal to those rows of [`FindingIndex::features`] over the whole scope.
    pub fn features_with(
        &self,
        rows: &[u32],
        counts: &ScopeCounts,
        now_ms: EpochMillis,
        group_of: impl Fn(u32) -> Option<GroupInfo>,
    ) -> FeatureColumns {
        let mut columns = FeatureColumns::with_capacity(rows.len());
        let resource_count = |by_code: &[u32], r: u32| {
            self.resource_code(r)
                .and_then(|c| by_code.get(c as usize).copied())
                .unwrap_or(0)
        };
        for &r in rows {
            let i = r as usize;
            let group = group_of(r).unwrap_or_default();
            columns.severity.push(self.severity[i]);
            columns.criticality.push(self.account_criticality(r).code());
            columns.type_count.push(
                counts
                    .type_count
                    .get(self.finding_type[i] as usize)
                    .copied()
                    .unwrap_or(0),
            );
            columns
                .age_hours
                .push(gdlens_scoring::age_hours(now_ms, self.last_seen[i]));
            columns.count.push(self.count[i]);
            columns
                .resource_findings
                .push(resource_count(&counts.resource_findings, r));
            columns
                .resource_distinct_types
                .push(resource_count(&counts.resource_distinct_types, r));
            columns.group_tactics.push(group.tactics);
            columns.group_severity.push(group.severity);
            columns.archived.push(u8::from(self.archived(r)));
            columns.triage.push(self.triage[i]);
            columns.sample.push(u8::from(self.sample(r)));
        }
        columns
    }

    /// The scoring crate's filter input for `rows`, in that order: dictionary codes and
    /// `updatedAt` per row, with dictionaries holding only the strings these rows use (in order
    /// of first use), as `scoringFeatures` sends them to the browser. With [`FindingIndex::features`]
    /// of the same rows, `gdlens_scoring::CompiledFilter` selects what [`FindingIndex::filter`]
    /// selects (checked by the `filter_compile` fuzz target).
    pub fn code_columns(&self, rows: &[u32]) -> (CodeColumns, Dictionaries) {
        let owned = |c: Coded<'_>| -> (Vec<u32>, Vec<String>) {
            (c.codes, c.values.into_iter().map(String::from).collect())
        };
        let (account, accounts) = owned(self.coded(rows, CodedColumn::Account));
        let (region, regions) = owned(self.coded(rows, CodedColumn::Region));
        let (finding_type, types) = owned(self.coded(rows, CodedColumn::FindingType));
        let (title, titles) = owned(self.coded(rows, CodedColumn::Title));
        let (resource_type, resource_types) = owned(self.coded(rows, CodedColumn::ResourceType));
        let codes = CodeColumns {
            account,
            region,
            finding_type,
            title,
            resource_type,
            updated_at: rows.iter().map(|&r| self.updated_at(r) as f64).collect(),
        };
        let dictionaries = Dictionaries {
            accounts,
            regions,
            types,
            titles,
            resource_types,
        };
        (codes, dictionaries)
    }

    /// One string column of `rows` as codes into a dictionary of only the strings those rows
    /// use, in order of first use. The index's own codes are remapped through an array (no
    /// string is hashed or compared), so 100,000 titles take a few milliseconds.
    pub fn coded(&self, rows: &[u32], column: CodedColumn) -> Coded<'_> {
        let dictionary: &Dictionary = match column {
            CodedColumn::Account => &self.accounts,
            CodedColumn::Region => &self.regions,
            CodedColumn::FindingType => &self.types,
            CodedColumn::Title => &self.titles,
            CodedColumn::ResourceType => &self.resource_types,
        };
        let code_of = |row: u32| {
            let r = row as usize;
            match column {
                CodedColumn::Account => self.account[r],
                CodedColumn::Region => self.region[r],
                CodedColumn::FindingType => self.finding_type[r],
                CodedColumn::Title => self.title[r],
                CodedColumn::ResourceType => {
                    self.resources[self.resource[r] as usize].resource_type
                }
            }
        };
        let mut local = vec![u32::MAX; dictionary.len()];
        let mut out = Coded {
            codes: Vec::with_capacity(rows.len()),
            values: Vec::new(),
        };
        for &row in rows {
            let code = code_of(row);
            let slot = &mut local[code as usize];
            if *slot == u32::MAX {
                *slot = out.values.len() as u32;
                out.values.push(dictionary.get(code));
            }
            out.codes.push(*slot);
        }
        out
    }
}

/// The context counts of one scope (see [`FindingIndex::scope_counts`]): a few bytes per finding
/// type and per resource instead of ~45 bytes of feature columns per row.
#[derive(Debug, Clone, Default)]
pub struct ScopeCounts {
    /// Rows of each finding type, by type code.
    type_count: Vec<u32>,
    /// Rows naming each resource, by resource code.
    resource_findings: Vec<u32>,
    /// Distinct finding types among them, by resource code.
    resource_distinct_types: Vec<u32>,
}

impl ScopeCounts {
    /// Heap bytes.
    pub fn memory_bytes(&self) -> usize {
        (self.type_count.capacity()
            + self.resource_findings.capacity()
            + self.resource_distinct_types.capacity())
            * 4
    }
}

/// A dictionary-coded string column of the index (see [`FindingIndex::coded`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodedColumn {
    Account,
    Region,
    FindingType,
    Title,
    ResourceType,
}

/// Codes by row into `values`, the strings in order of first use.
#[derive(Debug, Clone, Default)]
pub struct Coded<'a> {
    pub codes: Vec<u32>,
    pub values: Vec<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdlens_domain::{Account, Criticality, Finding, TriageStatus};

    fn finding(id: &str, ty: &str, key: Option<&str>, last_seen: i64) -> Finding {
        Finding {
            id: id.into(),
            account_id: "111".into(),
            finding_type: ty.into(),
            severity: 5.0,
            updated_at: last_seen,
            count: 3,
            resource_type: "Instance".into(),
            resource_key: key.map(String::from),
            ..Finding::default()
        }
    }

    #[test]
    fn features_follow_the_scoring_definitions_over_the_given_rows() {
        let mut index = FindingIndex::build([
            finding("a", "T1", Some("i-1"), 0),
            finding("b", "T1", Some("i-1"), 3_600_000),
            finding("c", "T2", Some("i-1"), 0),
            finding("d", "T2", None, 0),
        ]);
        index.set_accounts(&[Account {
            id: "111".into(),
            name: String::new(),
            owner: String::new(),
            criticality: Criticality::High,
        }]);
        index.set_triage("c", TriageStatus::Resolved).unwrap();
        let group = GroupInfo {
            tactics: 3,
            severity: 8.0,
        };
        let cols = index.features(&[0, 1, 2, 3], 7_200_000, |r| (r == 2).then_some(group));
        assert_eq!(cols.validate(), Ok(4));
        assert_eq!(cols.type_count, vec![2, 2, 2, 2]);
        assert_eq!(cols.resource_findings, vec![3, 3, 3, 0]);
        assert_eq!(cols.resource_distinct_types, vec![2, 2, 2, 0]);
        assert_eq!(cols.age_hours, vec![2.0, 1.0, 2.0, 2.0]);
        assert_eq!(cols.criticality, vec![Criticality::High.code(); 4]);
        assert_eq!(cols.triage[2], TriageStatus::Resolved as u8);
        assert_eq!((cols.group_tactics[2], cols.group_severity[2]), (3, 8.0));
        assert_eq!(cols.group_tactics[0], 0);
        // Any part of the scope, with the scope's counts, gets the scope's features.
        let counts = index.scope_counts(&[0, 1, 2, 3]);
        let part = index.features_with(&[3, 1], &counts, 7_200_000, |_| None);
        assert_eq!(
            part.row(0),
            index.features(&[0, 1, 2, 3], 7_200_000, |_| None).row(3)
        );
        assert_eq!(part.type_count, vec![2, 2]);
        assert_eq!(part.resource_findings, vec![0, 3]);
        // Over a subset, rarity and exposure are counted within the subset.
        let cols = index.features(&[1, 3], 7_200_000, |_| None);
        assert_eq!(cols.type_count, vec![1, 1]);
        assert_eq!(cols.resource_findings, vec![1, 0]);
    }

    #[test]
    fn code_columns_use_row_local_dictionaries_in_first_use_order() {
        let mut index = FindingIndex::build([
            finding("a", "T1", Some("i-1"), 1_000),
            finding("b", "T2", None, 2_000),
            finding("c", "T1", Some("i-2"), 3_000),
        ]);
        index.set_triage("a", TriageStatus::Resolved).unwrap();
        let (codes, dictionaries) = index.code_columns(&[2, 1]);
        assert_eq!(dictionaries.types, ["T1", "T2"]);
        assert_eq!(codes.finding_type, [0, 1]);
        assert_eq!(dictionaries.accounts, ["111"]);
        assert_eq!(codes.updated_at, [3_000.0, 2_000.0]);
        assert_eq!(codes.validate(2, &dictionaries), Ok(()));
    }
}
