//! Priority explanations and the WASM module's input, from the feature columns of a caller's
//! [`ScopeView`]; the same columns rank on the server, so the browser's WASM ranking equals it.

use std::collections::HashMap;

use gdlens_index::FindingIndex;
use gdlens_scoring::{FeatureColumns, Scorer, Weights};

use crate::ports::FactorView;
use crate::view::ScopeView;

/// The factor contributions of the feature row at `position` of `columns`.
pub fn explain(columns: &FeatureColumns, weights: &Weights, position: usize) -> Vec<FactorView> {
    let Ok(scorer) = Scorer::new(weights) else {
        return Vec::new();
    };
    if position >= columns.len() {
        return Vec::new();
    }
    scorer
        .score_row(&columns.row(position))
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
    let mut cols = FeatureColumns::with_capacity(rows.len());
    for &r in &rows {
        if let Some(p) = view.position(r) {
            cols.push(view.features.row(p));
        }
    }
    #[derive(Default)]
    struct Dict<'a> {
        codes: HashMap<&'a str, u32>,
        list: Vec<&'a str>,
    }
    impl<'a> Dict<'a> {
        fn code(&mut self, s: &'a str) -> u32 {
            if let Some(c) = self.codes.get(s) {
                return *c;
            }
            let c = self.list.len() as u32;
            self.codes.insert(s, c);
            self.list.push(s);
            c
        }
    }
    let (mut acc, mut reg, mut typ, mut tit, mut rt) = (
        Dict::default(),
        Dict::default(),
        Dict::default(),
        Dict::default(),
        Dict::default(),
    );
    let mut codes = serde_json::Map::new();
    let account: Vec<u32> = rows
        .iter()
        .map(|&r| acc.code(index.account_id(r)))
        .collect();
    let region: Vec<u32> = rows.iter().map(|&r| reg.code(index.region(r))).collect();
    let finding_type: Vec<u32> = rows
        .iter()
        .map(|&r| typ.code(index.finding_type(r)))
        .collect();
    let title: Vec<u32> = rows.iter().map(|&r| tit.code(index.title(r))).collect();
    let resource_type: Vec<u32> = rows
        .iter()
        .map(|&r| rt.code(index.resource_type(r)))
        .collect();
    let updated_at: Vec<f64> = rows.iter().map(|&r| index.updated_at(r) as f64).collect();
    codes.insert("account".into(), serde_json::json!(account));
    codes.insert("region".into(), serde_json::json!(region));
    codes.insert("findingType".into(), serde_json::json!(finding_type));
    codes.insert("title".into(), serde_json::json!(title));
    codes.insert("resourceType".into(), serde_json::json!(resource_type));
    codes.insert("updatedAt".into(), serde_json::json!(updated_at));
    let ids: Vec<&str> = rows.iter().map(|&r| index.id(r)).collect();
    let severity_labels: Vec<&str> = rows
        .iter()
        .map(|&r| index.severity_label(r).as_str())
        .collect();
    serde_json::json!({
        "ids": ids,
        "features": cols,
        "codes": codes,
        "dictionaries": {
            "accounts": acc.list,
            "regions": reg.list,
            "types": typ.list,
            "titles": tit.list,
            "resourceTypes": rt.list,
        },
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
