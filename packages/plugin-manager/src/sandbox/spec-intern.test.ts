import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SpecInterner, dataKey } from './spec-intern.js';
import { CORE_GUEST } from './test-support/guests.js';
import { TEST_POLICY, pluginSpec } from './test-support/specs.js';

describe('SpecInterner', () => {
  it('shares equal parts of two specs, frozen, and never their identities', async () => {
    const interner = new SpecInterner();
    const a = interner.intern(await pluginSpec(CORE_GUEST));
    const b = interner.intern(structuredClone({ ...(await pluginSpec(CORE_GUEST)), module: undefined }) as never);
    assert.equal(a.policy, b.policy);
    assert.equal(a.ceiling, b.ceiling);
    assert.equal(a.wasi, b.wasi);
    assert.equal(a.hostCalls, b.hostCalls);
    assert.notEqual(a.identity, b.identity);
    assert.ok(Object.isFrozen(a.ceiling) && Object.isFrozen(a.ceiling.syscalls) && Object.isFrozen(a.policy.grants), 'deeply frozen');
    // SECURITY: a write into a shared part throws rather than reaching the other plugin.
    assert.throws(() => (a.ceiling.syscalls as string[]).push('forge.kv_get'), TypeError);
    assert.deepEqual(b.ceiling.syscalls, []);
  });

  it('keeps apart parts that differ in any value, however alike they print', async () => {
    const interner = new SpecInterner();
    const open = interner.intern(await pluginSpec(CORE_GUEST, { permissions: { syscalls: ['forge.kv_get'] } }));
    const closed = interner.intern(await pluginSpec(CORE_GUEST));
    assert.notEqual(open.ceiling, closed.ceiling);
    assert.deepEqual(closed.ceiling.syscalls, []);
    const forbidding = interner.intern(await pluginSpec(CORE_GUEST, { policy: { ...TEST_POLICY, networkAccess: 'none' } }));
    assert.notEqual(forbidding.policy, closed.policy);
    assert.equal(closed.policy.networkAccess, 'restricted');
    // JSON alone would print NaN, Infinity and null alike, and 1 like "1" inside an array.
    assert.notEqual(dataKey({ x: Number.NaN }), dataKey({ x: null }));
    assert.notEqual(dataKey({ x: Number.POSITIVE_INFINITY }), dataKey({ x: null }));
    assert.notEqual(dataKey([1]), dataKey(['1']));
    assert.equal(dataKey({ x: new Uint8Array(1) }), undefined, 'a typed array is not plain data: not shared');
    assert.equal(dataKey({ x: 1n }), undefined);
  });
});
