//! The columnar store of the latest finding versions and its incremental maintenance.

use gdlens_domain::time::{utc_day, EpochMillis};
use gdlens_domain::{Account, Criticality, Finding, SeverityLabel, SlaTargets, TriageStatus};
use rustc_hash::FxHashMap;
use std::sync::Arc;

use thiserror::Error;

use crate::dictionary::Dictionary;

/// Row flag: `service.archived`.
pub(crate) const FLAG_ARCHIVED: u8 = 1;
/// Row flag: a sample finding.
pub(crate) const FLAG_SAMPLE: u8 = 2;
/// Row flag: an `AttackSequence:*` finding.
pub(crate) const FLAG_ATTACK_SEQUENCE: u8 = 4;
/// Resource key code of a finding without a resource key.
pub(crate) const NO_KEY: u32 = u32::MAX;

/// Errors of index operations.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IndexError {
    /// The finding id is not in the index.
    #[error("finding `{id}` is not in the index")]
    UnknownFinding { id: String },
}

impl IndexError {
    /// Stable machine code: `unknown_finding`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::UnknownFinding { .. } => "unknown_finding",
        }
    }
}

/// What [`FindingIndex::upsert`] did with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// A new finding id: a row was appended.
    Inserted,
    /// A version at least as new as the indexed one replaced its row.
    Replaced,
    /// An older version than the indexed one: ignored, as the store never lets older overwrite newer.
    Ignored,
}

/// A resource as the summary counts it: one resource key of one resource type in one account.
/// Findings without a resource key get an entry with `key == NO_KEY` (so the resource type stays
/// filterable) that never counts as a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub(crate) struct ResourceEntry {
    pub account: u32,
    pub resource_type: u32,
    pub key: u32,
}

/// Name and criticality of an account code, from the account config.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct AccountInfo {
    pub name: String,
    pub criticality: Criticality,
}

/// The in-memory columnar index over the latest version of every finding.
///
/// Cloning it (what a writer does while readers hold the previous snapshot) shares the string
/// dictionaries, the largest part, until a new string is interned.
///
/// Rows are numbered `0..len()` in order of first insertion and never move: a newer version of a
/// finding overwrites its row in place, so row numbers held by a caller stay valid across updates.
///
/// Persist it with [`crate::persist`] (the lookup tables are rebuilt on load, not stored).
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct FindingIndex {
    /// Finding ids; the code of an id is its row.
    pub(crate) ids: Arc<Dictionary>,
    pub(crate) accounts: Arc<Dictionary>,
    pub(crate) regions: Arc<Dictionary>,
    pub(crate) types: Arc<Dictionary>,
    pub(crate) resource_types: Arc<Dictionary>,
    pub(crate) resource_keys: Arc<Dictionary>,
    pub(crate) titles: Arc<Dictionary>,

    /// By type code: whether the type is an `AttackSequence:*` type.
    pub(crate) type_is_attack_sequence: Vec<bool>,
    /// By account code: name and criticality from [`FindingIndex::set_accounts`].
    pub(crate) account_info: Vec<AccountInfo>,
    /// Resources by resource code.
    pub(crate) resources: Vec<ResourceEntry>,
    /// Codes of the key-less resource entries (one per account and resource type at most).
    pub(crate) keyless_resources: Vec<u32>,
    #[serde(skip)]
    resource_codes: FxHashMap<ResourceEntry, u32>,
    /// `(account, type)` pairs by pair code: "is this type new in this account" works on these.
    pub(crate) pairs: Vec<(u32, u32)>,
    #[serde(skip)]
    pair_codes: FxHashMap<(u32, u32), u32>,

    // Columns, one entry per row.
    pub(crate) account: Vec<u32>,
    pub(crate) region: Vec<u32>,
    pub(crate) finding_type: Vec<u32>,
    pub(crate) pair: Vec<u32>,
    pub(crate) title: Vec<u32>,
    /// Resource code (an entry of `resources`).
    pub(crate) resource: Vec<u32>,
    pub(crate) severity: Vec<f64>,
    /// [`SeverityLabel::index`] of the severity, precomputed for the per-label counters.
    pub(crate) label: Vec<u8>,
    pub(crate) flags: Vec<u8>,
    /// Index into [`TriageStatus::ALL`].
    pub(crate) triage: Vec<u8>,
    pub(crate) updated_at: Vec<EpochMillis>,
    pub(crate) created_at: Vec<EpochMillis>,
    pub(crate) first_seen: Vec<EpochMillis>,
    pub(crate) last_seen: Vec<EpochMillis>,
    /// `service.count`, saturated at `u32::MAX`.
    pub(crate) count: Vec<u32>,

    /// Smallest and largest UTC day of `updated_at` ever indexed (bounds of the dense per-day arrays).
    pub(crate) day_range: Option<(i32, i32)>,
    /// SLA targets per severity (`overdue` filters and the SLA summary judge with these). From
    /// the configuration, never from a persisted snapshot: set again after loading one.
    #[serde(skip)]
    pub(crate) sla: SlaTargets,
    generation: u64,
}

/// A copy with room to grow (see [`roomy`]), not exactly `len`: a writer clones the index to
/// add rows while readers hold the previous one, and a copy without room would be copied again,
/// into a buffer twice its size, by the first row added.
impl Clone for FindingIndex {
    fn clone(&self) -> Self {
        FindingIndex {
            ids: self.ids.clone(),
            accounts: self.accounts.clone(),
            regions: self.regions.clone(),
            types: self.types.clone(),
            resource_types: self.resource_types.clone(),
            resource_keys: self.resource_keys.clone(),
            titles: self.titles.clone(),
            type_is_attack_sequence: self.type_is_attack_sequence.clone(),
            account_info: self.account_info.clone(),
            resources: roomy(&self.resources),
            keyless_resources: self.keyless_resources.clone(),
            resource_codes: self.resource_codes.clone(),
            pairs: roomy(&self.pairs),
            pair_codes: self.pair_codes.clone(),
            account: roomy(&self.account),
            region: roomy(&self.region),
            finding_type: roomy(&self.finding_type),
            pair: roomy(&self.pair),
            title: roomy(&self.title),
            resource: roomy(&self.resource),
            severity: roomy(&self.severity),
            label: roomy(&self.label),
            flags: roomy(&self.flags),
            triage: roomy(&self.triage),
            updated_at: roomy(&self.updated_at),
            created_at: roomy(&self.created_at),
            first_seen: roomy(&self.first_seen),
            last_seen: roomy(&self.last_seen),
            count: roomy(&self.count),
            day_range: self.day_range,
            sla: self.sla,
            generation: self.generation,
        }
    }
}

/// A copy of `v` with room for about 3 % more (at least 4,096) before it must grow.
pub(crate) fn roomy<T: Clone>(v: &[T]) -> Vec<T> {
    let mut out = Vec::with_capacity(v.len() + v.len() / 32 + 4096);
    out.extend_from_slice(v);
    out
}

impl FindingIndex {
    /// An empty index (generation 0). Types and titles keep a lower-cased copy for `search`.
    pub fn new() -> Self {
        let mut index = Self::default();
        Arc::make_mut(&mut index.types).keep_folded();
        Arc::make_mut(&mut index.titles).keep_folded();
        index
    }

    /// Builds the index from findings, e.g. the store's `scan_latest`. When an id repeats, the
    /// newest `updatedAt` wins, as in [`FindingIndex::upsert`].
    pub fn build(findings: impl IntoIterator<Item = Finding>) -> Self {
        let findings = findings.into_iter();
        let mut index = Self::new();
        index.reserve(findings.size_hint().0);
        for f in findings {
            index.insert_or_replace(&f);
        }
        index.generation = 1;
        index
    }

    /// Inserts a finding or replaces the indexed version of it when this one is at least as new.
    /// Counting follows the latest version only; triage state survives a replacement.
    pub fn upsert(&mut self, finding: &Finding) -> UpsertOutcome {
        let outcome = self.insert_or_replace(finding);
        if outcome != UpsertOutcome::Ignored {
            self.generation += 1;
        }
        outcome
    }

    /// [`FindingIndex::upsert`] for a batch; the generation changes once if anything changed.
    pub fn upsert_batch<'a>(&mut self, findings: impl IntoIterator<Item = &'a Finding>) -> usize {
        let changed = findings
            .into_iter()
            .filter(|f| self.insert_or_replace(f) != UpsertOutcome::Ignored)
            .count();
        if changed > 0 {
            self.generation += 1;
        }
        changed
    }

    /// Sets the triage status of a finding.
    pub fn set_triage(&mut self, id: &str, status: TriageStatus) -> Result<(), IndexError> {
        let row = self
            .row_id(id)
            .ok_or_else(|| IndexError::UnknownFinding { id: id.to_string() })?;
        self.triage[row as usize] = triage_code(status);
        self.generation += 1;
        Ok(())
    }

    /// Sets names and criticality of accounts (accounts without findings are remembered too).
    pub fn set_accounts(&mut self, accounts: &[Account]) {
        for a in accounts {
            let code = self.account_code_or_insert(&a.id);
            self.account_info[code as usize] = AccountInfo {
                name: a.name.clone(),
                criticality: a.criticality,
            };
        }
        self.generation += 1;
    }

    /// Sets the SLA targets per severity (from the `[sla]` config).
    pub fn set_sla_targets(&mut self, targets: SlaTargets) {
        self.sla = targets;
        self.generation += 1;
    }

    /// The SLA targets in force.
    pub fn sla_targets(&self) -> SlaTargets {
        self.sla
    }

    /// Changes with every change of the indexed data; caches key on it.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of findings (rows).
    pub fn len(&self) -> usize {
        self.account.len()
    }

    /// Whether the index holds no finding.
    pub fn is_empty(&self) -> bool {
        self.account.is_empty()
    }

    /// The row of a finding id.
    pub fn row_id(&self, id: &str) -> Option<u32> {
        self.ids.code(id)
    }

    /// Finding id of a row. Rows come from this index; a foreign row number panics.
    pub fn id(&self, row: u32) -> &str {
        self.ids.get(row)
    }

    /// Account id of a row.
    pub fn account_id(&self, row: u32) -> &str {
        self.accounts.get(self.account[row as usize])
    }

    /// Dictionary code of the row's account (dense, `0..account_count()`).
    pub fn account_code(&self, row: u32) -> u32 {
        self.account[row as usize]
    }

    /// Number of distinct accounts known (with findings or from the config).
    pub fn account_count(&self) -> usize {
        self.accounts.len()
    }

    /// Criticality of the row's account (`Unknown` unless set by [`FindingIndex::set_accounts`]).
    pub fn account_criticality(&self, row: u32) -> Criticality {
        self.account_info[self.account[row as usize] as usize].criticality
    }

    /// Region of a row.
    pub fn region(&self, row: u32) -> &str {
        self.regions.get(self.region[row as usize])
    }

    /// Finding type of a row.
    pub fn finding_type(&self, row: u32) -> &str {
        self.types.get(self.finding_type[row as usize])
    }

    /// Dictionary code of the row's finding type.
    pub fn type_code(&self, row: u32) -> u32 {
        self.finding_type[row as usize]
    }

    /// Title of a row.
    pub fn title(&self, row: u32) -> &str {
        self.titles.get(self.title[row as usize])
    }

    /// Numeric severity of a row.
    pub fn severity(&self, row: u32) -> f64 {
        self.severity[row as usize]
    }

    /// Severity label of a row.
    pub fn severity_label(&self, row: u32) -> SeverityLabel {
        SeverityLabel::ALL[self.label[row as usize] as usize]
    }

    /// `updatedAt` of a row (epoch ms).
    pub fn updated_at(&self, row: u32) -> EpochMillis {
        self.updated_at[row as usize]
    }

    /// `createdAt` of a row (epoch ms).
    pub fn created_at(&self, row: u32) -> EpochMillis {
        self.created_at[row as usize]
    }

    /// First seen (`eventFirstSeen`, else `createdAt`) of a row (epoch ms).
    pub fn first_seen(&self, row: u32) -> EpochMillis {
        self.first_seen[row as usize]
    }

    /// Last seen (`eventLastSeen`, else `updatedAt`) of a row (epoch ms).
    pub fn last_seen(&self, row: u32) -> EpochMillis {
        self.last_seen[row as usize]
    }

    /// `service.count` of a row (saturated at `u32::MAX`).
    pub fn count(&self, row: u32) -> u64 {
        u64::from(self.count[row as usize])
    }

    /// Whether the row is archived.
    pub fn archived(&self, row: u32) -> bool {
        self.flags[row as usize] & FLAG_ARCHIVED != 0
    }

    /// Whether the row is a sample finding.
    pub fn sample(&self, row: u32) -> bool {
        self.flags[row as usize] & FLAG_SAMPLE != 0
    }

    /// Whether the row is an attack sequence.
    pub fn is_attack_sequence(&self, row: u32) -> bool {
        self.flags[row as usize] & FLAG_ATTACK_SEQUENCE != 0
    }

    /// Triage status of a row.
    pub fn triage(&self, row: u32) -> TriageStatus {
        TriageStatus::ALL[self.triage[row as usize] as usize]
    }

    /// Resource type of a row.
    pub fn resource_type(&self, row: u32) -> &str {
        let r = &self.resources[self.resource[row as usize] as usize];
        self.resource_types.get(r.resource_type)
    }

    /// Resource key of a row, if the finding names one.
    pub fn resource_key(&self, row: u32) -> Option<&str> {
        match self.resources[self.resource[row as usize] as usize].key {
            NO_KEY => None,
            key => Some(self.resource_keys.get(key)),
        }
    }

    /// Dense code of the row's resource (account, resource type, key), if it names a key.
    pub fn resource_code(&self, row: u32) -> Option<u32> {
        let code = self.resource[row as usize];
        (self.resources[code as usize].key != NO_KEY).then_some(code)
    }

    /// Number of distinct resource codes (including key-less entries).
    pub fn resource_code_count(&self) -> usize {
        self.resources.len()
    }

    /// Estimated heap bytes held by the index (columns, dictionaries, lookup tables).
    pub fn memory_bytes(&self) -> usize {
        fn vec<T>(v: &Vec<T>) -> usize {
            v.capacity() * std::mem::size_of::<T>()
        }
        // hashbrown stores key + value per bucket plus a control byte; buckets ≈ capacity · 8/7.
        fn map<K, V>(m: &FxHashMap<K, V>) -> usize {
            m.capacity() * 8 / 7 * (std::mem::size_of::<(K, V)>() + 1)
        }
        let dictionaries = [
            &self.ids,
            &self.accounts,
            &self.regions,
            &self.types,
            &self.resource_types,
            &self.resource_keys,
            &self.titles,
        ]
        .iter()
        .map(|d| d.memory_bytes())
        .sum::<usize>();
        let account_names: usize = self.account_info.iter().map(|a| a.name.capacity()).sum();
        dictionaries
            + account_names
            + vec(&self.type_is_attack_sequence)
            + vec(&self.account_info)
            + vec(&self.resources)
            + vec(&self.keyless_resources)
            + map(&self.resource_codes)
            + vec(&self.pairs)
            + map(&self.pair_codes)
            + vec(&self.account)
            + vec(&self.region)
            + vec(&self.finding_type)
            + vec(&self.pair)
            + vec(&self.title)
            + vec(&self.resource)
            + vec(&self.severity)
            + vec(&self.label)
            + vec(&self.flags)
            + vec(&self.triage)
            + vec(&self.updated_at)
            + vec(&self.created_at)
            + vec(&self.first_seen)
            + vec(&self.last_seen)
            + vec(&self.count)
    }

    /// Reserves room for `additional` more rows in every column.
    pub fn reserve(&mut self, additional: usize) {
        self.account.reserve(additional);
        self.region.reserve(additional);
        self.finding_type.reserve(additional);
        self.pair.reserve(additional);
        self.title.reserve(additional);
        self.resource.reserve(additional);
        self.severity.reserve(additional);
        self.label.reserve(additional);
        self.flags.reserve(additional);
        self.triage.reserve(additional);
        self.updated_at.reserve(additional);
        self.created_at.reserve(additional);
        self.first_seen.reserve(additional);
        self.last_seen.reserve(additional);
        self.count.reserve(additional);
    }

    /// Rebuilds the lookup tables a persisted index does not store (see [`crate::persist`]).
    pub(crate) fn relink(&mut self) {
        self.resource_codes = self
            .resources
            .iter()
            .enumerate()
            .map(|(code, entry)| (*entry, code as u32))
            .collect();
        self.pair_codes = self
            .pairs
            .iter()
            .enumerate()
            .map(|(code, pair)| (*pair, code as u32))
            .collect();
    }

    /// Releases spare capacity of the columns (after a bulk build).
    pub fn shrink_to_fit(&mut self) {
        self.account.shrink_to_fit();
        self.region.shrink_to_fit();
        self.finding_type.shrink_to_fit();
        self.pair.shrink_to_fit();
        self.title.shrink_to_fit();
        self.resource.shrink_to_fit();
        self.severity.shrink_to_fit();
        self.label.shrink_to_fit();
        self.flags.shrink_to_fit();
        self.triage.shrink_to_fit();
        self.updated_at.shrink_to_fit();
        self.created_at.shrink_to_fit();
        self.first_seen.shrink_to_fit();
        self.last_seen.shrink_to_fit();
        self.count.shrink_to_fit();
        self.resources.shrink_to_fit();
        self.pairs.shrink_to_fit();
    }

    fn account_code_or_insert(&mut self, id: &str) -> u32 {
        let code = intern(&mut self.accounts, id);
        if code as usize >= self.account_info.len() {
            self.account_info
                .resize(code as usize + 1, AccountInfo::default());
        }
        code
    }

    fn insert_or_replace(&mut self, f: &Finding) -> UpsertOutcome {
        let account = self.account_code_or_insert(&f.account_id);
        let region = intern(&mut self.regions, &f.region);
        let finding_type = intern(&mut self.types, &f.finding_type);
        if finding_type as usize >= self.type_is_attack_sequence.len() {
            self.type_is_attack_sequence.push(f.is_attack_sequence());
        }
        let pair = *self
            .pair_codes
            .entry((account, finding_type))
            .or_insert_with(|| {
                self.pairs.push((account, finding_type));
                self.pairs.len() as u32 - 1
            });
        let title = intern(&mut self.titles, &f.title);
        let entry = ResourceEntry {
            account,
            resource_type: intern(&mut self.resource_types, &f.resource_type),
            key: f
                .resource_key
                .as_deref()
                .map_or(NO_KEY, |k| intern(&mut self.resource_keys, k)),
        };
        let resource = *self.resource_codes.entry(entry).or_insert_with(|| {
            self.resources.push(entry);
            let code = self.resources.len() as u32 - 1;
            if entry.key == NO_KEY {
                self.keyless_resources.push(code);
            }
            code
        });
        let mut flags = 0;
        if f.archived {
            flags |= FLAG_ARCHIVED;
        }
        if f.sample {
            flags |= FLAG_SAMPLE;
        }
        if f.is_attack_sequence() {
            flags |= FLAG_ATTACK_SEQUENCE;
        }
        let day = utc_day(f.updated_at);
        self.day_range = Some(match self.day_range {
            None => (day, day),
            Some((lo, hi)) => (lo.min(day), hi.max(day)),
        });
        let count = u32::try_from(f.count).unwrap_or(u32::MAX);
        let label = SeverityLabel::from_severity(f.severity).index() as u8;

        let existing = self.ids.code(&f.id);
        match existing {
            Some(row) => {
                let r = row as usize;
                if f.updated_at < self.updated_at[r] {
                    return UpsertOutcome::Ignored;
                }
                self.account[r] = account;
                self.region[r] = region;
                self.finding_type[r] = finding_type;
                self.pair[r] = pair;
                self.title[r] = title;
                self.resource[r] = resource;
                self.severity[r] = f.severity;
                self.label[r] = label;
                self.flags[r] = flags;
                self.updated_at[r] = f.updated_at;
                self.created_at[r] = f.created_at;
                self.first_seen[r] = f.first_seen();
                self.last_seen[r] = f.last_seen();
                self.count[r] = count;
                UpsertOutcome::Replaced
            }
            None => {
                intern(&mut self.ids, &f.id);
                self.account.push(account);
                self.region.push(region);
                self.finding_type.push(finding_type);
                self.pair.push(pair);
                self.title.push(title);
                self.resource.push(resource);
                self.severity.push(f.severity);
                self.label.push(label);
                self.flags.push(flags);
                self.triage.push(triage_code(TriageStatus::New));
                self.updated_at.push(f.updated_at);
                self.created_at.push(f.created_at);
                self.first_seen.push(f.first_seen());
                self.last_seen.push(f.last_seen());
                self.count.push(count);
                UpsertOutcome::Inserted
            }
        }
    }
}

impl FromIterator<Finding> for FindingIndex {
    fn from_iter<I: IntoIterator<Item = Finding>>(iter: I) -> Self {
        Self::build(iter)
    }
}

/// Interns into a dictionary shared with older snapshots: copies it only when the string is new
/// (a triage change or a re-sent finding copies no dictionary).
fn intern(dictionary: &mut Arc<Dictionary>, s: &str) -> u32 {
    match dictionary.code(s) {
        Some(code) => code,
        None => Arc::make_mut(dictionary).intern(s),
    }
}

fn triage_code(status: TriageStatus) -> u8 {
    TriageStatus::ALL
        .iter()
        .position(|&s| s == status)
        .unwrap_or(0) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, account: &str, updated_at: i64, severity: f64) -> Finding {
        Finding {
            id: id.into(),
            account_id: account.into(),
            region: "us-east-1".into(),
            finding_type: "Recon:EC2/PortProbeUnprotectedPort".into(),
            severity,
            title: "Unprotected port probed".into(),
            created_at: updated_at - 1000,
            updated_at,
            count: 1,
            resource_type: "Instance".into(),
            resource_key: Some("i-0abc".into()),
            ..Finding::default()
        }
    }

    #[test]
    fn upsert_replaces_with_newer_and_ignores_older() {
        let mut index = FindingIndex::new();
        assert_eq!(
            index.upsert(&finding("a", "111", 2000, 2.0)),
            UpsertOutcome::Inserted
        );
        let g = index.generation();
        assert_eq!(
            index.upsert(&finding("a", "222", 3000, 8.0)),
            UpsertOutcome::Replaced
        );
        assert!(index.generation() > g);
        assert_eq!(index.len(), 1);
        assert_eq!(index.account_id(0), "222");
        assert_eq!(index.severity_label(0), SeverityLabel::High);
        let g = index.generation();
        assert_eq!(
            index.upsert(&finding("a", "333", 1000, 1.0)),
            UpsertOutcome::Ignored
        );
        assert_eq!(index.generation(), g);
        assert_eq!(index.account_id(0), "222");
    }

    #[test]
    fn a_batch_bumps_the_generation_once_and_only_when_something_changed() {
        let mut index = FindingIndex::new();
        let batch = [
            finding("a", "1", 2000, 2.0),
            finding("b", "1", 2000, 5.0),
            finding("a", "1", 3000, 9.0),
        ];
        assert_eq!(index.upsert_batch(&batch), 3);
        assert_eq!(index.generation(), 1);
        assert_eq!(index.len(), 2);
        assert_eq!(index.severity(index.row_id("a").unwrap()), 9.0);
        // Only older versions: nothing changes, no bump.
        assert_eq!(index.upsert_batch(&[finding("a", "1", 1000, 1.0)]), 0);
        assert_eq!(index.generation(), 1);
    }

    #[test]
    fn triage_survives_replacement_and_unknown_id_is_an_error() {
        let mut index = FindingIndex::build([finding("a", "111", 2000, 2.0)]);
        index.set_triage("a", TriageStatus::Resolved).unwrap();
        index.upsert(&finding("a", "111", 5000, 2.0));
        assert_eq!(index.triage(0), TriageStatus::Resolved);
        let err = index.set_triage("nope", TriageStatus::New).unwrap_err();
        assert_eq!(err.code(), "unknown_finding");
        assert!(err.to_string().contains("nope"));
    }

    #[test]
    fn accessors_return_what_was_indexed() {
        let mut f = finding("x", "111", 1_704_067_200_000, 9.5);
        f.event_first_seen = Some(5);
        f.count = u64::MAX;
        f.archived = true;
        f.finding_type = "AttackSequence:IAM/CompromisedCredentials".into();
        let mut index = FindingIndex::build([f]);
        index.set_accounts(&[Account {
            id: "111".into(),
            name: "prod".into(),
            owner: String::new(),
            criticality: Criticality::High,
        }]);
        let row = index.row_id("x").unwrap();
        assert_eq!(index.id(row), "x");
        assert_eq!(index.first_seen(row), 5);
        assert_eq!(index.last_seen(row), 1_704_067_200_000);
        assert_eq!(index.count(row), u64::from(u32::MAX));
        assert!(index.archived(row));
        assert!(!index.sample(row));
        assert!(index.is_attack_sequence(row));
        assert_eq!(index.account_criticality(row), Criticality::High);
        assert_eq!(index.resource_key(row), Some("i-0abc"));
        assert_eq!(index.resource_type(row), "Instance");
        assert_eq!(index.region(row), "us-east-1");
        assert!(index.memory_bytes() > 0);
    }
}
