import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '@forgeone/common';
import { CallFuel, lentFuel } from './call-fuel.js';
import type { CallerFuel } from './spec.js';

/** An instance-like object exporting a mutable i64 global, as instrumentation adds one. */
function instance(): { readonly exports: Record<string, unknown> } {
  const { Global } = (globalThis as unknown as { WebAssembly: { Global: new (descriptor: object, value: bigint) => object } }).WebAssembly;
  return { exports: { fuel: new Global({ value: 'i64', mutable: true }, 0n) } };
}

describe('fuel across plugin calls', () => {
  it("starts a call on the plugin's own budget, or on less when a caller lends less", () => {
    const fuel = CallFuel.of(instance(), 'fuel');
    assert.equal(fuel.start(1000n, undefined), 1000n);
    assert.equal(fuel.lent, false);
    assert.equal(fuel.start(1000n, 5000n), 1000n, 'a caller cannot lend more than the callee may use');
    assert.equal(fuel.lent, false);
    assert.equal(fuel.start(1000n, 300n), 300n);
    assert.equal(fuel.lent, true);
  });

  it('charges what a nested call used, below zero if need be, and reports used (capped) and spent (raw)', () => {
    const fuel = CallFuel.of(instance(), 'fuel');
    fuel.start(1000n, undefined);
    const account = fuel.account();
    account.charge(400n);
    assert.equal(account.remaining, 600n);
    assert.deepEqual([fuel.used, fuel.spent, fuel.exhausted], [400n, 400n, false]);
    account.charge(650n);
    assert.equal(fuel.remaining, -50n);
    assert.deepEqual([fuel.used, fuel.spent, fuel.exhausted], [1000n, 1050n, true]);
  });

  it('refuses to lend from a caller with nothing left (FO_SANDBOX_CPU_LIMIT), and lends nothing for an unmetered one', () => {
    const account = (remaining: bigint): CallerFuel => ({ remaining, charge: () => assert.fail('nothing to charge') });
    assert.equal(lentFuel(undefined, 'call'), undefined);
    assert.equal(lentFuel(account(7n), 'call'), 7n);
    for (const remaining of [0n, -3n]) {
      assert.throws(() => lentFuel(account(remaining), 'call of "x"'), (error: unknown) => ForgeError.is(error, 'FO_SANDBOX_CPU_LIMIT'));
    }
  });
});
