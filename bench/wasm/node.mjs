// Node run of the scoring benchmark. Needs scripts/build-wasm.sh first (uses tests/wasm/pkg).
//   node bench/wasm/node.mjs
import { createRequire } from 'node:module';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { runBenchmark } from './core.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const wasm = createRequire(import.meta.url)(path.join(root, 'tests/wasm/pkg/gdlens_scoring_wasm.js'));
const result = runBenchmark({ wasm, now: () => performance.now() });
result.runtime = `node ${process.version}`;
result.wasmBytes = statSync(path.join(root, 'web/src/wasm/gdlens_scoring_wasm_bg.wasm')).size;
console.log(JSON.stringify(result, null, 2));
if (!result.sameOrder || !result.sameScores) {
  console.error('WASM and JavaScript disagree: the baseline is not the same scoring');
  process.exit(1);
}
