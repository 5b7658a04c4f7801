// The coverage view shows the API's matrix: one row per account, gaps first, one cell per region
// marked covered / partial (plans off named in the cell and on hover) / not enabled, and the
// "only gaps" switch keeps only accounts with gaps. The demo organization has planted gaps.

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

const MATRIX = `query($f: CoverageFilter) { coverageMatrix(filter: $f) {
  regions { region }
  accounts { accountId gapCount cells { region state plansDisabled } }
  totals { covered partial notEnabled }
} }`;

const rowsOf = (page) =>
  page.$$eval('[data-testid="coverage-row"]', (rows) =>
    rows.map((r) => ({
      accountId: r.dataset.account,
      gapCount: Number(r.dataset.gaps),
      cells: [...r.querySelectorAll('[data-testid="coverage-cell"]')].map((c) => ({
        region: c.dataset.region,
        state: c.dataset.state,
        plansDisabled: c.dataset.off ? c.dataset.off.split(',') : [],
      })),
    })),
  );

test('the coverage matrix equals the API, gaps first, with plans off in the cell and on hover', async () => {
  const { page, errors } = b;
  await open(page, '#/coverage');
  await page.waitForSelector('body[data-ready-coverage="1"]');
  await page.waitForSelector('[data-testid="coverage-row"]');
  const api = (await gql(MATRIX, { f: {} })).coverageMatrix;
  assert.ok(api.accounts.length > 0, 'the demo records coverage');
  assert.deepEqual(await rowsOf(page), api.accounts);
  const regions = await page.$$eval('[data-testid="coverage-region"]', (h) => h.map((x) => x.textContent.trim()));
  assert.deepEqual(regions, api.regions.map((r) => r.region));

  // The demo's planted gaps: a not-enabled cell sorts to the top, a partial cell names its plan.
  const states = api.accounts.flatMap((a) => a.cells.map((c) => c.state));
  assert.ok(states.includes('NOT_ENABLED') && states.includes('PARTIAL') && states.includes('COVERED'));
  const first = await page.$$eval('[data-testid="coverage-row"]:first-child [data-testid="coverage-cell"]', (c) =>
    c.map((x) => x.dataset.state),
  );
  assert.ok(first.includes('NOT_ENABLED'), 'gaps first');
  const partial = await page.$eval('[data-testid="coverage-cell"][data-state="PARTIAL"]', (c) => ({
    text: c.textContent,
    title: c.getAttribute('title'),
    off: c.dataset.off,
  }));
  assert.match(partial.text, / off$/);
  assert.ok(partial.title.includes(partial.off.split(',')[0]), partial.title);
  const totals = await page.$eval('[data-testid="coverage-totals"]', (t) => ({ ...t.dataset }));
  assert.deepEqual(
    [Number(totals.covered), Number(totals.partial), Number(totals.notEnabled)],
    [api.totals.covered, api.totals.partial, api.totals.notEnabled],
  );
  await screenshot(page, 'coverage');

  // Only accounts with gaps.
  const gaps = (await gql(MATRIX, { f: { gapsOnly: true } })).coverageMatrix.accounts;
  assert.ok(gaps.length > 0 && gaps.length < api.accounts.length);
  await page.click('[data-testid="coverage-gaps-only"]');
  await page.waitForFunction(
    (n) => document.querySelectorAll('[data-testid="coverage-row"]').length === n,
    gaps.length,
  );
  assert.deepEqual(await rowsOf(page), gaps);
  assert.deepEqual(errors, []);
});
