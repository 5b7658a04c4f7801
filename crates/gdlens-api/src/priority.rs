//! Priority scores from the scoring crate over feature columns computed from the index and the
//! finding groups, once per data generation; the same columns feed `scoringFeatures`, so the
//! browser's WASM ranking equals the server's.

use std::collections::HashMap;

use gdlens_domain::time::EpochMillis;
use gdlens_index::FindingIndex;
use gdlens_scoring::{FeatureColumns, FeatureRow, Scorer, Weights};

use crate::ports::{FactorView, FindingGroups};

/// Feature columns of every index row, with the "now" their ages were computed at.
#[derive(Debug, Clone, Default)]
pub struct RowFeatures {
    /// Generation they were computed at.
    pub generation: u64,
    /// Now (epoch ms) of the age column.
    pub now_ms: EpochMillis,
    /// One entry per index row.
    pub columns: FeatureColumns,
}

/// Scores of every index row under one set of weights.
#[derive(Debug, Clone, Default)]
pub struct RowScores {
    /// Score per row (0–100).
    pub values: Vec<f64>,
}

/// Computes the feature columns of every row.
pub fn compute_features(
    index: &FindingIndex,
    groups: &dyn FindingGroups,
    generation: u64,
    now_ms: EpochMillis,
) -> RowFeatures {
    let n = index.len();
    let rows = 0..n as u32;
    let type_codes: Vec<u32> = rows.clone().map(|r| index.type_code(r)).collect();
    let n_types = type_codes.iter().max().map_or(0, |m| *m as usize + 1);
    let resource_codes: Vec<u32> = rows
        .clone()
        .map(|r| {
            index
                .resource_code(r)
                .unwrap_or(gdlens_scoring::NO_RESOURCE)
        })
        .collect();
    let n_resources = resource_codes
        .iter()
        .filter(|c| **c != gdlens_scoring::NO_RESOURCE)
        .max()
        .map_or(0, |m| *m as usize + 1);
    let type_count = gdlens_scoring::type_count_column(&type_codes, None, n_types);
    let (resource_findings, resource_distinct_types) =
        gdlens_scoring::resource_exposure(&resource_codes, &type_codes, None, n_resources);
    let mut group_cache: HashMap<String, (u8, f64)> = HashMap::new();
    let mut columns = FeatureColumns::with_capacity(n);
    for r in rows {
        let i = r as usize;
        let (group_tactics, group_severity) = match groups.group_of(index.id(r)) {
            Some(g) => *group_cache
                .entry(g.id.clone())
                .or_insert_with(|| (g.tactics.len().min(u8::MAX as usize) as u8, g.severity)),
            None => (0, 0.0),
        };
        columns.push(FeatureRow {
            severity: index.severity(r),
            criticality: index.account_criticality(r).code(),
            type_count: type_count[i],
            age_hours: gdlens_scoring::age_hours(now_ms, index.last_seen(r)),
            count: index.count(r).min(u32::MAX as u64) as u32,
            resource_findings: resource_findings[i],
            resource_distinct_types: resource_distinct_types[i],
            group_tactics,
            group_severity,
            archived: index.archived(r),
            triage: index.triage(r) as u8,
            sample: index.sample(r),
        });
    }
    RowFeatures {
        generation,
        now_ms,
        columns,
    }
}

/// Scores every row.
pub fn score_all(features: &RowFeatures, weights: &Weights) -> Result<RowScores, String> {
    let mut values = vec![0.0; features.columns.len()];
    gdlens_scoring::score_all(&features.columns, weights, &mut values)
        .map_err(|e| e.to_string())?;
    Ok(RowScores { values })
}

/// The factor contributions of one row.
pub fn explain(features: &RowFeatures, weights: &Weights, row: u32) -> Vec<FactorView> {
    let Ok(scorer) = Scorer::new(weights) else {
        return Vec::new();
    };
    if row as usize >= features.columns.len() {
        return Vec::new();
    }
    scorer
        .score_row(&features.columns.row(row as usize))
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
pub fn features_json(
    index: &FindingIndex,
    features: &RowFeatures,
    rows: &[u32],
) -> serde_json::Value {
    let mut rows = rows.to_vec();
    rows.sort_by(|a, b| index.id(*a).cmp(index.id(*b)));
    let mut cols = FeatureColumns::with_capacity(rows.len());
    for &r in &rows {
        if (r as usize) < features.columns.len() {
            cols.push(features.columns.row(r as usize));
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
        "nowMs": features.now_ms,
        "generation": features.generation,
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
