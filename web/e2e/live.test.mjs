// Live updates: the header shows the subscription's state, and the finding-groups list and the
// dashboard follow a change made elsewhere (here: a triage through the API) without a reload.

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

const TRIAGE = `mutation($g: ID, $s: TriageStatus!) { setTriage(groupId: $g, status: $s) { findingId } }`;

test('the groups list shows a triage made elsewhere, live', async () => {
  const { page, errors } = b;
  await open(page, '#/groups');
  await page.waitForSelector('[data-testid="live-state"][data-state="live"]');
  await page.waitForSelector('[data-testid="group-row"]');
  const id = await page.$$eval('[data-testid="group-row"]', (rows) =>
    rows.find((r) => r.querySelector('[data-testid="group-row-triage"]')?.textContent === 'NEW')?.dataset.groupId,
  );
  assert.ok(id, 'a NEW group is listed');
  try {
    await gql(TRIAGE, { g: id, s: 'RESOLVED' });
    // No navigation, no reload: the row changes because the server pushed the change.
    await page.waitForFunction(
      (gid) => document.querySelector(`[data-group-id="${gid}"] [data-testid="group-row-triage"]`)?.textContent === 'RESOLVED',
      id,
    );
    await screenshot(page, 'live-groups');
  } finally {
    await gql(TRIAGE, { g: id, s: 'NEW' });
  }
  await page.waitForFunction(
    (gid) => document.querySelector(`[data-group-id="${gid}"] [data-testid="group-row-triage"]`)?.textContent === 'NEW',
    id,
  );
  assert.deepEqual(errors, []);
});

test('the dashboard re-loads when findings change and still equals the API', async () => {
  const { page, errors } = b;
  await open(page, '#/dashboard');
  await page.waitForSelector('body[data-ready-dashboard="1"]');
  await page.waitForSelector('[data-testid="live-state"][data-state="live"]');
  const loaded = Number(await page.evaluate(() => document.body.dataset.dashboardLiveVersion ?? '0'));
  const d = await gql('{ findingGroups(first: 1) { nodes { id triageStatus } } }');
  const g = d.findingGroups.nodes[0];
  try {
    await gql(TRIAGE, { g: g.id, s: 'ACKNOWLEDGED' });
    await page.waitForFunction((v) => Number(document.body.dataset.dashboardLiveVersion ?? '0') > v, loaded);
  } finally {
    await gql(TRIAGE, { g: g.id, s: g.triageStatus });
  }
  const api = await gql('{ summary { total } }');
  const total = Number(await page.getAttribute('[data-testid="tile-total"]', 'data-value'));
  assert.equal(total, api.summary.total);
  await screenshot(page, 'live-dashboard');
  assert.deepEqual(errors, []);
});
