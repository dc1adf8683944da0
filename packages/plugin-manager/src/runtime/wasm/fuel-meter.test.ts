import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { hasCode } from '@forgeone/common/testing';
import { FuelMeter, classifyTrap, isFuelExhausted } from './fuel-meter.js';
import { fn, instantiate, metered } from './test-support/instances.js';
import { wat } from './test-support/wat.js';

const GUEST = `(module
  (import "host" "call" (func $host))
  (func (export "callHost") (call $host))
  (func $deep (export "deep") (param i32) (result i32) (i32.add (call $deep (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "spin") (loop $l (br $l)))
  (func (export "noop")))`;

describe('FuelMeter', () => {
  it('refuses an instance that was not instrumented, or whose export is not the counter', async () => {
    const plain = await instantiate(await wat('(module (func (export "__forge_fuel")))'));
    assert.throws(() => FuelMeter.of(plain), hasCode('FO_RUNTIME_NOT_INSTRUMENTED', { export: '__forge_fuel' }));
    assert.throws(() => FuelMeter.of(plain, 'other'), hasCode('FO_RUNTIME_NOT_INSTRUMENTED', { export: 'other' }));
    const wrongType = await instantiate(await wat('(module (global (export "fuel") (mut i32) (i32.const 0)))'));
    assert.throws(() => FuelMeter.of(wrongType, 'fuel'), hasCode('FO_RUNTIME_NOT_INSTRUMENTED'));
  });

  it('refuses a budget that is negative, past the i64 range or not a bigint', async () => {
    const { meter } = await metered(await wat(GUEST), {}, { host: { call: () => undefined } });
    for (const bad of [-1n, 2n ** 63n, 5 as unknown as bigint]) {
      assert.throws(() => {
        meter.remaining = bad;
      }, hasCode('FO_RUNTIME_BAD_OPTION'));
    }
    meter.remaining = 2n ** 63n - 1n;
    assert.equal(meter.remaining, 2n ** 63n - 1n);
  });

  it('passes a host function’s own error through unchanged, whatever the fuel', async () => {
    const refusal = new ForgeError('FO_IO_PERMISSION', 'host says no');
    const { instance, meter } = await metered(await wat(GUEST), {}, {
      host: {
        call: () => {
          throw refusal;
        },
      },
    });
    assert.throws(() => meter.run(100n, () => fn(instance, 'callHost')()), (error: unknown) => error === refusal);
  });

  it('reports call stack exhaustion with fuel to spare as FO_RUNTIME_TRAP', async () => {
    const { instance, meter } = await metered(await wat(GUEST), {}, { host: { call: () => undefined } });
    assert.throws(() => meter.run(2n ** 62n, () => fn(instance, 'deep')(0)), hasCode('FO_RUNTIME_TRAP'));
    assert.equal(meter.exhausted, false);
  });

  it('tells whether an instance ran out of fuel', async () => {
    const { instance, meter } = await metered(await wat(GUEST), {}, { host: { call: () => undefined } });
    meter.remaining = 10n;
    fn(instance, 'noop')();
    assert.equal(isFuelExhausted(instance), false);
    assert.throws(() => fn(instance, 'spin')(), (error: unknown) => hasCode('FO_SANDBOX_CPU_LIMIT')(classifyTrap(error, meter)));
    assert.equal(isFuelExhausted(instance), true);
    const plain = await instantiate(await wat('(module)'));
    assert.equal(isFuelExhausted(plain), false);
  });

  it('leaves anything that is not a trap alone when classifying', () => {
    const error = new TypeError('not a trap');
    assert.equal(classifyTrap(error), error);
    assert.equal(classifyTrap('a string'), 'a string');
  });
});
