// The findings view's columns from `POST /api/scoring-features`: one Arrow IPC stream (see
// docs/web.md), decoded with apache-arrow (features-arrow.ts, loaded with the first fetch so the
// other views' bundle does not carry it). The feature and code columns come out as typed arrays
// viewing the response's own buffer, which the WASM Ranker takes as they are: no JSON, no copy
// in JS.

import { ApiError, apiUrl } from './api';
import { authHeaders, reportAuthFailure } from './auth';
import type { FindingFilterInput } from './api';
import type { CodeArrays, FeatureArrays } from './wasm/gdlens_scoring_wasm.js';

/** The media type the server answers with. */
export const ARROW_STREAM = 'application/vnd.apache.arrow.stream';

/** The strings behind the dictionary codes (the Ranker's `Dictionaries`). */
export interface FeatureDictionaries {
  accounts: string[];
  regions: string[];
  types: string[];
  titles: string[];
  resourceTypes: string[];
}

/** The scoring features of a set of findings, row `i` of every column being the same finding. */
export interface FeaturePayload {
  /** Number of findings. */
  n: number;
  /** Finding id of row `i` (rows are in id order, so row order breaks score ties as the server). */
  id(i: number): string;
  features: FeatureArrays;
  codes: CodeArrays;
  dictionaries: FeatureDictionaries;
  /** Stable tie key per row; absent → the row number. */
  tieKey?: Uint32Array;
  /** Server time (epoch ms) the ages were computed at, and the data generation. */
  nowMs: number;
  generation: number;
}

type Typed = Float64Array | Uint32Array | Uint8Array;

/** Fetches and decodes the scoring features of the findings matching `filter` (up to 100,000). */
export async function fetchFeatures(filter: FindingFilterInput): Promise<FeaturePayload> {
  // The decoder loads while the request is in flight.
  const decoder = import('./features-arrow');
  const url = apiUrl('api/scoring-features');
  let res: Response;
  const sent = authHeaders();
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: `${ARROW_STREAM}, application/json`, ...sent },
      body: JSON.stringify({ filter }),
    });
  } catch (e) {
    throw new ApiError(`cannot reach ${url}: ${String(e)}`, 'NETWORK');
  }
  const type = res.headers.get('content-type') ?? '';
  if (!res.ok || !type.startsWith(ARROW_STREAM)) {
    // Errors come in GraphQL's shape: {errors: [{message, extensions: {code}}]}.
    const body = await res.json().catch(() => null);
    const first = body?.errors?.[0];
    if (res.status === 401 || res.status === 403) reportAuthFailure(res.status, first?.extensions?.code, first?.message ?? '', 'authorization' in sent);
    throw new ApiError(first?.message ?? `${url} answered ${res.status}`, first?.extensions?.code ?? 'BAD_RESPONSE');
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  return (await decoder).decodeFeatures(bytes);
}

/** The payload repeated row-wise up to `rows` rows (benchmark input of a given size). */
export function tilePayload(p: FeaturePayload, rows: number): FeaturePayload {
  const n = p.n;
  const tile = <T extends Typed>(col: T): T => {
    const out = new (col.constructor as { new (len: number): T })(rows);
    for (let i = 0; i < rows; i++) out[i] = col[i % n];
    return out;
  };
  const map = <C extends object>(cols: C): C =>
    Object.fromEntries(Object.entries(cols).map(([k, v]) => [k, tile(v as Typed)])) as C;
  return {
    ...p,
    n: rows,
    id: (i) => `${p.id(i % n)}#${Math.floor(i / n)}`,
    features: map(p.features),
    codes: map(p.codes),
    tieKey: Uint32Array.from({ length: rows }, (_, i) => i),
  };
}
