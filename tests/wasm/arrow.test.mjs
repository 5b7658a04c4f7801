// The findings view's two ways of feeding the WASM Ranker give the same ranking: the Arrow IPC
// stream of POST /api/scoring-features (decoded with apache-arrow, typed arrays handed over as
// they come out of the Arrow buffers) and the GraphQL `scoringFeatures` JSON (numbers parsed,
// copied into typed arrays) rank the same rows in the same order with the same score bits.
//
// The fixture is the server's answer to both for the same data (tests/graphql/fixtures); rewrite
// it with: GDLENS_WRITE_IPC_FIXTURE=1 cargo test -p gdlens-api --test features_ipc
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { wasm, bits } from './load.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const webPackage = path.join(here, '..', '..', 'web', 'package.json');
// apache-arrow is the web frontend's dependency, pinned in web/package.json.
if (!existsSync(path.join(here, '..', '..', 'web', 'node_modules', 'apache-arrow'))) {
  throw new Error('web/node_modules/apache-arrow is missing: run (cd web && npm ci) first');
}
const arrow = createRequire(webPackage)('apache-arrow');

const fixtures = path.join(here, 'fixtures');
const ipcBytes = readFileSync(path.join(fixtures, 'scoring-features.arrow'));
const json = JSON.parse(readFileSync(path.join(fixtures, 'scoring-features.json'), 'utf8')).data.scoringFeatures;

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
const CODE_DICTIONARIES = {
  account: 'accounts',
  region: 'regions',
  findingType: 'types',
  title: 'titles',
  resourceType: 'resourceTypes',
};

/** The Arrow path, as web/src/features.ts does it: typed arrays straight from the buffers. */
function fromArrow(bytes) {
  const table = arrow.tableFromIPC(bytes);
  const one = (name) => {
    const v = table.getChild(name);
    assert.ok(v, `column ${name}`);
    assert.equal(v.data.length, 1, `${name}: one chunk`);
    assert.equal(v.nullCount, 0, `${name}: no nulls`);
    return v.data[0];
  };
  const features = {};
  for (const [name, T] of Object.entries(FEATURE_TYPES)) {
    const d = one(name);
    assert.ok(d.values instanceof T, `${name} arrives as ${T.name}`);
    features[name] = d.values.subarray(0, d.length);
  }
  const codes = {};
  const dictionaries = {};
  for (const [name, dict] of Object.entries(CODE_DICTIONARIES)) {
    const d = one(name);
    assert.ok(d.values instanceof Uint32Array, `${name} codes arrive as Uint32Array`);
    codes[name] = d.values.subarray(0, d.length);
    dictionaries[dict] = d.dictionary.toArray();
  }
  const u = one('updatedAt');
  assert.ok(u.values instanceof Float64Array);
  codes.updatedAt = u.values.subarray(0, u.length);
  return {
    n: table.numRows,
    ids: table.getChild('id').toArray(),
    severityLabels: table.getChild('severityLabel').toArray(),
    metadata: table.schema.metadata,
    features,
    codes,
    dictionaries,
  };
}

/** The JSON path, as the frontend did before: JSON has no Infinity, a null age is +∞. */
function fromJson(p) {
  const typed = (cols, names) =>
    Object.fromEntries(names.map(([k, T]) => [k, T.from(cols[k], (v) => (v === null ? Infinity : v))]));
  return {
    n: p.ids.length,
    features: typed(p.features, Object.entries(FEATURE_TYPES)),
    codes: typed(p.codes, [...Object.keys(CODE_DICTIONARIES).map((k) => [k, Uint32Array]), ['updatedAt', Float64Array]]),
    dictionaries: p.dictionaries,
  };
}

const a = fromArrow(ipcBytes);
const j = fromJson(json);

test('the fixture holds enough findings to rank', () => {
  assert.ok(a.n >= 50, `${a.n} rows`);
  assert.equal(a.n, j.n);
});

test('ids, labels, dictionaries and scalars are the JSON ones', () => {
  assert.deepEqual(Array.from(a.ids), json.ids);
  assert.deepEqual(Array.from(a.severityLabels), json.severityLabels);
  assert.deepEqual(a.dictionaries, json.dictionaries);
  assert.equal(a.metadata.get('nowMs'), String(json.nowMs));
  assert.equal(a.metadata.get('generation'), String(json.generation));
  assert.deepEqual(JSON.parse(a.metadata.get('defaultWeights')), json.defaultWeights);
});

test('every column holds the same values, bit for bit', () => {
  for (const name of Object.keys(FEATURE_TYPES)) {
    assert.deepEqual(Array.from(a.features[name], bits), Array.from(j.features[name], bits), name);
  }
  for (const name of Object.keys(j.codes)) {
    assert.deepEqual(Array.from(a.codes[name], bits), Array.from(j.codes[name], bits), name);
  }
});

const RUNS = [
  { name: 'default weights', weights: null, filter: null },
  { name: 'slider moves', weights: { severity: 0, rarity: 100, recency: 60 }, filter: null },
  { name: 'recency only', weights: { severity: 0, criticality: 0, rarity: 0, count: 0, exposure: 0, group: 0 }, filter: null },
  { name: 'text filter', weights: { group: 40 }, filter: { search: 'recon' } },
  { name: 'labels filter', weights: null, filter: { severityLabels: ['HIGH', 'CRITICAL'] } },
  { name: 'first finding type', weights: { count: 30 }, filter: { types: [0] } },
];

test('the Ranker fed from Arrow ranks as the Ranker fed from JSON', async (t) => {
  const tieKey = Uint32Array.from({ length: a.n }, (_, i) => i);
  const fromIpc = new wasm.Ranker(a.features, a.codes, a.dictionaries, tieKey);
  const fromText = new wasm.Ranker(j.features, j.codes, j.dictionaries, tieKey);
  try {
    for (const run of RUNS) {
      await t.test(run.name, () => {
        const order = fromIpc.rank(run.weights, run.filter);
        const want = fromText.rank(run.weights, run.filter);
        assert.ok(order.length > 0, 'some rows pass');
        assert.deepEqual(Array.from(order), Array.from(want), 'order');
        assert.deepEqual(Array.from(fromIpc.scores(), bits), Array.from(fromText.scores(), bits), 'scores');
        // The ids in ranked order: equal scores break by id (rows are in id order).
        const ids = Array.from(order, (i) => a.ids[i]);
        assert.deepEqual(ids, Array.from(want, (i) => json.ids[i]));
      });
    }
  } finally {
    fromIpc.free();
    fromText.free();
  }
});
