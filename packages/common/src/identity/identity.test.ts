import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError } from '../errors/index.js';
import { IdentityContext } from './index.js';

const plugin = { publisher: 'acme', name: 'hello', version: '1.0.0', digest: `sha256:${'a'.repeat(64)}`, attested: true };

describe('IdentityContext', () => {
  it('names a host, a user and a plugin as principals', () => {
    const host = new IdentityContext('plugin-manager');
    assert.equal(host.principal, 'host:plugin-manager');
    assert.equal(host.forUser('alice').principal, 'user:alice');
    assert.equal(host.forUser('alice').forPlugin(plugin).principal, 'plugin:acme/hello@1.0.0');
    assert.equal(host.forPlugin(plugin).forUser('bob').user, 'bob');
  });

  it('is immutable', () => {
    const identity = new IdentityContext({ host: 'h', plugin });
    assert.throws(() => {
      (identity as { host: string }).host = 'x';
    }, TypeError);
    assert.throws(() => {
      (identity.plugin as { name: string }).name = 'x';
    }, TypeError);
  });

  it('refuses empty, control-character and malformed-digest identities', () => {
    for (const init of [{ host: '' }, { host: 'a\nb' }, { host: 'h', user: '\u0007' }, { host: 'h', plugin: { ...plugin, digest: 'md5:x' } }]) {
      assert.throws(() => new IdentityContext(init), (error: unknown) => ForgeError.is(error, 'FO_IDENTITY_INVALID'));
    }
  });

  it('serialises without absent fields', () => {
    assert.deepEqual(JSON.parse(JSON.stringify(new IdentityContext('h'))), { host: 'h' });
  });
});
