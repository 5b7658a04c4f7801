// Shared by the browser tests: Debian's Chromium through playwright-core, the server under test
// (GDLENS_URL, started by scripts/web-test.sh), direct GraphQL queries to compare the page with,
// and screenshots as test artifacts.

import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

/** The server under test. */
export const BASE = process.env.GDLENS_URL ?? 'http://127.0.0.1:8080';
/** Where screenshots go. */
export const ARTIFACTS = process.env.GDLENS_ARTIFACTS ?? path.resolve('..', 'tests', 'artifacts', 'web');

/** Chromium flags for a quiet, sandbox-free headless run in a container. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches Chromium with a fresh profile; `close()` also removes the profile. */
export async function launch() {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'gdlens-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1440, height: 1100 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Runs a GraphQL operation against the server directly; throws on errors. */
export async function gql(query, variables = {}) {
  const res = await fetch(`${BASE}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) throw new Error(`GraphQL error: ${JSON.stringify(body.errors)}`);
  return body.data;
}

/** Writes a full-page screenshot to the artifacts folder. */
export async function screenshot(page, name) {
  await mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Ids of the first `n` findings in the server's PRIORITY order for `weights` and `filter`. */
export async function serverTopIds(n, weights, filter = {}) {
  const d = await gql(
    `query($f: FindingFilter, $w: WeightsInput, $n: Int) {
      findings(filter: $f, orderBy: { field: PRIORITY, direction: DESC }, weights: $w, first: $n) { totalCount nodes { id } }
    }`,
    { f: filter, w: weights, n },
  );
  return { totalCount: d.findings.totalCount, ids: d.findings.nodes.map((x) => x.id) };
}

/** Waits until the findings view has re-ranked after `seq` (the page counts its re-ranks). */
export async function waitForRank(page, seq) {
  await page.waitForFunction((s) => Number(document.body.dataset.rankSeq ?? 0) > s, seq);
}

/** The page's re-rank counter. */
export async function rankSeq(page) {
  return page.evaluate(() => Number(document.body.dataset.rankSeq ?? 0));
}

/** Opens a view in a fresh document (a hash-only change would keep the previous view's state). */
export async function open(page, hash) {
  await page.goto('about:blank');
  await page.goto(`${BASE}/${hash}`);
}
