// The noise view lists the API's suppression suggestions in the server's order with their counts,
// dry-runs a suggestion's own criteria (the count shown equals the suggestion's findingCount and a
// direct dryRunSuppression), flags criteria that hide High/Critical findings loudly, shows invalid
// JSON and server errors with their code, and exports a rule as code.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gql, launch, open, screenshot } from './harness.mjs';

let b;
const RULE = 'e2e-noise-view';
let ruleId = null;
before(async () => {
  b = await launch();
  const d = await gql(
    `mutation($input: SuppressionRuleInput!) { createSuppressionRule(input: $input) { id } }`,
    {
      input: {
        name: RULE,
        description: 'created by the noise view test',
        criteria: { criterion: { type: { equals: ['Recon:EC2/PortProbeUnprotectedPort'] }, severity: { lessThan: 4 } } },
        rank: 3,
      },
    },
  );
  ruleId = d.createSuppressionRule.id;
});
after(async () => {
  if (ruleId) await gql(`mutation($id: ID!) { deleteSuppressionRule(id: $id) }`, { id: ruleId }).catch(() => {});
  await b?.close();
});

const SUGGESTIONS = `query {
  suppressionSuggestions(filter: {}, limit: 10) { id findingCount criteria hiddenHighOrAbove hiddenGroupMembers }
}`;
const DRY_RUN = `query($c: JSON!) { dryRunSuppression(criteria: $c) { findingCount hiddenHighOrAbove } }`;

/** A direct query, retried when the server stopped it for its CPU budget (a debug build on a busy machine). */
async function gqlRetry(query, variables) {
  for (let i = 0; ; i++) {
    try {
      return await gql(query, variables);
    } catch (e) {
      if (i >= 2 || !String(e).includes('BUDGET_EXCEEDED')) throw e;
    }
  }
}

/** Waits for the suggestions; on a BUDGET_EXCEEDED error (shown with its code) uses the view's Retry. */
async function waitForSuggestions(page) {
  for (let i = 0; ; i++) {
    await page.waitForSelector('body[data-ready-noise="1"], [data-testid="suggestions-error"]', { timeout: 60_000 });
    const code = await page.getAttribute('[data-testid="suggestions-error"]', 'data-code').catch(() => null);
    if (code === null) return;
    if (i >= 2 || code !== 'BUDGET_EXCEEDED') throw new Error(`suggestions failed: ${code}`);
    await page.click('[data-testid="suggestions-error-retry"]');
  }
}

/** Replaces the dry-run textarea's text and runs it. */
async function dryRun(page, text) {
  if (text !== undefined) await page.fill('[data-testid="dryrun-criteria"]', text);
  const runs = Number(await page.getAttribute('[data-testid="dryrun"]', 'data-runs'));
  await page.click('[data-testid="dryrun-run"]');
  await page.waitForSelector(`[data-testid="dryrun"][data-runs="${runs + 1}"]`, { timeout: 60_000 });
}

test('suggestions equal the API; a suggestion dry run matches its count; unsafe and invalid criteria are loud', async () => {
  const { page, errors } = b;
  const api = (await gqlRetry(SUGGESTIONS)).suppressionSuggestions;
  assert.ok(api.length > 0, 'demo data has noise patterns');
  await open(page, '#/noise');
  await waitForSuggestions(page);
  const rows = await page.$$eval('[data-testid="suggestion"]', (r) =>
    r.map((x) => ({ id: x.dataset.id, count: Number(x.dataset.count), safe: x.dataset.safe })),
  );
  // Ranked as the server returns them, with their counts; a suggestion hiding anything is not safe.
  assert.deepEqual(
    rows,
    api.map((s) => ({
      id: s.id,
      count: s.findingCount,
      safe: s.hiddenHighOrAbove > 0 || s.hiddenGroupMembers > 0 ? '0' : '1',
    })),
  );
  for (let i = 1; i < api.length; i++) assert.ok(api[i - 1].findingCount >= api[i].findingCount, 'ranked by findings removed');
  const shownCount = await page.textContent('[data-testid="suggestion"] [data-testid="suggestion-count"] strong');
  assert.equal(Number(shownCount), api[0].findingCount);
  // Unsafe suggestions show the warning, safe ones do not.
  const loud = await page.$$eval('[data-testid="suggestion"]', (r) =>
    r.map((x) => ({ unsafe: x.dataset.safe === '0', warned: !!x.querySelector('[data-testid="hides-warning"]') })),
  );
  for (const l of loud) assert.equal(l.warned, l.unsafe);

  // The dry run of the first suggestion's own criteria: prefilled, and the count equals it.
  const first = api[0];
  await page.click('[data-testid="suggestion"] [data-testid="suggestion-try"]');
  const text = await page.inputValue('[data-testid="dryrun-criteria"]');
  assert.deepEqual(JSON.parse(text), first.criteria);
  await dryRun(page);
  await page.waitForSelector('[data-testid="dryrun-result"]');
  const direct = (await gqlRetry(DRY_RUN, { c: first.criteria })).dryRunSuppression;
  assert.equal(direct.findingCount, first.findingCount, 'the dry run of a suggestion matches it');
  assert.equal(Number(await page.textContent('[data-testid="dryrun-count"]')), first.findingCount);
  assert.equal(
    await page.getAttribute('[data-testid="dryrun-result"]', 'data-safe'),
    first.hiddenHighOrAbove > 0 || first.hiddenGroupMembers > 0 ? '0' : '1',
  );
  await screenshot(page, 'noise');

  // Criteria that hide High/Critical findings: loud, never safe.
  const high = { criterion: { severity: { greaterThanOrEqual: 7 } } };
  const highApi = (await gqlRetry(DRY_RUN, { c: high })).dryRunSuppression;
  assert.ok(highApi.hiddenHighOrAbove > 0, 'demo data has High findings');
  await dryRun(page, JSON.stringify(high));
  await page.waitForSelector('[data-testid="dryrun-result"][data-safe="0"] [data-testid="hides-high"]');
  assert.equal(Number(await page.getAttribute('[data-testid="hides-high"]', 'data-value')), highApi.hiddenHighOrAbove);
  assert.equal(Number(await page.textContent('[data-testid="dryrun-count"]')), highApi.findingCount);
  assert.equal(await page.$('[data-testid="dryrun-safe"]'), null);
  await screenshot(page, 'noise-unsafe');

  // Invalid JSON: a clear message with its code, and the view stays.
  await dryRun(page, '{"criterion": {"type": ');
  assert.equal(await page.getAttribute('[data-testid="dryrun-error"]', 'data-code'), 'INVALID_JSON');
  assert.match(await page.textContent('[data-testid="dryrun-error"]'), /INVALID_JSON.*not valid JSON/);
  assert.equal(await page.$('[data-testid="dryrun-result"]'), null);
  assert.ok(await page.$('[data-testid="suggestion"]'), 'the suggestions stay');
  // Valid JSON the server refuses: its extensions.code.
  await dryRun(page, '"not an object"');
  assert.equal(await page.getAttribute('[data-testid="dryrun-error"]', 'data-code'), 'INVALID_CRITERIA');
  assert.deepEqual(errors, []);
});

test('rules are listed and exported as code on demand', async () => {
  const { page, errors } = b;
  await open(page, '#/noise');
  const row = `[data-testid="rule"][data-name="${RULE}"]`;
  await page.waitForSelector(row);
  const cells = await page.$$eval(`${row} td`, (t) => t.map((x) => x.textContent));
  assert.equal(cells[1], 'GDLENS');
  assert.equal(cells[3], 'ARCHIVE');
  assert.equal(cells[4], '3');
  assert.equal(await page.$(`${row} [data-testid="rule-export"]`), null, 'export shown on demand only');
  for (const format of ['TERRAFORM', 'GUARDDUTY', 'CLOUDFORMATION']) {
    const want = (
      await gql(`query($f: SuppressionExportFormat!) { suppressionRules { id export(format: $f) } }`, { f: format })
    ).suppressionRules.find((r) => r.id === ruleId).export;
    await page.selectOption(`${row} [data-testid="rule-export-format"]`, format);
    await page.waitForFunction(
      ([sel, w]) => document.querySelector(sel)?.textContent === w,
      [`${row} [data-testid="rule-export"]`, want],
    );
  }
  assert.match(await page.textContent(`${row} [data-testid="rule-export"]`), /AWS::GuardDuty::Filter/);
  await page.selectOption(`${row} [data-testid="rule-export-format"]`, 'TERRAFORM');
  await page.waitForFunction(
    (sel) => document.querySelector(sel)?.textContent.includes('aws_guardduty_filter'),
    `${row} [data-testid="rule-export"]`,
  );
  await screenshot(page, 'noise-rules');
  assert.deepEqual(errors, []);
});
