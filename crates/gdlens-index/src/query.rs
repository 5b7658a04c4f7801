//! A [`FindingFilter`] plus the caller's [`Scope`], compiled against the index's dictionaries:
//! every string condition becomes a lookup table indexed by dictionary code, resolved once per query.

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{FindingFilter, Scope, TriageStatus};

use std::sync::Arc;

use crate::cells::{CellVerdict, Cells};
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
    /// By resource type code: `resourceTypes` (what cells test; rows test `resource_ok`).
    pub(crate) resource_type_ok: Option<Vec<bool>>,
    /// The code of `resourceKey`.
    pub(crate) resource_key: Option<u32>,
    severity_min: Option<f64>,
    /// Bit `1 << label index` set for accepted labels.
    label_mask: u8,
    /// Bit `1 << triage code` set for accepted statuses.
    triage_mask: u8,
    want_archived: bool,
    include_samples: bool,
    /// Search hits by type code and by title code; a row passes when either hits.
    pub(crate) search: Option<Arc<SearchHits>>,
    /// Some condition can match no row at all (e.g. an unknown resource key).
    pub(crate) impossible: bool,
    /// `[since, before)` on `updatedAt`.
    pub(crate) since: EpochMillis,
    pub(crate) before: EpochMillis,
    /// `overdue`: the wanted answer, the instant it is judged at, and the targets by label index.
    pub(crate) overdue: Option<Overdue>,
}

/// The `overdue` condition compiled: per-row, since it reads `createdAt` (cells cannot decide it).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Overdue {
    pub(crate) want: bool,
    pub(crate) as_of: EpochMillis,
    pub(crate) targets: [EpochMillis; 4],
}

impl Overdue {
    /// Whether a row with these flags and triage code is open (not archived, not closed).
    #[inline]
    pub(crate) fn is_open(&self, flags: u8, triage: u8) -> bool {
        flags & FLAG_ARCHIVED == 0 && !TriageStatus::ALL[triage as usize].is_closed()
    }

    /// Whether a row with these values is overdue (see `gdlens_domain::sla`).
    #[inline]
    pub(crate) fn is_overdue(
        &self,
        flags: u8,
        triage: u8,
        label: u8,
        created_at: EpochMillis,
    ) -> bool {
        self.is_open(flags, triage)
            && self.as_of > created_at.saturating_add(self.targets[label as usize])
    }
}

impl RowPredicate {
    /// Compiles `filter` (normalized first: lists deduplicated, search trimmed and lower-cased).
    pub(crate) fn compile(
        index: &FindingIndex,
        filter: &FindingFilter,
        scope: &Scope,
        search: Option<&Arc<SearchHits>>,
    ) -> Self {
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
        let search = filter.search.as_ref().map(|needle| match search {
            Some(hits) if hits.answers(index, needle) => hits.clone(),
            _ => Arc::new(index.search_hits(needle)),
        });
        RowPredicate {
            account_ok,
            region_ok,
            type_ok,
            resource_ok,
            resource_type_ok,
            resource_key: key_code,
            severity_min: filter.severity_min,
            label_mask,
            triage_mask,
            want_archived: filter.archived.unwrap_or(false),
            include_samples: filter.include_samples,
            search,
            impossible,
            since: filter.updated_since.unwrap_or(EpochMillis::MIN),
            before: filter.updated_before.unwrap_or(EpochMillis::MAX),
            overdue: filter.overdue.map(|want| Overdue {
                want,
                as_of: filter.as_of.unwrap_or(EpochMillis::MAX),
                targets: index.sla.by_index(),
            }),
        }
    }

    /// Whether `row` passes every condition except the time range.
    #[inline]
    pub(crate) fn matches_except_time(&self, index: &FindingIndex, row: usize) -> bool {
        self.matches_values(
            index.flags[row],
            index.account[row],
            index.label[row],
            index.triage[row],
            index.severity[row],
            index.region[row],
            index.finding_type[row],
        ) && self
            .resource_ok
            .as_ref()
            .is_none_or(|ok| ok[index.resource[row] as usize])
            && self.search.as_ref().is_none_or(|hits| {
                hits.types[index.finding_type[row] as usize]
                    || hits.titles[index.title[row] as usize]
            })
            && self.overdue.as_ref().is_none_or(|o| {
                o.is_overdue(
                    index.flags[row],
                    index.triage[row],
                    index.label[row],
                    index.created_at[row],
                ) == o.want
            })
    }

    /// The conditions on values a row shares with its cell (everything but time, resource and
    /// title): one definition for the row scan and the cell scan.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn matches_values(
        &self,
        flags: u8,
        account: u32,
        label: u8,
        triage: u8,
        severity: f64,
        region: u32,
        finding_type: u32,
    ) -> bool {
        if ((flags & FLAG_ARCHIVED) != 0) != self.want_archived
            || (!self.include_samples && flags & FLAG_SAMPLE != 0)
            || !self.account_ok[account as usize]
            || self.label_mask & (1 << label) == 0
            || self.triage_mask & (1 << triage) == 0
        {
            return false;
        }
        // NaN severities never pass a minimum.
        if self
            .severity_min
            .is_some_and(|min| severity.partial_cmp(&min).is_none_or(|o| o.is_lt()))
        {
            return false;
        }
        self.region_ok.as_ref().is_none_or(|ok| ok[region as usize])
            && self
                .type_ok
                .as_ref()
                .is_none_or(|ok| ok[finding_type as usize])
    }

    /// The verdict on the rows of each cell in `range` (the filter must not have a `resourceKey`
    /// or `overdue`): what the cell's shared values decide, and for a `search` whose needle misses
    /// the cell's type, "by title". One condition at a time over each column (loops the compiler
    /// vectorizes; conditions the filter does not set are skipped), so a page's `totalCount` does
    /// not test ~90,000 cells one branchy call at a time.
    pub(crate) fn cell_verdicts(
        &self,
        cells: &Cells,
        range: std::ops::Range<usize>,
    ) -> Vec<CellVerdict> {
        let r = range;
        let (archived, sample) = (FLAG_ARCHIVED, FLAG_SAMPLE);
        let want_archived = if self.want_archived { archived } else { 0 };
        let reject_samples = if self.include_samples { 0 } else { sample };
        let (labels, triage) = (self.label_mask, self.triage_mask);
        let mut ok: Vec<bool> = cells.flags[r.clone()]
            .iter()
            .zip(&cells.label[r.clone()])
            .zip(&cells.triage[r.clone()])
            .map(|((&f, &l), &t)| {
                (f & archived) == want_archived
                    && f & reject_samples == 0
                    && (labels >> l) & 1 != 0
                    && (triage >> t) & 1 != 0
            })
            .collect();
        let mut narrow = |codes: &[u32], table: &[bool]| {
            for (o, &c) in ok.iter_mut().zip(&codes[r.clone()]) {
                *o &= table[c as usize];
            }
        };
        if !self.account_ok.iter().all(|&a| a) {
            narrow(&cells.account, &self.account_ok);
        }
        if let Some(t) = &self.region_ok {
            narrow(&cells.region, t);
        }
        if let Some(t) = &self.type_ok {
            narrow(&cells.finding_type, t);
        }
        if let Some(t) = &self.resource_type_ok {
            narrow(&cells.resource_type, t);
        }
        if let Some(min) = self.severity_min {
            // NaN severities never pass a minimum (`>=` is false for NaN).
            for (o, &s) in ok.iter_mut().zip(&cells.severity[r.clone()]) {
                *o &= s >= min;
            }
        }
        ok.iter()
            .zip(&cells.finding_type[r.clone()])
            .map(|(&ok, &t)| match &self.search {
                _ if !ok => CellVerdict::No,
                Some(hits) if !hits.types[t as usize] => CellVerdict::ByTitle,
                _ => CellVerdict::Yes,
            })
            .collect()
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
        let p = RowPredicate::compile(self, filter, scope, None);
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

/// The type and title codes a `search` needle hits (case-insensitively), for one index
/// generation: computed with one pass over the folded dictionaries, and reusable by every query
/// with the same needle at that generation (the API caches them).
#[derive(Debug)]
pub struct SearchHits {
    needle: String,
    generation: u64,
    pub(crate) types: Vec<bool>,
    pub(crate) titles: Vec<bool>,
}

impl SearchHits {
    /// Estimated heap bytes.
    pub fn memory_bytes(&self) -> usize {
        self.needle.len() + self.types.len() + self.titles.len() + 64
    }

    /// Whether these hits are for `needle` (normalized) at the generation of `index`.
    fn answers(&self, index: &FindingIndex, needle: &str) -> bool {
        self.needle == needle
            && self.generation == index.generation()
            && self.types.len() == index.types.len()
            && self.titles.len() == index.titles.len()
    }
}

impl FindingIndex {
    /// The codes `needle` hits, as a filter's `search` would normalize it (trimmed, lower-cased).
    pub fn search_hits(&self, needle: &str) -> SearchHits {
        let needle = needle.trim().to_lowercase();
        SearchHits {
            types: self.types.codes_containing(&needle, contains_folded),
            titles: self.titles.codes_containing(&needle, contains_folded),
            generation: self.generation(),
            needle,
        }
    }
}

/// What a compiled filter may reuse: the index's [`Cells`] and the [`SearchHits`] of its needle.
#[derive(Debug, Default, Clone, Copy)]
pub struct Precomputed<'a> {
    /// Cells built from the same index generation.
    pub cells: Option<&'a Cells>,
    /// Hits of the filter's `search` needle at the same generation.
    pub search: Option<&'a Arc<SearchHits>>,
}

/// A filter compiled against one index: test single rows without scanning the whole index.
///
/// Compiled with the index's [`Cells`] (and a filter without `resourceKey`), the filter is decided
/// once per cell up front; a row test is then its cell's verdict, its time and, when the verdict
/// depends on the title, its title.
pub struct CompiledFilter<'a> {
    index: &'a FindingIndex,
    predicate: RowPredicate,
    /// The cells and, by cell, the verdict on every condition but time.
    cells: Option<(&'a Cells, Vec<CellVerdict>)>,
}

impl<'a> CompiledFilter<'a> {
    /// Whether `row` matches the filter within the scope.
    #[inline]
    pub fn matches(&self, row: u32) -> bool {
        let r = row as usize;
        let p = &self.predicate;
        // Without a time range, `updatedAt` is not read: one random read less per row.
        if p.impossible || (p.has_time_range() && !p.in_time_range(self.index.updated_at[r])) {
            return false;
        }
        match &self.cells {
            Some((cells, verdicts)) => match verdicts[cells.cell_of_row[r] as usize] {
                CellVerdict::No => false,
                CellVerdict::Yes => true,
                CellVerdict::ByTitle => self.title_hits(self.index.title[r]),
            },
            None => self.predicate.matches_except_time(self.index, r),
        }
    }

    #[inline]
    fn title_hits(&self, title: u32) -> bool {
        self.predicate
            .search
            .as_ref()
            .is_some_and(|hits| hits.titles[title as usize])
    }

    /// How many rows of the index match: per cell (two binary searches for a time range) when
    /// compiled with cells, else a scan that allocates nothing per row.
    pub fn count(&self) -> usize {
        let p = &self.predicate;
        if p.impossible {
            return 0;
        }
        match &self.cells {
            Some((cells, verdicts)) => verdicts
                .iter()
                .enumerate()
                .map(|(c, v)| match v {
                    CellVerdict::No => 0,
                    CellVerdict::Yes => cells.entries_in(c, p.since, p.before).len(),
                    CellVerdict::ByTitle => cells.title[cells.entries_in(c, p.since, p.before)]
                        .iter()
                        .filter(|&&t| self.title_hits(t))
                        .count(),
                })
                .sum(),
            None => (0..self.index.len())
                .filter(|&row| {
                    p.in_time_range(self.index.updated_at[row])
                        && p.matches_except_time(self.index, row)
                })
                .count(),
        }
    }
}

impl FindingIndex {
    /// Compiles `filter` within `scope` for row-at-a-time tests ([`CompiledFilter::matches`]).
    pub fn compile(
        &self,
        filter: &gdlens_domain::FindingFilter,
        scope: &Scope,
    ) -> CompiledFilter<'_> {
        self.compile_with(Precomputed::default(), filter, scope)
    }

    /// [`FindingIndex::compile`], reusing what was precomputed: search hits for the same needle
    /// and generation, and cells (used when they answer for this index and the filter has no
    /// `resourceKey`). The same rows match either way.
    pub fn compile_with<'a>(
        &'a self,
        pre: Precomputed<'a>,
        filter: &gdlens_domain::FindingFilter,
        scope: &Scope,
    ) -> CompiledFilter<'a> {
        let predicate = RowPredicate::compile(self, filter, scope, pre.search);
        let cells = pre
            .cells
            .filter(|c| {
                c.answers_for(self)
                    && predicate.resource_key.is_none()
                    && predicate.overdue.is_none()
            })
            .map(|c| {
                let verdicts = predicate.cell_verdicts(c, 0..c.len());
                (c, verdicts)
            });
        CompiledFilter {
            index: self,
            predicate,
            cells,
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
