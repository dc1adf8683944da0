/**
 * SIGTERM, as systemd sends it: `forge daemon` (a child process) stops taking requests,
 * stops its plugins dependents first, ends its audit log with a signed checkpoint,
 * removes its socket and lock and exits 0; started again, it brings back the plugins
 * that were running (and paused) and leaves the stopped ones stopped.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { daemonTable, spawnDaemon, type DaemonProcess } from '../test-support/daemon-process.js';
import { signedSample } from '../test-support/daemon.js';
import { signedVariant, verifyWorkspaceAudit } from '../test-support/sample-variants.js';
import { signingWorkspace } from '../test-support/workspace.js';
import { call, send } from './client.js';

interface View {
  readonly name: string;
  readonly state: string;
  readonly desired: string;
}

async function states(daemon: DaemonProcess): Promise<string[]> {
  const { plugins } = await call<{ plugins: View[] }>({ socket: daemon.socket }, { method: 'GET', path: '/v1/plugins' });
  return plugins.map((plugin) => `${plugin.name} ${plugin.state}`);
}

function auditLines(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'audit', 'audit.log'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('forge daemon on SIGTERM', () => {
  it('exits 0 after stopping plugins dependents first and checkpointing the audit log; a restart brings back the running and paused ones', { timeout: 180_000 }, async () => {
    const dir = await signingWorkspace('forge-sigterm-', daemonTable());
    let daemon = await spawnDaemon(dir);
    try {
      const socket = { socket: daemon.socket };
      // Installed dependents first, and named so that neither install order nor name order is the stop order.
      const chain = [
        { name: 'z-top', version: '1.0.0', dependencies: { 'a-mid': '^1.0.0' } },
        { name: 'a-mid', version: '1.0.0', dependencies: { 'm-base': '^1.0.0' } },
        { name: 'm-base', version: '1.0.0' },
      ];
      for (const variant of chain) await call(socket, { method: 'POST', path: '/v1/plugins', bytes: await readFile(await signedVariant(dir, variant)) });
      await call(socket, { method: 'POST', path: '/v1/plugins/z-top/start' });
      await call(socket, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedVariant(dir, { name: 'p-paused', version: '1.0.0' })) });
      await call(socket, { method: 'POST', path: '/v1/plugins/p-paused/pause' });
      await call(socket, { method: 'POST', path: '/v1/plugins', bytes: await readFile(await signedSample(dir)) });
      const before = await states(daemon);
      assert.deepEqual(before, ['a-mid running', 'm-base running', 'p-paused paused', 'sample-plugin created', 'z-top running']);
      const lines = auditLines(dir).length;

      daemon.child.kill('SIGTERM');
      assert.deepEqual(await daemon.exited, { code: 0, signal: null }, daemon.stderr());
      assert.match(daemon.stderr(), /forge daemon: stopping\nforge daemon: stopped\n$/);
      assert.equal(existsSync(daemon.socket), false, 'the socket is removed');
      assert.equal(existsSync(join(dir, 'run', 'daemon.db.lock')), false, 'the lock is released');

      const written = auditLines(dir).slice(lines);
      // Each stop is two transitions (-> stopping, -> stopped); the order is that of the second.
      const stops = written
        .filter((record) => record['type'] === 'event' && record['action'] === 'plugin.lifecycle.stop' && String(record['reason']).endsWith(' -> stopped'))
        .map((record) => String(record['resource']));
      assert.deepEqual(
        stops.filter((name) => name !== 'p-paused'),
        ['z-top', 'a-mid', 'm-base'],
        'dependents stop before what they depend on',
      );
      assert.ok(stops.includes('p-paused'), 'a paused plugin is stopped too');
      assert.equal(written.at(-1)?.['type'], 'checkpoint', 'the audit log ends with a checkpoint');
      const audit = await verifyWorkspaceAudit(dir);
      assert.deepEqual([audit.ok, audit.problem, audit.signatures, audit.state], [true, undefined, 'verified', 'matched']);

      daemon = await spawnDaemon(dir);
      assert.deepEqual(await states(daemon), before, 'the restart brings back what ran, what was paused, and nothing else');
      const greeting = await send({ socket: daemon.socket }, { method: 'POST', path: '/v1/plugins/z-top/call/greet', bytes: Buffer.from('again') });
      assert.equal(greeting.body.toString('utf8'), 'Hello, again!');
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    const audit = await verifyWorkspaceAudit(dir);
    assert.deepEqual([audit.ok, audit.problem, audit.recoveries.length], [true, undefined, 0]);
  });
});
