import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ForgeError, IdentityContext, type ErrorCode, type ErrorKind } from '@forgeone/common';
import { rejectsWithCode } from '@forgeone/common/testing';
import { readPackage, writeArchive } from '../loader/index.js';
import { parsePluginToml, serializeManifest } from '../plugin/index.js';
import { generateKeyPair } from './crypto.js';
import { der } from './der.js';
import { createRevocationList } from './revocation.js';
import { signPackage } from './sign.js';
import { TrustStore, type TrustStoreParts } from './trust-store.js';
import { verifyPackage, type PackageVerification } from './verify.js';
import {
  DAY,
  NOW,
  WASM,
  chainMaterial,
  makeIssued,
  makePackage,
  makeRoot,
  packageFiles,
  pluginToml,
  rewrite,
  signRaw,
  type Issued,
} from './test-support/pki.js';

const root = makeRoot('ACME Root CA');
const intermediate = makeIssued(root, 'ACME Plugins CA', true, { pathLen: 0 });
const publisher = makeIssued(intermediate, 'ACME Plugins', false);
const store = TrustStore.create({ roots: [root.certificate] });

async function signedPackage(options: Parameters<typeof makePackage>[0] = {}): Promise<Buffer> {
  const signed = await signPackage(makePackage(options), {
    key: publisher.key,
    certificate: publisher.certificate.der,
    chain: [intermediate.certificate.der],
    now: NOW,
  });
  return signed.bytes;
}

async function verify(bytes: Uint8Array, trustStore: TrustStore = store, now = NOW): Promise<PackageVerification> {
  return verifyPackage(await readPackage(bytes), { trustStore, now });
}

/** Asserts that verification refuses `bytes` with `code` of `kind`; returns the error. */
async function assertRefused(bytes: Uint8Array, code: ErrorCode, kind: ErrorKind, trustStore: TrustStore = store): Promise<ForgeError> {
  const error = await rejectsWithCode(verify(bytes, trustStore), code);
  assert.equal(error.kind, kind);
  return error;
}

/** Signs with a chain made of the given certificates, leaf first, bypassing signPackage's checks. */
async function signedBy(leaf: Issued, ...chain: Issued[]): Promise<Buffer> {
  return signRaw(makePackage(), leaf.key, { material: chainMaterial(leaf.certificate, ...chain.map((entry) => entry.certificate)) });
}

describe('package verification: success', () => {
  it('accepts a package signed through an intermediate and yields the publisher identity', async () => {
    const bytes = await signedPackage();
    const result = await verify(bytes);
    const contents = await readPackage(bytes);
    assert.deepEqual(result.identity, { publisher: 'ACME Plugins', name: 'hello', version: '1.0.0', digest: contents.digest, attested: true });
    assert.equal(result.accepted.length, 1);
    assert.deepEqual(result.accepted[0]?.chain, ['CN=ACME Plugins', 'CN=ACME Plugins CA', 'CN=ACME Root CA']);
    assert.equal(result.accepted[0]?.method, 'certificate');
    assert.equal(result.accepted[0]?.serial, publisher.certificate.serial);
    assert.deepEqual(result.rejected, []);
    // The identity is what IdentityContext and everything after it use.
    assert.equal(new IdentityContext('host').forPlugin(result.identity).principal, 'plugin:ACME Plugins/hello@1.0.0');
  });

  it('accepts a bare key listed in the trust store, naming the publisher after the key file', async () => {
    const key = generateKeyPair('ecdsa-p256');
    const bytes = (await signPackage(makePackage(), { key })).bytes;
    const keyed = TrustStore.create({ keys: [{ name: 'ci-signer', key: key.publicKey }] });
    const result = await verify(bytes, keyed);
    assert.equal(result.identity.publisher, 'ci-signer');
    assert.equal(result.accepted[0]?.method, 'key');
  });

  it('finds intermediates in the trust store when the bundle carries only the leaf', async () => {
    const bytes = await signRaw(makePackage(), publisher.key, { material: chainMaterial(publisher.certificate) });
    await assertRefused(bytes, 'FO_SIGNER_UNTRUSTED', 'denied');
    const withIntermediates = TrustStore.create({ roots: [root.certificate], intermediates: [intermediate.certificate] });
    assert.equal((await verify(bytes, withIntermediates)).identity.publisher, 'ACME Plugins');
  });
});

describe('package verification: hostile packages, each with its exact code', () => {
  it('refuses a tampered wasm module with FO_VERIFY_DIGEST_MISMATCH', async () => {
    const bytes = await rewrite(await signedPackage(), (files) =>
      files.map((file) => (file.path === 'plugin.wasm' ? { path: file.path, data: Buffer.concat([WASM, Buffer.from([0x00])]) } : file)),
    );
    const error = await assertRefused(bytes, 'FO_VERIFY_DIGEST_MISMATCH', 'integrity');
    assert.deepEqual(error.details['changed'], ['plugin.wasm']);
  });

  it('refuses a tampered manifest (consistent manifest.json and plugin.toml) with FO_VERIFY_DIGEST_MISMATCH', async () => {
    const toml = pluginToml().replace('filesystem = ["read"]', 'filesystem = ["read", "write"]');
    const bytes = await rewrite(await signedPackage(), (files) =>
      files.map((file) => {
        if (file.path === 'manifest.json') return { path: file.path, data: Buffer.from(serializeManifest(parsePluginToml(toml))) };
        if (file.path === 'plugin.toml') return { path: file.path, data: Buffer.from(toml) };
        return file;
      }),
    );
    const error = await assertRefused(bytes, 'FO_VERIFY_DIGEST_MISMATCH', 'integrity');
    assert.deepEqual(error.details['changed'], ['manifest.json', 'plugin.toml']);
  });

  it('refuses an extra file with FO_VERIFY_FILE_UNSIGNED', async () => {
    const bytes = await rewrite(await signedPackage(), (files) => [...files, { path: 'assets/evil.js', data: Buffer.from('x') }]);
    const error = await assertRefused(bytes, 'FO_VERIFY_FILE_UNSIGNED', 'integrity');
    assert.deepEqual(error.details['added'], ['assets/evil.js']);
  });

  it('refuses a missing file with FO_VERIFY_FILE_MISSING', async () => {
    const bytes = await rewrite(await signedPackage(), (files) => files.filter((file) => file.path !== 'assets/readme.txt'));
    const error = await assertRefused(bytes, 'FO_VERIFY_FILE_MISSING', 'integrity');
    assert.deepEqual(error.details['missing'], ['assets/readme.txt']);
  });

  it('refuses a signature made by another key than the certificate holds with FO_VERIFY_SIGNATURE', async () => {
    const bytes = await signRaw(makePackage(), generateKeyPair('ed25519'), { material: chainMaterial(publisher.certificate, intermediate.certificate) });
    await assertRefused(bytes, 'FO_VERIFY_SIGNATURE', 'integrity');
  });

  it('refuses a key hint naming a trusted key when another key signed, with FO_VERIFY_SIGNATURE', async () => {
    const trusted = generateKeyPair('ed25519');
    const bytes = await signRaw(makePackage(), generateKeyPair('ed25519'), { material: { kind: 'publicKey', hint: trusted.publicKey.keyid } });
    await assertRefused(bytes, 'FO_VERIFY_SIGNATURE', 'integrity', TrustStore.create({ keys: [{ name: 'trusted', key: trusted.publicKey }] }));
  });

  it('refuses a key the trust store does not list with FO_SIGNER_UNTRUSTED', async () => {
    const bytes = await signRaw(makePackage(), generateKeyPair('ed25519'));
    await assertRefused(bytes, 'FO_SIGNER_UNTRUSTED', 'denied');
  });

  it('refuses a payload altered after signing with FO_VERIFY_SIGNATURE', async () => {
    const bytes = await signedPackage();
    const tampered = await rewrite(bytes, (files) =>
      files.map((file) => {
        if (!file.path.startsWith('attestations/')) return file;
        const bundle = JSON.parse(Buffer.from(file.data).toString()) as { dsseEnvelope: { payload: string } };
        const payload = Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString().replace('["read"]', '["read","write"]');
        bundle.dsseEnvelope.payload = Buffer.from(payload).toString('base64');
        return { path: file.path, data: Buffer.from(JSON.stringify(bundle)) };
      }),
    );
    await assertRefused(tampered, 'FO_VERIFY_SIGNATURE', 'integrity');
  });

  it('refuses an expired certificate with FO_CHAIN_EXPIRED', async () => {
    const expired = makeIssued(intermediate, 'Expired Publisher', false, { notBefore: NOW - 60 * DAY, notAfter: NOW - DAY });
    const error = await assertRefused(await signedBy(expired, intermediate), 'FO_CHAIN_EXPIRED', 'integrity');
    assert.equal(error.details['subject'], 'CN=Expired Publisher');
  });

  it('refuses a not-yet-valid certificate with FO_CHAIN_NOT_YET_VALID', async () => {
    const future = makeIssued(intermediate, 'Future Publisher', false, { notBefore: NOW + DAY, notAfter: NOW + 60 * DAY });
    await assertRefused(await signedBy(future, intermediate), 'FO_CHAIN_NOT_YET_VALID', 'integrity');
  });

  it('refuses an expired intermediate with FO_CHAIN_EXPIRED, naming it', async () => {
    const old = makeIssued(root, 'Old CA', true, { notBefore: NOW - 90 * DAY, notAfter: NOW - DAY });
    const leaf = makeIssued(old, 'Publisher', false, { notBefore: NOW - 60 * DAY, notAfter: NOW + DAY });
    const error = await assertRefused(await signedBy(leaf, old), 'FO_CHAIN_EXPIRED', 'integrity');
    assert.equal(error.details['subject'], 'CN=Old CA');
  });

  it('refuses a chain through a non-CA intermediate with FO_CHAIN_NOT_CA', async () => {
    const notCa = makeIssued(root, 'Not A CA', true, { ca: false });
    const leaf = makeIssued(notCa, 'Publisher', false);
    await assertRefused(await signedBy(leaf, notCa), 'FO_CHAIN_NOT_CA', 'integrity');
  });

  it('refuses a chain longer than a pathLenConstraint allows with FO_CHAIN_PATH_LENGTH', async () => {
    const second = makeIssued(intermediate, 'Second Level CA', true); // intermediate has pathLen 0
    const leaf = makeIssued(second, 'Publisher', false);
    const error = await assertRefused(await signedBy(leaf, second, intermediate), 'FO_CHAIN_PATH_LENGTH', 'integrity');
    assert.equal(error.details['subject'], 'CN=ACME Plugins CA');
  });

  it('refuses a publisher certificate without the codeSigning usage with FO_CHAIN_EKU', async () => {
    const noEku = makeIssued(intermediate, 'No EKU', false, { extKeyUsage: null });
    await assertRefused(await signedBy(noEku, intermediate), 'FO_CHAIN_EKU', 'integrity');
    const serverAuth = makeIssued(intermediate, 'Server Auth', false, { extKeyUsage: ['1.3.6.1.5.5.7.3.1'] });
    await assertRefused(await signedBy(serverAuth, intermediate), 'FO_CHAIN_EKU', 'integrity');
  });

  it('refuses a CA whose extKeyUsage excludes codeSigning with FO_CHAIN_EKU', async () => {
    const tlsCa = makeIssued(root, 'TLS Only CA', true, { extKeyUsage: ['1.3.6.1.5.5.7.3.1'] });
    await assertRefused(await signedBy(makeIssued(tlsCa, 'Publisher', false), tlsCa), 'FO_CHAIN_EKU', 'integrity');
  });

  it('refuses a self-signed leaf that is not in the trust store with FO_SIGNER_UNTRUSTED', async () => {
    const selfSigned = makeRoot('Self Signed Publisher', { ca: false, keyUsage: ['digitalSignature'], extKeyUsage: ['1.3.6.1.5.5.7.3.3'] });
    const error = await assertRefused(await signedBy(selfSigned), 'FO_SIGNER_UNTRUSTED', 'denied');
    assert.match(error.message, /self-signed .* not a root in the trust store/);
  });

  it('refuses a chain to a root the store does not trust with FO_SIGNER_UNTRUSTED', async () => {
    const otherRoot = makeRoot('Other Root');
    const leaf = makeIssued(otherRoot, 'Publisher', false);
    await assertRefused(await signedBy(leaf, otherRoot), 'FO_SIGNER_UNTRUSTED', 'denied');
  });

  it('refuses a certificate forged under a trusted issuer name with FO_CHAIN_SIGNATURE', async () => {
    const impostor = makeRoot('ACME Root CA'); // same name, other key
    const leaf = makeIssued(impostor, 'Publisher', false);
    await assertRefused(await signedBy(leaf), 'FO_CHAIN_SIGNATURE', 'integrity');
  });

  it('refuses a CA certificate used to sign packages with FO_CHAIN_KEY_USAGE', async () => {
    await assertRefused(await signedBy(intermediate), 'FO_CHAIN_KEY_USAGE', 'integrity');
  });

  it('refuses a certificate with an unknown critical extension with FO_CHAIN_CRITICAL_EXTENSION', async () => {
    const odd = makeIssued(intermediate, 'Odd', false, { extraExtensions: [{ oid: '1.3.6.1.4.1.99999.1', critical: true, value: der.null() }] });
    await assertRefused(await signedBy(odd, intermediate), 'FO_CHAIN_CRITICAL_EXTENSION', 'integrity');
  });

  it('refuses a chain longer than 8 certificates with FO_CHAIN_TOO_LONG', async () => {
    const cas: Issued[] = [root];
    for (let level = 1; level <= 8; level += 1) cas.push(makeIssued(cas[cas.length - 1] as Issued, `Level ${level}`, true));
    const leaf = makeIssued(cas[cas.length - 1] as Issued, 'Deep Publisher', false);
    const deep = TrustStore.create({ roots: [root.certificate], intermediates: cas.slice(1).map((entry) => entry.certificate) });
    await assertRefused(await signedBy(leaf), 'FO_CHAIN_TOO_LONG', 'limit', deep);
  });

  it('refuses a signature copied from another package with FO_VERIFY_WRONG_PACKAGE', async () => {
    const donor = await readPackage(await signedPackage({ name: 'trusted-plugin' }));
    const attestation = donor.attestations[0]?.path ?? '';
    const donorBundle = donor.read(attestation) as Buffer;
    const victim = writeArchive([...packageFiles({ name: 'malware' }), { path: attestation, data: donorBundle }]);
    await assertRefused(victim, 'FO_VERIFY_WRONG_PACKAGE', 'integrity');
    const sameName = writeArchive([...packageFiles({ name: 'trusted-plugin', wasm: Buffer.concat([WASM, Buffer.from([1])]) }), { path: attestation, data: donorBundle }]);
    await assertRefused(sameName, 'FO_VERIFY_DIGEST_MISMATCH', 'integrity');
  });

  it('refuses a DSSE envelope with another payloadType with FO_VERIFY_PAYLOAD_TYPE', async () => {
    const bytes = await signRaw(makePackage(), publisher.key, {
      material: chainMaterial(publisher.certificate, intermediate.certificate),
      payloadType: 'application/json',
    });
    await assertRefused(bytes, 'FO_VERIFY_PAYLOAD_TYPE', 'integrity');
  });

  it('refuses a statement with another predicate type with FO_VERIFY_STATEMENT_INVALID', async () => {
    const payload = Buffer.from(JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} }));
    const bytes = await signRaw(makePackage(), publisher.key, { material: chainMaterial(publisher.certificate, intermediate.certificate), payload });
    await assertRefused(bytes, 'FO_VERIFY_STATEMENT_INVALID', 'integrity');
  });

  it('refuses malformed bundle JSON with FO_BUNDLE_MALFORMED', async () => {
    const path = 'attestations/broken.sigstore.json';
    const notJson = await rewrite(makePackage(), (files) => [...files, { path, data: Buffer.from('{"mediaType": ') }]);
    await assertRefused(notJson, 'FO_BUNDLE_MALFORMED', 'integrity');
    const wrongShape = await rewrite(makePackage(), (files) => [
      ...files,
      { path, data: Buffer.from(JSON.stringify({ mediaType: 1, verificationMaterial: {}, dsseEnvelope: { payload: '%%%', payloadType: 'x', signatures: [] } })) },
    ]);
    const error = await assertRefused(wrongShape, 'FO_BUNDLE_MALFORMED', 'integrity');
    const paths = (error.details['issues'] as { path: string }[]).map((issue) => issue.path);
    assert.deepEqual(paths, ['mediaType', 'dsseEnvelope.payload']);
  });

  it('refuses a bundle whose certificate is not DER X.509 with FO_BUNDLE_MALFORMED', async () => {
    const bytes = await signRaw(makePackage(), publisher.key, { material: { kind: 'certificate', certificates: [Buffer.from('not a certificate')] } });
    await assertRefused(bytes, 'FO_BUNDLE_MALFORMED', 'integrity');
  });

  it('refuses a bundle with another media type with FO_BUNDLE_UNSUPPORTED', async () => {
    const bytes = await rewrite(await signedPackage(), (files) =>
      files.map((file) =>
        file.path.startsWith('attestations/')
          ? { path: file.path, data: Buffer.from(Buffer.from(file.data).toString().replace('bundle.v0.3+json', 'bundle.v0.2+json')) }
          : file,
      ),
    );
    await assertRefused(bytes, 'FO_BUNDLE_UNSUPPORTED', 'integrity');
  });

  it('refuses an unsigned package with FO_VERIFY_UNSIGNED', async () => {
    await assertRefused(makePackage(), 'FO_VERIFY_UNSIGNED', 'denied');
  });
});

describe('package verification: revocation', () => {
  function storeWith(entries: { serials?: string[]; key_ids?: string[]; digests?: string[] }, extra: Partial<TrustStoreParts> = {}, nextUpdate?: number): TrustStore {
    const text = createRevocationList({ serials: entries.serials ?? [], key_ids: entries.key_ids ?? [], digests: entries.digests ?? [] }, root.key, NOW - DAY, nextUpdate);
    return TrustStore.create({ roots: [root.certificate], revocations: { text, source: 'revocations.json' }, ...extra });
  }

  it('refuses a revoked publisher serial with FO_REVOKED_CERTIFICATE, written in any hex form', async () => {
    const colons = publisher.certificate.serial.toUpperCase().match(/../g)?.join(':') ?? '';
    const error = await assertRefused(await signedPackage(), 'FO_REVOKED_CERTIFICATE', 'denied', storeWith({ serials: [colons] }));
    assert.equal(error.details['serial'], publisher.certificate.serial);
  });

  it('refuses a package whose intermediate is revoked with FO_REVOKED_CERTIFICATE', async () => {
    await assertRefused(await signedPackage(), 'FO_REVOKED_CERTIFICATE', 'denied', storeWith({ serials: [intermediate.certificate.serial] }));
  });

  it('refuses a revoked package digest with FO_REVOKED_PACKAGE', async () => {
    const bytes = await signedPackage();
    const digest = (await readPackage(bytes)).digest;
    await assertRefused(bytes, 'FO_REVOKED_PACKAGE', 'denied', storeWith({ digests: [digest] }));
  });

  it('refuses a revoked signing key with FO_REVOKED_KEY', async () => {
    await assertRefused(await signedPackage(), 'FO_REVOKED_KEY', 'denied', storeWith({ key_ids: [publisher.key.publicKey.keyid] }));
  });

  it('accepts packages the list does not name', async () => {
    const other = makeIssued(intermediate, 'Someone Else', false);
    const result = await verify(await signedPackage(), storeWith({ serials: [other.certificate.serial], digests: [`sha256:${'0'.repeat(64)}`] }));
    assert.equal(result.identity.publisher, 'ACME Plugins');
  });

  it('fails closed with FO_REVOCATION_EXPIRED once the list is past next_update', async () => {
    await assertRefused(await signedPackage(), 'FO_REVOCATION_EXPIRED', 'unavailable', storeWith({}, {}, NOW - 1));
  });

  it('refuses a revocation list not signed by a trust-store root with FO_REVOCATION_INVALID', () => {
    const text = createRevocationList({ serials: [], key_ids: [], digests: [] }, intermediate.key, NOW);
    assert.throws(
      () => TrustStore.create({ roots: [root.certificate], revocations: { text, source: 'revocations.json' } }),
      (error: unknown) => ForgeError.is(error, 'FO_REVOCATION_INVALID'),
    );
    const forged = JSON.parse(createRevocationList({ serials: [], key_ids: [], digests: [] }, root.key, NOW)) as { payload: string };
    forged.payload = Buffer.from(JSON.stringify({ version: 1, issued_at: '2025-01-01T00:00:00Z' })).toString('base64');
    assert.throws(
      () => TrustStore.create({ roots: [root.certificate], revocations: { text: JSON.stringify(forged), source: 'revocations.json' } }),
      (error: unknown) => ForgeError.is(error, 'FO_REVOCATION_INVALID'),
    );
  });
});

describe('trust store construction', () => {
  it('refuses a root that is not a self-signed CA with FO_TRUSTSTORE_INVALID', () => {
    assert.throws(() => TrustStore.create({ roots: [intermediate.certificate] }), (error: unknown) => ForgeError.is(error, 'FO_TRUSTSTORE_INVALID'));
    const leafRoot = makeRoot('Leaf', { ca: false });
    assert.throws(() => TrustStore.create({ roots: [leafRoot.certificate] }), (error: unknown) => ForgeError.is(error, 'FO_TRUSTSTORE_INVALID'));
  });

  it('caches certificate signature checks, so a warm second verification only looks up the signing key', async () => {
    const warm = TrustStore.create({ roots: [root.certificate] });
    const bytes = await signedPackage();
    await verify(bytes, warm);
    let lookups = 0;
    const lookup = warm.publicKey.bind(warm);
    warm.publicKey = (spki) => {
      lookups += 1;
      return lookup(spki);
    };
    await verify(bytes, warm);
    // Issuer keys would be looked up to check certificate signatures; cached results need none.
    assert.equal(lookups, 1);
  });
});
