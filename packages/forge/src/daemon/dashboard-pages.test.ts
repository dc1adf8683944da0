/**
 * The web dashboard in headless Chromium against the stand-in API
 * (test-support/dashboard-api.ts: the real dashboard routes, server and token check, with
 * in-memory content): hostile plugin text, a daemon lacking operations, the live stream
 * and its reconnection, bounded lists, upgrades by role, audit verification, charts, and
 * 1,000 plugins updated row by row. dashboard.test.ts drives it against a real daemon.
 */
import assert from 'node:assert/strict';
import { after, describe, it, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { SharedBrowser, logIn, openDashboard, type DashboardTab } from '../test-support/browser.js';
import { fakeDashboardApi, type FakeApi, type FakeOperation, type FakePlugin } from '../test-support/dashboard-api.js';

const browsers = new SharedBrowser();
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await browsers.close();
});

interface Setup {
  readonly fake: FakeApi;
  readonly tab: DashboardTab;
  readonly page: Page;
}

/** A fake API with `plugins`, and a tab logged in to it with the token of `role`. */
async function setup(t: TestContext, plugins: readonly FakePlugin[], options: { readonly role?: 'viewer' | 'operator' | 'admin'; readonly missing?: readonly FakeOperation[]; readonly before?: (fake: FakeApi) => void } = {}): Promise<Setup | undefined> {
  const browser = await browsers.for(t);
  if (browser === undefined) return undefined;
  const fake = await fakeDashboardApi({ plugins, ...(options.missing === undefined ? {} : { missing: options.missing }) });
  cleanups.push(() => fake.close());
  options.before?.(fake);
  const tab = await openDashboard(browser, `${fake.url}/ui`);
  cleanups.push(() => tab.close());
  await logIn(tab.page, fake.tokens[options.role ?? 'admin']);
  await tab.page.locator('#dashboard').waitFor();
  return { fake, tab, page: tab.page };
}

const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const base64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

describe('the web dashboard with hostile or missing data, in headless Chromium', () => {
  it('shows plugin-supplied names, versions, publishers, states, log lines, event names and payloads and audit fields as text, never as markup', async (t) => {
    const s = await setup(t, [{ name: HOSTILE, state: 'running', version: HOSTILE, publisher: HOSTILE }, { name: 'odd-state', state: HOSTILE }]);
    if (s === undefined) return;
    const { page, fake, tab } = s;
    const first = page.locator('#plugin-rows tr').first();
    await first.locator('button.select').filter({ hasText: 'img src=x' }).waitFor();
    assert.equal(await first.locator('button.select').textContent(), HOSTILE);
    assert.equal(await first.locator('td.version').textContent(), HOSTILE);
    assert.equal(await first.locator('td.publisher').textContent(), HOSTILE);
    assert.equal(await page.locator('#plugin-rows tr[data-name="odd-state"] .state').getAttribute('class'), 'state state-other');

    // The first plugin is selected at once: its log is followed.
    await page.locator('#log-status').filter({ hasText: 'live' }).waitFor();
    fake.log(HOSTILE, 'info', HOSTILE, { note: HOSTILE });
    fake.emit('plugin', { time: new Date().toISOString(), plugin: HOSTILE, name: HOSTILE, payload: base64(HOSTILE) });
    fake.emit('audit', { ts: new Date().toISOString(), principal: HOSTILE, action: HOSTILE, resource: HOSTILE, decision: 'allow', reason: HOSTILE });
    fake.emit('lifecycle', { time: new Date().toISOString(), plugin: HOSTILE, from: 'running', to: 'paused', step: HOSTILE, error: { code: 'FO_X', message: HOSTILE } });
    await page.locator('#log-lines li .message').filter({ hasText: 'onerror' }).waitFor();
    await page.locator('#event-list li.event-plugin').waitFor();
    await page.locator('#audit-list li').waitFor();
    await page.locator('#event-list li.event-lifecycle').waitFor();
    assert.equal(await page.locator('#log-lines li .message').textContent(), HOSTILE);
    assert.equal(await page.locator('#event-list li.event-plugin .event-name').textContent(), HOSTILE);
    assert.equal(await page.locator('#event-list li.event-plugin .payload').textContent(), HOSTILE);
    assert.equal(await page.locator('#audit-list li .resource').textContent(), HOSTILE);
    assert.equal(await page.locator('#audit-list li .principal').textContent(), HOSTILE);
    assert.equal(await page.locator('#event-list li.event-lifecycle .error').textContent(), `FO_X: ${HOSTILE}`);
    await first.locator('.state').filter({ hasText: /^paused$/ }).waitFor();

    assert.equal(await page.locator('body img, body script, body iframe, body object').count(), 0, 'no element was made from plugin text');
    assert.equal(await page.evaluate<unknown>('window.__pwned'), undefined);
    assert.deepEqual(tab.problems, []);
  });

  it('refuses markup even from the page itself: the CSP\'s Trusted Types make an innerHTML assignment throw', async (t) => {
    const s = await setup(t, [{ name: 'a', state: 'running' }]);
    if (s === undefined) return;
    const outcome = await s.page.evaluate<string>(`(() => { try { document.body.innerHTML = '<img src=x>'; return 'assigned'; } catch (error) { return error.name; } })()`);
    assert.equal(outcome, 'TypeError');
    assert.equal(await s.page.locator('body img').count(), 0);
  });

  it('says "not available" in each panel of an operation the daemon lacks, and still lists and drives plugins', async (t) => {
    const s = await setup(t, [{ name: 'alpha', state: 'running' }], { role: 'operator', missing: ['events', 'stats', 'audit', 'verify', 'upgrades', 'logs'] });
    if (s === undefined) return;
    const { page, tab } = s;
    await page.locator('#charts-status').filter({ hasText: 'not available' }).waitFor();
    await page.locator('#verify-status').filter({ hasText: 'not available' }).waitFor();
    await page.locator('#upgrades-status').filter({ hasText: 'not available' }).waitFor();
    await page.locator('#stream-status').filter({ hasText: 'not available' }).waitFor();
    await page.locator('#log-status').filter({ hasText: 'not available' }).waitFor();
    assert.equal(await page.locator('#verify-now').isDisabled(), true);
    const alpha = page.locator('#plugin-rows tr[data-name="alpha"]');
    await alpha.locator('button[data-action="pause"]').click();
    await alpha.locator('.state').filter({ hasText: /^paused$/ }).waitFor();
    await page.locator('#action-status').filter({ hasText: 'alpha: paused' }).waitFor();
    assert.deepEqual(tab.problems, []);
  });

  it('shows a refused action\'s code and message, and keeps the row as the daemon has it', async (t) => {
    const s = await setup(t, [{ name: 'alpha', state: 'running' }], { role: 'operator' });
    if (s === undefined) return;
    const { page, fake } = s;
    const alpha = page.locator('#plugin-rows tr[data-name="alpha"]');
    await alpha.locator('.state').filter({ hasText: /^running$/ }).waitFor();
    fake.setState('alpha', 'stopped');
    await alpha.locator('button[data-action="pause"]').click();
    await page.locator('#action-status').filter({ hasText: 'pause alpha failed: FO_LIFECYCLE_BAD_TRANSITION: cannot pause while stopped' }).waitFor();
    assert.equal(await page.locator('#action-status').getAttribute('data-state'), 'error');
  });
});

describe('the web dashboard\'s live parts, in headless Chromium', () => {
  it('applies lifecycle events to the rows, and reconnects after the daemon drops the stream or reports an overflow', async (t) => {
    const s = await setup(t, [{ name: 'alpha', state: 'running' }, { name: 'beta', state: 'running' }]);
    if (s === undefined) return;
    const { page, fake } = s;
    await page.locator('#stream-status').filter({ hasText: /^live$/ }).waitFor();
    fake.emit('lifecycle', { time: new Date().toISOString(), plugin: 'beta', from: 'running', to: 'quarantined', step: 'anomaly' });
    await page.locator('#plugin-rows tr[data-name="beta"] .state').filter({ hasText: /^quarantined$/ }).waitFor();
    assert.deepEqual(await page.locator('#plugin-rows tr[data-name="beta"] button[data-action]:enabled').count(), 0, 'no action starts from quarantined');

    fake.dropStreams();
    await page.locator('#stream-status').filter({ hasText: 'reconnecting' }).waitFor();
    await page.locator('#stream-status').filter({ hasText: /^live$/ }).waitFor();
    fake.emit('audit', { ts: new Date().toISOString(), principal: 'token:x', action: 'after.reconnect', decision: 'allow' });
    await page.locator('#audit-list li').filter({ hasText: 'after.reconnect' }).waitFor();

    fake.emit('overflow', {});
    await page.locator('#event-list li.event-note').filter({ hasText: 'fell behind' }).waitFor();
    await page.locator('#stream-status').filter({ hasText: /^live$/ }).waitFor();
    fake.emit('audit', { ts: new Date().toISOString(), principal: 'token:x', action: 'after.overflow', decision: 'deny' });
    await page.locator('#audit-list li.decision-deny').filter({ hasText: 'after.overflow' }).waitFor();
    assert.equal(fake.streams(), 1, 'one stream at a time');
  });

  it('keeps the event and audit lists to the newest 200, newest first, however many arrive at once', async (t) => {
    const s = await setup(t, [{ name: 'alpha', state: 'running' }]);
    if (s === undefined) return;
    const { page, fake } = s;
    await page.locator('#stream-status').filter({ hasText: /^live$/ }).waitFor();
    for (let i = 1; i <= 500; i += 1) {
      fake.emit('audit', { ts: new Date().toISOString(), principal: 'token:x', action: `flood.${i}`, decision: 'allow' });
      fake.emit('plugin', { time: new Date().toISOString(), plugin: 'alpha', name: `tick-${i}`, payload: base64(String(i)) });
    }
    await page.locator('#audit-list li').first().filter({ hasText: 'flood.500' }).waitFor();
    await page.locator('#event-list li').first().filter({ hasText: 'tick-500' }).waitFor();
    assert.equal(await page.locator('#audit-list li').count(), 200);
    assert.equal(await page.locator('#event-list li').count(), 200);
    assert.equal(await page.locator('#audit-list li .seq').last().textContent(), '#301');
    assert.equal(await page.locator('#event-list li .event-name').last().textContent(), 'tick-301');
  });

  it('shows a pending upgrade\'s permission diff; an admin approves it, a viewer cannot', async (t) => {
    const upgrade = {
      id: 'up-1',
      name: 'alpha',
      from: '1.0.0',
      to: '2.0.0',
      publisher: 'ACME Plugins',
      diff: {
        filesystem: { added: [], removed: [] },
        network: { added: ['connect'], removed: [] },
        allowed_hosts: { added: ['api.example.com'], removed: ['old.example.com'] },
        syscalls: { added: [], removed: [] },
        volumes: { added: [], removed: [], changed: [{ name: 'data', from: { name: 'data', path: '/data', mode: 'ro' }, to: { name: 'data', path: '/data', mode: 'rw' } }] },
        threads: { from: false, to: false },
        widens: true,
        escalations: ['network: connect'],
        unchanged: false,
      },
      receivedAt: new Date().toISOString(),
      by: 'token:ci',
    };
    const viewer = await setup(t, [{ name: 'alpha', state: 'running' }], { role: 'viewer', before: (fake) => fake.upgrades.push(upgrade) });
    if (viewer === undefined) return;
    const item = viewer.page.locator('#upgrade-list li.upgrade[data-id="up-1"]');
    await item.waitFor();
    assert.deepEqual(await item.locator('.diff li').allTextContents(), ['+ network: connect', '+ allowed_hosts: api.example.com', '- allowed_hosts: old.example.com', '+ volume data: ro -> rw']);
    assert.equal(await item.locator('button.approve').isDisabled(), true);
    assert.equal(await item.locator('button.discard').isDisabled(), true);

    const admin = await setup(t, [{ name: 'alpha', state: 'running' }], { role: 'admin', before: (fake) => fake.upgrades.push(upgrade) });
    if (admin === undefined) return;
    const pending = admin.page.locator('#upgrade-list li.upgrade[data-id="up-1"]');
    await pending.locator('button.approve').click();
    await admin.page.locator('#upgrades-status').filter({ hasText: 'No upgrade is waiting' }).waitFor();
    assert.equal(admin.fake.upgrades.length, 0);
    assert.ok(admin.fake.requests.some((request) => request.method === 'POST' && request.url === '/v1/upgrades/up-1/approve' && request.bearer));
  });

  it('verifies the audit chain on demand and shows a broken chain with its first bad record', async (t) => {
    const s = await setup(t, [{ name: 'alpha', state: 'running' }]);
    if (s === undefined) return;
    const { page, fake } = s;
    await page.locator('#verify-status').filter({ hasText: 'Chain intact' }).waitFor();
    fake.setVerification({ ok: false, records: 6, checkpoints: 1, lastCheckpointAge: 90, firstBad: { seq: 7, reason: 'hash does not match' } });
    await page.locator('#verify-now').click();
    const status = page.locator('#verify-status');
    await status.filter({ hasText: 'BROKEN' }).waitFor();
    assert.equal(await status.textContent(), 'Chain BROKEN at record #7: hash does not match (6 records, 1 checkpoint, last checkpoint 90 s ago).');
    assert.equal(await status.getAttribute('data-state'), 'broken');
  });

  it('charts the selected plugin\'s calls/s, p99 latency, memory and fuel/s from GET /v1/stats', async (t) => {
    const s = await setup(t, [{ name: 'alpha', state: 'running' }, { name: 'beta', state: 'running' }]);
    if (s === undefined) return;
    const { page } = s;
    const charts = page.locator('#charts figure');
    assert.deepEqual(await Promise.all((await charts.all()).map((figure) => figure.getAttribute('data-chart'))), ['calls/s', 'p99 latency', 'memory', 'fuel/s']);
    // A line needs two samples (fuel/s, a rate of a running total, needs three): each chart's path then has a segment (L).
    const drawn = page.locator('#charts path.chart-line[d*="L"]');
    await drawn.nth(3).waitFor({ state: 'attached' });
    await page.locator('#plugin-rows tr[data-name="beta"] button.select').click();
    await page.locator('#detail-title').filter({ hasText: 'beta' }).waitFor();
    await drawn.nth(3).waitFor({ state: 'attached' });
    assert.equal(await drawn.count(), 4);
    assert.match((await page.locator('#plugin-rows tr[data-name="beta"] td.num').first().textContent()) ?? '', /^\d/);
  });
});

describe('the web dashboard with 1,000 plugins, in headless Chromium', () => {
  it('renders every row once, then touches only the rows whose plugin changed', async (t) => {
    const plugins = Array.from({ length: 1000 }, (_, i) => ({ name: `plugin-${String(i).padStart(4, '0')}`, state: 'running' }));
    // Without events and stats the page polls the list every 3 s, and nothing else changes the rows.
    const s = await setup(t, plugins, { missing: ['events', 'stats'] });
    if (s === undefined) return;
    const { page, fake } = s;
    await page.locator('#plugin-count').filter({ hasText: /^1000$/ }).waitFor();
    assert.equal(await page.locator('#plugin-rows tr').count(), 1000);
    await page.evaluate(`(() => {
      window.__touched = new Set();
      new MutationObserver((records) => {
        for (const record of records) {
          const node = record.target.nodeType === 1 ? record.target : record.target.parentElement;
          const row = node && node.closest('tr');
          window.__touched.add(row ? row.dataset.name : '(outside a row)');
        }
      }).observe(document.getElementById('plugin-rows'), { subtree: true, childList: true, attributes: true, characterData: true });
    })()`);
    fake.setState('plugin-0005', 'paused');
    fake.setState('plugin-0500', 'stopped');
    await page.locator('#plugin-rows tr[data-name="plugin-0500"] .state').filter({ hasText: /^stopped$/ }).waitFor();
    await page.locator('#plugin-rows tr[data-name="plugin-0005"] .state').filter({ hasText: /^paused$/ }).waitFor();
    assert.deepEqual(await page.evaluate<string[]>('[...window.__touched].sort()'), ['plugin-0005', 'plugin-0500']);
  });
});

describe('the dashboard\'s parsers and formatters, run in the browser where they ship', () => {
  it('parses Server-Sent Events and NDJSON lines across chunk boundaries, and formats plugin text and figures safely', async (t) => {
    const s = await setup(t, []);
    if (s === undefined) return;
    const result = await s.page.evaluate<Record<string, unknown>>(`(async () => {
      const { sseParser, readLines } = await import('/ui/stream.js');
      const { plain, seconds, bytes, compact, payloadText } = await import('/ui/format.js');
      const { niceCeiling, chartPaths } = await import('/ui/charts.js');
      const { diffLines } = await import('/ui/upgrades.js');
      const { actionRefusal, ACTIONS } = await import('/ui/plugins.js');
      const events = [];
      const feed = sseParser((type, data) => events.push([type, data]));
      for (const line of [': ping', 'event: audit', 'data: {"a":1}', 'data: {"b":2}', '', 'data:unnamed', '', 'event: empty', '', 'event: lifecycle', 'data: x', '']) feed(line);
      const bytesOf = (text) => new TextEncoder().encode(text);
      const e = bytesOf('\\u00e9');
      const chunks = [bytesOf('one\\r\\ntw'), bytesOf('o\\n'), e.slice(0, 1), e.slice(1), bytesOf('\\nlast')];
      const body = new ReadableStream({ start(controller) { for (const chunk of chunks) controller.enqueue(chunk); controller.close(); } });
      const lines = [];
      await readLines(body, (line) => lines.push(line));
      const matrix = {};
      for (const role of ['viewer', 'operator']) for (const state of ['running', 'paused', 'stopped', 'quarantined']) matrix[role + ' ' + state] = ACTIONS.filter((action) => actionRefusal(action, state, role, false) === undefined).join(',');
      return {
        events, lines, matrix,
        pending: actionRefusal('pause', 'running', 'admin', true),
        plain: plain('a\\u202eb\\u0007c\\nd\\u2066e'),
        long: plain('x'.repeat(600)).length,
        json: plain({ k: '<b>' }),
        payload: [payloadText(btoa('hi <b>')), payloadText(btoa(String.fromCharCode(255, 0, 1))), payloadText('%%%')],
        figures: [seconds(0), seconds(0.0000005), seconds(0.0125), seconds(3), bytes(512), bytes(1572864), compact(0), compact(0.004), compact(12.345), compact(12345)],
        ceilings: [niceCeiling(0), niceCeiling(3), niceCeiling(101), niceCeiling(0.3)],
        path: chartPaths([1, Number.NaN, 2, 4], 4).line,
        diff: diffLines({ threads: { from: false, to: true }, volumes: { added: [{ name: 'v', path: '/v', mode: 'rw' }] }, network: { added: 'not a list' } }),
        noDiff: diffLines(null),
      };
    })()`);
    assert.deepEqual(result['events'], [['audit', '{"a":1}\n{"b":2}'], ['message', 'unnamed'], ['lifecycle', 'x']]);
    assert.deepEqual(result['lines'], ['one', 'two', '\u00e9', 'last']);
    assert.deepEqual(result['matrix'], {
      'viewer running': '', 'viewer paused': '', 'viewer stopped': '', 'viewer quarantined': '',
      'operator running': 'stop,pause', 'operator paused': 'stop,resume', 'operator stopped': 'start', 'operator quarantined': '',
    });
    assert.equal(result['pending'], 'an action is in progress');
    assert.equal(result['plain'], 'a\ufffdb\ufffdc\nd\ufffde');
    assert.equal(result['long'], 500);
    assert.equal(result['json'], '{"k":"<b>"}');
    assert.deepEqual(result['payload'], ['hi <b>', '(3 bytes of binary data)', '(payload is not base64)']);
    assert.deepEqual(result['figures'], ['0', '0.5 \u00b5s', '12.5 ms', '3 s', '512 B', '1.50 MiB', '0', '<0.01', '12.3', '12.3k']);
    assert.deepEqual(result['ceilings'], [1, 5, 200, 0.5]);
    assert.equal(result['path'], 'M0.0,46.5 M160.0,32.0 L240.0,3.0');
    assert.deepEqual(result['diff'], ['+ volume v (/v, rw)', '+ threads']);
    assert.deepEqual(result['noDiff'], ['(no permission diff)']);
  });
});
