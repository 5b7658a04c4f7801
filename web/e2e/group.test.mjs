// A finding group's story view: tactics in kill-chain order, a drawn entity graph, its members.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gql, launch, open, screenshot } from './harness.mjs';

const KILL_CHAIN = ['TA0043', 'TA0042', 'TA0001', 'TA0002', 'TA0003', 'TA0004', 'TA0005', 'TA0112', 'TA0006', 'TA0007', 'TA0008', 'TA0009', 'TA0011', 'TA0010', 'TA0040'];

let b;
before(async () => {
  b = await launch();
});
after(async () => {
  await b?.close();
});

test('a group shows its tactics in kill-chain order and draws its entity graph', async () => {
  const { page, errors } = b;
  const d = await gql('{ findingGroups(first: 100) { totalCount nodes { id findingCount tactics { id } graph { nodes { id } } } } }');
  assert.ok(d.findingGroups.totalCount > 0, 'demo data has finding groups');
  // The richest story: most tactics, then most members.
  const g = d.findingGroups.nodes
    .slice()
    .sort((a, b) => b.tactics.length - a.tactics.length || b.findingCount - a.findingCount)[0];
  assert.ok(g.tactics.length >= 2, 'the demo has a multi-tactic group');

  await open(page, '#/groups');
  await page.waitForSelector(`[data-testid="group-row"][data-group-id="${g.id}"]`);
  await screenshot(page, 'groups');
  await page.click(`[data-testid="group-row"][data-group-id="${g.id}"]`);
  await page.waitForSelector('body[data-ready-group="1"]');

  // The group as `findingGroup(id)` shows it (the list counts only members matching its filter,
  // e.g. not archived ones; the group view shows every visible member).
  const detail = (
    await gql('query($id: ID!) { findingGroup(id: $id) { findingCount tactics { id } graph { nodes { id } } } }', { id: g.id })
  ).findingGroup;
  const shown = await page.$$eval('[data-testid="killchain-tactic"]', (t) => t.map((x) => x.dataset.tacticId));
  assert.deepEqual(new Set(shown), new Set(detail.tactics.map((t) => t.id)));
  const positions = shown.map((id) => KILL_CHAIN.indexOf(id));
  assert.deepEqual(positions, positions.slice().sort((a, b) => a - b), `kill-chain order: ${shown}`);

  await page.waitForSelector('[data-testid="group-graph"] canvas');
  const nodes = Number(await page.getAttribute('[data-testid="group-graph"]', 'data-nodes'));
  assert.ok(nodes > 0);
  assert.equal(nodes, detail.graph.nodes.length);
  assert.equal(await page.locator('[data-testid="group-finding"]').count(), detail.findingCount);
  assert.ok((await page.locator('[data-testid="timeline-event"]').count()) > 0);
  // Related Detective investigations: as many as the API lists for the group (when the schema has them).
  const hasInvestigations = (await gql('{ __type(name: "FindingGroup") { fields { name } } }')).__type.fields.some(
    (f) => f.name === 'investigations',
  );
  if (hasInvestigations) {
    const inv = (await gql('query($id: ID!) { findingGroup(id: $id) { investigations { id } } }', { id: g.id })).findingGroup
      .investigations;
    await page.waitForSelector('[data-testid="group-investigations"] p, [data-testid="investigation"]');
    assert.equal(await page.locator('[data-testid="investigation"]').count(), inv.length);
  }
  await screenshot(page, 'group');
  assert.deepEqual(errors, []);
});

test('an attack sequence shows its signals, indicators, actors and endpoints', async () => {
  const { page, errors } = b;
  const d = await gql('{ findingGroups(first: 100) { nodes { id source } } }');
  const g = d.findingGroups.nodes.find((x) => x.source === 'attack_sequence');
  assert.ok(g, 'the demo plants attack sequences and they rank first');
  const seq = (
    await gql(
      'query($id: ID!) { findingGroup(id: $id) { attackSequence { signals { type } sequenceIndicators { key } actors { id } endpoints { id } } } }',
      { id: g.id },
    )
  ).findingGroup.attackSequence;
  await open(page, `#/group/${g.id}`);
  await page.waitForSelector('[data-testid="sequence-view"]');
  assert.equal(await page.locator('[data-testid="sequence-signal"]').count(), seq.signals.length);
  assert.ok(seq.signals.some((s) => s.type !== 'FINDING'), 'raw-event signals too');
  const keys = await page.$$eval('[data-testid="sequence-indicator"]', (l) => l.map((x) => x.dataset.key));
  assert.deepEqual(keys, seq.sequenceIndicators.map((i) => i.key));
  assert.equal(await page.locator('[data-testid="sequence-actor"]').count(), seq.actors.length);
  assert.equal(await page.locator('[data-testid="sequence-endpoint"]').count(), seq.endpoints.length);
  await screenshot(page, 'group-sequence');
  assert.deepEqual(errors, []);
});

test('a story across accounts shows its accounts on the flow and its Detective links', async () => {
  const { page, errors } = b;
  const d = await gql(
    '{ findingGroups(first: 100) { nodes { id accounts investigations { id detectiveFindingGroups { id consoleUrl } } } } }',
  );
  // A credential story across accounts with a Detective investigation naming its findings.
  const g = d.findingGroups.nodes.find(
    (x) => x.accounts.length >= 2 && x.investigations.some((i) => i.detectiveFindingGroups.length > 0),
  );
  assert.ok(g, 'the demo has a cross-account story with a Detective investigation');
  await open(page, `#/group/${g.id}`);
  await page.waitForSelector('[data-testid="group-account-flow"]');
  const flow = await page.$$eval('[data-testid="flow-account"]', (l) => l.map((x) => x.textContent));
  assert.deepEqual(new Set(flow), new Set(g.accounts));
  await page.waitForSelector('[data-testid="detective-group-link"]');
  const hrefs = await page.$$eval('[data-testid="detective-group-link"]', (l) => l.map((x) => x.getAttribute('href')));
  const want = g.investigations.flatMap((i) => i.detectiveFindingGroups.map((x) => x.consoleUrl));
  assert.deepEqual(hrefs, want);
  assert.ok(hrefs.every((h) => h.startsWith('https://console.aws.amazon.com/detective/home?region=')));
  await screenshot(page, 'group-detective');
  assert.deepEqual(errors, []);
});

test('the groups list shows and filters group triage state', async () => {
  const { page, errors } = b;
  await open(page, '#/groups');
  await page.waitForSelector('[data-testid="group-row"]');
  const states = await page.$$eval('[data-testid="group-row-triage"]', (l) => l.map((x) => x.textContent));
  assert.ok(states.length > 0 && states.every((s) => s.length > 0));
  await page.selectOption('[data-testid="groups-triage"]', 'FALSE_POSITIVE');
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="group-row-triage"]')].every((x) => x.textContent === 'FALSE_POSITIVE'),
  );
  const want = (await gql('{ findingGroups(triage: [FALSE_POSITIVE]) { totalCount } }')).findingGroups.totalCount;
  await page.waitForFunction(
    (n) => document.querySelector('[data-testid="groups-view"] h1')?.textContent === `Finding groups (${n})`,
    want,
  );
  assert.deepEqual(errors, []);
});
