//! Errors of the scoring crate: each names the input and the place, with a stable code.

use thiserror::Error;

/// Why a set of columns, weights or a filter was rejected.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ScoringError {
    /// A column's length differs from the row count of the set it belongs to.
    #[error("column `{column}` has {actual} rows, expected {expected}")]
    ColumnLength {
        column: &'static str,
        expected: usize,
        actual: usize,
    },
    /// A feature value is outside its documented domain (NaN, negative, unknown code).
    #[error("column `{column}` row {row}: {reason}")]
    InvalidFeature {
        column: &'static str,
        row: usize,
        reason: String,
    },
    /// A weight or parameter is not a finite number in its documented range.
    #[error("weight `{name}` = {value}: {reason}")]
    InvalidWeight {
        name: &'static str,
        value: f64,
        reason: &'static str,
    },
    /// A filter field is malformed (e.g. a NaN minimum severity, a code outside its dictionary).
    #[error("filter `{field}`: {reason}")]
    InvalidFilter { field: &'static str, reason: String },
}

impl ScoringError {
    /// Stable machine-readable code (GraphQL `extensions.code`, JS `error.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::ColumnLength { .. } => "SCORING_COLUMN_LENGTH",
            Self::InvalidFeature { .. } => "SCORING_INVALID_FEATURE",
            Self::InvalidWeight { .. } => "SCORING_INVALID_WEIGHT",
            Self::InvalidFilter { .. } => "SCORING_INVALID_FILTER",
        }
    }
}
