import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ForgeError } from '@forgeone/common';
import { codeOf, forgeErrorOf } from '@forgeone/common/testing';
import { testDaemon, type TestDaemon } from '../../test-support/daemon.js';
import { signedPlugin } from '../../test-support/signed-plugin.js';
import { call, send, type DaemonTarget } from '../client.js';
import type { PendingUpgrade } from '../pending.js';

const running: TestDaemon[] = [];
after(async () => {
  for (const daemon of running) await daemon.close();
});

/**
 * A daemon with sample-plugin 0.1.0 installed without permissions (the greeter module,
 * test-support/greeter.ts: the real sample now declares kv calls and the network, so an
 * upgrade asking for forge.kv_get would widen nothing), and admin and viewer tokens.
 */
async function daemonWithSample(dir?: string): Promise<{ d: TestDaemon; admin: DaemonTarget; viewer: DaemonTarget }> {
  const d = await testDaemon(dir === undefined ? {} : { dir });
  running.push(d);
  if (dir === undefined) await call(d.socket, { method: 'POST', path: '/v1/plugins', bytes: await signedPlugin(d.dir, { name: 'sample-plugin', version: '0.1.0' }) });
  return { d, admin: d.tcp(d.daemon.services.tokens.create('release', 'admin').token), viewer: d.tcp(d.daemon.services.tokens.create('eyes', 'viewer').token) };
}

/** The sample plugin at `version`, asking for `syscalls`. */
function widened(d: TestDaemon, version: string, syscalls: readonly string[]): Promise<Buffer> {
  return signedPlugin(d.dir, { name: 'sample-plugin', version, toml: `[permissions]\nsyscalls = ${JSON.stringify(syscalls)}\n` });
}

async function refusal(target: DaemonTarget, path: string, bytes?: Uint8Array): Promise<ForgeError> {
  const error = await forgeErrorOf(call(target, { method: 'POST', path, ...(bytes === undefined ? {} : { bytes }) }));
  assert.ok(error !== undefined, 'the install was refused');
  return error;
}

const pendingDir = (d: TestDaemon): string => join(d.dir, 'run', 'pending');

describe('pending upgrades', () => {
  it('keeps an upload refused for approval (once, however often it is sent), lists its diff, and installs it on approval', async () => {
    const { d, admin, viewer } = await daemonWithSample();
    const bytes = await widened(d, '0.2.0', ['forge.kv_get']);
    const first = await refusal(admin, '/v1/plugins', bytes);
    assert.equal(first.code, 'FO_STORE_APPROVAL_REQUIRED');
    const id = first.details['pendingUpgrade'] as string;
    assert.match(id, /^[0-9a-f]{16}$/);
    assert.deepEqual(first.details['escalations'], ['syscalls: forge.kv_get']);
    assert.equal((await refusal(admin, '/v1/plugins', bytes)).details['pendingUpgrade'], id, 'the same package is the same entry');

    const { upgrades } = await call<{ upgrades: PendingUpgrade[] }>(viewer, { method: 'GET', path: '/v1/upgrades' });
    assert.equal(upgrades.length, 1);
    const [upgrade] = upgrades as [PendingUpgrade];
    assert.deepEqual([upgrade.id, upgrade.name, upgrade.from, upgrade.to, upgrade.publisher, upgrade.by], [id, 'sample-plugin', '0.1.0', '0.2.0', 'ACME Plugins', 'token:release']);
    assert.deepEqual((upgrade.diff as { escalations: string[] }).escalations, ['syscalls: forge.kv_get']);
    assert.equal(statSync(pendingDir(d)).mode & 0o777, 0o700);
    assert.equal(statSync(join(pendingDir(d), `${id}.forgepkg`)).mode & 0o777, 0o600);
    assert.deepEqual(await readFile(join(pendingDir(d), `${id}.forgepkg`)), bytes);

    assert.equal(await codeOf(call(viewer, { method: 'POST', path: `/v1/upgrades/${id}/approve` })), 'FO_DAEMON_FORBIDDEN');
    const outcome = await call<{ action: string; from: string; plugin: { version: string; permissions: { syscalls: string[] } } }>(admin, { method: 'POST', path: `/v1/upgrades/${id}/approve` });
    assert.deepEqual([outcome.action, outcome.from, outcome.plugin.version, outcome.plugin.permissions.syscalls], ['upgraded', '0.1.0', '0.2.0', ['forge.kv_get']]);
    assert.deepEqual((await call<{ upgrades: PendingUpgrade[] }>(viewer, { method: 'GET', path: '/v1/upgrades' })).upgrades, []);
    assert.deepEqual(await readdir(pendingDir(d)), [], 'the package went with the entry');
    assert.equal(await codeOf(call(admin, { method: 'POST', path: `/v1/upgrades/${id}/approve` })), 'FO_DAEMON_UPGRADE_NOT_FOUND');

    const records = (await d.auditEvents()).filter((record) => String(record['action']).startsWith('api.upgrades.'));
    assert.deepEqual(
      records.map((record) => [record['action'], record['principal'], record['resource'], record['decision']]),
      [
        ['api.upgrades.approve', 'token:eyes', `upgrade:${id}`, 'deny'],
        ['api.upgrades.approve', 'token:release', `upgrade:${id}`, 'allow'],
        ['api.upgrades.approve', 'token:release', `upgrade:${id}`, 'allow'],
      ],
    );
  });

  it('refuses to approve an upgrade whose diff no longer holds (FO_DAEMON_UPGRADE_STALE), discards on request, and keeps nothing of a ?path= install', async () => {
    const { d, admin } = await daemonWithSample();
    const second = (await refusal(admin, '/v1/plugins', await widened(d, '0.2.0', ['forge.kv_get']))).details['pendingUpgrade'] as string;
    const third = (await refusal(admin, '/v1/plugins', await widened(d, '0.3.0', ['forge.kv_get', 'forge.kv_set']))).details['pendingUpgrade'] as string;
    assert.deepEqual(
      (await call<{ upgrades: PendingUpgrade[] }>(admin, { method: 'GET', path: '/v1/upgrades' })).upgrades.map((upgrade) => upgrade.to),
      ['0.3.0', '0.2.0'],
      'newest first',
    );
    await call(admin, { method: 'POST', path: `/v1/upgrades/${second}/approve` });
    const stale = await forgeErrorOf(call(admin, { method: 'POST', path: `/v1/upgrades/${third}/approve` }));
    assert.deepEqual([stale?.code, stale?.details['from'], stale?.details['installed']], ['FO_DAEMON_UPGRADE_STALE', '0.1.0', '0.2.0']);
    assert.equal((await call<{ version: string }>(admin, { method: 'GET', path: '/v1/plugins/sample-plugin' })).version, '0.2.0', 'nothing was installed');
    const discarded = await send(admin, { method: 'DELETE', path: `/v1/upgrades/${third}` });
    assert.deepEqual([discarded.status, discarded.body.length], [204, 0]);
    assert.deepEqual((await call<{ upgrades: PendingUpgrade[] }>(admin, { method: 'GET', path: '/v1/upgrades' })).upgrades, []);
    assert.equal(existsSync(join(pendingDir(d), `${third}.forgepkg`)), false);
    assert.equal(await codeOf(call(admin, { method: 'DELETE', path: `/v1/upgrades/${third}` })), 'FO_DAEMON_UPGRADE_NOT_FOUND');
    assert.equal(await codeOf(call(admin, { method: 'DELETE', path: '/v1/upgrades/..%2F..%2Fdaemon.db' })), 'FO_DAEMON_BAD_REQUEST');

    await writeFile(join(d.dir, 'wider.forgepkg'), await widened(d, '0.4.0', ['forge.kv_get', 'forge.kv_list']));
    const byPath = await refusal(d.socket, `/v1/plugins?path=${encodeURIComponent(join(d.dir, 'wider.forgepkg'))}`);
    assert.deepEqual([byPath.code, byPath.details['pendingUpgrade']], ['FO_STORE_APPROVAL_REQUIRED', undefined]);
    assert.deepEqual(await readdir(pendingDir(d)), []);
  });

  it('keeps pending upgrades across a restart, and refuses one whose package changed on disk (FO_DAEMON_STATE_INVALID)', async () => {
    const { d, admin } = await daemonWithSample();
    const id = (await refusal(admin, '/v1/plugins', await widened(d, '0.2.0', ['forge.kv_get']))).details['pendingUpgrade'] as string;
    await d.close();
    running.splice(running.indexOf(d), 1);
    const again = await daemonWithSample(d.dir);
    assert.deepEqual(
      (await call<{ upgrades: PendingUpgrade[] }>(again.admin, { method: 'GET', path: '/v1/upgrades' })).upgrades.map((upgrade) => upgrade.id),
      [id],
    );
    const file = join(pendingDir(d), `${id}.forgepkg`);
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1;
    await writeFile(file, bytes);
    assert.equal(await codeOf(call(again.admin, { method: 'POST', path: `/v1/upgrades/${id}/approve` })), 'FO_DAEMON_STATE_INVALID');
    assert.equal((await call<{ version: string }>(again.admin, { method: 'GET', path: '/v1/plugins/sample-plugin' })).version, '0.1.0');
  });
});
