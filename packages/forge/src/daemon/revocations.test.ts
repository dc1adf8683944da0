/**
 * Hostile test: a plugin its marketplace revokes is quarantined in a running daemon at the
 * next refresh (audited), cannot be started again, and stays refused after a restart, even
 * with the marketplace down (the cached, verified index is enforced).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { codeOf } from '@forgeone/common/testing';
import { REPOSITORY_LAYOUT, addRevocation, initRepository, publishIndex, serveDirectory } from '@forgeone/plugin-manager/marketplace';
import { signedSample, testDaemon, type TestDaemon } from '../test-support/daemon.js';
import { call } from './client.js';

interface View {
  readonly state: string;
  readonly desired: string;
  readonly loadError?: { readonly code: string; readonly message: string };
}

interface Status {
  readonly revocations: number;
  readonly quarantined: readonly string[];
  readonly lastError?: { readonly code: string };
}

const running: TestDaemon[] = [];
after(async () => {
  for (const d of running) await d.close();
});

describe('forge daemon: marketplace revocations reach running plugins', () => {
  it('quarantines a revoked plugin at refresh, refuses to start it, and refuses it after a restart with the marketplace down', async () => {
    const market = await mkdtemp(join(tmpdir(), 'forge-revoke-'));
    after(() => rm(market, { recursive: true, force: true }));
    const repo = join(market, 'repo');
    const { rootFile } = await initRepository(repo);
    const served = await serveDirectory(join(repo, REPOSITORY_LAYOUT.published));
    const yaml = `  marketplace:\n    url: ${served.url}\n    trusted_root: ${rootFile}\n    cache_directory: market-cache\n    refresh_interval: 1h\n`;
    const d = await testDaemon({ yaml });
    running.push(d);
    const first = await call<Status & { url: string; refreshedAt?: string }>(d.socket, { method: 'GET', path: '/v1/marketplace/revocations' });
    assert.deepEqual([first.url, first.revocations, first.quarantined, typeof first.refreshedAt, first.lastError], [served.url, 0, [], 'string', undefined], 'verified at start');

    await call(d.socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(d.dir)) });
    assert.equal((await call<View>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' })).state, 'running');

    // Another publisher's plugin of the same name is revoked: nothing happens.
    await publishIndex(repo, (index) => addRevocation(index, { publisher: 'Someone Else', plugin: 'sample-plugin', reason: 'a namesake', date: '2026-12-01T00:00:00Z' }));
    assert.deepEqual((await call<Status>(d.socket, { method: 'POST', path: '/v1/marketplace/refresh' })).quarantined, []);
    assert.equal((await call<View>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' })).state, 'running');

    await publishIndex(repo, (index) => addRevocation(index, { publisher: 'ACME Plugins', plugin: 'sample-plugin', reason: 'exfiltrates data', date: '2026-12-02T00:00:00Z' }));
    const status = await call<Status>(d.socket, { method: 'POST', path: '/v1/marketplace/refresh' });
    assert.deepEqual([status.revocations, status.quarantined], [2, ['sample-plugin']]);
    assert.equal((await call<View>(d.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' })).state, 'quarantined');
    assert.equal(await codeOf(call(d.socket, { method: 'POST', path: '/v1/plugins/sample-plugin/start' })), 'FO_LIFECYCLE_QUARANTINED');
    // Uploading it again is refused before the store writes anything, and audited.
    assert.equal(await codeOf(call(d.socket, { method: 'POST', path: '/v1/plugins', bytes: await readFile(join(d.dir, 'sample.forgepkg')) })), 'FO_MARKET_PLUGIN_REVOKED');
    const refusedInstall = (await d.auditEvents()).filter((record) => record['action'] === 'store.install' && record['decision'] === 'deny');
    assert.match(String(refusedInstall.at(-1)?.['reason']), /^FO_MARKET_PLUGIN_REVOKED: /);
    const revoke = (await d.auditEvents()).filter((record) => record['action'] === 'plugin.revoke');
    assert.equal(revoke.length, 1);
    assert.equal(revoke[0]?.['decision'], 'deny');
    assert.match(String(revoke[0]?.['reason']), /^FO_MARKET_PLUGIN_REVOKED: .*exfiltrates data/);

    // Restarted while the marketplace is down: the cached index is verified offline and enforced.
    await d.close();
    running.splice(running.indexOf(d), 1);
    await served.close();
    const again = await testDaemon({ dir: d.dir });
    running.push(again);
    const view = await call<View>(again.socket, { method: 'GET', path: '/v1/plugins/sample-plugin' });
    assert.deepEqual([view.state, view.desired, view.loadError?.code], ['not-loaded', 'running', 'FO_MARKET_PLUGIN_REVOKED']);
    // A refresh now fails (nothing answers); the revocations verified before stay in force.
    const failed = await call<Status>(again.socket, { method: 'POST', path: '/v1/marketplace/refresh' });
    assert.deepEqual([failed.lastError?.code, failed.revocations], ['FO_MARKET_UNREACHABLE', 2]);
  });

  it('answers FO_MARKET_NOT_CONFIGURED without a marketplace', async () => {
    const d = await testDaemon();
    running.push(d);
    assert.equal(await codeOf(call(d.socket, { method: 'GET', path: '/v1/marketplace/revocations' })), 'FO_MARKET_NOT_CONFIGURED');
  });
});
