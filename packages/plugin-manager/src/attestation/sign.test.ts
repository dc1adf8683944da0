import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertBundleLatest, bundleFromJSON } from '@sigstore/bundle';
import { crypto as sigstoreCrypto, dsse as sigstoreDsse } from '@sigstore/core';
import { Verifier, toSignedEntity, type TrustMaterial } from '@sigstore/verify';
import { ForgeError } from '@forgeone/common';
import { readPackage } from '../loader/index.js';
import { BUNDLE_MEDIA_TYPE, parseBundle } from './bundle.js';
import { generateKeyPair } from './crypto.js';
import { IN_TOTO_PAYLOAD_TYPE, preAuthEncoding } from './dsse.js';
import { signPackage } from './sign.js';
import { PLUGIN_PREDICATE_TYPE, STATEMENT_TYPE } from './statement.js';
import { TrustStore } from './trust-store.js';
import { verifyPackage } from './verify.js';
import { NOW, makeIssued, makePackage, makeRoot } from './test-support/pki.js';

const root = makeRoot('Signing Root');
const intermediate = makeIssued(root, 'Signing CA', true);
const publisher = makeIssued(intermediate, 'Signer One', false);

function sigstoreTrust(overrides: Partial<TrustMaterial>): TrustMaterial {
  return {
    certificateAuthorities: [],
    timestampAuthorities: [],
    tlogs: [],
    ctlogs: [],
    publicKey: () => {
      throw new Error('no keys');
    },
    ...overrides,
  };
}

describe('signing packages', () => {
  it('adds attestations/<keyid>.sigstore.json holding a v0.3 bundle, DSSE envelope and in-toto statement over every file', async () => {
    const unsigned = makePackage();
    const signed = await signPackage(unsigned, { key: publisher.key, certificate: publisher.certificate.der, now: NOW });
    assert.equal(signed.attestation, `attestations/${publisher.key.publicKey.keyid}.sigstore.json`);
    const bundle = JSON.parse(signed.bundle) as { mediaType: string; verificationMaterial: Record<string, unknown>; dsseEnvelope: { payloadType: string; payload: string } };
    assert.equal(bundle.mediaType, BUNDLE_MEDIA_TYPE);
    assert.deepEqual(Object.keys(bundle.verificationMaterial).sort(), ['certificate', 'tlogEntries']);
    assert.equal(bundle.dsseEnvelope.payloadType, IN_TOTO_PAYLOAD_TYPE);
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString()) as {
      _type: string;
      predicateType: string;
      subject: { name: string; digest: { sha256: string } }[];
      predicate: Record<string, unknown>;
    };
    const before = await readPackage(unsigned);
    assert.equal(statement._type, STATEMENT_TYPE);
    assert.equal(statement.predicateType, PLUGIN_PREDICATE_TYPE);
    assert.deepEqual(statement.subject, before.files.map((file) => ({ name: file.path, digest: { sha256: file.sha256 } })));
    assert.deepEqual(Object.keys(statement.predicate).sort(), ['abi', 'content_digest', 'manifest_digest', 'name', 'permissions', 'version']);
    assert.equal(statement.predicate['manifest_digest'], before.manifestDigest);
    assert.deepEqual(statement.predicate['permissions'], { allowed_hosts: [], filesystem: ['read'], network: [], syscalls: [], volumes: [] });
    assert.equal(signed.contents.digest, before.digest, 'signing does not change the content digest');
  });

  it('writes bundles that sigstore-js accepts as v0.3 and verifies (key hint) with its own DSSE code', async () => {
    const keyed = await signPackage(makePackage(), { key: publisher.key });
    const certified = await signPackage(makePackage(), { key: publisher.key, certificate: publisher.certificate.der, now: NOW });
    for (const signed of [keyed, certified]) assertBundleLatest(bundleFromJSON(JSON.parse(signed.bundle)));
    const parsed = parseBundle(keyed.bundle, 'x');
    assert.equal(parsed.kind, 'keyed');
    if (parsed.kind === 'keyed') {
      assert.ok(preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, parsed.bundle.envelope.payload).equals(sigstoreDsse.preAuthEncoding(IN_TOTO_PAYLOAD_TYPE, Buffer.from(parsed.bundle.envelope.payload))));
    }
    const keyObject = sigstoreCrypto.createPublicKey(Buffer.from(publisher.key.publicKey.spki));
    const byKey = new Verifier(sigstoreTrust({ publicKey: () => ({ publicKey: keyObject, validFor: () => true }) }), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    assert.doesNotThrow(() => byKey.verify(toSignedEntity(bundleFromJSON(JSON.parse(keyed.bundle)))));
    const other = sigstoreCrypto.createPublicKey(Buffer.from(generateKeyPair('ed25519').publicKey.spki));
    const wrong = new Verifier(sigstoreTrust({ publicKey: () => ({ publicKey: other, validFor: () => true }) }), { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 });
    assert.throws(() => wrong.verify(toSignedEntity(bundleFromJSON(JSON.parse(keyed.bundle)))), /signature verification failed/);
    // sigstore-js verifies certificate material only at a transparency-log or TSA time,
    // which keyed ForgeOne bundles do not carry; ForgeOne checks chains at verification time.
  });

  it('is deterministic with Ed25519: signing the same package twice gives the same bytes', async () => {
    const unsigned = makePackage();
    const first = await signPackage(unsigned, { key: publisher.key, certificate: publisher.certificate.der, now: NOW });
    const second = await signPackage(unsigned, { key: publisher.key, certificate: publisher.certificate.der, now: NOW });
    assert.ok(first.bytes.equals(second.bytes));
  });

  it('keeps other signatures and replaces only the same key\'s', async () => {
    const second = makeIssued(intermediate, 'Signer Two', false, { algorithm: 'ecdsa-p256' });
    const once = await signPackage(makePackage(), { key: publisher.key, certificate: publisher.certificate.der, now: NOW });
    const twice = await signPackage(once.bytes, { key: second.key, certificate: second.certificate.der, chain: [intermediate.certificate.der], now: NOW });
    assert.equal(twice.replaced, false);
    assert.equal(twice.contents.attestations.length, 2);
    const again = await signPackage(twice.bytes, { key: publisher.key, certificate: publisher.certificate.der, now: NOW });
    assert.equal(again.replaced, true);
    assert.equal(again.contents.attestations.length, 2);
    const store = TrustStore.create({ roots: [root.certificate], intermediates: [intermediate.certificate] });
    const result = verifyPackage(again.contents, { trustStore: store, now: NOW });
    assert.deepEqual(result.accepted.map((signature) => signature.publisher).sort(), ['Signer One', 'Signer Two']);
  });

  it('refuses a certificate for another key with FO_KEY_MISMATCH', async () => {
    await assert.rejects(
      signPackage(makePackage(), { key: generateKeyPair('ed25519'), certificate: publisher.certificate.der, now: NOW }),
      (error: unknown) => ForgeError.is(error, 'FO_KEY_MISMATCH'),
    );
  });

  it('refuses CA certificates, certificates without codeSigning, outside validity, or chains that do not link, with FO_SIGN_CERTIFICATE', async () => {
    const cases = [
      { key: intermediate.key, certificate: intermediate.certificate.der },
      (() => {
        const noEku = makeIssued(intermediate, 'No EKU', false, { extKeyUsage: null });
        return { key: noEku.key, certificate: noEku.certificate.der };
      })(),
      { key: publisher.key, certificate: publisher.certificate.der, now: NOW + 10 * 365 * 86_400_000 },
      { key: publisher.key, certificate: publisher.certificate.der, chain: [root.certificate.der] },
      { key: publisher.key, chain: [intermediate.certificate.der] },
    ];
    for (const options of cases) {
      await assert.rejects(signPackage(makePackage(), { now: NOW, ...options }), (error: unknown) => ForgeError.is(error, 'FO_SIGN_CERTIFICATE'), JSON.stringify(Object.keys(options)));
    }
  });
});
