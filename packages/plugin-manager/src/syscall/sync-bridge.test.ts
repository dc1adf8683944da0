import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ForgeError } from '@forgeone/common';
import { SyncBridge } from './sync-bridge.js';

const WORKER = new URL('./test-support/echo-worker.js', import.meta.url);
const bridges: SyncBridge[] = [];
function bridge(data?: unknown): SyncBridge {
  const created = new SyncBridge({ worker: WORKER, name: 'sync-bridge-test', ...(data === undefined ? {} : { data }) });
  bridges.push(created);
  return created;
}
after(async () => {
  await Promise.all(bridges.map((created) => created.close()));
});

describe('SyncBridge', () => {
  it('returns the worker result synchronously, structured values and bytes included', () => {
    const sync = bridge({ greeting: 'hi' });
    const payload = { n: 1, list: ['a', 'b'], bytes: Uint8Array.of(1, 2, 3), big: 2n ** 70n };
    assert.deepEqual(sync.call('echo', payload, 10_000), payload);
    assert.deepEqual(sync.call('data', null, 10_000), { greeting: 'hi' });
    assert.equal(sync.call<Uint8Array>('fill', 4 * 1024 * 1024, 10_000).length, 4 * 1024 * 1024);
  });

  it('rebuilds a ForgeError thrown in the worker with its code, message and details', () => {
    const sync = bridge();
    assert.throws(
      () => sync.call('fail', null, 10_000),
      (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_KV_NOT_FOUND') && error.message === 'no such thing' && error.details['key'] === 'k',
    );
  });

  it('turns anything else the worker throws into FO_INTERNAL_UNEXPECTED, keeping its text out of the message', () => {
    const sync = bridge();
    assert.throws(
      () => sync.call('crash', null, 10_000),
      (error: unknown) => ForgeError.is(error, 'FO_INTERNAL_UNEXPECTED') && !error.message.includes('/secret') && String(error.details['error']).includes('/secret'),
    );
    assert.throws(() => sync.call('unclonable', null, 10_000), (error: unknown) => ForgeError.is(error, 'FO_INTERNAL_UNEXPECTED'));
    assert.throws(() => sync.call('no-such-kind', null, 10_000), (error: unknown) => ForgeError.is(error, 'FO_INTERNAL_UNEXPECTED'));
  });

  it('gives up on a handler that never answers with FO_SYSCALL_BRIDGE_TIMEOUT, then serves the next call from a fresh worker', () => {
    const sync = bridge();
    assert.throws(() => sync.call('hang', null, 100), (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_BRIDGE_TIMEOUT'));
    assert.throws(() => sync.call('wait', 2000, 50), (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_BRIDGE_TIMEOUT'));
    assert.equal(sync.call('echo', 'after', 10_000), 'after', 'no late reply is mistaken for this one');
  });

  it('refuses calls after close with FO_SYSCALL_BRIDGE_CLOSED; closing twice is harmless', async () => {
    const sync = bridge();
    sync.start();
    assert.equal(sync.call('echo', 1, 10_000), 1);
    await sync.close();
    await sync.close();
    assert.equal(sync.closed, true);
    assert.throws(() => sync.call('echo', 1, 10_000), (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_BRIDGE_CLOSED'));
  });

  it('does not keep the process alive: a process that never closes its idle bridge still exits', () => {
    const child = fileURLToPath(new URL('./test-support/bridge-child.js', import.meta.url));
    const result = spawnSync(process.execPath, [child], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.signal, null, 'the child was not killed by the timeout');
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'alive');
  });

  it('refuses a call without time left', () => {
    const sync = bridge();
    assert.throws(() => sync.call('echo', 1, 0), (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_BRIDGE_TIMEOUT'));
  });
});
