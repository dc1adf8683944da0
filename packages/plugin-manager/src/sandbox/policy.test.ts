import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError, IdentityContext, object, required, string } from '@forgeone/common';
import { SyscallBridge, TrustContext } from '@forgeone/microkernel';
import { PolicyCache, catalogWith } from './policy.js';
import { registeredCallSpecs } from './registered.js';
import { TEST_POLICY } from './test-support/specs.js';

const FORBID_TIME = { text: 'forbid(principal, action == ForgeOne::Action::"forge.time_now", resource);', mode: 'forbid-only', source: 'test.cedar' } as const;

describe('policies rebuilt inside a backend', () => {
  it('catalogues registered calls: built-in names as they are, bare new names as explicit calls on nothing, CallSpecs as given', () => {
    const catalog = catalogWith(['forge.call_plugin', 'forge.weather', { name: 'forge.lookup', resource: 'key', requires: 'none' }]);
    assert.deepEqual(catalog.get('forge.call_plugin'), { name: 'forge.call_plugin', resource: 'plugin', requires: 'explicit' });
    assert.deepEqual(catalog.get('forge.weather'), { name: 'forge.weather', resource: 'none', requires: 'explicit' });
    assert.deepEqual(catalog.get('forge.lookup'), { name: 'forge.lookup', resource: 'key', requires: 'none' });
  });

  it('refuses a registered name outside forge.<name> and a CallSpec that contradicts a built-in call', () => {
    assert.throws(() => catalogWith(['wasi_snapshot_preview1.fd_write']), (error: unknown) => ForgeError.is(error, 'FO_SYSCALL_INVALID_NAME'));
    assert.throws(() => catalogWith([{ name: 'forge.kv_get', resource: 'none', requires: 'none' }]), (error: unknown) => ForgeError.is(error, 'FO_TRUST_CALL_CONFLICT'));
  });

  it('loads one policy once per thread for every plugin that shares it, and forgets it with its last user', () => {
    const cache = new PolicyCache();
    const policy = { ...TEST_POLICY, cedar: FORBID_TIME };
    const first = cache.retain(policy, []);
    const second = cache.retain({ ...policy }, []);
    assert.equal(second.value, first.value, 'an equal policy is the same entry');
    const other = cache.retain(policy, ['forge.weather']);
    assert.notEqual(other.value, first.value, 'other registered calls, another catalog');
    assert.equal(cache.size, 2);
    cache.release(first.key);
    assert.equal(cache.size, 2, 'one user left');
    cache.release(second.key);
    cache.release(other.key);
    assert.equal(cache.size, 0);
  });

  it('describes the calls a host application registered with the bridge', () => {
    const bridge = new SyscallBridge({ trust: new TrustContext(new IdentityContext('host')) });
    bridge.register({ name: 'forge.weather', description: 'weather', args: object({ city: required(string(), 'City.') }), resource: 'key', resourceOf: (args) => args.city, handler: () => ({}) });
    bridge.register({ name: 'forge.ping', description: 'ping', args: object({}), requires: 'none', handler: () => ({}) });
    assert.deepEqual(registeredCallSpecs(bridge), [
      { name: 'forge.ping', resource: 'none', requires: 'none' },
      { name: 'forge.weather', resource: 'key', requires: 'explicit' },
    ]);
  });
});
