//! The weights of the priority score and the shape parameters of its factors, with defaults.

use serde::{Deserialize, Serialize};

use crate::error::ScoringError;

/// How much each factor counts, and the shape of the factor curves.
///
/// The seven factor weights are relative: the score is their weighted mean (times 100), so only
/// their ratios matter and a weight of 0 removes the factor. The `*_midpoint` parameters say
/// where a saturating factor reaches one half. The `*_multiplier`s damp findings that need less
/// attention. Every field has a default, so a JSON object may name only what it changes;
/// unknown fields are rejected (a typo must not silently do nothing).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Weights {
    /// Weight of the severity factor. Default 40.
    pub severity: f64,
    /// Weight of the account criticality factor. Default 15.
    pub criticality: f64,
    /// Weight of the finding type rarity factor. Default 15.
    pub rarity: f64,
    /// Weight of the recency factor. Default 10.
    pub recency: f64,
    /// Weight of the occurrence count factor. Default 5.
    pub count: f64,
    /// Weight of the resource exposure factor. Default 5.
    pub exposure: f64,
    /// Weight of the finding group factor. Default 10.
    pub group: f64,
    /// Findings of the same type in scope at which rarity is 1/2. Default 5.
    pub rarity_midpoint: f64,
    /// Hours since last seen at which recency is 1/2. Default 24.
    pub recency_midpoint_hours: f64,
    /// Repeat occurrences (`count − 1`) at which the count factor is 1/2. Default 10.
    pub count_midpoint: f64,
    /// Other findings on the same resource at which that half of exposure is 1/2. Default 5.
    pub exposure_findings_midpoint: f64,
    /// Other distinct finding types on the resource at which that half of exposure is 1/2. Default 2.
    pub exposure_types_midpoint: f64,
    /// Tactics in the finding group at which the tactic part of the group factor is 1/2. Default 2.
    pub group_tactics_midpoint: f64,
    /// Multiplier for findings triaged RESOLVED, SUPPRESSED or FALSE_POSITIVE. Default 0.2.
    pub closed_multiplier: f64,
    /// Multiplier for archived findings. Default 0.5.
    pub archived_multiplier: f64,
    /// Multiplier for GuardDuty sample findings. Default 0.1.
    pub sample_multiplier: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            severity: 40.0,
            criticality: 15.0,
            rarity: 15.0,
            recency: 10.0,
            count: 5.0,
            exposure: 5.0,
            group: 10.0,
            rarity_midpoint: 5.0,
            recency_midpoint_hours: 24.0,
            count_midpoint: 10.0,
            exposure_findings_midpoint: 5.0,
            exposure_types_midpoint: 2.0,
            group_tactics_midpoint: 2.0,
            closed_multiplier: 0.2,
            archived_multiplier: 0.5,
            sample_multiplier: 0.1,
        }
    }
}

/// Largest accepted factor weight: keeps `100 · w / Σw` far from overflow.
pub const MAX_WEIGHT: f64 = 1e12;

impl Weights {
    /// The seven factor weights in factor order (see [`crate::FACTOR_NAMES`]).
    pub fn factor_weights(&self) -> [f64; 7] {
        [
            self.severity,
            self.criticality,
            self.rarity,
            self.recency,
            self.count,
            self.exposure,
            self.group,
        ]
    }

    /// Checks every field: weights finite in `0..=1e12`, midpoints finite and > 0,
    /// multipliers in `0..=1`.
    pub fn validate(&self) -> Result<(), ScoringError> {
        let weights = [
            ("severity", self.severity),
            ("criticality", self.criticality),
            ("rarity", self.rarity),
            ("recency", self.recency),
            ("count", self.count),
            ("exposure", self.exposure),
            ("group", self.group),
        ];
        for (name, value) in weights {
            if !(value.is_finite() && (0.0..=MAX_WEIGHT).contains(&value)) {
                return Err(ScoringError::InvalidWeight {
                    name,
                    value,
                    reason: "a factor weight must be a finite number in 0..=1e12",
                });
            }
        }
        let midpoints = [
            ("rarityMidpoint", self.rarity_midpoint),
            ("recencyMidpointHours", self.recency_midpoint_hours),
            ("countMidpoint", self.count_midpoint),
            ("exposureFindingsMidpoint", self.exposure_findings_midpoint),
            ("exposureTypesMidpoint", self.exposure_types_midpoint),
            ("groupTacticsMidpoint", self.group_tactics_midpoint),
        ];
        for (name, value) in midpoints {
            if !(value.is_finite() && value > 0.0 && value <= MAX_WEIGHT) {
                return Err(ScoringError::InvalidWeight {
                    name,
                    value,
                    reason: "a midpoint must be a finite number in (0, 1e12]",
                });
            }
        }
        let multipliers = [
            ("closedMultiplier", self.closed_multiplier),
            ("archivedMultiplier", self.archived_multiplier),
            ("sampleMultiplier", self.sample_multiplier),
        ];
        for (name, value) in multipliers {
            if !(0.0..=1.0).contains(&value) {
                return Err(ScoringError::InvalidWeight {
                    name,
                    value,
                    reason: "a multiplier must be a number in 0..=1",
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_validate_and_partial_json_keeps_defaults() {
        assert_eq!(Weights::default().validate(), Ok(()));
        let w: Weights =
            serde_json::from_str(r#"{"severity": 10, "recencyMidpointHours": 6}"#).unwrap();
        assert_eq!(w.severity, 10.0);
        assert_eq!(w.recency_midpoint_hours, 6.0);
        assert_eq!(w.rarity, Weights::default().rarity);
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<Weights>(r#"{"severty": 10}"#).unwrap_err();
        assert!(err.to_string().contains("severty"), "{err}");
    }

    #[test]
    fn bad_values_name_the_weight() {
        let w = Weights {
            rarity: -1.0,
            ..Weights::default()
        };
        let err = w.validate().unwrap_err();
        assert_eq!(err.code(), "SCORING_INVALID_WEIGHT");
        assert!(err.to_string().starts_with("weight `rarity` = -1"), "{err}");
        let w = Weights {
            recency_midpoint_hours: 0.0,
            ..Weights::default()
        };
        assert!(w
            .validate()
            .unwrap_err()
            .to_string()
            .contains("recencyMidpointHours"));
        let w = Weights {
            sample_multiplier: f64::NAN,
            ..Weights::default()
        };
        assert!(w
            .validate()
            .unwrap_err()
            .to_string()
            .contains("sampleMultiplier"));
    }
}
