import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { codeOf } from '@forgeone/common/testing';
import { BUMP_ALLOCATOR, PACK } from '../abi/test-support/guests.js';
import { PoolBackend } from './pool.js';
import { CORE_GUEST, WASI_GUEST, readI32, u32 } from './test-support/guests.js';
import { events } from './test-support/outcomes.js';
import { RecordingHost, pluginSpec } from './test-support/specs.js';

const NOTHING = new Uint8Array(0);

/**
 * A hostile sleeper: `naps` takes `[u32 n][u32 ms]` and sleeps n times for ms in
 * poll_oneoff, so its total sleep passes the limit while no single sleep does; `nap_at`
 * sleeps on an absolute realtime subscription u32-input seconds ahead.
 */
const NAPPER_GUEST = `(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  ${BUMP_ALLOCATOR}
  ${PACK}
  (func $sub (param $clock i32) (param $ns i64) (param $flags i32)
    (i64.store (i32.const 256) (i64.const 0))
    (i32.store8 (i32.const 264) (i32.const 0))
    (i32.store (i32.const 272) (local.get $clock))
    (i64.store (i32.const 280) (local.get $ns))
    (i64.store (i32.const 288) (i64.const 0))
    (i32.store16 (i32.const 296) (local.get $flags)))
  (func (export "naps") (param $p i32) (param $len i32) (result i64)
    (local $i i32)
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.load (local.get $p))))
      (call $sub (i32.const 1) (i64.mul (i64.extend_i32_u (i32.load offset=4 (local.get $p))) (i64.const 1000000)) (i32.const 0))
      (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 600)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i64.const 0))
  (func (export "nap_at") (param $p i32) (param $len i32) (result i64)
    (drop (call $now (i32.const 0) (i64.const 1) (i32.const 640)))
    (call $sub (i32.const 0)
      (i64.add (i64.load (i32.const 640)) (i64.mul (i64.extend_i32_u (i32.load (local.get $p))) (i64.const 1000000000)))
      (i32.const 1))
    (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 600)))
    (i64.const 0))
)`;

function pool(t: TestContext): { backend: PoolBackend; host: RecordingHost } {
  const host = new RecordingHost();
  const backend = new PoolBackend(host, { size: 1 });
  t.after(() => backend.close());
  return { backend, host };
}

describe('cancelling a pool call that waits', () => {
  it('stops a call sleeping in poll_oneoff at its limit with FO_SANDBOX_TIMEOUT, poisons only its instance, and leaves the worker and its neighbours running with their state', async (t) => {
    const { backend } = pool(t);
    const sleeper = await backend.load(await pluginSpec(WASI_GUEST, { timeoutMs: 200 }));
    const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
    const seen = events(neighbour);
    assert.equal(readI32(await neighbour.call('count', NOTHING)), 1);
    assert.equal(readI32(await neighbour.call('count', NOTHING)), 2);
    const stuck = sleeper.call('sleep', u32(60_000));
    const queued = neighbour.call('count', NOTHING);
    const error = await stuck.then(
      () => assert.fail('the sleeping call returned'),
      (failure: unknown) => failure,
    );
    assert.ok(ForgeError.is(error, 'FO_SANDBOX_TIMEOUT'), String(error));
    assert.equal(error.details['cancelled'], true, 'stopped where it waited, not by terminating the worker');
    assert.equal(readI32(await queued), 3, 'the queued neighbour call ran on the same instance');
    assert.equal(sleeper.state, 'poisoned');
    assert.equal(sleeper.fault?.code, 'FO_SANDBOX_TIMEOUT');
    assert.equal(await codeOf(sleeper.call('sleep', u32(1))), 'FO_ABI_INSTANCE_POISONED');
    assert.equal(readI32(await neighbour.call('count', NOTHING)), 4, 'the neighbour kept its memory');
    assert.deepEqual(seen, [], 'the neighbour was not restarted');
    assert.equal(neighbour.stats().restarts, 0);
    assert.equal(backend.workers()[0]?.restarts, 0, 'the worker was not replaced');
  });

  it('stops a guest that chains short sleeps past its limit, and one that sleeps on an absolute realtime deadline, each with FO_SANDBOX_TIMEOUT', async (t) => {
    const { backend } = pool(t);
    const neighbour = await backend.load(await pluginSpec(CORE_GUEST));
    await neighbour.call('count', NOTHING);
    const chained = await backend.load(await pluginSpec(NAPPER_GUEST, { timeoutMs: 200 }));
    const naps = new Uint8Array(8);
    new DataView(naps.buffer).setUint32(0, 1000, true);
    new DataView(naps.buffer).setUint32(4, 30, true);
    assert.equal(await codeOf(chained.call('naps', naps)), 'FO_SANDBOX_TIMEOUT');
    assert.equal(chained.state, 'poisoned');
    const absolute = await backend.load(await pluginSpec(NAPPER_GUEST, { timeoutMs: 200 }));
    assert.equal(await codeOf(absolute.call('nap_at', u32(3600))), 'FO_SANDBOX_TIMEOUT');
    assert.equal(absolute.state, 'poisoned');
    assert.equal(readI32(await neighbour.call('count', NOTHING)), 2, 'the neighbour kept its memory through both');
  });

  it('sleeps a call that ends before its limit as asked, and the instance stays usable', async (t) => {
    const { backend } = pool(t);
    const sleeper = await backend.load(await pluginSpec(WASI_GUEST, { timeoutMs: 5_000 }));
    assert.equal(readI32(await sleeper.call('sleep', u32(20))), 0, 'poll_oneoff answered SUCCESS');
    assert.equal(readI32(await sleeper.call('sleep', u32(1))), 0);
    assert.equal(sleeper.state, 'ready');
  });

  it('delivers the audit record of the poll_oneoff the cancelled call made (it is not lost with a terminated worker)', async (t) => {
    const { backend, host } = pool(t);
    const sleeper = await backend.load(await pluginSpec(WASI_GUEST, { timeoutMs: 200, auditLevel: 'all' }));
    assert.equal(await codeOf(sleeper.call('sleep', u32(60_000))), 'FO_SANDBOX_TIMEOUT');
    const polls = host.audits.filter((entry) => entry.plugin === sleeper.id && entry.action.endsWith('poll_oneoff'));
    assert.equal(polls.length, 1, `audits: ${JSON.stringify(host.audits.map((entry) => entry.action))}`);
    assert.equal(polls[0]?.allowed, true);
  });
});
