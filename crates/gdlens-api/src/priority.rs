//! Priority explanations and the WASM module's input, from the feature columns of a caller's
//! [`ScopeView`]; the same columns rank on the server, so the browser's WASM ranking equals it.

use gdlens_index::FindingIndex;
use gdlens_scoring::{FeatureRow, Scorer, Weights};

use crate::ports::FactorView;
use crate::view::ScopeView;

/// The factor contributions of one finding's features under `weights`.
pub fn explain(features: &FeatureRow, weights: &Weights) -> Vec<FactorView> {
    let Ok(scorer) = Scorer::new(weights) else {
        return Vec::new();
    };
    scorer
        .score_row(features)
        .factors
        .iter()
        .map(|f| FactorView {
            name: f.name.to_string(),
            contribution: f.contribution,
        })
        .collect()
}

/// The WASM module's input for `rows`: ids (sorted, so row order breaks score ties by id as the
/// server does), feature columns, code columns, dictionaries, nowMs, default weights.
pub fn features_json(index: &FindingIndex, view: &ScopeView, rows: &[u32]) -> serde_json::Value {
    let mut rows: Vec<u32> = rows
        .iter()
        .copied()
        .filter(|&r| view.position(r).is_some())
        .collect();
    rows.sort_by(|a, b| index.id(*a).cmp(index.id(*b)));
    let cols = view.feature_columns(index, &rows);
    let (codes, dictionaries) = index.code_columns(&rows);
    let ids: Vec<&str> = rows.iter().map(|&r| index.id(r)).collect();
    let severity_labels: Vec<&str> = rows
        .iter()
        .map(|&r| index.severity_label(r).as_str())
        .collect();
    serde_json::json!({
        "ids": ids,
        "features": cols,
        "codes": codes,
        "dictionaries": dictionaries,
        "severityLabels": severity_labels,
        "nowMs": view.now_ms,
        "generation": view.generation,
        "defaultWeights": Weights::default(),
    })
}

/// Applies named overrides to the default weights.
pub fn weights_with(overrides: &[(&str, f64)]) -> Weights {
    let mut w = Weights::default();
    for (name, v) in overrides {
        match *name {
            "severity" => w.severity = *v,
            "criticality" => w.criticality = *v,
            "rarity" => w.rarity = *v,
            "recency" => w.recency = *v,
            "count" => w.count = *v,
            "exposure" => w.exposure = *v,
            "group" => w.group = *v,
            _ => {}
        }
    }
    w
}
