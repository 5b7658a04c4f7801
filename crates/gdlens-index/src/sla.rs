//! SLA aging over the index: overdue findings by severity and the oldest open finding, for any
//! filter and scope, judged at a given instant (see `gdlens_domain::sla`).

use gdlens_domain::time::EpochMillis;
use gdlens_domain::{FindingFilter, Scope};
use serde::Serialize;

use crate::index::FindingIndex;
use crate::query::{Overdue, RowPredicate};
use crate::summary::SeverityCounts;

/// The SLA widget for one filter, scope and instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaSummary {
    /// The instant the answer was judged at (epoch ms).
    pub as_of: EpochMillis,
    /// Open findings past their deadline.
    pub overdue: u64,
    /// [`SlaSummary::overdue`] by severity label.
    pub by_severity: SeverityCounts,
    /// Open findings (overdue or not).
    pub open: u64,
    /// The open finding with the earliest `createdAt` (ties: the smallest id), as a row.
    pub oldest_open: Option<u32>,
}

impl FindingIndex {
    /// The SLA widget for the findings matching `filter` within `scope`, judged at `now`.
    /// One pass over the rows: open = not archived and not in a closed triage state.
    pub fn sla(&self, filter: &FindingFilter, scope: &Scope, now: EpochMillis) -> SlaSummary {
        let p = RowPredicate::compile(self, filter, scope, None);
        let judge = Overdue {
            want: true,
            as_of: now,
            targets: self.sla.by_index(),
        };
        let mut by_label = [0u64; 4];
        let mut open = 0u64;
        let mut oldest: Option<u32> = None;
        if !p.impossible {
            for row in 0..self.len() {
                if !p.in_time_range(self.updated_at[row]) || !p.matches_except_time(self, row) {
                    continue;
                }
                let (flags, triage) = (self.flags[row], self.triage[row]);
                if !judge.is_open(flags, triage) {
                    continue;
                }
                open += 1;
                if judge.is_overdue(flags, triage, self.label[row], self.created_at[row]) {
                    by_label[self.label[row] as usize] += 1;
                }
                let older = match oldest {
                    None => true,
                    Some(o) => {
                        let (a, b) = (self.created_at[row], self.created_at[o as usize]);
                        a < b || (a == b && self.id(row as u32) < self.id(o))
                    }
                };
                if older {
                    oldest = Some(row as u32);
                }
            }
        }
        SlaSummary {
            as_of: now,
            overdue: by_label.iter().sum(),
            by_severity: SeverityCounts::from_array(by_label),
            open,
            oldest_open: oldest,
        }
    }
}
