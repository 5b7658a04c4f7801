// The dashboard shows exactly the API's numbers, its widgets' severity filters work, and a click
// on a widget row drills into the matching findings.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gql, launch, open, screenshot } from './harness.mjs';

let b;
before(async () => {
  b = await launch();
});
after(async () => {
  await b?.close();
});

const SUMMARY = `query($f: FindingFilter) {
  summary(filter: $f) {
    total bySeverity { low medium high critical } accountsAffected resourcesAffected attackSequences
    topFindingTypes(limit: 10) { type count }
    topAccounts(limit: 10) { accountId count }
    leastFrequentTypes(limit: 10) { type count }
    findingGroups
    coverage { regions }
  }
}`;

async function tile(page, id) {
  return Number(await page.getAttribute(`[data-testid="tile-${id}"]`, 'data-value'));
}

test('dashboard tiles and widgets equal the API summary', async () => {
  const { page, errors } = b;
  await open(page, '#/dashboard');
  await page.waitForSelector('body[data-ready-dashboard="1"]');
  const api = await gql(SUMMARY, { f: {} });
  const s = api.summary;
  assert.ok(s.total > 0, 'demo data has findings');
  assert.equal(await tile(page, 'total'), s.total);
  assert.equal(await tile(page, 'sev-low'), s.bySeverity.low);
  assert.equal(await tile(page, 'sev-medium'), s.bySeverity.medium);
  assert.equal(await tile(page, 'sev-high'), s.bySeverity.high);
  assert.equal(await tile(page, 'sev-critical'), s.bySeverity.critical);
  assert.equal(await tile(page, 'accounts'), s.accountsAffected);
  assert.equal(await tile(page, 'resources'), s.resourcesAffected);
  assert.equal(await tile(page, 'attack-sequences'), s.attackSequences);
  assert.equal(await tile(page, 'groups'), s.findingGroups);
  assert.equal(Number(await page.getAttribute('[data-testid="coverage-regions"]', 'data-value')), s.coverage.regions.length);

  const types = await page.$$eval('[data-testid="top-types-row"]', (rows) =>
    rows.map((r) => ({ type: r.dataset.type, count: Number(r.dataset.count) })),
  );
  assert.deepEqual(types, s.topFindingTypes);
  await page.waitForSelector('[data-testid="trend-chart"] canvas');

  // Widgets with a severity filter default to High and above, as in the console.
  const high = await gql(SUMMARY, { f: { severityLabels: ['HIGH', 'CRITICAL'] } });
  await page.waitForSelector('[data-testid="top-accounts-row"]');
  const accountCounts = await page.$$eval('[data-testid="top-accounts-row"] td:last-child', (c) => c.map((x) => Number(x.textContent)));
  assert.deepEqual(accountCounts, high.summary.topAccounts.map((a) => a.count));
  await page.waitForSelector('[data-testid="least-frequent-row"], [data-testid="least-frequent-empty"]');
  const least = await page.$$eval('[data-testid="least-frequent-row"] td:first-child', (c) => c.map((x) => x.textContent));
  assert.deepEqual(least, high.summary.leastFrequentTypes.map((t) => t.type));

  // Switching the accounts widget to all severities shows the unfiltered ranking.
  await page.selectOption('[data-testid="top-accounts-severity"]', 'LOW');
  const all = s.topAccounts.map((a) => a.count);
  await page.waitForFunction(
    (want) => JSON.stringify(Array.from(document.querySelectorAll('[data-testid="top-accounts-row"] td:last-child'), (x) => Number(x.textContent))) === JSON.stringify(want),
    all,
  );
  await screenshot(page, 'dashboard');
  assert.deepEqual(errors, []);
});

test('a global severity filter changes the tiles to the API numbers for that filter', async () => {
  const { page } = b;
  await open(page, '#/dashboard');
  await page.waitForSelector('body[data-ready-dashboard="1"]');
  await page.check('[data-testid="filter-severity-critical"]');
  const api = await gql(SUMMARY, { f: { severityLabels: ['CRITICAL'] } });
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="tile-total"]')?.getAttribute('data-value') === String(n),
    api.summary.total,
  );
  assert.equal(await tile(page, 'sev-high'), 0);
  assert.equal(await tile(page, 'accounts'), api.summary.accountsAffected);
});

test('clicking a most-common type drills into exactly its findings', async () => {
  const { page } = b;
  await open(page, '#/dashboard');
  await page.waitForSelector('[data-testid="top-types-row"]');
  const type = await page.getAttribute('[data-testid="top-types-row"] >> nth=0', 'data-type');
  await page.click('[data-testid="top-types-row"] >> nth=0');
  await page.waitForSelector('[data-testid="rank-count"]');
  const api = await gql('query($f: FindingFilter){ findings(filter: $f, first: 1) { totalCount } }', { f: { types: [type] } });
  const shown = Number(await page.getAttribute('[data-testid="rank-count"]', 'data-value'));
  assert.equal(shown, api.findings.totalCount);
  const rowTypes = await page.$$eval('[data-testid="finding-row"] code', (c) => c.map((x) => x.textContent));
  assert.ok(rowTypes.length > 0);
  for (const t of rowTypes) assert.equal(t, type);
});

test('clicking an account in "accounts with most findings" drills into its High+ findings', async () => {
  const { page } = b;
  await open(page, '#/dashboard');
  await page.waitForSelector('[data-testid="top-accounts-row"]');
  const high = await gql(SUMMARY, { f: { severityLabels: ['HIGH', 'CRITICAL'] } });
  const top = high.summary.topAccounts[0];
  await page.click('[data-testid="top-accounts-row"] >> nth=0');
  await page.waitForSelector('body[data-ready-findings="1"]');
  const shown = Number(await page.getAttribute('[data-testid="rank-count"]', 'data-value'));
  assert.equal(shown, top.count);
  const api = await gql('query($f: FindingFilter){ findings(filter: $f, first: 1) { totalCount } }', {
    f: { accountIds: [top.accountId], severityLabels: ['HIGH', 'CRITICAL'] },
  });
  assert.equal(shown, api.findings.totalCount);
});

test('clicking a bar of the severity trend drills into that day and severity', async () => {
  const { page } = b;
  await open(page, '#/dashboard');
  await page.waitForSelector('[data-testid="trend-chart"] canvas');
  const trend = (await gql('{ summary { severityTrend { date low medium high critical } } }')).summary.severityTrend;
  // The tallest segment of the stacked bars (stack order low, medium, high, critical): easy to hit.
  const labels = ['low', 'medium', 'high', 'critical'];
  let pick = null;
  for (const p of trend) {
    let below = 0;
    for (const l of labels) {
      if (!pick || p[l] > pick.count) pick = { date: p.date, label: l, count: p[l], below };
      below += p[l];
    }
  }
  assert.ok(pick.count > 0, 'the trend has findings');
  const at = await page.$eval(
    '[data-testid="trend-chart"]',
    (el, [date, mid]) => {
      const c = el.__chart;
      const r = el.getBoundingClientRect();
      return { x: r.left + c.convertToPixel({ xAxisIndex: 0 }, date), y: r.top + c.convertToPixel({ yAxisIndex: 0 }, mid) };
    },
    [pick.date, pick.below + pick.count / 2],
  );
  await page.mouse.click(at.x, at.y);
  await page.waitForSelector('body[data-ready-findings="1"]');
  const since = `${pick.date}T00:00:00.000Z`;
  const before = new Date(Date.parse(since) + 86_400_000).toISOString();
  const api = await gql('query($f: FindingFilter){ findings(filter: $f, first: 1) { totalCount } }', {
    f: { updatedSince: since, updatedBefore: before, severityLabels: [pick.label.toUpperCase()] },
  });
  const shown = Number(await page.getAttribute('[data-testid="rank-count"]', 'data-value'));
  assert.equal(shown, api.findings.totalCount);
  assert.equal(shown, pick.count);
});

const SLA = `query($f: FindingFilter) {
  summary(filter: $f) { sla { overdue open bySeverity { low medium high critical } oldestOpen { id } } }
}`;

test('the SLA widget shows the API overdue counts and oldest open finding, and drills into overdue findings', async () => {
  const { page, errors } = b;
  await open(page, '#/dashboard');
  await page.waitForSelector('[data-testid="tile-sla-overdue"]');
  // The answer is judged at the minute: read the API, then the page, and once more if a minute turned.
  let api;
  for (let i = 0; i < 2; i++) {
    api = (await gql(SLA, { f: {} })).summary.sla;
    if ((await tile(page, 'sla-overdue')) === api.overdue) break;
    await open(page, '#/dashboard');
    await page.waitForSelector('[data-testid="tile-sla-overdue"]');
  }
  assert.ok(api.open > 0, 'demo data has open findings');
  assert.equal(await tile(page, 'sla-overdue'), api.overdue);
  for (const l of ['low', 'medium', 'high', 'critical']) {
    assert.equal(await tile(page, `sla-${l}`), api.bySeverity[l], l);
  }
  if (api.oldestOpen) {
    assert.equal(await page.getAttribute('[data-testid="sla-oldest"]', 'data-id'), api.oldestOpen.id);
  }
  await screenshot(page, 'dashboard-sla');
  // A click on the overdue tile lists exactly the overdue findings.
  await page.click('[data-testid="tile-sla-overdue"]');
  await page.waitForFunction(() => location.hash.startsWith('#/findings') && location.hash.includes('overdue=1'));
  await page.waitForSelector('body[data-ready-findings="1"]');
  const want = await gql('query { findings(filter: {overdue: true}, first: 1) { totalCount } }');
  await page.waitForFunction(
    (n) => Number(document.querySelector('[data-testid="rank-count"]')?.getAttribute('data-value')) === n,
    want.findings.totalCount,
  );
  assert.deepEqual(errors, []);
});
