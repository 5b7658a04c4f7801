//! Severity labels by GuardDuty's numeric ranges.

use serde::{Deserialize, Serialize};

/// GuardDuty's severity label. Ordered Low < Medium < High < Critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SeverityLabel {
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityLabel {
    /// All labels, lowest first.
    pub const ALL: [SeverityLabel; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    /// Buckets a numeric severity: ≥ 9 Critical, ≥ 7 High, ≥ 4 Medium, else Low.
    /// (Critical arrived in Dec 2024; never assume 8.9 is the maximum.)
    pub fn from_severity(severity: f64) -> Self {
        if severity >= 9.0 {
            Self::Critical
        } else if severity >= 7.0 {
            Self::High
        } else if severity >= 4.0 {
            Self::Medium
        } else {
            Self::Low
        }
    }

    /// The lowest numeric severity of this label.
    pub fn min_severity(self) -> f64 {
        match self {
            Self::Low => 0.0,
            Self::Medium => 4.0,
            Self::High => 7.0,
            Self::Critical => 9.0,
        }
    }

    /// Index 0..4, lowest first; handy for per-label count arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Console spelling: `Low`, `Medium`, `High`, `Critical`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }

    /// Parses any casing of the label name.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_by_numeric_range() {
        assert_eq!(SeverityLabel::from_severity(1.0), SeverityLabel::Low);
        assert_eq!(SeverityLabel::from_severity(3.9), SeverityLabel::Low);
        assert_eq!(SeverityLabel::from_severity(4.0), SeverityLabel::Medium);
        assert_eq!(SeverityLabel::from_severity(6.9), SeverityLabel::Medium);
        assert_eq!(SeverityLabel::from_severity(7.0), SeverityLabel::High);
        assert_eq!(SeverityLabel::from_severity(8.9), SeverityLabel::High);
        assert_eq!(SeverityLabel::from_severity(9.0), SeverityLabel::Critical);
        assert_eq!(SeverityLabel::from_severity(10.0), SeverityLabel::Critical);
    }

    #[test]
    fn labels_are_ordered() {
        assert!(SeverityLabel::Low < SeverityLabel::Critical);
        assert_eq!(SeverityLabel::parse("HIGH"), Some(SeverityLabel::High));
    }
}
