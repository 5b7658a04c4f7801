// WASM side of the native/WASM parity check: every vector in tests/wasm/vectors/ is ranked by the
// WASM build under Node and must give the scores (bit for bit), the order and the explanations
// that the native build committed in <name>.expected.json (crates/gdlens-scoring/tests/parity.rs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { wasm, loadVectors, typedColumns, bits } from './load.mjs';

const vectors = loadVectors();

test('the parity vectors are all present', () => {
  const names = vectors.map((v) => v.name);
  for (const required of ['empty', 'ties', 'zero-weights', 'extreme', 'criticality-triage', 'random-1']) {
    assert.ok(names.includes(required), `missing vector ${required}: ${names}`);
  }
});

for (const { name, input, expected } of vectors) {
  test(`parity: ${name}`, async (t) => {
    const cols = typedColumns(input.columns);
    const ranker = new wasm.Ranker(cols.features, cols.codes, cols.dictionaries, cols.tieKey);
    assert.equal(ranker.length, input.columns.tieKey.length);
    assert.equal(expected.runs.length, input.runs.length);
    // One spare entry: rankInto accepts any buffer at least `length` long.
    const orderBuf = new Uint32Array(ranker.length + 1).fill(0xffffffff);
    const scoresBuf = new Float64Array(ranker.length);
    for (const [i, run] of input.runs.entries()) {
      const want = expected.runs[i];
      await t.test(run.name, () => {
        const order = ranker.rank(run.weights, run.filter);
        const scores = ranker.scores();
        assert.ok(order instanceof Uint32Array);
        assert.ok(scores instanceof Float64Array);
        // Whole-array comparison of the bit patterns: a mismatch shows the first differing row.
        assert.deepEqual(Array.from(scores, bits), want.scores, 'scores differ from native');
        assert.deepEqual(Array.from(order), want.order, 'order differs from native');

        // The allocation-free variants give the same answer (into buffers reused across runs).
        const m = ranker.rankInto(run.weights, run.filter, orderBuf);
        assert.equal(m, want.order.length);
        assert.deepEqual(Array.from(orderBuf.subarray(0, m)), want.order, 'rankInto order');
        ranker.scoresInto(scoresBuf);
        assert.deepEqual(Array.from(scoresBuf, bits), want.scores, 'scoresInto scores');

        // The stand-alone entry points agree with the Ranker.
        assert.deepEqual(Array.from(wasm.scoreAll(cols.features, run.weights), bits), want.scores);
        assert.deepEqual(Array.from(wasm.rank(scores, cols.tieKey, ranker.mask())), want.order);
        assert.deepEqual(Array.from(wasm.rank(scores, cols.tieKey)), want.unfilteredOrder);

        for (const e of want.explain) {
          const s = ranker.explain(e.row, run.weights);
          assert.equal(bits(s.value), e.value, `explain(${e.row}).value`);
          assert.equal(bits(s.base), e.base, `explain(${e.row}).base`);
          assert.equal(bits(s.multiplier), e.multiplier, `explain(${e.row}).multiplier`);
          assert.deepEqual(
            s.factors.map((f) => ({ name: f.name, value: bits(f.value), contribution: bits(f.contribution) })),
            e.factors,
            `explain(${e.row}).factors`,
          );
        }
      });
    }
    ranker.free();
  });
}

test('rankInto and scoresInto reject buffers of the wrong size', () => {
  const { input } = vectors.find((v) => v.name === 'random-1');
  const cols = typedColumns(input.columns);
  const ranker = new wasm.Ranker(cols.features, cols.codes, cols.dictionaries, cols.tieKey);
  assert.throws(() => ranker.rankInto(null, null, new Uint32Array(ranker.length - 1)),
    (e) => e.code === 'SCORING_INVALID_INPUT' && /rankInto/.test(e.message));
  assert.throws(() => ranker.scoresInto(new Float64Array(ranker.length + 1)),
    (e) => e.code === 'SCORING_INVALID_INPUT' && /scoresInto/.test(e.message));
  ranker.free();
});
