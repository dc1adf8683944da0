import assert from 'node:assert/strict';
import { mkdir, mkdtemp, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ForgeError, IdentityContext, defaultConfig } from '@forgeone/common';
import { readPackage } from '../loader/index.js';
import { createRevocationList } from './revocation.js';
import { encodePem } from './pem.js';
import { generateKeyPair, publicKeyPem } from './crypto.js';
import { writeKeyPair } from './files.js';
import { openVerifiedPackage, UNSIGNED_PUBLISHER } from './open.js';
import { loadAttestationSettings } from './settings.js';
import { signPackage } from './sign.js';
import { TrustStore } from './trust-store.js';
import { NOW, makeIssued, makePackage, makeRoot, rewrite } from './test-support/pki.js';

const root = makeRoot('Open Root');
const publisher = makeIssued(root, 'Open Publisher', false);
const store = TrustStore.create({ roots: [root.certificate] });

async function signed(): Promise<Buffer> {
  return (await signPackage(makePackage(), { key: publisher.key, certificate: publisher.certificate.der, now: NOW })).bytes;
}

describe('openVerifiedPackage (wiring for the registry)', () => {
  it('with verifySignatures=true yields the attested identity of a signed package', async () => {
    const opened = await openVerifiedPackage(await signed(), { verifySignatures: true, trustStore: store, now: NOW });
    assert.equal(opened.identity.publisher, 'Open Publisher');
    assert.equal(opened.identity.attested, true);
    assert.equal(opened.identity.digest, opened.contents.digest);
    assert.equal(new IdentityContext('plugin-manager').forPlugin(opened.identity).plugin?.publisher, 'Open Publisher');
  });

  it('with verifySignatures=true never opens an unsigned or unverifiable package', async () => {
    await assert.rejects(openVerifiedPackage(makePackage(), { verifySignatures: true, trustStore: store, now: NOW }), (error: unknown) => ForgeError.is(error, 'FO_VERIFY_UNSIGNED'));
    const tampered = await rewrite(await signed(), (files) => files.map((file) => (file.path === 'assets/readme.txt' ? { path: file.path, data: Buffer.from('evil') } : file)));
    await assert.rejects(openVerifiedPackage(tampered, { verifySignatures: true, trustStore: store, now: NOW }), (error: unknown) => ForgeError.is(error, 'FO_VERIFY_DIGEST_MISMATCH'));
  });

  it('with verifySignatures=false opens an unsigned package as publisher "unsigned", not attested', async () => {
    const opened = await openVerifiedPackage(makePackage(), { verifySignatures: false });
    assert.deepEqual(opened.identity, {
      publisher: UNSIGNED_PUBLISHER,
      name: 'hello',
      version: '1.0.0',
      digest: (await readPackage(makePackage())).digest,
      attested: false,
    });
    assert.equal(opened.verification, undefined);
  });

  it('with verifySignatures=false and a trust store, keeps a verified identity and reports why an unverifiable one is unsigned', async () => {
    const good = await openVerifiedPackage(await signed(), { verifySignatures: false, trustStore: store, now: NOW });
    assert.equal(good.identity.attested, true);
    const untrusted = await openVerifiedPackage(await signed(), { verifySignatures: false, trustStore: TrustStore.create({}), now: NOW });
    assert.equal(untrusted.identity.publisher, UNSIGNED_PUBLISHER);
    assert.equal(untrusted.identity.attested, false);
    assert.equal(untrusted.verificationError?.code, 'FO_SIGNER_UNTRUSTED');
  });

  it('does not verify at all with verifySignatures=false and no trust store, even a signed package', async () => {
    const opened = await openVerifiedPackage(await signed(), { verifySignatures: false });
    assert.equal(opened.identity.attested, false);
    assert.equal(opened.verificationError, undefined);
  });
});

describe('trust store directories and settings from configuration', () => {
  async function trustDir(): Promise<string> {
    const dir = join(await mkdtemp(join(tmpdir(), 'forge-trust-')), 'trust');
    await mkdir(join(dir, 'roots'), { recursive: true });
    await writeFile(join(dir, 'roots', 'open.pem'), encodePem('CERTIFICATE', root.certificate.der));
    await mkdir(join(dir, 'keys'));
    return dir;
  }

  it('loads roots/, keys/ and revocations.json from a directory, and a PEM file as roots', async () => {
    const dir = await trustDir();
    const key = generateKeyPair('ed25519');
    await writeFile(join(dir, 'keys', 'release-bot.pub'), publicKeyPem(key.publicKey));
    await writeFile(join(dir, 'revocations.json'), createRevocationList({ serials: ['ab'], key_ids: [], digests: [] }, root.key, NOW));
    await writeFile(join(dir, 'NOTES.md'), 'ignored');
    const loaded = await TrustStore.load(dir);
    assert.deepEqual(loaded.summary(), {
      source: dir,
      roots: ['CN=Open Root'],
      intermediates: [],
      keys: ['release-bot'],
      revocations: { signer: 'CN=Open Root', issuedAt: new Date(NOW).toISOString(), nextUpdate: null, entries: 1 },
      keyless: false,
    });
    const single = await TrustStore.load(join(dir, 'roots', 'open.pem'));
    assert.equal(single.roots.length, 1);
  });

  it('refuses unexpected entries in a trust store with FO_TRUSTSTORE_INVALID', async () => {
    for (const [path, data] of [
      ['root/ca.pem', 'x'],
      ['roots/ca.der', 'x'],
      ['keys/bad name.pub', 'x'],
      ['sigstore/other.json', '{}'],
    ] as const) {
      const dir = await trustDir();
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), data);
      await assert.rejects(TrustStore.load(dir), (error: unknown) => ForgeError.is(error, 'FO_TRUSTSTORE_INVALID'), path);
    }
    await assert.rejects(TrustStore.load(join(tmpdir(), 'forge-no-such-trust-store')), (error: unknown) => ForgeError.is(error, 'FO_IO_NOT_FOUND'));
  });

  it('loads the trust store and policy named by security.*, relative to the configuration directory', async () => {
    const dir = join(await trustDir(), '..');
    await writeFile(join(dir, 'policy.json'), JSON.stringify({ version: 1, publishers: ['Open Publisher'] }));
    const security = { ...defaultConfig().security, trust_store: 'trust', signer_policy: 'policy.json' };
    const settings = await loadAttestationSettings(security, dir);
    assert.equal(settings.verifySignatures, true);
    assert.deepEqual(settings.policy?.publishers, ['Open Publisher']);
    const opened = await openVerifiedPackage(await signed(), { ...settings, now: NOW });
    assert.equal(opened.identity.publisher, 'Open Publisher');
    await assert.rejects(loadAttestationSettings({ ...security, trust_store: 'missing' }, dir), (error: unknown) => ForgeError.is(error, 'FO_IO_NOT_FOUND'));
    const lenient = await loadAttestationSettings({ ...defaultConfig().security, verify_signatures: false, trust_store: 'missing' }, dir);
    assert.equal(lenient.trustStore, undefined);
  });

  it('writes a private key with mode 0600 and refuses to overwrite it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'forge-keys-'));
    const key = generateKeyPair('ed25519');
    const { privateKeyFile, publicKeyFile } = await writeKeyPair(join(dir, 'signer'), key);
    assert.equal((await stat(privateKeyFile)).mode & 0o777, 0o600);
    assert.ok((await stat(publicKeyFile)).isFile());
    await assert.rejects(writeKeyPair(join(dir, 'signer'), key), (error: unknown) => ForgeError.is(error, 'FO_IO_EXISTS'));
  });
});
