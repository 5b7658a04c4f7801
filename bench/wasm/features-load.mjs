// Loading the findings view's columns: `POST /api/scoring-features` (Arrow IPC, plain and gzip)
// against GraphQL `scoringFeatures(limit: 100000)` on a running server, then the client side of
// each in Node (decode → typed arrays → WASM Ranker). Prints a Markdown table; asserts nothing.
//
//   GDLENS_URL=http://127.0.0.1:18080 BENCH_REPS=15 node bench/wasm/features-load.mjs
//
// (server: cargo run --release -p gdlens-api --example bench_server -- FINDINGS.ndjson 127.0.0.1:18080)
//
// Server time: time to the last byte on loopback (so it includes sending the body) and, for the
// IPC route, its `Server-Timing` (column build + IPC encode, before gzip). GraphQL responses are
// cached whole per query text, so each GraphQL request carries a different comment: every
// request is computed. Needs web/node_modules (apache-arrow) and tests/wasm/pkg (WASM build).

import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.join(here, '..', '..');
const require = createRequire(path.join(root, 'web', 'package.json'));
const arrow = require('apache-arrow');
const wasm = createRequire(import.meta.url)(path.join(root, 'tests', 'wasm', 'pkg', 'gdlens_scoring_wasm.js'));

const BASE = process.env.GDLENS_URL ?? 'http://127.0.0.1:18080';
const REPS = Number(process.env.BENCH_REPS ?? 15);
const TOKEN = process.env.GDLENS_TOKEN;
const LIMIT = 100_000;
// With the server's pid (GDLENS_PID, same machine): its CPU time per request, which the other
// engineers' load on a shared machine inflates far less than wall time.
const PID = process.env.GDLENS_PID;
const TICK_MS = 10; // USER_HZ = 100 on Linux
const cpuMs = () => {
  if (!PID) return 0;
  const f = readFileSync(`/proc/${PID}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * TICK_MS; // utime + stime
};

function post(route, body, extraHeaders = {}) {
  const url = new URL(route, BASE);
  const data = Buffer.from(JSON.stringify(body));
  const headers = { 'content-type': 'application/json', 'content-length': data.length, ...extraHeaders };
  if (TOKEN) headers.authorization = `Bearer ${TOKEN}`;
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, bytes: Buffer.concat(chunks), ms: performance.now() - t0 }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

const median = (xs) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs, p) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const f1 = (x) => x.toFixed(1);
const mb = (n) => `${(n / 1e6).toFixed(2)} MB (${n.toLocaleString('en-US')} B)`;

let seq = 0;
const kinds = {
  'IPC, plain': () => post('/api/scoring-features', { limit: LIMIT }),
  'IPC, gzip': () => post('/api/scoring-features', { limit: LIMIT }, { 'accept-encoding': 'gzip' }),
  // What Chromium sends; the server picks zstd.
  'IPC, zstd': () => post('/api/scoring-features', { limit: LIMIT }, { 'accept-encoding': 'gzip, deflate, br, zstd' }),
  'GraphQL JSON': () =>
    post('/graphql', { query: `query($l: Int) { scoringFeatures(limit: $l) } # ${++seq} ${Date.now()}`, variables: { l: LIMIT } }),
};

const results = {};
for (const [name, run] of Object.entries(kinds)) {
  const r = await run(); // warm-up (features and default scores are cached per generation)
  if (r.status !== 200) throw new Error(`${name}: ${r.status} ${r.bytes.toString().slice(0, 300)}`);
  results[name] = { ms: [], serverMs: [], cpu: 0, bytes: r.bytes.length, last: r };
}
for (let k = 0; k < REPS; k++) {
  for (const [name, run] of Object.entries(kinds)) {
    const c0 = cpuMs();
    const r = await run();
    results[name].cpu += cpuMs() - c0;
    results[name].ms.push(r.ms);
    const st = /dur=([\d.]+)/.exec(r.headers['server-timing'] ?? '');
    if (st) results[name].serverMs.push(Number(st[1]));
    results[name].last = r;
    if (r.headers['content-encoding']) results[name].encoding = r.headers['content-encoding'];
  }
}

// Client side: decode + hand to the Ranker.
const FEATURES = ['severity', 'criticality', 'typeCount', 'ageHours', 'count', 'resourceFindings', 'resourceDistinctTypes', 'groupTactics', 'groupSeverity', 'archived', 'triage', 'sample'];
const FEATURE_TYPES = [Float64Array, Uint8Array, Uint32Array, Float64Array, Uint32Array, Uint32Array, Uint32Array, Uint8Array, Float64Array, Uint8Array, Uint8Array, Uint8Array];
const CODES = { account: 'accounts', region: 'regions', findingType: 'types', title: 'titles', resourceType: 'resourceTypes' };

function fromIpc(bytes) {
  const t = arrow.tableFromIPC(bytes);
  const features = {};
  for (const name of FEATURES) features[name] = t.getChild(name).data[0].values;
  const codes = {};
  const dictionaries = {};
  for (const [name, dict] of Object.entries(CODES)) {
    const d = t.getChild(name).data[0];
    codes[name] = d.values;
    dictionaries[dict] = d.dictionary.toArray();
  }
  codes.updatedAt = t.getChild('updatedAt').data[0].values;
  return { n: t.numRows, features, codes, dictionaries };
}
function fromJson(bytes) {
  const p = JSON.parse(bytes.toString('utf8')).data.scoringFeatures;
  const features = {};
  FEATURES.forEach((name, i) => (features[name] = FEATURE_TYPES[i].from(p.features[name], (v) => (v === null ? Infinity : v))));
  const codes = {};
  for (const name of Object.keys(CODES)) codes[name] = Uint32Array.from(p.codes[name]);
  codes.updatedAt = Float64Array.from(p.codes.updatedAt);
  return { n: p.ids.length, features, codes, dictionaries: p.dictionaries };
}
function client(decode, bytes) {
  const decodeMs = [];
  const rankerMs = [];
  for (let k = 0; k < 7; k++) {
    const t0 = performance.now();
    const c = decode(bytes);
    const t1 = performance.now();
    const r = new wasm.Ranker(c.features, c.codes, c.dictionaries, Uint32Array.from({ length: c.n }, (_, i) => i));
    const t2 = performance.now();
    r.free();
    decodeMs.push(t1 - t0);
    rankerMs.push(t2 - t1);
  }
  return { decode: median(decodeMs), ranker: median(rankerMs) };
}
const ipcClient = client(fromIpc, results['IPC, plain'].last.bytes);
const jsonClient = client(fromJson, results['GraphQL JSON'].last.bytes);
const rows = fromIpc(results['IPC, plain'].last.bytes).n;

console.log(`${rows.toLocaleString('en-US')} rows, ${REPS} requests each (after one warm-up), ${BASE}\n`);
console.log('| response | bytes on the wire | time to last byte, median (p95) ms | server build + encode (Server-Timing), median ms | server CPU per request, ms |');
console.log('|---|---|---|---|---|');
for (const [name, r] of Object.entries(results)) {
  const st = r.serverMs.length ? f1(median(r.serverMs)) : '–';
  const cpu = PID ? f1(r.cpu / REPS) : '–';
  console.log(`| ${name}${r.encoding ? ` (Content-Encoding: ${r.encoding})` : ''} | ${mb(r.bytes)} | ${f1(median(r.ms))} (${f1(pct(r.ms, 95))}) | ${st} | ${cpu} |`);
}
console.log('\n| client (Node ' + process.version + ') | decode → typed arrays, median ms | new Ranker, median ms |');
console.log('|---|---|---|');
console.log(`| Arrow IPC (apache-arrow) | ${f1(ipcClient.decode)} | ${f1(ipcClient.ranker)} |`);
console.log(`| GraphQL JSON (JSON.parse + typed arrays) | ${f1(jsonClient.decode)} | ${f1(jsonClient.ranker)} |`);
