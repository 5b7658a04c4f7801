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
  // `rank` returns a fresh Uint32Array (what web/ uses); `rankInto` fills a reused buffer.
  const times = { wasm: [], wasmInto: [], js: [] };
  const orderBuffer = new Uint32Array(ranker.length);
  let wasmOrder;
  let intoCount;
  let jsRanked;
  const run = {
    wasm: (w) => { wasmOrder = ranker.rank(w, filter); },
    wasmInto: (w) => { intoCount = ranker.rankInto(w, filter, orderBuffer); },
    js: (w) => { jsRanked = rankFindings(data.objects, w, filter); },
  };
  const rotations = [['wasm', 'js', 'wasmInto'], ['js', 'wasmInto', 'wasm'], ['wasmInto', 'wasm', 'js']];
  for (let i = 0; i < warmup + iterations; i++) {
    // Rotate which side runs first so none always gets the warmer caches.
    for (const side of rotations[i % 3]) {
      const start = now();
      run[side](weightsAt(i));
      const ms = now() - start;
      if (i >= warmup) times[side].push(ms);
    }
  }
  // Same answer from all (the last iteration used the same weights on every side).
  const scores = ranker.scores();
  const sameOrder = jsRanked.length === wasmOrder.length
    && jsRanked.every((r, k) => r.finding.row === wasmOrder[k])
    && intoCount === wasmOrder.length
    && wasmOrder.every((row, k) => orderBuffer[k] === row);
  const sameScores = jsRanked.every((r) => Object.is(r.score, scores[r.finding.row]));
  ranker.free();
  const wasmTimes = times.wasm;
  const jsTimes = times.js;
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
    wasmRankIntoMedianMs: median(times.wasmInto),
    jsMedianMs: jsMedian,
    jsMinMs: Math.min(...jsTimes),
    speedup: jsMedian / wasmMedian,
    sameOrder,
    sameScores,
  };
}
