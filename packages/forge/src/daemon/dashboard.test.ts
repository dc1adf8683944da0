/**
 * The web dashboard end to end: a real daemon (the signed sample plugin installed and
 * Running, the loopback TCP listener on), real headless Chromium, the page used as a
 * person would (the login form, the row's buttons). Chromium is probed: without it the
 * tests skip with the reason, except under CI where they fail.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { SharedBrowser, logIn, openDashboard, type DashboardTab } from '../test-support/browser.js';
import { signedSample, testDaemon, type TestDaemon } from '../test-support/daemon.js';
import { call } from './client.js';
import { DAEMON_ROUTES } from './routes/index.js';

const browsers = new SharedBrowser();
let d: TestDaemon;
const tabs: DashboardTab[] = [];

before(async () => {
  d = await testDaemon();
  await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
});
// Each test starts from the sample plugin Running, whatever the one before did.
beforeEach(async () => {
  const { state } = await call<{ state: string }>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' });
  if (state === 'paused') await call(d.socket, { method: 'POST', path: '/v1/plugins/sample-plugin/resume' });
  else if (state !== 'running') await call(d.socket, { method: 'POST', path: '/v1/plugins/sample-plugin/start' });
});
after(async () => {
  for (const tab of tabs) await tab.close();
  await browsers.close();
  await d.close();
});

async function open(t: Parameters<SharedBrowser['for']>[0], fragment = ''): Promise<DashboardTab | undefined> {
  const browser = await browsers.for(t);
  if (browser === undefined) return undefined;
  const tab = await openDashboard(browser, `${d.daemon.url ?? ''}/ui${fragment}`);
  tabs.push(tab);
  return tab;
}

const row = (page: Page, name: string) => page.locator(`#plugin-rows tr[data-name="${name}"]`);

describe('the web dashboard against a real daemon, in headless Chromium', () => {
  it('logs in with a token, shows the sample plugin Running, pauses it from its row, and shows Paused and the audit record of the pause', async (t) => {
    const tab = await open(t);
    if (tab === undefined) return;
    const { page } = tab;
    await logIn(page, d.daemon.services.tokens.create('ops', 'operator').token);
    await page.locator('#whoami').filter({ hasText: 'token:ops (operator)' }).waitFor();
    const sample = row(page, 'sample-plugin');
    await sample.locator('.state').filter({ hasText: /^running$/ }).waitFor();
    assert.equal(await sample.locator('.publisher').textContent(), 'ACME Plugins');

    await sample.locator('button[data-action="pause"]').click();
    await sample.locator('.state').filter({ hasText: /^paused$/ }).waitFor();
    const view = await call<{ state: string; desired: string }>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' });
    assert.deepEqual([view.state, view.desired], ['paused', 'paused'], 'the click paused the plugin in the daemon');
    assert.equal(await sample.locator('button[data-action="resume"]').isEnabled(), true);
    assert.equal(await sample.locator('button[data-action="pause"]').isEnabled(), false);

    // The audit record reaches the page through the live stream: GET /v1/events (built on another branch; this test needs it merged).
    assert.ok(DAEMON_ROUTES.some((entry) => entry.method === 'GET' && entry.url === '/v1/events'), 'this test needs GET /v1/events (the event stream) in the daemon');
    const record = page.locator('#audit-list li').filter({ hasText: 'api.plugins.pause' }).filter({ hasText: 'token:ops' });
    await record.waitFor();
    assert.equal(await record.locator('.resource').textContent(), 'sample-plugin');
    assert.equal(await record.locator('.decision').textContent(), 'allow');
    assert.deepEqual(tab.problems, []);
  });

  it('shows the daemon\'s refusal of a wrong token on the login form, and keeps nothing of it', async (t) => {
    const tab = await open(t);
    if (tab === undefined) return;
    const { page } = tab;
    await logIn(page, 'fo_wrong_token');
    const error = page.locator('#login-error');
    await error.filter({ hasText: 'FO_DAEMON_UNAUTHENTICATED' }).waitFor();
    assert.match((await error.textContent()) ?? '', /^The daemon refused this token: FO_DAEMON_UNAUTHENTICATED: /);
    assert.equal(await page.locator('#dashboard').isHidden(), true);
    assert.equal(await page.evaluate<number>('sessionStorage.length'), 0, 'a refused token is not kept');
    const denials = (await d.auditEvents()).filter((item) => item['action'] === 'api.system.info' && item['decision'] === 'deny');
    assert.ok(denials.length >= 1, 'the daemon audited the refusal');
    assert.deepEqual(tab.problems, []);
  });

  it('gives a viewer the plugin list with every action button disabled', async (t) => {
    const tab = await open(t);
    if (tab === undefined) return;
    const { page } = tab;
    await logIn(page, d.daemon.services.tokens.create('watcher', 'viewer').token);
    await row(page, 'sample-plugin').locator('.state').filter({ hasText: /^running$/ }).waitFor();
    const buttons = page.locator('#plugin-rows button[data-action]');
    assert.equal(await buttons.count(), 4, 'start, stop, pause and resume are shown');
    assert.equal(await page.locator('#plugin-rows button[data-action]:enabled').count(), 0);
    assert.equal(await buttons.first().getAttribute('title'), 'needs the operator role; this token has viewer');
    assert.deepEqual(tab.problems, []);
  });

  it('takes a token from the URL fragment, clears it from the address bar, keeps it in sessionStorage and sends it only as a bearer token', async (t) => {
    const token = d.daemon.services.tokens.create('fragment', 'admin').token;
    const tab = await open(t, `#token=${encodeURIComponent(token)}`);
    if (tab === undefined) return;
    const { page } = tab;
    await row(page, 'sample-plugin').waitFor();
    assert.equal(new URL(page.url()).hash, '', 'the fragment is gone from the address bar');
    assert.equal(await page.evaluate<string | null>('sessionStorage.getItem("forgeone.token")'), token);
    assert.deepEqual(await page.context().cookies(), []);
    const api = tab.requests.filter((request) => new URL(request.url).pathname.startsWith('/v1/'));
    assert.ok(api.length >= 2, `the page called the API (${api.length} requests)`);
    assert.deepEqual(api.filter((request) => request.authorization !== `Bearer ${token}`).map((request) => request.url), [], 'every API request carries the token');
    assert.deepEqual(tab.requests.filter((request) => request.url.includes(token.slice(-20))).map((request) => request.url), [], 'no URL carries the token');
    const files = tab.requests.filter((request) => new URL(request.url).pathname.startsWith('/ui'));
    assert.deepEqual(files.filter((request) => request.authorization !== undefined).map((request) => request.url), [], 'the static files are fetched without the token');
  });

  it('logs out and says why when the daemon revokes the token mid-session', async (t) => {
    const created = d.daemon.services.tokens.create('brief', 'operator');
    const tab = await open(t);
    if (tab === undefined) return;
    const { page } = tab;
    await logIn(page, created.token);
    await row(page, 'sample-plugin').waitFor();
    d.daemon.services.tokens.revoke(created.info.id);
    await page.locator('#login-error').filter({ hasText: 'no longer accepts this token (FO_DAEMON_UNAUTHENTICATED)' }).waitFor();
    assert.equal(await page.locator('#dashboard').isHidden(), true);
    assert.equal(await page.evaluate<string | null>('sessionStorage.getItem("forgeone.token")'), null);
  });
});
