/**
 * The desired state the daemon records (and brings back after a restart) follows what
 * runs: a plugin started because a dependent was started is recorded as running too.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { testDaemon } from '../test-support/daemon.js';
import { signedVariant } from '../test-support/sample-variants.js';
import { call } from './client.js';

interface View {
  readonly name: string;
  readonly state: string;
  readonly desired: string;
}

describe('forge daemon desired states', () => {
  it('records the dependencies a start started as desired running, through every level', async () => {
    const d = await testDaemon();
    try {
      const chain = [
        { name: 'top', version: '1.0.0', dependencies: { mid: '^1.0.0' } },
        { name: 'mid', version: '1.0.0', dependencies: { base: '^1.0.0' } },
        { name: 'base', version: '1.0.0' },
        { name: 'apart', version: '1.0.0' },
      ];
      for (const variant of chain) await call(d.socket, { method: 'POST', path: '/v1/plugins', bytes: await readFile(await signedVariant(d.dir, variant)) });
      await call(d.socket, { method: 'POST', path: '/v1/plugins/top/start' });
      const { plugins } = await call<{ plugins: View[] }>(d.socket, { method: 'GET', path: '/v1/plugins' });
      assert.deepEqual(
        plugins.map((plugin) => `${plugin.name} ${plugin.state} ${plugin.desired}`),
        ['apart created stopped', 'base running running', 'mid running running', 'top running running'],
      );
    } finally {
      await d.close();
    }
  });
});
