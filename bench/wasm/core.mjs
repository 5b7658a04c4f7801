// The benchmark itself, shared by Node (node.mjs) and Chromium (chromium.mjs): score + filter +
// rank 100,000 findings in WASM and with the idiomatic JavaScript baseline, side by side.
import { makeFindings } from './data.mjs';
import { rankFindings } from './js-scoring.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs the benchmark against a loaded wasm-bindgen module; `now` is a millisecond clock. */
export function runBenchmark({ wasm, now, n = 100_000, iterations = 31, warmup = 5 }) {
  const data = makeFindings(n);
  const filter = { severityMin: 4 };

  const t0 = now();
  const ranker = new wasm.Ranker(data.features, data.codes, data.dictionaries, data.tieKey);
  const loadMs = now() - t0;

  // Each iteration moves a "slider": new weights every time, as the UI does.
  const weightsAt = (i) => ({ severity: 40 + (i % 7), recency: 10 + (i % 3) });
  const wasmTimes = [];
  const jsTimes = [];
  let wasmOrder;
  let jsRanked;
  for (let i = 0; i < warmup + iterations; i++) {
    // Alternate which side runs first so neither always gets the warmer caches.
    const sides = i % 2 ? ['js', 'wasm'] : ['wasm', 'js'];
    for (const side of sides) {
      const start = now();
      if (side === 'wasm') {
        wasmOrder = ranker.rank(weightsAt(i), filter);
      } else {
        jsRanked = rankFindings(data.objects, weightsAt(i), filter);
      }
      const ms = now() - start;
      if (i >= warmup) (side === 'wasm' ? wasmTimes : jsTimes).push(ms);
    }
  }
  // Same answer from both (the last iteration used the same weights on both sides).
  const scores = ranker.scores();
  const sameOrder = jsRanked.length === wasmOrder.length && jsRanked.every((r, k) => r.finding.row === wasmOrder[k]);
  const sameScores = jsRanked.every((r) => Object.is(r.score, scores[r.finding.row]));
  ranker.free();
  const wasmMedian = median(wasmTimes);
  const jsMedian = median(jsTimes);
  return {
    findings: n,
    passingFilter: wasmOrder.length,
    iterations,
    loadColumnsMs: loadMs,
    wasmMedianMs: wasmMedian,
    wasmMinMs: Math.min(...wasmTimes),
    wasmMaxMs: Math.max(...wasmTimes),
    jsMedianMs: jsMedian,
    jsMinMs: Math.min(...jsTimes),
    speedup: jsMedian / wasmMedian,
    sameOrder,
    sameScores,
  };
}
