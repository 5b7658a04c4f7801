// Decodes the Arrow IPC stream of `POST /api/scoring-features` (contract: docs/scoring.md) into
// the typed arrays the WASM Ranker takes, viewing the response buffer. Loaded on demand by
// features.ts: apache-arrow stays out of the views that do not rank.

import { tableFromIPC } from 'apache-arrow';
import type { Vector } from 'apache-arrow';
import { ApiError } from './api';
import type { FeatureDictionaries, FeaturePayload } from './features';
import type { CodeArrays, FeatureArrays } from './wasm/gdlens_scoring_wasm.js';

type Typed = Float64Array | Uint32Array | Uint8Array;
type TypedCtor = Float64ArrayConstructor | Uint32ArrayConstructor | Uint8ArrayConstructor;

/** Feature columns and the typed array each must arrive as (as `FeatureArrays`). */
const FEATURE_TYPES: Record<keyof FeatureArrays, TypedCtor> = {
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

/** Dictionary-encoded columns and the dictionary each fills. */
const CODE_DICTIONARIES: Record<Exclude<keyof CodeArrays, 'updatedAt'>, keyof FeatureDictionaries> = {
  account: 'accounts',
  region: 'regions',
  findingType: 'types',
  title: 'titles',
  resourceType: 'resourceTypes',
};

function malformed(message: string): ApiError {
  return new ApiError(`scoring features: ${message}`, 'BAD_RESPONSE');
}

/** The single chunk of a column (the server sends one record batch). */
function chunk(v: Vector | null, name: string) {
  if (!v) throw malformed(`column ${name} is missing`);
  if (v.data.length !== 1) throw malformed(`column ${name} has ${v.data.length} chunks, expected 1`);
  if (v.nullCount !== 0) throw malformed(`column ${name} has nulls`);
  return v.data[0];
}

/** A primitive column's values as the typed array `ctor`, viewing the Arrow buffer. */
function values(v: Vector | null, name: string, ctor: TypedCtor): Typed {
  const d = chunk(v, name);
  if (!(d.values instanceof ctor)) throw malformed(`column ${name} is not ${ctor.name}`);
  return (d.values as Typed).subarray(0, d.length);
}

/** A dictionary column: its Uint32 codes (viewing the Arrow buffer) and its strings. */
function dictionary(v: Vector | null, name: string): { codes: Uint32Array; strings: string[] } {
  const d = chunk(v, name);
  if (!(d.values instanceof Uint32Array) || !d.dictionary) {
    throw malformed(`column ${name} is not dictionary-encoded with Uint32 codes`);
  }
  return { codes: d.values.subarray(0, d.length), strings: d.dictionary.toArray() as string[] };
}

/** Decodes the Arrow IPC stream of `POST /api/scoring-features`. */
export function decodeFeatures(bytes: Uint8Array): FeaturePayload {
  const table = tableFromIPC(bytes);
  const meta = table.schema.metadata;
  if (meta.get('gdlens.format') !== '1') throw malformed(`unknown format ${meta.get('gdlens.format')}`);
  const features = {} as Record<string, Typed>;
  for (const [name, ctor] of Object.entries(FEATURE_TYPES)) {
    features[name] = values(table.getChild(name), name, ctor);
  }
  const codes = {} as Record<string, Typed>;
  const dictionaries = {} as Record<string, string[]>;
  for (const [name, dict] of Object.entries(CODE_DICTIONARIES)) {
    const c = dictionary(table.getChild(name), name);
    codes[name] = c.codes;
    dictionaries[dict] = c.strings;
  }
  codes.updatedAt = values(table.getChild('updatedAt'), 'updatedAt', Float64Array);
  const ids = table.getChild('id');
  if (!ids) throw malformed('column id is missing');
  return {
    n: table.numRows,
    // Decoded on demand: only the rows on screen (and the tests' top ids) need their id.
    id: (i) => ids.get(i) as string,
    features: features as unknown as FeatureArrays,
    codes: codes as unknown as CodeArrays,
    dictionaries: dictionaries as unknown as FeatureDictionaries,
    nowMs: Number(meta.get('nowMs')),
    generation: Number(meta.get('generation')),
  };
}

