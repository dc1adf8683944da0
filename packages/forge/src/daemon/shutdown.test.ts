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
import { signedHostilePlugin } from '../test-support/hostile-plugin.js';
import { signedVariant, verifyWorkspaceAudit } from '../test-support/sample-variants.js';
import { CONFINED, signingWorkspace } from '../test-support/workspace.js';
import { call, send } from './client.js';
import { pause } from '../test-support/raw-http.js';

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
    // The default backend: every plugin in a confined sandbox process.
    const dir = await signingWorkspace('forge-sigterm-', daemonTable(), '', CONFINED);
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

  it('takes a second signal during the stop in stride (Ctrl-C reaches the group, a supervisor passes its own on), and a third exits at once', { timeout: 180_000 }, async () => {
    // Fuel enough for the spin to last until its 60 s timeout.
    // Confined: a forced exit must not wait for the relay threads blocked reading their sandboxes.
    const dir = await signingWorkspace('forge-signals-', `${daemonTable()}  runtime:\n    fuel_per_call: 9000000000000\n`, '', CONFINED);
    let daemon = await spawnDaemon(dir);
    await call({ socket: daemon.socket }, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedSample(dir)) });
    daemon.child.kill('SIGINT');
    daemon.child.kill('SIGTERM');
    assert.deepEqual(await daemon.exited, { code: 0, signal: null }, daemon.stderr());
    assert.equal(auditLines(dir).at(-1)?.['type'], 'checkpoint', 'the stop ran to the end: the audit log ends with a checkpoint');

    // A call spinning in a plugin holds the stop (requests in flight finish), so the third signal lands during it.
    daemon = await spawnDaemon(dir);
    await call({ socket: daemon.socket }, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedHostilePlugin(dir, '1.0.0', '\n[limits]\ntimeout = "60s"\n')) });
    const spinning = send({ socket: daemon.socket }, { method: 'POST', path: '/v1/plugins/hostile/call/spin', bytes: Buffer.alloc(0), timeoutMs: 90_000 }).catch((error: unknown) => error);
    await pause(500);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGINT'] as const) {
      daemon.child.kill(signal);
      await pause(300);
    }
    assert.deepEqual(await daemon.exited, { code: 130, signal: null }, daemon.stderr());
    assert.match(daemon.stderr(), /forge daemon: stopping\nforge daemon: already stopping \(SIGTERM\); a third signal stops at once\nforge daemon: SIGINT again, exiting now without a clean stop\n$/);
    await spinning;
    daemon = await spawnDaemon(dir);
    daemon.child.kill('SIGTERM');
    assert.deepEqual(await daemon.exited, { code: 0, signal: null }, daemon.stderr());
    const audit = await verifyWorkspaceAudit(dir);
    assert.deepEqual([audit.ok, audit.problem], [true, undefined], 'the log cut by the forced exit still verifies');
  });
});
