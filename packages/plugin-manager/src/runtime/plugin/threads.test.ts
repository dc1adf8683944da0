import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ALLOW_ALL_GATE, ForgeError } from '@forgeone/common';
import { hasCode } from '@forgeone/common/testing';
import { parsePluginToml, type Permissions } from '../../plugin/index.js';
import { engine } from '../wasm/engine.js';
import { CompileCache, threadBlockingReason } from '../wasm/index.js';
import { body, moduleOf, name, section, vec } from '../wasm/test-support/binary.js';
import { wat } from '../wasm/test-support/wat.js';
import { PluginInstance, prepareModule } from './index.js';

/**
 * Threat A: a guest that blocks its thread in `memory.atomic.wait32` on a shared memory
 * holds the inline backend's host thread for as long as it likes. Shared memories and
 * atomic waits are refused unless the manifest grants `permissions.threads`.
 */
const NO_PERMISSIONS: Permissions = parsePluginToml('[plugin]\nname = "t"\nversion = "1.0.0"\n').permissions;
const THREADS: Permissions = { ...NO_PERMISSIONS, threads: true };

/** A forge/1 guest with `memory` as its memory declaration and `body` as more exports. */
const guest = (memory: string, extra: string) => `(module ${memory}
  (global $heap (mut i32) (i32.const 4096))
  (func (export "forge_alloc") (param $len i32) (result i32) (local $p i32)
    (local.set $p (global.get $heap)) (global.set $heap (i32.add (local.get $p) (local.get $len))) (local.get $p))
  (func (export "forge_free") (param i32 i32))
  ${extra})`;

/** Waits on address 0 for one second when memory is shared (a bounded hold, should a refusal ever fail). */
const WAIT32 = `(func (export "hold") (param i32 i32) (result i64)
  (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 1000000000))) (i64.const 0))`;
const SHARED_MEMORY = '(memory (export "memory") 1 1 shared)';
const PLAIN_MEMORY = '(memory (export "memory") 1)';

const prepare = async (bytes: Uint8Array, permissions: Permissions) => prepareModule(bytes, { permissions, maxMemoryBytes: 1 << 20 }, new CompileCache());

/** A module with a one-page memory (`flags` as its limits flag) and one body `code`, exported as "run". */
function handMade(code: readonly number[], memoryLimits: readonly number[] = [0x00, 0x01]): Uint8Array {
  return moduleOf(
    section(1, vec([[0x60, 0x00, 0x00]])),
    section(3, vec([[0x00]])),
    section(5, vec([[...memoryLimits]])),
    section(7, vec([[...name('run'), 0x00, 0x00]])),
    section(10, vec([body([], code)])),
  );
}

/**
 * An address, an expected value (i32, or i64 for wait64), a timeout of 0, then the 0xfe
 * prefix and `sub` (its LEB128 bytes as given), a natural-alignment memarg, drop, end.
 */
const waitCode = (sub: readonly number[], wide = false): number[] => [0x41, 0x00, wide ? 0x42 : 0x41, 0x00, 0x42, 0x00, 0xfe, ...sub, wide ? 0x03 : 0x02, 0x00, 0x1a, 0x0b];

describe('threads: shared memories and atomic waits need permissions.threads', () => {
  it('refuses a guest with a shared memory and memory.atomic.wait32 and no permission at prepare time, naming the memory', async () => {
    const bytes = await wat(guest(SHARED_MEMORY, WAIT32));
    await assert.rejects(prepare(bytes, NO_PERMISSIONS), hasCode('FO_RUNTIME_SHARED_MEMORY_DENIED', { memory: 0, imported: false }));
  });

  it('refuses an imported shared memory the same way, before the import check', async () => {
    const bytes = await wat(guest('(import "env" "memory" (memory 1 1 shared))', '(export "memory" (memory 0))'));
    await assert.rejects(prepare(bytes, NO_PERMISSIONS), hasCode('FO_RUNTIME_SHARED_MEMORY_DENIED', { memory: 0, imported: true }));
  });

  it('refuses memory.atomic.wait32 and wait64 without the permission even on an unshared memory, naming the instruction and where it is', async () => {
    await assert.rejects(
      prepare(handMade(waitCode([0x01])), NO_PERMISSIONS),
      hasCode('FO_RUNTIME_ATOMIC_WAIT_DENIED', { instruction: 'memory.atomic.wait32', function: 0, count: 1 }),
    );
    await assert.rejects(prepare(handMade(waitCode([0x02], true)), NO_PERMISSIONS), hasCode('FO_RUNTIME_ATOMIC_WAIT_DENIED', { instruction: 'memory.atomic.wait64' }));
  });

  it('recognises a wait whose sub-opcode is written as an overlong LEB128 (the engine accepts it)', async () => {
    const overlong = handMade(waitCode([0x81, 0x80, 0x00]));
    await assert.rejects(prepare(overlong, NO_PERMISSIONS), hasCode('FO_RUNTIME_ATOMIC_WAIT_DENIED', { instruction: 'memory.atomic.wait32' }));
  });

  it('recognises a shared 64-bit memory (limits flag 0x07)', async () => {
    await assert.rejects(prepare(handMade([0x0b], [0x07, 0x01, 0x01]), NO_PERMISSIONS), hasCode('FO_RUNTIME_SHARED_MEMORY_DENIED', { memory: 0 }));
  });

  it('lets memory.atomic.notify, atomic accesses and fences through without the permission: none of them blocks', async () => {
    const bytes = await wat(guest(PLAIN_MEMORY, `(func (export "poke") (param i32 i32) (result i64)
      (drop (memory.atomic.notify (i32.const 0) (i32.const 1)))
      (drop (i32.atomic.rmw.add (i32.const 8) (i32.const 1)))
      (atomic.fence)
      (drop (i32.atomic.load (i32.const 8)))
      (i64.const 0))`));
    const plugin = PluginInstance.create(await prepare(bytes, NO_PERMISSIONS), { gate: ALLOW_ALL_GATE });
    assert.equal(plugin.call('poke', new Uint8Array(0)).length, 0);
  });

  it('prepares a waiting guest once permissions.threads grants it', async () => {
    const prepared = await prepare(await wat(guest(SHARED_MEMORY, WAIT32)), THREADS);
    assert.equal(prepared.info.memories[0]?.shared, true);
    assert.deepEqual(prepared.info.atomicWaits, { count: 1, first: { instruction: 'memory.atomic.wait32', function: 2, offset: prepared.info.atomicWaits.first?.offset } });
    // The compiled module carries the mark a backend that cannot preempt its thread reads.
    assert.match(threadBlockingReason(prepared.module) ?? '', /^memory 0 is shared and the module uses memory\.atomic\.wait32 in function 2 at byte \d+$/);
    const unshared = await prepare(await wat(guest(PLAIN_MEMORY, WAIT32)), THREADS);
    assert.equal(threadBlockingReason(unshared.module), undefined, 'a wait on an unshared memory cannot block: it traps');
  });

  it('still traps, as the engine does, on a wait on an unshared memory once granted', async () => {
    const bytes = await wat(guest(PLAIN_MEMORY, WAIT32));
    const plugin = PluginInstance.create(await prepare(bytes, THREADS), { gate: ALLOW_ALL_GATE });
    assert.throws(() => plugin.call('hold', new Uint8Array(0)), (error: unknown) => {
      assert.ok(ForgeError.is(error, 'FO_ABI_GUEST_TRAP'), String(error));
      assert.match(error.message, /Atomics\.wait/);
      return true;
    });
  });
});

// Keep the hand-encoding helpers honest: the engine must accept what the tests refuse.
describe('threads test modules', () => {
  it('are valid for the engine, so the refusal is ours and not the compiler\'s', () => {
    assert.ok(engine.validate(handMade(waitCode([0x81, 0x80, 0x00]))));
    assert.ok(engine.validate(handMade(waitCode([0x02], true))));
  });
});
