import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { throwsCode } from '@forgeone/common/testing';
import { addRevocation, addVersion } from './index-edit.js';
import { emptyIndex, isOciReference, parseIndex, serializeIndex } from './index-format.js';
import { findRevocation } from './revocation.js';
import { publication } from './test-support/repository.js';

describe('index edits and format', () => {
  it('adds versions under one publisher and refuses the name to another (FO_MARKET_PUBLISHER_MISMATCH)', () => {
    const index = addVersion(emptyIndex(), publication('hello', '1.0.0'));
    const two = addVersion(index, publication('hello', '1.1.0', { keywords: ['greeting'] }));
    assert.deepEqual(two.plugins[0]?.versions.map((item) => item.version), ['1.0.0', '1.1.0']);
    assert.deepEqual(two.plugins[0]?.keywords, ['greeting']);
    const error = throwsCode(() => addVersion(two, publication('hello', '2.0.0', { publisher: 'Mallory' })), 'FO_MARKET_PUBLISHER_MISMATCH');
    assert.deepEqual(error.details, { name: 'hello', listed: 'ACME Plugins', found: 'Mallory' });
  });

  it('never replaces a published version with another package (FO_MARKET_VERSION_EXISTS) but accepts the same one again', () => {
    const index = addVersion(emptyIndex(), publication('hello', '1.0.0'));
    assert.deepEqual(addVersion(index, publication('hello', '1.0.0')), index);
    const other = publication('hello', '1.0.0');
    throwsCode(() => addVersion(index, { ...other, version: { ...other.version, digest: `sha256:${'f'.repeat(64)}` } }), 'FO_MARKET_VERSION_EXISTS');
  });

  it('refuses a malformed OCI reference, keyword or description (FO_MARKET_ENTRY_INVALID)', () => {
    const bad = publication('hello', '1.0.0', { keywords: ['Not Valid'], description: 'line\u001b[2J' });
    const error = throwsCode(() => addVersion(emptyIndex(), { ...bad, version: { ...bad.version, oci: 'hello:latest' } }), 'FO_MARKET_ENTRY_INVALID');
    assert.deepEqual((error.details['issues'] as { path: string }[]).map((issue) => issue.path).sort(), ['plugins.hello.description', 'plugins.hello.keywords[0]', 'plugins.hello.versions[0].oci']);
  });

  it('checks OCI references syntactically', () => {
    for (const good of ['registry.example.org/plugins/hello:1.0.0', 'localhost:5000/a/b@sha256:' + 'a'.repeat(64), 'ghcr.io/acme/x:v1@sha256:' + 'b'.repeat(64), '[::1]:5000/p:t']) {
      assert.equal(isOciReference(good), true, good);
    }
    for (const bad of ['hello', 'hello:1.0', 'registry.example.org/Plugins:1', 'registry.example.org/p', 'registry.example.org/p@sha256:abc', 'https://registry.example.org/p:1', 'registry.example.org/../p:1', `registry.example.org/${'a'.repeat(1100)}:1`]) {
      assert.equal(isOciReference(bad), false, bad);
    }
  });

  it('adds revocations once and matches them against identities field by field', () => {
    const revocation = { plugin: 'hello', digest: `sha256:${'c'.repeat(64)}`, reason: 'tampered build', date: '2026-01-01T00:00:00Z' };
    const index = addRevocation(addRevocation(emptyIndex(), revocation), revocation);
    assert.equal(index.revocations.length, 1);
    const subject = { publisher: 'ACME', name: 'hello', version: '1.0.0', digest: `sha256:${'c'.repeat(64)}` };
    assert.equal(findRevocation(index.revocations, subject)?.reason, 'tampered build');
    assert.equal(findRevocation(index.revocations, { ...subject, digest: `sha256:${'d'.repeat(64)}` }), undefined);
    throwsCode(() => addRevocation(emptyIndex(), { version: '1.0.0', reason: 'x', date: '2026-01-01T00:00:00Z' }), 'FO_MARKET_ENTRY_INVALID');
  });

  it('serializes deterministically and reads back what it wrote', () => {
    const a = addVersion(addVersion(emptyIndex(), publication('zeta', '1.0.0')), publication('alpha', '1.0.0'));
    const b = addVersion(addVersion(emptyIndex(), publication('alpha', '1.0.0')), publication('zeta', '1.0.0'));
    assert.deepEqual(serializeIndex(a), serializeIndex(b));
    assert.deepEqual(parseIndex(serializeIndex(a)).plugins.map((entry) => entry.name), ['alpha', 'zeta']);
    throwsCode(() => parseIndex(Buffer.from([0xff, 0xfe])), 'FO_MARKET_INDEX_INVALID');
    throwsCode(() => parseIndex(Buffer.from(JSON.stringify({ ...emptyIndex(), schema: 'forgeone.marketplace.index/v2' }))), 'FO_MARKET_INDEX_INVALID');
  });
});
