#!/usr/bin/env node
// The web dashboard with 1,000 plugins, in headless Chromium (/usr/bin/chromium, driven
// by playwright-core). Run: npm run build && node bench/dashboard.mjs [--daemon] [PLUGINS] [ROUNDS]
//
// With --daemon, the page is served by a real daemon (in this process, as the daemon tests
// start it) with PLUGINS signed copies of the sample plugin installed and running through
// its API (about a minute of setup); it streams events, so nothing polls, and only the
// first paint, the rows' build and the stats samples are measured.
//
// Without it, the page is served by
// the stand-in API the browser tests use (packages/forge/src/test-support/dashboard-api.ts):
// the real dashboard files and headers, the real server and token check, and a
// GET /v1/plugins answering PLUGINS entries (default 1000), GET /v1/stats figures for each.
// The event stream is left out, so the page polls the plugin list every 3 s (as it does
// against a daemon without events); every other panel is served.
//
// Measured in the page (User Timing measures the dashboard records, read with a
// PerformanceObserver installed before the page's own script), medians over ROUNDS fresh
// tabs (default 5):
//  - first contentful paint (the page's frame, before any data);
//  - the full table's first paint: from navigation start to the frame that shows all
//    PLUGINS rows (login with the token from the URL fragment, GET /v1/info,
//    GET /v1/plugins, building the rows, style, layout, paint);
//  - building the rows (script time only) for that first paint;
//  - a full table update: every plugin's state changed, the next poll patches every row
//    (script time, and until painted);
//  - a poll where nothing changed (every row compared, none written);
//  - applying one GET /v1/stats sample to every row (calls/s and p99 cells).
import { benchCase, jsonOutput } from './stats.mjs';
import { fakeDashboardApi } from '../packages/forge/dist/test-support/dashboard-api.js';
import { launchChromium } from '../packages/forge/dist/test-support/browser.js';

const emit = jsonOutput();
const quick = process.argv.includes('--quick');
const args = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
const daemonMode = process.argv.includes('--daemon');
const count = Number(args[0] ?? 1000);
const rounds = Number(args[1] ?? (quick ? 2 : 5));
const names = Array.from({ length: count }, (_, i) => `plugin-${String(i).padStart(4, '0')}`);
const plugins = (state) => names.map((name, i) => ({ name, state: typeof state === 'function' ? state(i) : state, version: `1.${i % 10}.0`, publisher: `Publisher ${i % 17}` }));

/** A real daemon with `count` running plugins: its /ui URL with an operator token, and how to close it. */
async function realDaemon() {
  const { testDaemon } = await import('../packages/forge/dist/test-support/daemon.js');
  const { signedVariant } = await import('../packages/forge/dist/test-support/sample-variants.js');
  const { call } = await import('../packages/forge/dist/daemon/client.js');
  const { readFile } = await import('node:fs/promises');
  const d = await testDaemon({ yaml: `  max_plugins: ${Math.max(count, 1000)}\n` });
  const started = Date.now();
  for (const [i, name] of names.entries()) {
    const file = await signedVariant(d.dir, { name, version: '0.1.0' });
    await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(file) });
    if (i % 100 === 99) process.stderr.write(`bench: ${i + 1} plugins installed and running (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
  }
  const token = d.daemon.services.tokens.create('bench', 'operator').token;
  return { url: d.daemon.url, token, close: () => d.close() };
}

const api = daemonMode ? undefined : await fakeDashboardApi({ plugins: plugins((i) => (i % 5 === 0 ? 'stopped' : 'running')), missing: ['events'] });
const server = daemonMode ? await realDaemon() : { url: api.url, token: api.tokens.operator, close: () => api.close() };
const browser = await launchChromium();

/** Runs in the page before its script: keeps every measure the dashboard records. */
/* global window */
const observe = () => {
  window.__measures = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__measures.push({ name: entry.name, start: entry.startTime, duration: entry.duration });
  }).observe({ entryTypes: ['measure'] });
};

const measures = (page) => page.evaluate('window.__measures');
/** Waits for the `n`-th measure called `name` (1-based) and returns it. */
async function nth(page, name, n) {
  for (let waited = 0; waited < 30_000; waited += 50) {
    const found = (await measures(page)).filter((entry) => entry.name === name);
    if (found.length >= n) return found[n - 1];
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`bench: no measure ${name} #${n} after 30 s`);
}

const results = { fcp: [], firstTable: [], firstBuild: [], fullUpdate: [], fullUpdatePainted: [], unchanged: [], stats: [] };
for (let round = 0; round < rounds; round += 1) {
  api?.setPlugins(plugins((i) => (i % 5 === 0 ? 'stopped' : 'running')));
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  await page.addInitScript(observe);
  await page.goto(`${server.url}/ui#token=${server.token}`);
  await page.locator('#plugin-count').filter({ hasText: new RegExp(`^${count}$`) }).waitFor();
  const painted = await nth(page, 'forge.plugins.update.painted', 1);
  results.firstTable.push(painted.start + painted.duration);
  results.firstBuild.push((await nth(page, 'forge.plugins.update', 1)).duration);
  results.fcp.push(await page.evaluate(`performance.getEntriesByName('first-contentful-paint')[0]?.startTime`));
  if ((await page.locator('#plugin-rows tr').count()) !== count) throw new Error('bench: the table does not have every plugin');

  if (daemonMode) {
    // No polls against a daemon that streams events: the stats samples of six seconds.
    await page.waitForTimeout(6000);
    results.stats.push(...(await measures(page)).filter((entry) => entry.name === 'forge.stats.update').map((entry) => entry.duration).slice(1));
    await context.close();
    continue;
  }
  // The next poll finds nothing changed; the one after that, every state changed.
  results.unchanged.push((await nth(page, 'forge.plugins.update', 2)).duration);
  api.setPlugins(plugins('paused'));
  results.fullUpdate.push((await nth(page, 'forge.plugins.update', 3)).duration);
  results.fullUpdatePainted.push((await nth(page, 'forge.plugins.update.painted', 3)).duration);
  await page.locator(`#plugin-rows tr[data-name="${names[0]}"] .state`).filter({ hasText: /^paused$/ }).waitFor();
  const stats = (await measures(page)).filter((entry) => entry.name === 'forge.stats.update').map((entry) => entry.duration);
  results.stats.push(...stats.slice(1));
  await context.close();
}
await browser.close();
await server.close();

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value) => `${value.toFixed(1)} ms`;
console.log(`dashboard with ${count} plugins (${daemonMode ? 'a real daemon, every plugin running' : 'the stand-in API'}), headless Chromium ${browser.version?.() ?? ''}, medians of ${rounds} tabs`);
console.log(`  first contentful paint (page frame)        ${ms(median(results.fcp))}`);
console.log(`  full table first painted (from navigation) ${ms(median(results.firstTable))}`);
console.log(`    of which building the rows (script)      ${ms(median(results.firstBuild))}`);
if (!daemonMode) {
  console.log(`  full table update, every row changed       ${ms(median(results.fullUpdate))} script, ${ms(median(results.fullUpdatePainted))} until painted`);
  console.log(`  poll with nothing changed                  ${ms(median(results.unchanged))}`);
}
console.log(`  one stats sample applied to every row      ${ms(median(results.stats))} (${results.stats.length} samples)`);
const labels = { fcp: 'first contentful paint', firstTable: 'table first painted, from navigation', firstBuild: 'building the rows (script)', fullUpdate: 'full table update (script)', fullUpdatePainted: 'full table update, until painted', unchanged: 'poll with nothing changed', stats: 'one stats sample applied to every row' };
emit?.({ plugins: count, rounds, daemon: daemonMode, cases: Object.entries(results).filter(([, values]) => values.length > 0).map(([id, values]) => benchCase(id, 'ms', values, { label: labels[id] })) });
