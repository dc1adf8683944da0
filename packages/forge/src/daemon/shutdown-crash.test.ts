/**
 * `forge daemon` killed with SIGKILL at a seeded random moment of its SIGTERM shutdown
 * (the harness in @forgeone/common/testing; docs/security.md, "Crash consistency"):
 * while it stops plugins, writes their desired state, checkpoints and closes the audit
 * log and its database. After each kill, before anything repairs it, the audit log
 * verifies but for at most a torn tail; every audit line on disk before the SIGTERM is
 * still there, unchanged, after the next daemon opened (and recovered) the log; the
 * daemon database passes `PRAGMA integrity_check`; and the next daemon starts over the
 * dead one's lock and socket, cleans nothing up in the store (no change was running),
 * brings back both plugins running, and answers calls.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import Database from 'better-sqlite3';
import { crashPlan } from '@forgeone/common/testing';
import { PluginStore } from '@forgeone/plugin-manager';
import { daemonTable, spawnDaemon, type DaemonProcess } from '../test-support/daemon-process.js';
import { signedVariant, verifyWorkspaceAudit } from '../test-support/sample-variants.js';
import { signingWorkspace } from '../test-support/workspace.js';
import { call, send } from './client.js';

const PLUGINS = ['alpha', 'beta'] as const;

async function auditLines(dir: string): Promise<string[]> {
  return (await readFile(join(dir, 'audit', 'audit.log'), 'utf8')).split('\n').filter((line) => line !== '');
}

/** The daemon answers, and both plugins are running again. */
async function assertServing(daemon: DaemonProcess, label: string): Promise<void> {
  const socket = { socket: daemon.socket };
  for (const name of PLUGINS) {
    const view = await call<{ state: string; desired: string }>(socket, { method: 'GET', path: `/v1/plugins/${name}` });
    assert.deepEqual([view.state, view.desired], ['running', 'running'], `${label}: ${name} runs again\n${daemon.stderr()}`);
    const greeting = await send(socket, { method: 'POST', path: `/v1/plugins/${name}/call/greet`, bytes: Buffer.from(label) });
    assert.equal(greeting.body.toString('utf8'), `Hello, ${label}!`);
  }
}

describe('forge daemon killed with SIGKILL during its shutdown', () => {
  const plan = crashPlan(3);
  // A daemon start takes seconds on a loaded machine: the time limit grows with the runs.
  it('leaves a verifying audit log keeping every line written before, a sound database, and a store the next daemon serves unchanged', { timeout: 180_000 + plan.iterations * 30_000 }, async (t: TestContext) => {
    const dir = await signingWorkspace('forge-shutdown-crash-', daemonTable());
    let daemon = await spawnDaemon(dir);
    for (const name of PLUGINS) {
      await call({ socket: daemon.socket }, { method: 'POST', path: '/v1/plugins?start=true', bytes: await readFile(await signedVariant(dir, { name, version: '1.0.0' })) });
    }
    // Calibrate: a shutdown that is not interrupted, from SIGTERM to exit.
    const started = performance.now();
    daemon.child.kill('SIGTERM');
    assert.deepEqual(await daemon.exited, { code: 0, signal: null }, daemon.stderr());
    const windowMs = Math.max(5, performance.now() - started);
    daemon = await spawnDaemon(dir);
    const tally = { killed: 0, finished: 0, torn: 0 };
    try {
      for (let run = 0; run < plan.iterations; run += 1) {
        const label = `run ${run}`;
        await assertServing(daemon, label);
        const before = await auditLines(dir);
        // The first kill comes at once after the SIGTERM, so that at least one surely lands mid-shutdown.
        const delay = run === 0 ? 0 : plan.delay(windowMs);
        daemon.child.kill('SIGTERM');
        await new Promise((resolve) => setTimeout(resolve, delay));
        daemon.child.kill('SIGKILL');
        const exit = await daemon.exited;
        const context = `${label} (${plan.label}), killed ${delay.toFixed(1)} ms into the shutdown`;
        tally[exit.signal === 'SIGKILL' ? 'killed' : 'finished'] += 1;

        const offline = await verifyWorkspaceAudit(dir);
        if (offline.problem !== undefined) {
          // The kill can cut the last write short; nothing else may be wrong.
          assert.equal(offline.problem.code, 'FO_AUDIT_TRUNCATED', `${context}: ${offline.problem.message}`);
          tally.torn += 1;
        }
        const db = new Database(join(dir, 'run', 'daemon.db'), { readonly: true });
        try {
          assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }], `${context}: the daemon database is sound`);
        } finally {
          db.close();
        }

        daemon = await spawnDaemon(dir);
        const after = await auditLines(dir);
        assert.deepEqual(after.slice(0, before.length), before, `${context}: every audit line written before the SIGTERM is unchanged`);
        const audit = await verifyWorkspaceAudit(dir);
        assert.deepEqual([audit.ok, audit.problem], [true, undefined], `${context}: the audit log verifies once reopened`);
        const store = await PluginStore.open({ directory: join(dir, 'plugins') });
        assert.deepEqual(store.recovered, [], `${context}: the store had nothing to recover`);
        for (const name of PLUGINS) await store.verify(name);
      }
      await assertServing(daemon, 'after the loop');
    } finally {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    assert.ok(tally.killed >= 1, `no SIGKILL landed during a shutdown (${JSON.stringify(tally)})`);
    t.diagnostic(`daemon shutdown takes ~${windowMs.toFixed(1)} ms; ${plan.label}: ${tally.killed} killed, ${tally.finished} finished first, ${tally.torn} torn audit tails`);
  });
});
