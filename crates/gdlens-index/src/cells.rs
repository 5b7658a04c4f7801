//! Pre-aggregation for summaries and counts: the rows grouped into cells.
//!
//! A cell holds every row that shares each value a filter condition or a summary counter reads
//! per row, except time and resource: account, region, finding type, severity, flags, triage status
//! and resource type. A filter without `search` or `resourceKey` is then decided once per cell
//! instead of once per row, and every counter keyed by those values takes one addition per cell.
//! Only what varies within a cell is read per row, from entry columns laid out cell by cell: the
//! resource (for `topResources` and `resourcesAffected`) and `updatedAt` (for the severity trend
//! and time ranges; each cell's rows are sorted by it, so a time range is two binary searches).
//!
//! At 1,000,000 generated findings there are about 10 rows per cell. Cells are built from one
//! index generation ([`Cells::build`], tens of milliseconds at 1M) and answer only for that
//! generation: results are exactly those of the row scan (a property test holds both to the naive
//! recomputation).

use gdlens_domain::time::EpochMillis;
use rustc_hash::FxHashMap;

use crate::index::FindingIndex;
use crate::query::RowPredicate;

/// The rows of one index generation grouped by every per-row value filters and counters read,
/// except time and resource.
#[derive(Debug, Clone, Default)]
pub struct Cells {
    generation: u64,
    // By cell: the values all its rows share.
    pub(crate) account: Vec<u32>,
    pub(crate) region: Vec<u32>,
    pub(crate) finding_type: Vec<u32>,
    pub(crate) pair: Vec<u32>,
    pub(crate) resource_type: Vec<u32>,
    pub(crate) severity: Vec<f64>,
    pub(crate) label: Vec<u8>,
    pub(crate) flags: Vec<u8>,
    pub(crate) triage: Vec<u8>,
    /// Latest `last_seen` of the cell's rows.
    pub(crate) max_last_seen: Vec<EpochMillis>,
    /// The entries of cell `c` are `start[c]..start[c + 1]`.
    pub(crate) start: Vec<u32>,
    // By entry: the rows of each cell, by `updated_at` ascending (ties by row).
    pub(crate) row: Vec<u32>,
    pub(crate) updated_at: Vec<EpochMillis>,
    pub(crate) last_seen: Vec<EpochMillis>,
    pub(crate) resource: Vec<u32>,
    pub(crate) title: Vec<u32>,
    /// By row: its cell.
    pub(crate) cell_of_row: Vec<u32>,
    /// The distinct cells holding each resource code:
    /// `resource_cell[resource_cell_start[r]..resource_cell_start[r + 1]]`, ascending. The top
    /// resources' details read these few cells instead of every matched row.
    pub(crate) resource_cell_start: Vec<u32>,
    pub(crate) resource_cell: Vec<u32>,
}

/// What a filter says about the rows of one cell (every condition but time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CellVerdict {
    /// No row passes.
    No,
    /// Every row passes.
    Yes,
    /// A row passes when `search` hits its title (the cell's type does not hit).
    ByTitle,
}

/// What makes two rows share a cell.
#[derive(PartialEq, Eq, Hash)]
struct CellKey {
    account: u32,
    region: u32,
    finding_type: u32,
    resource_type: u32,
    severity: u64,
    label: u8,
    flags: u8,
    triage: u8,
}

impl Cells {
    /// Groups the rows of `index` into cells.
    pub fn build(index: &FindingIndex) -> Cells {
        let n = index.len();
        let mut codes: FxHashMap<CellKey, u32> = FxHashMap::default();
        let mut first_row: Vec<u32> = Vec::new();
        let mut cell_of: Vec<u32> = Vec::with_capacity(n);
        for row in 0..n {
            let key = CellKey {
                account: index.account[row],
                region: index.region[row],
                finding_type: index.finding_type[row],
                resource_type: index.resources[index.resource[row] as usize].resource_type,
                severity: index.severity[row].to_bits(),
                label: index.label[row],
                flags: index.flags[row],
                triage: index.triage[row],
            };
            let next = codes.len() as u32;
            let cell = *codes.entry(key).or_insert_with(|| {
                first_row.push(row as u32);
                next
            });
            cell_of.push(cell);
        }
        drop(codes);

        // Counting sort of the rows by cell, then each cell's rows by time.
        let cells = first_row.len();
        let mut start = vec![0u32; cells + 1];
        for &c in &cell_of {
            start[c as usize + 1] += 1;
        }
        for c in 0..cells {
            start[c + 1] += start[c];
        }
        let mut next = start.clone();
        let mut row = vec![0u32; n];
        for (r, &c) in cell_of.iter().enumerate() {
            let at = &mut next[c as usize];
            row[*at as usize] = r as u32;
            *at += 1;
        }
        for c in 0..cells {
            row[start[c] as usize..start[c + 1] as usize]
                .sort_unstable_by_key(|&r| (index.updated_at[r as usize], r));
        }

        let by_row = |column: &[u32]| -> Vec<u32> {
            first_row.iter().map(|&r| column[r as usize]).collect()
        };
        let entry = |column: &[EpochMillis]| -> Vec<EpochMillis> {
            row.iter().map(|&r| column[r as usize]).collect()
        };
        let entry_u32 =
            |column: &[u32]| -> Vec<u32> { row.iter().map(|&r| column[r as usize]).collect() };
        let last_seen = entry(&index.last_seen);
        let resource = entry_u32(&index.resource);
        let (resource_cell_start, resource_cell) =
            cells_by_resource(&start, &resource, index.resources.len());
        let max_last_seen = (0..cells)
            .map(|c| {
                last_seen[start[c] as usize..start[c + 1] as usize]
                    .iter()
                    .copied()
                    .max()
                    .unwrap_or(EpochMillis::MIN)
            })
            .collect();
        Cells {
            generation: index.generation(),
            account: by_row(&index.account),
            region: by_row(&index.region),
            finding_type: by_row(&index.finding_type),
            pair: by_row(&index.pair),
            resource_type: first_row
                .iter()
                .map(|&r| index.resources[index.resource[r as usize] as usize].resource_type)
                .collect(),
            severity: first_row
                .iter()
                .map(|&r| index.severity[r as usize])
                .collect(),
            label: first_row.iter().map(|&r| index.label[r as usize]).collect(),
            flags: first_row.iter().map(|&r| index.flags[r as usize]).collect(),
            triage: first_row
                .iter()
                .map(|&r| index.triage[r as usize])
                .collect(),
            max_last_seen,
            start,
            updated_at: entry(&index.updated_at),
            last_seen,
            resource,
            title: entry_u32(&index.title),
            row,
            cell_of_row: cell_of,
            resource_cell_start,
            resource_cell,
        }
    }

    /// The index generation these cells were built from; they answer for no other.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Number of cells.
    pub fn len(&self) -> usize {
        self.account.len()
    }

    /// Whether there are no cells (an empty index).
    pub fn is_empty(&self) -> bool {
        self.account.is_empty()
    }

    /// Estimated heap bytes.
    pub fn memory_bytes(&self) -> usize {
        self.len() * (5 * 4 + 8 + 3 + 8 + 4) + self.row.len() * (4 + 8 + 8 + 4 + 4 + 4)
    }

    /// Whether these cells can answer for `index` (built from its generation).
    pub(crate) fn answers_for(&self, index: &FindingIndex) -> bool {
        self.generation == index.generation() && self.row.len() == index.len()
    }

    /// Number of rows in cell `c`.
    #[inline]
    pub(crate) fn cell_len(&self, c: usize) -> usize {
        (self.start[c + 1] - self.start[c]) as usize
    }

    /// The entries of cell `c` with `updated_at` in `[since, before)`.
    #[inline]
    pub(crate) fn entries_in(
        &self,
        c: usize,
        since: EpochMillis,
        before: EpochMillis,
    ) -> std::ops::Range<usize> {
        let (s, e) = (self.start[c] as usize, self.start[c + 1] as usize);
        if since == EpochMillis::MIN && before == EpochMillis::MAX {
            return s..e;
        }
        let times = &self.updated_at[s..e];
        let lo = times.partition_point(|&t| t < since);
        let hi = lo + times[lo..].partition_point(|&t| t < before);
        s + lo..s + hi
    }

    /// The distinct cells holding resource code `r`, ascending.
    #[inline]
    pub(crate) fn cells_of_resource(&self, r: u32) -> &[u32] {
        let r = r as usize;
        let (s, e) = (self.resource_cell_start[r], self.resource_cell_start[r + 1]);
        &self.resource_cell[s as usize..e as usize]
    }

    /// Splits the cells into two ranges holding about half of the entries each.
    pub(crate) fn halves(&self) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let half = self.row.len() as u32 / 2;
        let mid = self.start.partition_point(|&s| s < half).min(self.len());
        (0..mid, mid..self.len())
    }
}

/// The distinct cells of each resource code, as offsets and cells (CSR), from the cells'
/// entry ranges (`start`) and the entries' resource codes.
fn cells_by_resource(start: &[u32], resource: &[u32], resources: usize) -> (Vec<u32>, Vec<u32>) {
    // Each cell's distinct resources, then a counting sort of the (resource, cell) pairs.
    let mut pairs: Vec<(u32, u32)> = Vec::with_capacity(resource.len());
    let mut seen: Vec<u32> = Vec::new();
    for c in 0..start.len().saturating_sub(1) {
        seen.clear();
        seen.extend_from_slice(&resource[start[c] as usize..start[c + 1] as usize]);
        seen.sort_unstable();
        seen.dedup();
        pairs.extend(seen.iter().map(|&r| (r, c as u32)));
    }
    let mut offsets = vec![0u32; resources + 1];
    for &(r, _) in &pairs {
        offsets[r as usize + 1] += 1;
    }
    for r in 0..resources {
        offsets[r + 1] += offsets[r];
    }
    let mut next = offsets.clone();
    let mut cells = vec![0u32; pairs.len()];
    // Pairs come cell by cell ascending, so each resource's cells end up ascending.
    for (r, c) in pairs {
        let at = &mut next[r as usize];
        cells[*at as usize] = c;
        *at += 1;
    }
    (offsets, cells)
}

impl RowPredicate {
    /// Whether the filter reads a per-row value that cells do not share (title, resource key,
    /// `createdAt` for `overdue`): a summary then scans rows.
    pub(crate) fn needs_rows(&self) -> bool {
        self.search.is_some() || self.resource_key.is_some() || self.overdue.is_some()
    }
}
