//! The summary dashboard: every GuardDuty console widget, org-wide, for any filter, in one scan.
//!
//! One pass over the rows evaluates the filter on dictionary codes and feeds dense counters indexed
//! by code (accounts, finding types, `(account, type)` pairs, resources, days). A second, short pass
//! over the matching rows fills the details of the top resources only; a third pass, only when the
//! filter has a period start, finds the first sighting of each `(account, type)` pair for "new types".

use gdlens_domain::time::{format_day, utc_day, EpochMillis};
use gdlens_domain::{Criticality, FindingFilter, Scope, SeverityLabel};
use serde::Serialize;

use crate::cells::{CellVerdict, Cells};
use crate::index::{FindingIndex, FLAG_ATTACK_SEQUENCE, FLAG_SAMPLE};
use crate::query::RowPredicate;

/// Above this many days between the first and the last day with findings, the severity trend lists
/// only days with findings instead of every day (a stray 1970 timestamp must not yield 20,000 points).
const MAX_FILLED_TREND_DAYS: i32 = 3660;
/// Above this many days the per-day counters use a sorted map instead of a dense array.
const MAX_DENSE_DAYS: i64 = 40_000;

/// Knobs of a summary computation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SummaryOptions {
    /// Size of every top-N list (`topFindingTypes`, `topResources`, `topAccounts`, `leastFrequentTypes`).
    pub limit: usize,
    /// "Now" (epoch ms): the end of the period when the filter has `updatedSince` but no `updatedBefore`.
    pub now_ms: EpochMillis,
    /// `leastFrequentTypes` counts only findings at or above this severity. The console defaults
    /// that widget to High and above (7.0); `None` counts every matching finding.
    pub least_frequent_min_severity: Option<f64>,
    /// At most this many `newTypes` entries (most recent first).
    pub new_types_limit: usize,
    /// Indexes with at least this many rows are scanned in two halves on two threads;
    /// `usize::MAX` keeps the summary on the calling thread.
    pub parallel_min_rows: usize,
}

impl SummaryOptions {
    /// Defaults: top 10, least frequent types from High (7.0) up, at most 100 new types.
    pub fn new(now_ms: EpochMillis) -> Self {
        SummaryOptions {
            limit: 10,
            now_ms,
            least_frequent_min_severity: Some(SeverityLabel::High.min_severity()),
            new_types_limit: 100,
            parallel_min_rows: PARALLEL_MIN_ROWS,
        }
    }
}

/// Counts per severity label.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeverityCounts {
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub critical: u64,
}

impl SeverityCounts {
    /// From counters indexed by [`SeverityLabel::index`].
    pub fn from_array(c: [u64; 4]) -> Self {
        SeverityCounts {
            low: c[0],
            medium: c[1],
            high: c[2],
            critical: c[3],
        }
    }

    /// Sum over labels.
    pub fn total(&self) -> u64 {
        self.low + self.medium + self.high + self.critical
    }
}

/// Signed change per severity label (current period minus previous period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeverityDelta {
    pub low: i64,
    pub medium: i64,
    pub high: i64,
    pub critical: i64,
}

/// One day of the severity trend (UTC day of `updatedAt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SeverityTrendPoint {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub low: u64,
    pub medium: u64,
    pub high: u64,
    pub critical: u64,
}

/// A finding type in `topFindingTypes` or `leastFrequentTypes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FindingTypeStat {
    #[serde(rename = "type")]
    pub finding_type: String,
    pub count: u64,
    pub max_severity: f64,
    /// Distinct accounts with this type.
    pub accounts: u64,
    /// Latest last-seen (`eventLastSeen`, else `updatedAt`), epoch ms.
    pub last_seen: EpochMillis,
}

/// A resource in `topResources`: one resource key of one resource type in one account.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceStat {
    pub resource_key: String,
    pub resource_type: String,
    pub account_id: String,
    pub count: u64,
    pub distinct_types: u64,
    pub max_severity: f64,
}

/// An account in `topAccounts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountStat {
    pub account_id: String,
    /// From the account config; empty when unknown.
    pub name: String,
    pub criticality: Criticality,
    pub count: u64,
    pub by_severity: SeverityCounts,
}

/// A finding type seen in an account for the first time within the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewType {
    #[serde(rename = "type")]
    pub finding_type: String,
    pub account_id: String,
    /// The first sighting of this type in this account (epoch ms).
    pub first_seen: EpochMillis,
}

/// A half-open time range `[since, before)` on `updatedAt`, epoch ms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Period {
    pub since: EpochMillis,
    pub before: EpochMillis,
}

/// The previous period of the same length and the change against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodChange {
    pub previous: Period,
    pub previous_total: u64,
    pub previous_by_severity: SeverityCounts,
    /// Current total minus previous total.
    pub total_delta: i64,
    pub by_severity_delta: SeverityDelta,
}

/// The summary dashboard for one filter and scope.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// The index generation this summary was computed at.
    pub generation: u64,
    pub total: u64,
    pub by_severity: SeverityCounts,
    pub accounts_affected: u64,
    pub resources_affected: u64,
    pub attack_sequences: u64,
    /// Finding groups touching the filtered findings: filled by the API from the correlation
    /// crate; the index leaves it `None`.
    pub finding_groups: Option<u64>,
    pub severity_trend: Vec<SeverityTrendPoint>,
    pub top_finding_types: Vec<FindingTypeStat>,
    pub top_resources: Vec<ResourceStat>,
    pub top_accounts: Vec<AccountStat>,
    pub least_frequent_types: Vec<FindingTypeStat>,
    /// The severity floor `leastFrequentTypes` was computed with.
    pub least_frequent_min_severity: Option<f64>,
    /// Empty unless the filter has `updatedSince`.
    pub new_types: Vec<NewType>,
    /// The filter's period (`updatedSince` to `updatedBefore` or now); `None` without `updatedSince`.
    pub period: Option<Period>,
    /// Change against the previous period of the same length; `None` without a period.
    pub change: Option<PeriodChange>,
}

/// Per finding type counters of the main pass.
#[derive(Clone, Copy)]
struct TypeCounter {
    count: u32,
    /// Findings at or above the least-frequent severity floor.
    floor_count: u32,
    max_severity: f64,
    last_seen: EpochMillis,
    floor_last_seen: EpochMillis,
}

const EMPTY_TYPE: TypeCounter = TypeCounter {
    count: 0,
    floor_count: 0,
    max_severity: f64::NEG_INFINITY,
    last_seen: EpochMillis::MIN,
    floor_last_seen: EpochMillis::MIN,
};

/// Pair bit: the `(account, type)` pair has a matching finding in the period.
const PAIR_HIT: u8 = 1;
/// Pair bit: … at or above the least-frequent severity floor.
const PAIR_FLOOR_HIT: u8 = 2;

/// Per-day counters: dense over the index's day range, or a map when that range is absurd.
enum DayCounts {
    Dense {
        first_day: i32,
        counts: Vec<[u32; 4]>,
    },
    Sparse(std::collections::BTreeMap<i32, [u32; 4]>),
}

impl DayCounts {
    fn new(range: Option<(i32, i32)>) -> Self {
        match range {
            Some((lo, hi)) if i64::from(hi) - i64::from(lo) < MAX_DENSE_DAYS => DayCounts::Dense {
                first_day: lo,
                counts: vec![[0; 4]; (hi - lo + 1) as usize],
            },
            _ => DayCounts::Sparse(Default::default()),
        }
    }

    /// Adds the counts of `other` (built over the same index, so the same layout).
    fn merge(&mut self, other: DayCounts) {
        match (self, other) {
            (DayCounts::Dense { counts, .. }, DayCounts::Dense { counts: more, .. }) => {
                for (a, b) in counts.iter_mut().zip(more) {
                    for i in 0..4 {
                        a[i] += b[i];
                    }
                }
            }
            (DayCounts::Sparse(map), DayCounts::Sparse(more)) => {
                for (day, b) in more {
                    let a = map.entry(day).or_default();
                    for i in 0..4 {
                        a[i] += b[i];
                    }
                }
            }
            _ => unreachable!("day counters of one index share their layout"),
        }
    }

    #[inline]
    fn add(&mut self, day: i32, label: usize) {
        self.add_n(day, label, 1);
    }

    #[inline]
    fn add_n(&mut self, day: i32, label: usize, n: u32) {
        match self {
            DayCounts::Dense { first_day, counts } => {
                counts[(day - *first_day) as usize][label] += n
            }
            DayCounts::Sparse(map) => map.entry(day).or_default()[label] += n,
        }
    }

    fn into_points(self) -> Vec<SeverityTrendPoint> {
        let days: Vec<(i32, [u32; 4])> = match self {
            DayCounts::Dense { first_day, counts } => counts
                .into_iter()
                .enumerate()
                .map(|(i, c)| (first_day + i as i32, c))
                .filter(|(_, c)| c.iter().any(|&n| n > 0))
                .collect(),
            DayCounts::Sparse(map) => map.into_iter().collect(),
        };
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Vec::new();
        };
        let point = |day: i32, c: [u32; 4]| SeverityTrendPoint {
            date: format_day(day),
            low: c[0].into(),
            medium: c[1].into(),
            high: c[2].into(),
            critical: c[3].into(),
        };
        if last.0 - first.0 >= MAX_FILLED_TREND_DAYS {
            return days.into_iter().map(|(d, c)| point(d, c)).collect();
        }
        // Fill the quiet days in between with zeros so a chart's x axis is continuous.
        let mut out = Vec::with_capacity((last.0 - first.0 + 1) as usize);
        let mut next = days.iter().peekable();
        for day in first.0..=last.0 {
            match next.peek() {
                Some(&&(d, c)) if d == day => {
                    out.push(point(d, c));
                    next.next();
                }
                _ => out.push(point(day, [0; 4])),
            }
        }
        out
    }
}

/// Default of [`SummaryOptions::parallel_min_rows`]: below it a second thread costs more than it saves.
const PARALLEL_MIN_ROWS: usize = 100_000;

/// A cell scan splits over two threads from `parallel_min_rows` × this many rows.
const CELL_SCAN_SPLIT: usize = 20;

/// Copies of the hot per-account and per-day counters in a scan (see `FindingIndex::scan`).
const LANES: usize = 4;

/// The time windows and severity floor a scan classifies rows by.
struct ScanWindow {
    /// `[since, before)` of the previous period (`(0, 0)` when there is none).
    previous: (EpochMillis, EpochMillis),
    floor: f64,
}

/// Counters of one scan over a range of rows; two scans merge into the scan of both ranges.
struct Scan {
    by_label: [u64; 4],
    previous_by_label: [u64; 4],
    attack_sequences: u64,
    /// By account code.
    account_labels: Vec<[u32; 4]>,
    /// By type code.
    type_counters: Vec<TypeCounter>,
    /// By pair code: [`PAIR_HIT`] | [`PAIR_FLOOR_HIT`].
    pair_hits: Vec<u8>,
    /// By resource code.
    resource_counts: Vec<u32>,
    days: DayCounts,
    /// What passed the filter in the period.
    matched: Matched,
}

/// The findings a scan matched, for the second pass over the top resources.
enum Matched {
    /// Rows, ascending (the row scan).
    Rows(Vec<u32>),
    /// Entry ranges of cells, with their cell (the cell scan).
    Entries(Vec<(u32, std::ops::Range<usize>)>),
}

impl Matched {
    fn extend(&mut self, other: Matched) {
        match (self, other) {
            (Matched::Rows(a), Matched::Rows(b)) => a.extend_from_slice(&b),
            (Matched::Entries(a), Matched::Entries(b)) => a.extend(b),
            _ => unreachable!("two halves of one summary scan the same way"),
        }
    }
}

impl Scan {
    fn new(index: &FindingIndex) -> Self {
        Scan {
            by_label: [0; 4],
            previous_by_label: [0; 4],
            attack_sequences: 0,
            account_labels: vec![[0; 4]; index.accounts.len()],
            type_counters: vec![EMPTY_TYPE; index.types.len()],
            pair_hits: vec![0; index.pairs.len()],
            resource_counts: vec![0; index.resources.len()],
            days: DayCounts::new(index.day_range),
            matched: Matched::Rows(Vec::new()),
        }
    }

    /// Adds the counters of `other`, a scan of the rows after this one's.
    fn merge(&mut self, other: Scan) {
        for i in 0..4 {
            self.by_label[i] += other.by_label[i];
            self.previous_by_label[i] += other.previous_by_label[i];
        }
        self.attack_sequences += other.attack_sequences;
        for (a, b) in self.account_labels.iter_mut().zip(&other.account_labels) {
            for i in 0..4 {
                a[i] += b[i];
            }
        }
        for (a, b) in self.type_counters.iter_mut().zip(&other.type_counters) {
            a.count += b.count;
            a.floor_count += b.floor_count;
            a.max_severity = a.max_severity.max(b.max_severity);
            a.last_seen = a.last_seen.max(b.last_seen);
            a.floor_last_seen = a.floor_last_seen.max(b.floor_last_seen);
        }
        for (a, b) in self.pair_hits.iter_mut().zip(&other.pair_hits) {
            *a |= b;
        }
        for (a, b) in self.resource_counts.iter_mut().zip(&other.resource_counts) {
            *a += b;
        }
        self.days.merge(other.days);
        self.matched.extend(other.matched);
    }
}

impl FindingIndex {
    /// One pass over `rows`: the filter on dictionary codes, then dense counters by code.
    fn scan(&self, p: &RowPredicate, window: &ScanWindow, rows: std::ops::Range<usize>) -> Scan {
        let mut scan = Scan::new(self);
        let mut matched = Vec::new();
        let (prev_since, prev_before) = window.previous;
        let floor = window.floor;
        // Without a time range every row is current: skip reading `updated_at` for rows that fail.
        let timed = p.has_time_range() || prev_since < prev_before;
        // The per-account and per-day counters take one increment per row, and consecutive rows
        // often hit the same counter (noisy accounts, busy days): each increment would wait for the
        // previous one. Spreading them over LANES copies (by row) breaks that chain; folded below.
        let mut account_lanes = vec![[0u32; 4]; scan.account_labels.len() * LANES];
        let dense_days = match &scan.days {
            DayCounts::Dense { first_day, counts } => Some((*first_day, counts.len())),
            DayCounts::Sparse(_) => None,
        };
        let first_day = dense_days.map_or(0, |(first, _)| first);
        let mut day_lanes = vec![[0u32; 4]; dense_days.map_or(0, |(_, n)| n * LANES)];
        for row in rows {
            let (current, in_previous) = if timed {
                let t = self.updated_at[row];
                (p.in_time_range(t), t >= prev_since && t < prev_before)
            } else {
                (true, false)
            };
            if !(current || in_previous) || !p.matches_except_time(self, row) {
                continue;
            }
            let label = self.label[row] as usize;
            if !current {
                scan.previous_by_label[label] += 1;
                continue;
            }
            matched.push(row as u32);
            scan.by_label[label] += 1;
            scan.attack_sequences += u64::from(self.flags[row] & FLAG_ATTACK_SEQUENCE != 0);
            let lane = row % LANES;
            account_lanes[self.account[row] as usize * LANES + lane][label] += 1;
            let severity = self.severity[row];
            let last_seen = self.last_seen[row];
            let tc = &mut scan.type_counters[self.finding_type[row] as usize];
            tc.count += 1;
            tc.max_severity = tc.max_severity.max(severity);
            tc.last_seen = tc.last_seen.max(last_seen);
            let pair = &mut scan.pair_hits[self.pair[row] as usize];
            *pair |= PAIR_HIT;
            if severity >= floor {
                tc.floor_count += 1;
                tc.floor_last_seen = tc.floor_last_seen.max(last_seen);
                *pair |= PAIR_FLOOR_HIT;
            }
            let day = utc_day(self.updated_at[row]);
            if dense_days.is_some() {
                day_lanes[(day - first_day) as usize * LANES + lane][label] += 1;
            } else {
                scan.days.add(day, label);
            }
        }
        for (total, lanes) in scan
            .account_labels
            .iter_mut()
            .zip(account_lanes.chunks_exact(LANES))
        {
            for lane in lanes {
                for i in 0..4 {
                    total[i] += lane[i];
                }
            }
        }
        if let DayCounts::Dense { counts, .. } = &mut scan.days {
            for (total, lanes) in counts.iter_mut().zip(day_lanes.chunks_exact(LANES)) {
                for lane in lanes {
                    for i in 0..4 {
                        total[i] += lane[i];
                    }
                }
            }
        }
        // Resource counters are the one large, randomly hit array: counting them in a tight loop of
        // its own lets the CPU keep many cache misses in flight instead of one per filtered row.
        let (resource, counts) = (&self.resource, &mut scan.resource_counts);
        for &row in &matched {
            counts[resource[row as usize] as usize] += 1;
        }
        scan.matched = Matched::Rows(matched);
        scan
    }

    /// [`FindingIndex::scan`] over `cells` (built from this index, for a filter that does not
    /// need rows): the filter and every counter keyed by what a cell's rows share take one step
    /// per cell; only the trend day and the resource are read per row.
    fn scan_cells(
        &self,
        cells: &Cells,
        p: &RowPredicate,
        window: &ScanWindow,
        range: std::ops::Range<usize>,
    ) -> Scan {
        let mut scan = Scan::new(self);
        let mut matched = Vec::new();
        let (prev_since, prev_before) = window.previous;
        let timed = p.has_time_range();
        let verdicts = p.cell_verdicts(cells, range.clone());
        for (c, verdict) in range.zip(verdicts) {
            // No `search` here (it needs rows), so a cell is all in or all out.
            if verdict != CellVerdict::Yes {
                continue;
            }
            let label = cells.label[c] as usize;
            if prev_since < prev_before {
                scan.previous_by_label[label] +=
                    cells.entries_in(c, prev_since, prev_before).len() as u64;
            }
            let entries = cells.entries_in(c, p.since, p.before);
            let n = entries.len() as u32;
            if n == 0 {
                continue;
            }
            let whole = !timed || entries.len() == cells.cell_len(c);
            let last_seen = if whole {
                cells.max_last_seen[c]
            } else {
                cells.last_seen[entries.clone()]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(EpochMillis::MIN)
            };
            scan.by_label[label] += u64::from(n);
            if cells.flags[c] & FLAG_ATTACK_SEQUENCE != 0 {
                scan.attack_sequences += u64::from(n);
            }
            scan.account_labels[cells.account[c] as usize][label] += n;
            let severity = cells.severity[c];
            let tc = &mut scan.type_counters[cells.finding_type[c] as usize];
            tc.count += n;
            tc.max_severity = tc.max_severity.max(severity);
            tc.last_seen = tc.last_seen.max(last_seen);
            let pair = &mut scan.pair_hits[cells.pair[c] as usize];
            *pair |= PAIR_HIT;
            if severity >= window.floor {
                tc.floor_count += n;
                tc.floor_last_seen = tc.floor_last_seen.max(last_seen);
                *pair |= PAIR_FLOOR_HIT;
            }
            // A cell's entries are in time order: count each day's run with one addition.
            let times = &cells.updated_at[entries.clone()];
            let mut day = utc_day(times[0]);
            let mut run = 0u32;
            for &t in times {
                let d = utc_day(t);
                if d != day {
                    scan.days.add_n(day, label, run);
                    day = d;
                    run = 0;
                }
                run += 1;
            }
            scan.days.add_n(day, label, run);
            for &r in &cells.resource[entries.clone()] {
                scan.resource_counts[r as usize] += 1;
            }
            matched.push((c as u32, entries));
        }
        scan.matched = Matched::Entries(matched);
        scan
    }

    /// Computes every summary widget for the findings matching `filter` within `scope`.
    pub fn summary(
        &self,
        filter: &FindingFilter,
        scope: &Scope,
        options: &SummaryOptions,
    ) -> Summary {
        self.summary_with(None, filter, scope, options)
    }

    /// [`FindingIndex::summary`], from `cells` where they answer for this index and the filter
    /// reads nothing per row but time and resource (no `search`, no `resourceKey`). The result is
    /// the same either way.
    pub fn summary_with(
        &self,
        cells: Option<&Cells>,
        filter: &FindingFilter,
        scope: &Scope,
        options: &SummaryOptions,
    ) -> Summary {
        let p = RowPredicate::compile(self, filter, scope, None);
        let cells = cells.filter(|c| c.answers_for(self) && !p.needs_rows());
        let period = filter.updated_since.map(|since| Period {
            since,
            before: filter.updated_before.unwrap_or(options.now_ms).max(since),
        });
        let previous = period.map(|cur| Period {
            since: cur.since - (cur.before - cur.since),
            before: cur.since,
        });
        let floor = options
            .least_frequent_min_severity
            .unwrap_or(f64::NEG_INFINITY);

        let window = ScanWindow {
            previous: previous.map_or((0, 0), |p| (p.since, p.before)),
            floor,
        };
        let Scan {
            by_label,
            previous_by_label,
            attack_sequences,
            account_labels,
            type_counters,
            pair_hits,
            mut resource_counts,
            days,
            matched,
        } = if p.impossible {
            Scan::new(self)
        } else if let Some(cells) = cells {
            // A cell scan is a few milliseconds at 1M rows: under concurrent requests a second
            // thread per summary costs more than it saves, so only very large indexes split it.
            if self.len()
                < options
                    .parallel_min_rows
                    .max(2)
                    .saturating_mul(CELL_SCAN_SPLIT)
            {
                self.scan_cells(cells, &p, &window, 0..cells.len())
            } else {
                let (lower, upper) = cells.halves();
                std::thread::scope(|s| {
                    let upper = s.spawn(|| self.scan_cells(cells, &p, &window, upper));
                    let mut lower = self.scan_cells(cells, &p, &window, lower);
                    lower.merge(upper.join().expect("summary scan thread panicked"));
                    lower
                })
            }
        } else if self.len() < options.parallel_min_rows.max(2) {
            self.scan(&p, &window, 0..self.len())
        } else {
            // Two chunks on two threads (the machine has two cores), merged in row order.
            let mid = self.len() / 2;
            std::thread::scope(|s| {
                let upper = s.spawn(|| self.scan(&p, &window, mid..self.len()));
                let mut lower = self.scan(&p, &window, 0..mid);
                lower.merge(upper.join().expect("summary scan thread panicked"));
                lower
            })
        };

        let total: u64 = by_label.iter().sum();
        let by_severity = SeverityCounts::from_array(by_label);
        // Key-less entries only carry the resource type of findings that name no resource.
        for &code in &self.keyless_resources {
            resource_counts[code as usize] = 0;
        }
        let resources_affected = resource_counts.iter().filter(|&&n| n > 0).count() as u64;
        let accounts_affected = account_labels
            .iter()
            .filter(|c| c.iter().any(|&n| n > 0))
            .count() as u64;

        // Distinct accounts per type, overall and above the least-frequent floor.
        let mut type_accounts = vec![[0u64; 2]; self.types.len()];
        for (code, &hit) in pair_hits.iter().enumerate() {
            let ty = self.pairs[code].1 as usize;
            type_accounts[ty][0] += u64::from(hit & PAIR_HIT != 0);
            type_accounts[ty][1] += u64::from(hit & PAIR_FLOOR_HIT != 0);
        }

        let type_key = |code: u32| self.types.get(code);
        let top_types = top_by_count(
            type_counters
                .iter()
                .enumerate()
                .map(|(c, t)| (c as u32, u64::from(t.count))),
            options.limit,
            CountOrder::Descending,
            type_key,
        );
        let top_finding_types = top_types
            .into_iter()
            .map(|(code, count)| {
                let t = &type_counters[code as usize];
                FindingTypeStat {
                    finding_type: self.types.get(code).to_string(),
                    count,
                    max_severity: t.max_severity,
                    accounts: type_accounts[code as usize][0],
                    last_seen: t.last_seen,
                }
            })
            .collect();
        let least = top_by_count(
            type_counters
                .iter()
                .enumerate()
                .map(|(c, t)| (c as u32, u64::from(t.floor_count))),
            options.limit,
            CountOrder::Ascending,
            type_key,
        );
        let least_frequent_types = least
            .into_iter()
            .map(|(code, count)| {
                let t = &type_counters[code as usize];
                FindingTypeStat {
                    finding_type: self.types.get(code).to_string(),
                    count,
                    // The floor only removes lower severities, so the type's maximum is unchanged.
                    max_severity: t.max_severity,
                    accounts: type_accounts[code as usize][1],
                    last_seen: t.floor_last_seen,
                }
            })
            .collect();

        let top_accounts = top_by_count(
            account_labels
                .iter()
                .enumerate()
                .map(|(c, l)| (c as u32, l.iter().map(|&n| u64::from(n)).sum())),
            options.limit,
            CountOrder::Descending,
            |code| self.accounts.get(code),
        )
        .into_iter()
        .map(|(code, count)| {
            let info = &self.account_info[code as usize];
            let l = account_labels[code as usize];
            AccountStat {
                account_id: self.accounts.get(code).to_string(),
                name: info.name.clone(),
                criticality: info.criticality,
                count,
                by_severity: SeverityCounts::from_array(l.map(u64::from)),
            }
        })
        .collect();

        let top_resources = match (&matched, cells) {
            (Matched::Rows(rows), _) => {
                self.top_resources(&resource_counts, options.limit, |slot_of, record| {
                    for &row in rows {
                        let row = row as usize;
                        let slot = slot_of[self.resource[row] as usize];
                        if slot != 0 {
                            record(
                                usize::from(slot - 1),
                                self.finding_type[row],
                                self.severity[row],
                            );
                        }
                    }
                })
            }
            // Without a time range a matched cell matched whole: each top resource's details
            // come from its few distinct cells, not from every matched row.
            (Matched::Entries(entries), Some(cells)) if !p.has_time_range() => {
                let mut hit = vec![0u64; cells.len().div_ceil(64)];
                for (c, _) in entries {
                    hit[*c as usize / 64] |= 1 << (c % 64);
                }
                self.top_resources(&resource_counts, options.limit, |slot_of, record| {
                    for (r, &slot) in slot_of.iter().enumerate().filter(|(_, &s)| s != 0) {
                        for &c in cells.cells_of_resource(r as u32) {
                            if hit[c as usize / 64] & (1 << (c % 64)) != 0 {
                                let c = c as usize;
                                record(
                                    usize::from(slot - 1),
                                    cells.finding_type[c],
                                    cells.severity[c],
                                );
                            }
                        }
                    }
                })
            }
            (Matched::Entries(entries), Some(cells)) => {
                self.top_resources(&resource_counts, options.limit, |slot_of, record| {
                    for (c, range) in entries {
                        let c = *c as usize;
                        for &r in &cells.resource[range.clone()] {
                            let slot = slot_of[r as usize];
                            if slot != 0 {
                                record(
                                    usize::from(slot - 1),
                                    cells.finding_type[c],
                                    cells.severity[c],
                                );
                            }
                        }
                    }
                })
            }
            (Matched::Entries(_), None) => unreachable!("only a cell scan matches entries"),
        };
        let new_types = match period {
            Some(period) => self.new_types(&pair_hits, &p, period, options.new_types_limit),
            None => Vec::new(),
        };
        let change = previous.map(|prev| {
            let delta = |i: usize| by_label[i] as i64 - previous_by_label[i] as i64;
            let previous_total: u64 = previous_by_label.iter().sum();
            PeriodChange {
                previous: prev,
                previous_total,
                previous_by_severity: SeverityCounts::from_array(previous_by_label),
                total_delta: total as i64 - previous_total as i64,
                by_severity_delta: SeverityDelta {
                    low: delta(0),
                    medium: delta(1),
                    high: delta(2),
                    critical: delta(3),
                },
            }
        });

        Summary {
            generation: self.generation(),
            total,
            by_severity,
            accounts_affected,
            resources_affected,
            attack_sequences,
            finding_groups: None,
            severity_trend: days.into_points(),
            top_finding_types,
            top_resources,
            top_accounts,
            least_frequent_types,
            least_frequent_min_severity: options.least_frequent_min_severity,
            new_types,
            period,
            change,
        }
    }

    /// The top resources by count, with their distinct types and highest severity from
    /// `each_match(slot_of, record)`: a pass over the matching findings that calls `record(slot,
    /// type, severity)` for those whose resource `r` has `slot_of[r] = slot + 1` (0: not a top
    /// resource).
    fn top_resources(
        &self,
        counts: &[u32],
        limit: usize,
        each_match: impl FnOnce(&[u16], &mut dyn FnMut(usize, u32, f64)),
    ) -> Vec<ResourceStat> {
        let top = top_by_count(
            counts
                .iter()
                .enumerate()
                .map(|(c, &n)| (c as u32, u64::from(n))),
            // Slots are numbered in a u16.
            limit.min(usize::from(u16::MAX) - 1),
            CountOrder::Descending,
            |code| {
                let r = &self.resources[code as usize];
                (
                    self.resource_keys.get(r.key),
                    self.accounts.get(r.account),
                    self.resource_types.get(r.resource_type),
                )
            },
        );
        if top.is_empty() {
            return Vec::new();
        }
        let mut slot_of = vec![0u16; counts.len()];
        for (slot, &(code, _)) in top.iter().enumerate() {
            slot_of[code as usize] = slot as u16 + 1;
        }
        let n_types = self.types.len();
        let mut seen_types = vec![false; top.len() * n_types];
        let mut distinct = vec![0u64; top.len()];
        let mut max_severity = vec![f64::NEG_INFINITY; top.len()];
        each_match(&slot_of, &mut |slot, finding_type, severity| {
            max_severity[slot] = max_severity[slot].max(severity);
            let seen = &mut seen_types[slot * n_types + finding_type as usize];
            distinct[slot] += u64::from(!*seen);
            *seen = true;
        });
        top.iter()
            .enumerate()
            .map(|(slot, &(code, count))| {
                let r = &self.resources[code as usize];
                ResourceStat {
                    resource_key: self.resource_keys.get(r.key).to_string(),
                    resource_type: self.resource_types.get(r.resource_type).to_string(),
                    account_id: self.accounts.get(r.account).to_string(),
                    count,
                    distinct_types: distinct[slot],
                    max_severity: max_severity[slot],
                }
            })
            .collect()
    }

    /// `(account, type)` pairs with a matching finding in the period whose first sighting, over every
    /// finding of that account and type in the index (archived too; samples only when the filter
    /// includes them; no other condition), is not before the period start.
    fn new_types(
        &self,
        pair_hits: &[u8],
        p: &RowPredicate,
        period: Period,
        limit: usize,
    ) -> Vec<NewType> {
        let mut first_seen = vec![EpochMillis::MAX; self.pairs.len()];
        let include_samples = p.include_samples();
        for row in 0..self.len() {
            let pair = self.pair[row] as usize;
            if pair_hits[pair] & PAIR_HIT == 0
                || (!include_samples && self.flags[row] & FLAG_SAMPLE != 0)
            {
                continue;
            }
            first_seen[pair] = first_seen[pair].min(self.first_seen[row]);
        }
        let mut new: Vec<NewType> = pair_hits
            .iter()
            .enumerate()
            .filter(|&(code, &hit)| hit & PAIR_HIT != 0 && first_seen[code] >= period.since)
            .map(|(code, _)| {
                let (account, ty) = self.pairs[code];
                NewType {
                    finding_type: self.types.get(ty).to_string(),
                    account_id: self.accounts.get(account).to_string(),
                    first_seen: first_seen[code],
                }
            })
            .collect();
        new.sort_by(|a, b| {
            b.first_seen
                .cmp(&a.first_seen)
                .then_with(|| a.finding_type.cmp(&b.finding_type))
                .then_with(|| a.account_id.cmp(&b.account_id))
        });
        new.truncate(limit);
        new
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CountOrder {
    Descending,
    Ascending,
}

/// The first `n` `(code, count)` entries with a non-zero count in `order`, ties by `key` ascending.
/// Keeps a sorted buffer of at most `n`, so most candidates are rejected on the count alone.
fn top_by_count<K: Ord>(
    candidates: impl Iterator<Item = (u32, u64)>,
    n: usize,
    order: CountOrder,
    key: impl Fn(u32) -> K,
) -> Vec<(u32, u64)> {
    let before = |a: (u32, u64), b: (u32, u64)| -> bool {
        if a.1 != b.1 {
            return (a.1 > b.1) == (order == CountOrder::Descending);
        }
        key(a.0) < key(b.0)
    };
    let mut best: Vec<(u32, u64)> = Vec::with_capacity(n + 1);
    if n == 0 {
        return best;
    }
    for candidate in candidates.filter(|c| c.1 > 0) {
        if best.len() == n && !before(candidate, best[n - 1]) {
            continue;
        }
        let at = best.partition_point(|&e| before(e, candidate));
        best.insert(at, candidate);
        best.truncate(n);
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_by_count_breaks_ties_by_key() {
        let keys = ["d", "a", "c", "b", "e"];
        let counts = [(0, 5), (1, 2), (2, 5), (3, 2), (4, 0)];
        let top = top_by_count(counts.into_iter(), 3, CountOrder::Descending, |c| {
            keys[c as usize]
        });
        assert_eq!(top, vec![(2, 5), (0, 5), (1, 2)]);
        let least = top_by_count(counts.into_iter(), 3, CountOrder::Ascending, |c| {
            keys[c as usize]
        });
        assert_eq!(least, vec![(1, 2), (3, 2), (2, 5)]);
        assert!(top_by_count(counts.into_iter(), 0, CountOrder::Ascending, |c| c).is_empty());
    }

    #[test]
    fn trend_fills_quiet_days_within_the_range() {
        let mut d = DayCounts::new(Some((100, 110)));
        d.add(101, 0);
        d.add(103, 3);
        d.add(103, 3);
        let points = d.into_points();
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].low, 1);
        assert_eq!((points[1].low, points[1].critical), (0, 0));
        assert_eq!(points[2].critical, 2);
        assert_eq!(points[2].date, format_day(103));
    }

    #[test]
    fn trend_lists_only_busy_days_over_a_huge_range() {
        let mut d = DayCounts::new(Some((0, 20_000)));
        d.add(0, 1);
        d.add(20_000, 2);
        let points = d.into_points();
        assert_eq!(points.len(), 2);
        assert_eq!(points[0].date, "1970-01-01");
    }
}
