/**
 * Push and pull against a real registry: Debian's docker-registry (CNCF distribution
 * 2.8, no referrers API, so signatures go through the sha256-<hex> tag fallback).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { codeOf, rejectsWithCode } from '@forgeone/common/testing';
import { makeSigned, openStore } from '../store/test-support/fixtures.js';
import { OciClient } from './client.js';
import { INDEX_MEDIA_TYPE, digestOf } from './manifest.js';
import { pullPackage } from './pull.js';
import { installFromRegistry } from './install.js';
import { DEFAULT_PACKAGE_LIMITS, readPackage } from '../../loader/index.js';
import { pushPackage } from './push.js';
import { parseReference } from './reference.js';
import { fallbackTag } from './referrers.js';
import { requireRegistry, startRegistryIfPossible, type TestRegistry } from './test-support/registry.js';

describe('OCI push and pull against docker-registry (no auth)', () => {
  let registry: TestRegistry | undefined;
  before(async () => {
    registry = await startRegistryIfPossible();
  });
  after(() => registry?.stop());

  const client = (): OciClient => new OciClient({ registry: registry?.host ?? '', backoffMs: 1 });
  const ref = (text: string) => parseReference(`${registry?.host ?? ''}/${text}`);

  test('a signed package goes up and comes back byte for byte, its signature as a referrer under the sha256- tag', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const bytes = await makeSigned({ name: 'roundtrip' });
    const pushed = await pushPackage(client(), ref('forge/roundtrip:1.0.0'), bytes);
    assert.equal(pushed.signatures.length, 1);
    const pulled = await pullPackage(client(), ref('forge/roundtrip:1.0.0'));
    assert.equal(pulled.digest, pushed.digest);
    assert.deepEqual(pulled.signatures, [`attestations/${pushed.signatures[0]?.file ?? ''}`]);
    assert.ok(Buffer.from(bytes).equals(pulled.bytes), 'the reassembled package is the pushed one');
    // distribution 2.8 has no referrers API: the fallback tag holds an index naming the signature.
    const api = await fetch(`http://${registry.host}/v2/forge/roundtrip/referrers/${pushed.digest}`);
    assert.equal(api.status, 404);
    const index = await fetch(`http://${registry.host}/v2/forge/roundtrip/manifests/${fallbackTag(pushed.digest)}`, { headers: { accept: INDEX_MEDIA_TYPE } });
    const body = Buffer.from(await index.arrayBuffer());
    assert.equal(index.status, 200);
    assert.deepEqual(
      (JSON.parse(body.toString('utf8')) as { manifests: { digest: string }[] }).manifests.map((entry) => entry.digest),
      [pushed.signatures[0]?.digest],
    );
  });

  test('a package pulled by digest installs: the store verifies it as it verifies a local file', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const pushed = await pushPackage(client(), ref('forge/install:1.0.0'), await makeSigned({ name: 'install' }));
    const pulled = await pullPackage(client(), ref(`forge/install@${pushed.digest}`));
    const store = await openStore();
    const done = await store.install(pulled.bytes);
    assert.equal(done.plugin.name, 'install');
    assert.deepEqual((await store.list()).map((plugin) => plugin.name), ['install']);
  });

  test('a fast re-pack (stored for incompressible files, level 1 otherwise) keeps the files and the content digest, and installs', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    for (const [name, payload] of [['noise', randomBytes(256 * 1024)], ['text', Buffer.from(randomBytes(128 * 1024).toString('hex'))]] as const) {
      const signed = await makeSigned({ name, assets: { 'payload.bin': payload } });
      await pushPackage(client(), ref(`forge/${name}:1.0.0`), signed);
      const identical = await pullPackage(client(), ref(`forge/${name}:1.0.0`));
      const fast = await pullPackage(client(), ref(`forge/${name}:1.0.0`), { repack: 'fast' });
      assert.deepEqual(identical.bytes, signed, 'identical: the pushed file');
      assert.notDeepEqual(fast.bytes, signed, 'fast: other file bytes');
      const [a, b] = [await readPackage(identical.bytes, DEFAULT_PACKAGE_LIMITS), await readPackage(fast.bytes, DEFAULT_PACKAGE_LIMITS)];
      assert.equal(b.digest, a.digest, 'the same content digest');
      assert.deepEqual(b.files.map((file) => [file.path, file.sha256]), a.files.map((file) => [file.path, file.sha256]));
      const installed = await installFromRegistry(client(), ref(`forge/${name}:1.0.0`), await openStore());
      assert.equal(installed.installed.plugin.identity.digest, a.digest);
    }
  });

  test('chunked uploads, cross-repository mounts and blobs already there', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    const bytes = await makeSigned({ name: 'chunked', assets: { 'big.bin': Buffer.alloc(40_000, 7) } });
    const first = await pushPackage(client(), ref('forge/chunked:1.0.0'), bytes, { chunkSize: 1000 });
    assert.equal(first.layer.outcome, 'uploaded');
    const again = await pushPackage(client(), ref('forge/chunked:1.0.1'), bytes);
    assert.equal(again.layer.outcome, 'existed');
    const mounted = await pushPackage(client(), ref('forge/mounted:1.0.0'), bytes, { mountFrom: 'forge/chunked' });
    assert.equal(mounted.layer.outcome, 'mounted');
    const pulled = await pullPackage(client(), ref('forge/mounted:1.0.0'));
    assert.ok(Buffer.from(bytes).equals(pulled.bytes));
  });

  test('an unsigned plugin is refused at pull (FO_OCI_MISSING_SIGNATURE), and by the store when pulled anyway', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    await pushPackage(client(), ref('forge/unsigned:1.0.0'), await makeSigned({ name: 'unsigned', signer: null }));
    await rejectsWithCode(pullPackage(client(), ref('forge/unsigned:1.0.0')), 'FO_OCI_MISSING_SIGNATURE');
    const pulled = await pullPackage(client(), ref('forge/unsigned:1.0.0'), { requireSignatures: false });
    const store = await openStore();
    assert.equal(await codeOf(store.install(pulled.bytes)), 'FO_VERIFY_UNSIGNED');
    assert.deepEqual(await store.list(), []);
  });

  test('a tag or repository the registry lacks is FO_OCI_NOT_FOUND', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    await rejectsWithCode(pullPackage(client(), ref('forge/nothing:1.0.0')), 'FO_OCI_NOT_FOUND');
  });

  test('a digest the registry does not hold is FO_OCI_NOT_FOUND, even beside a tag it has', async (t) => {
    if (!requireRegistry(t) || registry === undefined) return;
    await pushPackage(client(), ref('forge/pinned:1.0.0'), await makeSigned({ name: 'pinned' }));
    const other = digestOf(Buffer.from('another manifest'));
    await rejectsWithCode(pullPackage(client(), ref(`forge/pinned:1.0.0@${other}`)), 'FO_OCI_NOT_FOUND');
  });
});
