// Triage and ticket links set from the finding detail persist: the page after a reload and the
// API both show them.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BASE, gql, launch, screenshot, serverTopIds } from './harness.mjs';

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
  await page.goto(`${BASE}/#/findings`);
  await page.waitForSelector(`[data-testid="finding-row"][data-finding-id="${id}"]`);
  await page.click(`[data-testid="finding-row"][data-finding-id="${id}"]`);
  await page.waitForSelector(`[data-testid="finding-detail"][data-finding-id="${id}"]`);
  const before = (await gql(FINDING, { id })).finding;
  assert.equal(await page.textContent('[data-testid="triage-status"]'), before.triage.status);
  assert.equal(await page.locator('[data-testid="version-row"]').count(), before.versions.length);
  assert.ok((await page.textContent('[data-testid="finding-raw"]')).includes(id), 'raw JSON shown');

  await page.selectOption('[data-testid="triage-select"]', 'IN_PROGRESS');
  await page.fill('[data-testid="triage-assignee"]', 'alice');
  await page.fill('[data-testid="triage-note"]', 'looking at it from the browser test');
  await page.click('[data-testid="triage-save"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="triage-status"]')?.textContent === 'IN_PROGRESS');

  await page.fill('[data-testid="ticket-system"]', 'jira');
  await page.fill('[data-testid="ticket-key"]', 'SEC-4242');
  await page.fill('[data-testid="ticket-url"]', 'https://tickets.example.invalid/SEC-4242');
  await page.click('[data-testid="ticket-save"]');
  await page.waitForSelector('[data-testid="ticket-link"]');
  await screenshot(page, 'finding-detail');

  await page.reload();
  await page.waitForSelector(`[data-testid="finding-detail"][data-finding-id="${id}"]`);
  assert.equal(await page.textContent('[data-testid="triage-status"]'), 'IN_PROGRESS');
  assert.equal(await page.locator('[data-testid="ticket-link"]').count(), before.ticketLinks.length + 1);

  const now = (await gql(FINDING, { id })).finding;
  assert.equal(now.triage.status, 'IN_PROGRESS');
  assert.equal(now.triage.assignee, 'alice');
  assert.equal(now.triage.note, 'looking at it from the browser test');
  assert.ok(now.triage.version > before.triage.version);
  assert.deepEqual(
    now.ticketLinks.filter((t) => t.key === 'SEC-4242'),
    [{ system: 'jira', key: 'SEC-4242', url: 'https://tickets.example.invalid/SEC-4242' }],
  );
  assert.deepEqual(errors, []);
});
