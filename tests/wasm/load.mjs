// Loads the Node build of the WASM scoring package (scripts/build-wasm.sh writes tests/wasm/pkg/)
// and the shared parity vectors.
import { createRequire } from 'node:module';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkgEntry = path.join(here, 'pkg', 'gdlens_scoring_wasm.js');
if (!existsSync(pkgEntry)) {
  throw new Error(`${pkgEntry} is missing: run scripts/build-wasm.sh first`);
}
/** The wasm-bindgen module (CommonJS, --target nodejs). */
export const wasm = createRequire(import.meta.url)(pkgEntry);

export const vectorsDir = path.join(here, 'vectors');

/** Every vector: { name, input, expected }. */
export function loadVectors() {
  return readdirSync(vectorsDir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.expected.json'))
    .sort()
    .map((f) => ({
      name: f.replace(/\.json$/, ''),
      input: JSON.parse(readFileSync(path.join(vectorsDir, f), 'utf8')),
      expected: JSON.parse(readFileSync(path.join(vectorsDir, f.replace(/\.json$/, '.expected.json')), 'utf8')),
    }));
}

const FEATURE_TYPES = {
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
const CODE_TYPES = {
  account: Uint32Array,
  region: Uint32Array,
  findingType: Uint32Array,
  title: Uint32Array,
  resourceType: Uint32Array,
  updatedAt: Float64Array,
};

function typed(columns, types) {
  return Object.fromEntries(Object.entries(types).map(([k, T]) => [k, T.from(columns[k])]));
}

/** A vector's columns as the typed arrays the Ranker takes. */
export function typedColumns(columns) {
  return {
    features: typed(columns.features, FEATURE_TYPES),
    codes: typed(columns.codes, CODE_TYPES),
    dictionaries: columns.dictionaries,
    tieKey: Uint32Array.from(columns.tieKey),
  };
}

/** The IEEE-754 bits of a double as 16 hex digits (as the Rust side writes them). */
export function bits(x) {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}
