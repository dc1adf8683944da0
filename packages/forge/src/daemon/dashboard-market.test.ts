/**
 * The dashboard's marketplace page end to end, in headless Chromium: a real daemon, a
 * real TUF marketplace and a real registry (docker-registry 2.8 on 127.0.0.1, listed in
 * daemon.pull_registries). Search, the permissions shown before any install, an admin's
 * install that lands in the plugin list, no Install for viewers, operators or revoked
 * versions, the daemon's refusal shown with its code, and hostile index text kept inert.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { OciClient, parseReference, pushPackage } from '@forgeone/plugin-manager';
import { REPOSITORY_LAYOUT, addRevocation, addVersion, initRepository, publishIndex, serveDirectory, type ServingDirectory } from '@forgeone/plugin-manager/marketplace';
import { readPackage } from '@forgeone/plugin-manager/signing';
import { requireRegistry, startRegistry, type TestRegistry } from '@forgeone/plugin-manager/test-support';
import { SharedBrowser, logIn, openDashboard, type DashboardTab } from '../test-support/browser.js';
import { testDaemon, type TestDaemon } from '../test-support/daemon.js';
import { signedPlugin } from '../test-support/signed-plugin.js';
import { call } from './client.js';

const HOSTILE = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>';
const PUBLISHER = 'ACME Plugins';
const NET_TOML = '[permissions]\nnetwork = ["connect"]\nallowed_hosts = ["api.example.org"]\nsyscalls = ["forge.emit_event"]\n';

const browsers = new SharedBrowser();
const tabs: DashboardTab[] = [];
let registry: TestRegistry | undefined;
let served: ServingDirectory | undefined;
let d: TestDaemon | undefined;
let market = '';
const listed = { netty: { oci: '', digest: '' }, swapped: { oci: '' } };

before(async () => {
  registry = await startRegistry().catch((error: unknown) => {
    if (process.env['CI'] === 'true') throw error;
    return undefined;
  });
  if (registry === undefined) return;
  market = await mkdtemp(join(tmpdir(), 'forge-dash-market-'));
  const repo = join(market, 'repo');
  const { rootFile } = await initRepository(repo);
  served = await serveDirectory(join(repo, REPOSITORY_LAYOUT.published));
  d = await testDaemon({
    yaml: `  marketplace:\n    url: ${served.url}\n    trusted_root: ${rootFile}\n    cache_directory: market-cache\n    refresh_interval: 1h\n`,
    daemonYaml: `    pull_registries:\n      - "${registry.host}"\n`,
  });
  const host = registry.host;
  const publication = async (bytes: Uint8Array, oci: string, extra: { publisher?: string; description?: string; digest?: string } = {}) => {
    const { manifest, digest } = await readPackage(bytes);
    return {
      name: manifest.name,
      publisher: extra.publisher ?? PUBLISHER,
      description: extra.description ?? manifest.description,
      keywords: ['demo'],
      version: { version: manifest.version, digest: extra.digest ?? digest, oci, permissions: manifest.permissions, published: '2026-12-01T00:00:00Z' },
    };
  };
  const netty = await signedPlugin(d.dir, { name: 'netty', version: '1.2.0', toml: NET_TOML });
  listed.netty = { oci: `${host}/forge/netty:1.2.0`, digest: (await readPackage(netty)).digest };
  await pushPackage(new OciClient({ registry: host }), parseReference(listed.netty.oci), netty);
  // The registry serves another package under the tag the index names for swapped.
  const honest = await signedPlugin(d.dir, { name: 'swapped', version: '1.0.0' });
  const evil = await signedPlugin(d.dir, { name: 'swapped', version: '1.0.0', toml: NET_TOML });
  listed.swapped = { oci: `${host}/forge/swapped:1.0.0` };
  await pushPackage(new OciClient({ registry: host }), parseReference(listed.swapped.oci), evil);
  const gone = await signedPlugin(d.dir, { name: 'gone', version: '1.0.0' });
  const hostile = await signedPlugin(d.dir, { name: 'hostile', version: '1.0.0' });
  const entries = [
    await publication(netty, listed.netty.oci),
    await publication(honest, listed.swapped.oci),
    await publication(gone, `${host}/forge/gone:1.0.0`),
    await publication(hostile, `${host}/forge/hostile:1.0.0`, { publisher: HOSTILE, description: HOSTILE }),
  ];
  await publishIndex(repo, (index) => addRevocation(entries.reduce(addVersion, index), { publisher: PUBLISHER, plugin: 'gone', reason: 'exfiltrates data', date: '2026-12-02T00:00:00Z' }));
  await call(d.socket, { method: 'POST', path: '/v1/marketplace/refresh' });
});
after(async () => {
  for (const tab of tabs) await tab.close();
  await browsers.close();
  await d?.close();
  await served?.close();
  await registry?.stop();
  if (market !== '') await rm(market, { recursive: true, force: true });
});

/** A tab logged in with a fresh token of `role`, on the marketplace's first listing; undefined when the test cannot run. */
async function open(t: TestContext, role: 'viewer' | 'operator' | 'admin'): Promise<DashboardTab | undefined> {
  if (!requireRegistry(t) || d === undefined) return undefined;
  const browser = await browsers.for(t);
  if (browser === undefined) return undefined;
  const tab = await openDashboard(browser, `${d.daemon.url ?? ''}/ui`);
  tabs.push(tab);
  await logIn(tab.page, d.daemon.services.tokens.create(`${role}-${tabs.length}`, role).token);
  await tab.page.locator('#market-results li.market-plugin').first().waitFor();
  return tab;
}

const card = (tab: DashboardTab, name: string) => tab.page.locator(`#market-results li.market-plugin[data-name="${name}"]`);

describe('the dashboard\'s marketplace page, in headless Chromium', () => {
  it('shows a version\'s permissions before installing; an admin\'s Install sends the index\'s digest and the plugin appears in the list', async (t) => {
    const tab = await open(t, 'admin');
    if (tab === undefined || d === undefined) return;
    const { page } = tab;
    await page.locator('#market-query').fill('nett');
    await page.locator('#market-search').click();
    await page.locator('#market-status').filter({ hasText: /^1 plugin\.$/ }).waitFor();
    const netty = card(tab, 'netty');
    const permission = (label: string) => netty.locator(`dd[data-permission="${label}"]`).textContent();
    assert.deepEqual(
      [await permission('Filesystem'), await permission('Network'), await permission('Allowed hosts'), await permission('Host calls'), await permission('Volumes')],
      ['none', 'connect', 'api.example.org', 'forge.emit_event', 'none'],
    );
    assert.equal(await netty.locator('.publisher').textContent(), PUBLISHER);
    assert.equal(await page.locator('#plugin-rows tr[data-name="netty"]').count(), 0, 'nothing installed before the click');

    const sent = page.waitForRequest((request) => request.url().endsWith('/v1/plugins/pull'));
    await netty.locator('button.install').click();
    assert.deepEqual(JSON.parse((await sent).postData() ?? ''), { reference: listed.netty.oci, digest: listed.netty.digest });
    await netty.locator('.install-outcome').filter({ hasText: 'installed: netty 1.2.0' }).waitFor();
    await page.locator('#plugin-rows tr[data-name="netty"]').waitFor();
    assert.equal((await call<{ digest: string }>(d.socket, { method: 'GET', path: '/v1/plugins/netty' })).digest, listed.netty.digest);
    assert.deepEqual(tab.problems, []);
  });

  it('shows the daemon\'s refusal with its code when the registry serves other bytes than the index names, and offers no Install for a revoked plugin', async (t) => {
    const tab = await open(t, 'admin');
    if (tab === undefined || d === undefined) return;
    const swapped = card(tab, 'swapped');
    await swapped.locator('button.install').click();
    await swapped.locator('.install-outcome').filter({ hasText: 'FO_MARKET_DIGEST_MISMATCH' }).waitFor();
    assert.match((await swapped.locator('.install-outcome').textContent()) ?? '', /^Install of swapped 1\.0\.0 failed: FO_MARKET_DIGEST_MISMATCH: /);
    assert.equal(await tab.page.locator('#plugin-rows tr[data-name="swapped"]').count(), 0);

    const gone = card(tab, 'gone');
    assert.equal(await gone.locator('.revoked-badge').isVisible(), true);
    assert.equal(await gone.locator('.revoked-badge').getAttribute('title'), 'exfiltrates data');
    assert.equal(await gone.locator('button.install').isVisible(), false);
    assert.equal(await gone.locator('option').textContent(), '1.0.0 (revoked)');
    assert.deepEqual(tab.problems, []);
  });

  it('gives viewers and operators the listing and permissions but no Install button', async (t) => {
    for (const role of ['viewer', 'operator'] as const) {
      const tab = await open(t, role);
      if (tab === undefined) return;
      const netty = card(tab, 'netty');
      assert.equal(await netty.locator('dd[data-permission="Network"]').textContent(), 'connect', role);
      assert.equal(await tab.page.locator('#market-results button.install').count(), 0, role);
      assert.deepEqual(tab.problems, []);
    }
  });

  it('shows a hostile publisher and description from the index as text, never as markup', async (t) => {
    const tab = await open(t, 'admin');
    if (tab === undefined) return;
    const hostile = card(tab, 'hostile');
    assert.equal(await hostile.locator('.publisher').textContent(), HOSTILE);
    assert.equal(await hostile.locator('.description').textContent(), HOSTILE);
    assert.equal(await tab.page.locator('body img, body script, body iframe, body object').count(), 0, 'no element was made from index text');
    assert.equal(await tab.page.evaluate<unknown>('window.__pwned'), undefined);
    assert.deepEqual(tab.problems, []);
  });
});
