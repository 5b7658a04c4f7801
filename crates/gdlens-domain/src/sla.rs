//! SLA aging: how long a finding may stay open, per severity, and whether it is overdue.
//!
//! A finding's SLA clock starts at its `createdAt` (when GuardDuty raised it: nobody can act on
//! activity before it is reported, and `eventFirstSeen` may precede detection by days). It stops at
//! a closed triage state (`RESOLVED`, `SUPPRESSED`, `FALSE_POSITIVE`) or when the finding is
//! archived (archiving is GuardDuty's own "handled"). An open finding is overdue once "now" is past
//! `createdAt + target(severity label)`; the label is the latest version's.

use serde::{Deserialize, Serialize};

use crate::filter::TriageStatus;
use crate::severity::SeverityLabel;
use crate::time::EpochMillis;

/// Milliseconds in a day.
pub const DAY_MS: EpochMillis = 86_400_000;

/// Per-severity SLA targets in milliseconds (defaults: Critical and High 1 day, Medium 7 days,
/// Low 30 days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaTargets {
    pub low_ms: EpochMillis,
    pub medium_ms: EpochMillis,
    pub high_ms: EpochMillis,
    pub critical_ms: EpochMillis,
}

impl Default for SlaTargets {
    fn default() -> Self {
        SlaTargets {
            low_ms: 30 * DAY_MS,
            medium_ms: 7 * DAY_MS,
            high_ms: DAY_MS,
            critical_ms: DAY_MS,
        }
    }
}

impl SlaTargets {
    /// The target of a severity label.
    pub fn target(&self, label: SeverityLabel) -> EpochMillis {
        match label {
            SeverityLabel::Low => self.low_ms,
            SeverityLabel::Medium => self.medium_ms,
            SeverityLabel::High => self.high_ms,
            SeverityLabel::Critical => self.critical_ms,
        }
    }

    /// Targets by [`SeverityLabel::index`].
    pub fn by_index(&self) -> [EpochMillis; 4] {
        SeverityLabel::ALL.map(|l| self.target(l))
    }

    /// When a finding created at `created_at` with `label` becomes overdue (saturating).
    pub fn deadline(&self, created_at: EpochMillis, label: SeverityLabel) -> EpochMillis {
        created_at.saturating_add(self.target(label))
    }
}

/// Whether a finding still needs work: not archived and not in a closed triage state.
pub fn is_open(archived: bool, triage: TriageStatus) -> bool {
    !archived && !triage.is_closed()
}

/// Whether an open finding is past its deadline at `now` (strictly after the deadline).
pub fn is_overdue(
    targets: &SlaTargets,
    created_at: EpochMillis,
    label: SeverityLabel,
    archived: bool,
    triage: TriageStatus,
    now: EpochMillis,
) -> bool {
    is_open(archived, triage) && now > targets.deadline(created_at, label)
}

/// "Now" as SLA queries judge it: truncated to the minute, so answers (and cache keys) change at
/// most once a minute.
pub fn truncate_to_minute(now: EpochMillis) -> EpochMillis {
    now - now.rem_euclid(60_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_deadlines() {
        let t = SlaTargets::default();
        assert_eq!(t.target(SeverityLabel::Critical), DAY_MS);
        assert_eq!(t.target(SeverityLabel::High), DAY_MS);
        assert_eq!(t.target(SeverityLabel::Medium), 7 * DAY_MS);
        assert_eq!(t.target(SeverityLabel::Low), 30 * DAY_MS);
        assert_eq!(
            t.deadline(EpochMillis::MAX - 1, SeverityLabel::Low),
            EpochMillis::MAX
        );
    }

    #[test]
    fn overdue_only_when_open_and_strictly_past_the_deadline() {
        let t = SlaTargets::default();
        let high = SeverityLabel::High;
        assert!(!is_overdue(&t, 0, high, false, TriageStatus::New, DAY_MS));
        assert!(is_overdue(
            &t,
            0,
            high,
            false,
            TriageStatus::New,
            DAY_MS + 1
        ));
        assert!(is_overdue(
            &t,
            0,
            high,
            false,
            TriageStatus::InProgress,
            2 * DAY_MS
        ));
        assert!(!is_overdue(
            &t,
            0,
            high,
            true,
            TriageStatus::New,
            2 * DAY_MS
        ));
        for closed in [
            TriageStatus::Resolved,
            TriageStatus::Suppressed,
            TriageStatus::FalsePositive,
        ] {
            assert!(!is_overdue(&t, 0, high, false, closed, 2 * DAY_MS));
        }
    }

    #[test]
    fn minute_truncation() {
        assert_eq!(truncate_to_minute(125_000), 120_000);
        assert_eq!(truncate_to_minute(-1), -60_000);
    }
}
