// The hardening view lists the API's most common finding types with what to fix, their accounts
// and their trend since the chosen date, and a row drills into that type's findings.

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

const HARDENING = `query($since: DateTime) {
  hardening(limit: 20, since: $since) { findingType whatToFix count accountCount before after }
}`;

test('hardening rows equal the API, with what to fix and the trend, and drill into findings', async () => {
  const { page, errors } = b;
  await open(page, '#/hardening');
  await page.waitForSelector('body[data-ready-hardening="1"]');
  await page.waitForSelector('[data-testid="hardening-row"]');
  const rows = await page.$$eval('[data-testid="hardening-row"]', (r) =>
    r.map((x) => ({
      type: x.dataset.type,
      count: Number(x.dataset.count),
      fix: x.querySelector('[data-testid="hardening-fix"]').textContent,
      accounts: Number(x.querySelector('[data-testid="hardening-accounts"]').dataset.value),
    })),
  );
  // The page asks with "30 days ago" at its own clock: compare what does not depend on it.
  const api = (await gql(HARDENING, { since: new Date(Date.now() - 30 * 86_400_000).toISOString() })).hardening;
  assert.ok(api.length > 0, 'demo data has finding types');
  assert.deepEqual(
    rows,
    api.map((h) => ({ type: h.findingType, count: h.count, fix: h.whatToFix, accounts: h.accountCount })),
  );
  for (const h of api) assert.equal(h.before + h.after, h.count);
  // A shorter trend window moves findings from "since" to "before".
  await page.selectOption('[data-testid="hardening-since"]', '7');
  const api7 = (await gql(HARDENING, { since: new Date(Date.now() - 7 * 86_400_000).toISOString() })).hardening;
  await page.waitForFunction(
    (want) => {
      const r = document.querySelector('[data-testid="hardening-row"]');
      return r && Number(r.dataset.after) === want;
    },
    api7[0].after,
  );
  await screenshot(page, 'hardening');
  // A row drills into the findings of its type.
  await page.click('[data-testid="hardening-row"]');
  await page.waitForFunction(() => location.hash.startsWith('#/findings') && location.hash.includes('types='));
  assert.deepEqual(errors, []);
});
