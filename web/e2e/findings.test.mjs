// The findings view ranks locally in WASM exactly as the server ranks natively, re-ranks on a
// slider move without a server round trip, and narrows with a filter.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gql, launch, open, rankSeq, screenshot, serverTopIds, waitForRank } from './harness.mjs';

const TOP = 50;
let b;
before(async () => {
  b = await launch();
});
after(async () => {
  await b?.close();
});

async function pageTopIds(page, n) {
  return page.evaluate((k) => window.__gdlens.topIds().slice(0, k), n);
}

test('default order equals the server PRIORITY order', async () => {
  const { page, errors } = b;
  await open(page, '#/findings');
  await page.waitForSelector('body[data-ready-findings="1"]');
  const server = await serverTopIds(TOP, null);
  const shown = Number(await page.getAttribute('[data-testid="rank-count"]', 'data-value'));
  assert.equal(shown, server.totalCount);
  assert.deepEqual(await pageTopIds(page, TOP), server.ids);
  // The rows drawn are the first ranked ids, each with its explanation.
  const rowIds = await page.$$eval('[data-testid="finding-row"]', (r) => r.slice(0, 5).map((x) => x.dataset.findingId));
  assert.deepEqual(rowIds, server.ids.slice(0, 5));
  const explained = await page.$$eval('[data-testid="score-explanation"]', (r) => r.slice(0, 5).map((x) => x.textContent));
  for (const e of explained) assert.match(e, /\d/);
  assert.equal(typeof (await page.evaluate(() => window.__gdlens.lastRankMs)), 'number');
  await screenshot(page, 'findings');
  assert.deepEqual(errors, []);
});

test('the columns arrive as one compressed Arrow IPC stream, not as GraphQL JSON', async () => {
  const { page, errors } = b;
  const features = [];
  const graphqlFeatures = [];
  const onResponse = (r) => {
    if (r.url().endsWith('/api/scoring-features')) features.push(r);
  };
  const onRequest = (r) => {
    if (r.url().includes('/graphql') && (r.postData() ?? '').includes('scoringFeatures')) graphqlFeatures.push(r);
  };
  page.on('response', onResponse);
  page.on('request', onRequest);
  await open(page, '#/findings');
  await page.waitForSelector('body[data-ready-findings="1"]');
  page.off('response', onResponse);
  page.off('request', onRequest);
  assert.equal(features.length, 1);
  const r = features[0];
  assert.equal(r.status(), 200);
  assert.equal(r.request().method(), 'POST');
  const h = await r.allHeaders();
  assert.equal(h['content-type'], 'application/vnd.apache.arrow.stream');
  assert.ok(['zstd', 'gzip'].includes(h['content-encoding']), h['content-encoding']);
  assert.equal(graphqlFeatures.length, 0, 'no scoringFeatures over GraphQL');
  assert.deepEqual(errors, []);
});

test('moving weight sliders reorders the list exactly as the server does for those weights', async () => {
  const { page } = b;
  await open(page, '#/findings');
  await page.waitForSelector('body[data-ready-findings="1"]');
  const before = await pageTopIds(page, TOP);

  // Count the GraphQL requests the page makes: re-ranking must make none.
  let requests = 0;
  const onRequest = (r) => {
    if (r.url().includes('/graphql')) requests++;
  };
  page.on('request', onRequest);
  let seq = await rankSeq(page);
  await page.fill('[data-testid="weight-severity"]', '0');
  await waitForRank(page, seq);
  seq = await rankSeq(page);
  await page.fill('[data-testid="weight-rarity"]', '100');
  await waitForRank(page, seq);
  seq = await rankSeq(page);
  await page.fill('[data-testid="weight-recency"]', '60');
  await waitForRank(page, seq);
  page.off('request', onRequest);
  assert.equal(requests, 0, 're-ranking made no server round trip');

  const weights = { severity: 0, criticality: 15, rarity: 100, recency: 60, count: 5, exposure: 5, group: 10 };
  const server = await serverTopIds(TOP, weights);
  const after = await pageTopIds(page, TOP);
  assert.deepEqual(after, server.ids);
  assert.notDeepEqual(after, before, 'the new weights change the order');
  await screenshot(page, 'findings-reweighted');
});

test('a text filter narrows the list to the matching findings, in the same order as the server', async () => {
  const { page } = b;
  await open(page, '#/findings');
  await page.waitForSelector('body[data-ready-findings="1"]');
  const all = Number(await page.getAttribute('[data-testid="rank-count"]', 'data-value'));
  const seq = await rankSeq(page);
  await page.fill('[data-testid="local-search"]', 'recon');
  await waitForRank(page, seq);
  const narrowed = Number(await page.getAttribute('[data-testid="rank-count"]', 'data-value'));
  const server = await serverTopIds(TOP, null, { search: 'recon' });
  assert.ok(narrowed > 0 && narrowed < all, `${narrowed} of ${all}`);
  assert.equal(narrowed, server.totalCount);
  assert.deepEqual(await pageTopIds(page, TOP), server.ids);
  const texts = await page.$$eval('[data-testid="finding-row"]', (r) => r.map((x) => x.textContent.toLowerCase()));
  for (const t of texts) assert.ok(t.includes('recon'), t);
  await screenshot(page, 'findings-filtered');
});

test('a finding type filter keeps only that type', async () => {
  const { page } = b;
  await open(page, '#/findings');
  await page.waitForSelector('body[data-ready-findings="1"]');
  const type = await page.$eval('[data-testid="finding-row"] code', (c) => c.textContent);
  const seq = await rankSeq(page);
  await page.selectOption('[data-testid="local-type"]', type);
  await waitForRank(page, seq);
  const api = await gql('query($f: FindingFilter){ findings(filter: $f, first: 1) { totalCount } }', { f: { types: [type] } });
  assert.equal(Number(await page.getAttribute('[data-testid="rank-count"]', 'data-value')), api.findings.totalCount);
  const types = await page.$$eval('[data-testid="finding-row"] code', (c) => c.map((x) => x.textContent));
  for (const t of types) assert.equal(t, type);
});
