//! A [`FindingFilter`] plus the caller's [`Scope`], compiled against the index's dictionaries:
//! every string condition becomes a lookup table indexed by dictionary code, resolved once per query.

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{FindingFilter, Scope, TriageStatus};

use crate::dictionary::Dictionary;
use crate::index::{FindingIndex, FLAG_ARCHIVED, FLAG_SAMPLE};

/// A code mask accepting every code.
const ALL_CODES: u8 = 0xff;

/// The filter's conditions except its time range, as per-code tables.
pub(crate) struct RowPredicate {
    /// By account code: scope ∩ `accountIds`.
    account_ok: Vec<bool>,
    region_ok: Option<Vec<bool>>,
    /// By type code: `types` ∩ `typePrefix`.
    type_ok: Option<Vec<bool>>,
    /// By resource code: `resourceTypes` ∩ `resourceKey`.
    resource_ok: Option<Vec<bool>>,
    severity_min: Option<f64>,
    /// Bit `1 << label index` set for accepted labels.
    label_mask: u8,
    /// Bit `1 << triage code` set for accepted statuses.
    triage_mask: u8,
    want_archived: bool,
    include_samples: bool,
    /// Search hits by type code and by title code; a row passes when either hits.
    search: Option<(Vec<bool>, Vec<bool>)>,
    /// Some condition can match no row at all (e.g. an unknown resource key).
    pub(crate) impossible: bool,
    /// `[since, before)` on `updatedAt`.
    pub(crate) since: EpochMillis,
    pub(crate) before: EpochMillis,
}

impl RowPredicate {
    /// Compiles `filter` (normalized first: lists deduplicated, search trimmed and lower-cased).
    pub(crate) fn compile(index: &FindingIndex, filter: &FindingFilter, scope: &Scope) -> Self {
        let filter = filter.normalized();
        let mut account_ok: Vec<bool> = index
            .accounts
            .iter()
            .map(|(_, id)| scope.allows(id))
            .collect();
        if let Some(ids) = &filter.account_ids {
            restrict(&mut account_ok, &index.accounts, ids);
        }
        let region_ok = filter.regions.as_ref().map(|r| table_of(&index.regions, r));
        let mut type_ok = filter.types.as_ref().map(|t| table_of(&index.types, t));
        if let Some(prefix) = &filter.type_prefix {
            let by_prefix: Vec<bool> = index
                .types
                .iter()
                .map(|(_, t)| t.starts_with(prefix.as_str()))
                .collect();
            type_ok = Some(match type_ok {
                None => by_prefix,
                Some(t) => t.iter().zip(&by_prefix).map(|(a, b)| *a && *b).collect(),
            });
        }
        let mut impossible = false;
        let resource_type_ok = filter
            .resource_types
            .as_ref()
            .map(|t| table_of(&index.resource_types, t));
        let key_code = match &filter.resource_key {
            None => None,
            Some(key) => match index.resource_keys.code(key) {
                Some(code) => Some(code),
                None => {
                    impossible = true;
                    None
                }
            },
        };
        let resource_ok = (resource_type_ok.is_some() || key_code.is_some()).then(|| {
            index
                .resources
                .iter()
                .map(|r| {
                    resource_type_ok
                        .as_ref()
                        .is_none_or(|ok| ok[r.resource_type as usize])
                        && key_code.is_none_or(|k| r.key == k)
                })
                .collect()
        });
        let label_mask = match &filter.severity_labels {
            None => ALL_CODES,
            Some(labels) => labels.iter().fold(0u8, |m, l| m | 1 << l.index()),
        };
        let triage_mask = match &filter.triage_status {
            None => ALL_CODES,
            Some(statuses) => statuses.iter().fold(0u8, |m, s| m | 1 << triage_index(*s)),
        };
        let search = filter.search.as_ref().map(|needle| {
            (
                index.types.codes_containing(needle, contains_folded),
                index.titles.codes_containing(needle, contains_folded),
            )
        });
        RowPredicate {
            account_ok,
            region_ok,
            type_ok,
            resource_ok,
            severity_min: filter.severity_min,
            label_mask,
            triage_mask,
            want_archived: filter.archived.unwrap_or(false),
            include_samples: filter.include_samples,
            search,
            impossible,
            since: filter.updated_since.unwrap_or(EpochMillis::MIN),
            before: filter.updated_before.unwrap_or(EpochMillis::MAX),
        }
    }

    /// Whether `row` passes every condition except the time range.
    #[inline]
    pub(crate) fn matches_except_time(&self, index: &FindingIndex, row: usize) -> bool {
        let flags = index.flags[row];
        if ((flags & FLAG_ARCHIVED) != 0) != self.want_archived
            || (!self.include_samples && flags & FLAG_SAMPLE != 0)
            || !self.account_ok[index.account[row] as usize]
        {
            return false;
        }
        // Only read the label and triage columns when the filter restricts them.
        if (self.label_mask != ALL_CODES && self.label_mask & (1 << index.label[row]) == 0)
            || (self.triage_mask != ALL_CODES && self.triage_mask & (1 << index.triage[row]) == 0)
        {
            return false;
        }
        if let Some(min) = self.severity_min {
            // NaN severities never pass a minimum.
            if index.severity[row]
                .partial_cmp(&min)
                .is_none_or(|o| o.is_lt())
            {
                return false;
            }
        }
        if let Some(ok) = &self.region_ok {
            if !ok[index.region[row] as usize] {
                return false;
            }
        }
        if let Some(ok) = &self.type_ok {
            if !ok[index.finding_type[row] as usize] {
                return false;
            }
        }
        if let Some(ok) = &self.resource_ok {
            if !ok[index.resource[row] as usize] {
                return false;
            }
        }
        if let Some((types, titles)) = &self.search {
            if !types[index.finding_type[row] as usize] && !titles[index.title[row] as usize] {
                return false;
            }
        }
        true
    }

    /// Whether sample findings pass.
    pub(crate) fn include_samples(&self) -> bool {
        self.include_samples
    }

    /// Whether the filter restricts `updatedAt` at all.
    pub(crate) fn has_time_range(&self) -> bool {
        self.since != EpochMillis::MIN || self.before != EpochMillis::MAX
    }

    /// Whether `updated_at` lies in the filter's time range.
    #[inline]
    pub(crate) fn in_time_range(&self, updated_at: EpochMillis) -> bool {
        updated_at >= self.since && updated_at < self.before
    }
}

impl FindingIndex {
    /// The rows matching `filter` within `scope`, in row order.
    pub fn filter(&self, filter: &gdlens_domain::FindingFilter, scope: &Scope) -> Vec<u32> {
        let p = RowPredicate::compile(self, filter, scope);
        if p.impossible {
            return Vec::new();
        }
        (0..self.len())
            .filter(|&row| {
                p.in_time_range(self.updated_at[row]) && p.matches_except_time(self, row)
            })
            .map(|row| row as u32)
            .collect()
    }
}

/// A filter compiled against one index: test single rows without scanning the whole index.
pub struct CompiledFilter<'a> {
    index: &'a FindingIndex,
    predicate: RowPredicate,
}

impl CompiledFilter<'_> {
    /// Whether `row` matches the filter within the scope.
    #[inline]
    pub fn matches(&self, row: u32) -> bool {
        let r = row as usize;
        !self.predicate.impossible
            && self.predicate.in_time_range(self.index.updated_at[r])
            && self.predicate.matches_except_time(self.index, r)
    }

    /// How many rows of the index match (a scan that allocates nothing per row).
    pub fn count(&self) -> usize {
        if self.predicate.impossible {
            return 0;
        }
        (0..self.index.len())
            .filter(|&row| {
                self.predicate.in_time_range(self.index.updated_at[row])
                    && self.predicate.matches_except_time(self.index, row)
            })
            .count()
    }
}

impl FindingIndex {
    /// Compiles `filter` within `scope` for row-at-a-time tests ([`CompiledFilter::matches`]).
    pub fn compile(
        &self,
        filter: &gdlens_domain::FindingFilter,
        scope: &Scope,
    ) -> CompiledFilter<'_> {
        CompiledFilter {
            index: self,
            predicate: RowPredicate::compile(self, filter, scope),
        }
    }
}

impl FindingIndex {
    /// Every row of an account `scope` allows (archived and sample findings included), ascending.
    pub fn scope_rows(&self, scope: &Scope) -> Vec<u32> {
        let ok: Vec<bool> = self
            .accounts
            .iter()
            .map(|(_, id)| scope.allows(id))
            .collect();
        (0..self.len() as u32)
            .filter(|&r| ok[self.account[r as usize] as usize])
            .collect()
    }

    /// Regions that hold a finding of an account `scope` allows, sorted.
    pub fn regions_in_scope(&self, scope: &Scope) -> Vec<String> {
        let ok: Vec<bool> = self
            .accounts
            .iter()
            .map(|(_, id)| scope.allows(id))
            .collect();
        let mut seen = vec![false; self.regions.len()];
        for (account, region) in self.account.iter().zip(&self.region) {
            if ok[*account as usize] {
                seen[*region as usize] = true;
            }
        }
        let mut out: Vec<String> = seen
            .iter()
            .enumerate()
            .filter(|(_, &s)| s)
            .map(|(code, _)| self.regions.get(code as u32).to_string())
            .collect();
        out.sort();
        out
    }

    /// Every account id the index knows (with findings, or named by the account config).
    pub fn known_accounts(&self) -> impl Iterator<Item = &str> + '_ {
        self.accounts.iter().map(|(_, id)| id)
    }
}

/// A table by code that is true for the codes of `wanted` (unknown strings match nothing).
fn table_of(dictionary: &Dictionary, wanted: &[String]) -> Vec<bool> {
    let mut ok = vec![false; dictionary.len()];
    for w in wanted {
        if let Some(code) = dictionary.code(w) {
            ok[code as usize] = true;
        }
    }
    ok
}

/// Clears every code not named in `wanted`.
fn restrict(ok: &mut [bool], dictionary: &Dictionary, wanted: &[String]) {
    let allowed = table_of(dictionary, wanted);
    for (o, a) in ok.iter_mut().zip(allowed) {
        *o &= a;
    }
}

fn triage_index(status: TriageStatus) -> usize {
    TriageStatus::ALL
        .iter()
        .position(|&s| s == status)
        .unwrap_or(0)
}

/// Case-insensitive substring test; `needle` is already lower-cased (Unicode `to_lowercase`).
/// ASCII haystacks compare byte-wise without allocating; others are lower-cased first.
pub(crate) fn contains_folded(haystack: &str, needle: &str) -> bool {
    if haystack.is_ascii() {
        let (h, n) = (haystack.as_bytes(), needle.as_bytes());
        if n.is_empty() {
            return true;
        }
        // A lower-cased non-ASCII needle can never match an ASCII haystack.
        n.len() <= h.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
    } else {
        haystack.to_lowercase().contains(needle)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_search_matches_case_insensitively() {
        assert!(contains_folded("Recon:EC2/PortProbe", "portprobe"));
        assert!(contains_folded("Recon:EC2/PortProbe", "ec2/"));
        assert!(!contains_folded("Recon:EC2/PortProbe", "ssh"));
        assert!(contains_folded("Zugriff über Tor", "über"));
        assert!(contains_folded("ZUGRIFF ÜBER TOR", "über"));
        assert!(!contains_folded("abc", "é"));
        assert!(contains_folded("", ""));
    }
}
