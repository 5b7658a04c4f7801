// Headless Chromium run of the scoring benchmark: the same side-by-side run as node.mjs
// (bench/wasm/core.mjs), inside a page, against the browser build of the WASM package.
//   scripts/build-wasm.sh && (cd web && npm ci) && node bench/wasm/chromium.mjs
//
// Serves web/src/wasm/ (the --target web package that the frontend imports) and bench/wasm/ from
// a node http server on 127.0.0.1 (a free port), drives Debian's /usr/bin/chromium (override:
// CHROMIUM=...) through playwright-core taken from web/node_modules (the version web/'s lockfile
// pins; no second copy). The page is cross-origin isolated (COOP/COEP) so performance.now() has
// 5 µs resolution instead of 100 µs.
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const wasmDir = path.join(root, 'web/src/wasm');
const benchDir = path.join(root, 'bench/wasm');

let chromium;
try {
  ({ chromium } = createRequire(path.join(root, 'web/package.json'))('playwright-core'));
} catch {
  console.error('playwright-core is missing from web/node_modules: run `cd web && npm ci` first');
  process.exit(2);
}
try {
  await stat(path.join(wasmDir, 'gdlens_scoring_wasm_bg.wasm'));
} catch {
  console.error(`${wasmDir} has no WASM package: run scripts/build-wasm.sh first`);
  process.exit(2);
}

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>gdlens scoring benchmark</title>
<script type="module">
  import init, * as wasm from '/wasm/gdlens_scoring_wasm.js';
  import { runBenchmark } from '/bench/core.mjs';
  window.runBench = async () => {
    await init();
    return runBenchmark({ wasm, now: () => performance.now() });
  };
  window.benchReady = true;
</script>`;

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

/** Files under `dir` only (no `..` escapes). */
async function serveFrom(dir, rel, res) {
  const file = path.resolve(dir, rel);
  if (!file.startsWith(dir + path.sep)) throw Object.assign(new Error('outside'), { status: 403 });
  const body = await readFile(file);
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
  res.end(body);
}

const server = createServer(async (req, res) => {
  // Cross-origin isolation: finer performance.now() in the page.
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-embedder-policy', 'require-corp');
  res.setHeader('cache-control', 'no-store');
  const url = new URL(req.url, 'http://127.0.0.1');
  try {
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE);
    } else if (url.pathname.startsWith('/wasm/')) {
      await serveFrom(wasmDir, url.pathname.slice('/wasm/'.length), res);
    } else if (url.pathname.startsWith('/bench/')) {
      await serveFrom(benchDir, url.pathname.slice('/bench/'.length), res);
    } else {
      res.writeHead(404).end();
    }
  } catch (e) {
    res.writeHead(e.status ?? 404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
let result;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${base}/`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 });
  result = await page.evaluate(async () => ({
    ...(await window.runBench()),
    crossOriginIsolated: window.crossOriginIsolated,
  }));
  if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  result.runtime = `chromium ${browser.version()}`;
} finally {
  await browser.close();
  server.close();
}
result.wasmBytes = (await stat(path.join(wasmDir, 'gdlens_scoring_wasm_bg.wasm'))).size;
console.log(JSON.stringify(result, null, 2));
if (!result.sameOrder || !result.sameScores) {
  console.error('WASM and JavaScript disagree: the baseline is not the same scoring');
  process.exit(1);
}
