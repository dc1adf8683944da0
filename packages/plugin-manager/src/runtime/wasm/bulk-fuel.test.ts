import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { analyzeModule } from './analyze.js';
import { decodeModule } from './decode.js';
import type { WasmMemory } from './engine.js';
import { instrumentModule } from './instrument.js';
import { BULK_MEMORY_SHIFT, BULK_TABLE_UNITS } from './opcodes.js';
import { body, moduleOf, name, section, vec } from './test-support/binary.js';
import { fn, metered } from './test-support/instances.js';
import { wat } from './test-support/wat.js';

/**
 * Threat C: a bulk operation (memory.fill/copy/init, table.fill/copy/init) does work in
 * proportion to its length in one instruction; charged one unit, a 512 MiB fill cost a
 * unit. Each is now charged by its length, before it runs.
 */
const MiB = 1 << 20;
const ceilBytes = (length: number): bigint => BigInt(Math.ceil(length / 2 ** BULK_MEMORY_SHIFT));
const perElement = (length: number): bigint => BigInt(length * BULK_TABLE_UNITS);

/** Every bulk operation with its length as the parameter; memory is 4097 pages (256 MiB and one page). */
const BULK = `(module
  (memory (export "memory") 4097 4097)
  (table $t 64 64 funcref) (table $u 64 64 funcref)
  (elem $e funcref (ref.func $f) (ref.func $f) (ref.func $f) (ref.func $f) (ref.func $f) (ref.func $f) (ref.func $f) (ref.func $f))
  (data $d "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
  (func $f)
  (func (export "fill") (param $n i32) (memory.fill (i32.const 0) (i32.const 7) (local.get $n)))
  (func (export "copy") (param $n i32) (memory.copy (i32.const 0) (i32.const 65536) (local.get $n)))
  (func (export "init") (param $n i32) (memory.init $d (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "tfill") (param $n i32) (table.fill $t (i32.const 0) (ref.func $f) (local.get $n)))
  (func (export "tcopy") (param $n i32) (table.copy $u $t (i32.const 0) (i32.const 0) (local.get $n)))
  (func (export "tinit") (param $n i32) (table.init $t $e (i32.const 0) (i32.const 0) (local.get $n)))
  ;; The same fill in a loop, \`times\` times: the count lives in the local $f there.
  (func (export "fills") (param $n i32) (param $times i32)
    (loop $again
      (memory.fill (i32.const 0) (i32.const 1) (local.get $n))
      (br_if $again (local.tee $times (i32.sub (local.get $times) (i32.const 1)))))))`;

const AMPLE = 10n ** 12n;

describe('fuel: bulk operations are charged by their length', () => {
  it('stops a 256 MiB memory.fill given fuel for 1 KiB with FO_SANDBOX_CPU_LIMIT, before it writes a byte', async () => {
    const { instance, meter } = await metered(await wat(BULK));
    const kib = meter.run(AMPLE, () => fn(instance, 'fill')(1024)).used;
    const memory = new Uint8Array((instance.exports['memory'] as WasmMemory).buffer);
    memory.fill(0);
    assert.throws(() => meter.run(kib, () => fn(instance, 'fill')(256 * MiB)), hasCode('FO_SANDBOX_CPU_LIMIT', { budget: String(kib) }));
    assert.equal(memory.indexOf(7), -1, 'the fill did no work');
  });

  it('charges fuel in proportion to the length: ceil(length / 2^BULK_MEMORY_SHIFT) units above the fixed cost', async () => {
    const { instance, meter } = await metered(await wat(BULK));
    const base = meter.run(AMPLE, () => fn(instance, 'fill')(0)).used;
    for (const length of [1, 7, 8, 9, 4096, 4097, MiB, 64 * MiB]) {
      assert.equal(meter.run(AMPLE, () => fn(instance, 'fill')(length)).used - base, ceilBytes(length), `fill(${length})`);
    }
  });

  it('charges each of the six operations, memory ones per 2^BULK_MEMORY_SHIFT bytes and table ones per element', async () => {
    const { instance, meter } = await metered(await wat(BULK));
    const cases: readonly [string, number, bigint][] = [
      ['fill', 1000, ceilBytes(1000)],
      ['copy', 1000, ceilBytes(1000)],
      ['init', 60, ceilBytes(60)],
      ['tfill', 50, perElement(50)],
      ['tcopy', 50, perElement(50)],
      ['tinit', 8, perElement(8)],
    ];
    for (const [name, length, expected] of cases) {
      const base = meter.run(AMPLE, () => fn(instance, name)(0)).used;
      assert.equal(meter.run(AMPLE, () => fn(instance, name)(length)).used - base, expected, name);
    }
  });

  it('charges a bulk operation inside a loop on every iteration (the count kept in a local)', async () => {
    const { instance, meter } = await metered(await wat(BULK));
    const once = meter.run(AMPLE, () => fn(instance, 'fills')(4096, 1)).used;
    const tenTimes = meter.run(AMPLE, () => fn(instance, 'fills')(4096, 10)).used;
    const perIteration = (tenTimes - once) / 9n;
    assert.equal((tenTimes - once) % 9n, 0n);
    assert.ok(perIteration > ceilBytes(4096), `${perIteration} units per iteration`);
    assert.throws(() => meter.run(once + perIteration, () => fn(instance, 'fills')(4096, 3)), hasCode('FO_SANDBOX_CPU_LIMIT'));
  });

  it('charges a trapping operation before it traps: out of fuel wins over out of bounds', async () => {
    const { instance, meter } = await metered(await wat(BULK));
    assert.throws(() => meter.run(AMPLE, () => fn(instance, 'tfill')(65)), hasCode('FO_RUNTIME_TRAP'));
    assert.throws(() => meter.run(100n, () => fn(instance, 'tfill')(65)), hasCode('FO_SANDBOX_CPU_LIMIT'));
  });

  it('appends one i32 scratch local after the fuel local, and none to bodies without bulk operations', async () => {
    const bytes = await wat(BULK);
    const original = decodeModule(bytes).module.code;
    const rewritten = decodeModule(instrumentModule(bytes, { fuel: true }).bytes).module.code;
    assert.deepEqual(rewritten[0]?.locals, [{ count: 1, type: 0x7e }], '$f: no bulk operation, a local for the entry charge');
    assert.deepEqual(rewritten[1]?.locals, [...(original[1]?.locals ?? []), { count: 1, type: 0x7e }, { count: 1, type: 0x7f }]);
  });

  it('meters a bulk operation in a function one local short of the engine limit with $n alone, and refuses one at the limit', async () => {
    // fill(0, 0, p): local.get 0 three times would do; use i32.const for the first two.
    const code = [0x41, 0x00, 0x41, 0x00, 0x20, 0x00, 0xfc, 0x0b, 0x00, 0x0b];
    const module = (locals: number) =>
      moduleOf(section(1, vec([[0x60, 0x01, 0x7f, 0x00]])), section(3, vec([[0x00]])), section(5, vec([[0x00, 0x01]])), section(7, vec([[...name('run'), 0x00, 0x00]])), section(10, vec([body([[locals, 0x7f]], code)])));
    const { instance, meter } = await metered(module(49_998));
    const base = meter.run(AMPLE, () => fn(instance, 'run')(0)).used;
    assert.equal(meter.run(AMPLE, () => fn(instance, 'run')(800)).used - base, ceilBytes(800));
    assert.throws(() => instrumentModule(module(49_999), { fuel: true }), hasCode('FO_RUNTIME_TOO_MANY_LOCALS', { function: 0 }));
  });

  it('refuses to meter a bulk operation whose length is an i64 (a 64-bit memory), which analysis still describes', () => {
    const code = [0x42, 0x00, 0x41, 0x00, 0x42, 0x00, 0xfc, 0x0b, 0x00, 0x0b];
    const bytes = moduleOf(section(1, vec([[0x60, 0x00, 0x00]])), section(3, vec([[0x00]])), section(5, vec([[0x04, 0x01]])), section(10, vec([body([], code)])));
    assert.deepEqual(analyzeModule(bytes).features, ['bulk-memory', 'memory64']);
    assert.throws(() => instrumentModule(bytes, { fuel: true }), hasCode('FO_RUNTIME_UNSUPPORTED_FEATURE', { feature: 'memory64' }));
    assert.doesNotThrow(() => instrumentModule(bytes, { fuel: false, maxMemoryBytes: 65_536 }));
  });
});
