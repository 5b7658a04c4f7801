// Local ranking: the server's scoring features (Arrow IPC, see features.ts) fed once into the WASM `Ranker`
// (crates/gdlens-scoring-wasm), re-ranked and filtered in the page on every slider or filter
// change, with exactly the server's scores and order.

import type { SeverityLabel } from './api';
import type { FeaturePayload } from './features';
import init, * as wasm from './wasm/gdlens_scoring_wasm.js';

export { fetchFeatures, tilePayload } from './features';
export type { FeaturePayload } from './features';

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

let ready: Promise<unknown> | null = null;

/** Loads and instantiates the WASM module once. */
export function loadWasm(): Promise<unknown> {
  ready ??= init();
  return ready;
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
    this.n = payload.n;
    // The typed arrays view the Arrow response buffer; the Ranker copies them into WASM memory.
    this.ranker = new wasm.Ranker(
      payload.features,
      payload.codes,
      payload.dictionaries,
      payload.tieKey ?? Uint32Array.from({ length: this.n }, (_, i) => i),
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
      id: this.payload.id(i),
      account: d.accounts[codes.account[i]],
      region: d.regions[codes.region[i]],
      type: d.types[codes.findingType[i]],
      title: d.titles[codes.title[i]],
      severity: features.severity[i],
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
