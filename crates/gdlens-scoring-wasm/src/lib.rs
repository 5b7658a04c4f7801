//! Thin wasm-bindgen adapter over gdlens-scoring for the browser.
//!
//! Columns cross as typed arrays (one per feature) so 100,000 findings move with a few
//! `memcpy`s; only the small option objects (weights, filter, dictionaries, explanations) go
//! through serde. A [`Ranker`] keeps the columns in WASM memory: set them once, then re-rank
//! as often as the weights or the filter change. Every error is a JS `Error` whose `code` is the
//! scoring crate's stable error code.

use gdlens_scoring::{
    CodeColumns, CompiledFilter, Dictionaries, FeatureColumns, FilterSpec, FindingColumns,
    PreparedFeatures, RankScratch, Scorer, ScoringError, TieOrder, Weights, FACTOR_NAMES,
};
use js_sys::{Float64Array, Reflect, Uint32Array, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Scoring features, one typed array per feature, all of the same length (see docs/scoring.md). */
export interface FeatureArrays {
  /** Numeric GuardDuty severity (≥ 0; above 10 counts as 10). */
  severity: Float64Array;
  /** Account criticality: 0 unknown, 1 low, 2 medium, 3 high, 4 critical. */
  criticality: Uint8Array;
  /** Findings of this finding type in the scope, this one included. */
  typeCount: Uint32Array;
  /** Hours since last seen (see ageHours); Infinity allowed, negative counts as 0. */
  ageHours: Float64Array;
  /** service.count. */
  count: Uint32Array;
  /** Findings on the same resource, this one included; 0 when no resource. */
  resourceFindings: Uint32Array;
  /** Distinct finding types on the same resource; 0 when no resource. */
  resourceDistinctTypes: Uint32Array;
  /** Distinct ATT&CK tactics of the finding's group; 0 = no group. */
  groupTactics: Uint8Array;
  /** Highest severity in the finding's group; 0 when no group. */
  groupSeverity: Float64Array;
  /** 1 = archived. */
  archived: Uint8Array;
  /** Triage status index: 0 NEW, 1 ACKNOWLEDGED, 2 IN_PROGRESS, 3 RESOLVED, 4 SUPPRESSED, 5 FALSE_POSITIVE. */
  triage: Uint8Array;
  /** 1 = GuardDuty sample finding. */
  sample: Uint8Array;
}

/** Dictionary codes per row for filtering; code c names entry c of the matching Dictionaries list. */
export interface CodeArrays {
  account: Uint32Array;
  region: Uint32Array;
  findingType: Uint32Array;
  title: Uint32Array;
  resourceType: Uint32Array;
  /** updatedAt, epoch milliseconds. */
  updatedAt: Float64Array;
}

/** The strings behind the codes. */
export interface Dictionaries {
  accounts?: string[];
  regions?: string[];
  types?: string[];
  titles?: string[];
  resourceTypes?: string[];
}

/** Factor weights (relative) and curve parameters; omitted fields keep their defaults. */
export interface Weights {
  severity?: number;
  criticality?: number;
  rarity?: number;
  recency?: number;
  count?: number;
  exposure?: number;
  group?: number;
  rarityMidpoint?: number;
  recencyMidpointHours?: number;
  countMidpoint?: number;
  exposureFindingsMidpoint?: number;
  exposureTypesMidpoint?: number;
  groupTacticsMidpoint?: number;
  closedMultiplier?: number;
  archivedMultiplier?: number;
  sampleMultiplier?: number;
}

export type SeverityLabel = "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
export type TriageStatus = "NEW" | "ACKNOWLEDGED" | "IN_PROGRESS" | "RESOLVED" | "SUPPRESSED" | "FALSE_POSITIVE";

/** The finding filter in dictionary codes; same meaning as the GraphQL FindingFilter. */
export interface FilterSpec {
  accounts?: number[] | null;
  regions?: number[] | null;
  severityMin?: number | null;
  severityLabels?: SeverityLabel[] | null;
  types?: number[] | null;
  typePrefix?: string | null;
  resourceTypes?: number[] | null;
  /** true: only archived; false or absent: only active. */
  archived?: boolean | null;
  includeSamples?: boolean;
  updatedSince?: number | null;
  updatedBefore?: number | null;
  triage?: TriageStatus[] | null;
  /** Case-insensitive substring of the finding type or title. */
  search?: string | null;
}

/** One factor of an explanation. */
export interface Factor {
  name: "severity" | "criticality" | "rarity" | "recency" | "count" | "exposure" | "group";
  /** The factor's value, 0..1. */
  value: number;
  /** Points it adds to the undamped score. */
  contribution: number;
}

/** A score with its explanation. */
export interface Score {
  /** 0..100 = base × multiplier. */
  value: number;
  base: number;
  multiplier: number;
  factors: Factor[];
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `FeatureArrays` (TypeScript).
    #[wasm_bindgen(typescript_type = "FeatureArrays")]
    pub type FeatureArrays;
    /// `CodeArrays` (TypeScript).
    #[wasm_bindgen(typescript_type = "CodeArrays")]
    pub type CodeArrays;
    /// `Dictionaries` (TypeScript).
    #[wasm_bindgen(typescript_type = "Dictionaries")]
    pub type DictionariesInput;
    /// `Weights` (TypeScript).
    #[wasm_bindgen(typescript_type = "Weights")]
    pub type WeightsInput;
    /// `FilterSpec` (TypeScript).
    #[wasm_bindgen(typescript_type = "FilterSpec")]
    pub type FilterInput;
    /// `Weights` as returned (every field set).
    #[wasm_bindgen(typescript_type = "Required<Weights>")]
    pub type WeightsOutput;
    /// `Score` (TypeScript).
    #[wasm_bindgen(typescript_type = "Score")]
    pub type ScoreOutput;
    /// `string[]`.
    #[wasm_bindgen(typescript_type = "string[]")]
    pub type StringArray;
}

/// A JS `Error` with the stable `code` of the scoring error.
fn scoring_error(err: ScoringError) -> JsValue {
    js_error(err.code(), &err.to_string())
}

fn js_error(code: &str, message: &str) -> JsValue {
    let e = js_sys::Error::new(message);
    e.set_name("ScoringError");
    // Setting a property on a fresh Error object cannot fail.
    let _ = Reflect::set(&e, &JsValue::from_str("code"), &JsValue::from_str(code));
    e.into()
}

fn input_error(place: &str, message: impl std::fmt::Display) -> JsValue {
    js_error("SCORING_INVALID_INPUT", &format!("{place}: {message}"))
}

fn property(owner: &str, object: &JsValue, name: &str) -> Result<JsValue, JsValue> {
    if !object.is_object() {
        return Err(input_error(owner, "expected an object of typed arrays"));
    }
    Reflect::get(object, &JsValue::from_str(name))
        .map_err(|_| input_error(owner, format!("cannot read `{name}`")))
}

macro_rules! typed_column {
    ($fn_name:ident, $array:ty, $elem:ty, $label:literal) => {
        fn $fn_name(owner: &str, object: &JsValue, name: &str) -> Result<Vec<$elem>, JsValue> {
            property(owner, object, name)?
                .dyn_into::<$array>()
                .map(|a| a.to_vec())
                .map_err(|_| {
                    input_error(&format!("{owner}.{name}"), concat!("expected a ", $label))
                })
        }
    };
}
typed_column!(f64_column, Float64Array, f64, "Float64Array");
typed_column!(u32_column, Uint32Array, u32, "Uint32Array");
typed_column!(u8_column, Uint8Array, u8, "Uint8Array");

fn read_features(features: &JsValue) -> Result<FeatureColumns, JsValue> {
    let o = "features";
    Ok(FeatureColumns {
        severity: f64_column(o, features, "severity")?,
        criticality: u8_column(o, features, "criticality")?,
        type_count: u32_column(o, features, "typeCount")?,
        age_hours: f64_column(o, features, "ageHours")?,
        count: u32_column(o, features, "count")?,
        resource_findings: u32_column(o, features, "resourceFindings")?,
        resource_distinct_types: u32_column(o, features, "resourceDistinctTypes")?,
        group_tactics: u8_column(o, features, "groupTactics")?,
        group_severity: f64_column(o, features, "groupSeverity")?,
        archived: u8_column(o, features, "archived")?,
        triage: u8_column(o, features, "triage")?,
        sample: u8_column(o, features, "sample")?,
    })
}

fn read_codes(codes: &JsValue) -> Result<CodeColumns, JsValue> {
    let o = "codes";
    Ok(CodeColumns {
        account: u32_column(o, codes, "account")?,
        region: u32_column(o, codes, "region")?,
        finding_type: u32_column(o, codes, "findingType")?,
        title: u32_column(o, codes, "title")?,
        resource_type: u32_column(o, codes, "resourceType")?,
        updated_at: f64_column(o, codes, "updatedAt")?,
    })
}

/// Deserializes a small option object; `undefined`/`null` give the default.
fn options<T: serde::de::DeserializeOwned + Default>(
    place: &str,
    value: Option<&JsValue>,
) -> Result<T, JsValue> {
    match value {
        None => Ok(T::default()),
        Some(v) if v.is_undefined() || v.is_null() => Ok(T::default()),
        Some(v) => serde_wasm_bindgen::from_value(v.clone()).map_err(|e| input_error(place, e)),
    }
}

fn to_js<T: serde::Serialize>(value: &T) -> JsValue {
    // Plain objects (not ES Maps) for structs; our types always serialize.
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&serializer).unwrap_or(JsValue::UNDEFINED)
}

/// Holds the columns of a set of findings in WASM memory and ranks them on demand.
#[wasm_bindgen]
pub struct Ranker {
    columns: FindingColumns,
    /// What does not depend on the weights or the filter, computed once, reused by every
    /// `rank`: the tie order and the features encoded for re-scoring.
    tie_order: TieOrder,
    prepared: PreparedFeatures,
    scores: Vec<f64>,
    mask: Vec<u8>,
    scratch: RankScratch,
    order: Vec<u32>,
}

#[wasm_bindgen]
impl Ranker {
    /// Copies and validates the columns. `tieKey` is a stable per-row key (e.g. the row's
    /// position in id order): equal scores rank by it, ascending.
    #[wasm_bindgen(constructor)]
    pub fn new(
        features: &FeatureArrays,
        codes: &CodeArrays,
        dictionaries: Option<DictionariesInput>,
        #[wasm_bindgen(js_name = "tieKey")] tie_key: &[u32],
    ) -> Result<Ranker, JsValue> {
        let columns = FindingColumns {
            features: read_features(features)?,
            codes: read_codes(codes)?,
            dictionaries: options::<Dictionaries>("dictionaries", dictionaries.as_deref())?,
            tie_key: tie_key.to_vec(),
        };
        let n = columns.validate().map_err(scoring_error)?;
        let tie_order = TieOrder::new(&columns.tie_key).map_err(scoring_error)?;
        let prepared = PreparedFeatures::new(&columns.features).map_err(scoring_error)?;
        Ok(Ranker {
            columns,
            tie_order,
            prepared,
            scores: vec![0.0; n],
            mask: Vec::with_capacity(n),
            scratch: RankScratch::default(),
            order: Vec::with_capacity(n),
        })
    }

    /// Number of rows.
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> u32 {
        self.columns.tie_key.len() as u32
    }

    /// Filters, scores and ranks: the rows passing `filter`, highest priority first.
    /// The scores of all rows are then available from `scores()`.
    pub fn rank(
        &mut self,
        weights: Option<WeightsInput>,
        filter: Option<FilterInput>,
    ) -> Result<Vec<u32>, JsValue> {
        self.run(weights, filter)?;
        Ok(self.order.clone())
    }

    /// `rank` without allocating the result: writes the order into the first entries of
    /// `out` (at least `length` long, reusable across calls) and returns how many rows passed.
    #[wasm_bindgen(js_name = "rankInto")]
    pub fn rank_into(
        &mut self,
        weights: Option<WeightsInput>,
        filter: Option<FilterInput>,
        out: &Uint32Array,
    ) -> Result<u32, JsValue> {
        if (out.length() as usize) < self.columns.tie_key.len() {
            return Err(input_error(
                "rankInto",
                format!(
                    "`out` has {} entries, needs at least {}",
                    out.length(),
                    self.columns.tie_key.len()
                ),
            ));
        }
        self.run(weights, filter)?;
        let m = self.order.len() as u32;
        out.subarray(0, m).copy_from(&self.order);
        Ok(m)
    }

    /// The scores computed by the last `rank` call, by row (zeros before the first call).
    pub fn scores(&self) -> Vec<f64> {
        self.scores.clone()
    }

    /// `scores` without allocating: copies the scores of the last `rank` call into `out`
    /// (exactly `length` long).
    #[wasm_bindgen(js_name = "scoresInto")]
    pub fn scores_into(&self, out: &Float64Array) -> Result<(), JsValue> {
        if out.length() as usize != self.scores.len() {
            return Err(input_error(
                "scoresInto",
                format!(
                    "`out` has {} entries, needs {}",
                    out.length(),
                    self.scores.len()
                ),
            ));
        }
        out.copy_from(&self.scores);
        Ok(())
    }

    /// The filter mask of the last `rank` call (1 = passes), by row.
    pub fn mask(&self) -> Vec<u8> {
        self.mask.clone()
    }

    /// The score of `row` with each factor's contribution.
    pub fn explain(&self, row: u32, weights: Option<WeightsInput>) -> Result<ScoreOutput, JsValue> {
        let weights: Weights = options("weights", weights.as_deref())?;
        let scorer = Scorer::new(&weights).map_err(scoring_error)?;
        let n = self.columns.features.len();
        if row as usize >= n {
            return Err(input_error(
                "explain",
                format!("row {row} is out of range: there are {n} rows"),
            ));
        }
        Ok(to_js(&scorer.score_row(&self.columns.features.row(row as usize))).unchecked_into())
    }
}

impl Ranker {
    /// Scores every row, computes the filter mask and ranks the passing rows into `order`.
    fn run(
        &mut self,
        weights: Option<WeightsInput>,
        filter: Option<FilterInput>,
    ) -> Result<(), JsValue> {
        let weights: Weights = options("weights", weights.as_deref())?;
        let filter: FilterSpec = options("filter", filter.as_deref())?;
        let scorer = Scorer::new(&weights).map_err(scoring_error)?;
        let compiled =
            CompiledFilter::new(&filter, &self.columns.dictionaries).map_err(scoring_error)?;
        self.prepared
            .score_into(&self.columns.features, &scorer, &mut self.scores);
        compiled.mask_into(&self.columns.features, &self.columns.codes, &mut self.mask);
        self.tie_order
            .rank_into(
                &self.scores,
                Some(&self.mask),
                &mut self.scratch,
                &mut self.order,
            )
            .map_err(scoring_error)
    }
}

/// Scores every row (no filter, no ranking).
#[wasm_bindgen(js_name = "scoreAll")]
pub fn score_all(
    features: &FeatureArrays,
    weights: Option<WeightsInput>,
) -> Result<Vec<f64>, JsValue> {
    let columns = read_features(features)?;
    let weights: Weights = options("weights", weights.as_deref())?;
    let n = columns.validate().map_err(scoring_error)?;
    let scorer = Scorer::new(&weights).map_err(scoring_error)?;
    // The Ranker's scoring path (bit-identical to `Scorer::score_into`, which the parity
    // vectors check), so the module carries one scoring loop, not two.
    let mut prepared = PreparedFeatures::new(&columns).map_err(scoring_error)?;
    let mut out = vec![0.0; n];
    prepared.score_into(&columns, &scorer, &mut out);
    Ok(out)
}

/// Orders rows by score descending, then `tieKey`, then row; only rows with a non-zero mask byte.
#[wasm_bindgen]
pub fn rank(
    scores: &[f64],
    #[wasm_bindgen(js_name = "tieKey")] tie_key: &[u32],
    mask: Option<Vec<u8>>,
) -> Result<Vec<u32>, JsValue> {
    gdlens_scoring::rank(scores, tie_key, mask.as_deref()).map_err(scoring_error)
}

/// Hours since `lastSeenMs` at `nowMs` (epoch ms), never negative: the `ageHours` feature.
#[wasm_bindgen(js_name = "ageHours")]
pub fn age_hours(
    #[wasm_bindgen(js_name = "nowMs")] now_ms: f64,
    #[wasm_bindgen(js_name = "lastSeenMs")] last_seen_ms: f64,
) -> f64 {
    // JS numbers carry integer milliseconds exactly; `as` saturates anything else.
    gdlens_scoring::age_hours(now_ms as i64, last_seen_ms as i64)
}

/// The default weights, every field set.
#[wasm_bindgen(js_name = "defaultWeights")]
pub fn default_weights() -> WeightsOutput {
    to_js(&Weights::default()).unchecked_into()
}

/// Factor names in explanation order.
#[wasm_bindgen(js_name = "factorNames")]
pub fn factor_names() -> StringArray {
    to_js(&FACTOR_NAMES).unchecked_into()
}
