// Triage and ticket links set from the finding detail persist: the page after a reload and the
// API both show them.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gql, launch, open, screenshot, serverTopIds } from './harness.mjs';

let b;
before(async () => {
  b = await launch();
});
after(async () => {
  await b?.close();
});

const FINDING = `query($id: ID!) { finding(id: $id) { id triage { status assignee note version } ticketLinks { system key url } versions { updatedAt } raw } }`;

test('triage and a ticket link from the UI persist', async () => {
  const { page, errors } = b;
  const { ids } = await serverTopIds(3, null);
  const id = ids[2];
  await open(page, '#/findings');
  await page.waitForSelector(`[data-testid="finding-row"][data-finding-id="${id}"]`);
  await page.click(`[data-testid="finding-row"][data-finding-id="${id}"]`);
  await page.waitForSelector(`[data-testid="finding-detail"][data-finding-id="${id}"]`);
  const before = (await gql(FINDING, { id })).finding;
  assert.equal(await page.textContent('[data-testid="triage-status"]'), before.triage.status);
  assert.equal(await page.locator('[data-testid="version-row"]').count(), before.versions.length);
  assert.ok((await page.textContent('[data-testid="finding-raw"]')).includes(id), 'raw JSON shown');

  // Values unique to this run, so the test holds on a server that already saw it.
  const status = before.triage.status === 'IN_PROGRESS' ? 'ACKNOWLEDGED' : 'IN_PROGRESS';
  const key = `SEC-${Date.now()}`;
  const url = `https://tickets.example.invalid/${key}`;
  await page.selectOption('[data-testid="triage-select"]', status);
  await page.fill('[data-testid="triage-assignee"]', 'alice');
  await page.fill('[data-testid="triage-note"]', 'looking at it from the browser test');
  await page.click('[data-testid="triage-save"]');
  await page.waitForFunction((st) => document.querySelector('[data-testid="triage-status"]')?.textContent === st, status);

  await page.fill('[data-testid="ticket-system"]', 'jira');
  await page.fill('[data-testid="ticket-key"]', key);
  await page.fill('[data-testid="ticket-url"]', url);
  await page.click('[data-testid="ticket-save"]');
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="ticket-link"]').length === n, before.ticketLinks.length + 1);
  await screenshot(page, 'finding-detail');

  await page.reload();
  await page.waitForSelector(`[data-testid="finding-detail"][data-finding-id="${id}"]`);
  assert.equal(await page.textContent('[data-testid="triage-status"]'), status);
  assert.equal(await page.locator('[data-testid="ticket-link"]').count(), before.ticketLinks.length + 1);

  const now = (await gql(FINDING, { id })).finding;
  assert.equal(now.triage.status, status);
  assert.equal(now.triage.assignee, 'alice');
  assert.equal(now.triage.note, 'looking at it from the browser test');
  assert.ok(now.triage.version > before.triage.version);
  assert.deepEqual(
    now.ticketLinks.filter((t) => t.key === key),
    [{ system: 'jira', key, url }],
  );
  assert.deepEqual(errors, []);
});
