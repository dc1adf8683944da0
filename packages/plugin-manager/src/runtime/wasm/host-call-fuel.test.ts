import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasCode } from '@forgeone/common/testing';
import { HOST_CALL_FUEL, HostCallFuel } from '../../abi/index.js';
import { engine, type WasmImports } from './engine.js';
import { FuelMeter } from './fuel-meter.js';
import { FUEL_EXPORT, instrumentModule } from './instrument.js';
import { fn } from './test-support/instances.js';
import { wat } from './test-support/wat.js';

/**
 * `direct(n)` calls the import n times, `indirect(n)` the same through call_indirect on a
 * table holding it, `alias` is the import exported as is.
 */
const GUEST = `(module
  (type $host (func))
  (import "host" "call" (func $host (type $host)))
  (table 1 funcref)
  (elem (i32.const 0) $host)
  (export "alias" (func $host))
  (func (export "direct") (param $n i32)
    (block $done (loop $again
      (br_if $done (i32.eqz (local.get $n)))
      (call $host)
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $again))))
  (func (export "indirect") (param $n i32)
    (block $done (loop $again
      (br_if $done (i32.eqz (local.get $n)))
      (call_indirect (type $host) (i32.const 0))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $again)))))`;

const AMPLE = 10n ** 12n;

/** The instrumented guest, its host function counting calls, charged for host calls or not. */
async function guest(charged: boolean): Promise<{ meter: FuelMeter; call: (name: string, ...args: unknown[]) => unknown; calls: () => number }> {
  const { bytes } = instrumentModule(await wat(GUEST), { fuel: true });
  let calls = 0;
  const imports: WasmImports = { host: { call: () => {
    calls += 1;
  } } };
  const fuel = charged ? new HostCallFuel(FUEL_EXPORT) : undefined;
  const instance = new engine.Instance(new engine.Module(bytes), fuel === undefined ? imports : fuel.wrap(imports));
  fuel?.bind(instance);
  return { meter: FuelMeter.of(instance), call: (name, ...args) => fn(instance, name)(...args), calls: () => calls };
}

describe('host calls pay HOST_CALL_FUEL', () => {
  for (const route of ['direct', 'indirect'] as const) {
    it(`charges exactly HOST_CALL_FUEL per host call on top of the guest's instructions (${route === 'direct' ? 'call' : 'call_indirect through a table'})`, async () => {
      const plain = await guest(false);
      const charged = await guest(true);
      const used = (g: typeof plain, n: number): bigint => g.meter.run(AMPLE, () => g.call(route, n)).used;
      for (const n of [0, 1, 37]) assert.equal(used(charged, n) - used(plain, n), BigInt(n) * HOST_CALL_FUEL, `${n} host calls`);
      assert.equal(charged.calls(), 38);
    });

    it(`stops a flood with FO_SANDBOX_CPU_LIMIT when a host call cannot pay, before that host call runs (${route})`, async () => {
      const plain = await guest(false);
      const used = (n: number): bigint => plain.meter.run(AMPLE, () => plain.call(route, n)).used;
      // The guest's own fuel: the entry region, then one loop region per iteration (n + 1 for n calls).
      const iteration = used(1) - used(0);
      const entry = used(0) - iteration;
      const charged = await guest(true);
      // Ten calls paid in full, then the eleventh iteration's own region, and one unit short of the eleventh host call.
      const budget = entry + 10n * (iteration + HOST_CALL_FUEL) + iteration + HOST_CALL_FUEL - 1n;
      assert.throws(() => charged.meter.run(budget, () => charged.call(route, 1000)), hasCode('FO_SANDBOX_CPU_LIMIT', { budget: budget.toString() }));
      assert.equal(charged.calls(), 10, 'the eleventh host call found too little fuel and did not run');
      assert.equal(charged.meter.remaining, -1n, 'the wrapper took its price, leaving the counter one unit below zero');
    });
  }

  it('charges an import the module re-exports when the host calls that export', async () => {
    const charged = await guest(true);
    const { used } = charged.meter.run(AMPLE, () => charged.call('alias'));
    assert.equal(used, HOST_CALL_FUEL);
    assert.equal(charged.calls(), 1);
  });

  it('runs no host call before the counter is bound (a start function): it traps instead', async () => {
    const bytes = instrumentModule(await wat('(module (import "host" "call" (func $host)) (func $start (call $host)) (start $start))'), { fuel: true, initialFuel: AMPLE }).bytes;
    let calls = 0;
    const imports = new HostCallFuel(FUEL_EXPORT).wrap({ host: { call: () => {
    calls += 1;
  } } });
    assert.throws(() => new engine.Instance(new engine.Module(bytes), imports), (error: unknown) => error instanceof engine.RuntimeError && /no fuel counter/.test(error.message));
    assert.equal(calls, 0);
  });
});
