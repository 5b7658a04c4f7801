// Local ranking: the server's `scoringFeatures` columns fed once into the WASM `Ranker`
// (crates/gdlens-scoring-wasm), re-ranked and filtered in the page on every slider or filter
// change, with exactly the server's scores and order.

import { gql } from './api';
import type { FindingFilterInput, SeverityLabel } from './api';
import init, * as wasm from './wasm/gdlens_scoring_wasm.js';

/** The factor weights the sliders control (names as in `WeightsInput` and the scoring crate). */
export const FACTORS: { key: WeightKey; label: string }[] = [
  { key: 'severity', label: 'Severity' },
  { key: 'criticality', label: 'Account criticality' },
  { key: 'rarity', label: 'Rarity' },
  { key: 'recency', label: 'Recency' },
  { key: 'exposure', label: 'Resource exposure' },
  { key: 'group', label: 'Finding group' },
  { key: 'count', label: 'Occurrences' },
];
export type WeightKey = 'severity' | 'criticality' | 'rarity' | 'recency' | 'exposure' | 'group' | 'count';
export type WeightSet = Record<WeightKey, number>;

/** The scoring crate's default weights (`Weights::default`). */
export const DEFAULT_WEIGHTS: WeightSet = {
  severity: 40,
  criticality: 15,
  rarity: 15,
  recency: 10,
  count: 5,
  exposure: 5,
  group: 10,
};

/** The columnar payload of `scoringFeatures(filter)` (the scoring crate's `FindingColumns` + ids). */
export interface FeaturePayload {
  ids: string[];
  features: Record<string, (number | null)[]>;
  codes: Record<string, number[]>;
  dictionaries: {
    accounts: string[];
    regions: string[];
    types: string[];
    titles: string[];
    resourceTypes: string[];
  };
  /** Stable tie key per row; absent → the row number (the server sends rows in id order). */
  tieKey?: number[];
  nowMs?: number;
  [extra: string]: unknown;
}

/** Typed-array constructor of each feature column (as `FeatureArrays` in the WASM typings). */
const FEATURE_TYPES: Record<string, Float64ArrayConstructor | Uint32ArrayConstructor | Uint8ArrayConstructor> = {
  severity: Float64Array,
  criticality: Uint8Array,
  typeCount: Uint32Array,
  ageHours: Float64Array,
  count: Uint32Array,
  resourceFindings: Uint32Array,
  resourceDistinctTypes: Uint32Array,
  groupTactics: Uint8Array,
  groupSeverity: Float64Array,
  archived: Uint8Array,
  triage: Uint8Array,
  sample: Uint8Array,
};
const CODE_TYPES: Record<string, Float64ArrayConstructor | Uint32ArrayConstructor> = {
  account: Uint32Array,
  region: Uint32Array,
  findingType: Uint32Array,
  title: Uint32Array,
  resourceType: Uint32Array,
  updatedAt: Float64Array,
};

/** JSON columns → typed arrays. JSON has no Infinity: a `null` age means "never seen" (+∞). */
function typed<T>(cols: Record<string, (number | null)[]>, types: Record<string, { from(a: ArrayLike<number>): unknown }>, owner: string): T {
  const out: Record<string, unknown> = {};
  for (const [name, ctor] of Object.entries(types)) {
    const col = cols[name];
    if (!Array.isArray(col)) throw new Error(`scoringFeatures: ${owner}.${name} is missing`);
    out[name] = ctor.from(col.map((v) => (v === null ? Infinity : v)));
  }
  return out as T;
}

/** What the local filter can restrict (in strings; translated to dictionary codes here). */
export interface LocalFilter {
  search?: string;
  types?: string[];
  typePrefix?: string;
  severityLabels?: SeverityLabel[];
}

/** One factor of a score explanation. */
export interface Contribution {
  name: string;
  contribution: number;
}

/** The result of one local re-rank. */
export interface RankResult {
  /** Row numbers of the matching findings, best first. */
  order: Uint32Array;
  /** Milliseconds the WASM rank + filter took. */
  ms: number;
}

const FEATURES_QUERY = `
query ScoringFeatures($filter: FindingFilter) { scoringFeatures(filter: $filter) }`;

let ready: Promise<unknown> | null = null;

/** Loads and instantiates the WASM module once. */
export function loadWasm(): Promise<unknown> {
  ready ??= init();
  return ready;
}

/** Fetches the scoring features of the findings matching `filter` (up to the server's cap). */
export async function fetchFeatures(filter: FindingFilterInput): Promise<FeaturePayload> {
  const d = await gql<{ scoringFeatures: FeaturePayload | string }>(FEATURES_QUERY, { filter });
  const p = d.scoringFeatures;
  return typeof p === 'string' ? (JSON.parse(p) as FeaturePayload) : p;
}

/** The payload repeated row-wise up to `rows` rows (benchmark input of a given size). */
export function tilePayload(p: FeaturePayload, rows: number): FeaturePayload {
  const n = p.ids.length;
  const pick = <T,>(col: T[]): T[] => Array.from({ length: rows }, (_, i) => col[i % n]);
  const map = (cols: Record<string, number[]>) =>
    Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, Array.isArray(v) && v.length === n ? pick(v) : v]));
  return {
    ...p,
    ids: Array.from({ length: rows }, (_, i) => `${p.ids[i % n]}#${Math.floor(i / n)}`),
    features: map(p.features as Record<string, number[]>),
    codes: map(p.codes),
    tieKey: Array.from({ length: rows }, (_, i) => i),
  };
}

/** The loaded findings and the WASM ranker over them. */
export class LocalRanking {
  readonly payload: FeaturePayload;
  readonly n: number;
  private readonly ranker: wasm.Ranker;
  private scores: Float64Array = new Float64Array(0);
  private weights: WeightSet = { ...DEFAULT_WEIGHTS };

  constructor(payload: FeaturePayload) {
    this.payload = payload;
    this.n = payload.ids.length;
    this.ranker = new wasm.Ranker(
      typed<wasm.FeatureArrays>(payload.features, FEATURE_TYPES, 'features'),
      typed<wasm.CodeArrays>(payload.codes, CODE_TYPES, 'codes'),
      payload.dictionaries,
      payload.tieKey ? Uint32Array.from(payload.tieKey) : Uint32Array.from({ length: this.n }, (_, i) => i),
    );
  }

  /** Ranks every loaded finding with `weights`, keeps those passing `filter`. */
  rank(weights: WeightSet, filter: LocalFilter): RankResult {
    const spec = this.filterSpec(filter);
    const t0 = performance.now();
    const order = this.ranker.rank(weights, spec as wasm.FilterSpec);
    const ms = performance.now() - t0;
    this.scores = this.ranker.scores();
    this.weights = weights;
    return { order, ms };
  }

  /** The score of row `i` under the last weights. */
  score(i: number): number {
    return this.scores[i];
  }

  /** Each factor's contribution to row `i`'s score under the last weights. */
  explain(i: number): Contribution[] {
    return this.ranker.explain(i, this.weights).factors;
  }

  /** Row `i`'s display fields, decoded from the columns. */
  row(i: number) {
    const { codes, dictionaries: d, features } = this.payload;
    return {
      id: this.payload.ids[i],
      account: d.accounts[codes.account[i]],
      region: d.regions[codes.region[i]],
      type: d.types[codes.findingType[i]],
      title: d.titles[codes.title[i]],
      severity: features.severity[i] ?? 0,
      updatedAt: codes.updatedAt[i],
    };
  }

  /** A `FilterSpec` (the scoring crate's filter in dictionary codes) for a local filter. */
  private filterSpec(f: LocalFilter): Record<string, unknown> {
    const spec: Record<string, unknown> = {};
    if (f.search && f.search.trim()) spec.search = f.search;
    if (f.typePrefix) spec.typePrefix = f.typePrefix;
    if (f.types && f.types.length) {
      const want = new Set(f.types);
      spec.types = this.payload.dictionaries.types.flatMap((t, c) => (want.has(t) ? [c] : []));
    }
    if (f.severityLabels && f.severityLabels.length) spec.severityLabels = f.severityLabels;
    return spec;
  }
}
