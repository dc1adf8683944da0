import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { codeOf, rejectsWithCode } from '@forgeone/common/testing';
import { BUMP_ALLOCATOR, PACK } from '../abi/test-support/guests.js';
import type { Permissions } from '../plugin/index.js';
import { CompileCache, prepareModule, threadBlockingReason } from '../runtime/index.js';
import { wat } from '../runtime/wasm/test-support/wat.js';
import { InlineBackend } from './inline.js';
import { PoolBackend } from './pool.js';
import type { IsolationBackend, PluginSpec } from './spec.js';
import { CORE_GUEST, readI32 } from './test-support/guests.js';
import { RecordingHost, pluginSpec } from './test-support/specs.js';

/**
 * Threat A on the backends: a guest granted permissions.threads may wait on a shared
 * memory, which spends no fuel. The inline backend cannot preempt the host thread, so
 * it refuses such a module; the pool backend hosts it, and its call timeout replaces
 * the worker a wait holds.
 */
const WAITER = `(module
  (memory (export "memory") 1 1 shared)
  ${BUMP_ALLOCATOR}
  ${PACK}
  (func (export "init") (result i32) (i32.const 0))
  (func (export "start") (result i32) (i32.const 0))
  (func (export "stop") (result i32) (i32.const 0))
  (func (export "echo") (param $p i32) (param $len i32) (result i64) (call $pack (local.get $p) (local.get $len)))
  ;; Waits on address 0 (which holds 0) for u32-input seconds.
  (func (export "hold") (param $p i32) (param $len i32) (result i64)
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.mul (i64.extend_i32_u (i32.load (local.get $p))) (i64.const 1000000000))))
    (i64.const 0)))`;

const THREADS: Permissions = { filesystem: [], network: [], allowed_hosts: [], syscalls: [], volumes: [], threads: true };

/** A spec for the waiting guest, prepared with permissions.threads. */
async function waiterSpec(timeoutMs: number): Promise<PluginSpec> {
  const prepared = await prepareModule(await wat(WAITER), { permissions: THREADS, maxMemoryBytes: 1 << 20 }, new CompileCache());
  const base = await pluginSpec(CORE_GUEST, { timeoutMs });
  return { ...base, module: prepared.module, fuelExport: prepared.fuelExport, usesWasi: false };
}

function backendFor(t: TestContext, make: (host: RecordingHost) => IsolationBackend): IsolationBackend {
  const backend = make(new RecordingHost());
  t.after(() => backend.close());
  return backend;
}

describe('threads on the isolation backends', () => {
  it('marks a prepared module that can block its thread, naming the shared memory and the wait', async () => {
    const spec = await waiterSpec(1000);
    assert.match(threadBlockingReason(spec.module) ?? '', /^memory 0 is shared and the module uses memory\.atomic\.wait32 in function \d+ at byte \d+$/);
    assert.equal(threadBlockingReason((await pluginSpec(CORE_GUEST)).module), undefined);
  });

  it('inline: refuses to host a module that can wait on a shared memory, with FO_SANDBOX_INLINE_MAY_BLOCK', async (t) => {
    const backend = backendFor(t, (host) => new InlineBackend(host));
    const spec = await waiterSpec(1000);
    const error = await rejectsWithCode(backend.load(spec), 'FO_SANDBOX_INLINE_MAY_BLOCK');
    assert.equal(error.details['plugin'], spec.id);
    assert.match(error.message, /memory\.atomic\.wait32/);
    const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
    assert.deepEqual(await neighbour.call('echo', Uint8Array.of(7)), Uint8Array.of(7));
  });

  it('pool: hosts it on a worker of its own kind, and a wait past the call timeout ends in FO_SANDBOX_TIMEOUT while a neighbour that cannot block keeps its state', async (t) => {
    const backend = backendFor(t, (host) => new PoolBackend(host, { size: 1 })) as PoolBackend;
    const handle = await backend.load(await waiterSpec(300));
    const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
    const restarts: string[] = [];
    neighbour.onEvent((event) => restarts.push(event.type));
    assert.deepEqual(
      backend.workers().map((worker) => [worker.blocking, worker.plugins]),
      [[false, 1], [true, 1]],
      'the waiter alone on the blocking worker, the neighbour on the regular one',
    );
    assert.deepEqual(await handle.call('echo', Uint8Array.of(1, 2)), Uint8Array.of(1, 2));
    assert.equal(readI32(await neighbour.call('count', new Uint8Array(0))), 1);
    const queued = neighbour.call('count', new Uint8Array(0));
    assert.equal(await codeOf(handle.call('hold', new Uint8Array(new Uint32Array([3600]).buffer))), 'FO_SANDBOX_TIMEOUT');
    assert.equal(handle.state, 'poisoned');
    assert.equal(readI32(await queued), 2);
    assert.equal(readI32(await neighbour.call('count', new Uint8Array(0))), 3, 'its counter went on: never re-created');
    assert.deepEqual(restarts, []);
  });
});
