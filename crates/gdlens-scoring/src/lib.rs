//! Priority scoring, ranking and filter predicates over columnar features. Pure; builds for wasm32.
//!
//! One crate, compiled natively into the server and to WASM for the browser, so both rank with
//! exactly the same numbers:
//!
//! - [`FeatureColumns`]: the per-finding features, one column per feature, and the definitions
//!   of the context features ([`age_hours`], [`type_count_column`], [`resource_exposure`]).
//! - [`Weights`] → [`Scorer`]: a score in `0..=100` with its explanation ([`Score`]); the fast
//!   path [`score_all`]; [`PreparedFeatures`] for re-scoring the same findings under new weights.
//! - [`rank`]: score descending, ties by a caller-supplied stable key, deterministic;
//!   [`TieOrder`] precomputes the tie order for re-ranking the same findings.
//! - [`FilterSpec`] / [`filter_mask`]: the finding filter over dictionary codes.
//! - [`prioritize`]: filter + score + rank in one call, the pipeline both sides run.
//!
//! Scores are bit-identical on every platform: only `+ − × ÷` and comparisons (see [`score`]).

mod error;
mod features;
mod filter;
mod prepared;
mod rank;
mod score;
mod weights;

pub use error::ScoringError;
pub use features::{
    age_hours, count_by_code, resource_exposure, resource_exposure_by_code, type_count_column,
    FeatureColumns, FeatureRow, CRITICALITY_CODES, NO_RESOURCE, TRIAGE_CODES,
};
pub use filter::{
    contains_ignore_case, filter_mask, CodeColumns, CompiledFilter, Dictionaries, FilterSpec,
};
pub use prepared::PreparedFeatures;
pub use rank::{descending_key, rank, RankScratch, TieOrder};
pub use score::{is_closed, score, score_all, Factor, Score, Scorer, FACTOR_NAMES};
pub use weights::{Weights, MAX_WEIGHT};

use serde::{Deserialize, Serialize};

/// Everything the pipeline needs about a set of findings: features, filter codes, their
/// dictionaries, and the stable tie key (e.g. each row's position in id order).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FindingColumns {
    /// Scoring features.
    pub features: FeatureColumns,
    /// Filter codes and update times.
    pub codes: CodeColumns,
    /// Strings behind the codes.
    #[serde(default)]
    pub dictionaries: Dictionaries,
    /// Stable tie-break key per row (ascending wins among equal scores).
    pub tie_key: Vec<u32>,
}

impl FindingColumns {
    /// Validates every column against the others and the dictionaries; returns the row count.
    pub fn validate(&self) -> Result<usize, ScoringError> {
        let n = self.features.validate()?;
        self.codes.validate(n, &self.dictionaries)?;
        if self.tie_key.len() != n {
            return Err(ScoringError::ColumnLength {
                column: "tieKey",
                expected: n,
                actual: self.tie_key.len(),
            });
        }
        Ok(n)
    }
}

/// The result of [`prioritize`].
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ranked {
    /// The rows passing the filter, highest priority first.
    pub order: Vec<u32>,
    /// The score of every row (filtered out or not), by row.
    pub scores: Vec<f64>,
}

/// Filters, scores and ranks: the one pipeline the server and the browser both run.
pub fn prioritize(
    columns: &FindingColumns,
    weights: &Weights,
    filter: &FilterSpec,
) -> Result<Ranked, ScoringError> {
    let n = columns.validate()?;
    let scorer = Scorer::new(weights)?;
    let compiled = CompiledFilter::new(filter, &columns.dictionaries)?;
    let mut scores = vec![0.0; n];
    scorer.score_into(&columns.features, &mut scores);
    let mut mask = Vec::with_capacity(n);
    compiled.mask_into(&columns.features, &columns.codes, &mut mask);
    let order = rank(&scores, &columns.tie_key, Some(&mask))?;
    Ok(Ranked { order, scores })
}
