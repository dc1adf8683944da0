import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { analyzeModule } from './analyze.js';
import { decodeModule } from './decode.js';
import { engine } from './engine.js';
import { FUEL_EXPORT, instrumentModule } from './instrument.js';
import { body, moduleOf, section, vec } from './test-support/binary.js';
import { fn, instantiate, metered } from './test-support/instances.js';
import { wat } from './test-support/wat.js';

/**
 * Costs below follow docs/runtime.md: one unit per instruction, except block, loop,
 * else, end, nop, drop, unreachable and return, which are free. `count` charges its
 * entry region (loop + local.get + end = 1) once and its loop body (8) per iteration.
 */
const COUNTER = `(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "count") (param $n i32) (result i32) (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  (func (export "spin") (loop $l (br $l)))
  (func $down (export "down") (param i32) (result i32)
    (if (result i32) (local.get 0) (then (call $down (i32.sub (local.get 0) (i32.const 1)))) (else (i32.const 0))))
  (func $tail (export "tail") (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (return (i32.const 7))))
    (return_call $tail (i32.sub (local.get 0) (i32.const 1))))
  (func (export "trap") (unreachable))
  (func (export "divide") (param i32 i32) (result i32) (i32.div_u (local.get 0) (local.get 1))))`;

describe('instrumentModule: fuel accounting', () => {
  it('charges a straight-line function its instruction count on entry', async () => {
    const { instance, meter } = await metered(await wat(COUNTER));
    const { value, used } = meter.run(100n, () => fn(instance, 'add')(2, 3));
    assert.equal(value, 5);
    assert.equal(used, 3n);
  });

  it('charges a loop body once per iteration, the same amount on every run', async () => {
    const { instance, meter } = await metered(await wat(COUNTER));
    for (const n of [1, 2, 10, 1000]) {
      const first = meter.run(1_000_000n, () => fn(instance, 'count')(n));
      const second = meter.run(1_000_000n, () => fn(instance, 'count')(n));
      assert.equal(first.value, n);
      assert.equal(first.used, BigInt(1 + 8 * n), `count(${n})`);
      assert.equal(second.used, first.used);
    }
  });

  it('runs to completion with exactly the fuel it needs and stops one unit short', async () => {
    const { instance, meter } = await metered(await wat(COUNTER));
    const need = BigInt(1 + 8 * 50);
    assert.deepEqual(meter.run(need, () => fn(instance, 'count')(50)), { value: 50, used: need });
    assert.equal(meter.remaining, 0n);
    assert.throws(() => meter.run(need - 1n, () => fn(instance, 'count')(50)), hasCode('FO_SANDBOX_CPU_LIMIT', { budget: String(need - 1n) }));
  });

  it('stops a runaway loop with FO_SANDBOX_CPU_LIMIT, overshooting by less than one loop body', async () => {
    const { instance, meter } = await metered(await wat(COUNTER));
    assert.throws(() => meter.run(1_000_000n, () => fn(instance, 'spin')()), hasCode('FO_SANDBOX_CPU_LIMIT'));
    assert.ok(meter.exhausted);
    assert.ok(meter.remaining >= -1n, `remaining ${meter.remaining}: the loop body costs 1`);
  });

  it('stops unbounded recursion and tail recursion by fuel before anything else', async () => {
    const { instance, meter } = await metered(await wat(COUNTER));
    assert.throws(() => meter.run(10_000n, () => fn(instance, 'down')(1_000_000)), hasCode('FO_SANDBOX_CPU_LIMIT'));
    assert.throws(() => meter.run(10_000n, () => fn(instance, 'tail')(100_000_000)), hasCode('FO_SANDBOX_CPU_LIMIT'));
    assert.equal(meter.run(10_000n, () => fn(instance, 'tail')(100)).value, 7);
  });

  it('reports other traps as FO_RUNTIME_TRAP with the engine message, fuel left over', async () => {
    const { instance, meter } = await metered(await wat(COUNTER));
    assert.throws(() => meter.run(100n, () => fn(instance, 'trap')()), hasCode('FO_RUNTIME_TRAP', { trap: 'unreachable' }));
    assert.throws(() => meter.run(100n, () => fn(instance, 'divide')(1, 0)), hasCode('FO_RUNTIME_TRAP'));
    assert.equal(meter.exhausted, false);
  });

  it('keeps two instances in one thread independent: one runs out, the other computes on', async () => {
    const bytes = await wat(COUNTER);
    const a = await metered(bytes);
    const b = await metered(bytes);
    b.meter.remaining = 1_000_000n;
    const before = fn(b.instance, 'count')(100);
    const afterFirst = b.meter.remaining;
    assert.throws(() => a.meter.run(500n, () => fn(a.instance, 'spin')()), hasCode('FO_SANDBOX_CPU_LIMIT'));
    assert.equal(b.meter.remaining, afterFirst, 'b was not charged for a');
    assert.equal(fn(b.instance, 'count')(100), before);
    assert.equal(b.meter.remaining, afterFirst - 801n);
    assert.ok(a.meter.exhausted);
    assert.equal(b.meter.exhausted, false);
  });

  it('keeps the counter exact across host calls that re-enter the guest', async () => {
    const bytes = await wat(`(module
      (import "host" "poke" (func $poke (param i32) (result i32)))
      (func $add (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
      (func (export "outer") (param $n i32) (result i32) (local $s i32)
        (loop $l
          (local.set $s (i32.add (local.get $s) (call $poke (local.get $n))))
          (br_if $l (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
        (local.get $s)))`);
    let seen: bigint[] = [];
    const guest: { add?: (a: number, b: number) => number; fuel?: () => bigint } = {};
    const { instance, meter } = await metered(bytes, {}, {
      host: {
        poke: (n: number) => {
          seen.push(guest.fuel?.() ?? -1n);
          return guest.add?.(n, 1) ?? 0;
        },
      },
    });
    guest.add = (a, b) => fn(instance, 'add')(a, b) as number;
    guest.fuel = () => meter.remaining;
    const { value, used } = meter.run(1000n, () => fn(instance, 'outer')(3));
    assert.equal(value, 4 + 3 + 2);
    // Entry region: loop, local.get, end = 1. Loop body: local.get, local.get, call,
    // i32.add, local.set, local.get, i32.const, i32.sub, local.tee, br_if = 10. Each
    // re-entry into add: 3.
    assert.equal(used, 1n + 3n * 10n + 3n * 3n);
    assert.deepEqual(seen, [1000n - 11n, 1000n - 11n - 3n - 10n, 1000n - 11n - 3n - 10n - 3n - 10n]);
    seen = [];
    assert.throws(() => meter.run(30n, () => fn(instance, 'outer')(3)), hasCode('FO_SANDBOX_CPU_LIMIT'));
  });

  it('charges a start function from initialFuel, and traps it when there is none', async () => {
    const bytes = await wat(`(module (global $g (mut i32) (i32.const 0))
      (func $s (local $i i32) (loop $l (br_if $l (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (i32.const 10)))) (global.set $g (local.get $i)))
      (start $s) (func (export "g") (result i32) (global.get $g)))`);
    const { instance, meter } = await metered(bytes, { initialFuel: 1000n });
    assert.equal(meter.remaining, 1000n - 2n - 10n * 7n);
    assert.equal(fn(instance, 'g')(), 10);
    const starved = instrumentModule(bytes, { fuel: true });
    await assert.rejects(instantiate(starved.bytes), (error: unknown) => error instanceof engine.RuntimeError);
  });

  it('appends the counter as the last global and exports it, adding the sections a module lacks', async () => {
    const bare = moduleOf(section(1, vec([[0x60, 0x00, 0x00]])), section(3, vec([[0x00]])), section(10, vec([body([], [0x01, 0x0b])])));
    const result = instrumentModule(bare, { fuel: true });
    assert.equal(result.fuelExport, FUEL_EXPORT);
    const info = analyzeModule(result.bytes);
    assert.deepEqual(info.globals, [{ imported: false, type: 'i64', mutable: true }]);
    assert.deepEqual(info.exports, [{ name: FUEL_EXPORT, kind: 'global', index: 0 }]);
    assert.ok(engine.validate(result.bytes));
    const withGlobals = await wat(`(module (import "env" "g" (global i32)) (global (mut i64) (i64.const 1)) (func (export "f") (result i32) (global.get 0)))`);
    assert.deepEqual(
      analyzeModule(instrumentModule(withGlobals, { fuel: true }).bytes).exports.find((e) => e.name === FUEL_EXPORT),
      { name: FUEL_EXPORT, kind: 'global', index: 2 },
    );
  });

  it('refuses a module that already exports the fuel counter name', async () => {
    const bytes = await wat(`(module (global (export "${FUEL_EXPORT}") (mut i64) (i64.const 99)))`);
    assert.throws(() => instrumentModule(bytes, { fuel: true }), hasCode('FO_RUNTIME_RESERVED_EXPORT', { name: FUEL_EXPORT }));
  });

  it('meters a function already at the engine’s locals limit without adding a local', async () => {
    const code = [0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00, 0x0b, 0x0b]; // loop: p -= 1; br_if p
    const full = moduleOf(
      section(1, vec([[0x60, 0x01, 0x7f, 0x00]])),
      section(3, vec([[0x00]])),
      section(7, vec([[0x03, 0x72, 0x75, 0x6e, 0x00, 0x00]])),
      section(10, vec([body([[49_999, 0x7f]], code)])),
    );
    assert.ok(engine.validate(full));
    const { instance, meter } = await metered(full);
    assert.equal(meter.run(1000n, () => fn(instance, 'run')(5)).used, 5n * 5n);
    assert.equal(decodeModule(instrumentModule(full, { fuel: true }).bytes).module.code[0]?.localCount, 49_999);
  });

  it('returns the very input when asked for nothing', async () => {
    const bytes = await wat(COUNTER);
    assert.equal(instrumentModule(bytes, { fuel: false }).bytes, bytes);
    assert.equal(instrumentModule(bytes, { fuel: false }).fuelExport, undefined);
  });

  it('refuses malformed limits as FO_LIMIT_INVALID and a malformed fuel amount as FO_RUNTIME_BAD_OPTION', async () => {
    const bytes = await wat(COUNTER);
    assert.throws(() => instrumentModule(bytes, { fuel: false, maxMemoryBytes: -1 }), hasCode('FO_LIMIT_INVALID'));
    assert.throws(() => instrumentModule(bytes, { fuel: false, maxTableElements: Number.NaN }), hasCode('FO_LIMIT_INVALID'));
    assert.throws(() => instrumentModule(bytes, { fuel: true, initialFuel: 2n ** 63n }), hasCode('FO_RUNTIME_BAD_OPTION'));
  });
});

describe('instrumentModule: memory and table caps', () => {
  const GROW = `(module (memory (export "memory") 1) (table 1 funcref)
    (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
    (func (export "tgrow") (param i32) (result i32) (table.grow (ref.null func) (local.get 0))))`;

  it('gives a memory without a maximum the cap, so memory.grow past it returns -1', async () => {
    const capped = instrumentModule(await wat(GROW), { fuel: false, maxMemoryBytes: 3 * 65536 + 100 });
    assert.deepEqual(analyzeModule(capped.bytes).memories, [{ imported: false, minPages: 1, maxPages: 3, shared: false, memory64: false }]);
    const instance = await instantiate(capped.bytes);
    assert.equal(fn(instance, 'grow')(2), 1);
    assert.equal(fn(instance, 'grow')(1), -1);
    assert.equal(fn(instance, 'grow')(0), 3);
  });

  it('lowers a larger maximum and keeps a smaller one', async () => {
    const bytes = await wat(`(module (memory 1 100))`);
    assert.equal(analyzeModule(instrumentModule(bytes, { fuel: false, maxMemoryBytes: 8 * 65536 }).bytes).memories[0]?.maxPages, 8);
    const small = await wat(`(module (memory 1 2))`);
    assert.equal(instrumentModule(small, { fuel: false, maxMemoryBytes: 8 * 65536 }).bytes, small, 'nothing to change');
  });

  it('clamps an imported memory, so the host must supply one no larger than the cap', async () => {
    const bytes = instrumentModule(await wat(`(module (import "env" "memory" (memory 1)) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))`), {
      fuel: false,
      maxMemoryBytes: 2 * 65536,
    }).bytes;
    assert.equal(analyzeModule(bytes).memories[0]?.maxPages, 2);
    await assert.rejects(instantiate(bytes, { env: { memory: new engine.Memory({ initial: 1, maximum: 10 }) } }), (error: unknown) => error instanceof engine.LinkError);
    const instance = await instantiate(bytes, { env: { memory: new engine.Memory({ initial: 1, maximum: 2 }) } });
    assert.equal(fn(instance, 'grow')(5), -1);
  });

  it('refuses a memory whose minimum is above the cap as FO_RUNTIME_MEMORY_LIMIT', async () => {
    const bytes = await wat(`(module (memory 4))`);
    assert.throws(() => instrumentModule(bytes, { fuel: false, maxMemoryBytes: 3 * 65536 }), hasCode('FO_RUNTIME_MEMORY_LIMIT', { memory: 0, minimumBytes: 4 * 65536, limitBytes: 3 * 65536 }));
  });

  it('caps tables the same way: table.grow past the cap returns -1, a larger minimum is refused', async () => {
    const capped = instrumentModule(await wat(GROW), { fuel: false, maxTableElements: 4 });
    assert.equal(analyzeModule(capped.bytes).tables[0]?.max, 4);
    const instance = await instantiate(capped.bytes);
    assert.equal(fn(instance, 'tgrow')(3), 1);
    assert.equal(fn(instance, 'tgrow')(1), -1);
    assert.throws(() => instrumentModule(capped.bytes, { fuel: false, maxTableElements: 0 }), hasCode('FO_RUNTIME_TABLE_LIMIT', { table: 0, minimum: 1, limit: 0 }));
  });

  it('applies fuel and both caps in one pass', async () => {
    const { instance, meter, bytes } = await metered(await wat(GROW), { maxMemoryBytes: 2 * 65536, maxTableElements: 2 });
    assert.equal(meter.run(100n, () => fn(instance, 'grow')(5)).value, -1);
    assert.equal(analyzeModule(bytes).tables[0]?.max, 2);
  });
});
